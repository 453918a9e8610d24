# -*- coding: utf-8 -*-
"""The Docker network modules prune the DOCKER-USER rules they left for bridges that are gone, and only their own,
and only when they create or remove a network (a run with nothing to change stays a no-op)."""

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.virtlab.core.plugins.module_utils.docker import network as docker_network
from ansible_collections.virtlab.core.plugins.module_utils.docker.network import NetworkReconciler

OURS = '-A DOCKER-USER -i {0} -o {0} -m comment --comment "virtlab routed lab network" -j ACCEPT'
RULES = "\n".join([
    "-N DOCKER-USER",
    OURS.format("br-gone00000001"),
    OURS.format("br-here00000001"),
    OURS.format("br-gone00000001"),  # inserted twice: one bridge to prune
    '-A DOCKER-USER -i br-other000001 -o br-other000001 -m comment --comment "someone else" -j ACCEPT',
    "-A DOCKER-USER -i br-other000002 -j DROP",
    OURS.format("br-gone00000002"),
])


class FakeAnsible:
    def __init__(self, rules):
        self.rules = rules
        self.commands = []

    @staticmethod
    def get_bin_path(name, required=False):
        return "/sbin/" + name

    def run_command(self, args):
        self.commands.append(args[2:])
        if args[2:] == ["-S", "DOCKER-USER"]:
            return (0, self.rules, "") if self.rules is not None else (1, "", "No chain/target/match by that name.")
        return 1, "", ""  # -C: no such rule (the networks below are new or gone)


class FakeModule:
    client = None
    check_mode = True

    def __init__(self, rules=RULES):
        self.ansible = FakeAnsible(rules)

    @staticmethod
    def find_network(name):
        return None


@pytest.fixture(autouse=True)
def machine_bridges(tmp_path, monkeypatch):
    """The machine's network devices: br-here00000001 and br-other000001 exist, the others are gone."""
    for device in ("br-here00000001", "br-other000001"):
        (tmp_path / device).mkdir()
    monkeypatch.setattr(docker_network, "SYS_CLASS_NET", str(tmp_path))


def reconciler(module, **values):
    values.setdefault("subnet", "10.77.250.0/24")
    return NetworkReconciler(module, ArgumentSpecValidator(NetworkReconciler.options).validate(
        dict(values, routed=True)).validated_parameters)


def test_only_our_rules_of_gone_bridges_are_found():
    assert docker_network.BridgeFirewall(FakeModule()).gone_bridges() == ["br-gone00000001", "br-gone00000002"]
    assert docker_network.BridgeFirewall(FakeModule(rules=None)).gone_bridges() == []


def test_the_first_network_created_prunes_them_once_for_the_module_run():
    module = FakeModule()
    first, second = reconciler(module, name="a"), reconciler(module, name="b")
    plan = first.plan(first.read())
    assert plan.verbs() == ["create", "allow routed", "prune"]
    assert plan.get("prune").details["bridges"] == ["br-gone00000001", "br-gone00000002"]
    assert plan.texts()[-1] == "pruned the firewall rules of 2 gone bridges (br-gone00000001, br-gone00000002)"
    assert second.plan(second.read()).verbs() == ["create", "allow routed"]
    # The rules are read once, for both networks.
    assert module.ansible.commands.count(["-S", "DOCKER-USER"]) == 1


def test_a_network_removed_prunes_them_and_one_in_place_does_not():
    module = FakeModule()
    kept = reconciler(module, name="kept")
    current = {"name": "kept", "subnet": "10.77.250.0/24", "gateway": None, "internal": False, "routed": True,
               "containers": [], "bridge": "br-here00000001"}
    assert not kept.plan(current)
    # A network in place lists no rule: the chain is read only on the way to creating or removing a bridge.
    assert ["-S", "DOCKER-USER"] not in module.ansible.commands
    removed = reconciler(module, name="old", state="absent")
    assert removed.plan(dict(current, name="old")).verbs() == ["remove", "prune"]


def test_pruning_deletes_each_rule_of_a_gone_bridge_until_none_is_left():
    module = FakeModule()
    firewall = docker_network.BridgeFirewall(module)
    left = {"br-gone00000001": 2}

    def run_command(args):
        verb, bridge = args[2], args[5]
        if verb == "-C":
            return (0, "", "") if left.get(bridge) else (1, "", "")
        left[bridge] -= 1
        return 0, "", ""
    module.ansible.run_command = run_command
    firewall.remove("br-gone00000001")
    assert left == {"br-gone00000001": 0}
