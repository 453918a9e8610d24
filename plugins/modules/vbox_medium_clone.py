#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vbox_medium_clone
short_description: Copy a VirtualBox disk image with clonemedium, explaining when VirtualBox has it locked
version_added: 0.1.0
description:
  - Copies a disk image with C(VBoxManage clonemedium) into a new image with a new UUID, which can then be attached
    to another VM (O(virtlab.core.vbox_vm#module:disk)).
  - VirtualBox locks the disks of a running VM, so cloning such a disk fails (C(Failed to lock source media), or on
    a Windows host, where the VM's process holds the file open, C(VERR_ACCESS_DENIED) at C(OpenMedium)).
    The module checks for that first and fails saying which VM holds the disk and what to do (power it off, or
    clone the whole VM with M(virtlab.core.vbox_clone), which works while it runs).
  - When VirtualBox cannot open the file (C(VERR_ACCESS_DENIED), because another program holds it open or its permissions
    do not let the user running VirtualBox read it), the failure says so, names the running VMs that use it, and
    what to do.
  - An existing destination file counts as the copy and is left alone.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.vbox
options:
  source:
    description: Path (or UUID) of the disk image to copy.
    type: path
    required: true
  dest:
    description: Path of the new image.
    type: path
    required: true
  format:
    description: Format of the new image.
    type: str
    choices: [VDI, VMDK, VHD]
    default: VDI
"""

EXAMPLES = r"""
- name: Copy the lab VM's disk (the VM must be powered off)
  virtlab.core.vbox_medium_clone:
    source: "{{ vbox_machine_folder }}/lab-ubuntu/lab-ubuntu.vdi"
    dest: "{{ vbox_machine_folder }}/copies/lab-ubuntu-copy.vdi"
  delegate_to: localhost
"""

RETURN = r"""
medium:
  description: The copy (in check mode, the copy that would be made).
  returned: success
  type: dict
  contains:
    path:
      description: Path of the copy.
      type: str
    uuid:
      description: UUID VirtualBox gave the copy; absent when it existed before or in check mode.
      type: str
    format:
      description: Image format.
      type: str
      sample: VDI
    source:
      description: The image it was copied from.
      type: str
actions:
  description: What the task did or, in check mode, would do.
  returned: success
  type: list
  elements: str
  sample: ["copied /srv/images/base.vdi to /srv/vms/lab.vdi"]
"""

import os
import re

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.vbox.base import VBoxManageError, VBoxModule
from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import controller_view, host_path

UUID = re.compile(r"^\{?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?$")


class VBoxMediumCloneModule(VBoxModule):
    resource_key = "medium"
    argument_spec = dict(
        source=dict(type="path", required=True),
        dest=dict(type="path", required=True),
        format=dict(type="str", choices=["VDI", "VMDK", "VHD"], default="VDI"),
    )

    def medium(self):
        """The copy as declared: {path, format, source}, paths as VirtualBox will be given them."""
        source = self.params["source"]
        source = source.strip("{}") if UUID.match(source) else host_path(source)
        return {"path": host_path(self.params["dest"]), "format": self.params["format"], "source": source}

    def running_holders(self, source):
        """Names of the running VMs that have ``source`` attached (and so locked)."""
        holders = []
        for name in self.list_vms(running=True):
            vm = self.find_vm(name)
            if vm and any(source in (disk["path"], disk["uuid"]) for disk in vm["disks"]):
                holders.append(vm["name"])
        return holders

    def locked_error(self, source, holders, vbox_message=None):
        why = ("VM %s is running with it attached, and VirtualBox locks a running VM's disks"
               % ", ".join("'%s'" % name for name in holders)) if holders else \
            "another VirtualBox task (a running VM, a clone or a snapshot in progress) holds it"
        return VirtlabError(
            "Cannot clone disk %s: it is locked because %s. Power the VM off first (vbox_vm state=poweroff), or "
            "clone the whole VM with vbox_clone (clonevm), which works while it runs.%s"
            % (source, why, " VirtualBox said: %s" % vbox_message if vbox_message else ""),
            holders=holders)

    @staticmethod
    def denied_error(source, holders, vbox_message):
        who = ("VM %s is running with it attached and its process keeps the file open (as on a Windows host)"
               % ", ".join("'%s'" % name for name in holders)) if holders else \
            ("a program holds the file open (a VM of another user or another VirtualBox, a backup or an antivirus "
             "scan), or its permissions do not let the user running VirtualBox read it")
        return VirtlabError(
            "Cannot clone disk %s: VirtualBox was denied access to the file (VERR_ACCESS_DENIED) because %s. "
            "Power off the VM that uses it (vbox_vm state=poweroff) or clone the whole VM with vbox_clone; close the "
            "program holding the file, or check the file's owner and permissions. VirtualBox said: %s"
            % (source, who, vbox_message), holders=holders)

    def read(self):
        """{medium, view}: the copy ({} when the destination does not exist yet; an existing file counts as the
        copy) and what diff shows of it."""
        medium = self.medium()
        exists = os.path.exists(controller_view(medium["path"]))
        return {"medium": medium if exists else {}, "view": {"path": medium["path"]} if exists else {}}

    def plan(self, current):
        """One clonemedium when the copy does not exist; refused at once while a running VM holds the source."""
        plan = Plan()
        if not current["medium"]:
            medium = self.medium()
            holders = self.running_holders(medium["source"])
            if holders:
                raise self.locked_error(medium["source"], holders)
            plan.add("clone", medium["path"], text="copied {source} to {target}", source=medium["source"],
                     format=medium["format"])
        return plan

    def expected(self, current, plan):
        return {"medium": self.medium(), "view": self.medium()} if plan else current

    def read_back(self, current, plan):
        medium = dict(self.medium(), **self.created)
        return {"medium": medium, "view": medium}

    def apply_clone(self, action):
        try:
            output = self.vbox("clonemedium", "disk", action.details["source"], action.target,
                               "--format", action.details["format"])
        except VBoxManageError as exc:
            source = action.details["source"]
            if exc.kind == "medium_locked":
                raise self.locked_error(source, self.running_holders(source), exc.msg)
            if exc.kind == "access_denied":
                raise self.denied_error(source, self.running_holders(source), exc.msg)
            raise
        # VirtualBox names the copy's UUID only here: read_back has no other way to learn it.
        found = re.search(r"UUID: ([0-9a-fA-F-]+)", output)
        self.created = {"uuid": found.group(1)} if found else {}


def main():
    VBoxMediumCloneModule()()


if __name__ == "__main__":
    main()
