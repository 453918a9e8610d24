#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vbox_medium
short_description: Remove a VirtualBox disk image, or its entry in VirtualBox's media registry
version_added: 0.3.0
description:
  - VirtualBox remembers every disk image it has opened (created, copied with C(clonemedium), or copied from) in its
    media registry, shown by C(VBoxManage list hdds) and the Virtual Media Manager. Deleting the file leaves the
    entry behind, as an inaccessible disk. This module closes a disk with C(VBoxManage closemedium), so that
    VirtualBox forgets it, and deletes its file with it when asked.
  - A disk attached to a VM cannot be closed; the module says which VM holds it before changing anything.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.vbox
options:
  path:
    description: Path of the disk image.
    type: path
    required: true
  state:
    description:
      - V(absent) deletes the image file and its registry entry (C(closemedium --delete)).
      - V(closed) removes only the registry entry; the file stays (a base image the lab's disks were copied from).
    type: str
    choices: [absent, closed]
    default: absent
"""

EXAMPLES = r"""
- name: VirtualBox forgets the base image the lab's disks were copied from (the file stays)
  virtlab.core.vbox_medium:
    path: "{{ lookup('ansible.builtin.env', 'HOME') }}/virtlab/images/debian-12.vdi"
    state: closed
  delegate_to: localhost

- name: A disk left behind by an interrupted run, file and entry
  virtlab.core.vbox_medium:
    path: "{{ lookup('ansible.builtin.env', 'HOME') }}/VirtualBox VMs/virtlab-objective4-copy.vdi"
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
medium:
  description: The disk after the task (in check mode, as the task would leave it).
  returned: success
  type: dict
  contains:
    path:
      description: Path of the image.
      type: str
    registered:
      description: Whether VirtualBox's media registry lists it.
      type: bool
    file:
      description: Whether the image file exists.
      type: bool
actions:
  description: What the task did or, in check mode, would do.
  returned: success
  type: list
  elements: str
  sample: ["closed /srv/images/debian-12.vdi (VirtualBox forgets it; the file stays)"]
"""

import os

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.vbox.base import VBoxModule
from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import (
    controller_view,
    host_path,
    parse_hdds,
)


class VBoxMediumModule(VBoxModule):
    resource_key = "medium"
    argument_spec = dict(
        path=dict(type="path", required=True),
        state=dict(type="str", choices=["absent", "closed"], default="absent"),
    )

    def read(self):
        """{medium: {path, registered, file}, in_use: [VM names], view}: the disk as VirtualBox and the file
        system know it."""
        path = host_path(self.params["path"])
        entry = parse_hdds(self.vbox("list", "hdds")).get(path)
        medium = {"path": path, "registered": entry is not None,
                  "file": os.path.exists(controller_view(path))}
        return {"medium": medium, "in_use": entry["in_use"] if entry else [], "view": medium}

    def plan(self, current):
        medium = current["medium"]
        plan = Plan()
        if current["in_use"]:
            raise VirtlabError(
                "Cannot close disk %s: VM %s has it attached. Remove the VM (vbox_vm state=absent deletes its "
                "disks) or detach the disk from it first." % (medium["path"], ", ".join(
                    "'%s'" % name for name in current["in_use"])), in_use=current["in_use"])
        if self.params["state"] == "closed" and medium["registered"]:
            plan.add("close", medium["path"], text="closed {target} (VirtualBox forgets it; the file stays)")
        elif self.params["state"] == "absent" and (medium["registered"] or medium["file"]):
            plan.add("delete", medium["path"], text="deleted {target} and its registry entry")
        return plan

    def expected(self, current, plan):
        if not plan:
            return current
        medium = dict(current["medium"], registered=False)
        if self.params["state"] == "absent":
            medium["file"] = False
        return {"medium": medium, "in_use": [], "view": medium}

    def apply_close(self, action):
        self.vbox("closemedium", "disk", action.target)

    def apply_delete(self, action):
        # closemedium opens an image VirtualBox does not know yet, then closes and deletes it.
        self.vbox("closemedium", "disk", action.target, "--delete")


def main():
    VBoxMediumModule()()


if __name__ == "__main__":
    main()
