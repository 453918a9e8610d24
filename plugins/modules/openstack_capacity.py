#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: openstack_capacity
short_description: Check, before anything is created, that an OpenStack project has room for what a play declares
version_added: 0.1.0
description:
  - Reads the project's quotas and usage (Nova's limits, Neutron's quota details) and the resources of the
    given names that exist already, and fails when creating the missing ones would exceed a quota, naming
    each quota that is short (its limit, what is used, what the play needs). Nothing is created or changed;
    a play runs it first, so that a quota stops it before anything is half-built.
  - Resources that exist already need no room (a second run of a play passes on a full project). A resource is
    given by its name or its id, and found by either - compared without surrounding whitespace, an id whatever
    its case. A resource given twice (by the same name, or by its name and its id) counts once. A quota of
    V(-1) is unlimited.
  - Checks the external network too when O(external_network) is given, with the external networks of the cloud
    named when it is unknown.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.openstack
options:
  servers:
    description: Names (or ids) of the servers the play declares.
    type: list
    elements: str
    default: []
  flavor:
    description: Flavor of the servers to create (their vCPUs and RAM count against the cores and RAM quotas).
      Required when O(servers) names a server that does not exist.
    type: str
  floating_ips:
    description: Names of the servers among O(servers) that get a floating IP (one each, when they do not exist),
      as O(servers) gives them.
    type: list
    elements: str
    default: []
  ports:
    description: Number of ports the missing servers need together (one per network of each).
      Default one per missing server. Not counted when every server exists already.
    type: int
  networks:
    description: Names (or ids) of the networks the play declares (each with one subnet).
    type: list
    elements: str
    default: []
  routers:
    description: Names (or ids) of the routers the play declares.
    type: list
    elements: str
    default: []
  security_groups:
    description: Names (or ids) of the security groups the play declares.
    type: list
    elements: str
    default: []
  external_network:
    description: The external network the routers and floating IPs use; an unknown one fails, naming the
      external networks of the cloud.
    type: str
attributes:
  check_mode:
    support: full
    details: The module never changes anything; check mode runs the same checks.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Room for the lab, before anything is created
  virtlab.core.openstack_capacity:
    cloud: mylab
    servers: [virtlab-cs, virtlab-sum, virtlab-sub, virtlab-mul, virtlab-div]
    flavor: m1.small
    floating_ips: [virtlab-cs]
    ports: 6
    networks: [virtlab-pn1, virtlab-pn2, virtlab-pn3]
    routers: [virtlab-rt1, virtlab-rt2]
    security_groups: [virtlab-lab]
    external_network: public
"""

RETURN = r"""
capacity:
  description: Per quota, what the project allows, uses and what the play still needs (V(-1) limit unlimited).
    Empty when every resource exists already (the quotas are then not read).
  returned: always
  type: dict
  sample:
    instances: {limit: 10, used: 1, needed: 5}
    cores: {limit: 20, used: 1, needed: 5}
    ram: {limit: 51200, used: 1024, needed: 5120}
    floatingip: {limit: 50, used: 0, needed: 1}
actions:
  description: Always empty (the module changes nothing).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.openstack.base import OpenStackModule
from ansible_collections.virtlab.core.plugins.module_utils.openstack.messages import names_list
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan

# Quota name -> what the user reads in the failure.
QUOTA_TEXT = {"instances": "servers", "cores": "vCPUs", "ram": "MiB of RAM", "floatingip": "floating IPs",
              "port": "ports", "network": "networks", "subnet": "subnets", "router": "routers",
              "security_group": "security groups", "security_group_rule": "security group rules"}

# Neutron's quota -> the attribute of openstacksdk's QuotaDetails.
NEUTRON_QUOTAS = {"floatingip": "floating_ips", "port": "ports", "network": "networks", "subnet": "subnets",
                  "router": "routers", "security_group": "security_groups"}


def shortfalls(capacity):
    """The quotas the needs exceed, as readable lines (empty: there is room)."""
    lines = []
    for quota in sorted(capacity):
        entry = capacity[quota]
        if entry["needed"] and entry["limit"] != -1 and entry["used"] + entry["needed"] > entry["limit"]:
            lines.append("%s: %d needed, %d of %d left (%d used)"
                         % (QUOTA_TEXT.get(quota, quota), entry["needed"], max(entry["limit"] - entry["used"], 0),
                            entry["limit"], entry["used"]))
    return lines


