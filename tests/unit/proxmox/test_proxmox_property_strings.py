# -*- coding: utf-8 -*-
"""The pure Proxmox helpers: property strings, sizes, UPIDs, config comparison."""

import pytest

from ansible_collections.virtlab.core.plugins.module_utils.proxmox.properties import (
    comparable_config,
    describe_api_error,
    format_property_string,
    format_size_gib,
    net_differences,
    net_to_api,
    normalise_net,
    parse_property_string,
    parse_rootfs,
    parse_upid,
    size_to_bytes,
    task_hint,
    to_bool,
)

NET0 = "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:2A:3B:4C,ip=dhcp,type=veth"


def test_parse_net_property_string():
    assert parse_property_string(NET0) == {
        "name": "eth0", "bridge": "vmbr0", "hwaddr": "BC:24:11:2A:3B:4C", "ip": "dhcp",
        "type": "veth"}


def test_parse_keeps_everything_after_the_first_equals_sign():
    assert parse_property_string("name=eth0,ip=10.0.0.5/24")["ip"] == "10.0.0.5/24"
    assert parse_property_string("description=a=b") == {"description": "a=b"}


def test_bare_item_is_the_default_key():
    assert parse_property_string("local-lvm:vm-100-disk-0,size=8G", default_key="volume") == {
        "volume": "local-lvm:vm-100-disk-0", "size": "8G"}


def test_bare_item_without_default_key_is_an_error():
    with pytest.raises(ValueError, match="cannot parse 'garbage'"):
        parse_property_string("name=eth0,garbage")


def test_empty_and_missing_strings_parse_to_empty_dict():
    assert parse_property_string(None) == {}
    assert parse_property_string("") == {}


def test_format_prints_required_key_first_then_alphabetical():
    props = {"type": "veth", "ip": "dhcp", "bridge": "vmbr0", "name": "eth0", "gw": None}
    assert format_property_string(props, first_key="name") == "name=eth0,bridge=vmbr0,ip=dhcp,type=veth"


def test_format_and_parse_round_trip():
    assert format_property_string(parse_property_string(NET0), first_key="name") == NET0
    rootfs = "local-lvm:vm-100-disk-0,size=8G"
    assert format_property_string(parse_property_string(rootfs, default_key="volume"),
                                  default_key="volume") == rootfs


@pytest.mark.parametrize("text, expected", [
    ("8G", 8 * 1024 ** 3), ("8", 8 * 1024 ** 3), (8, 8 * 1024 ** 3), ("8192M", 8 * 1024 ** 3),
    ("512M", 512 * 1024 ** 2), ("1T", 1024 ** 4), ("0.5G", 512 * 1024 ** 2), ("8GiB", 8 * 1024 ** 3),
])
def test_sizes_in_any_unit_compare_equal(text, expected):
    assert size_to_bytes(text) == expected


@pytest.mark.parametrize("text", ["eight", "8X", "", "-1G"])
def test_invalid_sizes_are_refused(text):
    with pytest.raises(ValueError, match="invalid size"):
        size_to_bytes(text)


def test_format_size_uses_gib_when_whole():
    assert format_size_gib(8 * 1024 ** 3) == "8G"
    assert format_size_gib(512 * 1024 ** 2) == "512M"


def test_to_bool_reads_api_and_yaml_spellings():
    assert [to_bool(v) for v in ("1", "0", 1, 0, "yes", "off", True)] == [
        True, False, True, False, True, False, True]
    assert to_bool(None) is None
    with pytest.raises(ValueError):
        to_bool("maybe")


def test_normalise_net_types_values_and_drops_unset_keys():
    assert normalise_net({"name": "eth0", "firewall": "1", "tag": "20", "mtu": None,
                          "ip": "DHCP", "hwaddr": "bc:24:11:2a:3b:4c"}) == {
        "name": "eth0", "firewall": True, "tag": 20, "ip": "dhcp", "hwaddr": "BC:24:11:2A:3B:4C"}


