# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of virtlab.core.node_service: when the service's user, files, unit and state are already as
declared, answer without running the module (see plugin_utils/in_sync_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtlab.core.plugins.module_utils.node.node_service import (
    ARGUMENT_SPEC,
    invalid,
    observe_command,
    parse_observation,
    plan,
    result,
)
from ansible_collections.virtlab.core.plugins.plugin_utils.in_sync_action import InSyncShortcutAction


class ActionModule(InSyncShortcutAction):

    argument_spec = ARGUMENT_SPEC

    def observe_command(self, params):
        return observe_command(params)

    def in_sync_result(self, output, params):
        if invalid(params):
            return None  # the module refuses it, with its message
        state = parse_observation(output)
        actions, stale = plan(state, params)
        return None if actions else result(state, actions, stale, params, self._task.diff)
