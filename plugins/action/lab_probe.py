# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of virtlab.core.lab_probe: the node's probes made with one shell command, no Python started
on the node (module_utils/node/probe.py). Whenever the shell form cannot answer for sure (options the module would
reject, a node without bash, output it does not recognise, async), the module runs instead."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.virtlab.core.plugins.module_utils.node import probe


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True  # probes only read: check mode makes them as a real run does
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        outcome = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # not used: the module runs pipelined, or through the usual temporary directory
        results = None if self._task.async_val else self.shell_probes()
        if results is not None:
            outcome.update(changed=False, results=results)
            return outcome
        outcome.update(self._execute_module(module_name=self._task.action, module_args=self._task.args,
                                            task_vars=task_vars))
        return outcome

    def shell_probes(self):
        """The module's results, from the shell form; None when the module must run."""
        validation = ArgumentSpecValidator(probe.ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            return None  # the module reports them, as it always does
        params = validation.validated_parameters
        answered = self._low_level_execute_command(probe.shell_command(params), sudoable=True)
        if answered.get("rc") != 0:
            return None
        try:
            return probe.parse_shell_output(answered.get("stdout"), params)
        except ValueError:
            return None
