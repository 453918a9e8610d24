#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vbox_natpf
short_description: Declare the NAT port-forwarding rules of a VirtualBox VM's adapter
version_added: 0.1.0
description:
  - Makes the port-forwarding rules of one NAT adapter of a VM match a declared list, adding and removing only the
    difference. A rule whose name exists with other values is replaced.
  - Works on a running VM (C(controlvm natpfN)) as well as on a stopped one (C(modifyvm --natpfN)).
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
  nic:
    description: Number of the NAT adapter (1 to 8).
    type: int
    default: 1
  rules:
    description:
      - The rules, each as VirtualBox writes them, C(name,proto,hostip,hostport,guestip,guestport), for example
        V(ssh,tcp,,2222,,22). An empty host IP listens on every host address; an empty guest IP is the guest's
        NAT address.
      - Rules are matched by name; the protocol is compared lower-case and the ports as numbers.
      - VirtualBox forwards a host port once per adapter and protocol and host IP; two rules for the same one are
        refused before anything changes, naming the rule that holds the port.
    type: list
    elements: str
    required: true
  exclusive:
    description:
      - When true, rules of the adapter that are not declared are removed.
      - When false, declared rules are added or replaced and the others are kept.
    type: bool
    default: true
notes:
  - VirtualBox 7.0.0 omits the rules from C(showvminfo --machinereadable) when an adapter has more than one. The
    module then finds a declared rule's name taken when adding it, and replaces that rule, so it still converges
    (reporting a change each time), but cannot see undeclared rules to remove them.
"""

EXAMPLES = r"""
- name: Reach the NAT VM's SSH server on the host's port 2222
  virtlab.core.vbox_natpf:
    name: lab-ubuntu
    rules:
      - ssh,tcp,,2222,,22
  delegate_to: localhost

- name: Add the calculator's port without touching other rules
  virtlab.core.vbox_natpf:
    name: lab-ubuntu
    rules:
      - calculator,tcp,127.0.0.1,50000,,50000
    exclusive: false
  delegate_to: localhost
"""

RETURN = r"""
rules:
  description: The adapter's rules after the task (in check mode, as they would be), normalised.
  returned: success
  type: list
  elements: str
  sample: ["ssh,tcp,,2222,,22"]
added:
  description: Rules added (or that would be).
  returned: success
  type: list
  elements: str
removed:
  description: Rules removed (or that would be); a replaced rule appears in both lists.
  returned: success
  type: list
  elements: str
vm_state:
  description: The VM's state, which decided between controlvm and modifyvm.
  returned: success
  type: str
  sample: running
actions:
  description: What the task did or, in check mode, would do.
  returned: success
  type: list
  elements: str
  sample: ["added ssh,tcp,,2222,,22"]
