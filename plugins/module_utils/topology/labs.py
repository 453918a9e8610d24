# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One lab per student on one engine: each lab's address plan derived from the declared one (no Ansible import).

The declared topology lives in one address block (the default lab's, 10.77.0.0/16). Lab N is the same topology
moved N blocks up: every CIDR, gateway and interface address is shifted by N times the block's size, so lab 7 of
10.77.0.0/16 is 10.84.0.0/16 with the same host parts. Index 0 is the declared plan itself, unchanged.
A lab's index comes from its name (lab_index): the default lab's name is 0, trailing digits are the index
(student07 is 7), any other name a stable hash. Two labs whose indexes are equal have the same plan: the Docker
adapter refuses a plan that overlaps a network already on the engine (adapter.subnet_conflicts).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import re

DEFAULT_LAB = "virtlab"
# The private ranges a lab's block may move in: a lab never leaves the one its declared block is in.
PRIVATE_RANGES = [ipaddress.ip_network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]


def _block(block):
    try:
        network = ipaddress.ip_network(block)
    except (TypeError, ValueError) as exc:
        raise ValueError("lab block %r is not an IPv4 network: %s" % (block, exc))
    if network.version != 4:
        raise ValueError("lab block %s is not an IPv4 network" % block)
    return network


def _range(block):
    """The private range the block lies in, or the whole IPv4 space."""
    for private in PRIVATE_RANGES:
        if block.subnet_of(private):
            return private
    return ipaddress.ip_network("0.0.0.0/0")


def max_index(block):
    """The highest lab index whose block still lies in the declared block's private range."""
    block = _block(block)
    space = _range(block)
    return (int(space.broadcast_address) - int(block.broadcast_address)) // block.num_addresses


def lab_index(lab, block, default_lab=DEFAULT_LAB):
    """A lab's index from its name: 0 for the default lab (or no name), the trailing digits of the name
    (student07 is 7), else a stable hash of the name in 1..max_index(block). ValueError when trailing digits are
    0 or beyond the range (the name cannot say which lab it is: set its index)."""
    top = max_index(block)
    if lab in (None, "", default_lab):
        return 0
    lab = str(lab)
    digits = re.search(r"(\d+)$", lab)
    if digits:
        index = int(digits.group(1))
        if not 1 <= index <= top:
            raise ValueError("lab %s: index %d from its name is not in 1..%d (0 is the default lab's, %d is the last "
                             "block of %s's range); set virtlab_lab_index" % (lab, index, top, top, block))
        return index
    if top < 1:
        raise ValueError("lab %s: the block %s leaves no room for a second lab" % (lab, block))
    return int(hashlib.sha256(lab.encode("utf-8")).hexdigest(), 16) % top + 1


def _shift(value, block, offset, what):
    """value (an address or a CIDR of the block) moved by offset addresses."""
    text = str(value)
    try:
        if "/" in text:
            network = ipaddress.ip_network(text)
            inside, moved = network.subnet_of(block), "%s/%d" % (network.network_address + offset, network.prefixlen)
        else:
            address = ipaddress.ip_address(text)
            inside, moved = address in block, str(address + offset)
    except (TypeError, ValueError) as exc:
        raise ValueError("%s: %r is not an IPv4 address or network: %s" % (what, value, exc))
    if not inside:
        raise ValueError("%s: %s is outside the lab block %s, so another lab's copy of it would collide with "
                         "this one; declare it inside the block" % (what, value, block))
    return moved


def _check_index(index, block):
    try:
        index = int(index)
    except (TypeError, ValueError):
        raise ValueError("lab index %r is not an integer" % (index,))
    top = max_index(block)
    if not 0 <= index <= top:
        raise ValueError("lab index %d is not in 0..%d: lab %d of %s would leave %s"
                         % (index, top, index, block, _range(block)))
    return index


def renumber(value, block, index):
    """An address or CIDR of the declared block, as lab ``index`` has it (unchanged for index 0)."""
    block = _block(block)
    index = _check_index(index, block)
    return _shift(value, block, index * block.num_addresses, "address") if index else value


def for_lab(topology, block, index):
    """The topology of lab ``index``: every network's cidr and gateway and every host's interface addresses moved
    ``index`` blocks up; names, ports and services as declared. Index 0 returns the topology itself, untouched
    (and unchecked: the topology role reports bad data). ValueError names the value that cannot be moved."""
    block = _block(block)
    index = _check_index(index, block)
    if not index:
        return topology
    if not isinstance(topology, dict):
        raise ValueError("the topology is not a mapping")
    offset = index * block.num_addresses
    lab = dict(topology)
    networks = {}
    for name, spec in (topology.get("networks") or {}).items():
        spec = dict(spec or {})
        spec["cidr"] = _shift(spec.get("cidr"), block, offset, "network %s: cidr" % name)
        if spec.get("gateway"):
            spec["gateway"] = _shift(spec["gateway"], block, offset, "network %s: gateway" % name)
        networks[name] = spec
    lab["networks"] = networks
    for section in ("routers", "nodes"):
        if section not in topology:
            continue
        hosts = {}
        for host, spec in (topology.get(section) or {}).items():
            spec = dict(spec or {})
            spec["interfaces"] = dict(
                (network, _shift(address, block, offset, "host %s: interfaces.%s" % (host, network)))
                for network, address in (spec.get("interfaces") or {}).items())
            hosts[host] = spec
        lab[section] = hosts
    return lab
