# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security group rules in one comparable form: every spelling of a protocol, a port range and a remote
prefix normalised, so a declared rule is matched exactly against what Neutron returns (no Ansible import;
unit-tested directly)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


# Protocol numbers Neutron accepts as names; a rule given by number is compared by name.
PROTOCOL_NAMES = {
    1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 51: "ah",
    58: "ipv6-icmp", 112: "vrrp", 132: "sctp",
}
PROTOCOLS_WITH_PORTS = frozenset(("tcp", "udp", "sctp", "udplite", "dccp"))
ICMP_PROTOCOLS = frozenset(("icmp", "ipv6-icmp", "icmpv6"))
ANY_PROTOCOL = frozenset(("", "any", "-1", "0"))


def normalise_protocol(protocol):
    """'TCP', '6', 6 -> 'tcp'; None, 'any', -1 -> None (any protocol); 'icmpv6' -> 'ipv6-icmp'."""
    if protocol is None:
        return None
    text = str(protocol).strip().lower()
    if text in ANY_PROTOCOL:
        return None
    if text.isdigit():
        return PROTOCOL_NAMES.get(int(text), text)
    if text == "icmpv6":
        return "ipv6-icmp"
    return text


def parse_port_range(ports):
    """'22' -> (22, 22); '50000-50050' -> (50000, 50050); 'any' / -1 / None -> (None, None)."""
    if ports is None:
        return None, None
    text = str(ports).strip().lower()
    if text in ("", "any", "all", "-1"):
        return None, None
    try:
        if "-" in text or ":" in text:
            low, high = text.replace(":", "-").split("-", 1)
            return int(low), int(high)
        return int(text), int(text)
    except ValueError:
        raise ValueError("invalid port range %r (expected e.g. 22, 50000-50050 or any)" % (ports,))


def _optional_int(value):
    if value is None or str(value).strip() == "":
        return None
    number = int(value)
    return None if number < 0 else number


def normalise_port_range(protocol, port_min, port_max):
    """The (min, max) Neutron stores for a rule, with every spelling of "any" as (None, None).

    TCP/UDP/SCTP: -1 or None mean any port, 1-65535 is any port too, and a lone minimum is a
    single port. ICMP: min is the type, max the code; -1 means any. Other protocols: no ports.
    Raises ValueError for a range Neutron would refuse (min above max, beyond 65535).
    """
    low, high = _optional_int(port_min), _optional_int(port_max)
    if protocol in PROTOCOLS_WITH_PORTS:
        if low is None and high is not None:
            low = high
        if high is None and low is not None:
            high = low
        if low is not None:
            if not 1 <= low <= high <= 65535:
                raise ValueError("invalid %s port range %s-%s (ports go from 1 to 65535, the "
                                 "first no greater than the last)" % (protocol, low, high))
            if (low, high) == (1, 65535):
                return None, None
        return low, high
    if protocol in ICMP_PROTOCOLS:
        if low is None:
            return None, None  # a code without a type means nothing to Neutron
        if low > 255 or (high is not None and high > 255):
            raise ValueError("invalid ICMP type/code %s/%s (0 to 255)" % (low, high))
        return low, high
    if low is not None or high is not None:
        raise ValueError("protocol %s has no ports; leave ports out of the rule" % (protocol or "any"))
    return None, None


def normalise_remote_prefix(prefix):
    """'10.0.0.5' -> '10.0.0.5/32'; '10.0.0.5/24' -> '10.0.0.0/24'; '0.0.0.0/0', '::/0', None -> None."""
    if prefix is None or str(prefix).strip() in ("", "any"):
        return None
    try:
        network = ipaddress.ip_network(str(prefix).strip(), strict=False)
    except ValueError:
        raise ValueError("invalid remote_ip_prefix %r (expected an address or a CIDR)" % (prefix,))
    if network.prefixlen == 0:
        return None
    return str(network)


