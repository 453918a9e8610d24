# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology on Docker: exactly the input of virtlab.core.docker_lab, and the addresses Docker keeps for
itself (no Ansible import). The one place Docker's policy for the lab lives."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.virtlab.core.plugins.module_utils.topology.model import attachments, network_list, service_nodes


def last_host_address(cidr):
    """The highest usable address of a subnet (Docker's bridge takes it: lab hosts use low ones)."""
    subnet = ipaddress.ip_network(cidr)
    return str(subnet.broadcast_address - 1)


def docker_lab(topology, hosts, prefix, image, mgmt_network, published_ports=None, state="started"):
    """The lab on Docker as virtlab.core.docker_lab takes it: {networks: [...], nodes: [...]}.

    Lab networks are internal and carry routed traffic; Docker's bridge takes each subnet's last host address.
    The NAT-ed management network (``mgmt_network``: {name, cidr}) is joined by the nodes that run a service
    (they install packages and publish the calculator's port). One node per host in ``hosts``: routers forward,
    every node may manage its routes (NET_ADMIN) and runs systemd without --privileged (SYS_ADMIN).
    """
    network_state = "absent" if state == "absent" else "present"
    labels = {"virtlab.lab": prefix}
    networks = [dict(name=n["name"], subnet=n["cidr"], gateway=last_host_address(n["cidr"]), internal=True,
                     routed=True, labels=labels, state=network_state) for n in network_list(topology, prefix)]
    mgmt_cidr = str(ipaddress.ip_network(mgmt_network["cidr"]))
    networks.append(dict(name=mgmt_network["name"], subnet=mgmt_cidr, gateway=last_host_address(mgmt_cidr),
                         internal=False, routed=False, labels=labels, state=network_state))
    servers = service_nodes(topology)
    routers = topology.get("routers") or {}
    nodes = []
    for host in hosts:
        nodes.append(dict(
            name=prefix + host, hostname=host, image=image, capabilities=["SYS_ADMIN", "NET_ADMIN"],
            sysctls={"net.ipv4.ip_forward": 1 if host in routers else 0},
            networks=([{"name": mgmt_network["name"]}] if host in servers else []) + attachments(topology, host, prefix),
            published_ports=list((published_ports or {}).get(host) or []),
            labels=dict(labels, **{"virtlab.host": host}), state=state))
    return {"networks": networks, "nodes": nodes}
