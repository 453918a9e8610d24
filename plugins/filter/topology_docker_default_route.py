# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each Docker node's default route, for the Docker inventories; the logic lives in module_utils/docker/adapter.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology_docker_default_route
short_description: The default route of a lab node on Docker
version_added: 0.3.0
description:
  - Returns the O(virtlab.core.static_routes#module:default_route) of a host's node on the Docker backend.
  - The hosts that run a service join the management network (see P(virtlab.core.topology_docker_lab#filter)) and
    go out through its NAT, the management bridge's address, for their packages.
  - The others (the routers, C(outside)) have none - V(absent) - so that traffic for no lab network is refused
    where it is, never handed to the Docker host's bridge on a lab network. Docker gives every container a default
    route via the bridge of its first network, and a router that forwards there also sends ICMP redirects towards
    it.
positional: host, mgmt_network
extends_documentation_fragment: [virtlab.core.topology]
options:
  host:
    description: The host.
    type: str
    required: true
  mgmt_network:
    description: The management network, C(name) and C(cidr) (as for P(virtlab.core.topology_docker_lab#filter)).
    type: dict
    required: true
author:
  - virtlab developers (@virtlab)
"""

EXAMPLES = r"""
- name: The node's default route, as the Docker inventory gives it to the static_routes role
  ansible.builtin.debug:
    msg: "{{ virtlab_topology | virtlab.core.topology_docker_default_route(inventory_hostname, virtlab_docker_mgmt_network) }}"
  # In the default lab: 10.77.254.254 on cs, sum, sub, mul and div; absent on rt1, rt2 and outside.
"""

RETURN = r"""
_value:
  description: V(absent), or the next hop's address.
  type: str
"""

from ansible_collections.virtlab.core.plugins.module_utils.docker import adapter


class FilterModule(object):
    def filters(self):
        return {"topology_docker_default_route": adapter.default_route}
