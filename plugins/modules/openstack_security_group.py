#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: openstack_security_group
short_description: Manage an OpenStack security group with its rules declared inline
version_added: 0.1.0
description:
  - Creates, keeps or removes a security group of the project, and the rules declared in
    O(rules).
  - Rules are normalised before they are compared, so every spelling of the same rule is the
    same rule; a port range of V(-1), none, or V(1-65535) means any port, V(6) is V(tcp), a
    remote prefix V(10.0.0.5) is V(10.0.0.5/32) and V(0.0.0.0/0) is any address. A declared
    rule that already exists is never created again (no 409 Conflict), and a second run
    reports no change.
  - Neutron never updates a rule. A declared rule that is missing is created; undeclared
    rules (such as the two egress rules Neutron adds to a new group) are deleted only with
    O(purge_rules=true).
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.openstack
options:
  name:
    description: Name of the security group (unique in the project).
    type: str
    required: true
  description:
    description: Description of the group. Not compared when left out.
    type: str
  state:
    description: Whether the group should exist.
    type: str
    choices: [present, absent]
    default: present
  rules:
    description: Rules the group must have.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description:
          - V(tcp), V(udp), V(icmp), another protocol name, its number, or V(any) (the default).
        type: str
      ports:
        description:
          - A port (V(22)) or a range (V(50000-50050)) for TCP, UDP or SCTP; V(any) or left
            out for every port. For ICMP, use O(rules[].port_range_min) (type) and
            O(rules[].port_range_max) (code) instead.
        type: str
      port_range_min:
        description: First port of the range (ICMP type). V(-1) means any.
        type: int
      port_range_max:
        description: Last port of the range (ICMP code). V(-1) means any.
        type: int
      remote_ip_prefix:
        description: Addresses the rule admits (an address or a CIDR). Any address when left out.
        type: str
      remote_group:
        description:
          - Name or id of a security group whose members the rule admits (instead of
            O(rules[].remote_ip_prefix)). The group's own name refers to itself.
        type: str
      direction:
        description: Traffic direction.
        type: str
        choices: [ingress, egress]
        default: ingress
      ethertype:
        aliases: [ether_type]
        description: IP version. Follows O(rules[].remote_ip_prefix) when that is given.
        type: str
        choices: [IPv4, IPv6]
  purge_rules:
    description: Delete the group's rules that O(rules) does not declare.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The lab's rules - SSH, ping, and the calculator's ports
  virtlab.core.openstack_security_group:
    cloud: mylab
    name: virtlab-lab
    description: SSH, ICMP and TCP 50000-50050
    rules:
      - {protocol: tcp, ports: "22"}
      - {protocol: icmp}
      - {protocol: tcp, ports: "50000-50050"}
      - {protocol: any, remote_group: virtlab-lab}

- name: Exactly these rules, nothing else (egress included)
  virtlab.core.openstack_security_group:
    cloud: mylab
    name: virtlab-locked
    purge_rules: true
    rules:
      - {protocol: tcp, ports: "22", remote_ip_prefix: 192.0.2.0/24}
      - {direction: egress, protocol: tcp, ports: "443"}
