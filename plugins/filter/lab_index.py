# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab's index from its name; the logic lives in module_utils/topology/labs.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: lab_index
short_description: A lab's index, from its name
version_added: 0.3.0
description:
  - The index that P(virtlab.core.topology_for_lab#filter) moves a lab's address plan by, and that the Docker
    inventory derives the lab's published calculator port from.
  - V(0) for the default lab (O(default_lab), or an empty name); the name's trailing digits when it has some
    (V(student07) is V(7)); else a stable hash of the name, from V(1) to the last index O(block) allows.
  - Fails when the trailing digits are V(0) or beyond the last index - the name cannot say which lab it is;
    the inventory's C(virtlab_lab_index) then sets it (C(-e virtlab_lab_index=N)).
positional: block
options:
  _input:
    description: The lab's name.
    type: str
    required: true
  block:
    description: The declared lab's address block (the last index is the last block of the private range it is in).
    type: str
    required: true
  default_lab:
    description: The default lab's name, index V(0).
    type: str
    default: virtlab
author:
  - virtlab developers (@virtlab)
seealso:
  - plugin: virtlab.core.topology_for_lab
    plugin_type: filter
"""

EXAMPLES = r"""
- name: A lab's index
  ansible.builtin.debug:
    msg: "{{ 'student07' | virtlab.core.lab_index('10.77.0.0/16') }}"
  # 7; 'virtlab' gives 0, 'alice' a number from 1 to 178 that is always the same for alice
"""

RETURN = r"""
_value:
  description: The lab's index.
  type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.virtlab.core.plugins.module_utils.topology import labs


def lab_index(lab, block, default_lab=labs.DEFAULT_LAB):
    try:
        return labs.lab_index(lab, block, default_lab)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {"lab_index": lab_index}
