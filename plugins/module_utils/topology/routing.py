# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routes and addresses derived from the topology: the static routes each host needs, the networks it
reaches, and the address it dials for each service (no Ansible import)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.virtlab.core.plugins.module_utils.topology.model import _hosts


def routes(topology, host):
    """Static routes ``host`` needs: [{dest: CIDR, via: ADDRESS, network: NAME}] sorted by dest.

    Breadth-first search over networks joined by routers. The first hop out of each of the
    host's networks is a router on that network (never the host itself); its address on
    that network is the gateway for everything found behind it.
    """
    hosts = _hosts(topology)
    own = set(hosts[host][1]["interfaces"])
    routers = dict((name, spec["interfaces"]) for name, (is_router, spec) in hosts.items()
                   if is_router and name != host)
    # Frontier entries: (network, next hop address on one of our networks).
    frontier = []
    visited = set(own)
    found = {}
    for network in sorted(own):
        for router in sorted(routers):
            ifaces = routers[router]
            if network in ifaces:
                frontier.append((router, str(ifaces[network])))
    expanded = set()
    while frontier:
        next_frontier = []
        for router, via in frontier:
            if router in expanded:
                continue
            expanded.add(router)
            for network in sorted(routers[router]):
                if network in visited:
                    continue
                visited.add(network)
                found[network] = via
                for other in sorted(routers):
                    if other not in expanded and network in routers[other]:
                        next_frontier.append((other, via))
        frontier = next_frontier
    return sorted(
        ({"dest": str(ipaddress.ip_network(topology["networks"][n]["cidr"])), "via": via, "network": n}
         for n, via in found.items()),
        key=lambda r: ipaddress.ip_network(r["dest"]))


def reachable_networks(topology, host):
    """Names of the networks ``host`` can reach: its own and those its routes lead to."""
    own = set(_hosts(topology)[host][1]["interfaces"])
    return own | set(r["network"] for r in routes(topology, host))


def service_address(topology, service, from_host):
    """The address of ``service`` as ``from_host`` should dial it: the service node's address on
    a network ``from_host`` can reach (its own networks first), or None when it cannot reach it.
    """
    node = topology["services"][service]["node"]
    node_ifaces = _hosts(topology)[node][1]["interfaces"]
    own = set(_hosts(topology)[from_host][1]["interfaces"])
    reachable = reachable_networks(topology, from_host)
    for candidates in (own, reachable):
        for network in sorted(node_ifaces):
            if network in candidates:
                return str(node_ifaces[network])
    return None


def service_urls(topology, from_host, kind="operation"):
    """{service: http://ADDRESS:PORT} of the services of ``kind`` as ``from_host`` dials them."""
    return dict((name, "http://%s:%s" % (service_address(topology, name, from_host), spec["port"]))
                for name, spec in sorted((topology.get("services") or {}).items())
                if spec.get("kind", "operation") == kind and service_address(topology, name, from_host))
