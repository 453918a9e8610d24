# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology as the openstack_* modules take it; the logic lives in module_utils/openstack/adapter.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology_openstack_lab
short_description: The lab topology as the OpenStack modules take it
version_added: 0.3.0
description:
  - Turns C(virtlab_topology) into the input of M(virtlab.core.openstack_network), M(virtlab.core.openstack_router)
    and M(virtlab.core.openstack_server) - the one OpenStack adapter, used by the C(virtlab.core.provision_openstack)
    role.
  - Each lab subnet gets allocation pools that leave out every address the topology assigns (and the gateway), so
    Neutron's DHCP port never takes a router's or a server's address.
positional: _input
extends_documentation_fragment: [virtlab.core.topology, virtlab.core.topology.openstack_lab]
options:
  prefix:
    description: Prefix of every resource name (see the notes).
    type: str
    default: virtlab-
  external_topology_network:
    description: The topology network that is the cloud's external network (see the notes).
    type: str
    default: public
  external_network:
    description: The cloud's external network (routers' gateway, floating IP pool).
    type: str
    default: public
  floating_ip_hosts:
    description: Hosts that get a floating IP (see the notes).
    type: list
    elements: str
    default: []
  dns_nameservers:
    description: DNS servers announced on the lab's subnets.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The lab's Neutron networks
  virtlab.core.openstack_network:
    name: "{{ item.name }}"
    subnets: "{{ item.subnets }}"
  loop: "{{ (virtlab_topology | virtlab.core.topology_openstack_lab(floating_ip_hosts=['cs'])).networks }}"
"""

RETURN = r"""
_value:
  description: The lab on OpenStack.
  type: dict
  contains:
    networks:
      description: M(virtlab.core.openstack_network) options (name, subnets) per lab network.
      type: list
      elements: dict
    routers:
      description: Per topology router, M(virtlab.core.openstack_router) options (name, external_network, interfaces, routes).
      type: dict
    servers:
      description: Per server host, its name, networks (M(virtlab.core.openstack_server) O(networks)) and floating_ip.
      type: dict
    jump_host:
      description: The host through which Ansible reaches servers without a floating IP, or null.
      type: str
"""

from ansible_collections.virtlab.core.plugins.module_utils.openstack.adapter import openstack_lab
from ansible_collections.virtlab.core.plugins.plugin_utils.topology_filter import require_usable


def topology_openstack_lab(topology, prefix="virtlab-", external_topology_network="public",
                           external_network="public", floating_ip_hosts=None, dns_nameservers=None):
    require_usable(topology)
    return openstack_lab(topology, prefix, external_topology_network, external_network,
                         list(floating_ip_hosts or []), dns_nameservers)


class FilterModule(object):
    def filters(self):
        return {"topology_openstack_lab": topology_openstack_lab}
