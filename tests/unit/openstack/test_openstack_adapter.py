"""The topology as the OpenStack modules take it (module_utils/openstack/adapter.py)."""

import ipaddress
import os

import yaml

from ansible_collections.virtlab.core.plugins.module_utils.openstack.adapter import free_ranges, openstack_lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
with open(os.path.join(REPO, "inventories", "openstack", "group_vars", "all", "topology.yml")) as handle:
    LAB = yaml.safe_load(handle)["virtlab_topology"]


def test_free_ranges_leave_out_the_assigned_addresses():
    assert free_ranges("10.77.2.0/29", ["10.77.2.1", "10.77.2.4"]) == [
        {"start": "10.77.2.2", "end": "10.77.2.3"}, {"start": "10.77.2.5", "end": "10.77.2.6"}]
    assert free_ranges("10.77.2.0/30", ["10.77.2.1", "10.77.2.2"]) == []


def test_external_network_is_the_clouds_and_outside_is_no_server():
    lab = openstack_lab(LAB, floating_ip_hosts=["cs"])
    assert [n["name"] for n in lab["networks"]] == ["virtlab-pn1", "virtlab-pn2", "virtlab-pn3"]
    assert "outside" not in lab["servers"] and set(lab["routers"]) == {"rt1", "rt2"}
    assert lab["routers"]["rt1"]["external_network"] == "public"
    assert lab["routers"]["rt2"]["external_network"] is None
    assert lab["jump_host"] == "cs" and lab["servers"]["cs"]["floating_ip"] is True
    assert lab["servers"]["sum"]["floating_ip"] is False


def test_a_subnet_without_gateway_keeps_the_routers_address_out_of_its_pool():
    """Neutron's default pool on a gateway-less subnet starts at .1, where RT2's interface must be."""
    pn2 = next(n for n in openstack_lab(LAB)["networks"] if n["name"] == "virtlab-pn2")["subnets"][0]
    assert pn2["no_gateway"] is True and pn2["gateway_ip"] is None
    rt2 = next(i["fixed_ip"] for i in openstack_lab(LAB)["routers"]["rt2"]["interfaces"]
               if i["subnet"] == "virtlab-pn2-subnet")
    address = ipaddress.ip_address(rt2)
    assert pn2["allocation_pools"] and all(
        not ipaddress.ip_address(pool["start"]) <= address <= ipaddress.ip_address(pool["end"])
        for pool in pn2["allocation_pools"]), pn2["allocation_pools"]


def test_servers_have_one_port_per_lab_network_and_routers_the_topology_routes():
    lab = openstack_lab(LAB)
    assert lab["servers"]["cs"]["networks"] == [{"network": "virtlab-pn1", "fixed_ip": "10.77.1.10"},
                                                {"network": "virtlab-pn2", "fixed_ip": "10.77.2.10"}]
    assert {"destination": "10.77.1.0/24", "nexthop": "10.77.2.10"} not in lab["routers"]["rt2"]["routes"]
    assert lab["routers"]["rt1"]["interfaces"] == [{"subnet": "virtlab-pn1-subnet", "fixed_ip": "10.77.1.1"}]
