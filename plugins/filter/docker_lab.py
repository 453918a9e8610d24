# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology as the input of docker_lab, for the provision_docker role; the logic lives in
module_utils/docker/adapter.py (as does topology_docker_reserved's, in its own file: a plugin file's DOCUMENTATION
is shown for every filter it provides)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology_docker_lab
short_description: The lab topology as the input of virtlab.core.docker_lab
version_added: 0.2.0
description:
  - Returns exactly the O(virtlab.core.docker_lab#module:networks) and O(virtlab.core.docker_lab#module:nodes) of
    M(virtlab.core.docker_lab) for the topology's networks and the hosts asked for - the one place where Docker's
    policy for the lab is decided.
  - Every topology network is an internal Docker network that carries routed traffic, named O(prefix) and its
    topology name; Docker's bridge takes the subnet's highest host address (see
    P(virtlab.core.topology_docker_reserved#filter)), given as the network's gateway.
  - The NAT-ed management network O(mgmt_network) is joined by the hosts that run a service (they install
    packages and publish their ports through it).
  - One node per host of O(hosts), named O(prefix) and the host, with the host as hostname, its topology
    addresses, C(SYS_ADMIN) (systemd without C(--privileged)) and C(NET_ADMIN) (its routes), and
    C(net.ipv4.ip_forward) on for routers only (the topology's answer to "does this host forward", as
    P(virtlab.core.topology_is_router#filter) gives it).
positional: hosts, prefix, image, mgmt_network
extends_documentation_fragment: [virtlab.core.topology]
options:
  hosts:
    description: The hosts to have a node, each declared in the topology's routers or nodes (any other name fails
      naming it).
    type: list
    elements: str
    required: true
  prefix:
    description: Prefix of the Docker names of networks and nodes, and value of their C(virtlab.lab) label.
    type: str
    required: true
  image:
    description: Local systemd image of the nodes.
    type: str
    required: true
  mgmt_network:
    description: The management network, C(name) and C(cidr).
    type: dict
    required: true
  published_ports:
    description: Host name to the ports its node publishes, as C([ip:]host_port:container_port).
    type: dict
    default: {}
  state:
    description:
      - State of the nodes; the networks are V(absent) with V(absent), else V(present).
    type: str
    choices: [started, present, stopped, absent]
    default: started
  engine_networks:
    description:
      - The networks already on the Docker engine, as the engine lists them (C(Name), C(Labels), C(IPAM); the
        C(networks) of M(community.docker.docker_host_info) with C(verbose_output=true)).
      - When given, and O(state) is not V(absent), a lab network whose subnet overlaps a network of another name
        fails the filter naming both - before anything is created, where Docker would refuse it in the middle of a
        run. This is how two labs with the same address plan on one engine are refused (see
        P(virtlab.core.topology_for_lab#filter)).
    type: list
    elements: dict
    version_added: 0.3.0
author:
  - virtlab developers (@virtlab)
seealso:
  - module: virtlab.core.docker_lab
"""

EXAMPLES = r"""
- name: The play's hosts as Docker networks and nodes, in one call
  virtlab.core.docker_lab:
    networks: "{{ lab.networks }}"
    nodes: "{{ lab.nodes }}"
  vars:
    lab: >-
      {{ virtlab_topology | virtlab.core.topology_docker_lab(ansible_play_batch, 'virtlab-',
           'virtlab/debian-systemd:bookworm', {'name': 'virtlab-mgmt', 'cidr': '10.77.254.0/24'},
           {'cs': ['127.0.0.1:50000:50000']}) }}
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The options of M(virtlab.core.docker_lab).
  type: dict
  contains:
    networks:
      description: Every topology network, then the management network, as M(virtlab.core.docker_network) options.
      type: list
      elements: dict
      sample: [{name: virtlab-pn1, subnet: 10.77.1.0/24, gateway: 10.77.1.254, internal: true, routed: true,
                labels: {virtlab.lab: virtlab-}, state: present}]
    nodes:
      description: One node per host of O(hosts), as M(virtlab.core.docker_vm) options.
      type: list
      elements: dict
      sample: [{name: virtlab-rt2, hostname: rt2, image: virtlab/debian-systemd:bookworm,
                capabilities: [SYS_ADMIN, NET_ADMIN], sysctls: {net.ipv4.ip_forward: 1},
                networks: [{name: virtlab-pn2, ipv4_address: 10.77.2.1}, {name: virtlab-pn3, ipv4_address: 10.77.3.1}],
                published_ports: [], labels: {virtlab.lab: virtlab-, virtlab.host: rt2}, state: started}]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.virtlab.core.plugins.module_utils.docker import adapter


def topology_docker_lab(topo, hosts, prefix, image, mgmt_network, published_ports=None, state="started",
                        engine_networks=None):
    try:
        return adapter.docker_lab(topo, hosts, prefix, image, mgmt_network, published_ports, state, engine_networks)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {
            "topology_docker_lab": topology_docker_lab,
        }
