# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins that spare a module run when the host is already as declared.

A module run costs a Python start and the import of Ansible's module code on the host, about a quarter of a
second of CPU; on a re-run of a lab that is in place that is most of the work. Like ansible.builtin.copy,
which compares checksums before it transfers anything, these actions first read the host and plan with the
module's own concern (module_utils/node/<name>.py): the same shell command the module runs to read the host,
the same parser, the same plan. When the plan is empty the action answers what the module would have answered
(module_result); otherwise, or whenever it cannot be sure (options the module would reject, output it does not
recognise, async), the module runs, and it alone ever changes the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.virtlab.core.plugins.module_utils.node.base import module_result


class InSyncShortcutAction(ActionBase):
    """Subclasses set ``concern``: the module_utils.node module their module reads, plans and reports with."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    concern = None

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
        """The module's result when the host is as declared; None when the module must run."""
        validation = ArgumentSpecValidator(self.concern.ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            return None  # the module reports them, as it always does
        params = validation.validated_parameters
        try:
            command = self.concern.observe_command(params)
        except ValueError:
            return None  # options the module refuses (it says why)
        observed = self._low_level_execute_command(command, sudoable=True)
        if observed.get("rc") != 0:
            return None
        try:
            state = self.concern.parse_observation(observed.get("stdout"))
            plan = self.concern.plan(state, params)
        except ValueError:
            return None  # output not recognised, or options the module refuses (it says why)
        if plan:
            return None
        return module_result(self.concern, state, state, plan, params, self._task.diff)
