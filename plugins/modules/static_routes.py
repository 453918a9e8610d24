#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: static_routes
short_description: Reconcile a Linux host's whole set of static routes, and IP forwarding, in one call
version_added: 0.1.0
description:
  - The equivalent of C(route add -net DEST gw VIA) for every declared route, done as one reconciliation. Runs on
    the node itself.
  - Reads the kernel's main routing table, adds missing routes, replaces those with the wrong next hop and, with
    O(purge=true), removes gateway routes that are not declared (the default route is never touched).
  - Persists the routes (and forwarding) so they come back after a reboot - a oneshot systemd unit applies them
    at boot.
  - Reports C(changed) only when a route was really added, replaced or removed, or the persisted
    configuration was repaired.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  routes:
    description: Every static route the host needs.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Destination subnet, CIDR notation.
        type: str
        required: true
      via:
        description: Next hop address, on one of the host's own networks.
        type: str
        required: true
  purge:
    description: Remove gateway routes (other than the default route) that are not in O(routes).
    type: bool
    default: true
  forwarding:
    description:
      - Whether the host forwards IPv4 packets (V(true) on routers). Not managed when omitted.
    type: bool
  persist:
    description: Keep routes and forwarding across reboots with the C(virtlab-static-routes) systemd unit.
    type: bool
    default: true
requirements:
  - iproute2 with JSON output (C(ip -j)) on the node
  - systemd on the node when O(persist=true)
notes:
  - In an unprivileged container C(/proc/sys) is mounted read-only; with C(CAP_SYS_ADMIN) the module briefly
    remounts it read-write to set forwarding, as the only way to change it without recreating the node.
"""

EXAMPLES = r"""
- name: The calculator node reaches pn3 through rt2's address on pn2, and the public network through rt1
  virtlab.core.static_routes:
    routes:
      - {dest: 10.77.3.0/24, via: 10.77.2.1}
      - {dest: 10.77.0.0/24, via: 10.77.1.1}

- name: A router forwards, and needs no static route in this lab
  virtlab.core.static_routes:
    routes: []
    forwarding: true
"""

RETURN = r"""
routes:
  description: The host's gateway routes after the task (as they would be, in check mode), C(DEST via VIA).
  returned: always
  type: list
  elements: str
  sample: ["10.77.3.0/24 via 10.77.2.1"]
added:
  description: Routes added.
  returned: always
  type: list
  elements: str
replaced:
  description: Routes whose next hop was replaced, as C(DEST via OLD -> NEW).
  returned: always
  type: list
  elements: str
removed:
  description: Undeclared routes removed.
  returned: always
  type: list
  elements: str
forwarding:
  description: IPv4 forwarding after the task.
  returned: always
  type: bool
persisted:
  description: What was repaired in the persisted configuration (files, unit enablement).
  returned: always
  type: list
  elements: str
