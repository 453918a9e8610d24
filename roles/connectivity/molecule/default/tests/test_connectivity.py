# -*- coding: utf-8 -*-
"""connectivity: the role reports every path as the topology expects it, and fails naming the path when
one breaks - a route gone, a service down, or a path that must stay blocked opening up."""

import json

import pytest

from virtlab_checks import node, run_converge

# (from, service, address, port, expected reachable): worked out by hand from molecule.yml's topology.
MATRIX = {
    ("mol-conn-outside", "calculator", "10.79.7.10", 50000, True),   # through rt
    ("mol-conn-cs", "sum", "10.79.8.11", 50001, True),               # on n2, directly
    ("mol-conn-outside", "sum", "10.79.8.11", 50001, False),         # n2 is behind cs, which does not route
}


def converge():
    """Run the role again: (rc, the whole report as one text, whitespace collapsed)."""
    proc = run_converge(callback="ansible.posix.json")
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())


def test_every_path_is_probed_and_as_expected():
    proc = run_converge(callback="ansible.posix.json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    # The probe results (lab_probe's rows: src, service, address, port, expect, reached), whichever task has them.
    rows = [row for play in report["plays"] for task in play["tasks"] for result in task["hosts"].values()
            for row in result.get("results") or [] if isinstance(row, dict) and "reached" in row]
    seen = set()
    for probe in rows:
        key = (probe["src"], probe["service"], probe["address"], probe["port"], probe["expect"])
        seen.add(key)
        assert probe["reached"] == probe["expect"], probe
    assert seen == MATRIX


def test_a_missing_route_fails_naming_the_path():
    outside = node("mol-conn-outside")
    outside.check_output("ip route del 10.79.7.0/24")
    try:
        rc, output = converge()
    finally:
        outside.check_output("ip route replace 10.79.7.0/24 via 10.79.6.1")
    assert rc != 0, output[-3000:]
    assert "mol-conn-outside -> calculator (10.79.7.10:50000) should be reachable" in output, output[-3000:]


def test_a_stopped_service_fails_naming_the_path():
    sum_node = node("mol-conn-sum")
    sum_node.check_output("systemctl stop virtlab-stub-sum")
    try:
        rc, output = converge()
    finally:
        sum_node.check_output("systemctl start virtlab-stub-sum")
    assert rc != 0, output[-3000:]
    assert "mol-conn-cs -> sum (10.79.8.11:50001) should be reachable" in output, output[-3000:]
    # Only that path: the calculator is still reachable from outside.
    assert "mol-conn-outside -> calculator" not in output, output[-3000:]


@pytest.fixture
def n2_opened_to_outside():
    """Open a path to n2 from outside, as a careless fix would: cs forwards, rt and outside route to n2."""
    cs, rt, outside, sum_node = (node("mol-conn-" + n) for n in ("cs", "rt", "outside", "sum"))
    steps = [
        (outside, "ip route replace 10.79.8.0/24 via 10.79.6.1", "ip route del 10.79.8.0/24"),
        (rt, "ip route replace 10.79.8.0/24 via 10.79.7.10", "ip route del 10.79.8.0/24"),
        (sum_node, "ip route replace 10.79.6.0/24 via 10.79.8.10", "ip route del 10.79.6.0/24"),
        (cs, "sh -c 'mount -o remount,rw /proc/sys && echo 1 > /proc/sys/net/ipv4/ip_forward; "
             "mount -o remount,ro /proc/sys'",
         "sh -c 'mount -o remount,rw /proc/sys && echo 0 > /proc/sys/net/ipv4/ip_forward; "
         "mount -o remount,ro /proc/sys'"),
    ]
    try:
        for host, do, unused_part in steps:
            host.check_output(do)
        yield
    finally:
        for host, unused_part, undo in reversed(steps):
            host.run(undo)


def test_a_path_that_must_stay_blocked_fails_when_it_opens(n2_opened_to_outside):
    rc, output = converge()
    assert rc != 0, output[-3000:]
    assert "mol-conn-outside -> sum (10.79.8.11:50001) should be blocked" in output, output[-3000:]
