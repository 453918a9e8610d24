# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab network as a Docker bridge: its options, its comparable view, the firewall rule for routed traffic
and the one reconciler that docker_network (one network) and docker_lab (all of them in one call) both use."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import shlex

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.docker.base import Reconciler

NETWORK_OPTIONS = dict(
    name=dict(type="str", required=True, aliases=["network_name"]),
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
SYS_CLASS_NET = "/sys/class/net"


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
    firewall, so this is the one place the Docker modules run a host command. A module run has one (``of``)."""

    COMMENT = "virtlab routed lab network"

    def __init__(self, module):
        self.module = module
        self.unclaimed = None

    @classmethod
    def of(cls, module):
        """The module run's firewall: the rules left by gone bridges are read once, for all its networks."""
        if getattr(module, "bridge_firewall", None) is None:
            module.bridge_firewall = cls(module)
        return module.bridge_firewall

    def rule(self, bridge):
        return ["DOCKER-USER", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", self.COMMENT, "-j", "ACCEPT"]

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

    def gone_bridges(self):
        """The bridges of our rules (exactly our rule, comment included) that are no longer on the machine: a network
        removed outside the modules (docker network rm) leaves its rule behind. The rules are read before the
        bridges, so a network created meanwhile, whose rule follows its bridge, is never taken for gone; and they
        are read while planning, before this run creates any bridge or rule of its own."""
        rc, out, unused_err = self.iptables("-S", "DOCKER-USER")
        if rc != 0:
            return []  # no DOCKER-USER chain: no rule of ours either
        bridges = []
        for line in out.splitlines():
            words = shlex.split(line)
            if len(words) > 3 and words == ["-A"] + self.rule(words[3]) and words[3] not in bridges:
                bridges.append(words[3])
        return [bridge for bridge in bridges if not os.path.exists(os.path.join(SYS_CLASS_NET, bridge))]

    def claim_gone(self):
        """The gone bridges not yet claimed by another network of this module run (one prunes them all). Read at the
        first claim, once per module run: only a run that creates or removes a bridge lists the chain."""
        if self.unclaimed is None:
            self.unclaimed = self.gone_bridges()
        claimed, self.unclaimed = self.unclaimed, []
        return claimed


class NetworkReconciler(Reconciler):
    """One network: ``module`` gives the Docker client, lookups, host commands and check mode; ``params`` is one
    network's options (NETWORK_OPTIONS). Verbs: create, recreate, remove, allow routed, prune."""

    options = NETWORK_OPTIONS
    required_if = NETWORK_REQUIRED_IF
    resource_key = "network"

    def __init__(self, module, params):
        super(NetworkReconciler, self).__init__(module, params)
        self.firewall = BridgeFirewall.of(module)
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

    def read(self):
        name = self.params["name"]
        self.network = self.module.find_network(name)
        current = network_view(self.network)
        if current:
            current["routed"] = self.firewall.present(current["bridge"])
            # The network object lists running containers only; a stopped one is attached too. The low-level
            # listing, because the high-level one inspects every container it finds.
            current["containers"] = sorted(c["Names"][0].lstrip("/") for c in self.client.api.containers(
                all=True, filters={"network": name}))
        return current

    def plan(self, current):
        """Also, when it creates or removes a bridge, the firewall rules of bridges that are gone (left by networks
        removed outside the modules) are pruned: only then, so that a run with nothing to change stays a no-op."""
        plan = super(NetworkReconciler, self).plan(current)
        if plan.has("create", "recreate", "remove"):
            gone = self.firewall.claim_gone()
            if gone:
                plan.add("prune", self.name, text="pruned the firewall rules of {count} gone bridges ({shown})",
                         bridges=gone, count=len(gone), shown=", ".join(gone))
        return plan

    def plan_changes(self, current, plan):
        """Docker cannot change a network in place: recreate it, which fails here when containers are in the way
        (a removal fails only when it is carried out: docker_lab removes the nodes first)."""
        changes = self.recreate_reasons(current, self.desired)
        if changes:
            action = plan.add("recreate", self.name, text="recreated", changes=changes, summary=", ".join(
                "%s %s -> %s" % (k, old, new) for k, (old, new) in sorted(changes.items())))
            self.check_attached(current, "recreated (%s)" % action.details["summary"])

    def plan_more(self, current, plan):
        """The firewall rule of a routed network, with a new bridge or when it was lost."""
        if self.desired["routed"] and (plan or not current["routed"]):
            plan.add("allow routed", self.name, text="allowed routed traffic")

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

    def expected(self, current, plan):
        """The network as it will be after the plan (check mode's answer)."""
        if not plan:
            return current
        if not self.desired:
            return {}
        return dict(current, **dict((k, v) for k, v in self.desired.items() if v is not None))

    # Acting: one method a verb -----------------------------------------------------------
    def apply_remove(self, action):
        self.check_attached(self.current, "removed")
        self.firewall.remove(self.current["bridge"])
        for container in self.current["containers"]:
            self.network.disconnect(container, force=True)
        self.network.remove()
        self.network = None

    def apply_create(self, action):
        import docker.types  # only reached when the SDK imported fine
        desired = self.desired
        pool = docker.types.IPAMPool(subnet=desired["subnet"], gateway=desired["gateway"])
        self.network = self.client.networks.create(
            desired["name"], driver="bridge", internal=desired["internal"], labels=self.params["labels"],
            ipam=docker.types.IPAMConfig(pool_configs=[pool]), check_duplicate=True)

    def apply_recreate(self, action):
        self.apply_remove(action)
        self.apply_create(action)

    def apply_allow_routed(self, action):
        self.firewall.add(network_view(self.network)["bridge"])

    def apply_prune(self, action):
        for bridge in action.details["bridges"]:
            self.firewall.remove(bridge)

    def failed_step(self, plan):
        return "%s network %s" % (plan[0].verb, self.name)

    def read_back(self, current, plan):
        """The network as it is now, with its firewall rule; {} once removed."""
        after = network_view(self.network) if self.desired else {}
        if after:
            after["routed"] = self.firewall.present(after["bridge"])
        return after
