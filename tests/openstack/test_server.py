# -*- coding: utf-8 -*-
"""openstack_server against the real control plane (fake hypervisor: no guest boots)."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ansible_collections.virtlab.core.plugins.modules import (
    openstack_network,
    openstack_security_group,
    openstack_server,
)

from checks import ok
from conftest import BIGGER_FLAVOR, FLAVOR, IMAGE


def public_key():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


@pytest.fixture
def server_env(os_module, sdk, prefix, cleanup):
    """A network, a key pair and two security groups for the server tests."""
    env = {"net": prefix + "srv-net", "key": prefix + "srv-key",
           "sg_a": prefix + "srv-sg-a", "sg_b": prefix + "srv-sg-b"}
    ok(os_module(openstack_network, name=env["net"], subnets=[{"cidr": "10.92.0.0/24"}]))
    cleanup(lambda: sdk.network.delete_network(sdk.network.find_network(env["net"])))
    sdk.compute.create_keypair(name=env["key"], public_key=public_key())
    cleanup(lambda: sdk.compute.delete_keypair(env["key"]))
    for group in (env["sg_a"], env["sg_b"]):
        ok(os_module(openstack_security_group, name=group, rules=[{"protocol": "tcp", "ports": "22"}]))
        cleanup(lambda group=group: sdk.network.delete_security_group(
            sdk.network.find_security_group(group)))
    return env


def test_server_create_rerun_resize_groups_delete(os_module, sdk, prefix, cleanup, server_env):
    name = prefix + "vm"
    cleanup(lambda: sdk.compute.find_server(name) and ok(
        os_module(openstack_server, name=name, state="absent")))
    args = dict(name=name, image=IMAGE, flavor=FLAVOR, key_name=server_env["key"],
                security_groups=[server_env["sg_a"]], user_data="#cloud-config\n{}\n",
                networks=[{"network": server_env["net"], "fixed_ip": "10.92.0.20"}])

    planned = ok(os_module(openstack_server, check_mode=True, **args))
    assert planned["changed"] and planned["actions"] == ["create"]
    assert sdk.compute.find_server(name) is None

    created = ok(os_module(openstack_server, **args))
    assert created["changed"] and created["server"]["status"] == "ACTIVE"
    server = sdk.compute.get_server(sdk.compute.find_server(name).id)
    assert server.status == "ACTIVE" and server.key_name == server_env["key"]
    assert server.flavor["original_name"] == FLAVOR
    assert created["server"]["addresses"] == {server_env["net"]: ["10.92.0.20"]}
    assert created["server"]["security_groups"] == [server_env["sg_a"]]

    again = ok(os_module(openstack_server, **args))
    assert again["changed"] is False, again["actions"]
    assert again.get("warnings") in (None, [])

    # Resize: check mode changes nothing; the real run resizes and confirms.
    bigger = dict(args, flavor=BIGGER_FLAVOR)
    planned = ok(os_module(openstack_server, check_mode=True, diff=True, **bigger))
    assert planned["actions"] == ["resize from %s to %s" % (FLAVOR, BIGGER_FLAVOR)]
    assert planned["diff"]["after"]["flavor"] == BIGGER_FLAVOR
    assert sdk.compute.get_server(server.id).flavor["original_name"] == FLAVOR
    resized = ok(os_module(openstack_server, **bigger))
    assert resized["changed"] and resized["server"]["flavor"] == BIGGER_FLAVOR
    after = sdk.compute.get_server(server.id)
    assert (after.status, after.flavor["original_name"]) == ("ACTIVE", BIGGER_FLAVOR)
    assert ok(os_module(openstack_server, **bigger))["changed"] is False

    # Security groups are changed in place.
    swapped = dict(bigger, security_groups=[server_env["sg_b"]])
    result = ok(os_module(openstack_server, **swapped))
    assert result["actions"] == ["add security group %s" % server_env["sg_b"],
                                 "remove security group %s" % server_env["sg_a"]]
    assert sorted(g["name"] for g in sdk.compute.get_server(server.id).security_groups) == [
        server_env["sg_b"]]
    assert ok(os_module(openstack_server, **swapped))["changed"] is False

    planned = ok(os_module(openstack_server, check_mode=True, name=name, state="absent"))
    assert planned["changed"] and sdk.compute.find_server(name) is not None
    gone = ok(os_module(openstack_server, name=name, state="absent"))
    assert gone["changed"] and sdk.compute.find_server(name) is None
    assert ok(os_module(openstack_server, name=name, state="absent"))["changed"] is False


def test_server_stopped_and_started_again(os_module, sdk, prefix, cleanup, server_env):
    """state=stopped shuts a server off (a new one is created first), state=started starts it again; each
    shown by check mode first, and a second run changes nothing. present leaves the power state alone."""
    name = prefix + "power"
    cleanup(lambda: sdk.compute.find_server(name) and ok(
        os_module(openstack_server, name=name, state="absent")))
    args = dict(name=name, image=IMAGE, flavor=FLAVOR, networks=[{"network": server_env["net"]}])

    def status():
        return sdk.compute.get_server(sdk.compute.find_server(name).id).status

    planned = ok(os_module(openstack_server, check_mode=True, state="stopped", **args))
    assert planned["actions"] == ["create", "stop"] and planned["server"]["status"] == "SHUTOFF"
    assert sdk.compute.find_server(name) is None
    stopped = ok(os_module(openstack_server, state="stopped", **args))
    assert stopped["changed"] and stopped["server"]["status"] == "SHUTOFF" and status() == "SHUTOFF"
    again = ok(os_module(openstack_server, state="stopped", **args))
    assert again["changed"] is False and again["actions"] == []
    assert ok(os_module(openstack_server, **args))["changed"] is False and status() == "SHUTOFF"

    planned = ok(os_module(openstack_server, check_mode=True, diff=True, state="started", **args))
    assert planned["actions"] == ["start"] and status() == "SHUTOFF"
    assert (planned["diff"]["before"]["status"], planned["diff"]["after"]["status"]) == ("SHUTOFF", "ACTIVE")
    started = ok(os_module(openstack_server, state="started", **args))
    assert started["changed"] and started["server"]["status"] == "ACTIVE" and status() == "ACTIVE"
    assert ok(os_module(openstack_server, state="started", **args))["changed"] is False


@pytest.mark.parametrize("override, message", [
    ({"image": "no-such-image"}, "Unknown image 'no-such-image'. Images this project can use: "),
    ({"flavor": "m9.huge"}, "Unknown flavor 'm9.huge'. Flavors this project can use: "),
    ({"networks": [{"network": "no-such-net"}]}, "Unknown network 'no-such-net'"),
    ({"networks": [{"network": "NET", "fixed_ip": "10.93.0.5"}]}, "is in no subnet of network"),
    ({"key_name": "no-such-key"}, "Unknown key pair 'no-such-key'"),
    ({"security_groups": ["no-such-group"]}, "Unknown security group 'no-such-group'"),
])
def test_bad_server_input_fails_before_creating(os_module, sdk, prefix, server_env, override, message):
    name = prefix + "vm-bad"
    args = dict(name=name, image=IMAGE, flavor=FLAVOR, networks=[{"network": server_env["net"]}])
    args.update(override)
    for network in args["networks"]:
        if network["network"] == "NET":
            network["network"] = server_env["net"]
    result = os_module(openstack_server, **args)
    assert result["failed"] and message in result["msg"], result["msg"]
    if "Unknown image" in message:
        assert IMAGE in result["msg"], "the message should list the images that exist"
    assert sdk.compute.find_server(name) is None
