# -*- coding: utf-8 -*-
"""The benchmark's generated labs (scripts/bench.py): valid topologies, size 4 is the default lab, every
operation node runs a service, and the wider lab routes through its own routers."""

import importlib.util
import os

import pytest
import yaml

from ansible_collections.virtlab.core.plugins.module_utils.docker import adapter
from ansible_collections.virtlab.core.plugins.module_utils.topology import labs, model, probes, routing

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = importlib.util.spec_from_file_location("bench", os.path.join(REPO, "scripts", "bench.py"))
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def _valid(topology, groups):
    hosts = [host for members in groups.values() for host in members]
    return model.validate(topology, inventory_hosts=hosts, reserved=adapter.reserved_addresses(topology))


@pytest.mark.parametrize("operations, routers", [(4, 1), (16, 1), (48, 1), (16, 4), (5, 3)])
def test_every_generated_lab_is_a_valid_topology_with_a_service_on_every_operation_node(operations, routers):
    topology, groups = bench.topology(operations, routers)
    assert _valid(topology, groups) == []
    assert len(groups["operations"]) == operations and len(groups["routers"]) == routers + 1
    assert set(model.service_nodes(topology)) == set(groups["operations"]) | {"cs"}
    # And the lab's own copy (the bench's index) is valid too.
    assert _valid(labs.for_lab(topology, "10.77.0.0/16", bench.LAB_INDEX), groups) == []


def test_four_operation_nodes_is_the_default_lab():
    with open(os.path.join(REPO, "inventories", "docker", "group_vars", "all", "topology.yml")) as handle:
        declared = yaml.safe_load(handle)["virtlab_topology_declared"]
    assert bench.topology(4)[0] == declared


def test_the_wider_lab_reaches_each_operation_network_through_its_own_router():
    topology, unused_groups = bench.topology(16, 4)
    assert [(r["dest"], r["via"]) for r in routing.routes(topology, "cs")] == [
        ("10.77.0.0/24", "10.77.1.1"), ("10.77.3.0/24", "10.77.2.1"), ("10.77.4.0/24", "10.77.2.2"),
        ("10.77.5.0/24", "10.77.2.3"), ("10.77.6.0/24", "10.77.2.4")]
    # A calculator-kind node on pn6 dials sum (pn3) through its router and rt2.
    matrix = probes.reachability_matrix(topology, "outside")
    assert {"src": "op08", "service": "sum", "expect": True} in [
        dict((k, p[k]) for k in ("src", "service", "expect")) for p in matrix]
    assert routing.routes(topology, "op08")[0]["via"] == "10.77.6.1"
