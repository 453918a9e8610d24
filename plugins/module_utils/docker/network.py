# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab network as a Docker bridge: its options, its comparable view, the firewall rule for routed traffic
and the one reconciler that docker_network (one network) and docker_lab (all of them in one call) both use."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.docker.base import APIError, Reconciler

NETWORK_OPTIONS = dict(
    name=dict(type="str", required=True),
    subnet=dict(type="str"),
    gateway=dict(type="str"),
    internal=dict(type="bool", default=False),
    routed=dict(type="bool", default=False),
    labels=dict(type="dict", default={}),
    force=dict(type="bool", default=False),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
NETWORK_REQUIRED_IF = [("state", "present", ["subnet"])]

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


class NetworkReconciler(Reconciler):
    """One network: ``module`` gives the Docker client, lookups, host commands and check mode; ``params`` is one
    network's options (NETWORK_OPTIONS)."""

    def __init__(self, module, params):
        super(NetworkReconciler, self).__init__(module, params)
        self.firewall = BridgeFirewall(module)
        self.network = None

    def desired_view(self):
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

    def plan(self, current, desired):
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

    def find_and_plan(self):
        name = self.params["name"]
        self.network = self.module.find_network(name)
        current = network_view(self.network)
        if current:
            current["routed"] = self.firewall.present(current["bridge"])
            # The network object lists running containers only; a stopped one is attached too. The low-level
            # listing, because the high-level one inspects every container it finds.
            current["containers"] = sorted(c["Names"][0].lstrip("/") for c in self.client.api.containers(
                all=True, filters={"network": name}))
        self.current = current
        self.desired = self.desired_view() if self.params["state"] == "present" else {}
        self.actions = self.plan(current, self.desired)
        if "recreated" in self.actions:
            self.check_attached(current, "recreated (%s)" % ", ".join(
                "%s %s -> %s" % (k, old, new)
                for k, (old, new) in sorted(self.recreate_reasons(current, self.desired).items())))
        return self.actions

    def expected(self):
        """The network as it will be after the actions (check mode's answer)."""
        if not self.actions:
            return self.current
        if not self.desired:
            return {}
        return dict(self.current, **dict((k, v) for k, v in self.desired.items() if v is not None))

    def remove(self):
        self.check_attached(self.current, "removed")
        self.firewall.remove(self.current["bridge"])
        for container in self.current["containers"]:
            self.network.disconnect(container, force=True)
        self.network.remove()

    def create(self):
        import docker.types  # only reached when the SDK imported fine
        desired = self.desired
        pool = docker.types.IPAMPool(subnet=desired["subnet"], gateway=desired["gateway"])
        return self.client.networks.create(
            desired["name"], driver="bridge", internal=desired["internal"], labels=self.params["labels"],
            ipam=docker.types.IPAMConfig(pool_configs=[pool]), check_duplicate=True)

    def apply(self):
        """Carry out the planned actions; returns the network as it is now."""
        actions = self.actions
        try:
            if "removed" in actions or "recreated" in actions:
                self.remove()
            if "created" in actions or "recreated" in actions:
                self.network = self.create()
            after = network_view(self.network) if self.desired else {}
            if "allowed routed traffic" in actions:
                self.firewall.add(after["bridge"])
            if after:
                after["routed"] = self.firewall.present(after["bridge"])
        except APIError as exc:
            raise self.module.api_error("%s network %s" % (actions[0].rstrip("d"), self.params["name"]), exc)
        return after
