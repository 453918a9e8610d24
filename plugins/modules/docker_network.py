#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docker_network
short_description: Manage a lab network as a Docker bridge network
version_added: 0.1.0
description:
  - Creates, keeps or removes a Docker bridge network with one IPv4 subnet, through the Docker SDK for Python.
  - A network is compared on its subnet, gateway and I(internal) flag. Docker cannot change these in place, so a
    difference means the network is recreated; when containers are attached that needs O(force=true).
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.docker
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  name:
    description: Name of the Docker network.
    type: str
    required: true
  subnet:
    description:
      - The network's IPv4 subnet in CIDR notation. Required with O(state=present).
    type: str
  gateway:
    description:
      - The address Docker gives the machine's bridge on this network.
      - Lab routers must not use it. When omitted Docker chooses it, and it is not compared.
    type: str
  internal:
    description:
      - An internal network has no route to the machine's real network (no NAT, no published ports).
    type: bool
    default: false
  routed:
    description:
      - The network carries traffic forwarded by lab routers, whose source or destination lies outside the
        subnet. Docker drops such frames on internal networks; with V(true) the module adds a host firewall rule
        (in Docker's C(DOCKER-USER) chain) accepting frames that enter and leave the same bridge, so they stay
        inside the network. The rule is checked, and restored if lost, on every run.
      - Needs C(iptables) on the machine running the engine.
    type: bool
    default: false
  labels:
    description: Labels to set on the network when it is created.
    type: dict
    default: {}
  force:
    description:
      - Disconnect attached containers when the network must be recreated or removed.
      - Without it such a change fails and lists the containers.
    type: bool
    default: false
  state:
    description: Whether the network should exist.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The calculator's network, with no way out of the lab
  virtlab.core.docker_network:
    name: virtlab-pn1
    subnet: 10.77.1.0/24
    gateway: 10.77.1.254
    internal: true

- name: Remove it, disconnecting what is still attached
  virtlab.core.docker_network:
    name: virtlab-pn1
    state: absent
    force: true
"""

RETURN = r"""
network:
  description: The network as it is after the task; empty when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Network name.
      type: str
      sample: virtlab-pn1
    id:
      description: Docker's network id.
      type: str
    subnet:
      description: IPv4 subnet.
      type: str
      sample: 10.77.1.0/24
    gateway:
      description: The bridge's address on the subnet.
      type: str
      sample: 10.77.1.254
    internal:
      description: Whether the network is internal.
      type: bool
    bridge:
      description: The Linux bridge behind the network.
      type: str
      sample: br-0efe4d0da3a1
    routed:
      description: Whether routed traffic is accepted on the bridge.
      type: bool
    containers:
      description: Names of the attached containers.
      type: list
      elements: str
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: [created]
"""

import ipaddress

from ansible_collections.virtlab.core.plugins.module_utils.base import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.docker import APIError, DockerModule

BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"


def network_view(network):
    """The comparable, returnable view of a Docker network object."""
    if network is None:
        return {}
    attrs = network.attrs
    configs = (attrs.get("IPAM") or {}).get("Config") or [{}]
    ipv4 = next((c for c in configs if ":" not in c.get("Subnet", "")), configs[0])
    return {
        "name": attrs["Name"],
        "id": attrs["Id"],
        "subnet": ipv4.get("Subnet"),
        "gateway": ipv4.get("Gateway"),
        "internal": bool(attrs.get("Internal")),
        "containers": sorted(c["Name"] for c in (attrs.get("Containers") or {}).values()),
        "bridge": (attrs.get("Options") or {}).get(BRIDGE_NAME_OPTION) or "br-" + attrs["Id"][:12],
    }


class BridgeFirewall:
    """The DOCKER-USER rule that lets routed frames cross a lab bridge. Docker's SDK has no API for the host
    firewall, so this is the one place the Docker modules run a host command."""

    def __init__(self, module):
        self.module = module

    def rule(self, bridge):
        return ["DOCKER-USER", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", "virtlab routed lab network",
                "-j", "ACCEPT"]

    def iptables(self, *args):
        binary = self.module.ansible.get_bin_path("iptables", required=True)
        return self.module.ansible.run_command([binary, "-w"] + list(args))

    def present(self, bridge):
        return self.iptables("-C", *self.rule(bridge))[0] == 0

    def add(self, bridge):
        rc, unused_part, err = self.iptables("-I", *self.rule(bridge))
        if rc != 0:
            raise VirtlabError("cannot add the firewall rule for routed traffic on %s: %s" % (bridge, err.strip()))

    def remove(self, bridge):
        while self.present(bridge):
            self.iptables("-D", *self.rule(bridge))


class DockerNetworkModule(DockerModule):
    argument_spec = dict(
        name=dict(type="str", required=True),
        subnet=dict(type="str"),
        gateway=dict(type="str"),
        internal=dict(type="bool", default=False),
        routed=dict(type="bool", default=False),
        labels=dict(type="dict", default={}),
        force=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module_kwargs = dict(required_if=[("state", "present", ["subnet"])])

    def desired(self):
        """The declared network, normalised (e.g. 10.77.1.5/24 is not a subnet: say so now)."""
        try:
            subnet = ipaddress.ip_network(self.params["subnet"], strict=True)
        except ValueError as exc:
            raise VirtlabError("subnet %r is not a valid subnet: %s" % (self.params["subnet"], exc))
        gateway = self.params["gateway"]
        if gateway is not None:
            try:
                gateway_ip = ipaddress.ip_address(gateway)
            except ValueError:
                raise VirtlabError("gateway %r is not an IP address" % gateway)
            if gateway_ip not in subnet:
                raise VirtlabError("gateway %s is not inside subnet %s" % (gateway, subnet))
            gateway = str(gateway_ip)
        return {"name": self.params["name"], "subnet": str(subnet), "gateway": gateway,
                "internal": self.params["internal"], "routed": self.params["routed"]}

    def needed_actions(self, current, desired):
        """The one decision, for check mode and the real run: [] or created/recreated/removed."""
        if self.params["state"] == "absent":
            return ["removed"] if current else []
        if not current:
            return ["created"] + (["allowed routed traffic"] if desired["routed"] else [])
        actions = ["recreated"] if self.recreate_reasons(current, desired) else []
        if desired["routed"] and (actions or not current["routed"]):
            actions.append("allowed routed traffic")
        return actions

    @staticmethod
    def recreate_reasons(current, desired):
        """What Docker cannot change in place: {key: (current, desired)}."""
        return differences(current, dict((k, desired[k]) for k in ("subnet", "gateway", "internal")))

    def check_attached(self, current, action):
        if current.get("containers") and not self.params["force"]:
            raise VirtlabError(
                "Network %s must be %s but containers are attached to it: %s. Remove them first, or set force=true "
                "to disconnect them." % (current["name"], action, ", ".join(current["containers"])),
                network=current)

    def remove(self, network, current):
        self.check_attached(current, "removed")
        self.firewall.remove(current["bridge"])
        for container in current["containers"]:
            network.disconnect(container, force=True)
        network.remove()

    def create(self, desired):
        import docker.types  # only reached when the SDK imported fine
        pool = docker.types.IPAMPool(subnet=desired["subnet"], gateway=desired["gateway"])
        return self.client.networks.create(
            desired["name"], driver="bridge", internal=desired["internal"], labels=self.params["labels"],
            ipam=docker.types.IPAMConfig(pool_configs=[pool]), check_duplicate=True)

    def run(self):
        name = self.params["name"]
        self.firewall = BridgeFirewall(self)
        network = self.find_network(name)
        current = network_view(network)
        if current:
            current["routed"] = self.firewall.present(current["bridge"])
            # The network object lists running containers only; a stopped one is attached too.
            current["containers"] = sorted(c.name for c in self.client.containers.list(
                all=True, filters={"network": name}))
        desired = self.desired() if self.params["state"] == "present" else {}
        actions = self.needed_actions(current, desired)
        if "recreated" in actions:
            self.check_attached(current, "recreated (%s)" % ", ".join(
                "%s %s -> %s" % (k, old, new) for k, (old, new) in sorted(self.recreate_reasons(current, desired).items())))
        after = current
        if actions and not self.check_mode:
            try:
                if "removed" in actions or "recreated" in actions:
                    self.remove(network, current)
                if "created" in actions or "recreated" in actions:
                    network = self.create(desired)
                after = network_view(network) if desired else {}
                if "allowed routed traffic" in actions:
                    self.firewall.add(after["bridge"])
                if after:
                    after["routed"] = self.firewall.present(after["bridge"])
            except APIError as exc:
                raise self.api_error("%s network %s" % (actions[0].rstrip("d"), name), exc)
        elif actions:
            after = {} if not desired else dict(current, **dict((k, v) for k, v in desired.items() if v is not None))
        self.exit(bool(actions), before=current, after=after, network=after, actions=actions)


def main():
    DockerNetworkModule()()


if __name__ == "__main__":
    main()
