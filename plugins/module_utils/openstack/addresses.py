# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIDR and route checks for networks, subnets and routers (no Ansible import; unit-tested directly)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def normalise_cidr(cidr):
    """'10.0.0.0/24' stays; '10.0.0.5/24' -> ValueError naming the network address."""
    try:
        network = ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        raise ValueError("invalid CIDR %r (expected e.g. 10.77.1.0/24)" % (cidr,))
    if str(network) != str(cidr).strip():
        raise ValueError("CIDR %s has host bits set; did you mean %s?" % (cidr, network))
    return str(network)


def overlapping(cidr, others):
    """The entries of ``others`` ([(label, cidr)]) whose CIDR overlaps ``cidr``."""
    network = ipaddress.ip_network(cidr)
    result = []
    for label, other in others:
        other_network = ipaddress.ip_network(other, strict=False)
        if other_network.version == network.version and other_network.overlaps(network):
            result.append((label, str(other_network)))
    return result


def address_in(address, cidr):
    return ipaddress.ip_address(str(address)) in ipaddress.ip_network(str(cidr), strict=False)


def normalise_route(route):
    """{'destination': '10.77.3.5/24', 'nexthop': '10.77.2.1'} -> canonical strings."""
    return {"destination": str(ipaddress.ip_network(str(route["destination"]), strict=False)),
            "nexthop": str(ipaddress.ip_address(str(route["nexthop"])))}