"""

RETURN = r"""
security_group:
  description: The group as it is after the task (in check mode, as it would be); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Group id (absent in check mode before creation).
      type: str
    name:
      description: Group name.
      type: str
    description:
      description: Group description.
      type: str
    rules:
      description: The group's rules, normalised (any port, protocol or address is null).
      type: list
      elements: dict
      contains:
        id:
          description: Rule id (absent for rules check mode would create).
          type: str
        direction:
          description: V(ingress) or V(egress).
          type: str
        ethertype:
          description: V(IPv4) or V(IPv6).
          type: str
        protocol:
          description: Protocol name, null for any.
          type: str
        port_range_min:
          description: First port (ICMP type), null for any.
          type: int
        port_range_max:
          description: Last port (ICMP code), null for any.
          type: int
        remote_ip_prefix:
          description: Admitted prefix, null for any.
          type: str
        remote_group_id:
          description: Admitted group, if any.
          type: str
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: ["create security group virtlab-lab", "create rule ingress IPv4 tcp 22 from 0.0.0.0/0"]
"""

import copy

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.openstack.base import OpenStackModule
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.openstack.rules import (
    describe_rule,
    normalise_rule,
    rule_delta,
    rule_key,
)

SELF = "<this group>"


def rule_from_api(rule):
    return normalise_rule({
        "direction": rule.direction, "ethertype": rule.ether_type, "protocol": rule.protocol,
        "port_range_min": rule.port_range_min, "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix, "remote_group_id": rule.remote_group_id,
    })


def sorted_rules(rules):
    return sorted(rules, key=lambda rule: repr(rule_key(rule)))


class OpenStackSecurityGroup(OpenStackModule):
    resource_key = "security_group"
    argument_spec = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        rules=dict(type="list", elements="dict", default=[], options=dict(
            protocol=dict(type="str"),
            ports=dict(type="str"),
            port_range_min=dict(type="int"),
            port_range_max=dict(type="int"),
            remote_ip_prefix=dict(type="str"),
            remote_group=dict(type="str"),
            direction=dict(type="str", default="ingress", choices=["ingress", "egress"]),
            ethertype=dict(type="str", choices=["IPv4", "IPv6"], aliases=["ether_type"]),
        )),
        purge_rules=dict(type="bool", default=False),
    )

    def desired_rules(self, group):
        """The declared rules, normalised; remote groups resolved to ids (SELF before creation)."""
        result = []
        for index, spec in enumerate(self.params["rules"]):
            spec = dict(spec)
            remote = spec.pop("remote_group")
            if remote is not None:
                if remote in (self.params["name"], group and group.id):
                    spec["remote_group_id"] = group.id if group else SELF
                else:
                    spec["remote_group_id"] = self.require_security_group(remote).id
            try:
                result.append(normalise_rule(spec))
            except ValueError as exc:
                raise VirtlabError("rules[%d]: %s" % (index, exc), rule=self.params["rules"][index])
        return result

    def find(self):
        return self.conn.network.find_security_group(self.params["name"], project_id=self.project_id)

    def load(self, resource):
        if resource is None:
            self.current_rules = []
            return None, {}
        resource = self.conn.network.get_security_group(resource.id)
        rules = [(rule.id, rule_from_api(rule))
                 for rule in self.conn.network.security_group_rules(security_group_id=resource.id)]
        view = {"id": resource.id, "name": resource.name, "description": resource.description,
                "rules": sorted_rules([dict(rule, id=rule_id) for rule_id, rule in rules])}
        self.current_rules = rules
        return resource, view

    # The one decision for check mode and the real run ----------------------------------
    def plan(self, current):
        """The actions, and in ``self.planned`` the group as they leave it."""
        actions = Plan()
        if self.params["state"] == "absent":
            if current:
                actions.add("delete security group")
            self.planned = {}
            return actions
        current_rules = self.current_rules
        desired = self.desired_rules(self.resource)
        if not current:
            after = {"name": self.params["name"], "description": self.params["description"] or "",
                     "rules": []}
            actions.add("create security group")
        else:
            after = copy.deepcopy(current)
            if differences(current, {"description": self.params["description"]}):
                actions.add("update description", description=self.params["description"])
                after["description"] = self.params["description"]
        to_create, to_delete = rule_delta(current_rules, desired, self.params["purge_rules"])
        deleted = set(rule_id for rule_id, _rule in to_delete)
        for rule_id, rule in to_delete:
            actions.add("delete rule", id=rule_id, rule=rule)
        for rule in to_create:
            actions.add("create rule", rule=rule)
        after["rules"] = sorted_rules([r for r in after["rules"] if r.get("id") not in deleted]
                                      + [dict(rule) for rule in to_create])
        self.planned = after
        return actions

    def apply_delete_security_group(self, action):
        self.conn.network.delete_security_group(self.resource)

    def apply_create_security_group(self, action):
        self.resource = self.conn.network.create_security_group(name=self.params["name"],
                                                                description=self.params["description"] or "")

    def apply_update_description(self, action):
        self.resource = self.conn.network.update_security_group(self.resource,
                                                                description=action.details["description"])

    def apply_delete_rule(self, action):
        self.conn.network.delete_security_group_rule(action.details["id"])

    def apply_create_rule(self, action):
        rule, group = action.details["rule"], self.resource
        attrs = dict(security_group_id=group.id, direction=rule["direction"], ether_type=rule["ethertype"])
        for key in ("protocol", "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id"):
            if rule[key] is not None:
                attrs[key] = group.id if rule[key] == SELF else rule[key]
        self.conn.network.create_security_group_rule(**attrs)

    @staticmethod
    def describe(verb, details):
        if verb.endswith(" rule"):
            return "%s %s" % (verb, describe_rule(details["rule"]))
        return verb


def main():
    OpenStackSecurityGroup()()


if __name__ == "__main__":
    main()
