# -*- coding: utf-8 -*-
"""topology_not_in_place_summary: what check mode says of a host whose machine is not in place yet."""

import copy
import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.virtlab.core.plugins.filter.topology import FilterModule

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(REPO, "inventories/docker/group_vars/all/topology.yml")) as handle:
    LAB = yaml.safe_load(handle)["virtlab_topology"]
SUMMARY = FilterModule().filters()["topology_not_in_place_summary"]


def test_a_service_node_its_reason_services_routes_and_default_route():
    assert SUMMARY(LAB, "cs", "  node virtlab-cs would be created, started\n", "10.77.254.254") == [
        "cs: not in place yet (node virtlab-cs would be created, started), so check mode does not log into it. "
        "A run would then set up there, from the topology:",
        "services: calculator on port 50000",
        "static routes: 10.77.0.0/24 via 10.77.1.1, 10.77.3.0/24 via 10.77.2.1; forwarding off; "
        "default route via 10.77.254.254",
    ]


def test_a_router_forwards_and_a_host_with_no_service_or_route_says_none():
    lines = SUMMARY(LAB, "rt2", "CT 702 on pve2 would be: create CT 702 on pve2, start", "absent")
    assert lines[1:] == ["services: none", "static routes: none; forwarding on; default route none"]


@pytest.mark.parametrize("default_route, said", [(None, "left as it is"), ("absent", "none"),
                                                 ("10.77.0.254", "via 10.77.0.254")])
def test_the_default_route_as_the_static_routes_role_takes_it(default_route, said):
    assert SUMMARY(LAB, "outside", "VM virtlab-outside would be: started", default_route)[2] == (
        "static routes: 10.77.1.0/24 via 10.77.0.1; forwarding off; default route %s" % said)


def test_every_service_of_the_host_in_the_topologys_order():
    topo = copy.deepcopy(LAB)
    topo["services"]["metrics"] = {"node": "sum", "port": 9100}
    assert SUMMARY(topo, "sum", "x")[1] == "services: sum on port 50001, metrics on port 9100"
    del topo["services"]
    assert SUMMARY(topo, "sum", "x")[1] == "services: none"


def test_an_undeclared_host_fails_naming_it():
    with pytest.raises(AnsibleFilterError, match="host nas is not declared"):
        SUMMARY(LAB, "nas", "x")
