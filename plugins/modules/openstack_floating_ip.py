#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: openstack_floating_ip
short_description: Give an OpenStack server a floating IP from the public network
version_added: 0.1.0
description:
  - Makes sure a server's port has a floating IP from the external network O(network), so that
    the server can be reached from outside.
  - A server that already has a floating IP on that port keeps it (no second address is
    allocated). Otherwise an address is allocated from O(network) (or the project's free
    address O(floating_ip_address) is used) and associated.
  - The port is chosen by O(nat_destination) (a network name) or O(fixed_address). Without
    them, the port must be the server's only port on a network that a router joins to
    O(network), which is what a floating IP needs to work.
  - Before anything is allocated, the pool is checked; a floating IP pool that does not exist,
    or a network that is not external, fails with the list of external networks.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.openstack
options:
  server:
    description: Name or id of the server.
    type: str
    required: true
  network:
    description: Name or id of the external network (the floating IP pool).
    type: str
    default: public
  floating_ip_address:
    description:
      - A specific floating IP already allocated to the project. Left out, the server's
        current floating IP is kept, or a new one is allocated.
    type: str
  nat_destination:
    aliases: [fixed_network, internal_network]
    description: Name or id of the network of the server's port that gets the floating IP.
    type: str
  fixed_address:
    description: The server's fixed address that gets the floating IP.
    type: str
  state:
    description:
      - V(absent) disassociates the server's floating IP from O(network) and, with
        O(release=true), releases it to the pool.
    type: str
    choices: [present, absent]
    default: present
  release:
    aliases: [purge]
    description: With O(state=absent), also release (delete) the floating IP.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Reach the calculator service from outside
  virtlab.core.openstack_floating_ip:
    cloud: mylab
    server: virtlab-cs
    network: public
    nat_destination: virtlab-pn1
  register: cs_fip

- name: Its address
  ansible.builtin.debug:
    msg: "http://{{ cs_fip.floating_ip.floating_ip_address }}:50000/"
