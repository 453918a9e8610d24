# -*- coding: utf-8 -*-
"""topology: good data passes; bad data stops the play before anything happens on the nodes, with one line
per problem naming the host or network, the field and the value."""

import copy
import json

import pytest

from virtlab_checks import node, run_converge

NODE = "mol-topology"
MARKER = "/etc/virtlab-validated-topology.json"
GOOD = {
    "networks": {"net": {"cidr": "10.79.1.0/24", "gateway": None}},
    "routers": {},
    "nodes": {NODE: {"interfaces": {"net": "10.79.1.10"}}},
    "services": {"sum": {"node": NODE, "port": 50001, "kind": "operation"}},
}


def with_changes(**changes):
    """GOOD with some sections replaced."""
    topology = copy.deepcopy(GOOD)
    topology.update(changes)
    return topology


def test_good_topology_passed_and_the_play_went_on():
    marker = node(NODE).file(MARKER)
    assert marker.exists, "converge did not get past the validation"
    assert json.loads(marker.content_string) == GOOD


# (bad topology, the exact problem line the user must see)
BAD = {
    "address outside its subnet": (
        with_changes(nodes={NODE: {"interfaces": {"net": "10.79.9.10"}}}),
        "host mol-topology: interfaces.net: address 10.79.9.10 is not a host address of 10.79.1.0/24"),
    "address the Docker bridge takes": (
        with_changes(nodes={NODE: {"interfaces": {"net": "10.79.1.254"}}}),
        "host mol-topology: interfaces.net: address 10.79.1.254 is reserved by the backend on net"),
    "undeclared network": (
        with_changes(nodes={NODE: {"interfaces": {"pn9": "10.79.1.10"}}}),
        "host mol-topology: interfaces.pn9: network 'pn9' is not declared in virtlab_topology.networks"),
    "host missing from the inventory": (
        with_changes(nodes={NODE: {"interfaces": {"net": "10.79.1.10"}}, "ghost": {"interfaces": {"net": "10.79.1.11"}}}),
        "host ghost: declared in virtlab_topology but not in the inventory"),
    "gateway that is no router": (
        with_changes(networks={"net": {"cidr": "10.79.1.0/24", "gateway": "10.79.1.1"}}),
        "network net: gateway 10.79.1.1 is not the address of a router on net"),
    "two services on one port": (
        with_changes(services={"sum": {"node": NODE, "port": 50001, "kind": "operation"},
                               "sub": {"node": NODE, "port": 50001, "kind": "operation"}}),
        "service sum: port 50001 on mol-topology is already used by service sub"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_topology_fails_early_naming_the_problem(case):
    topology, problem = BAD[case]
    proc = run_converge("-e", json.dumps({"virtlab_topology": topology}))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, "bad data (%s) passed:\n%s" % (case, output[-3000:])
    assert "virtlab_topology is not usable: " in output, output[-3000:]
    assert problem in output, output[-3000:]
    # Nothing after the validation ran: the node still holds the good topology.
    assert json.loads(node(NODE).file(MARKER).content_string) == GOOD
