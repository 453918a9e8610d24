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
  - virtlab.core.attributes
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
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.core.plugins.module_utils.node.static_routes import (
    ARGUMENT_SPEC,
    FORWARD_PATH,
    ROUTE_COMMAND,
    UNIT_PATH,
    WANTS_LINK,
    HostState,
    parse_kernel_routes,
    persisted_files,
    plan,
    result,
)


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


def read_host(module):
    """The HostState of this host, read with Python."""
    rc, out, err = module.run_command(ROUTE_COMMAND)
    if rc != 0:
        module.fail_json(msg="cannot read the routing table: %s" % err.strip(), rc=rc)
    with open(FORWARD_PATH) as handle:
        forwarding = handle.read().strip() == "1"
    files = dict((path, read_file(path)) for path, unused_content, unused_mode in persisted_files({}, None))
    return HostState(parse_kernel_routes(out), forwarding, files, os.path.islink(WANTS_LINK))


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


def run_ip(module, args):
    rc, unused_part, err = module.run_command(["ip", "route"] + args)
    if rc != 0:
        module.fail_json(msg="ip route %s failed: %s" % (" ".join(args), err.strip()), rc=rc)


def apply(module, decision):
    for route in decision["removed"]:
        run_ip(module, ["del", route["dest"], "via", route["via"]])
    for route in decision["added"] + decision["replaced"]:
        run_ip(module, ["replace", route["dest"], "via", route["via"]])
    if decision["fix_forwarding"]:
        write_forwarding(module, module.params["forwarding"])
    for path, content, mode in decision["stale_files"]:
        write_file(path, content, mode)
    if decision["enable_unit"]:
        # What `systemctl enable` does for this unit, without needing a running systemd.
        if not os.path.isdir(os.path.dirname(WANTS_LINK)):
            os.makedirs(os.path.dirname(WANTS_LINK), 0o755)
        os.symlink(UNIT_PATH, WANTS_LINK)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    state = read_host(module)
    try:
        decision = plan(state, module.params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if decision["changed"] and not module.check_mode:
        apply(module, decision)
    module.exit_json(**result(state, decision, module.params, module._diff))


if __name__ == "__main__":
    main()