"""

RETURN = r"""
floating_ip:
  description: The server's floating IP after the task (in check mode, as it would be); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Floating IP id (absent in check mode before allocation).
      type: str
    floating_ip_address:
      description: The public address.
      type: str
      sample: 172.24.4.23
    fixed_ip_address:
      description: The server's address it forwards to.
      type: str
      sample: 10.77.1.10
    port_id:
      description: The server's port.
      type: str
    floating_network_id:
      description: The external network.
      type: str
    status:
      description: Neutron's status.
      type: str
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: ["allocate from public", "associate with 10.77.1.10"]
"""

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.openstack.base import OpenStackModule
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan


def floating_ip_view(ip):
    if ip is None:
        return {}
    return {"id": ip.id, "floating_ip_address": ip.floating_ip_address,
            "fixed_ip_address": ip.fixed_ip_address, "port_id": ip.port_id,
            "floating_network_id": ip.floating_network_id, "status": ip.status}


class OpenStackFloatingIp(OpenStackModule):
    resource_key = "floating_ip"
    argument_spec = dict(
        server=dict(type="str", required=True),
        network=dict(type="str", default="public"),
        floating_ip_address=dict(type="str"),
        nat_destination=dict(type="str", aliases=["fixed_network", "internal_network"]),
        fixed_address=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        release=dict(type="bool", default=True, aliases=["purge"]),
    )
    module_kwargs = dict(mutually_exclusive=[("nat_destination", "fixed_address")])

    def require_pool(self):
        network = self.find_network(self.params["network"])
        externals = [n.name for n in self.conn.network.networks(is_router_external=True)]
        if network is None or not network.is_router_external:
            raise VirtlabError(
                "Floating IP pool %r does not exist: it must be an external network. External "
                "networks of this cloud: %s" % (self.params["network"], ", ".join(sorted(externals))
                                                or "(none)"), network=self.params["network"])
        return network

    def reachable_from(self, pool, port):
        """Whether a router with its gateway on ``pool`` has an interface on the port's subnets."""
        subnets = set(fixed["subnet_id"] for fixed in port.fixed_ips)
        for router in self.conn.network.routers(project_id=self.project_id):
            if (router.external_gateway_info or {}).get("network_id") != pool.id:
                continue
            for router_port in self.conn.network.ports(device_id=router.id):
                if subnets & set(fixed["subnet_id"] for fixed in router_port.fixed_ips):
                    return True
        return False

    def choose_port(self, server, pool):
        ports = list(self.conn.network.ports(device_id=server.id))
        if not ports:
            raise VirtlabError("Server %s has no port" % server.name)
        if self.params["fixed_address"]:
            matching = [p for p in ports if any(f["ip_address"] == self.params["fixed_address"]
                                                for f in p.fixed_ips)]
            if not matching:
                raise VirtlabError("Server %s has no address %s (its addresses: %s)" % (
                    server.name, self.params["fixed_address"],
                    ", ".join(f["ip_address"] for p in ports for f in p.fixed_ips)))
            return matching[0]
        if self.params["nat_destination"]:
            network = self.require_network(self.params["nat_destination"])
            matching = [p for p in ports if p.network_id == network.id]
            if not matching:
                raise VirtlabError("Server %s has no port on network %s"
                                   % (server.name, self.params["nat_destination"]))
            return matching[0]
        if len(ports) == 1:
            return ports[0]
        reachable = [p for p in ports if self.reachable_from(pool, p)]
        if len(reachable) == 1:
            return reachable[0]
        raise VirtlabError(
            "Server %s has %d ports and %s joined to %s by a router: say which one gets the "
            "floating IP with nat_destination (a network) or fixed_address"
            % (server.name, len(ports), "none is" if not reachable else "several are",
               pool.name))

    # The module flow: the resource is the floating IP on the server's chosen port -------------------
    def read(self):
        """The floating IP of the pool on the server's port ({} when none, or when there is no server to
        remove it from); also finds the pool, the server and the port the plan needs."""
        params = self.params
        self.pool = self.require_pool()
        self.port = None
        if params["state"] == "absent" and self.find_server(params["server"]) is None:
            self.resource = None
            return {}
        server = self.require_server(params["server"])
        self.port = self.choose_port(server, self.pool)
        existing = [ip for ip in self.conn.network.ips(port_id=self.port.id)
                    if ip.floating_network_id == self.pool.id]
        self.resource = existing[0] if existing else None
        return floating_ip_view(self.resource)

    def plan(self, current):
        """The actions, and in ``self.planned`` the floating IP as they leave it."""
        params, pool, port = self.params, self.pool, self.port
        actions = Plan()
        if params["state"] == "absent":
            self.planned = {}
            if current:
                actions.add("disassociate")
                if params["release"]:
                    actions.add("release")
                else:
                    self.planned = dict(current, port_id=None, fixed_ip_address=None)
            return actions
        if current:
            wanted = params["floating_ip_address"]
            if wanted is None or wanted == current["floating_ip_address"]:
                return actions
            raise VirtlabError(
                "Server %s already has floating IP %s on that port; remove it (state=absent) "
                "before giving it %s" % (params["server"], current["floating_ip_address"], wanted))
        free_ip = self.requested_free_ip(pool)
        fixed = port.fixed_ips[0]["ip_address"]
        if free_ip is None:
            actions.add("allocate", pool=pool.name, text="allocate from {pool}")
        else:
            self.resource = free_ip
        actions.add("associate", fixed=fixed, text="associate with {fixed}")
        self.planned = {"floating_ip_address": free_ip.floating_ip_address if free_ip else None,
                        "fixed_ip_address": fixed, "port_id": port.id, "floating_network_id": pool.id,
                        "status": "ACTIVE"}
        if free_ip is not None:
            self.planned["id"] = free_ip.id
        return actions

    def render(self, plan):
        return plan.texts()

    def apply_allocate(self, action):
        self.resource = self.conn.network.create_ip(floating_network_id=self.pool.id)

    def apply_associate(self, action):
        self.resource = self.conn.network.update_ip(self.resource, port_id=self.port.id,
                                                    fixed_ip_address=action.details["fixed"])

    def apply_disassociate(self, action):
        self.resource = self.conn.network.update_ip(self.resource, port_id=None)

    def apply_release(self, action):
        self.conn.network.delete_ip(self.resource)
        self.resource = None

    def read_back(self, current, plan):
        return floating_ip_view(self.conn.network.get_ip(self.resource.id)) if self.resource is not None else {}

    def requested_free_ip(self, pool):
        """The project's unassociated floating IP O(floating_ip_address), or an error."""
        address = self.params["floating_ip_address"]
        if address is None:
            return None
        found = list(self.conn.network.ips(floating_ip_address=address))
        if not found:
            raise VirtlabError("Floating IP %s is not allocated to this project; allocate it "
                               "first or leave floating_ip_address out" % address)
        ip = found[0]
        if ip.floating_network_id != pool.id:
            raise VirtlabError("Floating IP %s belongs to another pool than %s"
                               % (address, self.params["network"]))
        if ip.port_id:
            raise VirtlabError("Floating IP %s is already associated with port %s (%s)"
                               % (address, ip.port_id, ip.fixed_ip_address))
        return ip


def main():
    OpenStackFloatingIp()()


if __name__ == "__main__":
    main()
