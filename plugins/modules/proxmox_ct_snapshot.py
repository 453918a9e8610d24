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
  - virtlab.core.proxmox
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    description: Reports whether a snapshot would be taken, removed or rolled back.
  diff_mode:
    support: full
    description: Shows the snapshot before and after, and for a rollback the config values it restores.
options:
  vmid:
    description: Id of the CT.
    type: int
  hostname:
    description: Host name of the CT, when O(vmid) is not given (must be unique).
    type: str
  name:
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
"""

import re

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
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


class ProxmoxCtSnapshot(ProxmoxModule):
    argument_spec = dict(
        vmid=dict(type="int"),
        hostname=dict(type="str"),
        name=dict(type="str", required=True),
        description=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent", "rolled_back"]),
        force=dict(type="bool", default=False),
    )
    module_kwargs = dict(required_one_of=[("vmid", "hostname")])

    def check_name(self):
        name = self.params["name"]
        if name.lower() in RESERVED_NAMES:
            raise VirtlabError("%r is a reserved snapshot name in Proxmox VE" % name)
        if not SNAPSHOT_NAME_RE.match(name) or len(name) > 40:
            raise VirtlabError("Invalid snapshot name %r: it must start with a letter, contain "
                               "only letters, digits, '-' and '_', be 2 to 40 characters long"
                               % name)

    def decide(self, snapshot, current_state, config, snapshot_config):
        """The one decision for check mode and the real run: the action (or None), and
        the before/after the diff shows."""
        state = self.params["state"]
        if state == "present":
            if snapshot is None:
                after = dict(name=self.params["name"],
                             description=(self.params["description"] or "").strip())
                return "create", {}, after
            want = self.params["description"]
            if want is not None and want.strip() != snapshot_view(snapshot)["description"]:
                before = snapshot_view(snapshot)
                return "describe", before, dict(before, description=want.strip())
            return None, snapshot_view(snapshot), snapshot_view(snapshot)
        if state == "absent":
            if snapshot is None:
                return None, {}, {}
            return "delete", snapshot_view(snapshot), {}
        # rolled_back
        at_snapshot = current_state.get("parent") == snapshot["name"]
        now, then = comparable_config(config), comparable_config(snapshot_config)
        changed_keys = differences(now, then)
        # Keys set now but absent from the snapshot are also undone by a rollback.
        for key in set(now) - set(then):
            changed_keys[key] = (now[key], None)
        before = dict(parent=current_state.get("parent"),
                      config=dict((key, have) for key, (have, _want) in changed_keys.items()))
        after = dict(parent=snapshot["name"],
                     config=dict((key, want) for key, (_have, want) in changed_keys.items()))
        if at_snapshot and not changed_keys and not self.params["force"]:
            return None, before, after
        return "rollback", before, after

    def run(self):
        self.check_name()
        name = self.params["name"]
        if self.params["state"] == "rolled_back" and self.params["description"] is not None:
            raise VirtlabError("description is only used with state=present")
        entry = self.require_ct()
        vmid, node = entry["vmid"], entry["node"]
        path = self.ct_path(node, vmid, "snapshot")
        listing = self.api("get", path) or []
        snapshot = next((item for item in listing
                         if item["name"] == name and item["name"] != "current"), None)
        current_state = next((item for item in listing if item["name"] == "current"), {})

        config = snapshot_config = None
        if self.params["state"] == "rolled_back":
            if snapshot is None:
                others = sorted(item["name"] for item in listing if item["name"] != "current")
                raise VirtlabError("CT %s has no snapshot %r to roll back to (snapshots: %s)"
                                   % (vmid, name, ", ".join(others) or "none"))
            config = self.api("get", self.ct_path(node, vmid, "config"))
            snapshot_config = self.api("get", "%s/%s/config" % (path, name))

        action, before, after = self.decide(snapshot, current_state, config, snapshot_config)
        ct = dict(vmid=int(vmid), node=node, parent=current_state.get("parent"),
                  status=entry.get("status"))
        if action is None or self.check_mode:
            if action == "rollback":
                ct.update(parent=name, status="stopped")
            self.exit(action is not None, before=before, after=after,
                      snapshot=after if self.params["state"] != "rolled_back"
                      else snapshot_view(snapshot), ct=ct)

        what = "%s of snapshot %r of CT %s on %s" % (action, name, vmid, node)
        if action == "create":
            self.run_task("post", path, what, snapname=name,
                          description=self.params["description"])
        elif action == "describe":
            self.api("put", "%s/%s/config" % (path, name), description=self.params["description"])
        elif action == "delete":
            self.run_task("delete", "%s/%s" % (path, name), what)
        elif action == "rollback":
            self.run_task("post", "%s/%s/rollback" % (path, name), what)

        listing = self.api("get", path) or []
        final = next((item for item in listing if item["name"] == name), None)
        current_state = next((item for item in listing if item["name"] == "current"), {})
        status = self.api("get", self.ct_path(node, vmid, "status", "current")).get("status")
        ct.update(parent=current_state.get("parent"), status=status)
        if self.params["state"] != "rolled_back":
            after = snapshot_view(final)
        self.exit(True, before=before, after=after, snapshot=snapshot_view(final), ct=ct)


def main():
    ProxmoxCtSnapshot()()


if __name__ == "__main__":
    main()
