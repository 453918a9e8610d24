# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology on Proxmox VE (the Proxmox adapter, module_utils/proxmox/adapter.py) as a filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology_proxmox_lab
short_description: The lab topology as the input of virtlab.core.proxmox_ct, one CT per lab host
version_added: 0.3.0
description:
  - Turns C(virtlab_topology) and the Proxmox backend's settings into the options of
    M(virtlab.core.proxmox_ct) for each host of O(hosts), keyed by host.
  - Interface C(eth0) is the management interface on O(settings.mgmt) with the host's address and the LAN's
    gateway; C(eth1), ... are the host's topology networks in network name order, each on its VLAN of
    O(settings.networks) with the topology address and no gateway.
positional: _input, hosts, settings, state
extends_documentation_fragment: [virtlab.core.topology]
options:
  hosts:
    description: Host name to where its CT lives and its management address.
    type: dict
    required: true
    suboptions:
      vmid:
        description: Id of the host's CT.
        type: int
        required: true
      node:
        description: Node the CT lives on.
        type: str
        required: true
      address:
        description: Management address of the CT (without prefix).
        type: str
        required: true
  settings:
    description: The backend's settings from the inventory.
    type: dict
    required: true
    suboptions:
      template:
        description: Template volume the CTs are created from.
        type: str
      storage:
        description: Storage of the root disks.
        type: str
      disk_size:
        description: Size of the root disks (GiB or with a unit).
        type: str
      ssh_public_keys:
        description: Public keys for root, installed on creation.
        type: list
        elements: str
      mgmt:
        description: The management LAN, C(bridge), C(prefix) (length) and C(gateway).
        type: dict
        required: true
      networks:
        description: Topology network name to its C(bridge) and VLAN C(tag) on the nodes.
        type: dict
        required: true
      ct:
        description: C(cores), C(memory), C(swap), C(unprivileged), C(migration) of every CT.
        type: dict
        default: {cores: 1, memory: 512, swap: 256, unprivileged: true, migration: restart}
  state:
    description: State of the CTs; V(absent) also sets C(stop_before_remove).
    type: str
    choices: [started, stopped, absent]
    default: started
"""

EXAMPLES = r"""
- name: The host's CT, from the topology
  virtlab.core.proxmox_ct:
    vmid: "{{ ct.vmid }}"
    hostname: "{{ ct.hostname }}"
    node: "{{ ct.node }}"
    ostemplate: "{{ ct.ostemplate }}"
    interfaces: "{{ ct.interfaces }}"
    state: "{{ ct.state }}"
  delegate_to: localhost
  vars:
    ct: >-
      {{ (virtlab_topology | virtlab.core.topology_proxmox_lab(
            {inventory_hostname: {'vmid': 710, 'node': 'pve1', 'address': '192.168.100.80'}},
            {'template': 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
             'mgmt': {'bridge': 'vmbr0', 'prefix': 24, 'gateway': '192.168.100.1'},
             'networks': {'pn1': {'bridge': 'vmbr1', 'tag': 101}, 'pn2': {'bridge': 'vmbr1', 'tag': 102}}}))
         .cts[inventory_hostname] }}
"""

RETURN = r"""
_value:
  description: The CTs.
  type: dict
  contains:
    cts:
      description: Host name to its M(virtlab.core.proxmox_ct) options.
      type: dict
      sample:
        cs:
          vmid: 710
          hostname: cs
          node: pve1
          ostemplate: local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
          storage: local-lvm
          disk_size: "4"
          cores: 1
          memory: 512
          swap: 256
          unprivileged: true
          ssh_public_keys: ["ssh-ed25519 AAAA... user@host"]
          interfaces:
            - {bridge: vmbr0, ip: 192.168.100.80/24, gw: 192.168.100.1}
            - {bridge: vmbr1, tag: 101, ip: 10.77.1.10/24}
            - {bridge: vmbr1, tag: 102, ip: 10.77.2.10/24}
          migration: restart
          state: started
          stop_before_remove: false
"""

from ansible_collections.virtlab.core.plugins.module_utils.proxmox.adapter import proxmox_lab
from ansible_collections.virtlab.core.plugins.plugin_utils.topology_filter import adapter_filter


class FilterModule(object):
    def filters(self):
        return {"topology_proxmox_lab": adapter_filter("topology_proxmox_lab", proxmox_lab)}
