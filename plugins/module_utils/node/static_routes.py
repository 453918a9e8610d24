# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's static routes, IP forwarding and their boot-time persistence: the one decision and the result.

Shared by the static_routes module (which reads the host with Python and acts) and its action plugin (which
reads the host with one shell command, and runs the module only when this decision says something must
change). No Ansible import here beyond the argument spec, so both sides and the unit tests use it as is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json

from ansible_collections.virtlab.core.plugins.module_utils.node import observe

CONFIG_PATH = "/etc/virtlab/static-routes"
SCRIPT_PATH = "/usr/local/sbin/virtlab-static-routes"
UNIT_PATH = "/etc/systemd/system/virtlab-static-routes.service"
WANTS_LINK = "/etc/systemd/system/multi-user.target.wants/virtlab-static-routes.service"
FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward"
ROUTE_COMMAND = ["ip", "-j", "-4", "route", "show", "table", "main"]

ARGUMENT_SPEC = dict(
    routes=dict(type="list", elements="dict", default=[], options=dict(
        dest=dict(type="str", required=True),
        via=dict(type="str", required=True),
    )),
    purge=dict(type="bool", default=True),
    forwarding=dict(type="bool"),
    persist=dict(type="bool", default=True),
)

# Applied at boot by the unit: one "DEST via VIA" per line, and "forwarding 0|1".
BOOT_SCRIPT = """#!/bin/sh
# Written by virtlab.core.static_routes: re-applies the lab's static routes at boot.
set -u
status=0
while read -r kind a b; do
  case "$kind" in
    ''|'#'*) ;;
    forwarding)
      if ! echo "$a" > /proc/sys/net/ipv4/ip_forward 2>/dev/null; then
        # Unprivileged containers mount /proc/sys read-only.
        mount -o remount,rw /proc/sys && echo "$a" > /proc/sys/net/ipv4/ip_forward; mount -o remount,ro /proc/sys
      fi ;;
    *) ip route replace "$kind" via "$b" || status=1 ;;
  esac
done < %s
exit $status
""" % CONFIG_PATH

UNIT = """[Unit]
Description=virtlab static routes and IP forwarding
After=network.target
Wants=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=%s

[Install]
WantedBy=multi-user.target
""" % SCRIPT_PATH


class HostState:
    """What the decision needs to know about a host: {dest: via} gateway routes, forwarding, the persisted
    files' contents (None when missing) and whether the boot unit is enabled."""

    def __init__(self, routes, forwarding, files, unit_enabled):
        self.routes = routes
        self.forwarding = forwarding
        self.files = files
        self.unit_enabled = unit_enabled


def route_text(route):
    return "%s via %s" % (route["dest"], route["via"])


def normalise_routes(routes):
    """Declared routes as {dest: via}, normalised; ValueError names the bad route."""
    result = {}
    for route in routes:
        try:
            dest = str(ipaddress.ip_network(route["dest"], strict=False))
            via = str(ipaddress.ip_address(route["via"]))
        except ValueError as exc:
            raise ValueError("route %s via %s is not valid: %s" % (route["dest"], route["via"], exc))
        if dest in result and result[dest] != via:
            raise ValueError("route to %s is declared twice, via %s and via %s" % (dest, result[dest], via))
        result[dest] = via
    return result


def parse_kernel_routes(text):
    """Gateway routes of ``ip -j -4 route show table main``, except the default route: {dest: via}."""
    routes = {}
    for entry in json.loads(text or "[]"):
        if entry.get("dst") == "default" or "gateway" not in entry:
            continue
        dest = entry["dst"] if "/" in entry["dst"] else entry["dst"] + "/32"
        routes[str(ipaddress.ip_network(dest, strict=False))] = entry["gateway"]
    return routes


def plan_routes(current, desired, purge):
    """(added, replaced, removed) as route dicts."""
    added = [{"dest": d, "via": v} for d, v in sorted(desired.items()) if d not in current]
    replaced = [{"dest": d, "via": v, "old": current[d]} for d, v in sorted(desired.items())
                if d in current and current[d] != v]
    removed = [{"dest": d, "via": v} for d, v in sorted(current.items()) if purge and d not in desired]
    return added, replaced, removed