"""

import errno
import ipaddress
import json
import os

from ansible.module_utils.basic import AnsibleModule

CONFIG_PATH = "/etc/virtlab/static-routes"
SCRIPT_PATH = "/usr/local/sbin/virtlab-static-routes"
UNIT_PATH = "/etc/systemd/system/virtlab-static-routes.service"
WANTS_LINK = "/etc/systemd/system/multi-user.target.wants/virtlab-static-routes.service"
FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward"

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


def route_text(route):
    return "%s via %s" % (route["dest"], route["via"])


def normalise_routes(module, routes):
    result = {}
    for route in routes:
        try:
            dest = str(ipaddress.ip_network(route["dest"], strict=False))
            via = str(ipaddress.ip_address(route["via"]))
        except ValueError as exc:
            module.fail_json(msg="route %s via %s is not valid: %s" % (route["dest"], route["via"], exc))
        if dest in result and result[dest] != via:
            module.fail_json(msg="route to %s is declared twice, via %s and via %s" % (dest, result[dest], via))
        result[dest] = via
    return result


def kernel_routes(module):
    """Gateway routes of the main table, except the default route: {dest: via}."""
    rc, out, err = module.run_command(["ip", "-j", "-4", "route", "show", "table", "main"])
    if rc != 0:
        module.fail_json(msg="cannot read the routing table: %s" % err.strip(), rc=rc)
    routes = {}
    for entry in json.loads(out or "[]"):
        if entry.get("dst") == "default" or "gateway" not in entry:
            continue
        dest = entry["dst"] if "/" in entry["dst"] else entry["dst"] + "/32"
        routes[str(ipaddress.ip_network(dest, strict=False))] = entry["gateway"]
    return routes


def plan_routes(current, desired, purge):
    """The one decision: (added, replaced, removed) as route dicts."""
    added = [{"dest": d, "via": v} for d, v in sorted(desired.items()) if d not in current]
    replaced = [{"dest": d, "via": v, "old": current[d]} for d, v in sorted(desired.items())
                if d in current and current[d] != v]
    removed = [{"dest": d, "via": v} for d, v in sorted(current.items()) if purge and d not in desired]
    return added, replaced, removed


def read_file(path):
    try:
        with open(path) as handle:
            return handle.read()
    except IOError:
        return None


def write_file(path, content, mode):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    tmp = path + ".virtlab-tmp"
    with open(tmp, "w") as handle:
        handle.write(content)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def read_forwarding():
    with open(FORWARD_PATH) as handle:
        return handle.read().strip() == "1"


def write_forwarding(module, enabled):
    value = "1\n" if enabled else "0\n"
    try:
        with open(FORWARD_PATH, "w") as handle:
            handle.write(value)
        return
    except (IOError, OSError) as exc:
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
    # Read-only /proc/sys (unprivileged container): remount it for the write, then put it back.
    rc, unused_part, err = module.run_command(["mount", "-o", "remount,rw", "/proc/sys"])
    if rc != 0:
        module.fail_json(msg="cannot set net.ipv4.ip_forward: /proc/sys is read-only and remounting it failed "
                             "(%s). Give the node CAP_SYS_ADMIN, or create it with the sysctl set." % err.strip())
    try:
        with open(FORWARD_PATH, "w") as handle:
            handle.write(value)
    finally:
        module.run_command(["mount", "-o", "remount,ro", "/proc/sys"])


def persisted_config(desired, forwarding):
    lines = ["# Written by virtlab.core.static_routes; applied at boot by virtlab-static-routes.service."]
    if forwarding is not None:
        lines.append("forwarding %d" % int(forwarding))
    lines.extend(route_text({"dest": d, "via": v}) for d, v in sorted(desired.items()))
    return "\n".join(lines) + "\n"


def plan_persistence(desired, forwarding):
    """Files whose content differs, and whether the unit must be enabled: [(path, content, mode)], bool."""
    wanted = [(CONFIG_PATH, persisted_config(desired, forwarding), 0o644),
              (SCRIPT_PATH, BOOT_SCRIPT, 0o755),
              (UNIT_PATH, UNIT, 0o644)]
    stale = [item for item in wanted if read_file(item[0]) != item[1]]
    return stale, not os.path.islink(WANTS_LINK)


def run_ip(module, args):
    rc, unused_part, err = module.run_command(["ip", "route"] + args)
    if rc != 0:
        module.fail_json(msg="ip route %s failed: %s" % (" ".join(args), err.strip()), rc=rc)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            routes=dict(type="list", elements="dict", default=[], options=dict(
                dest=dict(type="str", required=True),
                via=dict(type="str", required=True),
            )),
            purge=dict(type="bool", default=True),
            forwarding=dict(type="bool"),
            persist=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    desired = normalise_routes(module, module.params["routes"])
    current = kernel_routes(module)
    added, replaced, removed = plan_routes(current, desired, module.params["purge"])
    want_forwarding = module.params["forwarding"]
    have_forwarding = read_forwarding()
    fix_forwarding = want_forwarding is not None and want_forwarding != have_forwarding
    stale_files, enable_unit = ([], False)
    if module.params["persist"]:
        stale_files, enable_unit = plan_persistence(desired, want_forwarding)
    persisted = [path for path, unused_1, unused_2 in stale_files] + (["enabled virtlab-static-routes.service"] if enable_unit else [])

    changed = bool(added or replaced or removed or fix_forwarding or persisted)
    if changed and not module.check_mode:
        for route in removed:
            run_ip(module, ["del", route["dest"], "via", route["via"]])
        for route in added + replaced:
            run_ip(module, ["replace", route["dest"], "via", route["via"]])
        if fix_forwarding:
            write_forwarding(module, want_forwarding)
        for path, content, mode in stale_files:
            write_file(path, content, mode)
        if enable_unit:
            # What `systemctl enable` does for this unit, without needing a running systemd.
            if not os.path.isdir(os.path.dirname(WANTS_LINK)):
                os.makedirs(os.path.dirname(WANTS_LINK), 0o755)
            os.symlink(UNIT_PATH, WANTS_LINK)

    final = dict(current)
    for route in removed:
        final.pop(route["dest"], None)
    final.update((r["dest"], r["via"]) for r in added + replaced)
    final_forwarding = want_forwarding if want_forwarding is not None else have_forwarding
    result = dict(
        changed=changed,
        routes=[route_text({"dest": d, "via": v}) for d, v in sorted(final.items())],
        added=[route_text(r) for r in added],
        replaced=["%s via %s -> %s" % (r["dest"], r["old"], r["via"]) for r in replaced],
        removed=[route_text(r) for r in removed],
        forwarding=final_forwarding,
        persisted=persisted,
    )
    if module._diff:
        before = "".join("%s\n" % route_text({"dest": d, "via": v}) for d, v in sorted(current.items()))
        after = "".join("%s\n" % line for line in result["routes"])
        result["diff"] = [{"before_header": "routes (kernel)", "after_header": "routes (declared)",
                           "before": before + "forwarding %s\n" % int(have_forwarding),
                           "after": after + "forwarding %s\n" % int(final_forwarding)}]
        result["diff"].extend({"before_header": path, "after_header": path,
                               "before": read_file(path) or "", "after": content}
                              for path, content, unused_part in stale_files)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
