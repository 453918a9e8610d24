#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: proxmox_ct_snapshot
short_description: Take, remove and roll back snapshots of a Proxmox VE LXC container
description:
  - Keeps a named snapshot of a CT present or absent, or rolls the CT back to it.
  - Check mode reports the change that the real run would make, and makes none.
  - A rollback reports no change when the CT already is at that snapshot with no change
    since (see O(force) for the limits of what the API can tell).
version_added: 0.1.0
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.proxmox
attributes:
  check_mode:
    details: Reports whether a snapshot would be taken, removed or rolled back.
  diff_mode:
    details: Shows the snapshot before and after, and for a rollback the config values it restores.
options:
  vmid:
    description: Id of the CT.
    type: int
  hostname:
    description: Host name of the CT, when O(vmid) is not given (must be unique).
    type: str
  name:
    aliases: [snapname]
    description:
      - Name of the snapshot; a letter, then letters, digits, C(-) or C(_), at most 40
        characters. V(current) and V(vzdump) are reserved by Proxmox.
    type: str
    required: true
  description:
    description:
      - Description of the snapshot. Set on creation; a different description on an
        existing snapshot is updated in place.
    type: str
  state:
    description:
      - V(present) takes the snapshot if it does not exist. V(absent) removes it.
      - V(rolled_back) rolls the CT back to the snapshot; the CT is stopped afterwards
        (start it with M(virtlab.core.proxmox_ct)).
    type: str
    choices: [present, absent, rolled_back]
    default: present
  force:
    description:
      - With O(state=rolled_back), roll back even when the CT looks unchanged since the
        snapshot.
      - The module considers the CT unchanged when the snapshot is the parent of its
        current state and its config equals the snapshot's. Changes made inside the CT's
        file system are invisible to the API; use O(force) when they matter.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Snapshot before the change
  virtlab.core.proxmox_ct_snapshot:
    api_host: pve1.lab.example
    api_user: root@pam
    api_password: "{{ proxmox_password }}"
    hostname: calc-cs
    name: before_change
    description: state before the lab's change

- name: Restore it
  virtlab.core.proxmox_ct_snapshot:
    hostname: calc-cs
    name: before_change
    state: rolled_back

- name: Remove it
  virtlab.core.proxmox_ct_snapshot:
    hostname: calc-cs
    name: before_change
    state: absent
"""

RETURN = r"""
snapshot:
  description: The snapshot after the run; empty once removed.
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
      sample: before_change
    description:
      description: Description.
      type: str
    snaptime:
      description: Creation time, seconds since the epoch.
      type: int
    parent:
      description: The snapshot this one was taken after, if any.
      type: str
ct:
  description: The CT the snapshot belongs to.
  returned: always
  type: dict
  contains:
    vmid:
      description: Id of the CT.
      type: int
    node:
      description: Node the CT lives on.
      type: str
    parent:
      description: The snapshot the CT's current state derives from.
      type: str
    status:
      description: V(running) or V(stopped).
      type: str
actions:
  description: What was done (or would be done in check mode).
  returned: always
  type: list
  elements: str
  sample: ["take snapshot before_change"]
