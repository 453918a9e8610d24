# -*- coding: utf-8 -*-
"""Bad topology data never crashes, on any inventory: `ansible-playbook site.yml` stops at once with the
validator's one-line message naming the host or network, the field and the value - never a Python exception
text or a Jinja undefined - and creates nothing."""

import copy
import json
import os
import subprocess

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PREFIX = "vbad-"
NOT_A_VALIDATOR_MESSAGE = ("Traceback", "object of type", "undefined", "has no attribute", "ValueError",
                           "TypeError", "KeyError", "is not a valid IPv4")


def topology(inventory="docker"):
    with open(os.path.join(REPO, "inventories", inventory, "group_vars", "all", "topology.yml")) as handle:
        return yaml.safe_load(handle)["virtlab_topology"]


def broken(change):
    data = copy.deepcopy(topology())
    change(data)
    return data


CASES = {
    "cidr /33": (lambda t: t["networks"]["pn2"].update(cidr="10.77.2.0/33"), "network pn2: cidr '10.77.2.0/33'"),
    "no cidr": (lambda t: t["networks"]["pn2"].pop("cidr"), "network pn2: cidr is missing"),
    "misspelled key": (lambda t: t.update(servces=t.pop("services")), "unknown key 'servces'"),
    "invalid address": (lambda t: t["nodes"]["cs"]["interfaces"].update(pn1="10.77.1.300"),
                        "host cs: interfaces.pn1: '10.77.1.300' is not an IP address"),
    "non-string address": (lambda t: t["nodes"]["cs"]["interfaces"].update(pn1=1077),
                           "host cs: interfaces.pn1: 1077 is not an IP address"),
    "duplicate address": (lambda t: t["nodes"]["sub"]["interfaces"].update(pn3="10.77.3.11"),
                          "address 10.77.3.11 is already used by"),
    "gateway no router holds": (lambda t: t["networks"]["pn1"].update(gateway="10.77.1.50"),
                                "network pn1: gateway 10.77.1.50 is not the address of a router on pn1"),
    "node on no network": (lambda t: t["nodes"]["div"].update(interfaces={}), "host div: interfaces must map"),
    "port out of range": (lambda t: t["services"]["sum"].update(port=70000),
                          "service sum: port 70000 is not a TCP port number"),
    "service on unknown node": (lambda t: t["services"]["mul"].update(node="mull"),
                                "service mul: node 'mull' is not a declared node"),
}


def run_site(tmp_path, inventory, data):
    extra = tmp_path / "topology.json"
    extra.write_text(json.dumps({"virtlab_topology": data, "virtlab_docker_name_prefix": PREFIX}))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run(["ansible-playbook", "-i", "inventories/%s" % inventory, "site.yml", "-e", "@%s" % extra],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def assert_validator_message(proc, expected):
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "virtlab_topology is not usable: " in output and expected in output, output[-3000:]
    for text in NOT_A_VALIDATOR_MESSAGE:
        assert text not in output, "%r in the output:\n%s" % (text, output[-3000:])
    # It stopped at the first play: no task of any objective ran.
    assert "TASK [virtlab.core.topology : Check the topology data" in proc.stdout
    assert "Objective" not in proc.stdout.split("TASK [virtlab.core.topology : Check the topology data")[1]


@pytest.mark.parametrize("case", sorted(CASES))
def test_docker_default_stops_with_the_validators_message(tmp_path, case):
    change, expected = CASES[case]
    assert_validator_message(run_site(tmp_path, "docker", broken(change)), expected)
    leftovers = subprocess.run(["docker", "ps", "-a", "--filter", "name=%s" % PREFIX, "--format", "{{.Names}}"],
                               capture_output=True, text=True, check=True).stdout.split()
    assert leftovers == [], "created before the data was checked: %s" % leftovers


@pytest.mark.parametrize("inventory", ["openstack", "proxmox", "virtualbox"])
def test_every_inventory_stops_with_the_validators_message(tmp_path, inventory):
    data = copy.deepcopy(topology(inventory))
    data["networks"]["pn2"]["cidr"] = "10.77.2.0/33"
    data["nodes"]["cs"]["interfaces"]["pn1"] = "10.77.1.300"
    proc = run_site(tmp_path, inventory, data)
    assert_validator_message(proc, "network pn2: cidr '10.77.2.0/33'")
    assert "host cs: interfaces.pn1: '10.77.1.300' is not an IP address" in proc.stdout
