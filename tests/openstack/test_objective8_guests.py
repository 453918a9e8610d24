# -*- coding: utf-8 -*-
"""Objective 8 on real guests (the data plane): the playbook as a user runs it (guestlab.py runs it alongside the
calculator lab; the lab's second run is the whole site.yml, objective 8 included, and changes nothing), then what it
built checked from inside: SSH through the floating IP, the resized guest sees its new flavor's memory and vCPUs,
and a server booted from the snapshot answers SSH too. One test authenticates with an RC file's OS_* variables
alone (no clouds.yaml)."""

import os

from ansible_collections.virtlab.core.plugins.modules import openstack_network

from checks import ok
from guestlab import O8_PREFIX
from guests import report, ssh
from test_playbooks import recap


def test_objective8_guest_answers_ssh_and_has_the_bigger_flavor(sdk, lab, objective8_vm):
    counts = recap(lab["objective8"])["localhost"]
    assert counts["failed"] == 0 and counts["changed"] > 0, lab["objective8"][-4000:]
    assert "resize from m1.small to m1.medium" in lab["objective8"], lab["objective8"][-4000:]
    server = sdk.compute.get_server(objective8_vm["server"].id)
    assert (server.status, server.flavor["original_name"]) == ("ACTIVE", "m1.medium")
    # Its floating IP is from the public network; its security group opens SSH, ICMP and the lab's ports.
    [fip] = [ip for ip in sdk.network.ips() if ip.floating_ip_address == objective8_vm["fip"]]
    assert fip.floating_network_id == sdk.network.find_network("public").id
    group = sdk.network.find_security_group(O8_PREFIX + "sg")
    assert sorted((r.protocol, r.port_range_min, r.port_range_max)
                  for r in sdk.network.security_group_rules(security_group_id=group.id)
                  if r.direction == "ingress") == [("icmp", None, None), ("tcp", 22, 22), ("tcp", 50000, 50050)]
    # m1.medium: 2 vCPUs and 2048 MiB, as the guest itself sees them after the resize.
    cpus, mem_kib = ssh(objective8_vm["fip"], "nproc; awk '/MemTotal/ {print $2}' /proc/meminfo",
                        check=True).stdout.split()
    assert int(cpus) == 2
    assert 1800 * 1024 < int(mem_kib) <= 2048 * 1024, mem_kib
    report("objective 8 on a real guest: resized to m1.medium, the guest sees %s vCPUs and %d MiB"
           % (cpus, int(mem_kib) // 1024))


def test_server_from_the_snapshot_boots(snapshot_guest, objective8_vm):
    assert snapshot_guest["snapshot"].status == "active"
    assert snapshot_guest["server"].image["id"] == snapshot_guest["snapshot"].id
    # cloud-init ran again on the copy: the new server's name, not the snapshotted VM's.
    hostname = ssh(snapshot_guest["fixed"], "hostname", jump=objective8_vm["fip"], timeout=90,
                   check=True).stdout.strip()
    assert hostname == O8_PREFIX + "from-snapshot"


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
