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
  - VirtualBox locks the disks of a running VM, so cloning such a disk fails ("locked for writing by another task").
    The module checks for that first and fails saying which VM holds the disk and what to do (power it off, or
    clone the whole VM with M(virtlab.core.vbox_clone), which works while it runs).
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
"""

import os
import re

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.vbox.base import VBoxManageError, VBoxModule
from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import controller_view, host_path

UUID = re.compile(r"^\{?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?$")
LOCKED = re.compile(r"is locked for (writing|reading) by another task")


class VBoxMediumCloneModule(VBoxModule):
    argument_spec = dict(
        source=dict(type="path", required=True),
        dest=dict(type="path", required=True),
        format=dict(type="str", choices=["VDI", "VMDK", "VHD"], default="VDI"),
    )

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

    def run(self):
        source = self.params["source"]
        if UUID.match(source):
            source = source.strip("{}")
        else:
            source = host_path(source)
        dest = host_path(self.params["dest"])
        medium = {"path": dest, "format": self.params["format"], "source": source}
        if os.path.exists(controller_view(dest)):
            return self.exit(False, before={"path": dest}, after={"path": dest}, medium=medium)
        holders = self.running_holders(source)
        if holders:
            raise self.locked_error(source, holders)
        if self.check_mode:
            return self.exit(True, before={}, after=medium, medium=medium)
        try:
            output = self.vbox("clonemedium", "disk", source, dest, "--format", self.params["format"])
        except VBoxManageError as exc:
            if LOCKED.search(exc.msg):
                raise self.locked_error(source, self.running_holders(source), exc.msg)
            raise
        found = re.search(r"UUID: ([0-9a-fA-F-]+)", output)
        if found:
            medium["uuid"] = found.group(1)
        self.exit(True, before={}, after=medium, medium=medium)


def main():
    VBoxMediumCloneModule()()


if __name__ == "__main__":
    main()