"""

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import list_delta
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.vbox.base import VBoxManageError, VBoxModule
from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import (
    SESSION_STATES,
    format_forwarding_rule,
    parse_forwarding_rule,
)


def rule_name(rule):
    return rule.split(",", 1)[0]


def host_side(rule):
    """(proto, host IP, host port): what one NAT engine forwards once only."""
    fields = rule.split(",")
    return fields[1], fields[2], fields[3]


def describe_host_side(rule):
    proto, host_ip, port = host_side(rule)
    return "host port %s/%s on %s" % (port, proto, host_ip or "every host address")


def port_conflict(rule, others, where):
    """The failure for ``rule`` when one of ``others`` (another name) already forwards its host port, else None."""
    for other in others:
        if rule_name(other) != rule_name(rule) and host_side(other) == host_side(rule):
            return VirtlabError(
                "NAT rule %s cannot be added: %s is already forwarded by rule %s (%s) %s. VirtualBox forwards a host "
                "port only once per adapter: remove that rule (exclusive=true removes undeclared rules) or choose "
                "another host port" % (rule, describe_host_side(rule), rule_name(other), other, where),
                rule=rule, conflicting_rule=other)
    return None


class VBoxNatpfModule(VBoxModule):
    argument_spec = dict(
        name=dict(type="str", required=True),
        nic=dict(type="int", default=1),
        rules=dict(type="list", elements="str", required=True),
        exclusive=dict(type="bool", default=True),
    )

    def desired_rules(self):
        """The declared rules, normalised; a rule that does not parse fails naming it."""
        if not 1 <= self.params["nic"] <= 8:
            raise VirtlabError("nic must be an adapter number from 1 to 8, not %s" % self.params["nic"])
        rules = []
        for rule in self.params["rules"]:
            try:
                rules.append(format_forwarding_rule(parse_forwarding_rule(rule)))
            except ValueError as exc:
                raise VirtlabError("NAT rule %r is not valid: %s" % (rule, exc), rule=rule)
        names = [rule_name(rule) for rule in rules]
        duplicates = sorted(set(name for name in names if names.count(name) > 1))
        if duplicates:
            raise VirtlabError("NAT rule names must be unique; declared more than once: %s" % ", ".join(duplicates))
        for index, rule in enumerate(rules):
            conflict = port_conflict(rule, rules[:index], "in the declared rules")
            if conflict:
                raise conflict
        return rules

    def read(self):
        """{rules, vm}: the adapter's rules and the VM (whose state decides between controlvm and modifyvm)."""
        self.want = self.desired_rules()
        vm = self.require_vm(self.params["name"])
        nic = str(self.params["nic"])
        kind = vm["nics"].get(nic, "none")
        if kind != "nat":
            raise VirtlabError("Adapter %s of VM '%s' is not in NAT mode (it is %s): port forwarding applies to NAT "
                               "adapters only" % (nic, vm["name"], kind), vm=vm)
        return {"rules": vm["forwarding"].get(nic, []), "vm": vm}

    def plan(self, current):
        """The one decision, for check mode and the real run: the rules to delete, then the rules to add, each
        through controlvm when a session holds the VM (``live``), else modifyvm."""
        to_add, to_remove = list_delta(current["rules"], self.want)
        if not self.params["exclusive"]:
            declared = set(rule_name(rule) for rule in self.want)
            to_remove = [rule for rule in to_remove if rule_name(rule) in declared]
        vm = current["vm"]
        where = dict(vm=vm["name"], live=vm["state"] in SESSION_STATES)
        plan = Plan()
        for rule in to_remove:
            plan.add("delete", rule_name(rule), text="removed {rule}", rule=rule, **where)
        kept = [rule for rule in current["rules"] if rule not in to_remove]
        for rule in to_add:
            conflict = port_conflict(rule, kept, "on adapter %s of VM '%s'" % (self.params["nic"], vm["name"]))
            if conflict:
                raise conflict
            plan.add("add", rule_name(rule), text="added {rule}", rule=rule, **where)
        if plan and not where["live"]:
            self.require_mutable(vm, "change the NAT port forwarding of adapter %s" % self.params["nic"])
        return plan

    @staticmethod
    def delta(plan):
        return dict(added=[action.details["rule"] for action in plan if action.verb == "add"],
                    removed=[action.details["rule"] for action in plan if action.verb == "delete"])

    def expected(self, current, plan):
        delta = self.delta(plan)
        rules = [rule for rule in current["rules"] if rule not in delta["removed"]] + delta["added"]
        return dict(current, rules=rules, **delta)

    def read_back(self, current, plan):
        vm = self.require_vm(current["vm"]["uuid"])
        return dict(rules=vm["forwarding"].get(str(self.params["nic"]), []), vm=vm, **self.delta(plan))

    def view(self, resource):
        return {"rules": resource["rules"]}

    def result(self, after):
        return dict(rules=after["rules"], added=after["added"], removed=after["removed"], vm_state=after["vm"]["state"])

    # Acting: one method per verb --------------------------------------------------
    def nat_rule(self, action, *words):
        nic = self.params["nic"]
        if action.details["live"]:
            self.vbox("controlvm", action.details["vm"], "natpf%d" % nic, *words)
        else:
            self.vbox("modifyvm", action.details["vm"], "--natpf%d" % nic, *words)

    def apply_delete(self, action):
        self.nat_rule(action, "delete", action.target)

    def apply_add(self, action):
        try:
            self.nat_rule(action, action.details["rule"])
        except VBoxManageError as exc:
            if exc.kind == "host_port_taken":  # held by a rule showvminfo did not list (VirtualBox 7.0.0)
                raise VirtlabError(
                    "NAT rule %s cannot be added: %s is already forwarded by another rule of adapter %s of VM '%s' "
                    "(one this VirtualBox does not list). Choose another host port, or remove the adapter's rules "
                    "(VBoxManage showvminfo then controlvm/modifyvm natpf delete). VirtualBox said: %s"
                    % (action.details["rule"], describe_host_side(action.details["rule"]), self.params["nic"],
                       action.details["vm"], exc.msg), rule=action.details["rule"])
            if exc.kind != "rule_exists":
                raise
            # The name is taken by a rule showvminfo did not list (VirtualBox 7.0.0): replace it.
            self.apply_delete(action)
            self.nat_rule(action, action.details["rule"])


def main():
    VBoxNatpfModule()()


if __name__ == "__main__":
    main()
