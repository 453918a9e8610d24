# -*- coding: utf-8 -*-
"""Pure normalisers of module_utils/openstack.py: no cloud, no mocks needed."""

import pytest

from ansible_collections.virtlab.core.plugins.module_utils.openstack.addresses import (
    normalise_cidr,
    normalise_route,
    overlapping,
)
from ansible_collections.virtlab.core.plugins.module_utils.openstack.messages import describe_sdk_error
from ansible_collections.virtlab.core.plugins.module_utils.openstack.rules import (
    describe_rule,
    normalise_port_range,
    normalise_protocol,
    normalise_remote_prefix,
    normalise_rule,
    parse_port_range,
    rule_delta,
)


@pytest.mark.parametrize("given, expected", [
    ("TCP", "tcp"), ("6", "tcp"), (6, "tcp"), ("17", "udp"), ("1", "icmp"), ("icmpv6", "ipv6-icmp"),
    (None, None), ("any", None), ("-1", None), ("0", None), ("", None), ("99", "99"),
])
def test_protocol_spellings(given, expected):
    assert normalise_protocol(given) == expected


@pytest.mark.parametrize("protocol, low, high, expected", [
    ("tcp", None, None, (None, None)),
    ("tcp", -1, -1, (None, None)),
    ("tcp", 1, 65535, (None, None)),
    ("tcp", 22, None, (22, 22)),
    ("tcp", None, 22, (22, 22)),
    ("udp", 50000, 50050, (50000, 50050)),
    ("icmp", -1, -1, (None, None)),
    ("icmp", 8, None, (8, None)),
    ("icmp", 8, 0, (8, 0)),
    (None, None, None, (None, None)),
])
def test_port_range_spellings(protocol, low, high, expected):
    assert normalise_port_range(protocol, low, high) == expected


@pytest.mark.parametrize("protocol, low, high", [
    ("tcp", 0, 10), ("tcp", 50, 40), ("tcp", 1, 70000), ("icmp", 300, None), (None, 22, 22),
])
def test_impossible_port_ranges_are_refused(protocol, low, high):
    with pytest.raises(ValueError):
        normalise_port_range(protocol, low, high)


def test_port_range_text():
    assert parse_port_range("22") == (22, 22)
    assert parse_port_range("50000-50050") == (50000, 50050)
    assert parse_port_range("any") == (None, None)
    with pytest.raises(ValueError, match="invalid port range"):
        parse_port_range("ssh")


@pytest.mark.parametrize("given, expected", [
    ("10.0.0.5", "10.0.0.5/32"), ("10.0.0.5/24", "10.0.0.0/24"), ("0.0.0.0/0", None),
    ("::/0", None), (None, None), ("2001:db8::1", "2001:db8::1/128"),
])
def test_remote_prefix_spellings(given, expected):
    assert normalise_remote_prefix(given) == expected


def test_the_same_rule_in_every_spelling_is_one_rule():
    spellings = [
        {"protocol": "tcp", "ports": "22"},
        {"protocol": "6", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
        {"protocol": "TCP", "port_range_min": 22, "direction": "INGRESS", "ethertype": "ipv4"},
    ]
    assert len(set(tuple(sorted(normalise_rule(r).items())) for r in spellings)) == 1


def test_ethertype_follows_the_prefix_and_icmp_becomes_icmpv6():
    rule = normalise_rule({"protocol": "icmp", "remote_ip_prefix": "2001:db8::/64"})
    assert (rule["ethertype"], rule["protocol"]) == ("IPv6", "ipv6-icmp")
    with pytest.raises(ValueError, match="not an IPv6 prefix"):
        normalise_rule({"protocol": "tcp", "ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"})


def test_rule_delta_keeps_existing_and_purges_only_when_asked():
    ssh = normalise_rule({"protocol": "tcp", "ports": "22"})
    web = normalise_rule({"protocol": "tcp", "ports": "80"})
    egress = normalise_rule({"direction": "egress"})
    current = [("r-ssh", ssh), ("r-egress", egress)]
    assert rule_delta(current, [ssh, web], purge=False) == ([web], [])
    assert rule_delta(current, [ssh, web], purge=True) == ([web], [("r-egress", egress)])
    assert rule_delta(current, [ssh, ssh], purge=False) == ([], [])


def test_rule_description_reads_like_the_dashboard():
    assert describe_rule(normalise_rule({"protocol": "tcp", "ports": "50000-50050"})) == \
        "ingress IPv4 tcp 50000-50050 from 0.0.0.0/0"
    assert describe_rule(normalise_rule({"direction": "egress"})) == "egress IPv4 any protocol to 0.0.0.0/0"


def test_cidr_and_overlaps():
    assert normalise_cidr("10.77.1.0/24") == "10.77.1.0/24"
    with pytest.raises(ValueError, match="did you mean 10.77.1.0/24"):
        normalise_cidr("10.77.1.5/24")
    with pytest.raises(ValueError, match="invalid CIDR"):
        normalise_cidr("10.77.1/33")
    others = [("pn1", "10.77.1.0/24"), ("big", "10.0.0.0/8"), ("v6", "2001:db8::/64")]
    assert overlapping("10.77.1.128/25", others) == [("pn1", "10.77.1.0/24"), ("big", "10.0.0.0/8")]
    assert overlapping("192.168.0.0/24", others) == []


def test_route_normalisation():
    assert normalise_route({"destination": "10.77.3.9/24", "nexthop": "10.77.2.1"}) == \
        {"destination": "10.77.3.0/24", "nexthop": "10.77.2.1"}


def test_sdk_error_text():
    class Conflict(Exception):
        status_code = 409
        method = "POST"
        url = "http://127.0.0.1:9696/v2.0/subnets"
        details = "Invalid input for operation: Requested subnet overlaps."
        message = "ConflictException: 409"
    assert describe_sdk_error(Conflict()) == (
        "POST http://127.0.0.1:9696/v2.0/subnets answered 409: "
        "Invalid input for operation: Requested subnet overlaps.")

    class Plain(Exception):
        pass
    assert describe_sdk_error(Plain("no endpoint")) == "no endpoint"
