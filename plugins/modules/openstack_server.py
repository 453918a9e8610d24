#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: openstack_server
short_description: Manage an OpenStack (Nova) server, and resize it to another flavor
version_added: 0.1.0
description:
  - Creates a server from an image and a flavor on the declared networks (with optional fixed
    addresses), a key pair, security groups and user data, and waits until it is C(ACTIVE).
  - A different O(flavor) on an existing server means a resize. A running server cannot simply
    be given more cores, so the module resizes it, waits for C(VERIFY_RESIZE) and confirms the
    resize. Clouds that confirm on their own (the server comes back C(ACTIVE) with the new
    flavor) are accepted too.
  - Security groups of an existing server are changed in place (added and removed). Its image,
    networks, key pair and user data are fixed at creation; a difference there is reported as a
    warning, never acted upon (delete the server and run again to change them).
  - A server that goes to C(ERROR) fails the task at once with the cloud's fault message; one
    still building when O(timeout) passes is reported as a timeout.
  - Before anything is created, the image, flavor, networks, fixed addresses, key pair and
    security groups are looked up; an unknown name fails with the list of names that exist.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.openstack
options:
  name:
    description: Name of the server (unique in the project).
    type: str
    required: true
  state:
    description:
      - V(present) creates the server when it does not exist and leaves its power state as it is.
      - V(started) does the same and starts it when it is stopped (C(SHUTOFF)); V(stopped) stops it (a new
        server is created, then stopped). Both wait for the new status when O(wait=true). The same words as the
        other backends' provisioning (started, stopped, absent).
      - V(absent) deletes the server (and waits until it is gone when O(wait=true)).
    type: str
    choices: [present, started, stopped, absent]
    default: present
  image:
    description: Name or id of the image to boot. Required to create the server.
    type: str
  flavor:
    description:
      - Name or id of the flavor. Required to create the server; a different flavor on an
        existing server resizes it.
    type: str
  networks:
    description:
      - Networks of the server's ports, in order (the first one carries the default route on
        most images). Required to create the server.
    type: list
    elements: dict
    suboptions:
      network:
        description: Name or id of the network.
        type: str
        required: true
      fixed_ip:
        description: The server's address on this network. Neutron chooses when left out.
        type: str
  key_name:
    description: Name of the key pair whose public key is installed for SSH.
    type: str
  security_groups:
    description:
      - Names of the server's security groups. Nova's V(default) when left out at creation; not
        managed on an existing server when left out.
    type: list
    elements: str
  user_data:
    aliases: [userdata]
    description: Cloud-init user data (plain text; the module encodes it).
    type: str
"""

EXAMPLES = r"""
- name: The calculator service's VM, on PN1 and PN2 with fixed addresses
  virtlab.core.openstack_server:
    cloud: mylab
    name: virtlab-cs
    image: debian-12
    flavor: m1.small
    key_name: virtlab
    security_groups: [virtlab-lab]
    networks:
      - {network: virtlab-pn1, fixed_ip: 10.77.1.10}
      - {network: virtlab-pn2, fixed_ip: 10.77.2.10}

- name: Give it more memory and cores (resize, then confirm)
  virtlab.core.openstack_server:
    cloud: mylab
    name: virtlab-cs
    flavor: m1.medium
"""

RETURN = r"""
server:
  description: The server as it is after the task (in check mode, as it would be); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Server id (absent in check mode before creation).
      type: str
    name:
      description: Server name.
      type: str
    status:
      description: Nova's status.
      type: str
      sample: ACTIVE
    flavor:
      description: Name of the flavor.
      type: str
      sample: m1.small
    image_id:
      description: Id of the image it booted from.
      type: str
    key_name:
      description: Key pair.
      type: str
    security_groups:
      description: Names of its security groups, sorted.
      type: list
      elements: str
    addresses:
      description: Fixed addresses by network name.
      type: dict
      sample: {virtlab-pn1: [10.77.1.10]}
    floating_ips:
      description: Floating addresses.
      type: list
      elements: str
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: ["resize from m1.tiny to m1.small", "confirm resize"]
verbs:
  description:
    - The verb of each of those steps, in order (V(create), V(start), V(resize), V(confirm resize), ...);
      what a playbook decides on instead of the text of RV(actions). Whether the server would be created or
      started is RV(not_in_place).
  returned: always
  type: list
  elements: str
  sample: [create]
  version_added: 0.3.0
