#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vbox_vm
short_description: Create, change, start, stop and remove a VirtualBox VM
version_added: 0.1.0
description:
  - Creates and registers a VirtualBox VM with C(VBoxManage createvm), with its OS type, memory, CPUs, its first
    network adapter (NAT by default) and a disk that is created or attached from an existing image.
  - Keeps the VM running (headless), powered off, or removes it with its disks.
  - Settings of an existing VM are compared and changed with C(modifyvm) when the VM is off. While it runs only
    what VirtualBox can change live is changed, with C(controlvm) (the type of the first adapter); a change that
    needs the VM off (memory, CPUs, OS type, disk) fails before anything is changed, and says so.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.vbox
options:
  name:
    description: Name of the VM (or its UUID for an existing VM).
    type: str
    required: true
  state:
    description:
      - V(present) creates the VM if needed and leaves its power state alone.
      - V(running) also starts it headless; V(poweroff) also stops it (see O(stop_method)).
      - V(absent) powers it off if needed, unregisters it and deletes its files and disks (C(unregistervm --delete)).
      - A paused VM counts as running. A saved VM is started (restored) by V(running) and its saved state is
        discarded by V(poweroff).
    type: str
    choices: [present, running, poweroff, absent]
    default: present
  ostype:
    description:
      - VirtualBox guest OS type ID, as listed by C(VBoxManage list ostypes) (for example V(Ubuntu_64),
        V(Debian_64), V(Linux26_64) for Alpine).
      - An unknown ID is reported with VirtualBox's own error. When omitted VirtualBox's default is used on creation
        and the OS type is not compared.
    type: str
  memory:
    description: Memory in MiB. Not compared when omitted.
    type: int
  cpus:
    description: Number of virtual CPUs. Not compared when omitted.
    type: int
  nic1:
    description:
      - Attachment of the first network adapter. V(nat) is VirtualBox's NAT, where the guest is 10.0.2.15 and is
        reachable only through port forwarding (see M(virtlab.core.vbox_natpf)); V(null) leaves it unplugged.
      - A new VM gets V(nat) when omitted; for an existing VM an omitted value is not compared.
    type: str
    choices: [nat, "null"]
  internal_networks:
    description:
      - VirtualBox internal networks (C(intnet)) for adapters 2, 3, ... in this order; for example the lab's
        networks, one per adapter, which only VMs on the same internal network reach.
      - Adapters after the list that are on an internal network are disabled. Not compared when omitted.
      - Changing them needs the VM off.
    type: list
    elements: str
  disk:
    description:
      - The VM's disk, attached to port 0 of the storage controller O(disk.controller), which is added if missing.
      - If O(disk.path) exists it is attached as is (an existing image); otherwise it is created with
        O(disk.size_mb).
      - The disk is compared by path. Attaching needs the VM off.
    type: dict
    suboptions:
      path:
        description: Path of the disk image, as the host that runs VirtualBox sees it.
        type: path
        required: true
      size_mb:
        description: Size of the disk to create, in MiB. Required when O(disk.path) does not exist.
        type: int
      format:
        description: Format of a disk to create.
        type: str
        choices: [VDI, VMDK, VHD]
        default: VDI
      controller:
        description: Name of the storage controller (a SATA controller with this name is added if missing).
        type: str
        default: SATA
  stop_method:
    description:
      - How to stop a running VM for O(state=poweroff) or O(state=absent).
      - V(poweroff) pulls the plug. V(acpi) presses the ACPI power button, which returns at once, and waits until
        O(timeout) for the guest to shut itself down (the VM stays running, then stopping, meanwhile); a guest that
        ignores the button makes the task fail saying so, with the VM still running.
    type: str
    choices: [poweroff, acpi]
    default: poweroff
  timeout:
    description: Seconds to wait for the VM to reach the requested power state.
    type: int
    default: 120
"""

EXAMPLES = r"""
- name: An Ubuntu VM with its first adapter in NAT mode and a new 8 GiB disk, running headless
  virtlab.core.vbox_vm:
    name: lab-ubuntu
    ostype: Ubuntu_64
    memory: 2048
    cpus: 2
    nic1: nat
    disk:
      path: "{{ vbox_machine_folder }}/lab-ubuntu/lab-ubuntu.vdi"
      size_mb: 8192
    state: running
  delegate_to: localhost

