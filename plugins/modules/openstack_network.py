#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: openstack_network
short_description: Manage an OpenStack (Neutron) network together with its subnets
version_added: 0.1.0
description:
  - Creates, keeps or removes a project network and the subnets declared with it, each with
    its CIDR, DHCP, DNS servers, and a gateway address or none at all (a network whose hosts
    must not take their default route from it, like the lab's PN2).
  - Subnets are matched by CIDR. A declared subnet that is missing is created; its name,
    DHCP, DNS servers and gateway are updated in place when they differ. Subnets that are
    not declared are left alone unless O(purge_subnets=true).
  - Before anything is created, the CIDRs are checked against every subnet this project can
    see; a CIDR overlapping another network's subnet fails with the names of both.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.openstack
options:
  name:
    description: Name of the network (unique in the project).
    type: str
    required: true
  state:
    description:
      - V(absent) removes the network and its subnets; Neutron refuses while ports (servers,
        router interfaces) still use it.
    type: str
    choices: [present, absent]
    default: present
  mtu:
    aliases: [mtu_size]
    description: MTU of the network. The cloud's default when left out, and then not compared.
    type: int
  port_security_enabled:
    description: Default port security of the network's ports. Not compared when left out.
    type: bool
  subnets:
    description:
      - The network's subnets. Existing subnets that are not declared here are kept, unless
        O(purge_subnets=true).
    type: list
    elements: dict
    default: []
    suboptions:
      cidr:
        description: The subnet's range, for example V(10.77.1.0/24). Identifies the subnet.
        type: str
        required: true
      name:
        description: Name of the subnet. Defaults to the network's name followed by V(-subnet).
        type: str
      gateway_ip:
        description:
          - Gateway address announced by DHCP. Neutron takes the first address of the range
            when it is left out (and it is then not compared).
        type: str
      no_gateway:
        aliases: [disable_gateway_ip]
        description:
          - The subnet has no gateway at all (hosts get no default route from it).
        type: bool
        default: false
      enable_dhcp:
        aliases: [is_dhcp_enabled]
        description: Whether Neutron serves DHCP on the subnet.
        type: bool
        default: true
      dns_nameservers:
        description: DNS servers announced by DHCP, in order of preference. Not compared when left out.
        type: list
        elements: str
      allocation_pools:
        description:
          - The address ranges Neutron hands out to ports (DHCP, servers without a fixed address). Not compared
            when left out; Neutron then uses the whole range but the gateway address.
          - On a subnet without a gateway Neutron's default pool starts at the first address, which the DHCP port
            takes; give a pool that leaves out the addresses you assign yourself (a router's, a server's).
        type: list
        elements: dict
        version_added: 0.3.0
        suboptions:
          start:
            description: First address of the range.
            type: str
            required: true
          end:
            description: Last address of the range.
            type: str
            required: true
  purge_subnets:
    description: Delete the network's subnets that O(subnets) does not declare.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: PN1, the calculator's network; its router (RT1) takes the gateway address
  virtlab.core.openstack_network:
    cloud: mylab
    name: virtlab-pn1
    subnets:
      - cidr: 10.77.1.0/24
        gateway_ip: 10.77.1.1
        dns_nameservers: [9.9.9.9]

- name: PN2, with no gateway (the CS's default route goes through PN1)
  virtlab.core.openstack_network:
    cloud: mylab
    name: virtlab-pn2
    subnets:
      - cidr: 10.77.2.0/24
        no_gateway: true

- name: Remove it
  virtlab.core.openstack_network:
    cloud: mylab
    name: virtlab-pn2
    state: absent
"""

RETURN = r"""
network:
  description: The network as it is after the task (in check mode, as it would be); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Network id (absent in check mode before creation).
      type: str
    name:
      description: Network name.
      type: str
      sample: virtlab-pn1
    status:
      description: Neutron's status of the network.
      type: str
      sample: ACTIVE
    mtu:
      description: MTU.
      type: int
      sample: 1450
    port_security_enabled:
      description: Default port security.
      type: bool
    subnets:
      description: The network's subnets, sorted by CIDR.
      type: list
      elements: dict
      contains:
        id:
          description: Subnet id.
          type: str
        name:
          description: Subnet name.
          type: str
        cidr:
          description: Range.
          type: str
          sample: 10.77.1.0/24
        gateway_ip:
          description: Gateway address, null when the subnet has none.
          type: str
        enable_dhcp:
          description: Whether DHCP is on.
          type: bool
        dns_nameservers:
          description: DNS servers.
          type: list
          elements: str
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: ["create network virtlab-pn1", "create subnet 10.77.1.0/24"]
"""

import copy
import ipaddress

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.openstack.addresses import (
    address_in,
    normalise_cidr,
    overlapping,
)
from ansible_collections.virtlab.core.plugins.module_utils.openstack.base import OpenStackModule
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan


def subnet_view(subnet):
    return {
        "id": subnet.id,
        "name": subnet.name,
        "cidr": subnet.cidr,
        "gateway_ip": subnet.gateway_ip,
        "enable_dhcp": subnet.is_dhcp_enabled,
        "dns_nameservers": list(subnet.dns_nameservers or []),
        "allocation_pools": sorted_pools(subnet.allocation_pools),
    }


def sorted_pools(pools):
    """Allocation pools as [{start, end}] sorted by start address, in one comparable form."""
    return sorted(({"start": str(pool["start"]), "end": str(pool["end"])} for pool in pools or []),
                  key=lambda pool: ipaddress.ip_address(pool["start"]))


def network_view(network, subnets):
    if network is None:
        return {}
    return {
        "id": network.id,
        "name": network.name,
        "status": network.status,
        "mtu": network.mtu,
        "port_security_enabled": network.is_port_security_enabled,
        "subnets": sorted((subnet_view(s) for s in subnets), key=lambda s: s["cidr"]),
    }


class OpenStackNetwork(OpenStackModule):
    resource_key = "network"
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        mtu=dict(type="int", aliases=["mtu_size"]),
        port_security_enabled=dict(type="bool"),
        subnets=dict(type="list", elements="dict", default=[], options=dict(
            cidr=dict(type="str", required=True),
            name=dict(type="str"),
            gateway_ip=dict(type="str"),
            no_gateway=dict(type="bool", default=False, aliases=["disable_gateway_ip"]),
            enable_dhcp=dict(type="bool", default=True, aliases=["is_dhcp_enabled"]),
            dns_nameservers=dict(type="list", elements="str"),
            allocation_pools=dict(type="list", elements="dict", options=dict(
                start=dict(type="str", required=True),
                end=dict(type="str", required=True),
            )),
        )),
        purge_subnets=dict(type="bool", default=False),
    )

    # Declared state ------------------------------------------------------------------
    def desired_subnets(self):
        """The declared subnets, validated and normalised, before any API call changes anything."""
        result = []
        for index, spec in enumerate(self.params["subnets"]):
            try:
                cidr = normalise_cidr(spec["cidr"])
            except ValueError as exc:
                raise VirtlabError("subnets[%d]: %s" % (index, exc))
            if spec["no_gateway"] and spec["gateway_ip"]:
                raise VirtlabError("subnets[%d] (%s): give gateway_ip or no_gateway=true, not both"
                                   % (index, cidr))
            if spec["gateway_ip"]:
                try:
                    inside = address_in(spec["gateway_ip"], cidr)
                except ValueError:
                    raise VirtlabError("subnets[%d]: gateway_ip %r is not an IP address"
                                       % (index, spec["gateway_ip"]))
                if not inside:
                    raise VirtlabError("subnets[%d]: gateway_ip %s is outside %s"
                                       % (index, spec["gateway_ip"], cidr))
            pools = None
            if spec["allocation_pools"] is not None:
                try:
                    pools = sorted_pools(spec["allocation_pools"])
                    outside = [p for p in pools for a in (p["start"], p["end"]) if not address_in(a, cidr)]
                except ValueError as exc:
                    raise VirtlabError("subnets[%d]: allocation_pools: %s" % (index, exc))
                if outside:
                    raise VirtlabError("subnets[%d]: allocation pool %s-%s is outside %s"
                                       % (index, outside[0]["start"], outside[0]["end"], cidr))
            result.append({
                "cidr": cidr,
                "allocation_pools": pools,
                "name": spec["name"] or "%s-subnet" % self.params["name"],
                "enable_dhcp": spec["enable_dhcp"],
                "dns_nameservers": spec["dns_nameservers"],
                "gateway_ip": spec["gateway_ip"],
                "no_gateway": spec["no_gateway"],
            })
        for index, subnet in enumerate(result):
            clash = overlapping(subnet["cidr"], [(other["cidr"], other["cidr"])
                                                 for other in result[:index]])
            if clash:
                raise VirtlabError("subnets: %s overlaps %s, declared on the same network"
                                   % (subnet["cidr"], clash[0][1]))
        return result

    def check_overlaps(self, network_id, new_subnets):
        """Fail when a subnet to create overlaps a subnet of another network this project sees."""
        if not new_subnets:
            return
        others = []
        names = {}
        for subnet in self.conn.network.subnets():
            if subnet.network_id == network_id:
                continue
            if subnet.network_id not in names:
                other = self.conn.network.get_network(subnet.network_id)
                names[subnet.network_id] = other.name
            others.append(("subnet %s of network %s" % (subnet.name or subnet.id,
                                                        names[subnet.network_id]), subnet.cidr))
        for subnet in new_subnets:
            clash = overlapping(subnet["cidr"], others)
            if clash:
                raise VirtlabError(
                    "CIDR %s of network %s overlaps %s (%s). Choose a range no other network of "
                    "this project uses" % (subnet["cidr"], self.params["name"], clash[0][0],
                                           clash[0][1]), cidr=subnet["cidr"])

    # The one decision for check mode and the real run ----------------------------------
    def plan(self, current):
        """The actions, and in ``self.planned`` the network as they leave it."""
        params = self.params
        actions = Plan()
        if params["state"] == "absent":
            if current:
                actions.add("delete network")
            self.planned = {}
            return actions
        desired_subnets = self.desired_subnets()
        if not current:
            after = {"name": params["name"], "status": "ACTIVE", "mtu": params["mtu"],
                     "port_security_enabled": params["port_security_enabled"], "subnets": []}
            actions.add("create network")
        else:
            after = copy.deepcopy(current)
            updates = differences(current, {"mtu": params["mtu"],
                                            "port_security_enabled": params["port_security_enabled"]})
            if updates:
                actions.add("update network", **dict((k, v[1]) for k, v in updates.items()))
                after.update(dict((k, v[1]) for k, v in updates.items()))
        have = dict((s["cidr"], s) for s in after["subnets"])
        for want in desired_subnets:
            existing = have.get(want["cidr"])
            if existing is None:
                actions.add("create subnet", **want)
                have[want["cidr"]] = {"id": None, "name": want["name"], "cidr": want["cidr"],
                                      "gateway_ip": want["gateway_ip"], "enable_dhcp": want["enable_dhcp"],
                                      "dns_nameservers": want["dns_nameservers"] or [],
                                      "allocation_pools": want["allocation_pools"] or []}
                continue
            wanted = dict((key, want[key]) for key in ("name", "enable_dhcp", "dns_nameservers",
                                                       "allocation_pools"))
            wanted["gateway_ip"] = want["gateway_ip"]
            updates = dict((k, v[1]) for k, v in differences(existing, wanted).items())
            if want["no_gateway"] and existing["gateway_ip"] is not None:
                updates["gateway_ip"] = None
            if updates:
                actions.add("update subnet", **dict(updates, id=existing["id"], cidr=want["cidr"]))
                existing.update(updates)
        if params["purge_subnets"] and params["subnets"] is not None:
            declared = set(s["cidr"] for s in desired_subnets)
            for cidr in sorted(have):
                if cidr not in declared:
                    actions.add("delete subnet", id=have[cidr]["id"], cidr=cidr)
                    del have[cidr]
        after["subnets"] = [have[cidr] for cidr in sorted(have)]
        self.check_overlaps(self.resource.id if self.resource else None,
                            [a.details for a in actions if a.verb == "create subnet"])
        self.planned = after
        return actions

    # Acting ----------------------------------------------------------------------------
    def apply_delete_network(self, action):
        self.conn.network.delete_network(self.resource)

    def apply_create_network(self, action):
        attrs = dict(name=self.params["name"])
        for option in ("mtu", "port_security_enabled"):
            if self.params[option] is not None:
                attrs[option] = self.params[option]
        self.resource = self.conn.network.create_network(**attrs)

    def apply_update_network(self, action):
        self.resource = self.conn.network.update_network(self.resource, **action.details)

    def apply_create_subnet(self, action):
        details = action.details
        attrs = dict(network_id=self.resource.id, name=details["name"], cidr=details["cidr"],
                     ip_version=4 if "." in details["cidr"] else 6, enable_dhcp=details["enable_dhcp"])
        if details["dns_nameservers"] is not None:
            attrs["dns_nameservers"] = details["dns_nameservers"]
        if details["allocation_pools"] is not None:
            attrs["allocation_pools"] = details["allocation_pools"]
        if details["no_gateway"]:
            attrs["gateway_ip"] = None
        elif details["gateway_ip"]:
            attrs["gateway_ip"] = details["gateway_ip"]
        self.conn.network.create_subnet(**attrs)

    def apply_update_subnet(self, action):
        changes = dict((k, v) for k, v in action.details.items() if k not in ("id", "cidr"))
        self.conn.network.update_subnet(action.details["id"], **changes)

    def apply_delete_subnet(self, action):
        self.conn.network.delete_subnet(action.details["id"])

    @staticmethod
    def describe(verb, details):
        if verb == "update subnet":
            changed = sorted(k for k in details if k not in ("id", "cidr"))
            return "update subnet %s (%s)" % (details["cidr"], ", ".join(changed))
        if verb.endswith("subnet"):
            return "%s %s" % (verb, details["cidr"])
        if verb == "update network":
            return "update network (%s)" % ", ".join(sorted(details))
        return verb

    def find(self):
        return self.conn.network.find_network(self.params["name"], project_id=self.project_id)

    def load(self, resource):
        if resource is None:
            return None, {}
        resource = self.conn.network.get_network(resource.id)
        subnets = list(self.conn.network.subnets(network_id=resource.id))
        return resource, network_view(resource, subnets)


def main():
    OpenStackNetwork()()


if __name__ == "__main__":
    main()
