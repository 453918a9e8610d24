# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology as a Graphviz picture; the logic lives in module_utils/topology/picture.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology_dot
short_description: The lab topology as a Graphviz DOT picture
version_added: 0.3.0
description:
  - Networks as boxes with their CIDR and gateway, routers and nodes linked to each network they join (the link
    labelled with their address), services with their ports under their node, the outside host drawn apart.
  - With O(broken), the paths that failed a reachability check are drawn as red arrows.
  - Render it with Graphviz, for example C(dot -Tsvg lab.dot -o lab.svg).
positional: _input
extends_documentation_fragment: [virtlab.core.topology]
options:
  outside_host:
    description: The host that stands for the users' side of the lab.
    type: str
  broken:
    description: Probe results (C(src), C(service), C(address), C(port), C(detail)) of the paths that failed.
    type: list
    elements: dict
  title:
    description: The graph's name.
    type: str
    default: virtlab
"""

EXAMPLES = r"""
- name: Write the lab's picture
  ansible.builtin.copy:
    content: "{{ virtlab_topology | virtlab.core.topology_dot(outside_host='outside') }}"
    dest: report/lab.dot
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The DOT text.
  type: str
"""

from ansible_collections.virtlab.core.plugins.module_utils.topology.picture import to_dot
from ansible_collections.virtlab.core.plugins.plugin_utils.topology_filter import require_usable


def topology_dot(topology, outside_host=None, broken=None, title="virtlab"):
    require_usable(topology)
    return to_dot(topology, outside_host=outside_host, broken=broken, title=title)


class FilterModule(object):
    def filters(self):
        return {"topology_dot": topology_dot}
