# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology on OpenStack: exactly the input of the openstack_* modules (no Ansible import).

The topology network that stands for the cloud's external network gets no Neutron network: routers on it take
their gateway there, and hosts that live only there (the school's ``outside``) are not servers. Topology
routers are Neutron routers (their static routes are the router's extra routes); topology nodes are servers
with one port per lab network at their topology address. The one place OpenStack's policy for the lab lives.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.virtlab.core.plugins.module_utils.topology.model import interfaces, is_router
from ansible_collections.virtlab.core.plugins.module_utils.topology.routing import routes


def free_ranges(cidr, taken):
    """The subnet's host addresses not in ``taken``, as [{start, end}] contiguous ranges.

    Used as a subnet's allocation pools: Neutron's DHCP port (and any port without a fixed address) then never
    takes an address the topology gives a router or a server - on a subnet without a gateway, Neutron's default
    pool starts at the first address, which the DHCP port would take.
    """
    subnet = ipaddress.ip_network(cidr)
    taken = set(ipaddress.ip_address(str(a)) for a in taken)
    ranges, start, previous = [], None, None
    for address in subnet.hosts():
        if address in taken:
            if start is not None:
                ranges.append({"start": str(start), "end": str(previous)})
            start = None
            continue
        if start is None:
            start = address
        previous = address
    if start is not None:
        ranges.append({"start": str(start), "end": str(previous)})
    return ranges


def openstack_lab(topology, prefix="virtlab-", external_topology_network="public", external_network="public",
                  floating_ip_hosts=(), dns_nameservers=None):
    """{networks: [...], routers: {host: ...}, servers: {host: ...}, jump_host}.

    ``networks``: openstack_network options (name, subnets) for every lab network but the external one.
    ``routers``: per topology router, openstack_router options (name, external_network, interfaces, routes).
    ``servers``: per topology node with a lab network, openstack_server's name and networks, and whether it gets
    a floating IP (``floating_ip``: it is in ``floating_ip_hosts``). ``jump_host``: the first of
    ``floating_ip_hosts`` that is a server, through which Ansible reaches servers without a floating IP.
    """
    lab_networks = dict((name, spec) for name, spec in (topology.get("networks") or {}).items()
                        if name != external_topology_network)
    hosts = sorted(list(topology.get("routers") or {}) + list(topology.get("nodes") or {}))
    used = dict((name, []) for name in lab_networks)
    for host in hosts:
        for interface in interfaces(topology, host):
            if interface["network"] in used:
                used[interface["network"]].append(interface["address"])

    networks = []
    for name, spec in sorted(lab_networks.items()):
        gateway = spec.get("gateway")
        networks.append({
            "name": prefix + name,
            "subnets": [{
                "name": "%s%s-subnet" % (prefix, name),
                "cidr": str(ipaddress.ip_network(spec["cidr"])),
                "gateway_ip": gateway,
                "no_gateway": gateway is None,
                "dns_nameservers": list(dns_nameservers or []),
                "allocation_pools": free_ranges(spec["cidr"], used[name] + ([gateway] if gateway else [])),
            }],
        })

    routers, servers = {}, {}
    for host in hosts:
        own = interfaces(topology, host)
        lab = [i for i in own if i["network"] != external_topology_network]
        on_external = len(lab) != len(own)
        if is_router(topology, host):
            routers[host] = {
                "name": prefix + host,
                "external_network": external_network if on_external else None,
                "interfaces": [{"subnet": "%s%s-subnet" % (prefix, i["network"]), "fixed_ip": i["address"]}
                               for i in lab],
                "routes": [{"destination": r["dest"], "nexthop": r["via"]} for r in routes(topology, host)
                           if r["network"] != external_topology_network],
            }
        elif lab:
            servers[host] = {
                "name": prefix + host,
                "networks": [{"network": prefix + i["network"], "fixed_ip": i["address"]} for i in lab],
                "floating_ip": host in floating_ip_hosts,
            }
    jump_host = next((host for host in floating_ip_hosts if host in servers), None)
    return {"networks": networks, "routers": routers, "servers": servers, "jump_host": jump_host}
