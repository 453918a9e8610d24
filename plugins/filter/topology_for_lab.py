# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One lab's address plan from the declared topology; the logic lives in module_utils/topology/labs.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology_for_lab
short_description: One lab's topology, or one address, renumbered from the declared plan
version_added: 0.3.0
description:
  - Several labs run side by side on one engine from the one declared topology. The declared plan lies in one
    address block (the default lab's, C(10.77.0.0/16)); lab N is the same plan moved N blocks up, so lab 7 is
    C(10.84.0.0/16) with the same host parts, and lab 0 is the declared plan itself, returned untouched.
  - Given a topology, every network's C(cidr) and C(gateway) and every router's and node's interface addresses
    are moved; names, ports and services stay as declared. Given a string (a CIDR or an address of the block,
    such as the Docker management network's C(cidr)), that one value is moved.
  - Fails naming the value when one lies outside O(block) (another lab's copy of it would collide with this one)
    or when O(index) would take the lab outside the private range the block is in.
  - The index comes from the lab's name with P(virtlab.core.lab_index#filter). Two labs given the same index get
    the same plan; the Docker adapter refuses a plan that overlaps networks already on the engine
    (P(virtlab.core.topology_docker_lab#filter), option C(engine_networks)).
positional: block, index
options:
  _input:
    description: The declared C(virtlab_topology) mapping, or one CIDR or address of O(block).
    type: raw
    required: true
  block:
    description: The declared lab's address block, holding every address of the plan.
    type: str
    required: true
  index:
    description: The lab's index, from 0 (the declared plan) up.
    type: int
    required: true
author:
  - virtlab developers (@virtlab)
seealso:
  - plugin: virtlab.core.lab_index
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Lab 7's topology, for every play (the Docker inventory's group_vars/all/topology_per_lab.yml)
  ansible.builtin.set_fact:
    lab_topology: "{{ virtlab_topology_declared | virtlab.core.topology_for_lab('10.77.0.0/16', 7) }}"
  # networks.pn1: {cidr: 10.84.1.0/24, gateway: 10.84.1.1}; nodes.cs.interfaces: {pn1: 10.84.1.10, pn2: 10.84.2.10}

- name: Lab 7's management network
  ansible.builtin.debug:
    msg: "{{ '10.77.254.0/24' | virtlab.core.topology_for_lab('10.77.0.0/16', 7) }}"
  # 10.84.254.0/24
"""

RETURN = r"""
_value:
  description: The lab's topology (same schema as the input), or the moved CIDR or address.
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.virtlab.core.plugins.module_utils.topology import labs


def topology_for_lab(value, block, index):
    try:
        if isinstance(value, dict):
            return labs.for_lab(value, block, index)
        return labs.renumber(value, block, index)
    except ValueError as exc:
        raise AnsibleFilterError("lab %s: %s" % (index, exc))


class FilterModule(object):
    def filters(self):
        return {"topology_for_lab": topology_for_lab}
