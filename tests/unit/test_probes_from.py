# -*- coding: utf-8 -*-
"""The probes one source makes, with the addresses it dials behind NAT (topology_probes' source/address_map)."""

import os

import yaml

from ansible_collections.virtlab.core.plugins.filter.topology import topology_probes
from ansible_collections.virtlab.core.plugins.module_utils.topology.probes import probes_from

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(REPO, "inventories", "docker", "group_vars", "all", "topology.yml")) as handle:
    LAB = yaml.safe_load(handle)["virtlab_topology"]

MATRIX = [
    {"src": "outside", "service": "calculator", "address": "10.77.1.10", "port": 50000, "expect": "reachable"},
    {"src": "cs", "service": "sum", "address": "10.77.3.11", "port": 50001, "expect": "reachable"},
    {"src": "outside", "service": "sum", "address": "10.77.3.11", "port": 50001, "expect": "blocked"},
]


def test_only_the_source_s_probes_with_its_mapped_addresses():
    mine = probes_from(MATRIX, "outside", {"10.77.1.10": "172.24.4.5"})
    assert [(p["service"], p["address"]) for p in mine] == [("calculator", "172.24.4.5"), ("sum", "10.77.3.11")]
    assert MATRIX[0]["address"] == "10.77.1.10"   # the matrix itself is left as it is


def test_no_map_keeps_the_topology_addresses():
    assert probes_from(MATRIX, "cs") == [MATRIX[1]]
    assert probes_from(MATRIX, "rt1", {}) == []


def test_the_filter_without_a_source_gives_every_source_s_probes():
    every = topology_probes(LAB, "outside")
    assert {p["src"] for p in every} == {"outside", "cs"}
    assert topology_probes(LAB, "outside", source="cs") == [p for p in every if p["src"] == "cs"]
