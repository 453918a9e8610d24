# -*- coding: utf-8 -*-
"""openstack_network against the real control plane."""

from ansible_collections.virtlab.core.plugins.modules import openstack_network

from checks import ok


def network_args(name, **subnet):
    spec = {"cidr": "10.81.1.0/24", "gateway_ip": "10.81.1.1", "dns_nameservers": ["9.9.9.9"]}
    spec.update(subnet)
    return {"name": name, "subnets": [spec]}


def test_create_is_idempotent_and_changes_in_place(os_module, sdk, prefix, cleanup):
    name = prefix + "net"
    cleanup(lambda: sdk.network.find_network(name) and sdk.network.delete_network(
        sdk.network.find_network(name)))

    planned = ok(os_module(openstack_network, check_mode=True, diff=True, **network_args(name)))
    assert planned["changed"] is True
    assert sdk.network.find_network(name) is None, "check mode created the network"
    assert planned["diff"]["before"] == {}

    created = ok(os_module(openstack_network, **network_args(name)))
    assert created["changed"] is True
    network = sdk.network.find_network(name)
    assert network is not None and created["network"]["id"] == network.id
    [subnet] = list(sdk.network.subnets(network_id=network.id))
    assert (subnet.cidr, subnet.gateway_ip, subnet.is_dhcp_enabled, subnet.dns_nameservers) == (
        "10.81.1.0/24", "10.81.1.1", True, ["9.9.9.9"])

    again = ok(os_module(openstack_network, **network_args(name)))
    assert again["changed"] is False, again["actions"]
    assert again["network"] == created["network"]

    # Gateway off and DHCP off: in check mode nothing moves, then the subnet is updated in place.
    no_gateway = network_args(name, gateway_ip=None, no_gateway=True, enable_dhcp=False)
    planned = ok(os_module(openstack_network, check_mode=True, **no_gateway))
    assert planned["changed"] is True
    assert sdk.network.get_subnet(subnet.id).gateway_ip == "10.81.1.1"
    changed = ok(os_module(openstack_network, diff=True, **no_gateway))
    assert changed["changed"] is True
    after = sdk.network.get_subnet(subnet.id)
    assert after.id == subnet.id, "the subnet was recreated instead of updated"
    assert (after.gateway_ip, after.is_dhcp_enabled) == (None, False)
    assert changed["diff"]["after"]["subnets"][0]["gateway_ip"] is None
    assert ok(os_module(openstack_network, **no_gateway))["changed"] is False

    # A second subnet is added; the first is kept.
    two = network_args(name, gateway_ip=None, no_gateway=True, enable_dhcp=False)
    two["subnets"].append({"cidr": "10.81.2.0/24", "name": name + "-b"})
    ok(os_module(openstack_network, **two))
    assert sorted(s.cidr for s in sdk.network.subnets(network_id=network.id)) == [
        "10.81.1.0/24", "10.81.2.0/24"]

    # Purge removes the undeclared one.
    purged = ok(os_module(openstack_network, purge_subnets=True, **no_gateway))
    assert purged["actions"] == ["delete subnet 10.81.2.0/24"]
    assert [s.cidr for s in sdk.network.subnets(network_id=network.id)] == ["10.81.1.0/24"]

    planned = ok(os_module(openstack_network, check_mode=True, name=name, state="absent"))
    assert planned["changed"] is True and sdk.network.find_network(name) is not None
    gone = ok(os_module(openstack_network, name=name, state="absent"))
    assert gone["changed"] is True and gone["network"] == {}
    assert sdk.network.find_network(name) is None
    assert ok(os_module(openstack_network, name=name, state="absent"))["changed"] is False


def test_overlapping_cidr_fails_before_creating(os_module, sdk, prefix, cleanup):
    first, second = prefix + "ovl-a", prefix + "ovl-b"
    cleanup(lambda: sdk.network.delete_network(sdk.network.find_network(first)))
    ok(os_module(openstack_network, name=first, subnets=[{"cidr": "10.82.0.0/16"}]))

    result = os_module(openstack_network, name=second, subnets=[{"cidr": "10.82.5.0/24"}])
    assert result["failed"]
    assert "10.82.5.0/24" in result["msg"] and "overlaps" in result["msg"]
    assert first in result["msg"] and "10.82.0.0/16" in result["msg"]
    assert sdk.network.find_network(second) is None, "the network was created anyway"


def test_bad_subnet_input_fails_with_a_reason(os_module, sdk, prefix):
    name = prefix + "bad"
    host_bits = os_module(openstack_network, name=name, subnets=[{"cidr": "10.83.0.5/24"}])
    assert host_bits["failed"] and "did you mean 10.83.0.0/24" in host_bits["msg"]
    outside = os_module(openstack_network, name=name,
                        subnets=[{"cidr": "10.83.0.0/24", "gateway_ip": "10.84.0.1"}])
    assert outside["failed"] and "outside 10.83.0.0/24" in outside["msg"]
    assert sdk.network.find_network(name) is None


def test_wrong_credentials_fail_clearly(run_module, control_plane):
    result = run_module(openstack_network, {
        "auth": {"auth_url": "http://127.0.0.1:5000/v3", "username": "virtlab-test",
                 "password": "not-the-password", "project_name": "virtlab-test",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "name": "never-created"})
    assert result["failed"]
    assert result["msg"].startswith("Authentication failed at http://127.0.0.1:5000/v3")
    assert "virtlab-test" in result["msg"]
    assert "not-the-password" not in str(result)


def test_unknown_cloud_name_fails_clearly(run_module, control_plane):
    result = run_module(openstack_network, {"cloud": "no-such-cloud", "name": "never-created"})
    assert result["failed"]
    assert "no-such-cloud" in result["msg"] and "clouds.yaml" in result["msg"]
