# -*- coding: utf-8 -*-
"""The topology helpers: validation messages, routes, service addresses and the reachability matrix."""

import copy
import os

import pytest
import yaml

from ansible_collections.virtlab.core.plugins.module_utils.topology import model
from ansible_collections.virtlab.core.plugins.module_utils.topology import probes
from ansible_collections.virtlab.core.plugins.module_utils.topology import report
from ansible_collections.virtlab.core.plugins.module_utils.topology import routing

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = yaml.safe_load(open(os.path.join(REPO, "inventories/docker/group_vars/all/topology.yml")))["virtlab_topology"]
HOSTS = ["rt1", "rt2", "cs", "sum", "sub", "mul", "div", "outside"]


def lab(**changes):
    data = copy.deepcopy(LAB)
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return data


def test_the_shipped_lab_is_valid():
    assert model.validate(LAB, inventory_hosts=HOSTS) == []


@pytest.mark.parametrize("changes, message", [
    ({"networks__pn1__cidr": "10.77.1.0/33"}, "network pn1: cidr '10.77.1.0/33' is not a valid subnet"),
    ({"networks__pn1__cidr": "10.77.1.5/24"}, "network pn1: cidr '10.77.1.5/24' is not a valid subnet"),
    ({"networks__pn2__cidr": "10.77.0.0/16"}, "overlaps"),
    ({"nodes__cs__interfaces": {"pn1": "10.77.9.10", "pn2": "10.77.2.10"}},
     "host cs: interfaces.pn1: address 10.77.9.10 is not a host address of 10.77.1.0/24"),
    ({"nodes__sum__interfaces": {"pn9": "10.77.3.11"}},
     "host sum: interfaces.pn9: network 'pn9' is not declared"),
    ({"nodes__sum__interfaces": {"pn3": "ten"}}, "host sum: interfaces.pn3: 'ten' is not an IP address"),
    ({"nodes__sub__interfaces": {"pn3": "10.77.3.11"}}, "address 10.77.3.11 is already used by"),
    ({"networks__pn1__gateway": "10.77.1.10"}, "network pn1: gateway 10.77.1.10 is not the address of a router"),
    ({"services__sum__port": 70000}, "service sum: port 70000 is not a TCP port number"),
    ({"services__sum__node": "nowhere"}, "service sum: node 'nowhere' is not a declared node"),
    ({"routers__rt2__interfaces": {"pn2": "10.77.2.1"}}, "host rt2: a router needs interfaces on two networks"),
])
def test_bad_data_is_named_by_host_field_and_value(changes, message):
    errors = model.validate(lab(**changes), inventory_hosts=HOSTS)
    assert any(message in e for e in errors), errors


def test_a_host_missing_from_the_inventory_is_reported():
    errors = model.validate(LAB, inventory_hosts=[h for h in HOSTS if h != "div"])
    assert errors == ["host div: declared in virtlab_topology but not in the inventory"]


def test_reserved_backend_addresses_cannot_be_used():
    errors = model.validate(LAB, reserved={"pn3": "10.77.3.14"})
    assert errors == ["host div: interfaces.pn3: address 10.77.3.14 is reserved by the backend on pn3"]


def test_calculator_node_routes_to_pn3_through_rt2_on_pn2():
    assert routing.routes(LAB, "cs") == [
        {"dest": "10.77.0.0/24", "via": "10.77.1.1", "network": "public"},
        {"dest": "10.77.3.0/24", "via": "10.77.2.1", "network": "pn3"},
    ]


def test_operation_nodes_get_the_return_route_only():
    assert routing.routes(LAB, "sum") == [{"dest": "10.77.2.0/24", "via": "10.77.3.1", "network": "pn2"}]


def test_outside_reaches_pn1_but_has_no_route_to_pn3():
    assert routing.routes(LAB, "outside") == [{"dest": "10.77.1.0/24", "via": "10.77.0.1", "network": "pn1"}]


def test_only_routers_forward():
    assert [h for h in HOSTS if model.is_router(LAB, h)] == ["rt1", "rt2"]


def test_routers_need_no_static_route_here():
    assert routing.routes(LAB, "rt1") == [] and routing.routes(LAB, "rt2") == []


def test_routes_cross_several_routers():
    chain = {"networks": {"a": {"cidr": "10.0.1.0/24"}, "b": {"cidr": "10.0.2.0/24"}, "c": {"cidr": "10.0.3.0/24"}},
             "routers": {"r1": {"interfaces": {"a": "10.0.1.1", "b": "10.0.2.1"}},
                         "r2": {"interfaces": {"b": "10.0.2.2", "c": "10.0.3.1"}}},
             "nodes": {"h": {"interfaces": {"a": "10.0.1.10"}}}, "services": {}}
    assert routing.routes(chain, "h") == [
        {"dest": "10.0.2.0/24", "via": "10.0.1.1", "network": "b"},
        {"dest": "10.0.3.0/24", "via": "10.0.1.1", "network": "c"},
    ]
    # r1 itself reaches c through r2's address on b.
    assert routing.routes(chain, "r1") == [{"dest": "10.0.3.0/24", "via": "10.0.2.2", "network": "c"}]


def test_calculator_dials_operation_services_on_pn3():
    assert routing.service_urls(LAB, "cs") == {
        "div": "http://10.77.3.14:50004", "mul": "http://10.77.3.13:50003",
        "sub": "http://10.77.3.12:50002", "sum": "http://10.77.3.11:50001"}


def test_reachability_matrix_expects_pn3_blocked_from_outside():
    matrix = probes.reachability_matrix(LAB, "outside", {"calculator": {"body": "1+1", "expect_prefix": "result"},
                                                         "operation": {"body": "6 3", "expect_prefix": ""}})
    expected = dict(((p["src"], p["service"]), p["expect"]) for p in matrix)
    assert expected[("outside", "calculator")] is True
    assert all(expected[("cs", op)] for op in ("sum", "sub", "mul", "div"))
    assert not any(expected[("outside", op)] for op in ("sum", "sub", "mul", "div"))
    calculator_probe = next(p for p in matrix if p["service"] == "calculator")
    assert calculator_probe["address"] == "10.77.1.10" and calculator_probe["body"] == "1+1"


def test_reachability_table_lists_broken_paths():
    results = [{"src": "outside", "service": "calculator", "address": "10.77.1.10", "port": 50000,
                "expect": True, "reached": False, "detail": "timed out"},
               {"src": "outside", "service": "sum", "address": "10.77.3.11", "port": 50001,
                "expect": False, "reached": False, "detail": "Network is unreachable"}]
    lines, broken = report.reachability_table(results)
    assert len(lines) == 3 and "BROKEN" in lines[1] and lines[2].split()[4] == "ok"
    assert broken == ["outside -> calculator (10.77.1.10:50000) should be reachable: timed out"]
