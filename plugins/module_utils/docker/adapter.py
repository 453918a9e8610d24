# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology on Docker: exactly the input of virtlab.core.docker_lab, and the addresses Docker keeps for
itself (no Ansible import). The one place Docker's policy for the lab lives: the filters of
plugins/filter/docker_lab.py hand it to the provision_docker role and to the Docker inventories."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.virtlab.core.plugins.module_utils.topology.model import (
    attachments,
    is_router,
    network_list,
    service_nodes,
)

# Every lab node may manage its routes (NET_ADMIN) and runs systemd without --privileged (SYS_ADMIN).
NODE_CAPABILITIES = ["SYS_ADMIN", "NET_ADMIN"]
NO_REDIRECTS = ("accept_redirects", "send_redirects")


def node_sysctls(router, interfaces):
    """A node's sysctls: forwarding on routers only, and no ICMP redirect accepted or sent. A host accepts one when
    "all" or the interface says so, so each interface's is set too: Docker creates the ``interfaces`` (eth0, eth1,
    ... in the order the node joins its networks) before it writes the sysctls, and an interface joined later (a
    network created again) takes the "default" ones."""
    sysctls = {"net.ipv4.ip_forward": 1 if router else 0}
    for interface in ["all", "default"] + ["eth%d" % index for index in range(interfaces)]:
        sysctls.update(("net.ipv4.conf.%s.%s" % (interface, name), 0) for name in NO_REDIRECTS)
    return sysctls


def default_route(topology, host, mgmt_network):
    """The node's default route, as the static_routes role takes it: the nodes that join the management network
    (they run a service and install packages) go out through its NAT; the others (the routers, outside) have none,
    so that traffic for no lab network is refused where it is, never handed to the Docker host's bridge on a lab
    network (Docker gives every container a default route via the bridge of its first network)."""
    if host in service_nodes(topology):
        return bridge_address(str(ipaddress.ip_network(mgmt_network["cidr"])))
    return "absent"


def bridge_address(cidr):
    """The address Docker's bridge takes on a network of ours: the subnet's highest host address (lab hosts use
    low ones). Given to Docker as the network's gateway, and reserved in the topology's validation."""
    return str(ipaddress.ip_network(cidr).broadcast_address - 1)


def reserved_addresses(topology):
    """{topology network: the address Docker's bridge takes on it}: no lab host may use it.

    Asked before the topology is validated (the validator takes the answer), so it never fails on bad data:
    a network whose CIDR is not usable has no reserved address, and the validator reports the CIDR.
    """
    networks = topology.get("networks") if isinstance(topology, dict) else None
    reserved = {}
    for name, spec in (networks.items() if isinstance(networks, dict) else ()):
        try:
            reserved[name] = bridge_address(spec["cidr"])
        except (TypeError, KeyError, ValueError):
            continue
    return reserved


def _engine_subnets(network):
    """The IPv4 subnets of a Docker network as the engine lists it (the API's IPAM.Config), unusable ones left out."""
    subnets = []
    for config in ((network.get("IPAM") or {}).get("Config") or []):
        try:
            subnet = ipaddress.ip_network((config or {}).get("Subnet") or "")
        except ValueError:
            continue
        if subnet.version == 4:
            subnets.append(subnet)
    return subnets


def subnet_conflicts(networks, engine_networks):
    """Messages, one per network of ``networks`` (docker_lab's) whose subnet overlaps a Docker network of another
    name on the engine (``engine_networks``: the engine's network list, each with Name, Labels, IPAM): Docker would
    refuse to create it, in the middle of a run. Networks of the same name are the lab's own, reconciled."""
    ours = set(network["name"] for network in networks)
    problems = []
    for network in networks:
        subnet = ipaddress.ip_network(network["subnet"])
        for other in engine_networks or []:
            name = other.get("Name")
            if name in ours:
                continue
            for taken in _engine_subnets(other):
                if subnet.overlaps(taken):
                    lab = (other.get("Labels") or {}).get("virtlab.lab")
                    problems.append("network %s %s overlaps Docker network %s %s%s" % (
                        network["name"], subnet, name, taken,
                        " of lab %s" % lab.rstrip("-") if lab else " (not a virtlab lab's)"))
    return problems


def docker_lab(topology, hosts, prefix, image, mgmt_network, published_ports=None, state="started",
               engine_networks=None):
    """The lab on Docker as virtlab.core.docker_lab takes it: {networks: [...], nodes: [...]}.

    Lab networks are internal and carry routed traffic; Docker's bridge takes each subnet's bridge_address.
    The NAT-ed management network (``mgmt_network``: {name, cidr}) is joined by the nodes that run a service
    (they install packages and publish the calculator's port). One node per host in ``hosts`` (ValueError for a
    host the topology does not declare): routers forward (the topology model's is_router), no node accepts or
    sends ICMP redirects (node_sysctls), every node has NODE_CAPABILITIES.

    With ``engine_networks`` (the networks already on the engine, as subnet_conflicts takes them) and a state other
    than absent, a lab network that overlaps one of another name is refused (ValueError naming both), before
    anything is created: two labs with the same address plan, or a lab on addresses the engine already uses.
    """
    unknown = [host for host in hosts if host not in (topology.get("routers") or {})
               and host not in (topology.get("nodes") or {})]
    if unknown:
        raise ValueError("host %s is not declared in virtlab_topology (routers or nodes)" % unknown[0])
    network_state = "absent" if state == "absent" else "present"
    labels = {"virtlab.lab": prefix}
    mgmt_cidr = str(ipaddress.ip_network(mgmt_network["cidr"]))
    networks = [dict(name=n["name"], subnet=n["cidr"], internal=True, routed=True)
                for n in network_list(topology, prefix)]
    networks.append(dict(name=mgmt_network["name"], subnet=mgmt_cidr, internal=False, routed=False))
    for network in networks:
        network.update(gateway=bridge_address(network["subnet"]), labels=labels, state=network_state)
    conflicts = subnet_conflicts(networks, engine_networks) if state != "absent" else []
    if conflicts:
        raise ValueError("the lab's address plan overlaps networks already on the Docker engine, which would refuse "
                         "it: %s. Give this lab another index (-e virtlab_lab_index=N, N not used by another lab) or "
                         "remove the other network" % "; ".join(conflicts))
    servers = service_nodes(topology)
    nodes = []
    for host in hosts:
        joined = ([{"name": mgmt_network["name"]}] if host in servers else []) + attachments(topology, host, prefix)
        nodes.append(dict(
            name=prefix + host, hostname=host, image=image, capabilities=list(NODE_CAPABILITIES),
            sysctls=node_sysctls(is_router(topology, host), len(joined)), networks=joined,
            published_ports=list((published_ports or {}).get(host) or []),
            labels=dict(labels, **{"virtlab.host": host}), state=state))
    return {"networks": networks, "nodes": nodes}
