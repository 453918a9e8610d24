# -*- coding: utf-8 -*-
"""calculator: the five services run as systemd units under a non-root user, answer the lab's protocol
byte for byte, come back when they crash, and say which service failed when one is down."""

import pytest

from virtlab_checks import assert_service, node, post, wait_for_answer

NODE = "mol-calc"
ADDRESS = "10.79.3.10"
USER = "virtlab"
# service: (port, request body, exact answer) - the protocol's examples (answers end with CRLF).
SERVICES = {
    "sum": (50001, "6 3", "9\r\n"),
    "sub": (50002, "6 3", "3\r\n"),
    "mul": (50003, "6 3", "18\r\n"),
    "div": (50004, "6 3", "2\r\n"),
    "calculator": (50000, "(5+6)*2", "result = 22\r\n\r\n"),
}


@pytest.fixture(scope="module")
def host():
    return node(NODE)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_unit_active_enabled_non_root(host, service):
    assert_service(host, "virtlab-%s" % service, USER)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_answers_the_protocol(host, service):
    port, body, answer = SERVICES[service]
    # On the node's lab address, as the other nodes call it (the services listen on every address).
    assert post(host, ADDRESS, port, body) == (200, answer)


@pytest.mark.parametrize("expression, answer", [
    ("8-3-2", "result = 3\r\n\r\n"),        # left associative
    ("-3+5", "result = 2\r\n\r\n"),         # unary minus
    ("10/4", "result = 2.5\r\n\r\n"),
])
def test_calculator_evaluates_through_the_operation_services(host, expression, answer):
    assert post(host, ADDRESS, 50000, expression) == (200, answer)


@pytest.mark.parametrize("port, body, status, answer", [
    # The operation services answer what the original ones did, with 200: the original calculator
    # exits on any status >= 300 from them.
    (50004, "1 0", 200, "Infinity\r\n"),
    (50004, "0 0", 200, "NaN\r\n"),
    (50001, "NaN 2", 200, "NaN\r\n"),
    (50003, "1e+308 10", 200, "Infinity\r\n"),
    # Our calculator stays strict to its clients; a bare number is echoed as typed with one CRLF.
    (50000, "1/0", 422, "error: division by zero\r\n"),
    (50000, "2.50", 200, "result = 2.50\r\n"),
])
def test_compatible_with_the_original_calculator(host, port, body, status, answer):
    assert post(host, ADDRESS, port, body) == (status, answer)


def test_junk_is_a_client_error(host):
    status, body = post(host, ADDRESS, 50000, "2+banana")
    assert 400 <= status < 500 and body.startswith("error: "), (status, body)


def test_a_crashed_service_is_restarted(host):
    before = host.check_output("systemctl show -p MainPID --value virtlab-mul")
    host.check_output("kill -9 %s", before)
    # Restart=on-failure brings it back (RestartSec=1) and it answers again.
    assert wait_for_answer(host, ADDRESS, 50003, "6 3", (200, "18\r\n")) == (200, "18\r\n")
    after = host.check_output("systemctl show -p MainPID --value virtlab-mul")
    assert after not in ("0", before), "virtlab-mul was not restarted (MainPID %s -> %s)" % (before, after)


def test_calculator_names_the_service_it_cannot_reach(host):
    host.check_output("systemctl stop virtlab-sum")
    try:
        status, body = post(host, ADDRESS, 50000, "1+2")
        assert status == 502, (status, body)
        assert body.startswith("error: sum service at http://%s:50001 unreachable" % ADDRESS), body
    finally:
        host.check_output("systemctl start virtlab-sum")
    assert wait_for_answer(host, ADDRESS, 50000, "1+2", (200, "result = 3\r\n\r\n")) == (200, "result = 3\r\n\r\n")
