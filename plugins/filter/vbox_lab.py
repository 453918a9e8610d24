# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology on VirtualBox (the VirtualBox adapter, module_utils/vbox/adapter.py) as a filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology_vbox_lab
short_description: The lab topology as the input of the virtlab.core.vbox_* modules, one VM per lab host
version_added: 0.3.0
description:
  - Turns C(virtlab_topology) and the VirtualBox backend's settings into, for each host of O(hosts), the
    options of M(virtlab.core.vbox_medium_clone) (the base image copied to the VM's disk),
    M(virtlab.core.vbox_vm) and M(virtlab.core.vbox_natpf) (the SSH port forward), and how Ansible reaches
    the guest, and the guest's lab addresses.
  - With O(state=absent) only C(vm) is given (C(medium), C(natpf) and C(connection) are null, since removing the VM
    removes its disk and port forward), and C(addresses) is empty unless O(state=started).
  - Adapter 1 is NAT; adapters 2, 3, ... are the host's topology networks in network name order, each a
    VirtualBox internal network named O(settings.network_prefix) + the network.
positional: _input, hosts, settings, state
options:
  _input:
    description: The C(virtlab_topology) mapping.
    type: dict
    required: true
  hosts:
    description: Host name to the host port forwarded to its guest's SSH server.
    type: dict
    required: true
    suboptions:
      ssh_port:
        description: Host port forwarded to the guest's port 22.
        type: int
        required: true
  settings:
    description: The backend's settings from the inventory.
    type: dict
    required: true
    suboptions:
      machine_folder:
        description: Folder of the VMs' disks.
        type: str
        required: true
      base_image:
        description: Disk image every VM's disk is copied from.
        type: str
        required: true
      ostype:
        description: VirtualBox OS type ID of the VMs.
        type: str
      name_prefix:
        description: Prefix of the VMs' names.
        type: str
        default: ""
      network_prefix:
        description: Prefix of the internal networks' names.
        type: str
        default: ""
      ssh_host:
        description: Host address the SSH port forward listens on, and Ansible connects to.
        type: str
        default: 127.0.0.1
      vm:
        description: C(memory) (MiB) and C(cpus) of every VM.
        type: dict
        default: {memory: 512, cpus: 1}
      service_ports:
        description:
          - >-
            Topology service name to a host port forwarded (on O(settings.ssh_host)) to the service's port on its
            node's VM, in that VM's C(natpf) rules after the SSH rule - how the machine reaches the service, for
            example V({calculator: 50100}).
        type: dict
        default: {}
  state:
    description: State of the VMs (V(started) is vbox_vm's V(running), V(stopped) its V(poweroff)).
    type: str
    choices: [started, stopped, absent]
    default: started
"""

EXAMPLES = r"""
- name: The host's VM, from the topology
  virtlab.core.vbox_vm:
    name: "{{ vm.name }}"
    ostype: "{{ vm.ostype }}"
    memory: "{{ vm.memory }}"
    cpus: "{{ vm.cpus }}"
    nic1: "{{ vm.nic1 }}"
    internal_networks: "{{ vm.internal_networks }}"
    disk: "{{ vm.disk }}"
    state: "{{ vm.state }}"
  delegate_to: localhost
  vars:
    vm: >-
      {{ (virtlab_topology | virtlab.core.topology_vbox_lab({inventory_hostname: {'ssh_port': ansible_port}},
            {'machine_folder': '/srv/vms', 'base_image': '/srv/images/debian-12.vdi', 'ostype': 'Debian_64',
             'name_prefix': 'virtlab-', 'network_prefix': 'virtlab-'})).vms[inventory_hostname].vm }}
"""

RETURN = r"""
_value:
  description: The VMs.
  type: dict
  contains:
    vms:
      description:
        - Host name to C(medium), C(vm), C(natpf) (module options), C(connection) (how Ansible reaches the guest)
          and C(addresses) (the guest's lab address on each internal network adapter).
      type: dict
      sample:
        cs:
          medium: {source: /srv/images/debian-12.vdi, dest: /srv/vms/virtlab-cs.vdi}
          vm:
            name: virtlab-cs
            ostype: Debian_64
            memory: 512
            cpus: 1
            nic1: nat
            internal_networks: [virtlab-pn1, virtlab-pn2]
            disk: {path: /srv/vms/virtlab-cs.vdi}
            state: running
          natpf: {name: virtlab-cs, rules: ["ssh,tcp,127.0.0.1,2210,,22", "calculator,tcp,127.0.0.1,50100,,50000"]}
          connection: {ansible_host: 127.0.0.1, ansible_port: 2210}
          addresses:
            - {adapter: 2, network: pn1, address: 10.77.1.10/24}
            - {adapter: 3, network: pn2, address: 10.77.2.10/24}
"""

from ansible_collections.virtlab.core.plugins.module_utils.vbox.adapter import vbox_lab
from ansible_collections.virtlab.core.plugins.plugin_utils.topology_filter import adapter_filter


class FilterModule(object):
    def filters(self):
        return {"topology_vbox_lab": adapter_filter("topology_vbox_lab", vbox_lab)}
