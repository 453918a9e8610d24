#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docker_network
short_description: Manage a lab network as a Docker bridge network
version_added: 0.1.0
description:
  - Creates, keeps or removes a Docker bridge network with one IPv4 subnet, through the Docker SDK for Python.
  - A network is compared on its subnet, gateway and I(internal) flag. Docker cannot change these in place, so a
    difference means the network is recreated; when containers are attached that needs O(force=true).
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.docker
options:
  name:
    aliases: [network_name]
    description: Name of the Docker network.
    type: str
    required: true
  subnet:
    description:
      - The network's IPv4 subnet in CIDR notation. Required with O(state=present).
    type: str
  gateway:
    description:
      - The address Docker gives the machine's bridge on this network.
      - Lab routers must not use it. When omitted Docker chooses it, and it is not compared.
    type: str
  internal:
    description:
      - An internal network has no route to the machine's real network (no NAT, no published ports).
    type: bool
    default: false
  routed:
    description:
      - The network carries traffic forwarded by lab routers, whose source or destination lies outside the
        subnet. Docker drops such frames on internal networks; with V(true) the module adds a host firewall rule
        (in Docker's C(DOCKER-USER) chain) accepting frames that enter and leave the same bridge, so they stay
        inside the network. The rule is checked, and restored if lost, on every run.
      - A network removed outside this module (C(docker network rm)) leaves its rule behind. When the module
        creates, recreates or removes a network, it also prunes these rules of its own (exactly its rule, comment
        included) whose bridge is no longer on the machine, and says so in RV(actions); other rules are never
        touched, and a run with nothing else to change prunes nothing.
      - Needs C(iptables) on the machine running the engine.
    type: bool
    default: false
  labels:
    description: Labels to set on the network when it is created.
    type: dict
    default: {}
  force:
    description:
      - Disconnect attached containers when the network must be recreated or removed.
      - Without it such a change fails and lists the containers.
    type: bool
    default: false
  state:
    description: Whether the network should exist.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The calculator's network, with no way out of the lab
  virtlab.core.docker_network:
    name: virtlab-pn1
    subnet: 10.77.1.0/24
    gateway: 10.77.1.254
    internal: true

- name: Remove it, disconnecting what is still attached
  virtlab.core.docker_network:
    name: virtlab-pn1
    state: absent
    force: true
"""

RETURN = r"""
network:
  description: The network as it is after the task; empty when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Network name.
      type: str
      sample: virtlab-pn1
    id:
      description: Docker's network id.
      type: str
    subnet:
      description: IPv4 subnet.
      type: str
      sample: 10.77.1.0/24
    gateway:
      description: The bridge's address on the subnet.
      type: str
      sample: 10.77.1.254
    internal:
      description: Whether the network is internal.
      type: bool
    bridge:
      description: The Linux bridge behind the network.
      type: str
      sample: br-0efe4d0da3a1
    routed:
      description: Whether routed traffic is accepted on the bridge.
      type: bool
    containers:
      description: Names of the attached containers.
      type: list
      elements: str
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: [created, allowed routed traffic, "pruned the firewall rules of 1 gone bridges (br-0123456789ab)"]
"""

from ansible_collections.virtlab.core.plugins.module_utils.docker.base import ReconcilerModule
from ansible_collections.virtlab.core.plugins.module_utils.docker.network import NetworkReconciler


class DockerNetworkModule(ReconcilerModule):
    """The module flow (read, plan, check mode or apply, read back) on one network, with its options."""

    reconciler = NetworkReconciler


def main():
    DockerNetworkModule()()


if __name__ == "__main__":
    main()
