# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab topology, declared once as inventory data: its validation and the per-host views of it.

Pure Python (no Ansible import): the filter plugin and the modules call these, and the unit
tests call them directly. The data shape (``virtlab_topology`` in the inventory)::

    networks: {NAME: {cidr: 10.77.1.0/24, gateway: 10.77.1.1 | null}}
    routers:  {HOST: {interfaces: {NETWORK: ADDRESS}}}      # forward between their networks
    nodes:    {HOST: {interfaces: {NETWORK: ADDRESS}}}      # do not forward
    services: {NAME: {node: HOST, port: 50001, kind: calculator | operation}}

Routing rule: a host needs a static route to every lab subnet it is not attached to but can
reach through routers; the next hop is the address, on one of the host's own networks, of the
first router on the shortest path. Only routers forward, so a subnet reachable only through
a plain node (pn3 seen from ``public``: behind ``cs``) is unreachable by design."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


SERVICE_KINDS = ("calculator", "operation")
OPERATIONS = ("sum", "sub", "mul", "div")


def _hosts(topology):
    """{host: (is_router, spec)} for routers and nodes together."""
    hosts = {}
    for name, spec in (topology.get("routers") or {}).items():
        hosts[name] = (True, spec or {})
    for name, spec in (topology.get("nodes") or {}).items():
        hosts[name] = (False, spec or {})
    return hosts


SECTIONS = ("networks", "routers", "nodes", "services")
NETWORK_KEYS = ("cidr", "gateway")
HOST_KEYS = ("interfaces",)
SERVICE_KEYS = ("node", "port", "kind")


def _unknown_keys(where, spec, known):
    """A message per key of ``spec`` that is not one of ``known`` (a misspelling is never silently ignored)."""
    return ["%s: unknown key %r (expected %s)" % (where, key, ", ".join(known))
            for key in sorted(spec, key=str) if key not in known]


