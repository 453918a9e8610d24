# -*- coding: utf-8 -*-
"""openstack_router against the real control plane."""

import pytest

from ansible_collections.virtlab.core.plugins.modules import openstack_network, openstack_router

from checks import ok
from conftest import PUBLIC_NETWORK


@pytest.fixture
def lab_networks(os_module, sdk, prefix, cleanup):
    """PN1 (gateway .1), PN2 (no gateway) and PN3 (gateway .1), like the lab's topology."""
    names = {}
    for key, cidr, gateway in (("pn1", "10.91.1.0/24", "10.91.1.1"), ("pn2", "10.91.2.0/24", None),
                               ("pn3", "10.91.3.0/24", "10.91.3.1")):
        name = prefix + "rt-" + key
        subnet = {"cidr": cidr, "name": name + "-subnet"}
        # No gateway: Neutron's pool would start at .1 and the DHCP agent's port would take the
        # address the router interface gets below; the pool leaves the topology's addresses out.
        subnet.update({"gateway_ip": gateway} if gateway else {
            "no_gateway": True, "allocation_pools": [{"start": cidr[:-4] + "100", "end": cidr[:-4] + "200"}]})
        ok(os_module(openstack_network, name=name, subnets=[subnet]))
        cleanup(lambda name=name: sdk.network.delete_network(sdk.network.find_network(name)))
        names[key] = name + "-subnet"
    return names


def router_ports(sdk, router_id):
    return sorted((p.id, p.fixed_ips[0]["ip_address"]) for p in sdk.network.ports(device_id=router_id)
                  if p.device_owner == "network:router_interface")


def test_router_interfaces_are_a_computed_difference(os_module, sdk, prefix, cleanup, lab_networks):
    name = prefix + "rt2"

    def delete_router():
        router = sdk.network.find_router(name)
        if router:
            sdk.network.update_router(router, routes=[])
            for port_id, _ip in router_ports(sdk, router.id):
                sdk.network.remove_interface_from_router(router, port_id=port_id)
            sdk.network.delete_router(router)
    cleanup(delete_router)

    pn2_only = dict(name=name, interfaces=[{"subnet": lab_networks["pn2"], "fixed_ip": "10.91.2.1"}])
    planned = ok(os_module(openstack_router, check_mode=True, **pn2_only))
    assert planned["changed"] and sdk.network.find_router(name) is None

    ok(os_module(openstack_router, **pn2_only))
    router = sdk.network.find_router(name)
    [(pn2_port, pn2_ip)] = router_ports(sdk, router.id)
    assert pn2_ip == "10.91.2.1"
    assert ok(os_module(openstack_router, **pn2_only))["changed"] is False

    # Add PN3: the PN2 interface stays the same port (never detached and re-added).
    both = dict(name=name, interfaces=pn2_only["interfaces"] + [lab_networks["pn3"]],
                routes=[{"destination": "10.91.9.0/24", "nexthop": "10.91.3.50"}])
    planned = ok(os_module(openstack_router, check_mode=True, **both))
    assert planned["actions"] == ["add interface (gateway address) on %s" % lab_networks["pn3"],
                                  "set routes 10.91.9.0/24 via 10.91.3.50"]
    assert len(router_ports(sdk, router.id)) == 1
    added = ok(os_module(openstack_router, diff=True, **both))
    assert added["changed"]
    ports = router_ports(sdk, router.id)
    assert (pn2_port, "10.91.2.1") in ports and len(ports) == 2
    assert sorted(ip for _id, ip in ports) == ["10.91.2.1", "10.91.3.1"]
    assert sdk.network.get_router(router.id).routes == [
        {"destination": "10.91.9.0/24", "nexthop": "10.91.3.50"}]
    assert ok(os_module(openstack_router, **both))["changed"] is False

    # Back to PN2 only, no routes: only the PN3 interface goes.
    removed = ok(os_module(openstack_router, name=name, interfaces=pn2_only["interfaces"], routes=[]))
    assert removed["actions"] == ["remove all routes", "remove interface 10.91.3.1"]
    assert router_ports(sdk, router.id) == [(pn2_port, "10.91.2.1")]

    gone = ok(os_module(openstack_router, name=name, state="absent"))
    assert gone["changed"] and sdk.network.find_router(name) is None
    assert ok(os_module(openstack_router, name=name, state="absent"))["changed"] is False


def test_router_with_external_gateway(os_module, sdk, prefix, cleanup, lab_networks):
    name = prefix + "rt1"
    cleanup(lambda: ok(os_module(openstack_router, name=name, state="absent")))
    args = dict(name=name, external_network=PUBLIC_NETWORK, interfaces=[lab_networks["pn1"]])
    created = ok(os_module(openstack_router, **args))
    public = sdk.network.find_network(PUBLIC_NETWORK)
    router = sdk.network.find_router(name)
    assert router.external_gateway_info["network_id"] == public.id
    assert created["router"]["external_network_id"] == public.id
    assert [ip for _id, ip in router_ports(sdk, router.id)] == ["10.91.1.1"]
    assert ok(os_module(openstack_router, **args))["changed"] is False


def test_bad_router_input_fails_before_creating(os_module, sdk, prefix, lab_networks):
    name = prefix + "rt-bad"
    not_external = os_module(openstack_router, name=name, external_network=prefix + "rt-pn1")
    assert not_external["failed"] and "is not an external (public) network" in not_external["msg"]
    assert "public" in not_external["msg"]
    unknown = os_module(openstack_router, name=name, external_network="no-such-net")
    assert unknown["failed"] and "Unknown network 'no-such-net'" in unknown["msg"]
    no_gateway = os_module(openstack_router, name=name, interfaces=[lab_networks["pn2"]])
    assert no_gateway["failed"] and "has no gateway address" in no_gateway["msg"]
    outside = os_module(openstack_router, name=name,
                        interfaces=[{"subnet": lab_networks["pn2"], "fixed_ip": "10.99.0.1"}])
    assert outside["failed"] and "outside subnet" in outside["msg"]
    assert sdk.network.find_router(name) is None
