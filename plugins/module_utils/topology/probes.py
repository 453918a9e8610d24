# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's reachability matrix computed from intent: which service each probe source must reach and which it
must not (no Ansible import)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtlab.core.plugins.module_utils.topology.model import _hosts
from ansible_collections.virtlab.core.plugins.module_utils.topology.routing import service_address


# The question each service is asked, and how its answer starts, when the caller gives none.
DEFAULT_REQUESTS = {
    "calculator": {"body": "(5+6)*2", "expect_prefix": "result = 22"},
    "sum": {"body": "6 3", "expect_prefix": "9"}, "sub": {"body": "6 3", "expect_prefix": "3"},
    "mul": {"body": "6 3", "expect_prefix": "18"}, "div": {"body": "6 3", "expect_prefix": "2"},
}


def reachability_matrix(topology, outside_host=None, requests=None):
    """The lab's expected reachability, as probes [{src, service, address, port, expect, body, expect_prefix}].

    The calculator is probed from ``outside_host`` (through rt1), each operation service from the
    calculator's node, and each operation service from ``outside_host`` with expect=False: pn3 must not
    be reachable from the school's network. Return paths are covered because a TCP exchange needs them.
    ``requests`` maps a service name (or kind) to {body, expect_prefix}.
    """
    services = topology.get("services") or {}
    requests = requests or DEFAULT_REQUESTS
    kinds = dict((name, spec.get("kind", "operation")) for name, spec in services.items())
    probes = []

    def add(src, service):
        address = service_address(topology, service, src)
        if address is None:  # not reachable by design: dial its first address, expect failure
            address = sorted(str(a) for a in _hosts(topology)[services[service]["node"]][1]["interfaces"].values())[0]
        request = requests.get(service) or requests.get(kinds[service]) or {"body": "", "expect_prefix": ""}
        probes.append({"src": src, "service": service, "address": address, "port": services[service]["port"],
                       "expect": service_address(topology, service, src) is not None,
                       "body": request["body"], "expect_prefix": request["expect_prefix"]})

    operations = sorted(n for n, k in kinds.items() if k == "operation")
    for calculator in sorted(n for n, k in kinds.items() if k == "calculator"):
        if outside_host:
            add(outside_host, calculator)
        for op in operations:
            add(services[calculator]["node"], op)
    if outside_host:
        for op in operations:
            add(outside_host, op)
    return probes


def probes_from(matrix, source, address_map=None):
    """The probes of ``matrix`` that ``source`` makes, each dialling ``address_map``'s address for a topology address
    it lists (a source behind NAT: on OpenStack the machine reaches the CS's lab address at its floating IP)."""
    address_map = address_map or {}
    return [dict(probe, address=address_map.get(probe["address"], probe["address"]))
            for probe in matrix if probe["src"] == source]
