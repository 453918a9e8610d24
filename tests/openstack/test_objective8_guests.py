# -*- coding: utf-8 -*-
"""Objective 8 on real guests (the data plane): the playbook as a user runs it, then what it built
checked from inside: SSH through the floating IP, the resized guest sees its new flavor's memory
and vCPUs, and a server booted from the snapshot answers SSH too. One test authenticates with an
RC file's OS_* variables alone (no clouds.yaml)."""

import os

import pytest

from ansible_collections.virtlab.core.plugins.modules import openstack_network

from checks import ok
from conftest import PUBLIC_NETWORK
from guests import (GUEST_FLAVOR, GUEST_IMAGE, KEY_PAIR, floating_ip_of, report, ssh, wait_active,
                    wait_ssh)
from test_playbooks import playbook, recap

PREFIX = "vt-o8g-"
# Three guest boots and a resize under emulation: about ten minutes on 2 cores, so on request.
GUESTS = pytest.mark.skipif(os.environ.get("VIRTLAB_OS_OBJECTIVE8_GUESTS") != "1",
                            reason="objective 8 on real guests takes about ten minutes: "
                                   "VIRTLAB_OS_OBJECTIVE8_GUESTS=1 runs it")


@pytest.fixture(scope="module")
def objective8(control_plane, sdk, data_plane):
    extra = dict(objective8_prefix=PREFIX, objective8_cidr="10.97.0.0/24",
                 virtlab_openstack_image=GUEST_IMAGE, virtlab_openstack_flavor=GUEST_FLAVOR,
                 virtlab_openstack_bigger_flavor="m1.medium", virtlab_openstack_key_name=KEY_PAIR)
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "playbooks", "objective8_openstack.yml")
    extras = []
    try:
        output = playbook(path, **extra)
        yield {"output": output, "extras": extras}
    finally:
        for server in extras:
            sdk.compute.delete_server(server, ignore_missing=True)
        for server in extras:
            sdk.compute.wait_for_delete(server, wait=180)
        removed = playbook(path, **dict(extra, objective8_state="absent"))
        assert recap(removed)["localhost"]["failed"] == 0


@GUESTS
def test_objective8_guest_answers_ssh_and_has_the_bigger_flavor(sdk, objective8):
    assert recap(objective8["output"])["localhost"]["failed"] == 0
    server = sdk.compute.get_server(sdk.compute.find_server(PREFIX + "vm").id)
    assert (server.status, server.flavor["original_name"]) == ("ACTIVE", "m1.medium")
    fip = floating_ip_of(sdk, server)
    wait_ssh(fip)
    # m1.medium: 2 vCPUs and 2048 MiB, as the guest itself sees them after the resize.
    cpus, mem_kib = ssh(fip, "nproc; awk '/MemTotal/ {print $2}' /proc/meminfo",
                        check=True).stdout.split()
    assert int(cpus) == 2
    assert 1800 * 1024 < int(mem_kib) <= 2048 * 1024, mem_kib
    report("objective 8 on a real guest: resized to m1.medium, the guest sees %s vCPUs and %d MiB"
           % (cpus, int(mem_kib) // 1024))


@GUESTS
def test_server_from_the_snapshot_boots(sdk, objective8):
    [snapshot] = list(sdk.image.images(name=PREFIX + "vm-snapshot"))
    assert snapshot.status == "active"
    network = sdk.network.find_network(PREFIX + "net")
    server = sdk.compute.create_server(
        name=PREFIX + "from-snapshot", image_id=snapshot.id, key_name=KEY_PAIR,
        flavor_id=sdk.compute.find_flavor(GUEST_FLAVOR).id, networks=[{"uuid": network.id}],
        security_groups=[{"name": PREFIX + "sg"}])
    objective8["extras"].append(server)
    server = wait_active(sdk, server.id)
    port = next(iter(sdk.network.ports(device_id=server.id)))
    fip = sdk.network.create_ip(floating_network_id=sdk.network.find_network(PUBLIC_NETWORK).id,
                                port_id=port.id)
    try:
        wait_ssh(fip.floating_ip_address)
        hostname = ssh(fip.floating_ip_address, "hostname", check=True).stdout.strip()
        assert hostname == PREFIX + "from-snapshot"
    finally:
        sdk.network.delete_ip(fip)


def test_rc_file_variables_alone_authenticate(monkeypatch, run_module, sdk, tmp_path, admin_sdk):
    """The OS_* variables of an RC file, no clouds.yaml anywhere: the module authenticates."""
    import openstack.config
    config = openstack.config.OpenStackConfig(config_files=[os.environ["OS_CLIENT_CONFIG_FILE"]])
    auth = config.get_one_cloud("virtlab-test").config["auth"]
    monkeypatch.delenv("OS_CLIENT_CONFIG_FILE", raising=False)
    monkeypatch.delenv("OS_CLOUD", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))           # no ~/.config/openstack/clouds.yaml either
    monkeypatch.chdir(tmp_path)                          # nor ./clouds.yaml
    for name, value in (("OS_AUTH_URL", auth["auth_url"]), ("OS_USERNAME", auth["username"]),
                        ("OS_PASSWORD", auth["password"]), ("OS_PROJECT_NAME", auth["project_name"]),
                        ("OS_USER_DOMAIN_NAME", "Default"), ("OS_PROJECT_DOMAIN_NAME", "Default"),
                        ("OS_REGION_NAME", "RegionOne"), ("OS_IDENTITY_API_VERSION", "3")):
        monkeypatch.setenv(name, value)
    name = "vt-rc-net"
    try:
        created = ok(run_module(openstack_network, {"name": name, "subnets": [{"cidr": "10.98.0.0/24"}]}))
        assert created["changed"]
        network = sdk.network.find_network(name)
        assert network is not None and network.project_id == sdk.current_project_id
    finally:
        network = sdk.network.find_network(name)
        if network is not None:
            sdk.network.delete_network(network)
