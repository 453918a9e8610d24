# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology as a Graphviz DOT picture (no Ansible import).

Networks are boxes with their CIDR and gateway; routers and nodes are linked to each network they join, the
edge labelled with their address there; services are listed under their node with their port. Broken paths
from a reachability check are drawn as red arrows from the probe's source to the service's node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.virtlab.core.plugins.module_utils.topology.model import _hosts


def _escape(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def _quote(text):
    return '"%s"' % _escape(text)


def _label(*lines):
    """A quoted label of several lines (DOT's line break is the two characters backslash and n)."""
    return '"%s"' % "\\n".join(_escape(line) for line in lines if line not in (None, ""))


def _distances(topology, start):
    """Hops from ``start`` to every host and network ("net:NAME"), over host-network links."""
    hosts = _hosts(topology)
    links = {}
    for host, (unused_router, spec) in hosts.items():
        for network in (spec.get("interfaces") or {}):
            links.setdefault(host, set()).add("net:" + network)
            links.setdefault("net:" + network, set()).add(host)
    distance, frontier = {start: 0}, [start]
    while frontier:
        following = []
        for item in frontier:
            for other in sorted(links.get(item, ())):
                if other not in distance:
                    distance[other] = distance[item] + 1
                    following.append(other)
        frontier = following
    return distance


def to_dot(topology, outside_host=None, broken=None, title="virtlab"):
    """The DOT text. ``outside_host``: the host that stands for the users' side (drawn apart).
    ``broken``: probe results [{src, service, address, port, detail}] of paths that failed their check."""
    services = topology.get("services") or {}
    by_node = {}
    for name, spec in sorted(services.items()):
        by_node.setdefault(spec.get("node"), []).append("%s :%s" % (name, spec.get("port")))
    lines = ["graph %s {" % _quote(title),
             '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.3, ranksep=0.6];',
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for name, spec in sorted((topology.get("networks") or {}).items()):
        spec = spec or {}
        gateway = spec.get("gateway")
        lines.append("  %s [shape=box, style=filled, fillcolor=lightblue, label=%s];" % (
            _quote("net:" + name), _label(name, spec.get("cidr"), "gateway %s" % gateway if gateway else "no gateway")))
    hosts = _hosts(topology)
    start = outside_host if outside_host in hosts else (sorted(topology.get("routers") or {}) or sorted(hosts) or [None])[0]
    distance = _distances(topology, start)
    for host, (is_router, spec) in sorted(hosts.items()):
        if is_router:
            shape, colour, kind = "doubleoctagon", "khaki", "router"
        elif host == outside_host:
            shape, colour, kind = "house", "lightgrey", "outside"
        else:
            shape, colour, kind = "box3d" if host in by_node else "ellipse", "palegreen", None
        lines.append("  %s [shape=%s, style=filled, fillcolor=%s, label=%s];" % (
            _quote(host), shape, colour, _label(host, kind and "(%s)" % kind, *by_node.get(host, []))))
        for network, address in sorted((spec.get("interfaces") or {}).items()):
            # Drawn from the side nearer the users to the farther one: the picture reads left to right as a
            # packet from outside travels.
            ends = sorted([host, "net:" + network], key=lambda end: distance.get(end, len(distance)))
            lines.append("  %s -- %s [label=%s];" % (_quote(ends[0]), _quote(ends[1]), _quote(address)))
    for row in sorted(broken or [], key=lambda r: (r["src"], r["service"])):
        target = services.get(row["service"], {}).get("node", row["service"])
        lines.append("  %s -- %s [color=red, fontcolor=red, style=dashed, dir=forward, penwidth=2, label=%s];" % (
            _quote(row["src"]), _quote(target), _label("%s %s:%s" % (row["service"], row["address"], row["port"]),
                                                       "BROKEN: %s" % row.get("detail", ""))))
    lines.append("}")
    body = "\n".join(lines) + "\n"
    # The picture carries the fingerprint of its source, so a rendered SVG can be checked against the topology.
    fingerprint = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    return body.replace("  graph [rankdir=LR,", "  graph [comment=%s, rankdir=LR," % _quote("virtlab topology " + fingerprint), 1)


def fingerprint(dot):
    """The fingerprint ``to_dot`` wrote into its text (also present in the SVG Graphviz renders from it)."""
    marker = 'comment="virtlab topology '
    start = dot.index(marker) + len(marker)
    return dot[start:start + 16]
