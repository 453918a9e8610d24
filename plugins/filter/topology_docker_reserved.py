# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The addresses Docker keeps for itself on the lab networks, for the Docker inventories; the logic lives in
module_utils/docker/adapter.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology_docker_reserved
short_description: The address Docker's bridge takes on each lab network
version_added: 0.3.0
description:
  - Returns, for each topology network, the address the Docker backend gives the network's bridge (the subnet's
    highest host address) - the same one P(virtlab.core.topology_docker_lab#filter) declares as the network's
    gateway. No lab host may use it.
  - The Docker inventories hand it to the topology role as C(topology_reserved_addresses), so that the topology's
    validation names a host that uses it before anything is created.
extends_documentation_fragment: [virtlab.core.topology]
author:
  - virtlab developers (@virtlab)
"""

EXAMPLES = r"""
- name: Validate the topology with Docker's reserved addresses
  ansible.builtin.include_role:
    name: virtlab.core.topology
  vars:
    topology_reserved_addresses: "{{ virtlab_topology | virtlab.core.topology_docker_reserved }}"
  # In the default lab: {"public": "10.77.0.254", "pn1": "10.77.1.254", "pn2": "10.77.2.254", "pn3": "10.77.3.254"}
"""

RETURN = r"""
_value:
  description: Topology network name to the reserved address.
  type: dict
"""

from ansible_collections.virtlab.core.plugins.module_utils.docker import adapter


class FilterModule(object):
    def filters(self):
        return {"topology_docker_reserved": adapter.reserved_addresses}
