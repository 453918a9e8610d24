#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vbox_clone
short_description: Clone a VirtualBox VM (full or linked) and register the clone
version_added: 0.1.0
description:
  - Clones a VM with C(VBoxManage clonevm --register), as a full copy of its disks or as a linked clone whose disks
    are differencing images on a snapshot of the source.
  - Cloning works while the source runs, unlike copying its disk with C(clonemedium) (see
    M(virtlab.core.vbox_medium_clone)).
  - A VM that already has the clone's name counts as the clone and is left alone; it is not compared with the
    source.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.vbox
options:
  name:
    description: Name of the clone.
    type: str
    required: true
  source:
    description: Name or UUID of the VM to clone.
    type: str
    required: true
  mode:
    description:
      - V(full) copies the disks. V(linked) creates differencing disks on O(snapshot) of the source, which must
        then stay registered.
    type: str
    choices: [full, linked]
    default: full
  snapshot:
    description:
      - Name or UUID of the source's snapshot to clone from. Required for O(mode=linked) (take it with
        M(virtlab.core.vbox_snapshot)). For a full clone, the source's current state is cloned when omitted.
    type: str
"""

EXAMPLES = r"""
- name: Duplicate the lab VM, even while it runs
  virtlab.core.vbox_clone:
    name: lab-ubuntu-copy
    source: lab-ubuntu
  delegate_to: localhost

- name: A linked clone on the "base" snapshot
  virtlab.core.vbox_clone:
    name: lab-ubuntu-linked
    source: lab-ubuntu
    mode: linked
    snapshot: base
  delegate_to: localhost
"""

RETURN = r"""
vm:
  description:
    - The clone as VirtualBox reports it (see M(virtlab.core.vbox_vm) for its keys).
    - In check mode, when the clone would be created, empty.
  returned: success
  type: dict
  sample: {"name": "lab-ubuntu-copy", "state": "poweroff", "nics": {"1": "nat"}}
actions:
  description: What the task did or, in check mode, would do.
  returned: success
  type: list
  elements: str
  sample: ["cloned from lab-ubuntu (full)"]
"""

from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.vbox.base import VBoxModule


def clone_view(vm):
    if not vm:
        return {}
    return {"name": vm["name"], "uuid": vm["uuid"], "state": vm["state"],
            "disks": [disk["path"] for disk in vm["disks"]]}


class VBoxCloneModule(VBoxModule):
    resource_key = "vm"
    argument_spec = dict(
        name=dict(type="str", required=True),
        source=dict(type="str", required=True),
        mode=dict(type="str", choices=["full", "linked"], default="full"),
        snapshot=dict(type="str"),
    )
    module_kwargs = dict(required_if=[("mode", "linked", ["snapshot"])])

    def read(self):
        """{vm, view}: the clone as VirtualBox reports it ({} when there is none) and what diff shows of it."""
        clone = self.find_vm(self.params["name"]) or {}
        return {"vm": clone, "view": clone_view(clone)}

    def plan(self, current):
        """A VM with the clone's name counts as the clone: nothing to do. Else one clonevm."""
        plan = Plan()
        if not current["vm"]:
            source = self.require_vm(self.params["source"])
            snapshot = self.params["snapshot"]
            plan.add("clone", self.params["name"],
                     text="cloned from {source} ({mode}, snapshot {snapshot})" if snapshot else
                     "cloned from {source} ({mode})",
                     source=source["name"], mode=self.params["mode"], snapshot=snapshot)
        return plan

    def wanted(self, plan):
        action = plan[0]
        return dict(name=action.target, source=action.details["source"], mode=action.details["mode"],
                    snapshot=action.details["snapshot"])

    def expected(self, current, plan):
        return {"vm": {}, "view": self.wanted(plan)} if plan else current

    def read_back(self, current, plan):
        clone = self.require_vm(self.params["name"])
        return {"vm": clone, "view": dict(self.wanted(plan), **clone_view(clone))}

    def apply_clone(self, action):
        args = ["clonevm", action.details["source"], "--name", action.target, "--register"]
        if action.details["snapshot"]:
            args += ["--snapshot", action.details["snapshot"]]
        if action.details["mode"] == "linked":
            args += ["--options", "link"]
        self.vbox(*args)


def main():
    VBoxCloneModule()()


if __name__ == "__main__":
    main()