def _given(value):
    """A name or id as given, without the whitespace around it."""
    return str(value).strip()


def missing(wanted, resources):
    """The entries of ``wanted`` that no resource of ``resources`` is, by its name or its id (without surrounding
    whitespace; an id whatever its case, as OpenStack's UUIDs): each once, in the order given. An entry that names
    a resource found by the other of its name and id, or repeats one, is not missing twice."""
    names, ids = set(), set()
    for resource in resources:
        if resource.name:   # an unnamed resource (Neutron allows it) is found by its id only
            names.add(_given(resource.name))
        ids.add(_given(resource.id).lower())
    result, seen = [], set()
    for entry in wanted:
        key = _given(entry)
        if key not in names and key.lower() not in ids and key not in seen:
            seen.add(key)
            result.append(entry)
    return result


class OpenStackCapacity(OpenStackModule):
    resource_key = "capacity"
    argument_spec = dict(
        servers=dict(type="list", elements="str", default=[]),
        flavor=dict(type="str"),
        floating_ips=dict(type="list", elements="str", default=[]),
        ports=dict(type="int"),
        networks=dict(type="list", elements="str", default=[]),
        routers=dict(type="list", elements="str", default=[]),
        security_groups=dict(type="list", elements="str", default=[]),
        external_network=dict(type="str"),
    )

    @staticmethod
    def missing(wanted, lister):
        """The entries of ``wanted`` that no resource of ``lister()`` is: one listing per kind, not one lookup per
        entry, and none when nothing is wanted."""
        return missing(wanted, lister()) if wanted else []

    def needs(self):
        params, net = self.params, self.conn.network
        servers = self.missing(params["servers"], self.conn.compute.servers)
        created = set(_given(name) for name in servers)
        needs = {"instances": len(servers),
                 "floatingip": len(set(_given(name) for name in params["floating_ips"]) & created),
                 "port": (params["ports"] if params["ports"] is not None else len(servers)) if servers else 0,
                 "network": len(self.missing(params["networks"], net.networks)),
                 "router": len(self.missing(params["routers"], net.routers)),
                 "security_group": len(self.missing(params["security_groups"], net.security_groups))}
        needs["subnet"] = needs["network"]
        if servers:
            if not params["flavor"]:
                raise VirtlabError("flavor is required to check room for the servers to create (%s)"
                                   % ", ".join(servers))
            flavor = self.require_flavor(params["flavor"])
            needs.update(cores=flavor.vcpus * len(servers), ram=flavor.ram * len(servers))
        return needs

    def quotas(self):
        """{quota: (limit, used)} of the project, from Nova's limits and Neutron's quota details."""
        absolute = self.conn.compute.get_limits().absolute
        result = {"instances": (absolute.instances, absolute.instances_used),
                  "cores": (absolute.total_cores, absolute.total_cores_used),
                  "ram": (absolute.total_ram, absolute.total_ram_used)}
        details = self.conn.network.get_quota(self.project_id, details=True)
        for quota, attribute in NEUTRON_QUOTAS.items():
            entry = getattr(details, attribute, None)
            if isinstance(entry, dict):
                result[quota] = (entry.get("limit", -1), entry.get("used", 0) + entry.get("reserved", 0))
        return result

    def read(self):
        external = self.params["external_network"]
        if external:
            network = self.find_network(external)
            if network is None:
                raise VirtlabError("Unknown external network %r (nothing has been created). External networks "
                                   "of this cloud: %s (openstack network list --external)"
                                   % (external, names_list(n.name for n in self.conn.network.networks(
                                       is_router_external=True))), name=external)
            self.require_external(network, external)
        needs = self.needs()
        if not any(needs.values()):
            return {}   # everything exists already: no quota can be short, none is read
        return dict((quota, {"limit": limit, "used": used, "needed": needs.get(quota, 0)})
                    for quota, (limit, used) in self.quotas().items())

    def plan(self, current):
        short = shortfalls(current)
        if short:
            raise VirtlabError("The project's quota has no room for what this play creates (nothing has been "
                               "created): %s. Free some, or ask the cloud's administrators for more"
                               % "; ".join(short), capacity=current)
        return Plan()


def main():
    OpenStackCapacity()()


if __name__ == "__main__":
    main()
