# -*- coding: utf-8 -*-
"""provision_docker: every topology host is a running, unprivileged systemd container with its hostname and
its addresses; lab networks are internal, only service nodes join the NAT-ed management network; routers
forward; ports are published where asked, on the loopback only."""

import ipaddress
import json

import pytest
import testinfra

from virtlab_checks import forwarding, node

PREFIX = "mol-pd-"
# Worked out from molecule.yml: host -> {docker network: address}.
ADDRESSES = {
    "rt": {"mol-pd-n1": "10.79.10.1", "mol-pd-n2": "10.79.11.1"},
    "svc": {"mol-pd-n1": "10.79.10.10"},
    "plain": {"mol-pd-n2": "10.79.11.10"},
}
SUBNETS = {"mol-pd-n1": "10.79.10.0/24", "mol-pd-n2": "10.79.11.0/24", "mol-pd-mgmt": "10.79.13.0/24"}
LOCAL = testinfra.get_host("local://")


def inspect(kind, name):
    return json.loads(LOCAL.check_output("docker %s inspect %s", kind, name))[0]


@pytest.mark.parametrize("name", sorted(ADDRESSES))
def test_node_is_an_unprivileged_systemd_container(name):
    info = inspect("container", PREFIX + name)
    host_config = info["HostConfig"]
    assert info["State"]["Running"]
    assert host_config["Privileged"] is False
    assert {"SYS_ADMIN", "NET_ADMIN"} <= set(c.replace("CAP_", "") for c in host_config["CapAdd"] or [])
    assert host_config["CgroupnsMode"] == "host"
    assert {"/run", "/run/lock"} <= set(host_config["Tmpfs"] or {})
    assert info["Config"]["Image"] == "virtlab/debian-systemd:bookworm"
    inside = node(PREFIX + name)
    assert inside.check_output("ps -o comm= -p 1") == "systemd"
    assert inside.run("systemctl is-system-running").stdout.strip() in ("running", "degraded")
    assert inside.check_output("hostname") == name


@pytest.mark.parametrize("name", sorted(ADDRESSES))
def test_node_has_its_topology_addresses(name):
    info = inspect("container", PREFIX + name)
    attached = info["NetworkSettings"]["Networks"]
    lab = dict((net, attached[net]["IPAddress"]) for net in attached if net != "mol-pd-mgmt")
    assert lab == ADDRESSES[name]
    # And the node itself sees them, with the subnet's prefix.
    inside = set()
    for link in json.loads(node(PREFIX + name).check_output("ip -j -4 addr show")):
        for addr in link.get("addr_info", []):
            inside.add("%s/%s" % (addr["local"], addr["prefixlen"]))
    for net, address in ADDRESSES[name].items():
        assert "%s/%s" % (address, ipaddress.ip_network(SUBNETS[net]).prefixlen) in inside, (name, inside)


def test_only_service_nodes_join_the_management_network():
    members = set(c["Name"] for c in inspect("network", "mol-pd-mgmt")["Containers"].values())
    assert members == {"mol-pd-svc"}


@pytest.mark.parametrize("network, internal", [("mol-pd-n1", True), ("mol-pd-n2", True), ("mol-pd-mgmt", False)])
def test_networks(network, internal):
    info = inspect("network", network)
    assert info["Internal"] is internal
    assert [c["Subnet"] for c in info["IPAM"]["Config"]] == [SUBNETS[network]]


@pytest.mark.parametrize("name, expected", [("rt", 1), ("svc", 0), ("plain", 0)])
def test_routers_forward(name, expected):
    assert forwarding(node(PREFIX + name)) == expected


def test_published_port_on_the_loopback_only():
    bindings = inspect("container", PREFIX + "svc")["HostConfig"]["PortBindings"]
    assert bindings == {"50001/tcp": [{"HostIp": "127.0.0.1", "HostPort": "50179"}]}
    assert not inspect("container", PREFIX + "plain")["HostConfig"]["PortBindings"]


@pytest.mark.parametrize("src, dst", [("rt", "10.79.11.10"), ("plain", "10.79.11.1"), ("svc", "10.79.10.1")])
def test_neighbours_on_a_lab_network_reach_each_other(src, dst):
    out = node(PREFIX + src).run("ping -c 1 -W 2 %s", dst)
    assert out.rc == 0, out.stdout + out.stderr
