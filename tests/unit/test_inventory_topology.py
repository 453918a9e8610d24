# -*- coding: utf-8 -*-
"""The inventory plugin virtlab.core.topology: hosts, groups and connection variables from the topology, on each
backend; bad data fails with the validator's message; OpenStack's addresses from a mocked cloud."""

import copy
import os
import sys
import types

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader

from ansible_collections.virtlab.core.plugins.inventory import topology as plugin

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(REPO, "inventories", "docker", "group_vars", "all", "topology.yml")) as handle:
    LAB = yaml.safe_load(handle)["virtlab_topology"]
PORTS = {"rt1": 2201, "rt2": 2202, "cs": 2210, "sum": 2211, "sub": 2212, "mul": 2213, "div": 2214, "outside": 2220}


def members(data):
    return dict((group, spec.get("hosts", [])) for group, spec in data["groups"].items())


def test_docker_groups_are_the_lab_s_and_each_container_is_reached_by_its_name():
    data = plugin.lab_inventory(LAB, "docker", {"name_prefix": "{{ virtlab_docker_name_prefix }}"}, "outside")
    groups = members(data)
    assert groups["routers"] == ["rt1", "rt2"]
    assert groups["nodes"] == ["cs", "sum", "sub", "mul", "div", "outside"]
    assert groups["calculator"] == ["cs"] and groups["operations"] == ["sum", "sub", "mul", "div"]
    assert groups["school"] == ["outside"]
    assert data["groups"]["lab"]["children"] == ["routers", "nodes", "calculator", "operations", "school"]
    assert groups["virtlab_machines"] == ["rt1", "rt2", "cs", "sum", "sub", "mul", "div", "outside"]
    assert groups["virtlab_docker"] == ["localhost"]
    assert groups["virtlab_openstack"] == groups["virtlab_proxmox"] == groups["virtlab_virtualbox"] == []
    # The prefix stays a template: Ansible renders it when it connects, so -e virtlab_lab=student07 follows.
    assert data["hostvars"]["cs"] == {"ansible_connection": "community.docker.docker_api",
                                      "ansible_host": "{{ virtlab_docker_name_prefix }}cs"}
    assert data["hostvars"]["localhost"]["ansible_connection"] == "local"


def test_docker_default_prefix_and_no_outside_host():
    data = plugin.lab_inventory(LAB, "docker")
    assert data["hostvars"]["rt1"]["ansible_host"] == "virtlab-rt1"
    assert members(data)["school"] == []


def test_virtualbox_reaches_each_vm_on_its_forwarded_port():
    data = plugin.lab_inventory(LAB, "virtualbox", {"ssh_ports": PORTS}, "outside")
    assert data["hostvars"]["cs"] == {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 2210}
    assert members(data)["virtlab_virtualbox"] == ["localhost"]


