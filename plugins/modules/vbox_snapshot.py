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
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.vbox.base import VBoxManageError, VBoxModule
from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import (
    SESSION_STATES,
    parse_snapshot_list,
)


class VBoxSnapshotModule(VBoxModule):
    argument_spec = dict(
        name=dict(type="str", required=True),
        snapshot=dict(type="str", required=True),
        description=dict(type="str"),
        state=dict(type="str", choices=["present", "restored", "absent"], default="present"),
    )

    def read(self):
        """{snapshots, current, snapshot, vm}: the VM's snapshot names in tree order, its current snapshot, the
        declared one ({} when absent) and the VM."""
        vm = self.require_vm(self.params["name"])
        return dict(self.read_snapshots(vm["uuid"]), vm=vm)

    def read_snapshots(self, uuid):
        try:
            listing = parse_snapshot_list(self.vbox("snapshot", uuid, "list", "--machinereadable"))
        except VBoxManageError as exc:
            if exc.kind != "no_snapshots":  # with none VirtualBox says so and exits 1
                raise
            listing = {"snapshots": [], "current": None}
        found = next((snap for snap in listing["snapshots"] if snap["name"] == self.params["snapshot"]), None)
        return {"snapshots": [snap["name"] for snap in listing["snapshots"]], "current": listing["current"],
                "snapshot": found or {}}

    def plan(self, current):
        """The one decision, for check mode and the real run: at most one action on the snapshot."""
        state, found, vm, plan = self.params["state"], current["snapshot"], current["vm"], Plan()
        if state == "present" and not found:
            plan.add("take", self.params["snapshot"], text="taken", vm=vm["uuid"],
                     description=self.params["description"])
        elif state == "absent" and found:
            plan.add("delete", found["name"], text="deleted", vm=vm["uuid"], uuid=found["uuid"],
                     parent=found["parent"])
        elif state == "restored":
            if not found:
                raise VirtlabError("VM '%s' has no snapshot named '%s' to restore"
                                   % (vm["name"], self.params["snapshot"]), snapshots=current["snapshots"])
            if current["current"] != found["name"]:
                if vm["state"] in SESSION_STATES:
                    raise VirtlabError(
                        "Cannot restore snapshot '%s': VM '%s' is %s, and VirtualBox restores only a VM that is "
                        "powered off. Stop it first (vbox_vm state=poweroff)."
                        % (found["name"], vm["name"], vm["state"]), vm_state=vm["state"])
                plan.add("restore", found["name"], text="restored", vm=vm["uuid"], uuid=found["uuid"])
        return plan

    def expected(self, current, plan):
        name = self.params["snapshot"]
        after = dict(current)
        if plan.has("take"):
            after.update(snapshots=current["snapshots"] + [name], current=name, snapshot={})
        elif plan.has("delete"):
            parent = plan[0].details["parent"]
            after.update(snapshots=[snap for snap in current["snapshots"] if snap != name], snapshot={},
                         current=parent if current["current"] == name else current["current"])
        elif plan.has("restore"):
            after.update(current=name)
        return after

    def read_back(self, current, plan):
        return dict(self.read_snapshots(current["vm"]["uuid"]), vm=current["vm"])

    def view(self, resource):
        return {"snapshots": resource["snapshots"], "current": resource["current"]}

    def result(self, after):
        return dict(self.view(after), snapshot=after["snapshot"])

    # Acting: one method per verb --------------------------------------------------
    def apply_take(self, action):
        args = ["snapshot", action.details["vm"], "take", action.target]
        if action.details["description"]:
            args += ["--description", action.details["description"]]
        self.vbox(*args)

    def apply_delete(self, action):
        self.vbox("snapshot", action.details["vm"], "delete", action.details["uuid"])

    def apply_restore(self, action):
        self.vbox("snapshot", action.details["vm"], "restore", action.details["uuid"])


def main():
    VBoxSnapshotModule()()


if __name__ == "__main__":
    main()