- name: A VM on an existing cloud image (converted to VDI beforehand)
  virtlab.core.vbox_vm:
    name: lab-alpine
    ostype: Linux26_64
    memory: 512
    disk:
      path: /srv/images/alpine-virt.vdi
    state: running
  delegate_to: localhost

- name: More memory needs the VM off
  virtlab.core.vbox_vm:
    name: lab-ubuntu
    memory: 4096
    state: poweroff
  delegate_to: localhost

- name: Remove the VM and its disks
  virtlab.core.vbox_vm:
    name: lab-ubuntu
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
vm:
  description: The VM as VirtualBox reports it after the task (in check mode, as it is now); empty when absent.
  returned: always
  type: dict
  contains:
    name:
      description: VM name.
      type: str
      sample: lab-ubuntu
    uuid:
      description: VM UUID.
      type: str
    state:
      description: VirtualBox's machine state (C(VMState)).
      type: str
      sample: running
    ostype:
      description: The OS type as C(showvminfo) prints it, its description rather than its ID.
      type: str
      sample: Ubuntu (64-bit)
    memory:
      description: Memory in MiB.
      type: int
      sample: 2048
    cpus:
      description: Number of CPUs.
      type: int
      sample: 2
    nics:
      description: Attachment type of each enabled adapter, by adapter number.
      type: dict
      sample: {"1": nat}
    internal_networks:
      description: Internal network of each adapter attached to one, by adapter number.
      type: dict
      sample: {"2": virtlab-pn1}
    forwarding:
      description: NAT port-forwarding rules by adapter number, as "name,proto,hostip,hostport,guestip,guestport".
      type: dict
      sample: {"1": ["ssh,tcp,,2222,,22"]}
    macs:
      description: MAC address of each enabled adapter that has one, by adapter number, as the guest names it.
      type: dict
      sample: {"1": "08:00:27:A1:B2:C3", "2": "08:00:27:D4:E5:F6"}
      version_added: 0.3.0
    controllers:
      description: Names of the storage controllers.
      type: list
      elements: str
    disks:
      description: Attached media (controller, port, device, path).
      type: list
      elements: dict
    config_file:
      description: Path of the VM's settings file.
      type: str
    current_snapshot:
      description: Name of the current snapshot, if any.
      type: str
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: [created, started]
verbs:
  description:
    - The verb of each of those steps, in order (V(create), V(change), V(start), V(stop), ...);
      what a playbook decides on instead of the text of RV(actions). Whether the machine would be created or
      started is RV(not_in_place).
  returned: always
  type: list
  elements: str
  sample: [create, attach, start]
  version_added: 0.3.0
