# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of virtlab.core.node_service: when the service's user, files, unit and state are already as
declared, answer without running the module (see plugin_utils/in_sync_action.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtlab.core.plugins.module_utils.node import node_service
from ansible_collections.virtlab.core.plugins.plugin_utils.in_sync_action import InSyncShortcutAction


class ActionModule(InSyncShortcutAction):

    concern = node_service
