# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's inventory from its topology: hosts, groups and how to reach each host on the backend."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: topology
short_description: The lab's hosts and groups from its topology, and how to reach each host on its backend
version_added: 0.3.0
description:
  - Reads an inventory source named C(*.virtlab.yml) (or C(*.virtlab.yaml)) that names the backend, its
    settings, and where the topology is, and yields every topology host, the lab's groups and the connection
    variables of each host on that backend.
  - "Groups: C(lab) with the children C(routers) and C(nodes) (the topology's two sections), C(calculator) and
    C(operations) (the nodes running a service of that kind), C(school) (the outside host); C(virtlab_machines)
    (the hosts that are a machine to log into on the backend: every host but OpenStack's Neutron routers and
    external-only hosts); the backend's controller group C(virtlab_<backend>) with C(localhost), and the other
    backends' controller groups, empty, so that their objective playbooks match no host."
  - The topology is validated first (the topology role's validator); data it rejects fails the inventory with
    its messages.
  - The topology is declared once. By default the source reads it from the file the playbooks read
    C(virtlab_topology) from (C(group_vars/all/topology.yml) next to the source).
  - Extra vars are not visible to an inventory plugin. Per-lab values (C(-e virtlab_lab=student07)) stay
    templates, for example O(docker.name_prefix), which Ansible renders when it connects.
author: [virtlab developers (@virtlab)]
extends_documentation_fragment: [virtlab.core.topology.openstack_lab]
options:
  plugin:
    description: The name of this plugin, which marks the file as its source.
    type: str
    required: true
    choices: [virtlab.core.topology]
  backend:
    description: The backend the lab runs on. It decides how each host is reached.
    type: str
    required: true
    choices: [docker, openstack, proxmox, virtualbox]
  topology:
    description:
      - The topology inline, in the schema of C(virtlab_topology) (docs/topology.md).
      - When it is given, O(topology_file) is not read.
    type: dict
  topology_file:
    description:
      - A YAML file that holds the topology as its variable O(topology_var). A relative path is relative to the
        folder of the source.
      - The default is the group_vars file the playbooks read, so the topology is declared only once.
    type: str
    default: group_vars/all/topology.yml
  topology_var:
    description: The variable of O(topology_file) that holds the topology.
    type: str
    default: virtlab_topology
  outside_host:
    description:
      - The topology host that stands for the school's network. It is put in the group C(school).
      - The default is C(virtlab_outside_host) from O(topology_file), or no outside host.
    type: str
  docker:
    description: How the Docker backend's containers are reached (the Docker API, by container name).
    type: dict
    default: {}
    suboptions:
      name_prefix:
        description:
          - The container of host C(cs) is named O(docker.name_prefix) + C(cs), as the Docker adapter names it.
          - May be a template, which is rendered when Ansible connects, for example
            C({{ virtlab_docker_name_prefix }}), which follows C(-e virtlab_lab=student07).
        type: str
        default: virtlab-
  virtualbox:
    description: How the VirtualBox VMs are reached (SSH through the NAT adapter's port forward).
    type: dict
    default: {}
    suboptions:
      ssh_host:
        description: The host address the port forwards listen on.
        type: str
        default: 127.0.0.1
      ssh_ports:
        description:
          - The host port forwarded to each VM's SSH server. Every topology host needs one. The provisioning
            role creates the forward from it (C(ansible_port)).
        type: dict
        required: true
  proxmox:
    description: Where each Proxmox CT lives and how it is reached (SSH on its management address).
    type: dict
    default: {}
    suboptions:
      hosts:
        description: Per topology host, C(vmid), C(node) and C(address) (its management address).
        type: dict
        required: true
      nodes:
        description:
          - The Proxmox VE nodes, as name to address. They make the group C(proxmox_nodes), where objective 6-7
            runs C(pct exec).
        type: dict
        default: {}
      nodes_user:
        description: The user Ansible logs into the Proxmox VE nodes as.
        type: str
        default: root
  openstack:
    description:
      - How the OpenStack servers are reached. A server with a floating IP is reached at it, the others at their
        first address through the first of them (the jump host), as the provisioning role sets it.
      - The addresses are read from the cloud (openstacksdk, clouds.yaml or C(OS_*) variables). Until the servers
        exist, the hosts have no address and the provisioning role sets it.
    type: dict
    default: {}
    suboptions:
      cloud:
        description: The clouds.yaml entry. Without it, openstacksdk's default (C(OS_CLOUD) or C(OS_*)).
        type: str
      prefix:
        description: Prefix of every resource name (see the notes).
        type: str
        default: virtlab-
      external_topology_network:
        description: The topology network that is the cloud's external network (see the notes).
        type: str
        default: public
      floating_ip_hosts:
        description: The hosts that get a floating IP (see the notes). The default is the calculator's node.
        type: list
        elements: str
      query:
        description: Whether to read the servers' addresses from the cloud.
        type: bool
        default: true
notes:
  - C(ansible-inventory -i inventories/docker --graph) shows the lab.
"""

EXAMPLES = r"""
# inventories/docker/lab.virtlab.yml: the default lab, and each per-student lab through its name prefix
plugin: virtlab.core.topology
backend: docker
topology_file: group_vars/all/topology.yml
docker:
  name_prefix: "{{ virtlab_docker_name_prefix }}"

---
# inventories/virtualbox/lab.virtlab.yml
plugin: virtlab.core.topology
backend: virtualbox
virtualbox:
  ssh_ports: {rt1: 2201, rt2: 2202, cs: 2210, sum: 2211, sub: 2212, mul: 2213, div: 2214, outside: 2220}

---
# A lab of its own, the topology inline
plugin: virtlab.core.topology
backend: docker
docker: {name_prefix: mylab-}
topology:
  networks: {pn1: {cidr: 10.90.1.0/24, gateway: null}}
  nodes:
    a: {interfaces: {pn1: 10.90.1.10}}
    b: {interfaces: {pn1: 10.90.1.11}}
"""

import os

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin

from ansible_collections.virtlab.core.plugins.module_utils.docker.adapter import reserved_addresses
from ansible_collections.virtlab.core.plugins.module_utils.openstack.adapter import openstack_lab
from ansible_collections.virtlab.core.plugins.module_utils.topology.model import SERVICE_KINDS, validate

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: every inventory string is a template
    def trust_as_template(value):
        return value

BACKENDS = ("docker", "openstack", "proxmox", "virtualbox")
# The service kinds' groups (what the playbooks target).
KIND_GROUPS = {"calculator": "calculator", "operation": "operations"}
CONTROLLER = {"ansible_connection": "local",
              "ansible_python_interpreter": trust_as_template("{{ ansible_playbook_python }}")}


def _require(settings, key, where):
    value = (settings or {}).get(key)
    if value in (None, "", {}):
        raise ValueError("%s.%s is required" % (where, key))
    return value


def _per_host(mapping, hosts, where):
    """``mapping`` checked against the topology's hosts: one entry each, no other name."""
    if not isinstance(mapping, dict):
        raise ValueError("%s must map each topology host to its value, got %r" % (where, mapping))
    errors = ["%s: no entry for topology host %s" % (where, host) for host in hosts if host not in mapping]
    errors += ["%s: %s is not a topology host (the hosts are %s)" % (where, name, ", ".join(hosts))
               for name in sorted(mapping, key=str) if name not in hosts]
    if errors:
        raise ValueError("; ".join(errors))
    return mapping


def docker_connections(hosts, settings):
    """Each container through the Docker API by its name (a template stays one: it follows the lab)."""
    prefix = settings.get("name_prefix")
    prefix = "virtlab-" if prefix is None else prefix
    return dict((host, {"ansible_connection": "community.docker.docker_api",
                        "ansible_host": trust_as_template("%s%s" % (prefix, host))}) for host in hosts)


def virtualbox_connections(hosts, settings):
    """SSH to the NAT adapter's forwarded port of each VM."""
    ports = _per_host(_require(settings, "ssh_ports", "virtualbox"), hosts, "virtualbox.ssh_ports")
    result = {}
    for host in hosts:
        try:
            port = int(ports[host])
        except (TypeError, ValueError):
            raise ValueError("virtualbox.ssh_ports.%s: %r is not a port number" % (host, ports[host]))
        if not 1 <= port <= 65535:
            raise ValueError("virtualbox.ssh_ports.%s: %d is not a port number (1-65535)" % (host, port))
        result[host] = {"ansible_connection": "ssh", "ansible_host": settings.get("ssh_host") or "127.0.0.1",
                        "ansible_port": port}
    return result


def proxmox_connections(hosts, settings):
    """SSH to each CT's management address; the CT's vmid and node for the provisioning role."""
    spec = _per_host(_require(settings, "hosts", "proxmox"), hosts, "proxmox.hosts")
    result = {}
    for host in hosts:
        where = "proxmox.hosts.%s" % host
        entry = spec[host] if isinstance(spec[host], dict) else {}
        vmid = _require(entry, "vmid", where)
        try:
            vmid = int(vmid)
        except (TypeError, ValueError):
            raise ValueError("%s.vmid: %r is not a CT id" % (where, entry.get("vmid")))
        result[host] = {"ansible_connection": "ssh", "ansible_host": _require(entry, "address", where),
                        "virtlab_proxmox_vmid": vmid, "virtlab_proxmox_node": _require(entry, "node", where)}
    return result


def _server_address(addresses, kind):
    """The first IPv4 address of ``kind`` (fixed or floating) in a server's addresses as the SDK gives them."""
    for network in sorted(addresses or {}):
        for entry in addresses[network] or []:
            if entry.get("OS-EXT-IPS:type", "fixed") == kind and entry.get("version", 4) == 4:
                return entry.get("addr")
    return None


def openstack_connections(lab, found):
    """How Ansible reaches each server of ``lab`` (openstack_lab's answer), from ``found`` {server name: its
    addresses}: the floating IP, or the first fixed address through the jump host's floating IP, as the
    provisioning role sets them. A server not found (not created yet) gets nothing."""
    jump = lab.get("jump_host")
    jump_address = _server_address(found.get(lab["servers"][jump]["name"]), "floating") if jump else None
    result = {}
    for host, server in lab["servers"].items():
        addresses = found.get(server["name"])
        variables = {"ansible_connection": "ssh"}
        if server["floating_ip"]:
            variables["ansible_host"] = _server_address(addresses, "floating")
        elif addresses and jump_address:
            variables["ansible_host"] = _server_address(addresses, "fixed")
            proxy = ("ssh -o StrictHostKeyChecking=accept-new -o ControlMaster=auto -o ControlPersist=300"
                     " -o ControlPath=~/.ansible/cp/virtlab-jump-%s -W %%h:%%p"
                     " {{ hostvars[%r].ansible_user | default('root') }}@%s" % (jump_address, jump, jump_address))
            variables["ansible_ssh_common_args"] = trust_as_template(
                "-o StrictHostKeyChecking=accept-new -o ProxyCommand='%s'" % proxy)
        result[host] = dict((key, value) for key, value in variables.items() if value)
    return result


def cloud_servers(cloud, names):
    """{server name: addresses} of the lab's servers on the cloud (openstacksdk)."""
    import openstack  # pylint: disable=import-outside-toplevel  # only the OpenStack backend needs it

    connection = openstack.connect(cloud=cloud) if cloud else openstack.connect()
    try:
        return dict((server.name, server.addresses or {}) for server in connection.compute.servers()
                    if server.name in names)
    finally:
        connection.close()


def lab_inventory(topology, backend, settings=None, outside_host=None, found=None):
    """The inventory as data: {groups: {group: {hosts, children}}, hostvars: {host: {var: value}}}.

    ``settings``: the backend's settings (the source's ``docker``, ``virtualbox``, ... option). ``found``
    (OpenStack): {server name: addresses} read from the cloud. Raises ValueError naming what is wrong."""
    if backend not in BACKENDS:
        raise ValueError("backend %r is not one of %s" % (backend, ", ".join(BACKENDS)))
    settings = settings or {}
    errors = validate(topology, reserved=reserved_addresses(topology) if backend == "docker" else None)
    if errors:
        raise ValueError("the topology is not usable:\n  - " + "\n  - ".join(errors))
    # In the topology's order (the order of a play's hosts and of groups['lab']), routers first.
    routers = list(topology.get("routers") or {})
    nodes = list(topology.get("nodes") or {})
    hosts = routers + nodes
    if outside_host is not None and outside_host not in nodes:
        raise ValueError("outside_host %s is not a node of the topology (the nodes are %s)"
                         % (outside_host, ", ".join(nodes)))
    groups = {"lab": {"children": ["routers", "nodes", "calculator", "operations", "school"]},
              "routers": {"hosts": routers}, "nodes": {"hosts": nodes},
              "school": {"hosts": [outside_host] if outside_host else []}}
    for kind in SERVICE_KINDS:
        running = set(spec["node"] for spec in (topology.get("services") or {}).values()
                      if spec.get("kind", "operation") == kind)
        groups[KIND_GROUPS[kind]] = {"hosts": [host for host in nodes if host in running]}

    if backend == "openstack":
        floating = settings.get("floating_ip_hosts")
        lab = openstack_lab(topology, prefix=settings.get("prefix") or "virtlab-",
                            external_topology_network=settings.get("external_topology_network") or "public",
                            floating_ip_hosts=groups["calculator"]["hosts"] if floating is None else floating)
        hostvars = openstack_connections(lab, found or {})
        machines = [host for host in hosts if host in lab["servers"]]
    else:
        hostvars = {"docker": docker_connections, "virtualbox": virtualbox_connections,
                    "proxmox": proxmox_connections}[backend](hosts, settings)
        machines = hosts
    groups["virtlab_machines"] = {"hosts": machines}
    for name in BACKENDS:
        groups["virtlab_%s" % name] = {"hosts": ["localhost"] if name == backend else []}
    hostvars["localhost"] = dict(CONTROLLER)
    if backend == "proxmox":
        nodes_ = settings.get("nodes") or {}
        if not isinstance(nodes_, dict):
            raise ValueError("proxmox.nodes must map each Proxmox VE node to its address, got %r" % (nodes_,))
        groups["proxmox_nodes"] = {"hosts": sorted(nodes_), "vars": {"ansible_user": settings.get("nodes_user")
                                                                     or "root"}}
        hostvars.update((node, {"ansible_host": address}) for node, address in nodes_.items())
    return {"groups": groups, "hostvars": hostvars}


class InventoryModule(BaseInventoryPlugin):
    NAME = "virtlab.core.topology"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith((".virtlab.yml", ".virtlab.yaml"))

    def _topology(self, path):
        """(topology, outside host) from the inline option or the topology file."""
        outside = self.get_option("outside_host")
        if self.get_option("topology"):
            return self.get_option("topology"), outside
        source = os.path.join(os.path.dirname(path), os.path.expanduser(self.get_option("topology_file")))
        try:
            # Not from the loader's cache, nor into it: group_vars read the same file, trusted as templates.
            data = self.loader.load_from_file(source, cache="none") or {}
        except Exception as exc:  # pylint: disable=broad-exception-caught  # any reader error, named with the file
            raise AnsibleParserError("%s: cannot read topology_file %s: %s" % (path, source, to_native(exc)))
        key = self.get_option("topology_var")
        if not isinstance(data, dict) or key not in data:
            raise AnsibleParserError("%s: topology_file %s has no variable %s" % (path, source, key))
        if outside is None:
            outside = data.get("virtlab_outside_host")
        return data[key], outside

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        backend = self.get_option("backend")
        topology, outside = self._topology(path)
        settings = self.get_option(backend) or {}
        found = None
        try:
            if backend == "openstack" and settings.get("query", True) and not validate(topology):
                found = self._cloud(topology, settings)
            data = lab_inventory(topology, backend, settings, outside, found)
        except ValueError as exc:
            raise AnsibleParserError("%s: %s" % (path, to_native(exc)))
        self.populate(data)

    def _cloud(self, topology, settings):
        """The servers' addresses, or none (with a warning) when the cloud cannot be asked."""
        names = ["%s%s" % (settings.get("prefix") or "virtlab-", host) for host in topology.get("nodes") or {}]
        try:
            return cloud_servers(settings.get("cloud"), names)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # no cloud yet is not an inventory error
            self.display.warning("virtlab.core.topology: the OpenStack servers' addresses are not known (%s); the "
                                 "provisioning role sets them when it runs" % to_native(exc))
            return {}

    def populate(self, data):
        for group in data["groups"]:
            self.inventory.add_group(group)
        for group, spec in data["groups"].items():
            for child in spec.get("children", []):
                self.inventory.add_child(group, child)
            for host in spec.get("hosts", []):
                self.inventory.add_host(host, group=group)
            for key, value in (spec.get("vars") or {}).items():
                self.inventory.set_variable(group, key, value)
        for host, variables in data["hostvars"].items():
            for key, value in sorted(variables.items()):
                self.inventory.set_variable(host, key, value)