def _ip(value):
    """The address ``value`` stands for, or None: only a string of dotted or colon notation is an address."""
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def validate(topology, inventory_hosts=None, reserved=None):
    """Return a list of messages, one per problem, each naming the host or network, the field
    and the value. An empty list means the data is usable. ``inventory_hosts`` (optional): every
    topology host must be one. ``reserved`` (optional): {network: address} a backend keeps for
    itself (Docker's bridge address), which no host may use.

    Never raises, whatever the data: the views below (interfaces, routes, ...) are only computed from data
    this accepted.
    """
    if not isinstance(topology, dict):
        return ["virtlab_topology: must be a mapping with networks, routers, nodes and services, got %r" % (topology,)]
    errors = _unknown_keys("virtlab_topology", topology, SECTIONS)
    for section in SECTIONS:
        if not isinstance(topology.get(section) or {}, dict):
            errors.append("virtlab_topology.%s: must be a mapping, got %r" % (section, topology.get(section)))
    if errors:
        return errors
    networks = topology.get("networks") or {}
    if not networks:
        errors.append("virtlab_topology.networks: declares no network")

    subnets = {}
    for name, spec in sorted(networks.items(), key=lambda item: str(item[0])):
        if not isinstance(spec, dict):
            errors.append("network %s: must be a mapping with cidr and gateway, got %r" % (name, spec))
            continue
        errors.extend(_unknown_keys("network %s" % name, spec, NETWORK_KEYS))
        cidr = spec.get("cidr")
        if cidr is None:
            errors.append("network %s: cidr is missing (e.g. cidr: 10.77.1.0/24)" % name)
            continue
        try:
            if not isinstance(cidr, str):
                raise ValueError("not a string")
            subnets[name] = ipaddress.ip_network(cidr.strip(), strict=True)
        except ValueError as exc:
            errors.append("network %s: cidr %r is not a valid subnet (%s)" % (name, cidr, exc))
            continue
        if subnets[name].version != 4 or subnets[name].num_addresses < 4:
            errors.append("network %s: cidr %s must be an IPv4 subnet with room for hosts (/30 or larger)"
                          % (name, cidr))
            del subnets[name]
    names = sorted(subnets)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if subnets[first].overlaps(subnets[second]):
                errors.append("network %s: cidr %s overlaps network %s (%s)"
                              % (second, subnets[second], first, subnets[first]))

    seen_addresses = {}
    hosts = {}
    for section, is_router in (("routers", True), ("nodes", False)):
        for host, spec in (topology.get(section) or {}).items():
            if host in hosts:
                errors.append("host %s: declared both as a router and as a node" % host)
            hosts[host] = (is_router, spec)
    router_addresses = {}
    for host in sorted(hosts, key=str):
        is_router, spec = hosts[host]
        if not isinstance(spec, dict):
            errors.append("host %s: must be a mapping with interfaces, got %r" % (host, spec))
            continue
        errors.extend(_unknown_keys("host %s" % host, spec, HOST_KEYS))
        interfaces_ = spec.get("interfaces")
        if not isinstance(interfaces_, dict) or not interfaces_:
            errors.append("host %s: interfaces must map network names to addresses, got %r" % (host, interfaces_))
            continue
        if is_router and len(interfaces_) < 2:
            errors.append("host %s: a router needs interfaces on two networks, got %s"
                          % (host, sorted(map(str, interfaces_))))
        for network, address in sorted(interfaces_.items(), key=lambda item: str(item[0])):
            field = "host %s: interfaces.%s" % (host, network)
            if network not in networks:
                errors.append("%s: network %r is not declared in virtlab_topology.networks" % (field, network))
                continue
            ip = _ip(address)
            if ip is None:
                errors.append("%s: %r is not an IP address" % (field, address))
                continue
            subnet = subnets.get(network)
            if subnet is None:
                continue
            if ip not in subnet or ip in (subnet.network_address, subnet.broadcast_address):
                errors.append("%s: address %s is not a host address of %s" % (field, ip, subnet))
            elif reserved and str(reserved.get(network)) == str(ip):
                errors.append("%s: address %s is reserved by the backend on %s" % (field, ip, network))
            elif str(ip) in seen_addresses:
                errors.append("%s: address %s is already used by %s" % (field, ip, seen_addresses[str(ip)]))
            seen_addresses.setdefault(str(ip), host)
            if is_router:
                router_addresses.setdefault(network, set()).add(str(ip))
        if inventory_hosts is not None and host not in inventory_hosts:
            errors.append("host %s: declared in virtlab_topology but not in the inventory" % host)

    for name, spec in sorted(networks.items(), key=lambda item: str(item[0])):
        gateway = spec.get("gateway") if isinstance(spec, dict) else None
        if gateway in (None, ""):
            continue
        if _ip(gateway) is None:
            errors.append("network %s: gateway %r is not an IP address" % (name, gateway))
        elif str(_ip(gateway)) not in router_addresses.get(name, set()):
            errors.append("network %s: gateway %s is not the address of a router on %s" % (name, gateway, name))

    ports = {}
    for name, spec in sorted((topology.get("services") or {}).items(), key=lambda item: str(item[0])):
        if not isinstance(spec, dict):
            errors.append("service %s: must be a mapping with node, port and kind, got %r" % (name, spec))
            continue
        errors.extend(_unknown_keys("service %s" % name, spec, SERVICE_KEYS))
        node = spec.get("node")
        if not isinstance(node, str) or node not in hosts:
            errors.append("service %s: node %r is not a declared node" % (name, node))
        kind = spec.get("kind", "operation")
        if kind not in SERVICE_KINDS:
            errors.append("service %s: kind %r is not one of %s" % (name, kind, ", ".join(SERVICE_KINDS)))
        if kind == "operation" and name not in OPERATIONS:
            errors.append("service %s: an operation service must be named one of %s" % (name, ", ".join(OPERATIONS)))
        port = spec.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            errors.append("service %s: port %r is not a TCP port number (1-65535)" % (name, port))
        elif isinstance(node, str) and (node, port) in ports:
            errors.append("service %s: port %s on %s is already used by service %s" % (name, port, node, ports[(node, port)]))
        elif isinstance(node, str):
            ports[(node, port)] = name
    return errors


def interfaces(topology, host):
    """The host's interfaces as [{network, address, prefix, cidr}], sorted by network name."""
    spec = _hosts(topology)[host][1]
    result = []
    for network, address in sorted(spec["interfaces"].items()):
        subnet = ipaddress.ip_network(topology["networks"][network]["cidr"])
        result.append({"network": network, "address": str(address),
                       "prefix": subnet.prefixlen, "cidr": str(subnet)})
    return result


def attachments(topology, host, prefix=""):
    """The host's network attachments as backends take them: [{name: PREFIX+NETWORK, ipv4_address}]."""
    return [{"name": prefix + i["network"], "ipv4_address": i["address"]} for i in interfaces(topology, host)]


def network_list(topology, prefix=""):
    """The lab networks as backends create them: [{name: PREFIX+NETWORK, cidr, gateway}] sorted by name."""
    return [{"name": prefix + name, "cidr": str(ipaddress.ip_network(spec["cidr"])), "gateway": spec.get("gateway")}
            for name, spec in sorted(topology["networks"].items())]


def is_router(topology, host):
    """Whether ``host`` forwards between its networks: the one answer for every backend (Docker's ip_forward
    sysctl, the static_routes role's forwarding)."""
    return host in (topology.get("routers") or {})


def service_nodes(topology):
    """Hosts that run at least one service, sorted."""
    return sorted(set(spec["node"] for spec in (topology.get("services") or {}).values()))
