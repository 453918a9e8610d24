#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: openstack_router
short_description: Manage an OpenStack (Neutron) router, its external gateway, interfaces and routes
version_added: 0.1.0
description:
  - Creates, keeps or removes a router of the project, with its gateway on an external
    (public) network, its interfaces on subnets, and extra (static) routes.
  - Interfaces are compared as a difference between what the router has and what is
    declared. Only the missing interfaces are added and only the undeclared ones removed;
    an interface that exists is never detached and re-added.
  - An interface takes the subnet's gateway address, or its C(fixed_ip) when given
    (a port with that address is created for it);
    a subnet without a gateway (like the lab's PN2) needs a C(fixed_ip).
  - Before anything is created, the external network, the subnets and the fixed addresses are
    checked; an unknown name, a network that is not external, an address outside its subnet or
    already used fail with a message saying so.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.openstack
options:
  name:
    description: Name of the router (unique in the project).
    type: str
    required: true
  state:
    description:
      - V(absent) removes the router after removing its routes and interfaces.
    type: str
    choices: [present, absent]
    default: present
  external_network:
    aliases: [network]
    description:
      - Name or id of the external network of the router's gateway (the cloud's public
        network). Not managed when left out.
    type: str
  enable_snat:
    description:
      - Source NAT on the gateway. Most clouds let only administrators set it; not managed when
        left out.
    type: bool
  interfaces:
    description:
      - The router's interfaces. Each is a subnet name or id, or a dict with C(subnet) (name or
        id) and C(fixed_ip) (the router's address on it).
      - When given, interfaces not listed are removed. Left out, interfaces are not managed.
    type: list
    elements: raw
  routes:
    description:
      - Extra routes of the router, each a dict with C(destination) (a CIDR) and C(nexthop)
        (an address on one of its subnets). When given, the router has exactly these routes.
        Not managed when left out.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: RT1, the lab's way out, with its interface on PN1 (the subnet's gateway address)
  virtlab.core.openstack_router:
    cloud: mylab
    name: virtlab-rt1
    external_network: public
    interfaces:
      - virtlab-pn1-subnet

- name: RT2, joining PN2 (no gateway there, so a fixed address) and PN3
  virtlab.core.openstack_router:
    cloud: mylab
    name: virtlab-rt2
    interfaces:
      - {subnet: virtlab-pn2-subnet, fixed_ip: 10.77.2.1}
      - virtlab-pn3-subnet

- name: RT1 also knows where PN3 is
  virtlab.core.openstack_router:
    cloud: mylab
    name: virtlab-rt1
    routes:
      - {destination: 10.77.3.0/24, nexthop: 10.77.1.10}
