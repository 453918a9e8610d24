# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of virtlab.core.static_routes: when the host's routes, forwarding and boot configuration
are already as declared, answer without running the module (see plugin_utils/in_sync_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtlab.core.plugins.module_utils.node.static_routes import (
    ARGUMENT_SPEC,
    observe_command,
    parse_observation,
    plan,
    result,
)
from ansible_collections.virtlab.core.plugins.plugin_utils.in_sync_action import InSyncShortcutAction


class ActionModule(InSyncShortcutAction):

    argument_spec = ARGUMENT_SPEC

    def observe_command(self, params):
        return observe_command()

    def in_sync_result(self, output, params):
        state = parse_observation(output)
        decision = plan(state, params)
        return None if decision["changed"] else result(state, decision, params, self._task.diff)
