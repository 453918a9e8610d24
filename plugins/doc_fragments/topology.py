# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The input of every filter that reads the lab's topology (the topology_* filters).
    DOCUMENTATION = r"""
options:
  _input:
    description: The C(virtlab_topology) mapping, valid (see P(virtlab.core.topology_errors#filter)).
    type: dict
    required: true
"""

    # How the lab is laid out on OpenStack, for the two that do it: the filter topology_openstack_lab (its
    # options) and the inventory plugin virtlab.core.topology (its openstack settings, passed to the same adapter).
    # Notes only: ansible merges a fragment's options at the top level alone, where the two differ (the inventory
    # has them under its openstack option); the empty options are what a fragment must have.
    OPENSTACK_LAB = r"""
options: {}
notes:
  - "On OpenStack, each resource of the lab is named C(prefix) and its topology name: the prefix C(virtlab-) gives
    the server C(virtlab-cs) and the network C(virtlab-pn1)."
  - "On OpenStack, the topology network named C(external_topology_network) (by default C(public)) stands for the
    cloud's external network: no Neutron network is made for it, routers on it take their gateway there, and
    nodes that live only there are not servers (nothing to create or log into)."
  - "On OpenStack, the hosts of C(floating_ip_hosts) get a floating IP; the first server among them is the jump
    host through which Ansible reaches the servers that have none."
"""