@pytest.mark.parametrize("ports, message", [
    (dict((h, p) for h, p in PORTS.items() if h != "div"), "virtualbox.ssh_ports: no entry for topology host div"),
    (dict(PORTS, diw=2215), "virtualbox.ssh_ports: diw is not a topology host"),
    (dict(PORTS, cs="ssh"), "virtualbox.ssh_ports.cs: 'ssh' is not a port number"),
    (dict(PORTS, cs=70000), "virtualbox.ssh_ports.cs: 70000 is not a port number"),
])
def test_virtualbox_ports_are_checked_against_the_topology(ports, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        plugin.lab_inventory(LAB, "virtualbox", {"ssh_ports": ports})


def test_proxmox_ct_ids_nodes_and_management_addresses():
    hosts = dict((h, {"vmid": 700 + i, "node": "pve%d" % (i % 2 + 1), "address": "192.168.100.%d" % (70 + i)})
                 for i, h in enumerate(PORTS))
    data = plugin.lab_inventory(LAB, "proxmox", {"hosts": hosts, "nodes": {"pve1": "192.168.100.11"}})
    assert data["hostvars"]["rt2"] == {"ansible_connection": "ssh", "ansible_host": "192.168.100.71",
                                       "virtlab_proxmox_vmid": 701, "virtlab_proxmox_node": "pve2"}
    assert data["groups"]["proxmox_nodes"] == {"hosts": ["pve1"], "vars": {"ansible_user": "root"}}
    assert data["hostvars"]["pve1"] == {"ansible_host": "192.168.100.11"}
    del hosts["cs"]["vmid"]
    with pytest.raises(ValueError, match=r"proxmox\.hosts\.cs\.vmid is required"):
        plugin.lab_inventory(LAB, "proxmox", {"hosts": hosts})


def test_bad_topology_fails_with_the_validator_s_messages():
    bad = copy.deepcopy(LAB)
    bad["nodes"]["cs"]["interfaces"]["pn1"] = "10.77.1.300"
    bad["networks"]["pn2"]["cidr"] = "10.77.2.0/33"
    with pytest.raises(ValueError) as failed:
        plugin.lab_inventory(bad, "docker")
    assert "host cs: interfaces.pn1: '10.77.1.300' is not an IP address" in str(failed.value)
    assert "network pn2: cidr '10.77.2.0/33'" in str(failed.value)


def test_docker_bridge_address_is_refused():
    bad = copy.deepcopy(LAB)
    bad["nodes"]["cs"]["interfaces"]["pn1"] = "10.77.1.254"
    with pytest.raises(ValueError, match="address 10.77.1.254 is reserved by the backend on pn1"):
        plugin.lab_inventory(bad, "docker")


def test_outside_host_must_be_a_node():
    with pytest.raises(ValueError, match="outside_host school is not a node"):
        plugin.lab_inventory(LAB, "docker", {}, "school")


# OpenStack: the addresses as openstacksdk gives them.
FLOATING = {"virtlab-pn1": [{"addr": "10.77.1.10", "version": 4, "OS-EXT-IPS:type": "fixed"},
                            {"addr": "172.24.4.50", "version": 4, "OS-EXT-IPS:type": "floating"}],
            "virtlab-pn2": [{"addr": "10.77.2.10", "version": 4, "OS-EXT-IPS:type": "fixed"}]}
FIXED = {"virtlab-pn3": [{"addr": "fd00::11", "version": 6, "OS-EXT-IPS:type": "fixed"},
                         {"addr": "10.77.3.11", "version": 4, "OS-EXT-IPS:type": "fixed"}]}


def test_openstack_floating_ip_then_the_jump_host_and_no_router_is_a_machine():
    data = plugin.lab_inventory(LAB, "openstack", {}, "outside", {"virtlab-cs": FLOATING, "virtlab-sum": FIXED})
    assert data["hostvars"]["cs"] == {"ansible_connection": "ssh", "ansible_host": "172.24.4.50"}
    summ = data["hostvars"]["sum"]
    assert summ["ansible_host"] == "10.77.3.11"
    assert "-W %h:%p {{ hostvars['cs'].ansible_user | default('root') }}@172.24.4.50" in summ["ansible_ssh_common_args"]
    # A server that does not exist yet has no address: the provisioning role sets it.
    assert data["hostvars"]["mul"] == {"ansible_connection": "ssh"}
    assert members(data)["virtlab_machines"] == ["cs", "sum", "sub", "mul", "div"]
    assert members(data)["routers"] == ["rt1", "rt2"] and members(data)["school"] == ["outside"]
    assert "rt1" not in data["hostvars"] and "outside" not in data["hostvars"]


def test_openstack_without_the_jump_host_s_floating_ip_nobody_gets_a_proxy():
    data = plugin.lab_inventory(LAB, "openstack", {}, "outside", {"virtlab-sum": FIXED})
    assert data["hostvars"]["sum"] == {"ansible_connection": "ssh"}
    assert data["hostvars"]["cs"] == {"ansible_connection": "ssh"}


def source(tmp_path, **options):
    """A *.virtlab.yml source next to a group_vars topology file, as in inventories/<backend>."""
    (tmp_path / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    (tmp_path / "group_vars" / "all" / "topology.yml").write_text(yaml.safe_dump(
        {"virtlab_topology": options.pop("topology_data", LAB), "virtlab_outside_host": "outside"}))
    path = tmp_path / "lab.virtlab.yml"
    path.write_text(yaml.safe_dump(dict({"plugin": "virtlab.core.topology"}, **options)))
    return str(path)


def loaded():
    """The plugin as Ansible loads it: its options from its DOCUMENTATION."""
    C.config.initialize_plugin_configuration_definitions(
        "inventory", plugin.InventoryModule.NAME, yaml.safe_load(plugin.DOCUMENTATION)["options"])
    module = plugin.InventoryModule()
    module._load_name = plugin.InventoryModule.NAME  # pylint: disable=protected-access
    return module


def parse(path):
    inventory = InventoryData()
    loaded().parse(inventory, DataLoader(), path, cache=False)
    return inventory


def test_the_source_reads_the_group_vars_topology(tmp_path):
    data = parse(source(tmp_path, backend="docker", docker={"name_prefix": "inv01-"}))
    assert sorted(h.name for h in data.groups["school"].get_hosts()) == ["outside"]
    assert data.hosts["sum"].vars["ansible_host"] == "inv01-sum"
    assert sorted(g.name for g in data.groups["lab"].child_groups) == [
        "calculator", "nodes", "operations", "routers", "school"]


def test_the_source_verifies_only_virtlab_files(tmp_path):
    module = loaded()
    path = source(tmp_path, backend="docker")
    other = tmp_path / "hosts.yml"
    other.write_text("all: {}\n")
    assert module.verify_file(path) and not module.verify_file(str(other))


def test_a_bad_topology_file_fails_the_source_naming_it(tmp_path):
    bad = copy.deepcopy(LAB)
    bad["services"]["mul"]["node"] = "mull"
    with pytest.raises(AnsibleParserError, match="service mul: node 'mull' is not a declared node"):
        parse(source(tmp_path, backend="docker", topology_data=bad))


def test_a_missing_topology_variable_is_named(tmp_path):
    with pytest.raises(AnsibleParserError, match="has no variable lab_topology"):
        parse(source(tmp_path, backend="docker", topology_var="lab_topology"))


def test_an_inline_topology_wins(tmp_path):
    inline = {"networks": {"pn1": {"cidr": "10.90.1.0/24", "gateway": None}},
              "nodes": {"a": {"interfaces": {"pn1": "10.90.1.10"}}}}
    data = parse(source(tmp_path, backend="docker", topology=inline, outside_host="a"))
    assert sorted(data.hosts) == ["a", "localhost"]


class FakeServer:
    def __init__(self, name, addresses):
        self.name, self.addresses = name, addresses


def fake_openstack(monkeypatch, servers=None, error=None):
    """openstacksdk as the plugin uses it: connect(cloud=...), compute.servers(), close()."""
    calls = []

    def connect(**kwargs):
        calls.append(kwargs)
        if error:
            raise error
        return types.SimpleNamespace(compute=types.SimpleNamespace(servers=lambda: servers), close=lambda: None)

    monkeypatch.setitem(sys.modules, "openstack", types.SimpleNamespace(connect=connect))
    return calls


def test_openstack_source_asks_the_cloud_for_the_servers_addresses(tmp_path, monkeypatch):
    calls = fake_openstack(monkeypatch, [FakeServer("virtlab-cs", FLOATING), FakeServer("virtlab-sum", FIXED),
                                         FakeServer("someone-else", FIXED)])
    data = parse(source(tmp_path, backend="openstack", openstack={"cloud": "mylab"}))
    assert calls == [{"cloud": "mylab"}]
    assert data.hosts["cs"].vars["ansible_host"] == "172.24.4.50"
    assert data.hosts["sum"].vars["ansible_host"] == "10.77.3.11"
    assert "ProxyCommand" in data.hosts["sum"].vars["ansible_ssh_common_args"]
    assert "ansible_host" not in data.hosts["div"].vars


def test_openstack_source_without_a_cloud_still_lists_the_lab(tmp_path, monkeypatch):
    fake_openstack(monkeypatch, error=RuntimeError("no auth_url"))
    data = parse(source(tmp_path, backend="openstack"))
    assert "ansible_host" not in data.hosts["cs"].vars
    assert sorted(h.name for h in data.groups["virtlab_openstack"].get_hosts()) == ["localhost"]


def test_openstack_query_off_never_calls_the_cloud(tmp_path, monkeypatch):
    calls = fake_openstack(monkeypatch, [])
    parse(source(tmp_path, backend="openstack", openstack={"query": False}))
    assert calls == []