def normalise_rule(rule):
    """A rule as the user declares it, or as Neutron returns it, in one comparable form.

    Keys: direction, ethertype, protocol, port_range_min, port_range_max, remote_ip_prefix,
    remote_group_id. Accepts ``ports`` ('22', '50000-50050') as well as the two range keys.
    The ethertype follows the remote prefix when one is given (IPv6 for '::/0'-style prefixes).
    """
    protocol = normalise_protocol(rule.get("protocol"))
    if rule.get("ports") is not None:
        if rule.get("port_range_min") is not None or rule.get("port_range_max") is not None:
            raise ValueError("give either ports or port_range_min/port_range_max, not both")
        port_min, port_max = parse_port_range(rule["ports"])
    else:
        port_min, port_max = rule.get("port_range_min"), rule.get("port_range_max")
    port_min, port_max = normalise_port_range(protocol, port_min, port_max)
    raw_prefix = rule.get("remote_ip_prefix")
    ethertype = rule.get("ethertype")
    if raw_prefix not in (None, "") and ethertype is None:
        ethertype = "IPv%d" % ipaddress.ip_network(str(raw_prefix).strip(), strict=False).version
    ethertype = "IPv6" if str(ethertype or "IPv4").lower() == "ipv6" else "IPv4"
    if protocol == "icmp" and ethertype == "IPv6":
        protocol = "ipv6-icmp"
    remote_prefix = normalise_remote_prefix(raw_prefix)
    if remote_prefix is not None and ipaddress.ip_network(remote_prefix).version != int(ethertype[-1]):
        raise ValueError("remote_ip_prefix %s is not an %s prefix" % (remote_prefix, ethertype))
    direction = str(rule.get("direction") or "ingress").lower()
    if direction not in ("ingress", "egress"):
        raise ValueError("invalid direction %r (ingress or egress)" % (rule.get("direction"),))
    remote_group = rule.get("remote_group_id")
    if remote_group is not None and remote_prefix is not None:
        raise ValueError("a rule has either remote_ip_prefix or remote_group, not both")
    return {
        "direction": direction,
        "ethertype": ethertype,
        "protocol": protocol,
        "port_range_min": port_min,
        "port_range_max": port_max,
        "remote_ip_prefix": remote_prefix,
        "remote_group_id": remote_group,
    }


def rule_key(normalised):
    """What makes two normalised rules the same rule (Neutron never updates a rule)."""
    return tuple(normalised[key] for key in (
        "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
        "remote_ip_prefix", "remote_group_id"))


def describe_rule(normalised):
    """'ingress tcp 50000-50050 from 0.0.0.0/0' - for messages and the module's actions."""
    protocol = normalised["protocol"] or "any protocol"
    low, high = normalised["port_range_min"], normalised["port_range_max"]
    ports = ""
    if low is not None:
        if protocol in ICMP_PROTOCOLS:
            ports = " type %s" % low + ("" if high is None else " code %s" % high)
        else:
            ports = " %s" % low if low == high else " %s-%s" % (low, high)
    if normalised["remote_group_id"]:
        remote = "group %s" % normalised["remote_group_id"]
    else:
        remote = normalised["remote_ip_prefix"] or ("0.0.0.0/0" if normalised["ethertype"] == "IPv4"
                                                    else "::/0")
    return "%s %s %s%s %s %s" % (normalised["direction"], normalised["ethertype"], protocol, ports,
                                 "from" if normalised["direction"] == "ingress" else "to", remote)


def rule_delta(current, desired, purge):
    """Rules to create and rule ids to delete.

    ``current``: [(rule id, normalised rule)]; ``desired``: [normalised rule]. A declared rule
    that exists (in any spelling) is kept; undeclared rules are deleted only with ``purge``.
    Returns (to_create: [normalised], to_delete: [(id, normalised)]).
    """
    have = {}
    for rule_id, rule in current:
        have.setdefault(rule_key(rule), (rule_id, rule))
    wanted = {}
    for rule in desired:
        wanted.setdefault(rule_key(rule), rule)
    to_create = [rule for key, rule in wanted.items() if key not in have]
    to_delete = []
    if purge:
        to_delete = [(rule_id, rule) for rule_id, rule in current if rule_key(rule) not in wanted]
    return to_create, to_delete