def persisted_config(desired, forwarding):
    lines = ["# Written by virtlab.core.static_routes; applied at boot by virtlab-static-routes.service."]
    if forwarding is not None:
        lines.append("forwarding %d" % int(forwarding))
    lines.extend(route_text({"dest": d, "via": v}) for d, v in sorted(desired.items()))
    return "\n".join(lines) + "\n"


def persisted_files(desired, forwarding):
    """[(path, content, mode)] of the boot-time configuration."""
    return [(CONFIG_PATH, persisted_config(desired, forwarding), 0o644),
            (SCRIPT_PATH, BOOT_SCRIPT, 0o755),
            (UNIT_PATH, UNIT, 0o644)]


def plan(state, params):
    """The one decision, for check mode, the real run and the action plugin's shortcut alike.

    ``params`` are the module's options (after validation). Returns a dict: desired routes, added, replaced,
    removed, fix_forwarding, stale_files [(path, content, mode)], enable_unit, changed.
    """
    desired = normalise_routes(params["routes"])
    added, replaced, removed = plan_routes(state.routes, desired, params["purge"])
    forwarding = params["forwarding"]
    stale_files, enable_unit = [], False
    if params["persist"]:
        stale_files = [item for item in persisted_files(desired, forwarding) if state.files.get(item[0]) != item[1]]
        enable_unit = not state.unit_enabled
    decision = dict(desired=desired, added=added, replaced=replaced, removed=removed,
                    fix_forwarding=forwarding is not None and forwarding != state.forwarding,
                    stale_files=stale_files, enable_unit=enable_unit)
    decision["changed"] = bool(added or replaced or removed or decision["fix_forwarding"] or stale_files
                               or enable_unit)
    return decision


def result(state, decision, params, want_diff):
    """What the task returns: the host as it is after the actions (or would be, in check mode)."""
    final = dict(state.routes)
    for route in decision["removed"]:
        final.pop(route["dest"], None)
    final.update((r["dest"], r["via"]) for r in decision["added"] + decision["replaced"])
    final_forwarding = params["forwarding"] if params["forwarding"] is not None else state.forwarding
    persisted = [path for path, unused_content, unused_mode in decision["stale_files"]]
    if decision["enable_unit"]:
        persisted.append("enabled virtlab-static-routes.service")
    outcome = dict(
        changed=decision["changed"],
        routes=[route_text({"dest": d, "via": v}) for d, v in sorted(final.items())],
        added=[route_text(r) for r in decision["added"]],
        replaced=["%s via %s -> %s" % (r["dest"], r["old"], r["via"]) for r in decision["replaced"]],
        removed=[route_text(r) for r in decision["removed"]],
        forwarding=final_forwarding,
        persisted=persisted,
    )
    if want_diff:
        before = "".join("%s\n" % route_text({"dest": d, "via": v}) for d, v in sorted(state.routes.items()))
        after = "".join("%s\n" % line for line in outcome["routes"])
        outcome["diff"] = [{"before_header": "routes (kernel)", "after_header": "routes (declared)",
                            "before": before + "forwarding %s\n" % int(state.forwarding),
                            "after": after + "forwarding %s\n" % int(final_forwarding)}]
        outcome["diff"].extend({"before_header": path, "after_header": path,
                                "before": state.files.get(path) or "", "after": content}
                               for path, content, unused_mode in decision["stale_files"])
    return outcome


# Reading a host with one shell command ----------------------------------------------------------------------
def observe_command():
    """One POSIX shell command printing everything HostState holds; see parse_observation."""
    return observe.script([observe.command("output", "routes", " ".join(ROUTE_COMMAND)),
                           observe.command("output", "forwarding", "cat " + FORWARD_PATH)]
                          + [observe.file_command(path) for path, unused_1, unused_2 in persisted_files({}, None)]
                          + [observe.flag_command("unit-enabled", "[ -L %s ]" % WANTS_LINK)])


def parse_observation(text):
    """HostState from the output of observe_command(); ValueError when it is not what that command prints."""
    files, flags, outputs = observe.files_and_flags(observe.parse_sections(text))
    if "routes" not in outputs or "forwarding" not in outputs or "unit-enabled" not in flags:
        raise ValueError("incomplete static routes observation")
    return HostState(parse_kernel_routes(outputs["routes"]), outputs["forwarding"].strip() == "1",
                     dict((path, None if entry is None else entry[1]) for path, entry in files.items()),
                     flags["unit-enabled"])