"""

import re

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.proxmox.base import ProxmoxModule
from ansible_collections.virtlab.core.plugins.module_utils.proxmox.properties import comparable_config

SNAPSHOT_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]+$", re.IGNORECASE)
RESERVED_NAMES = ("current", "vzdump")


def snapshot_view(entry):
    if not entry:
        return {}
    view = dict(name=entry["name"], description=(entry.get("description") or "").strip(),
                snaptime=entry.get("snaptime"))
    if entry.get("parent"):
        view["parent"] = entry["parent"]
    return view


def rollback_changes(config, snapshot_config):
    """{key: (now, in the snapshot)} for what a rollback would restore, keys set only now included."""
    now, then = comparable_config(config), comparable_config(snapshot_config)
    changes = differences(now, then)
    for key in set(now) - set(then):
        changes[key] = (now[key], None)
    return changes


class ProxmoxCtSnapshot(ProxmoxModule):
    argument_spec = dict(
        vmid=dict(type="int"),
        hostname=dict(type="str"),
        name=dict(type="str", required=True, aliases=["snapname"]),
        description=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent", "rolled_back"]),
        force=dict(type="bool", default=False),
    )
    module_kwargs = dict(required_one_of=[("vmid", "hostname")])

    def check_input(self):
        name = self.params["name"]
        if name.lower() in RESERVED_NAMES:
            raise VirtlabError("%r is a reserved snapshot name in Proxmox VE" % name)
        if not SNAPSHOT_NAME_RE.match(name) or len(name) > 40:
            raise VirtlabError("Invalid snapshot name %r: it must start with a letter, contain "
                               "only letters, digits, '-' and '_', be 2 to 40 characters long"
                               % name)
        if self.params["state"] == "rolled_back" and self.params["description"] is not None:
            raise VirtlabError("description is only used with state=present")

    # Reading -----------------------------------------------------------------------
    def read(self):
        """{ct, snapshot, view}: the CT (vmid, node, parent, status), the snapshot ({} when absent) and what
        diff shows - the snapshot, or for a rollback the CT's parent and the config values it would restore."""
        self.check_input()
        entry = self.require_ct()
        self.where = dict(vmid=entry["vmid"], node=entry["node"])
        state = self.read_snapshots(entry.get("status"))
        if self.params["state"] != "rolled_back":
            return dict(state, view=state["snapshot"])
        if not state["snapshot"]:
            raise VirtlabError("CT %s has no snapshot %r to roll back to (snapshots: %s)"
                               % (entry["vmid"], self.params["name"], ", ".join(state["_others"]) or "none"))
        config = self.api("get", self.ct_path(entry["node"], entry["vmid"], "config"))
        snapshot_config = self.api("get", self.snapshot_path(self.params["name"], "config"))
        state["_restores"] = rollback_changes(config, snapshot_config)
        state["view"] = dict(parent=state["ct"]["parent"],
                             config=dict((key, have) for key, (have, _want) in state["_restores"].items()))
        return state

    def snapshot_path(self, *rest):
        return self.ct_path(self.where["node"], self.where["vmid"], "snapshot", *rest)

    def read_snapshots(self, status):
        name = self.params["name"]
        listing = self.api("get", self.snapshot_path()) or []
        current_state = next((item for item in listing if item["name"] == "current"), {})
        found = next((item for item in listing if item["name"] == name), None)
        return dict(ct=dict(vmid=int(self.where["vmid"]), node=self.where["node"],
                            parent=current_state.get("parent"), status=status),
                    snapshot=snapshot_view(found),
                    _others=sorted(item["name"] for item in listing if item["name"] != "current"))

    # The one decision for check mode and the real run ------------------------------
    def plan(self, current):
        plan = Plan()
        name, state, snapshot = self.params["name"], self.params["state"], current["snapshot"]
        want = self.params["description"]
        if state == "present" and not snapshot:
            plan.add("create", name, text="take snapshot {target}", description=want)
        elif state == "present" and want is not None and want.strip() != snapshot["description"]:
            plan.add("describe", name, text="describe snapshot {target}", description=want)
        elif state == "absent" and snapshot:
            plan.add("delete", name, text="delete snapshot {target}")
        elif state == "rolled_back":
            if current["ct"]["parent"] != name or current["_restores"] or self.params["force"]:
                plan.add("rollback", name, text="roll back to snapshot {target}")
        return plan

    def expected(self, current, plan):
        name = self.params["name"]
        if self.params["state"] == "rolled_back":
            view = dict(parent=name, config=dict((key, want) for key, (_have, want) in current["_restores"].items()))
            ct = dict(current["ct"], parent=name, status="stopped") if plan else current["ct"]
            return dict(current, ct=ct, view=view)
        snapshot = current["snapshot"]
        if plan.has("create"):
            snapshot = dict(name=name, description=(self.params["description"] or "").strip())
        elif plan.has("describe"):
            snapshot = dict(snapshot, description=self.params["description"].strip())
        elif plan.has("delete"):
            snapshot = {}
        return dict(current, snapshot=snapshot, view=snapshot)

    def read_back(self, current, plan):
        status = self.api("get", self.ct_path(self.where["node"], self.where["vmid"], "status", "current"))
        state = self.read_snapshots(status.get("status"))
        if self.params["state"] == "rolled_back":
            return dict(state, view=self.expected(current, plan)["view"])
        return dict(state, view=state["snapshot"])

    def view(self, resource):
        return resource["view"]

    def result(self, after):
        return dict(snapshot=after["snapshot"], ct=after["ct"])

    # Acting: one method per verb ---------------------------------------------------
    def what(self, action):
        return "%s of snapshot %r of CT %s on %s" % (action.verb, action.target, self.where["vmid"],
                                                     self.where["node"])

    def apply_create(self, action):
        self.run_task("post", self.snapshot_path(), self.what(action), snapname=action.target,
                      description=action.details["description"])

    def apply_describe(self, action):
        self.api("put", self.snapshot_path(action.target, "config"), description=action.details["description"])

    def apply_delete(self, action):
        self.run_task("delete", self.snapshot_path(action.target), self.what(action))

    def apply_rollback(self, action):
        self.run_task("post", self.snapshot_path(action.target, "rollback"), self.what(action))


def main():
    ProxmoxCtSnapshot()()


if __name__ == "__main__":
    main()
