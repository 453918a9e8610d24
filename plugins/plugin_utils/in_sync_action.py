# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins that spare a module run when the host is already as declared.

A module run costs a Python start and the import of Ansible's module code on the host, about a quarter of a
second of CPU; on a re-run of a lab that is in place that is most of the work. Like ansible.builtin.copy,
which compares checksums before it transfers anything, these actions first read the host with one shell
command and decide with the module's own planning function (in module_utils), so the shortcut answers exactly
what the module would have answered. Whenever it cannot be sure (options the module would reject, output it
does not recognise, async) the module runs, and it alone ever changes the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase


class InSyncShortcutAction(ActionBase):
    """Subclasses set ``argument_spec`` (the module's) and write observe_command() and in_sync_result()."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    argument_spec = {}

    def observe_command(self, params):
        """The shell command that reads what the module's decision needs."""
        raise NotImplementedError

    def in_sync_result(self, output, params):
        """The module's result when ``output`` shows the host as declared; None when the module must run.
        May raise ValueError for output it does not recognise (the module then runs)."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        outcome = super(InSyncShortcutAction, self).run(tmp, task_vars)
        del tmp  # not used: the module runs pipelined, or through the usual temporary directory
        in_sync = None if self._task.async_val else self.shortcut()
        if in_sync is not None:
            outcome.update(in_sync)
            return outcome
        outcome.update(self._execute_module(module_name=self._task.action, module_args=self._task.args,
                                            task_vars=task_vars))
        return outcome

    def shortcut(self):
        validation = ArgumentSpecValidator(self.argument_spec).validate(self._task.args)
        if validation.error_messages:
            return None  # the module reports them, as it always does
        params = validation.validated_parameters
        observed = self._low_level_execute_command(self.observe_command(params), sudoable=True)
        if observed.get("rc") != 0:
            return None
        try:
            return self.in_sync_result(observed.get("stdout"), params)
        except ValueError:
            return None
