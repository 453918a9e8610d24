# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab topology, declared once as inventory data, and everything derived from it.

Pure Python (no Ansible import): the filter plugin and the modules call these, and the unit
tests call them directly. The data shape (``virtlab_topology`` in the inventory)::

    networks: {NAME: {cidr: 10.77.1.0/24, gateway: 10.77.1.1 | null}}
    routers:  {HOST: {interfaces: {NETWORK: ADDRESS}}}      # forward between their networks
    nodes:    {HOST: {interfaces: {NETWORK: ADDRESS}}}      # do not forward
    services: {NAME: {node: HOST, port: 50001, kind: calculator | operation}}

Routing rule: a host needs a static route to every lab subnet it is not attached to but can
reach through routers; the next hop is the address, on one of the host's own networks, of the
first router on the shortest path. Only routers forward, so a subnet reachable only through
a plain node (pn3 seen from ``public``: behind ``cs``) is unreachable by design.
"""

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


def validate(topology, inventory_hosts=None, reserved=None):
    """Return a list of messages, one per problem, each naming the host or network, the field
    and the value. An empty list means the data is usable. ``inventory_hosts`` (optional): every
    topology host must be one. ``reserved`` (optional): {network: address} a backend keeps for
    itself (Docker's bridge address), which no host may use.
    """
    errors = []
    if not isinstance(topology, dict):
        return ["virtlab_topology: must be a mapping with networks, routers, nodes and services, got %r" % (topology,)]
    for section in ("networks", "routers", "nodes", "services"):
        if not isinstance(topology.get(section) or {}, dict):
            errors.append("virtlab_topology.%s: must be a mapping, got %r" % (section, topology.get(section)))
    if errors:
        return errors

    subnets = {}
    for name, spec in (topology.get("networks") or {}).items():
        spec = spec or {}
        try:
            subnets[name] = ipaddress.ip_network(str(spec.get("cidr")), strict=True)
        except ValueError as exc:
            errors.append("network %s: cidr %r is not a valid subnet (%s)" % (name, spec.get("cidr"), exc))
    names = sorted(subnets)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if subnets[first].overlaps(subnets[second]):
                errors.append("network %s: cidr %s overlaps network %s (%s)"
                              % (second, subnets[second], first, subnets[first]))

    seen_addresses = {}
    hosts = _hosts(topology)
    for host in sorted(hosts):
        is_router, spec = hosts[host]
        interfaces = spec.get("interfaces")
        if not isinstance(interfaces, dict) or not interfaces:
            errors.append("host %s: interfaces must map network names to addresses, got %r" % (host, interfaces))
            continue
        if is_router and len(interfaces) < 2:
            errors.append("host %s: a router needs interfaces on two networks, got %s" % (host, sorted(interfaces)))
        for network, address in sorted(interfaces.items()):
            field = "host %s: interfaces.%s" % (host, network)
            if network not in (topology.get("networks") or {}):
                errors.append("%s: network %r is not declared in virtlab_topology.networks" % (field, network))
                continue
            try:
                ip = ipaddress.ip_address(str(address))
            except ValueError:
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
        if inventory_hosts is not None and host not in inventory_hosts:
            errors.append("host %s: declared in virtlab_topology but not in the inventory" % host)

    router_addresses = dict(
        (network, set(str(a) for r in topology.get("routers") or {}
                      for n, a in (topology["routers"][r] or {}).get("interfaces", {}).items() if n == network))
        for network in topology.get("networks") or {})
    for name, spec in sorted((topology.get("networks") or {}).items()):
        gateway = (spec or {}).get("gateway")
        if gateway in (None, ""):
            continue
        if str(gateway) not in router_addresses.get(name, set()):
            errors.append("network %s: gateway %s is not the address of a router on %s" % (name, gateway, name))

    ports = {}
    for name, spec in sorted((topology.get("services") or {}).items()):
        spec = spec or {}
        node = spec.get("node")
        if node not in hosts:
            errors.append("service %s: node %r is not a declared node" % (name, node))
        kind = spec.get("kind", "operation")
        if kind not in SERVICE_KINDS:
            errors.append("service %s: kind %r is not one of %s" % (name, kind, ", ".join(SERVICE_KINDS)))
        if kind == "operation" and name not in OPERATIONS:
            errors.append("service %s: an operation service must be named one of %s" % (name, ", ".join(OPERATIONS)))
        port = spec.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            errors.append("service %s: port %r is not a TCP port number" % (name, port))
        elif (node, port) in ports:
            errors.append("service %s: port %s on %s is already used by service %s" % (name, port, node, ports[(node, port)]))
        else:
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


def service_nodes(topology):
    """Hosts that run at least one service, sorted."""
    return sorted(set(spec["node"] for spec in (topology.get("services") or {}).values()))


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


def reachability_matrix(topology, outside_host=None, requests=None):
    """The lab's expected reachability, as probes [{src, service, address, port, expect, body, expect_prefix}].

    The calculator is probed from ``outside_host`` (through rt1), each operation service from the
    calculator's node, and each operation service from ``outside_host`` with expect=False: pn3 must not
    be reachable from the school's network. Return paths are covered because a TCP exchange needs them.
    ``requests`` maps a service name (or kind) to {body, expect_prefix}.
    """
    services = topology.get("services") or {}
    requests = requests or {}
    kinds = dict((name, spec.get("kind", "operation")) for name, spec in services.items())
    probes = []

    def add(src, service):
        address = service_address(topology, service, src)
        if address is None:  # not reachable by design: dial its first address, expect failure
            address = sorted(str(a) for a in _hosts(topology)[services[service]["node"]][1]["interfaces"].values())[0]
        request = requests.get(service) or requests.get(kinds[service]) or {"body": "", "expect_prefix": ""}
        probes.append({"src": src, "service": service, "address": address, "port": services[service]["port"],
                       "expect": service_address(topology, service, src) is not None,
                       "body": request["body"], "expect_prefix": request["expect_prefix"]})

    operations = sorted(n for n, k in kinds.items() if k == "operation")
    for calculator in sorted(n for n, k in kinds.items() if k == "calculator"):
        if outside_host:
            add(outside_host, calculator)
        for op in operations:
            add(services[calculator]["node"], op)
    if outside_host:
        for op in operations:
            add(outside_host, op)
    return probes


def reachability_table(results):
    """Probe results -> (table lines, broken path descriptions)."""
    header = "%-8s %-11s %-18s %-10s %-6s %s" % ("FROM", "SERVICE", "ADDRESS", "EXPECTED", "OK", "DETAIL")
    lines, broken = [header], []
    for row in sorted(results, key=lambda r: (r["src"], not r["expect"], r["service"])):
        ok = row["reached"] == row["expect"]
        where = "%s:%s" % (row["address"], row["port"])
        expected = "reachable" if row["expect"] else "blocked"
        lines.append("%-8s %-11s %-18s %-10s %-6s %s" % (
            row["src"], row["service"], where, expected, "ok" if ok else "BROKEN", row["detail"]))
        if not ok:
            broken.append("%s -> %s (%s) should be %s: %s" % (
                row["src"], row["service"], where, expected, row["detail"]))
    return lines, broken


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
