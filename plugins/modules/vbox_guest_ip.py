#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vbox_guest_ip
short_description: Read a VirtualBox guest's IPv4 address from its guest properties, waiting for it
version_added: 0.1.0
description:
  - Reads C(/VirtualBox/GuestInfo/Net/<interface>/V4/IP), which the Guest Additions publish once the guest's network
    is up, and sets it as the fact C(vbox_guest_ip).
  - Waits for it until O(timeout). A VM that is not running (or stops while waiting) fails at once, as a failure
    distinct from the timeout.
  - Behind VirtualBox's NAT the address is 10.0.2.15 and is not reachable from the host; reach the guest through a
    forwarded port (M(virtlab.core.vbox_natpf)).
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.vbox
attributes:
  check_mode:
    details: Only reads; runs the same in check mode.
  diff_mode:
    support: none
options:
  name:
    description: Name or UUID of the VM.
    type: str
    required: true
  interface:
    description: The guest's interface index as the Guest Additions number them, from 0 (not the adapter number).
    type: int
    default: 0
  wait:
    description: Wait for the address. When false, one read; RV(ip) is null when there is none yet.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the address.
    type: int
    default: 180
  poll_interval:
    description: Seconds between two reads while waiting.
    type: float
    default: 2.0
notes:
  - The guest must run the VirtualBox Guest Additions (package C(virtualbox-guest-utils) on Debian/Ubuntu,
    C(virtualbox-guest-additions) on Alpine); without them no address is ever published and the task times out.
"""

EXAMPLES = r"""
- name: Wait for the lab VM's address
  virtlab.core.vbox_guest_ip:
    name: lab-ubuntu
    timeout: 300
  delegate_to: localhost

- name: Show it
  ansible.builtin.debug:
    var: vbox_guest_ip
"""

RETURN = r"""
ip:
  description: The guest's IPv4 address, or null when O(wait=false) and there is none yet.
  returned: success
  type: str
  sample: 10.0.2.15
ansible_facts:
  description: Facts set on the host the task runs for.
  returned: success
  type: dict
  contains:
    vbox_guest_ip:
      description: Same as RV(ip).
      type: str
      sample: 10.0.2.15
actions:
  description: Always empty - the module only reads.
  returned: success
  type: list
  elements: str
  sample: []
"""

from ansible_collections.virtlab.core.plugins.module_utils.errors import OperationFailed
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.wait import wait_until
from ansible_collections.virtlab.core.plugins.module_utils.vbox.base import VBoxModule
from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import (
    SESSION_STATES,
    parse_guest_property,
)


class VBoxGuestIpModule(VBoxModule):
    """Only reads: the plan is always empty, and the read is the result."""

    argument_spec = dict(
        name=dict(type="str", required=True),
        interface=dict(type="int", default=0),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=180),
        poll_interval=dict(type="float", default=2.0),
    )

    def read_ip(self, vm):
        prop = "/VirtualBox/GuestInfo/Net/%d/V4/IP" % self.params["interface"]
        return parse_guest_property(self.vbox("guestproperty", "get", vm["uuid"], prop))

    def require_running(self, vm):
        if vm["state"] not in SESSION_STATES:
            raise OperationFailed("VM '%s' is %s: only a running VM reports an IP address" % (vm["name"], vm["state"]),
                                  vm_state=vm["state"])

    def read(self):
        """{ip}: the guest's address, waited for until ``timeout`` when ``wait``."""
        vm = self.require_vm(self.params["name"])
        self.require_running(vm)
        ip = self.read_ip(vm)
        if ip is None and self.params["wait"]:
            def probe():
                address = self.read_ip(vm)
                if address is None:
                    self.require_running(self.require_vm(vm["uuid"]))
                return address
            ip = wait_until(probe, self.params["timeout"], "the IP address of VM '%s'" % vm["name"],
                            interval=self.params["poll_interval"])
        return {"ip": ip}

    def plan(self, current):
        return Plan()

    def view(self, resource):
        return None  # nothing changes: no diff

    def result(self, after):
        return dict(ip=after["ip"], ansible_facts={"vbox_guest_ip": after["ip"]})


def main():
    VBoxGuestIpModule()()


if __name__ == "__main__":
    main()
