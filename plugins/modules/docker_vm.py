#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docker_vm
short_description: Run a lab node as a VM-like Docker container (systemd as PID 1)
version_added: 0.1.0
description:
  - Creates, starts, stops or removes a container that behaves like a small VM, through the Docker SDK for Python
    - systemd runs as PID 1, the node has its own hostname and fixed addresses on several networks.
  - Settings Docker fixes at creation (image, hostname, capabilities, published ports, sysctls, systemd mode,
    environment, labels, restart policy) are compared after normalisation; a difference recreates the container.
  - Networks are reconciled in place - connected, disconnected or re-addressed without recreating the node.
  - Runs without C(--privileged) - systemd gets C(SYS_ADMIN), the host's cgroup namespace and tmpfs on C(/run).
  - Named C(virtlab.core.docker_node) before 0.3.0, a name that collides with C(community.docker.docker_node)
    (Swarm nodes). The old name still works, redirected here with a deprecation warning, until 1.0.0.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.docker
options:
  name:
    description: Container name.
    type: str
    required: true
  image:
    description:
      - Local image to run (there is no registry to pull from). Required unless O(state=absent).
    type: str
  hostname:
    description: The node's hostname. Defaults to O(name).
    type: str
  networks:
    description:
      - Networks to attach, each with an optional fixed IPv4 address. Networks must exist.
      - Attached networks that are not listed are disconnected.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Network name.
        type: str
        required: true
      ipv4_address:
        description: Fixed address on that network; Docker chooses one when omitted.
        type: str
  capabilities:
    description: Extra Linux capabilities (C(NET_ADMIN) lets the node manage routes).
    type: list
    elements: str
    default: []
  published_ports:
    aliases: [ports]
    description:
      - Ports published on the machine, as C([host_ip:]host_port:container_port[/protocol]).
      - Docker publishes ports only through a non-internal network.
    type: list
    elements: str
    default: []
  sysctls:
    description: Namespaced kernel parameters set at creation, e.g. C(net.ipv4.ip_forward=1) for a router.
    type: dict
    default: {}
  env:
    description: Environment variables of PID 1.
    type: dict
    default: {}
  labels:
    description: Container labels.
    type: dict
    default: {}
  systemd:
    description: Run the image's init (systemd) as PID 1 with what it needs to boot in an unprivileged container.
    type: bool
    default: true
  restart_policy:
    description: Docker restart policy.
    type: str
    choices: ["no", always, unless-stopped, on-failure]
    default: unless-stopped
  state:
    description:
      - V(started) - exists and runs (waits for systemd to finish booting); V(present) - exists, not started if new;
        V(stopped) - exists and is stopped; V(absent) - removed.
    type: str
    choices: [present, started, stopped, absent]
    default: started
  boot_timeout:
    description: Seconds to wait for systemd to finish booting after a start.
    type: int
    default: 90
"""

EXAMPLES = r"""
- name: The calculator node, on two lab networks and the management network
  virtlab.core.docker_vm:
    name: virtlab-cs
    hostname: cs
    image: virtlab/debian-systemd:bookworm
    capabilities: [NET_ADMIN]
    networks:
      - name: virtlab-mgmt
      - name: virtlab-pn1
        ipv4_address: 10.77.1.10
      - name: virtlab-pn2
        ipv4_address: 10.77.2.10
    published_ports: ["127.0.0.1:50000:50000"]

- name: A router forwards between its networks
  virtlab.core.docker_vm:
    name: virtlab-rt2
    image: virtlab/debian-systemd:bookworm
    capabilities: [NET_ADMIN]
    sysctls:
      net.ipv4.ip_forward: 1
    networks:
      - {name: virtlab-pn2, ipv4_address: 10.77.2.1}
      - {name: virtlab-pn3, ipv4_address: 10.77.3.1}

- name: Stop it (systemd shuts down cleanly)
  virtlab.core.docker_vm:
    name: virtlab-rt2
    state: stopped
"""

RETURN = r"""
node:
  description: The container as it is after the task (as it would be, in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Container name.
      type: str
    id:
      description: Container id (absent in check mode before creation).
      type: str
    running:
      description: Whether the container runs.
      type: bool
    image:
      description: Image name the container was created from.
      type: str
    hostname:
      description: Hostname.
      type: str
    networks:
      description: Network name to IPv4 address.
      type: dict
      sample: {virtlab-pn1: 10.77.1.10, virtlab-pn2: 10.77.2.10}
    published_ports:
      description: Normalised published ports.
      type: list
      elements: str
      sample: ["127.0.0.1:50000:50000/tcp"]
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: ["recreated (hostname cs -> cs2)", "connected virtlab-pn2 (10.77.2.10)", started]
"""

from ansible_collections.virtlab.core.plugins.module_utils.docker.base import ReconcilerModule
from ansible_collections.virtlab.core.plugins.module_utils.docker.node import NodeReconciler


class DockerVmModule(ReconcilerModule):
    """The module flow (read, plan, check mode or apply, read back) on one node, with its options."""

    reconciler = NodeReconciler


def main():
    DockerVmModule()()


if __name__ == "__main__":
    main()