def test_generated_hwaddr_and_default_type_are_not_differences():
    current = normalise_net(parse_property_string(NET0))
    desired = normalise_net({"name": "eth0", "bridge": "vmbr0", "ip": "dhcp"})
    assert net_differences(current, desired) == {}


def test_a_managed_key_that_differs_is_a_difference():
    current = normalise_net(parse_property_string(NET0))
    desired = normalise_net({"name": "eth0", "bridge": "vmbr1", "ip": "10.0.0.5/24",
                             "firewall": False})
    assert net_differences(current, desired) == {
        "bridge": ("vmbr0", "vmbr1"), "ip": ("dhcp", "10.0.0.5/24"), "firewall": (None, False)}


def test_net_to_api_writes_booleans_as_0_1_in_pve_order():
    props = normalise_net({"name": "eth0", "bridge": "vmbr0", "firewall": True, "ip": "dhcp"})
    assert net_to_api(props) == "name=eth0,bridge=vmbr0,firewall=1,ip=dhcp"


def test_parse_rootfs_gives_storage_and_size_in_bytes():
    assert parse_rootfs("local-lvm:vm-100-disk-0,size=8G") == {
        "volume": "local-lvm:vm-100-disk-0", "storage": "local-lvm", "size": 8 * 1024 ** 3}


def test_parse_upid():
    upid = "UPID:pve1:00000FA1:00006D67:6563A1B2:vzcreate:100:root@pam:"
    assert parse_upid(upid) == {"node": "pve1", "pid": "00000FA1", "pstart": "00006D67",
                                "starttime": "6563A1B2", "type": "vzcreate", "id": "100",
                                "user": "root@pam"}


@pytest.mark.parametrize("text", [None, "", "pve1:123", "UPID:pve1:1:2:3:vzstart:100:root@pam:",
                                  "UPID:pve1:00000FA1:00006D67:6563A1B2:vzcreate:100:root@pam"])
def test_parse_upid_refuses_what_is_not_a_upid(text):
    with pytest.raises(ValueError, match="UPID"):
        parse_upid(text)


def test_comparable_config_ignores_snapshot_metadata_and_formatting():
    current = {"memory": 512, "net0": NET0, "digest": "abc", "parent": "base",
               "rootfs": "local-lvm:vm-100-disk-0,size=8G", "description": "now"}
    snapshot = {"memory": "512", "snaptime": 1700000000, "description": "snap",
                "net0": "name=eth0,type=veth,ip=dhcp,bridge=vmbr0,hwaddr=bc:24:11:2a:3b:4c",
                "rootfs": "local-lvm:vm-100-disk-0,size=8192M"}
    assert comparable_config(current) == comparable_config(snapshot)
    assert comparable_config(dict(current, memory=1024)) != comparable_config(snapshot)


def test_describe_api_error_lists_parameter_errors():
    text = describe_api_error(400, "Parameter verification failed.",
                              {"vmid": "VM 100 already exists\n", "target": "target is local node."})
    assert text == ("400 Parameter verification failed. "
                    "(target: target is local node.; vmid: VM 100 already exists)")
    assert describe_api_error(500, "CT 100 not running", None) == "500 CT 100 not running"


def test_task_hint_explains_a_snapshot_that_blocks_a_migration_and_the_restart_on_the_source():
    log = ["starting migration of CT 600 to node 'pve2'",
           "can't migrate local volume 'local-lvm:vm-600-disk-0': non-migratable snapshot exists",
           "start container on source node", "TASK ERROR: can't migrate CT - check log"]

    hint = task_hint(log)

    assert hint.startswith("the CT has snapshots and its disk local-lvm:vm-600-disk-0 is on storage that cannot "
                           "move snapshots")
    assert hint.endswith("The CT was started again on its node")
    assert task_hint(log[:2]).endswith("or create the CT on ZFS or btrfs storage")
    assert task_hint(["TASK ERROR: startup for container '100' failed"]) is None
