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
    O(purge=true), removes gateway routes that are not declared (the default route is managed only by
    O(default_route)).
  - Checks each route as the kernel resolves it (C(ip route get) for the route's first host and the
    O(destinations) behind it). A route in the table whose destination resolves elsewhere (a route exception,
    such as an accepted ICMP redirect, C(cache <redirected>)) is deleted and added again, which clears the
    kernel's exceptions (C(ip route flush cache) needs a writable C(/proc/sys)).
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
  addresses:
    description:
      - The host's lab addresses in interface notation (V(10.77.1.10/24)). Each must be on an interface, with its
        connected route in the main table. A lost address (C(ip addr flush dev eth1)) is put back on the one
        interface left without an IPv4 address, and a lost connected route (C(ip route flush table main)) is put
        back, both before the gateway routes that need them.
      - When addresses are missing and the interfaces without an address do not tell where they go (not one
        interface for one address), the module fails before anything changes.
      - Not managed when omitted. Other addresses of the host are left alone.
    type: list
    elements: str
    version_added: 0.3.0
  destinations:
    description:
      - Addresses reached through O(routes) (the topology's hosts behind them). Each one that a route covers is
        resolved with C(ip route get) and must go via that route's next hop, as must each route's first host
        (always checked). Addresses no route covers are ignored.
    type: list
    elements: str
    default: []
    version_added: 0.3.0
  default_route:
    description:
      - The host's default route - V(absent) for none, or the next hop's address. Not managed when omitted.
      - On Docker a node gets a default route via the Docker host's bridge on its first network; the Docker
        inventory removes it where it would hand unrouted lab traffic to the Docker host (routers, C(outside)).
    type: str
    version_added: 0.3.0
  redirects:
    description:
      - V(false) - the host neither accepts nor sends ICMP redirects (C(net.ipv4.conf.*.accept_redirects) and
        C(send_redirects) 0 on C(all), C(default) and every interface but the loopback); V(true) - all of them 1.
        Not managed when omitted.
      - A host that accepts a router's redirect keeps a route exception that the routing table does not show.
    type: bool
    version_added: 0.3.0
requirements:
  - iproute2 with JSON output (C(ip -j)) on the node
  - systemd on the node when O(persist=true)
notes:
  - In an unprivileged container C(/proc/sys) is mounted read-only; with C(CAP_SYS_ADMIN) the module briefly
    remounts it read-write to set forwarding or the redirect sysctls, as the only way to change them without
    recreating the node. Without it the task fails naming the sysctls (create the node with them set, as the Docker
    backend does).
"""

EXAMPLES = r"""
- name: The calculator node reaches pn3 through rt2's address on pn2, and the public network through rt1
  virtlab.core.static_routes:
    routes:
      - {dest: 10.77.3.0/24, via: 10.77.2.1}
      - {dest: 10.77.0.0/24, via: 10.77.1.1}

- name: A router forwards, sends no ICMP redirect, and has no default route
  virtlab.core.static_routes:
    routes: []
    forwarding: true
    redirects: false
    default_route: absent

- name: The calculator node's route to pn3, checked as the kernel resolves each operation node's address
  virtlab.core.static_routes:
    routes:
      - {dest: 10.77.3.0/24, via: 10.77.2.1}
    destinations: [10.77.3.11, 10.77.3.12, 10.77.3.13, 10.77.3.14]
    redirects: false
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
resolved:
  description: How the kernel resolves each checked destination after the task, C(ADDRESS via GATEWAY).
  returned: always
  type: list
  elements: str
  sample: ["10.77.3.1 via 10.77.2.1", "10.77.3.11 via 10.77.2.1"]
  version_added: 0.3.0
default_route:
  description: The default route's next hop after the task (null when there is none).
  returned: always
  type: str
  version_added: 0.3.0
actions:
  description: What the task did or, in check mode, would do, one line per step.
  returned: always
  type: list
  elements: str
  version_added: 0.3.0
  sample: ["added 10.77.3.0/24 via 10.77.2.1", "wrote /etc/virtlab/static-routes"]
"""

import errno
import os

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.node import static_routes
from ansible_collections.virtlab.core.plugins.module_utils.node.base import NodeModule, write_file


class StaticRoutesModule(NodeModule):
    """Reads the host with static_routes.observe_command(), plans with static_routes.plan(), applies here."""

    argument_spec = static_routes.ARGUMENT_SPEC
    concern = static_routes
    read_error = "cannot read the routing table"

    def ip_route(self, *args):
        self.run_checked(["ip", "route"] + list(args), "ip route %s" % " ".join(args))

    def apply_restore_address(self, action):
        self.run_checked(["ip", "addr", "add", action.target, "brd", "+", "dev", action.details["device"]],
                         "ip addr add %s dev %s" % (action.target, action.details["device"]))

    def apply_restore_connected_route(self, action):
        self.ip_route("replace", action.target, "dev", action.details["device"], "proto", "kernel", "scope", "link",
                      "src", action.details["source"])

    def apply_remove(self, action):
        self.ip_route("del", action.target, "via", action.details["via"])

    def apply_add(self, action):
        self.ip_route("replace", action.target, "via", action.details["via"])

    apply_replace = apply_add

    def apply_reinstall(self, action):
        self.apply_remove(action)
        self.ip_route("add", action.target, "via", action.details["via"])

    def apply_remove_default(self, action):
        self.ip_route("del", "default")

    def apply_set_default(self, action):
        self.ip_route("replace", "default", "via", action.details["via"])

    def apply_set_forwarding(self, action):
        self.write_sysctls({static_routes.FORWARD_SYSCTL: action.details["value"]})

    def apply_set_redirects(self, action):
        self.write_sysctls(action.details["values"])

    def write_sysctls(self, values):
        """Write {sysctl name: value}; a read-only /proc/sys (unprivileged container) is remounted for the writes,
        then put back."""
        def write_all():
            for name, value in sorted(values.items()):
                with open(static_routes.sysctl_path(name), "w") as handle:
                    handle.write("%s\n" % value)
        try:
            write_all()
            return
        except (IOError, OSError) as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
        rc, unused_out, err = self.ansible.run_command(["mount", "-o", "remount,rw", "/proc/sys"])
        if rc != 0:
            raise VirtlabError("cannot set %s: /proc/sys is read-only and remounting it failed (%s). Give the node "
                               "CAP_SYS_ADMIN, or create it with the sysctls set." % (", ".join(sorted(values)),
                                                                                      err.strip()))
        try:
            write_all()
        finally:
            self.ansible.run_command(["mount", "-o", "remount,ro", "/proc/sys"])

    def apply_write(self, action):
        write_file(action.target, action.details["content"], action.details["mode"])

    def apply_enable(self, action):
        # What `systemctl enable` does for this unit, without needing a running systemd.
        link = static_routes.WANTS_LINK
        if not os.path.isdir(os.path.dirname(link)):
            os.makedirs(os.path.dirname(link), 0o755)
        os.symlink(static_routes.UNIT_PATH, link)


def main():
    StaticRoutesModule()()


if __name__ == "__main__":
    main()
