# -*- coding: utf-8 -*-
"""The Docker reconcilers plan data (Action records) and render the texts users see only from them."""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.virtlab.core.plugins.module_utils.docker.commit import CommitReconciler
from ansible_collections.virtlab.core.plugins.module_utils.docker.network import NetworkReconciler
from ansible_collections.virtlab.core.plugins.module_utils.docker.node import NodeReconciler


class Found:
    def __init__(self, ident, attrs=None):
        self.id = ident
        self.attrs = attrs or {}


class NoFirewall:
    """The host's commands: iptables has no DOCKER-USER chain (no rule of a gone bridge to prune)."""

    @staticmethod
    def get_bin_path(name, required=False):
        return "/sbin/" + name

    @staticmethod
    def run_command(args):
        return 1, "", "iptables: No chain/target/match by that name."


class FakeModule:
    """What a reconciler's planning asks of its module: lookups, and the firewall's listing."""

    client = None
    check_mode = True
    ansible = NoFirewall()

    def find_image(self, name):
        return Found("sha256:img")

    def find_network(self, name):
        return Found(name, {"Internal": True, "IPAM": {"Config": [{"Subnet": "10.78.1.0/24"}]}})


def params(reconciler, **values):
    return ArgumentSpecValidator(reconciler.options).validate(values).validated_parameters


def network(**values):
    return NetworkReconciler(FakeModule(), params(NetworkReconciler, name="n", subnet="10.78.1.0/24", **values))


def test_a_new_routed_network_is_created_then_opened():
    plan = network(routed=True).plan({})
    assert plan.verbs() == ["create", "allow routed"] and set(a.target for a in plan) == {"n"}
    assert plan.texts() == ["created", "allowed routed traffic"]


def test_a_changed_network_is_recreated_with_its_reasons_as_data():
    current = {"name": "n", "subnet": "10.78.2.0/24", "gateway": None, "internal": False, "routed": False,
               "containers": []}
    plan = network().plan(current)
    assert plan.texts() == ["recreated"]
    assert plan.get("recreate").details["changes"] == {"subnet": ("10.78.2.0/24", "10.78.1.0/24")}


def test_a_network_to_remove_is_planned_even_with_containers_attached():
    reconciler = NetworkReconciler(FakeModule(), params(NetworkReconciler, name="n", state="absent"))
    assert reconciler.plan({"name": "n", "containers": ["c"]}).texts() == ["removed"]
    assert not reconciler.plan({})


def node_view(**changes):
    view = {"name": "x", "running": True, "image": "img", "image_id": "sha256:img", "hostname": "x",
            "capabilities": [], "published_ports": [], "sysctls": {}, "systemd": True,
            "env": {"container": "docker"}, "labels": {}, "restart_policy": "unless-stopped",
            "networks": {"n": "10.78.1.10"}}
    view.update(changes)
    return view


def node(**values):
    return NodeReconciler(FakeModule(), params(NodeReconciler, name="x", image="img", **values))


def test_node_network_changes_are_actions_on_the_node_with_the_network_as_detail():
    plan = node(networks=[{"name": "n", "ipv4_address": "10.78.1.11"}, {"name": "m"}]).plan(
        node_view(networks={"n": "10.78.1.10", "old": "10.9.0.2"}, running=False))
    assert plan.verbs() == ["disconnect", "connect", "readdress", "start"]
    assert set(a.target for a in plan) == {"x"}
    assert plan.texts() == ["disconnected old", "connected m (any address)", "re-addressed n (10.78.1.10 -> 10.78.1.11)",
                            "started"]
    assert plan.get("connect").details["address"] is None


def test_a_recreated_node_is_started_again_and_check_mode_shows_it_running():
    reconciler = node(hostname="renamed", networks=[{"name": "n", "ipv4_address": "10.78.1.10"}])
    current = node_view()
    plan = reconciler.plan(current)
    assert plan.verbs() == ["recreate", "start"]
    assert plan.texts() == ["recreated (hostname x -> renamed)", "started"]
    assert reconciler.expected(current, plan)["running"] is True


def test_commit_texts_name_what_differs():
    class Container:
        id = "c1"

        def diff(self):
            return [{"Kind": 1, "Path": "/etc/x"}]

    reconciler = CommitReconciler(FakeModule(), params(CommitReconciler, container="c", repository="r", tag="t"))
    reconciler.container = Container()
    assert reconciler.plan({}).texts() == ["committed"]
    plan = reconciler.plan({"source_container": "c1", "revision": "0", "fingerprint": None})
    assert plan.get("commit").target == "r:t" and plan.get("commit").details["stale"] == ["revision", "fingerprint"]
    assert plan.texts() == ["committed (revision, fingerprint differs)"]
