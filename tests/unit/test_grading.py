"""Grading a host from the output of its read-only command (module_utils/topology/grading.py)."""

import os
from xml.etree import ElementTree

import yaml

from ansible_collections.virtlab.core.plugins.module_utils.node import observe
from ansible_collections.virtlab.core.plugins.module_utils.topology import grading

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(REPO, "inventories", "docker", "group_vars", "all", "topology.yml")) as handle:
    LAB = yaml.safe_load(handle)["virtlab_topology"]


def output(sections):
    """What the host would print: the begin marker, the sections, the end marker (observe's format)."""
    text = observe.BEGIN + "\n"
    for (kind, name), content in sections:
        text += "\n" + observe.MARKER % (kind, name) + "\n" + content
    return text + "\n" + observe.MARKER % ("end", "end") + "\n"


CS_OK = [
    (("addresses", "ipv4"), "2: eth0    inet 10.77.1.10/24 brd 10.77.1.255 scope global eth0\n"
                            "3: eth1    inet 10.77.2.10/24 brd 10.77.2.255 scope global eth1\n"),
    (("route", "10.77.0.0/24"), "10.77.0.1 via 10.77.1.1 dev eth0 src 10.77.1.10 uid 0\n    cache\n"),
    (("route", "10.77.3.0/24"), "10.77.3.1 via 10.77.2.1 dev eth1 src 10.77.2.10 uid 0\n    cache\n"),
    (("service", "calculator"), "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nresult = 22\r\n\r\n"),
]


def by_check(checks):
    return dict((c["check"], c) for c in checks)


def test_a_host_as_the_topology_says_passes_every_check():
    checks = grading.host_checks(LAB, "cs", output(CS_OK), None)
    assert [c["check"] for c in checks if not c["ok"]] == []
    assert set(c["objective"] for c in checks) == {"9", "10-11"} and len(checks) == 5


def test_a_redirected_route_a_missing_address_and_a_wrong_answer_fail_by_name():
    broken = list(CS_OK)
    broken[0] = (("addresses", "ipv4"), "2: eth0    inet 10.77.1.10/24 brd 10.77.1.255 scope global eth0\n")
    broken[2] = (("route", "10.77.3.0/24"),
                 "10.77.3.1 via 10.77.2.254 dev eth1 src 10.77.2.10 uid 0\n    cache <redirected> expires 298sec\n")
    broken[3] = (("service", "calculator"), "HTTP/1.1 502 Bad Gateway\r\n\r\nerror: sum service unreachable\r\n")
    checks = by_check(grading.host_checks(LAB, "cs", output(broken), None))
    assert not checks["address on pn2"]["ok"] and checks["address on pn2"]["actual"] == "none on 10.77.2.0/24"
    route = checks["route to pn3 (10.77.3.0/24)"]
    assert not route["ok"] and route["actual"] == "via 10.77.2.254 (redirected)" and route["expected"] == "via 10.77.2.1"
    service = checks["calculator answers on port 50000"]
    assert not service["ok"] and service["actual"].startswith("502")
    assert checks["address on pn1"]["ok"]


def test_unreadable_output_is_one_failed_check_not_an_exception():
    checks = grading.host_checks(LAB, "cs", "sh: ip: not found\n", None)
    assert len(checks) == 1 and checks[0]["kind"] == "host" and not checks[0]["ok"]


def test_the_script_only_reads():
    router, node = grading.observe_script(LAB, "rt2", None), grading.observe_script(LAB, "cs", None)
    for script in (router, node):
        for writer in ("ip route add", "ip route replace", "ip addr add", "sysctl -w", "> /", "systemctl", "rm "):
            assert writer not in script
    assert "cat /proc/sys/net/ipv4/ip_forward" in router and "ip -4 route get 10.77.3.1" in node


def test_reports_order_objectives_by_number_and_junit_names_failures():
    checks = grading.host_checks(LAB, "cs", output(CS_OK[:1]), None)
    table = grading.report_table(checks)
    assert table[-1].startswith("objective 9:") and "objective 10-11: 0/2" in table[-1]
    junit = ElementTree.fromstring(grading.report_junit(checks, "student07"))
    failed = [case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None]
    assert "cs: route to pn3 (10.77.3.0/24)" in failed and junit.get("failures") == str(len(failed))
    markdown = grading.report_markdown(checks, "student07", "student07.svg")
    assert markdown.startswith("# Lab student07: 3 of 5 checks failed") and "![The lab" in markdown
