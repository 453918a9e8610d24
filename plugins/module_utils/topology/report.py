# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probe results as a text table and a list of broken paths; what check mode says of a host whose machine is not
in place (no Ansible import)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtlab.core.plugins.module_utils.topology import model, routing


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


def _listed(items):
    return ", ".join(items) or "none"


def not_in_place_summary(topo, host, reason, default_route=None):
    """What check mode says of a host whose machine is not in place yet (so it is not logged into): why, then
    what a run would set up there, from the topology - its services, its static routes, forwarding, and its
    default route (None: left as it is; "absent": none; else its next hop).
    Three lines."""
    services = ["%s on port %s" % (name, service["port"])
                for name, service in (topo.get("services") or {}).items() if service.get("node") == host]
    routes = ["%s via %s" % (route["dest"], route["via"]) for route in routing.routes(topo, host)]
    if default_route is None:
        default = "left as it is"
    elif default_route == "absent":
        default = "none"
    else:
        default = "via %s" % default_route
    return ["%s: not in place yet (%s), so check mode does not log into it. A run would then set up there, from "
            "the topology:" % (host, reason.strip()),
            "services: %s" % _listed(services),
            "static routes: %s; forwarding %s; default route %s"
            % (_listed(routes), "on" if model.is_router(topo, host) else "off", default)]
