#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docker_lab
short_description: Reconcile a whole lab's Docker networks, commits and nodes in one call
version_added: 0.2.0
description:
  - Does for lists of networks, commits and nodes what M(virtlab.core.docker_network),
    M(virtlab.core.docker_commit) and M(virtlab.core.docker_vm) do for one of each, with the same options and
    the same comparisons, in one module run. A re-run of a lab of eight nodes then costs one process and one connection to the engine
    instead of one per node and per network.
  - Each element of O(networks), O(commits) and O(nodes) is checked against the options of the module named
    there, with its defaults; an element with an unknown or missing option fails naming its list and index.
  - Everything is checked before anything changes - every declaration is normalised and every plan is made,
    so bad input (a subnet that is not one, an address outside its network, a missing image) fails before the
    first network is created.
  - Order - networks that must exist, then commits, then nodes (all created and started before waiting for any
    of them to boot, so they boot together), then networks that must be absent (after the nodes that used them
    are gone).
  - In check mode a node may be planned on a network that the same call would create.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.docker
options:
  networks:
    description:
      - The networks, each with the options of M(virtlab.core.docker_network) (C(name), C(subnet), C(gateway),
        C(internal), C(routed), C(labels), C(force), C(state)), and their aliases (C(network_name) for C(name)).
    type: list
    elements: dict
    default: []
  commits:
    description:
      - Containers to commit to images, each with the options of M(virtlab.core.docker_commit) (C(container),
        C(repository), C(tag), C(commit_message), C(revision), C(compare), C(ignore_paths)).
      - Commits are made before the nodes, so a node of the same call can run a committed image (C(image) is
        C(repository:tag)); a container to commit must already exist, it is not one of this call's nodes.
    type: list
    elements: dict
    default: []
  nodes:
    description:
      - The nodes, each with the options of M(virtlab.core.docker_vm) (C(name), C(image), C(hostname),
        C(networks), C(capabilities), C(published_ports), C(sysctls), C(env), C(labels), C(systemd),
        C(restart_policy), C(state), C(boot_timeout)), and their aliases (C(ports) for C(published_ports)).
    type: list
    elements: dict
    default: []
seealso:
  - module: virtlab.core.docker_network
  - module: virtlab.core.docker_commit
  - module: virtlab.core.docker_vm
"""

EXAMPLES = r"""
- name: Two networks and a router between them, in one call
  virtlab.core.docker_lab:
    networks:
      - {name: virtlab-pn2, subnet: 10.77.2.0/24, gateway: 10.77.2.254, internal: true, routed: true}
      - {name: virtlab-pn3, subnet: 10.77.3.0/24, gateway: 10.77.3.254, internal: true, routed: true}
    nodes:
      - name: virtlab-rt2
        hostname: rt2
        image: virtlab/debian-systemd:bookworm
        capabilities: [SYS_ADMIN, NET_ADMIN]
        sysctls: {net.ipv4.ip_forward: 1}
        networks:
          - {name: virtlab-pn2, ipv4_address: 10.77.2.1}
          - {name: virtlab-pn3, ipv4_address: 10.77.3.1}

- name: Commit a changed container and run a container from the new image, in one call
  virtlab.core.docker_lab:
    commits:
      - {container: virtlab-objective5-container, repository: blabla, tag: version3}
    nodes:
      - {name: virtlab-objective5-from-image, image: "blabla:version3", networks: [{name: bridge}]}

- name: Tear it down - the node first, then the networks
  virtlab.core.docker_lab:
    nodes: [{name: virtlab-rt2, state: absent}]
    networks: [{name: virtlab-pn2, state: absent}, {name: virtlab-pn3, state: absent}]
"""

RETURN = r"""
networks:
  description: Network name to the network as M(virtlab.core.docker_network) returns it; empty when absent.
  returned: always
  type: dict
  sample: {virtlab-pn3: {name: virtlab-pn3, subnet: 10.77.3.0/24, gateway: 10.77.3.254, internal: true,
           routed: true, bridge: br-0123456789ab, containers: [virtlab-rt2]}}
nodes:
  description: Node name to the node as M(virtlab.core.docker_vm) returns it; empty when absent.
  returned: always
  type: dict
  sample: {virtlab-rt2: {name: virtlab-rt2, running: true, hostname: rt2,
           networks: {virtlab-pn2: 10.77.2.1, virtlab-pn3: 10.77.3.1}}}
images:
  description: C(repository:tag) of each commit to the image as M(virtlab.core.docker_commit) returns it.
  returned: always
  type: dict
  sample: {"blabla:version3": {id: "sha256:0123", tags: ["blabla:version3"], revision: "1"}}
actions:
  description: Name of each network or node (C(repository:tag) of each image) that changed (or would, in check mode) to what was done to it.
  returned: always
  type: dict
  sample: {virtlab-pn3: [created, allowed routed traffic], virtlab-rt2: [created, started]}