not_in_place:
  description:
    - Whether this task creates or starts the server (in check mode, would) - it was not running as declared.
      In check mode there is nothing to log into on it yet.
    - The same test as RV(virtlab.core.docker_lab#module:not_in_place) makes for a lab's nodes.
  returned: always
  type: bool
  sample: true
  version_added: 0.3.0
"""

import base64
import copy

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.openstack.addresses import address_in
from ansible_collections.virtlab.core.plugins.module_utils.openstack.base import OpenStackModule
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.openstack.waiters import fault_message


def flavor_name(server):
    flavor = server.flavor or {}
    return flavor.get("original_name") or flavor.get("name") or flavor.get("id")


def server_view(server):
    if server is None:
        return {}
    addresses, floating = {}, []
    for network, entries in sorted((server.addresses or {}).items()):
        for entry in entries:
            if entry.get("OS-EXT-IPS:type") == "floating":
                floating.append(entry["addr"])
            else:
                addresses.setdefault(network, []).append(entry["addr"])
    return {
        "id": server.id,
        "name": server.name,
        "status": server.status,
        "flavor": flavor_name(server),
        "image_id": (server.image or {}).get("id"),
        "key_name": server.key_name,
        "security_groups": sorted(set(g["name"] for g in server.security_groups or [])),
        "addresses": dict((k, sorted(v)) for k, v in addresses.items()),
        "floating_ips": sorted(floating),
    }


class OpenStackServer(OpenStackModule):
    resource_key = "server"
    machine = True  # returns verbs and not_in_place
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "started", "stopped", "absent"]),
        image=dict(type="str"),
        flavor=dict(type="str"),
        networks=dict(type="list", elements="dict", options=dict(
            network=dict(type="str", required=True),
            fixed_ip=dict(type="str"),
        )),
        key_name=dict(type="str", no_log=False),
        security_groups=dict(type="list", elements="str"),
        user_data=dict(type="str", aliases=["userdata"]),
    )

    # Declared state, looked up before anything changes ----------------------------------
    def resolve_networks(self):
        result = []
        for index, spec in enumerate(self.params["networks"] or []):
            network = self.require_network(spec["network"])
            fixed_ip = spec["fixed_ip"]
            if fixed_ip:
                cidrs = [s.cidr for s in self.conn.network.subnets(network_id=network.id)]
                try:
                    inside = any(address_in(fixed_ip, cidr) for cidr in cidrs)
                except ValueError:
                    raise VirtlabError("networks[%d]: fixed_ip %r is not an IP address" % (index, fixed_ip))
                if not inside:
                    raise VirtlabError("networks[%d]: fixed_ip %s is in no subnet of network %s (%s)"
                                       % (index, fixed_ip, spec["network"], ", ".join(cidrs) or "no subnet"))
            result.append({"network": network, "name": network.name, "fixed_ip": fixed_ip})
        return result

    def resolve_security_groups(self):
        groups = self.params["security_groups"]
        if groups is None:
            return None
        for name in groups:
            self.require_security_group(name)
        return sorted(set(groups))

    def require_keypair(self):
        name = self.params["key_name"]
        if name and self.conn.compute.find_keypair(name) is None:
            raise self._unknown("key pair", name, (k.name for k in self.conn.compute.keypairs()),
                                " (openstack keypair create --public-key ~/.ssh/id_ed25519.pub NAME)")

    # The one decision for check mode and the real run ----------------------------------
    def find(self):
        return self.find_server(self.params["name"])

    def load(self, resource):
        if resource is not None:
            resource = self.conn.compute.get_server(resource.id)
        return resource, server_view(resource)

    def resolve(self, server, current):
        """The declared image, flavor, networks and groups, looked up before anything changes."""
        params = self.params
        self.image = self.flavor = None
        self.networks, self.groups = [], None
        if params["image"] and (server is None or params["image"] != current["image_id"]):
            self.image = self.require_image(params["image"])
        if params["flavor"]:
            self.flavor = self.require_flavor(params["flavor"])
        self.networks = self.resolve_networks()
        self.groups = self.resolve_security_groups()
        if server is None:
            self.require_keypair()

    def plan(self, current):
        """The actions, and in ``self.planned`` the server as they leave it; what is declared but cannot be
        changed on an existing server is a warning."""
        params, server = self.params, self.resource
        actions = Plan()
        if params["state"] == "absent":
            if current:
                actions.add("delete")
            self.planned = {}
            return actions
        self.resolve(server, current)
        flavor, groups, networks = self.flavor, self.groups, self.networks
        warnings = []
        if not current:
            missing = [key for key in ("image", "flavor", "networks") if not params[key]]
            if missing:
                raise VirtlabError("Server %s does not exist; creating it needs %s"
                                   % (params["name"], ", ".join(missing)))
            after = {"name": params["name"], "status": "ACTIVE", "flavor": flavor.name,
                     "image_id": self.image.id, "key_name": params["key_name"],
                     "security_groups": groups or ["default"],
                     "addresses": dict((n["name"], [n["fixed_ip"]] if n["fixed_ip"] else [])
                                       for n in networks),
                     "floating_ips": []}
            actions.add("create")
            self.plan_power(actions, after)
            self.planned = after
            return actions
        if current["status"] == "ERROR":
            raise VirtlabError("Server %s is in ERROR (%s); delete it (state=absent) and run again"
                               % (params["name"], fault_message(server)), server=current)
        after = copy.deepcopy(current)
        if current["status"] == "VERIFY_RESIZE":
            actions.add("confirm resize")
        if flavor is not None and current["flavor"] not in (flavor.name, flavor.id):
            actions.add("resize", flavor=flavor, previous=current["flavor"])
            after["flavor"] = flavor.name
        if groups is not None and groups != current["security_groups"]:
            for name in sorted(set(groups) - set(current["security_groups"])):
                actions.add("add security group", name=name)
            for name in sorted(set(current["security_groups"]) - set(groups)):
                actions.add("remove security group", name=name)
            after["security_groups"] = groups
        if self.image is not None and current["image_id"] not in (None, "", self.image.id):
            warnings.append("Server %s was built from another image; the image of an existing "
                            "server is not changed" % params["name"])
        if params["key_name"] is not None and params["key_name"] != current["key_name"]:
            warnings.append("Server %s has key pair %s; the key pair of an existing server is "
                            "not changed" % (params["name"], current["key_name"]))
        for network in networks:
            have = current["addresses"].get(network["name"])
            if have is None or (network["fixed_ip"] and network["fixed_ip"] not in have):
                warnings.append("Server %s has no port on %s%s; the networks of an existing server "
                                "are not changed" % (params["name"], network["name"],
                                                     " with address %s" % network["fixed_ip"]
                                                     if network["fixed_ip"] else ""))
        for warning in warnings:
            self.ansible.warn(warning)
        self.plan_power(actions, after)
        self.planned = after
        return actions

    def plan_power(self, actions, after):
        """started: start a stopped server; stopped: stop a running one (or the one just created)."""
        state = self.params["state"]
        if state == "stopped" and after["status"] != "SHUTOFF":
            if actions.has("resize", "confirm resize"):
                raise VirtlabError("Server %s: a resize and a stop in one task are not supported; resize it with "
                                   "state=started first" % self.params["name"])
            actions.add("stop")
            after["status"] = "SHUTOFF"
        elif state == "started" and after["status"] == "SHUTOFF":
            actions.add("start")
            actions.insert(0, actions.pop())    # before a resize, which waits for the server to be ACTIVE
            after["status"] = "ACTIVE"

    # Acting ----------------------------------------------------------------------------
    def create(self, networks, groups):
        """The server, built (waited for with ``wait``)."""
        attrs = dict(name=self.params["name"], image_id=self.image.id, flavor_id=self.flavor.id,
                     networks=[dict({"uuid": n["network"].id},
                                    **({"fixed_ip": n["fixed_ip"]} if n["fixed_ip"] else {}))
                               for n in networks])
        if self.params["key_name"]:
            attrs["key_name"] = self.params["key_name"]
        if groups:
            attrs["security_groups"] = [{"name": name} for name in groups]
        if self.params["user_data"]:
            attrs["user_data"] = base64.b64encode(self.params["user_data"].encode("utf-8")).decode("ascii")
        server = self.conn.compute.create_server(**attrs)
        if self.params["wait"]:
            server = self.wait_for_server(server.id, lambda s: s.status == "ACTIVE",
                                          "the build of server %s" % self.params["name"])
        return server

    def resize(self, server, flavor):
        compute = self.conn.compute
        compute.resize_server(server, flavor.id)
        what = "the resize of server %s to %s" % (server.name, flavor.name)

        def resized(candidate):
            # VERIFY_RESIZE: waiting for our confirmation. ACTIVE with the new flavor: the
            # cloud confirmed on its own.
            return candidate.status == "VERIFY_RESIZE" or (
                candidate.status == "ACTIVE" and flavor_name(candidate) in (flavor.name, flavor.id))
        server = self.wait_for_server(server.id, resized, what)
        if server.status == "VERIFY_RESIZE":
            server = self.confirm(server)
        return server

    def confirm(self, server):
        self.conn.compute.confirm_server_resize(server)
        return self.wait_for_server(server.id, lambda s: s.status == "ACTIVE",
                                    "the confirmation of the resize of server %s" % server.name)

    def apply_stop(self, action):
        self.conn.compute.stop_server(self.resource)
        if self.params["wait"]:
            self.resource = self.wait_for_server(self.resource.id, lambda s: s.status == "SHUTOFF",
                                                 "server %s to stop" % self.params["name"])

    def apply_start(self, action):
        self.conn.compute.start_server(self.resource)
        if self.params["wait"]:
            self.resource = self.wait_for_server(self.resource.id, lambda s: s.status == "ACTIVE",
                                                 "server %s to start" % self.params["name"])

    def apply_delete(self, action):
        compute, server = self.conn.compute, self.resource
        compute.delete_server(server)
        if self.params["wait"]:
            self.wait_for_gone(lambda: compute.find_server(server.id), "the deletion of server %s" % server.name)

    def apply_create(self, action):
        self.resource = self.create(self.networks, self.groups)

    def apply_confirm_resize(self, action):
        self.resource = self.confirm(self.resource)

    def apply_resize(self, action):
        self.resource = self.resize(self.resource, action.details["flavor"])

    def apply_add_security_group(self, action):
        self.conn.compute.add_security_group_to_server(self.resource,
                                                       self.require_security_group(action.details["name"]))

    def apply_remove_security_group(self, action):
        self.conn.compute.remove_security_group_from_server(self.resource,
                                                            self.require_security_group(action.details["name"]))

    @staticmethod
    def describe(verb, details):
        if verb == "resize":
            return "resize from %s to %s" % (details["previous"], details["flavor"].name)
        if verb.endswith("security group"):
            return "%s %s" % (verb, details["name"])
        return verb


def main():
    OpenStackServer()()


if __name__ == "__main__":
    main()
