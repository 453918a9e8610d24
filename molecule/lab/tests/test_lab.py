# -*- coding: utf-8 -*-
"""The whole lab, as its users rely on it: the runtime on the service nodes, each service a non-root systemd
unit answering the protocol, the routes in the kernel and persisted for reboots, forwarding on the routers,
the calculator reachable from outside through rt1, and pn3 not reachable from outside.

Test ids name what they check (test_routes[cs], test_service[mul], test_forwarding[rt2]...): side_effect.yml
breaks the lab and expects exactly those to fail before the re-converge, and everything to pass after it.
"""

import pytest

from virtlab_checks import (assert_forwarding, assert_routes, assert_service, node, node_version,
                            packaged_node_version, post)

PREFIX = "mol-lab-"
USER = "virtlab"
# Worked out by hand from inventory/group_vars/all/topology.yml (not computed by the code under test):
# cs reaches public through rt1 and pn3 through rt2; the operation nodes answer cs (on pn2) through rt2;
# outside reaches pn1 through rt1; the routers are on all the networks they serve.
ROUTES = {
    "rt1": {},
    "rt2": {},
    "cs": {"10.80.0.0/24": "10.80.1.1", "10.80.3.0/24": "10.80.2.1"},
    "sum": {"10.80.2.0/24": "10.80.3.1"},
    "sub": {"10.80.2.0/24": "10.80.3.1"},
    "mul": {"10.80.2.0/24": "10.80.3.1"},
    "div": {"10.80.2.0/24": "10.80.3.1"},
    "outside": {"10.80.1.0/24": "10.80.0.1"},
}
ROUTERS = ("rt1", "rt2")
# service: (node, address the lab dials, port, request, exact answer)
SERVICES = {
    "calculator": ("cs", "10.80.1.10", 50000, "(5+6)*2", "result = 22\r\n\r\n"),
    "sum": ("sum", "10.80.3.11", 50001, "6 3", "9\r\n"),
    "sub": ("sub", "10.80.3.12", 50002, "6 3", "3\r\n"),
    "mul": ("mul", "10.80.3.13", 50003, "6 3", "18\r\n"),
    "div": ("div", "10.80.3.14", 50004, "6 3", "2\r\n"),
}
OPERATIONS = ("sum", "sub", "mul", "div")


def lab(name):
    return node(PREFIX + name)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_routes(name):
    assert_routes(lab(name), ROUTES[name])


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_forwarding(name):
    assert_forwarding(lab(name), name in ROUTERS)


@pytest.mark.parametrize("name", sorted(set(spec[0] for spec in SERVICES.values())))
def test_runtime(name):
    host = lab(name)
    assert node_version(host) >= (18, 0, 0)
    assert node_version(host) == packaged_node_version(host)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service(service):
    name, unused_part, port, body, answer = SERVICES[service]
    host = lab(name)
    assert_service(host, "virtlab-%s" % service, USER)
    assert post(host, "127.0.0.1", port, body) == (200, answer)


@pytest.mark.parametrize("service", OPERATIONS)
def test_operation_service_from_the_calculator_node(service):
    unused_part, address, port, body, answer = SERVICES[service]
    assert post(lab("cs"), address, port, body) == (200, answer)


@pytest.mark.parametrize("expression, answer", [
    ("(5+6)*2", "result = 22\r\n\r\n"),
    # One call to each operation service, so each one's return route matters.
    ("(8-2)*3/2+1", "result = 10\r\n\r\n"),
])
def test_calculator_from_outside(expression, answer):
    unused_1, address, port, unused_2, unused_3 = SERVICES["calculator"]
    assert post(lab("outside"), address, port, expression) == (200, answer)


@pytest.mark.parametrize("service", OPERATIONS)
def test_pn3_blocked_from_outside(service):
    unused_1, address, port, body, unused_2 = SERVICES[service]
    status, detail = post(lab("outside"), address, port, body, timeout=2)
    assert status is None, "outside reached %s at %s:%s (HTTP %s): pn3 must not be reachable from outside" % (
        service, address, port, status)