verbs:
  description:
    - The same resources to the verbs of their steps, in order - C(create), C(recreate), C(start), C(connect),
      C(remove), ... (each module's verbs are listed in its reconciler). What a playbook decides on, where
      RV(actions) is what a user reads; which nodes check mode would create, recreate or start is
      RV(not_in_place).
  returned: always
  type: dict
  version_added: 0.3.0
  sample: {virtlab-pn3: [create, allow routed], virtlab-rt2: [create, start]}
not_in_place:
  description:
    - The nodes that this task creates, recreates or starts (in check mode, would) - those that were not running
      as declared. In check mode there is nothing to log into on them yet, or not the container it will be.
    - The same test as M(virtlab.core.proxmox_ct) and M(virtlab.core.vbox_vm) make for their machine.
  returned: always
  type: list
  elements: str
  version_added: 0.3.0
  sample: [virtlab-sum]
"""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.virtlab.core.plugins.module_utils.docker import commit as docker_commit
from ansible_collections.virtlab.core.plugins.module_utils.docker import network as docker_network
from ansible_collections.virtlab.core.plugins.module_utils.docker import node as docker_node
from ansible_collections.virtlab.core.plugins.module_utils.docker.base import DockerModule, public
from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan

# Each element is checked against the options of the module that handles one such resource (its documentation
# is that module's): the spec is not repeated here.
RECONCILERS = {
    "networks": docker_network.NetworkReconciler,
    "commits": docker_commit.CommitReconciler,
    "nodes": docker_node.NodeReconciler,
}


def validated(kind, items):
    """The elements of ``kind`` with their options checked and defaulted; VirtlabError names the bad element."""
    reconciler = RECONCILERS[kind]
    validator = ArgumentSpecValidator(reconciler.options, required_if=reconciler.required_if)
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise VirtlabError("%s[%d] is not a dictionary of options" % (kind, index))
        checked = validator.validate(item)
        if checked.error_messages:
            label = item.get("name") or item.get("container") or "?"
            raise VirtlabError("%s[%d] (%s): %s" % (kind, index, label, "; ".join(checked.error_messages)))
        result.append(checked.validated_parameters)
    return result


class DockerLabModule(DockerModule):
    """The module flow over many resources, in the lab's order: read and plan everything first (bad input fails
    before anything changes), then networks, commits, nodes (started together, awaited together), and last the
    networks to remove. Each resource's plan is kept on its reconciler; the actions are rendered only at exit."""

    argument_spec = dict(
        networks=dict(type="list", elements="dict", default=[]),
        commits=dict(type="list", elements="dict", default=[]),
        nodes=dict(type="list", elements="dict", default=[]),
    )

    def run(self):
        networks = [docker_network.NetworkReconciler(self, params) for params in validated(
            "networks", self.params["networks"])]
        kept = [network for network in networks if network.params["state"] == "present"]
        dropped = [network for network in networks if network.params["state"] == "absent"]
        commits = [docker_commit.CommitReconciler(self, params) for params in validated(
            "commits", self.params["commits"])]
        node_params = validated("nodes", self.params["nodes"])
        for resource in kept + commits:
            resource.survey()
        planned_networks = dict((n.name, n.desired) for n in kept if n.actions.has("create", "recreate"))
        planned_images = dict((c.name, "(committed from %s by this task)" % c.params["container"])
                              for c in commits if c.actions)
        nodes = [docker_node.NodeReconciler(self, params, planned_networks=planned_networks,
                                            planned_images=planned_images) for params in node_params]
        for node in nodes:
            node.survey()
        # Networks to remove are planned against the engine as it is when the nodes are done with them: in a real
        # run, only once the nodes have been reconciled (below).
        if self.check_mode:
            for network in dropped:
                network.survey()

        after = {"networks": {}, "images": {}, "nodes": {}}
        for kind, resources in (("networks", kept), ("images", commits), ("nodes", nodes)):
            for resource in resources:
                after[kind][resource.name] = resource.public(resource.expected(resource.current, resource.actions))
        if not self.check_mode:
            self.apply_all(kept, commits, nodes, planned_images, after)
            for network in dropped:
                if network.survey():
                    network.apply(network.current, network.actions)
        for network in dropped:
            after["networks"][network.name] = network.expected(network.current, network.actions) if (
                self.check_mode or not network.actions) else network.read_back(network.current, network.actions)

        # The diff shows what changes, not the whole lab.
        plan = Plan()
        before, diff_after = {"networks": {}, "images": {}, "nodes": {}}, {"networks": {}, "images": {}, "nodes": {}}
        for kind, resources in (("networks", networks), ("images", commits), ("nodes", nodes)):
            for resource in resources:
                if resource.actions:
                    plan.extend(resource.actions)
                    before[kind][resource.name] = public(resource.current)
                    diff_after[kind][resource.name] = public(after[kind][resource.name])
        verbs = {}
        for action in plan:
            verbs.setdefault(action.target, []).append(action.verb)
        not_in_place = [node.name for node in nodes if node.actions.not_in_place()]
        self.exit(bool(plan), before=before, after=diff_after, networks=after["networks"],
                  images=after["images"], nodes=after["nodes"], actions=plan.by_target(), verbs=verbs,
                  not_in_place=not_in_place)

    @staticmethod
    def apply_all(kept, commits, nodes, planned_images, after):
        for kind, resources in (("networks", kept), ("images", commits)):
            for resource in resources:
                if resource.actions:
                    resource.apply(resource.current, resource.actions)
                    after[kind][resource.name] = resource.read_back(resource.current, resource.actions)
        for node in nodes:
            if node.params["image"] in planned_images:
                # Planned against an image that did not exist yet: plan again against the one just committed.
                node.planned_images = {}
                node.survey()
                after["nodes"][node.name] = node.public(node.expected(node.current, node.actions))
        for node in nodes:
            if node.actions:
                node.apply(node.current, node.actions)
        # Started together, they boot together: wait for them (read them back) only now.
        for node in nodes:
            if node.actions:
                after["nodes"][node.name] = node.public(node.read_back(node.current, node.actions))


def main():
    DockerLabModule()()


if __name__ == "__main__":
    main()
