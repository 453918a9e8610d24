# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the vbox_* modules: finds VBoxManage (also ``VBoxManage.exe`` from WSL), runs it with LC_ALL=C,
treats "VBoxManage: error:" on stderr as a failure even with exit code 0, retries the transient
session-lock errors, and maps VBOX_E_OBJECT_NOT_FOUND to "not found"."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.virtlab.core.plugins.module_utils.base import VirtlabModule
from ansible_collections.virtlab.core.plugins.module_utils.errors import OperationFailed, VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.wait import wait_until
from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import (
    MUTABLE_STATES,
    NOT_FOUND_CODE,
    WSL_VBOXMANAGE,
    error_kind,
    find_vboxmanage_error,
    is_transient_lock,
    parse_ostypes,
    parse_vm_info,
)


class VBoxManageError(OperationFailed):
    """A VBoxManage call failed; ``code`` is VirtualBox's error code when it printed one, ``kind`` what the
    failure means when a module handles it (machinereadable.ERROR_KINDS), else None."""

    def __init__(self, msg, code=None, kind=None, **details):
        super(VBoxManageError, self).__init__(msg, code=code, **details)
        self.code = code
        self.kind = kind


class VBoxNotFound(VBoxManageError):
    """VBOX_E_OBJECT_NOT_FOUND: the machine, snapshot or medium does not exist."""


class VBoxModule(VirtlabModule):
    """Base of the vbox_* modules: runs VBoxManage and reads machines."""

    def backend_argument_spec(self):
        return dict(
            vboxmanage_path=dict(type="path"),
            retries=dict(type="int", default=3),
            retry_delay=dict(type="float", default=1.0),
        )

    def connect(self):
        self.vboxmanage = self.find_vboxmanage()

    # Results: a module's read, expected and read_back give {<resource_key>: what VirtualBox reports,
    # "view": what diff compares}; in check mode the first is still the resource as it is.
    def view(self, resource):
        """What diff shows of a read, expected or read-back resource (None: no diff)."""
        return resource["view"]

    def result(self, after):
        return {self.resource_key: after[self.resource_key]}

    def find_vboxmanage(self):
        path = self.params["vboxmanage_path"]
        if path:
            if not os.access(path, os.X_OK):
                raise VirtlabError("vboxmanage_path %s is not an executable file" % path)
            return path
        for name in ("VBoxManage", "VBoxManage.exe"):
            found = self.ansible.get_bin_path(name)
            if found:
                return found
        if os.access(WSL_VBOXMANAGE, os.X_OK):
            return WSL_VBOXMANAGE
        raise VirtlabError("VBoxManage was not found on PATH (nor VBoxManage.exe, as seen from WSL). "
                           "Install VirtualBox on the controller or set vboxmanage_path.")

    def vbox(self, *args):
        """Run ``VBoxManage args``; return stdout. Raises VBoxNotFound / VBoxManageError.

        Session-lock errors (a session still being unlocked, e.g. just after a poweroff) are
        retried ``retries`` times: VirtualBox refuses the lock before changing anything.
        """
        command = [self.vboxmanage] + [str(arg) for arg in args]
        attempt = 0
        while True:
            rc, stdout, stderr = self.ansible.run_command(
                command, environ_update={"LC_ALL": "C", "LANG": "C"})
            error = find_vboxmanage_error(rc, stderr)
            if error is None:
                return stdout
            if is_transient_lock(stderr) and attempt < self.params["retries"]:
                attempt += 1
                time.sleep(self.params["retry_delay"])
                continue
            error_class = VBoxNotFound if error["code"] == NOT_FOUND_CODE else VBoxManageError
            raise error_class("VBoxManage %s failed: %s" % (args[0], error["message"]), code=error["code"],
                              kind=error_kind(error["message"], stdout), cmd=command, rc=rc, stdout=stdout,
                              stderr=stderr, attempts=attempt + 1)

    # Machines ---------------------------------------------------------------------
    def find_vm(self, name):
        """The VM's normalised info (parse_vm_info), or None when no VM has this name/UUID."""
        try:
            return parse_vm_info(self.vbox("showvminfo", name, "--machinereadable"))
        except VBoxNotFound:
            return None

    def require_vm(self, name):
        vm = self.find_vm(name)
        if vm is None:
            raise VirtlabError("VirtualBox VM '%s' is not registered" % name)
        return vm

    def list_vms(self, running=False):
        """Names of the registered (or running) VMs, from '"name" {uuid}' lines."""
        output = self.vbox("list", "runningvms" if running else "vms")
        return re.findall(r'^"(.*)" \{[0-9a-fA-F-]+\}\s*$', output, re.MULTILINE)

    def ostype_descriptions(self):
        return parse_ostypes(self.vbox("list", "ostypes"))

    def wait_for_state(self, name, states, timeout):
        """Poll the VM until its state is one of ``states``; OperationFailed if it aborts."""
        def probe():
            vm = self.require_vm(name)
            if vm["state"] in states:
                return vm
            if vm["state"] == "aborted":
                raise OperationFailed("VM '%s' aborted while waiting for it to be %s"
                                      % (name, " or ".join(states)), vm=vm)
            return None
        return wait_until(probe, timeout, "VM '%s' to be %s" % (name, " or ".join(states)))

    def require_mutable(self, vm, what):
        if vm["state"] not in MUTABLE_STATES:
            raise VirtlabError(
                "Cannot %s: VM '%s' is %s. Settings change only when the VM is powered off (or, for what "
                "can change live, running). Start it or discard its saved state first."
                % (what, vm["name"], vm["state"]), vm=vm)
