# -*- coding: utf-8 -*-
"""The topology as proxmox_ct takes it (module_utils/proxmox/adapter.py)."""

import os

import pytest
import yaml

from ansible_collections.virtlab.core.plugins.module_utils.proxmox.adapter import proxmox_lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def inventory(*parts):
    with open(os.path.join(REPO, "inventories", "proxmox", *parts)) as handle:
        return yaml.safe_load(handle)


LAB = inventory("group_vars", "all", "topology.yml")["virtlab_topology"]
BACKEND = inventory("group_vars", "all", "backend.yml")
SETTINGS = dict(template=BACKEND["virtlab_proxmox_template"], storage=BACKEND["virtlab_proxmox_storage"],
                disk_size=BACKEND["virtlab_proxmox_disk_size"], ssh_public_keys=["ssh-ed25519 AAAA lab"],
                mgmt=BACKEND["virtlab_proxmox_mgmt"], networks=BACKEND["virtlab_proxmox_networks"])


def hosts():
    """{host: {vmid, node, address}} from the inventory source (lab.virtlab.yml), as the role passes them."""
    return inventory("lab.virtlab.yml")["proxmox"]["hosts"]


def test_cs_gets_the_management_interface_then_its_topology_networks_on_their_vlans():
    cs = proxmox_lab(LAB, hosts(), SETTINGS)["cts"]["cs"]

    assert cs == dict(
        vmid=710, hostname="cs", node="pve1", ostemplate=SETTINGS["template"], storage="local-lvm", disk_size="4",
        cores=1, memory=512, swap=256, unprivileged=True, features={"nesting": True},
        ssh_public_keys=["ssh-ed25519 AAAA lab"],
        interfaces=[{"bridge": "vmbr0", "ip": "192.168.100.80/24", "gw": "192.168.100.1"},
                    {"bridge": "vmbr1", "tag": 101, "ip": "10.77.1.10/24"},
                    {"bridge": "vmbr1", "tag": 102, "ip": "10.77.2.10/24"}],
        migration="restart", state="started", stop_before_remove=False)


def test_every_topology_host_is_a_ct_and_routers_join_both_their_networks():
    cts = proxmox_lab(LAB, hosts(), SETTINGS)["cts"]

    assert sorted(cts) == sorted(list(LAB["routers"]) + list(LAB["nodes"]))
    assert [(i.get("tag"), i["ip"]) for i in cts["rt2"]["interfaces"][1:]] == [(102, "10.77.2.1/24"),
                                                                               (103, "10.77.3.1/24")]


def test_absent_stops_before_removing_and_ct_sizes_can_be_overridden():
    settings = dict(SETTINGS, ct={"memory": 1024})
    sum_ct = proxmox_lab(LAB, {"sum": hosts()["sum"]}, settings, state="absent")["cts"]["sum"]

    assert (sum_ct["state"], sum_ct["stop_before_remove"]) == ("absent", True)
    assert (sum_ct["memory"], sum_ct["cores"]) == (1024, 1)


@pytest.mark.parametrize("change, message", [
    (dict(networks={"pn1": {"bridge": "vmbr1", "tag": 101}}),
     "settings.networks has no bridge for topology network pn2 (host cs)"),
    (dict(mgmt={"bridge": "vmbr0"}), "settings.mgmt.prefix is required"),
])
def test_missing_settings_name_what_is_missing(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        proxmox_lab(LAB, {"cs": hosts()["cs"]}, dict(SETTINGS, **change))


def test_a_host_without_its_vmid_and_a_bad_state_are_refused():
    with pytest.raises(ValueError, match="hosts.cs.vmid is required"):
        proxmox_lab(LAB, {"cs": {"node": "pve1", "address": "192.168.100.80"}}, SETTINGS)
    with pytest.raises(ValueError, match="state must be one of started, stopped, absent"):
        proxmox_lab(LAB, hosts(), SETTINGS, state="running")
