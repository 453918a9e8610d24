#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vbox_snapshot
short_description: Take, restore or delete a snapshot of a VirtualBox VM
version_added: 0.1.0
description:
  - Takes a snapshot (also of a running VM), restores one (the VM must be powered off), or deletes one, with
    C(VBoxManage snapshot).
  - Snapshots are found by name. VirtualBox allows two snapshots with the same name; the module then acts on the
    first one VirtualBox lists.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.vbox
options:
  name:
    description: Name or UUID of the VM.
    type: str
    required: true
  snapshot:
    description: Name of the snapshot.
    type: str
    required: true
  description:
    description: Description given to a new snapshot (an existing snapshot's is not compared).
    type: str
  state:
    description:
      - V(present) takes the snapshot if the VM has none of this name.
      - V(restored) makes it the VM's current state. That is a change only when it is not already the current
        snapshot; to return to the snapshot again after changing the VM since the last restore, delete and retake
        or restore another snapshot in between.
      - V(absent) deletes it if it exists (its changes are merged into its children, as VirtualBox does).
    type: str
    choices: [present, restored, absent]
    default: present
"""

EXAMPLES = r"""
- name: Snapshot the lab VM before changing it
  virtlab.core.vbox_snapshot:
    name: lab-ubuntu
    snapshot: before-change
    description: State before the lab's changes
  delegate_to: localhost

- name: Go back to it (the VM must be off)
  virtlab.core.vbox_snapshot:
    name: lab-ubuntu
    snapshot: before-change
    state: restored
  delegate_to: localhost
"""

RETURN = r"""
snapshot:
  description: The snapshot after the task; empty when absent (or, in check mode, when it would be taken).
  returned: success
  type: dict
  contains:
    name:
      description: Snapshot name.
      type: str
    uuid:
      description: Snapshot UUID.
      type: str
    description:
      description: Snapshot description.
      type: str
    parent:
      description: Name of the parent snapshot, null for the first one.
      type: str
snapshots:
  description: Names of all the VM's snapshots after the task, in tree order.
  returned: success
  type: list
  elements: str
current:
  description: Name of the VM's current snapshot after the task (null when it has none).
  returned: success
  type: str
actions:
  description: What the task did or, in check mode, would do.
  returned: success
  type: list
  elements: str
  sample: [taken]
"""

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.vbox.base import VBoxManageError, VBoxModule
from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import (
    SESSION_STATES,
    parse_snapshot_list,
)

NO_SNAPSHOTS = "does not have any snapshots"


class VBoxSnapshotModule(VBoxModule):
    argument_spec = dict(
        name=dict(type="str", required=True),
        snapshot=dict(type="str", required=True),
        description=dict(type="str"),
        state=dict(type="str", choices=["present", "restored", "absent"], default="present"),
    )

    def list_snapshots(self, vm_name):
        try:
            return parse_snapshot_list(self.vbox("snapshot", vm_name, "list", "--machinereadable"))
        except VBoxManageError as exc:
            # With no snapshot VirtualBox prints this on stdout and exits 1.
            if NO_SNAPSHOTS in (exc.details.get("stdout") or ""):
                return {"snapshots": [], "current": None}
            raise

    def plan(self, vm, listing, found):
        """The one decision, for check mode and the real run: the action to take, or None."""
        state = self.params["state"]
        if state == "present":
            return None if found else "taken"
        if state == "absent":
            return "deleted" if found else None
        if not found:
            raise VirtlabError("VM '%s' has no snapshot named '%s' to restore" % (vm["name"], self.params["snapshot"]),
                               snapshots=[snap["name"] for snap in listing["snapshots"]])
        if listing["current"] == found["name"]:
            return None
        if vm["state"] in SESSION_STATES:
            raise VirtlabError("Cannot restore snapshot '%s': VM '%s' is %s, and VirtualBox restores only a VM that "
                               "is powered off. Stop it first (vbox_vm state=poweroff)."
                               % (found["name"], vm["name"], vm["state"]), vm_state=vm["state"])
        return "restored"

    def run(self):
        vm = self.require_vm(self.params["name"])
        name = self.params["snapshot"]
        listing = self.list_snapshots(vm["uuid"])
        found = next((snap for snap in listing["snapshots"] if snap["name"] == name), None)
        action = self.plan(vm, listing, found)
        before = {"snapshots": [snap["name"] for snap in listing["snapshots"]], "current": listing["current"]}
        if action is None or self.check_mode:
            after = dict(before)
            if action == "taken":
                after = {"snapshots": before["snapshots"] + [name], "current": name}
            elif action == "deleted":
                after = {"snapshots": [snap for snap in before["snapshots"] if snap != name],
                         "current": found["parent"] if before["current"] == name else before["current"]}
            elif action == "restored":
                after = dict(before, current=name)
            return self.exit(bool(action), before=before, after=after,
                             snapshot={} if action in ("taken", "deleted") else found or {},
                             actions=[action] if action else [], **after)
        if action == "taken":
            args = ["snapshot", vm["uuid"], "take", name]
            if self.params["description"]:
                args += ["--description", self.params["description"]]
            self.vbox(*args)
        elif action == "deleted":
            self.vbox("snapshot", vm["uuid"], "delete", found["uuid"])
        else:
            self.vbox("snapshot", vm["uuid"], "restore", found["uuid"])
        listing = self.list_snapshots(vm["uuid"])
        after = {"snapshots": [snap["name"] for snap in listing["snapshots"]], "current": listing["current"]}
        snapshot = next((snap for snap in listing["snapshots"] if snap["name"] == name), None) or {}
        self.exit(True, before=before, after=after, snapshot=snapshot, actions=[action], **after)


def main():
    VBoxSnapshotModule()()


if __name__ == "__main__":
    main()
