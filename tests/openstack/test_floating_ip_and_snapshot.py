# -*- coding: utf-8 -*-
"""openstack_floating_ip and openstack_server_snapshot against the real control plane."""

import pytest

from ansible_collections.virtlab.core.plugins.modules import (
    openstack_floating_ip,
    openstack_network,
    openstack_router,
    openstack_server,
    openstack_server_snapshot,
)

from checks import ok
from conftest import FLAVOR, IMAGE, PUBLIC_NETWORK


@pytest.fixture
def reachable_server(os_module, sdk, prefix, cleanup):
    """A server on two networks; a router joins only the first to the public network."""
    net_a, net_b, router, name = (prefix + "fip-a", prefix + "fip-b", prefix + "fip-rt",
                                  prefix + "fip-vm")
    ok(os_module(openstack_network, name=net_a, subnets=[{"cidr": "10.94.1.0/24", "name": net_a}]))
    cleanup(lambda: sdk.network.delete_network(sdk.network.find_network(net_a)))
    ok(os_module(openstack_network, name=net_b, subnets=[{"cidr": "10.94.2.0/24", "name": net_b}]))
    cleanup(lambda: sdk.network.delete_network(sdk.network.find_network(net_b)))
    ok(os_module(openstack_router, name=router, external_network=PUBLIC_NETWORK, interfaces=[net_a]))
    cleanup(lambda: ok(os_module(openstack_router, name=router, state="absent")))
    ok(os_module(openstack_server, name=name, image=IMAGE, flavor=FLAVOR,
                 networks=[{"network": net_a, "fixed_ip": "10.94.1.10"},
                           {"network": net_b, "fixed_ip": "10.94.2.10"}]))
    cleanup(lambda: ok(os_module(openstack_server, name=name, state="absent")))
    return name


def test_floating_ip_allocate_keep_release(os_module, sdk, reachable_server, cleanup):
    name = reachable_server

    def release_all():
        for ip in sdk.network.ips(project_id=sdk.current_project_id):
            if ip.fixed_ip_address in ("10.94.1.10", "10.94.2.10"):
                sdk.network.delete_ip(ip)
    cleanup(release_all)

    planned = ok(os_module(openstack_floating_ip, check_mode=True, server=name))
    assert planned["actions"] == ["allocate from public", "associate with 10.94.1.10"]
    assert not list(sdk.network.ips(fixed_ip_address="10.94.1.10"))

    # Two ports, one reachable through a router to public: that one is chosen.
    created = ok(os_module(openstack_floating_ip, server=name))
    assert created["changed"]
    address = created["floating_ip"]["floating_ip_address"]
    [ip] = list(sdk.network.ips(floating_ip_address=address))
    assert ip.fixed_ip_address == "10.94.1.10" and ip.port_id

    # The server keeps the address it has: no second allocation.
    before = len(list(sdk.network.ips(project_id=sdk.current_project_id)))
    again = ok(os_module(openstack_floating_ip, server=name, network=PUBLIC_NETWORK))
    assert again["changed"] is False and again["floating_ip"]["floating_ip_address"] == address
    assert len(list(sdk.network.ips(project_id=sdk.current_project_id))) == before

    planned = ok(os_module(openstack_floating_ip, check_mode=True, server=name, state="absent"))
    assert planned["changed"] and list(sdk.network.ips(floating_ip_address=address))
    released = ok(os_module(openstack_floating_ip, server=name, state="absent"))
    assert released["changed"] and not list(sdk.network.ips(floating_ip_address=address))
    assert ok(os_module(openstack_floating_ip, server=name, state="absent"))["changed"] is False


def test_floating_ip_bad_input(os_module, sdk, reachable_server):
    no_pool = os_module(openstack_floating_ip, server=reachable_server, network="no-such-pool")
    assert no_pool["failed"]
    assert "Floating IP pool 'no-such-pool' does not exist" in no_pool["msg"]
    assert PUBLIC_NETWORK in no_pool["msg"]
    not_mine = os_module(openstack_floating_ip, server=reachable_server,
                         nat_destination="no-such-net")
    assert not_mine["failed"] and "Unknown network 'no-such-net'" in not_mine["msg"]
    assert not [ip for ip in sdk.network.ips(project_id=sdk.current_project_id)
                if ip.fixed_ip_address == "10.94.1.10"]


def test_snapshot_create_rerun_delete(os_module, sdk, reachable_server, prefix, cleanup):
    name = prefix + "snap"
    cleanup(lambda: [sdk.image.delete_image(i) for i in sdk.image.images(name=name)])
    planned = ok(os_module(openstack_server_snapshot, check_mode=True, server=reachable_server,
                           name=name))
    assert planned["changed"] and not list(sdk.image.images(name=name))

    created = ok(os_module(openstack_server_snapshot, server=reachable_server, name=name))
    assert created["changed"] and created["image"]["status"] == "active"
    [image] = list(sdk.image.images(name=name))
    assert image.status == "active"
    assert created["image"]["server_id"] == sdk.compute.find_server(reachable_server).id

    again = ok(os_module(openstack_server_snapshot, server=reachable_server, name=name))
    assert again["changed"] is False and again["image"]["id"] == image.id

    gone = ok(os_module(openstack_server_snapshot, name=name, state="absent"))
    assert gone["changed"] and not list(sdk.image.images(name=name))
    assert ok(os_module(openstack_server_snapshot, name=name, state="absent"))["changed"] is False


def test_snapshot_of_unknown_server(os_module, sdk, prefix):
    result = os_module(openstack_server_snapshot, server="no-such-vm", name=prefix + "snap-bad")
    assert result["failed"] and "Unknown server 'no-such-vm'" in result["msg"]