"""

RETURN = r"""
router:
  description: The router as it is after the task (in check mode, as it would be); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Router id (absent in check mode before creation).
      type: str
    name:
      description: Router name.
      type: str
    status:
      description: Neutron's status.
      type: str
    external_network_id:
      description: Network of the gateway, null when there is none.
      type: str
    external_ips:
      description: Addresses of the gateway on the external network.
      type: list
      elements: str
    enable_snat:
      description: Whether source NAT is on (null without a gateway).
      type: bool
    interfaces:
      description: The router's interfaces, sorted by address.
      type: list
      elements: dict
      contains:
        subnet_id:
          description: Subnet of the interface.
          type: str
        ip_address:
          description: The router's address on it.
          type: str
          sample: 10.77.1.1
        port_id:
          description: Port of the interface (absent for one check mode would add).
          type: str
    routes:
      description: Extra routes, sorted.
      type: list
      elements: dict
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: ["create router virtlab-rt2", "add interface 10.77.2.1 on virtlab-pn2-subnet"]
"""

import copy

from ansible.module_utils.six import string_types

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.openstack.addresses import address_in, normalise_route
from ansible_collections.virtlab.core.plugins.module_utils.openstack.base import OpenStackModule
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan

INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                    "network:ha_router_replicated_interface")


def sorted_routes(routes):
    return sorted((normalise_route(r) for r in routes or []),
                  key=lambda r: (r["destination"], r["nexthop"]))


class OpenStackRouter(OpenStackModule):
    resource_key = "router"
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        external_network=dict(type="str", aliases=["network"]),
        enable_snat=dict(type="bool"),
        interfaces=dict(type="list", elements="raw"),
        routes=dict(type="list", elements="dict"),
    )

    # Declared state ------------------------------------------------------------------
    def desired_interfaces(self, router_id):
        """[{subnet_id, subnet, ip_address or None, network_id}], checked before anything changes."""
        if self.params["interfaces"] is None:
            return None
        result = []
        for index, item in enumerate(self.params["interfaces"]):
            if isinstance(item, string_types):
                item = {"subnet": item}
            if not isinstance(item, dict) or not item.get("subnet"):
                raise VirtlabError("interfaces[%d]: give a subnet name or {subnet, fixed_ip}" % index)
            unknown = set(item) - set(("subnet", "fixed_ip"))
            if unknown:
                raise VirtlabError("interfaces[%d]: unknown keys %s (subnet, fixed_ip)"
                                   % (index, ", ".join(sorted(unknown))))
            subnet = self.require_subnet(item["subnet"])
            fixed_ip = item.get("fixed_ip")
            if fixed_ip:
                if not address_in(fixed_ip, subnet.cidr):
                    raise VirtlabError("interfaces[%d]: fixed_ip %s is outside subnet %s (%s)"
                                       % (index, fixed_ip, item["subnet"], subnet.cidr))
                for port in self.conn.network.ports(network_id=subnet.network_id,
                                                    fixed_ips="ip_address=%s" % fixed_ip):
                    if port.device_id != router_id:
                        raise VirtlabError(
                            "interfaces[%d]: address %s on %s is already used by port %s (%s)"
                            % (index, fixed_ip, item["subnet"], port.id,
                               port.device_owner or "not attached"))
            elif not subnet.gateway_ip:
                raise VirtlabError(
                    "interfaces[%d]: subnet %s has no gateway address, so the router cannot take "
                    "it; give the router's address on it as fixed_ip" % (index, item["subnet"]))
            result.append({"subnet_id": subnet.id, "subnet": item["subnet"],
                           "network_id": subnet.network_id, "ip_address": fixed_ip,
                           # The subnet's gateway address is taken by attaching the subnet
                           # (Neutron keeps that address for router ports).
                           "by_subnet": not fixed_ip or fixed_ip == subnet.gateway_ip})
        return result

    def desired_gateway(self):
        if self.params["external_network"] is None:
            return None
        return self.require_network(self.params["external_network"], external=True).id

    def desired_routes(self):
        if self.params["routes"] is None:
            return None
        try:
            return sorted_routes(self.params["routes"])
        except (KeyError, ValueError) as exc:
            raise VirtlabError("routes: each route needs a destination CIDR and a nexthop "
                               "address (%s)" % exc)

    # Current state -------------------------------------------------------------------
    def find(self):
        return self.conn.network.find_router(self.params["name"], project_id=self.project_id)

    def load(self, resource):
        if resource is None:
            return None, {}
        resource = self.conn.network.get_router(resource.id)
        interfaces = []
        for port in self.conn.network.ports(device_id=resource.id):
            if port.device_owner not in INTERFACE_OWNERS:
                continue
            for fixed in port.fixed_ips:
                interfaces.append({"subnet_id": fixed["subnet_id"], "ip_address": fixed["ip_address"],
                                   "port_id": port.id})
        gateway = resource.external_gateway_info or {}
        view = {
            "id": resource.id,
            "name": resource.name,
            "status": resource.status,
            "external_network_id": gateway.get("network_id"),
            "external_ips": sorted(ip["ip_address"] for ip in gateway.get("external_fixed_ips") or []),
            "enable_snat": gateway.get("enable_snat"),
            "interfaces": sorted(interfaces, key=lambda i: (i["ip_address"], i["subnet_id"])),
            "routes": sorted_routes(resource.routes),
        }
        return resource, view

    # The one decision for check mode and the real run ----------------------------------
    @staticmethod
    def interface_delta(current, desired):
        """(to_add, to_remove): interfaces declared and missing; interfaces present and undeclared.

        A declared interface with a fixed address matches the router's port with that address
        on that subnet; one without matches any of the router's ports on the subnet.
        """
        unmatched = list(current)
        to_add = []
        for want in desired:
            match = next((have for have in unmatched if have["subnet_id"] == want["subnet_id"]
                          and want["ip_address"] in (None, have["ip_address"])), None)
            if match is None:
                to_add.append(want)
            else:
                unmatched.remove(match)
        return to_add, unmatched

    def plan(self, current):
        """The actions, and in ``self.planned`` the router as they leave it."""
        params = self.params
        actions = Plan()
        if params["state"] == "absent":
            if current:
                actions.add("delete router", routes=current["routes"], interfaces=current["interfaces"])
            self.planned = {}
            return actions
        gateway = self.desired_gateway()
        interfaces = self.desired_interfaces(self.resource.id if self.resource else None)
        routes = self.desired_routes()
        if not current:
            after = {"name": params["name"], "status": "ACTIVE", "external_network_id": None,
                     "external_ips": [], "enable_snat": None, "interfaces": [], "routes": []}
            actions.add("create router")
        else:
            after = copy.deepcopy(current)
        if differences(after, {"external_network_id": gateway, "enable_snat": params["enable_snat"]}):
            actions.add("set gateway", network_id=gateway or after["external_network_id"],
                        enable_snat=params["enable_snat"])
            if gateway:
                after["external_network_id"] = gateway
            if params["enable_snat"] is not None:
                after["enable_snat"] = params["enable_snat"]
        if interfaces is not None:
            to_add, to_remove = self.interface_delta(after["interfaces"], interfaces)
            for want in to_add:
                actions.add("add interface", **want)
            if routes is not None and differences(after, {"routes": routes}):
                actions.add("set routes", routes=routes)
                after["routes"] = routes
            for have in to_remove:
                actions.add("remove interface", **have)
            after["interfaces"] = sorted(
                [i for i in after["interfaces"] if i not in to_remove]
                + [{"subnet_id": w["subnet_id"], "ip_address": w["ip_address"]} for w in to_add],
                key=lambda i: (i["ip_address"] or "", i["subnet_id"]))
        if routes is not None and differences(after, {"routes": routes}):
            actions.add("set routes", routes=routes)
            after["routes"] = routes
        self.planned = after
        return actions

    # Acting ----------------------------------------------------------------------------
    # Router interface calls take (router, subnet, port) positionally: the keyword names
    # changed between openstacksdk releases (subnet_id/port_id, then subnet/port).
    def apply_delete_router(self, action):
        net = self.conn.network
        if action.details["routes"]:
            net.update_router(self.resource, routes=[])
        for have in action.details["interfaces"]:
            net.remove_interface_from_router(self.resource, None, have["port_id"])
        net.delete_router(self.resource)

    def apply_create_router(self, action):
        self.resource = self.conn.network.create_router(name=self.params["name"])

    def apply_set_gateway(self, action):
        info = {"network_id": action.details["network_id"]}
        if action.details["enable_snat"] is not None:
            info["enable_snat"] = action.details["enable_snat"]
        self.resource = self.conn.network.update_router(self.resource, external_gateway_info=info)

    def apply_add_interface(self, action):
        net, details = self.conn.network, action.details
        if details["by_subnet"]:
            net.add_interface_to_router(self.resource, details["subnet_id"])
            return
        port = net.create_port(
            network_id=details["network_id"], name="%s-%s" % (self.params["name"], details["subnet"]),
            fixed_ips=[{"subnet_id": details["subnet_id"], "ip_address": details["ip_address"]}])
        net.add_interface_to_router(self.resource, None, port.id)

    def apply_set_routes(self, action):
        self.resource = self.conn.network.update_router(self.resource, routes=action.details["routes"])

    def apply_remove_interface(self, action):
        self.conn.network.remove_interface_from_router(self.resource, None, action.details["port_id"])

    @staticmethod
    def describe(verb, details):
        if verb == "add interface":
            return "add interface %s on %s" % (details["ip_address"] or "(gateway address)",
                                               details["subnet"])
        if verb == "remove interface":
            return "remove interface %s" % details["ip_address"]
        if verb == "set routes":
            return "set routes %s" % ", ".join("%s via %s" % (r["destination"], r["nexthop"])
                                               for r in details["routes"]) if details["routes"] \
                else "remove all routes"
        return verb


def main():
    OpenStackRouter()()


if __name__ == "__main__":
    main()
