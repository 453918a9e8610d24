# -*- coding: utf-8 -*-
"""The topology as the vbox_* modules take it (module_utils/vbox/adapter.py)."""

import os

import pytest
import yaml

from ansible_collections.virtlab.core.plugins.module_utils.vbox.adapter import vbox_lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def inventory(*parts):
    with open(os.path.join(REPO, "inventories", "virtualbox", *parts)) as handle:
        return yaml.safe_load(handle)


LAB = inventory("group_vars", "all", "topology.yml")["virtlab_topology"]
SETTINGS = dict(machine_folder="/srv/vms/", base_image="/srv/images/debian-12.vdi", ostype="Debian_64",
                name_prefix="virtlab-", network_prefix="virtlab-")


def hosts():
    """{host: {ssh_port}} from the inventory source (lab.virtlab.yml: the ansible_port of each host), as the role
    passes them."""
    ports = inventory("lab.virtlab.yml")["virtualbox"]["ssh_ports"]
    return dict((host, {"ssh_port": port}) for host, port in ports.items())


def test_cs_is_a_copy_of_the_base_image_with_nat_first_then_its_networks():
    cs = vbox_lab(LAB, hosts(), SETTINGS)["vms"]["cs"]

    assert cs == dict(
        medium={"source": "/srv/images/debian-12.vdi", "dest": "/srv/vms/virtlab-cs.vdi"},
        vm={"name": "virtlab-cs", "ostype": "Debian_64", "memory": 512, "cpus": 1, "nic1": "nat",
            "internal_networks": ["virtlab-pn1", "virtlab-pn2"], "disk": {"path": "/srv/vms/virtlab-cs.vdi"},
            "state": "running"},
        natpf={"name": "virtlab-cs", "rules": ["ssh,tcp,127.0.0.1,2210,,22"]},
        connection={"ansible_host": "127.0.0.1", "ansible_port": 2210},
        addresses=[{"adapter": 2, "network": "pn1", "address": "10.77.1.10/24"},
                   {"adapter": 3, "network": "pn2", "address": "10.77.2.10/24"}])


def test_every_topology_host_is_a_vm_with_its_own_forwarded_port():
    vms = vbox_lab(LAB, hosts(), SETTINGS)["vms"]

    assert sorted(vms) == sorted(list(LAB["routers"]) + list(LAB["nodes"]))
    ports = [vm["connection"]["ansible_port"] for vm in vms.values()]
    assert len(set(ports)) == len(ports)
    assert vms["rt1"]["vm"]["internal_networks"] == ["virtlab-pn1", "virtlab-public"]


@pytest.mark.parametrize("state, vm_state", [("started", "running"), ("stopped", "poweroff"),
                                             ("absent", "absent")])
def test_states_are_vbox_vms_and_sizes_can_be_overridden(state, vm_state):
    vm = vbox_lab(LAB, {"sum": {"ssh_port": 2211}}, dict(SETTINGS, vm={"cpus": 2}), state)["vms"]["sum"]["vm"]

    assert (vm["state"], vm["cpus"], vm["memory"]) == (vm_state, 2, 512)


def test_absent_leaves_only_the_vm_and_only_a_running_vm_gets_its_addresses():
    absent = vbox_lab(LAB, {"sum": {"ssh_port": 2211}}, SETTINGS, "absent")["vms"]["sum"]
    stopped = vbox_lab(LAB, {"sum": {"ssh_port": 2211}}, SETTINGS, "stopped")["vms"]["sum"]

    assert (absent["medium"], absent["natpf"], absent["connection"], absent["addresses"]) == (None, None, None, [])
    assert stopped["natpf"]["rules"] == ["ssh,tcp,127.0.0.1,2211,,22"] and stopped["addresses"] == []


def test_missing_inputs_name_what_is_missing():
    with pytest.raises(ValueError, match="hosts.cs.ssh_port is required"):
        vbox_lab(LAB, {"cs": {}}, SETTINGS)
    with pytest.raises(ValueError, match="settings.base_image is required"):
        vbox_lab(LAB, {"cs": {"ssh_port": 2210}}, dict(SETTINGS, base_image=None))
    with pytest.raises(ValueError, match="state must be one of"):
        vbox_lab(LAB, hosts(), SETTINGS, "running")


def test_a_service_port_is_forwarded_to_its_node_only_and_an_unknown_service_is_refused():
    vms = vbox_lab(LAB, hosts(), dict(SETTINGS, service_ports={"calculator": 50100}))["vms"]

    assert vms["cs"]["natpf"]["rules"] == ["ssh,tcp,127.0.0.1,2210,,22", "calculator,tcp,127.0.0.1,50100,,50000"]
    assert [host for host, vm in vms.items() if len(vm["natpf"]["rules"]) > 1] == ["cs"]
    with pytest.raises(ValueError, match="settings.service_ports: calc is not a service of the topology"):
        vbox_lab(LAB, hosts(), dict(SETTINGS, service_ports={"calc": 50100}))