not_in_place:
  description:
    - Whether this task creates or starts the VM (in check mode, would) - it was not running as declared.
      In check mode there is nothing to log into on it yet.
    - The same test as RV(virtlab.core.docker_lab#module:not_in_place) makes for a lab's nodes.
  returned: always
  type: bool
  sample: true
  version_added: 0.3.0
"""

import os

from ansible_collections.virtlab.core.plugins.module_utils.errors import OperationTimeout, VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.vbox.base import VBoxModule
from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import (
    SESSION_STATES,
    controller_view,
    host_path,
)

# What controlvm can change on a running VM (setting -> controlvm word); the rest needs it off.
LIVE_SETTINGS = {"nic1": "nic1"}
MODIFYVM_OPTIONS = {"ostype": "--ostype", "memory": "--memory", "cpus": "--cpus", "nic1": "--nic1"}
# A VM as createvm registers it, for check mode's "after" of a creation.
NEW_VM = {"state": "poweroff", "ostype": None, "memory": None, "cpus": None, "nic1": None, "disks": []}


def settings_view(vm):
    """The compared and diffed part of a VM."""
    if not vm:
        return {}
    return {"state": vm["state"], "ostype": vm["ostype"], "memory": vm["memory"], "cpus": vm["cpus"],
            "nic1": vm["nics"].get("1", "none"), "internal_networks": internal_networks_view(vm),
            "disks": [disk["path"] for disk in vm["disks"]]}


def internal_networks_view(vm):
    """Internal networks of adapters 2, 3, ... up to the first adapter that is on none."""
    names = []
    for adapter in range(2, 9):
        name = vm["internal_networks"].get(str(adapter))
        if name is None:
            break
        names.append(name)
    return names


def internal_network_args(current, wanted):
    """modifyvm options putting adapters 2.. on ``wanted``, and disabling the ones left over."""
    args = []
    for adapter, network in enumerate(wanted, start=2):
        args += ["--nic%d" % adapter, "intnet", "--intnet%d" % adapter, network]
    for adapter in range(2 + len(wanted), 2 + len(current or [])):
        args += ["--nic%d" % adapter, "none"]
    return args


def is_running(vm):
    return bool(vm) and vm["state"] in SESSION_STATES


def expected_settings(before, plan):
    """The settings as ``plan`` leaves them (check mode's "after")."""
    if plan.has("remove"):
        return {}
    after = dict(before or NEW_VM)
    for action in plan:
        if action.verb in ("create", "change"):
            after.update((key, new) for key, (old, new) in action.details["changes"].items())
        elif action.verb == "attach":
            after["disks"] = after["disks"] + [action.details["disk"]["path"]]
        elif action.verb in ("stop", "discard"):
            after["state"] = "poweroff"
        elif action.verb == "start":
            after["state"] = "running"
    return after


class VBoxVmModule(VBoxModule):
    resource_key = "vm"
    machine = True  # returns verbs and not_in_place
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "running", "poweroff", "absent"], default="present"),
        ostype=dict(type="str"),
        memory=dict(type="int"),
        cpus=dict(type="int"),
        nic1=dict(type="str", choices=["nat", "null"]),
        internal_networks=dict(type="list", elements="str"),
        disk=dict(type="dict", options=dict(
            path=dict(type="path", required=True),
            size_mb=dict(type="int"),
            format=dict(type="str", choices=["VDI", "VMDK", "VHD"], default="VDI"),
            controller=dict(type="str", default="SATA"),
        )),
        stop_method=dict(type="str", choices=["poweroff", "acpi"], default="poweroff"),
        timeout=dict(type="int", default=120),
    )

    def read(self):
        """{vm, view}: the VM as showvminfo reports it ({} when absent) and its compared settings."""
        vm = self.find_vm(self.params["name"]) or {}
        return {"vm": vm, "view": settings_view(vm)}

    def desired_settings(self, vm):
        """The declared settings, in the form showvminfo reports them (None: not managed)."""
        params = self.params
        for key in ("memory", "cpus"):
            if params[key] is not None and params[key] < 1:
                raise VirtlabError("%s must be a positive number, not %s" % (key, params[key]))
        ostype = params["ostype"]
        if ostype is not None and vm:
            # showvminfo prints the type's description ("Ubuntu (64-bit)"), not its ID.
            descriptions = dict((type_id.lower(), text) for type_id, text in self.ostype_descriptions().items())
            ostype = descriptions.get(ostype.lower(), ostype)
        nic1 = params["nic1"] or ("nat" if not vm else None)
        networks = params["internal_networks"]
        if networks is not None and len(networks) > 7:
            raise VirtlabError("internal_networks: a VM has adapters 2 to 8, so at most 7 networks, not %d"
                               % len(networks))
        return {"ostype": ostype, "memory": params["memory"], "cpus": params["cpus"], "nic1": nic1,
                "internal_networks": networks}

    def desired_disk(self, vm):
        """The disk to attach, or None when there is none declared or it is already attached."""
        disk = self.params["disk"]
        if not disk:
            return None
        path = host_path(disk["path"])
        if vm and path in [attached["path"] for attached in vm["disks"]]:
            return None
        create = not os.path.exists(controller_view(path))
        if create and not disk["size_mb"]:
            raise VirtlabError("disk.path %s does not exist: give disk.size_mb to create it, or the path of an "
                               "existing image to attach" % path)
        return dict(disk, path=path, create=create,
                    add_controller=not vm or disk["controller"] not in vm["controllers"])

    def plan(self, current):
        """The one decision, for check mode and the real run. Every action targets the VM's name."""
        vm, state, plan = current["vm"], self.params["state"], Plan()
        name = vm["name"] if vm else self.params["name"]
        if state == "absent":
            if is_running(vm):
                plan.add("stop", name, text="stopped")
            if vm:
                plan.add("remove", name, text="removed")
            return plan
        changes = differences(current["view"], self.desired_settings(vm))
        disk = self.desired_disk(vm)
        discard = bool(vm) and vm["state"] == "saved" and state == "poweroff"
        stop = is_running(vm) and state == "poweroff"
        if is_running(vm) and not stop:
            offline = sorted(key for key in changes if key not in LIVE_SETTINGS) + (["disk"] if disk else [])
            if offline:
                raise VirtlabError(
                    "Cannot change %s of VM '%s' while it is running: VirtualBox changes these only when the VM "
                    "is powered off. Run with state=poweroff, then state=running." % (", ".join(offline), vm["name"]),
                    changes=dict((key, changes[key]) for key in offline if key in changes), vm=vm)
        if vm and vm["state"] == "saved" and (changes or disk) and not discard:
            raise VirtlabError("Cannot change the settings of VM '%s': it is in saved state. Run with "
                               "state=poweroff (discards the saved state) first." % vm["name"], vm=vm)
        if not vm:
            # createvm sets the OS type; modifyvm the rest of the settings.
            plan.add("create", name, text="created", changes=changes)
        if discard:
            plan.add("discard", name, text="saved state discarded")
        if stop:
            plan.add("stop", name, text="stopped")
        if changes and vm:
            plan.add("change", name, text="changed {keys}", keys=", ".join(sorted(changes)), changes=changes,
                     live=is_running(vm) and not stop)
        if disk:
            plan.add("attach", name, text="disk created and attached {path}" if disk["create"] else
                     "disk attached {path}", path=disk["path"], disk=disk)
        if state == "running" and not is_running(vm):
            plan.add("start", name, text="started")
        return plan

    def expected(self, current, plan):
        return {"vm": current["vm"], "view": expected_settings(current["view"], plan)}

    def read_back(self, current, plan):
        if plan.has("remove"):
            return {"vm": {}, "view": {}}
        vm = self.require_vm(plan[0].target)
        return {"vm": vm, "view": settings_view(vm)}

    # Acting: one method per verb --------------------------------------------------
    def apply_stop(self, action):
        if self.params["stop_method"] != "acpi":
            self.vbox("controlvm", action.target, "poweroff")
            self.wait_for_state(action.target, ["poweroff"], self.params["timeout"])
            return
        # The power button returns at once; the guest shuts itself down afterwards, or never (no ACPI daemon).
        self.vbox("controlvm", action.target, "acpipowerbutton")
        try:
            self.wait_for_state(action.target, ["poweroff"], self.params["timeout"])
        except OperationTimeout:
            vm = self.find_vm(action.target) or {}
            raise OperationTimeout(
                "VM '%s' did not shut down within %ss of the ACPI power button (it is still %s): the guest ignores "
                "the button (no ACPI daemon such as acpid or systemd-logind listening, or it is still booting). Use "
                "stop_method=poweroff to pull the plug, or a longer timeout"
                % (action.target, self.params["timeout"], vm.get("state", "running")),
                timeout=self.params["timeout"], vm=vm)

    def apply_remove(self, action):
        self.vbox("unregistervm", action.target, "--delete")

    def apply_create(self, action):
        args = ["createvm", "--name", action.target, "--register"]
        if self.params["ostype"]:
            args += ["--ostype", self.params["ostype"]]
        self.vbox(*args)
        self.modifyvm(action.target, dict((key, change) for key, change in action.details["changes"].items()
                                          if key != "ostype"))

    def apply_discard(self, action):
        self.vbox("discardstate", action.target)

    def apply_change(self, action):
        changes = action.details["changes"]
        if action.details["live"]:
            for key in sorted(changes):
                self.vbox("controlvm", action.target, LIVE_SETTINGS[key], changes[key][1])
        else:
            self.modifyvm(action.target, changes)

    def modifyvm(self, name, changes):
        args = []
        for key in sorted(changes):
            if key == "internal_networks":
                args += internal_network_args(*changes[key])
                continue
            # The command takes the declared OS type ID, the comparison used its description.
            value = self.params["ostype"] if key == "ostype" else changes[key][1]
            args += [MODIFYVM_OPTIONS[key], value]
        if args:
            self.vbox("modifyvm", name, *args)

    def apply_attach(self, action):
        disk = action.details["disk"]
        if disk["create"]:
            self.vbox("createmedium", "disk", "--filename", disk["path"], "--size", disk["size_mb"],
                      "--format", disk["format"])
        if disk["add_controller"]:
            self.vbox("storagectl", action.target, "--name", disk["controller"], "--add", "sata",
                      "--controller", "IntelAhci")
        self.vbox("storageattach", action.target, "--storagectl", disk["controller"], "--port", 0, "--device", 0,
                  "--type", "hdd", "--medium", disk["path"])

    def apply_start(self, action):
        self.vbox("startvm", action.target, "--type", "headless")
        self.wait_for_state(action.target, ["running"], self.params["timeout"])


def main():
    VBoxVmModule()()


if __name__ == "__main__":
    main()
