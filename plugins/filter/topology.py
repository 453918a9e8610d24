# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Topology computations for templates and roles; the logic lives in module_utils/topology/.

Each filter of this file is documented on its own, in the sidecar file plugins/filter/<filter name>.yml
(ansible-doc -t filter virtlab.core.topology_routes): this file has no DOCUMENTATION, since a plugin file's
DOCUMENTATION would be shown for every filter it provides."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

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


def topology_is_router(topo, host):
    return model.is_router(topo, _host(topo, host))


def topology_service_address(topo, service, from_host):
    return routing.service_address(topo, service, _host(topo, from_host))


def topology_probes(topo, outside_host=None, requests=None, source=None, address_map=None):
    matrix = probes.reachability_matrix(topo, outside_host=outside_host, requests=requests)
    return matrix if source is None else probes.probes_from(matrix, source, address_map)


def topology_not_in_place_summary(topo, host, reason, default_route=None):
    return report.not_in_place_summary(topo, _host(topo, host), reason, default_route)


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
            "topology_is_router": topology_is_router,
            "topology_service_address": topology_service_address,
            "topology_attachments": topology_attachments,
            "topology_networks": topology_networks,
            "topology_service_urls": topology_service_urls,
            "topology_service_nodes": model.service_nodes,
            "topology_probes": topology_probes,
            "topology_not_in_place_summary": topology_not_in_place_summary,
            "reachability_table": reachability_table,
            "reachability_broken": reachability_broken,
        }
