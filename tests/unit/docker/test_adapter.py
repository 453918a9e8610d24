# -*- coding: utf-8 -*-
"""The Docker adapter: the topology as exactly docker_lab's input, and the addresses Docker's bridge takes."""

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.virtlab.core.plugins.filter import docker_lab as docker_lab_filter
from ansible_collections.virtlab.core.plugins.filter import topology_docker_reserved as reserved_filter
from ansible_collections.virtlab.core.plugins.module_utils.docker import adapter as docker_adapter
from ansible_collections.virtlab.core.plugins.module_utils.topology import model

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LAB = yaml.safe_load(open(os.path.join(REPO, "inventories/docker/group_vars/all/topology.yml")))["virtlab_topology"]
MGMT = {"name": "lab-mgmt", "cidr": "10.9.0.0/24"}


def test_docker_bridge_takes_the_last_host_address():
    assert docker_adapter.bridge_address("10.77.1.0/24") == "10.77.1.254"


def test_the_reserved_addresses_are_the_bridges_and_no_shipped_host_uses_one():
    reserved = docker_adapter.reserved_addresses(LAB)
    assert reserved == {"public": "10.77.0.254", "pn1": "10.77.1.254", "pn2": "10.77.2.254", "pn3": "10.77.3.254"}
    assert model.validate(LAB, reserved=reserved) == []


def test_docker_lab_declares_every_network_and_one_node_per_host():
    lab = docker_adapter.docker_lab(LAB, ["rt2", "cs"], "lab-", "img:1", MGMT,
                                    published_ports={"cs": ["127.0.0.1:50000:50000"]})
    networks = dict((n["name"], n) for n in lab["networks"])
    assert sorted(networks) == ["lab-mgmt", "lab-pn1", "lab-pn2", "lab-pn3", "lab-public"]
    assert networks["lab-pn3"]["gateway"] == "10.77.3.254" and networks["lab-pn3"]["internal"]
    assert networks["lab-pn3"]["routed"] and networks["lab-pn3"]["state"] == "present"
    assert not networks["lab-mgmt"]["internal"] and not networks["lab-mgmt"]["routed"]
    assert networks["lab-mgmt"]["gateway"] == "10.9.0.254"
    assert all(n["gateway"] == docker_adapter.reserved_addresses(LAB)[n["name"][4:]]
               for n in lab["networks"] if n["name"] != "lab-mgmt"), "the gateway is the reserved address"
    nodes = dict((n["hostname"], n) for n in lab["nodes"])
    assert sorted(nodes) == ["cs", "rt2"], "only the hosts asked for"
    assert nodes["rt2"]["sysctls"]["net.ipv4.ip_forward"] == 1 and nodes["cs"]["sysctls"]["net.ipv4.ip_forward"] == 0
    # No redirect accepted or sent: all, default (interfaces joined later) and each of the node's interfaces.
    assert dict((k, v) for k, v in nodes["rt2"]["sysctls"].items() if "redirects" in k) == dict(
        ("net.ipv4.conf.%s.%s_redirects" % (i, kind), 0) for i in ("all", "default", "eth0", "eth1")
        for kind in ("accept", "send"))
    assert "net.ipv4.conf.eth2.accept_redirects" in nodes["cs"]["sysctls"], "cs joins three networks"
    assert nodes["cs"]["networks"] == [{"name": "lab-mgmt"}, {"name": "lab-pn1", "ipv4_address": "10.77.1.10"},
                                       {"name": "lab-pn2", "ipv4_address": "10.77.2.10"}]
    assert nodes["rt2"]["networks"][0]["name"] == "lab-pn2", "a router runs no service: no management network"
    assert nodes["cs"]["published_ports"] == ["127.0.0.1:50000:50000"] and nodes["rt2"]["published_ports"] == []
    assert nodes["cs"]["labels"] == {"virtlab.lab": "lab-", "virtlab.host": "cs"}


def test_only_the_nodes_on_the_management_network_have_a_default_route_its_nat():
    routes = dict((host, docker_adapter.default_route(LAB, host, MGMT)) for host in ("rt1", "rt2", "cs", "sum", "outside"))
    assert routes == {"rt1": "absent", "rt2": "absent", "cs": "10.9.0.254", "sum": "10.9.0.254", "outside": "absent"}


def test_docker_lab_is_exactly_the_modules_input():
    from ansible_collections.virtlab.core.plugins.modules.docker_lab import validated
    lab = docker_adapter.docker_lab(LAB, ["rt1", "rt2", "cs", "sum", "outside"], "lab-", "img:1", MGMT)
    assert sorted(lab) == ["networks", "nodes"]
    for kind in ("networks", "nodes"):
        assert len(validated(kind, lab[kind])) == len(lab[kind]), "every element passes docker_lab's own check"


def test_docker_lab_absent_removes_networks_too():
    lab = docker_adapter.docker_lab(LAB, ["cs"], "lab-", "img:1", MGMT, state="absent")
    assert set(n["state"] for n in lab["networks"]) == {"absent"} and lab["nodes"][0]["state"] == "absent"


def test_the_filter_names_a_host_the_topology_does_not_declare():
    with pytest.raises(AnsibleFilterError, match="host nowhere is not declared in virtlab_topology"):
        docker_lab_filter.topology_docker_lab(LAB, ["cs", "nowhere"], "lab-", "img:1", MGMT)
    filters = reserved_filter.FilterModule().filters()
    assert filters["topology_docker_reserved"](LAB) == docker_adapter.reserved_addresses(LAB)
