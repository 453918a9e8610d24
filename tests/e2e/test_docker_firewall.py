# -*- coding: utf-8 -*-
"""The lab's DOCKER-USER rules on the real engine: a network removed outside the modules (docker network rm) leaves
its rule behind; the Docker network module prunes such rules of its own (the bridge is gone) when it creates or
removes a network, says so in check mode without touching them, and leaves every other rule alone."""

import json
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NETWORK, SUBNET = "virtlab-e2e-firewall", "10.77.249.0/24"  # in the default lab's block, used by no lab network
GONE = "br-e2e0gone0001"  # no such device: the bridge of a network removed by hand
FOREIGN = ["DOCKER-USER", "-i", "br-e2e0gone0002", "-o", "br-e2e0gone0002", "-m", "comment", "--comment",
           "not virtlab", "-j", "ACCEPT"]


def ours(bridge):
    return ["DOCKER-USER", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", "virtlab routed lab network",
            "-j", "ACCEPT"]


def iptables(*args):
    return subprocess.run(["iptables", "-w"] + list(args), capture_output=True, text=True, check=False).returncode


def network_module(state="present", check=False):
    """virtlab.core.docker_network on the controller, as a user runs it ad hoc; returns its result."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    args = {"name": NETWORK, "state": state, "subnet": SUBNET, "internal": True, "routed": True}
    proc = subprocess.run(["ansible", "localhost", "-m", "virtlab.core.docker_network", "-a", json.dumps(args)]
                          + (["--check"] if check else []), cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture
def left_rules():
    """A rule of ours and a foreign one for bridges that are gone; whatever the test leaves is cleaned up."""
    assert iptables("-I", *ours(GONE)) == 0 and iptables("-I", *FOREIGN) == 0
    yield
    for rule in (ours(GONE), FOREIGN):
        while iptables("-C", *rule) == 0:
            iptables("-D", *rule)
    subprocess.run(["docker", "network", "rm", NETWORK], capture_output=True, check=False)


def pruned(result):
    return [line for line in result["actions"] if line.startswith("pruned the firewall rules of ")]


def test_gone_bridges_rules_are_pruned_on_create_and_remove_and_foreign_rules_stay(left_rules):
    checked = network_module(check=True)
    assert checked["changed"] and GONE in pruned(checked)[0], checked["actions"]
    assert iptables("-C", *ours(GONE)) == 0, "check mode pruned a rule"

    created = network_module()
    assert created["changed"] and GONE in pruned(created)[0], created["actions"]
    assert iptables("-C", *ours(GONE)) != 0 and iptables("-C", *FOREIGN) == 0
    assert iptables("-C", *ours(created["network"]["bridge"])) == 0, "the new network's own rule is missing"

    again = network_module()
    assert not again["changed"] and again["actions"] == [], again["actions"]

    assert iptables("-I", *ours(GONE)) == 0
    bridge = created["network"]["bridge"]
    removed = network_module(state="absent")
    assert removed["changed"] and GONE in pruned(removed)[0], removed["actions"]
    assert iptables("-C", *ours(GONE)) != 0 and iptables("-C", *ours(bridge)) != 0
    assert iptables("-C", *FOREIGN) == 0
