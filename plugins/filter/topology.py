# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Topology computations for templates and roles; the logic lives in module_utils/topology.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology_errors
short_description: Problems in the lab topology data
version_added: 0.1.0
description:
  - Returns one message per problem in C(virtlab_topology) (bad CIDR, address outside its subnet, overlapping
    subnets, interface on an undeclared network, ...), each naming the host or network, the field and the value.
  - Also provided by this plugin file - C(topology_routes), C(topology_interfaces), C(topology_attachments), C(topology_networks),
    C(topology_service_nodes), C(topology_service_urls), C(topology_probes), C(reachability_table), C(reachability_broken),
    C(topology_service_address), C(topology_docker_lab), C(last_host_address).
positional: _input
options:
  _input:
    description: The C(virtlab_topology) mapping.
    type: dict
    required: true
  inventory_hosts:
    description: Hosts of the inventory; every topology host must be one.
    type: list
    elements: str
  reserved:
    description: Network name to an address the backend keeps for itself.
    type: dict
"""

EXAMPLES = r"""
- name: Validate the topology before anything is created
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors | join('; ') }}"
  vars:
    errors: "{{ virtlab_topology | virtlab.core.topology_errors(groups['all']) }}"
"""

RETURN = r"""
_value:
  description: Messages, empty when the data is usable.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.virtlab.core.plugins.module_utils.docker import adapter as docker_adapter
from ansible_collections.virtlab.core.plugins.module_utils.topology import model
from ansible_collections.virtlab.core.plugins.module_utils.topology import probes
from ansible_collections.virtlab.core.plugins.module_utils.topology import report
from ansible_collections.virtlab.core.plugins.module_utils.topology import routing


def _host(topo, host):
    if host not in (topo.get("routers") or {}) and host not in (topo.get("nodes") or {}):
        raise AnsibleFilterError("host %s is not declared in virtlab_topology (routers or nodes)" % host)
    return host


def topology_errors(topo, inventory_hosts=None, reserved=None):
    return model.validate(topo, inventory_hosts=inventory_hosts, reserved=reserved)


def topology_routes(topo, host):
    return routing.routes(topo, _host(topo, host))


def topology_interfaces(topo, host):
    return model.interfaces(topo, _host(topo, host))


def topology_attachments(topo, host, prefix=""):
    return model.attachments(topo, _host(topo, host), prefix)


def topology_service_urls(topo, from_host, kind="operation"):
    return routing.service_urls(topo, _host(topo, from_host), kind)


def topology_networks(topo, prefix=""):
    return model.network_list(topo, prefix)


def topology_docker_lab(topo, hosts, prefix, image, mgmt_network, published_ports=None, state="started"):
    for host in hosts:
        _host(topo, host)
    return docker_adapter.docker_lab(topo, hosts, prefix, image, mgmt_network, published_ports, state)


def topology_service_address(topo, service, from_host):
    return routing.service_address(topo, service, _host(topo, from_host))


def topology_probes(topo, outside_host=None, requests=None):
    return probes.reachability_matrix(topo, outside_host=outside_host, requests=requests)


def reachability_table(results):
    return report.reachability_table(results)[0]


def reachability_broken(results):
    return report.reachability_table(results)[1]


class FilterModule(object):
    def filters(self):
        return {
            "topology_errors": topology_errors,
            "topology_routes": topology_routes,
            "topology_interfaces": topology_interfaces,
            "topology_service_address": topology_service_address,
            "topology_attachments": topology_attachments,
            "topology_networks": topology_networks,
            "topology_docker_lab": topology_docker_lab,
            "topology_service_urls": topology_service_urls,
            "topology_service_nodes": model.service_nodes,
            "topology_probes": topology_probes,
            "last_host_address": docker_adapter.last_host_address,
            "reachability_table": reachability_table,
            "reachability_broken": reachability_broken,
        }
