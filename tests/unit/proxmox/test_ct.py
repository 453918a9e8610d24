# -*- coding: utf-8 -*-
"""How a Proxmox CT is compared (module_utils/proxmox/ct.py): the view of its config, the declared options
checked, and the PUT /config parameters that make one match the other."""

import pytest

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.proxmox.ct import (
    config_changes,
    ct_view,
    desired,
    pending_keys,
    public,
    updated_view,
)

CONFIG = {"hostname": "cs", "memory": 512, "cores": 1, "unprivileged": 1,
          "rootfs": "local-lvm:vm-100-disk-0,size=8G",
          "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth",
          "net2": "name=eth2,bridge=vmbr1,tag=101,ip=10.77.1.10/24,type=veth"}


def params(**options):
    base = dict(vmid=100, hostname="cs", migration="offline", password=None, memory=None, cores=None, swap=None,
                onboot=None, disk_size=None, interfaces=None)
    base.update(options)
    return base


def current():
    return ct_view({"vmid": "100", "node": "pve1"}, CONFIG, "running")


def test_the_view_is_typed_and_keeps_the_net_indexes_internal():
    view = current()
    assert (view["vmid"], view["memory"], view["swap"], view["unprivileged"], view["disk_size"]) == \
        (100, 512, 512, True, "8G")
    assert view["interfaces"][1] == {"name": "eth2", "bridge": "vmbr1", "tag": 101, "ip": "10.77.1.10/24",
                                     "type": "veth"}
    assert view["_net_indexes"] == [0, 2] and "_net_indexes" not in public(view)


def test_only_declared_keys_change_and_a_changed_net_keeps_its_mac_and_extra_nets_go():
    want = desired(params(memory=1024, interfaces=[{"bridge": "vmbr0", "ip": "192.0.2.10/24", "gw": "192.0.2.1"}]))

    update, delete = config_changes(current(), want)

    assert sorted(update) == ["memory", "net0"] and delete == ["net2"]
    assert "hwaddr=BC:24:11:AA:BB:CC" in update["net0"] and "ip=192.0.2.10/24" in update["net0"]
    after = updated_view(current(), update, delete)
    assert after["memory"] == 1024 and after["_net_indexes"] == [0]
    assert after["interfaces"][0]["gw"] == "192.0.2.1"


def test_interfaces_match_by_position_and_the_same_options_are_no_change():
    want = desired(params(memory=512, interfaces=[{"bridge": "vmbr0", "ip": "DHCP"},
                                                  {"bridge": "vmbr1", "tag": 101, "ip": "10.77.1.10/24"}]))
    # interface 1 of the declaration is net1, which the CT does not have: it is added, net2 removed
    update, delete = config_changes(current(), want)
    assert list(update) == ["net1"] and delete == ["net2"]
    assert config_changes(current(), desired(params(memory=512))) == ({}, [])


@pytest.mark.parametrize("options, message", [
    (dict(migration="online"), "Proxmox VE has no live migration"),
    (dict(cores=0), "cores must be at least 1, got 0"),
    (dict(swap=-1), "swap cannot be negative, got -1"),
    (dict(interfaces=[{"bridge": "vmbr0", "ip": "10.0.0.5"}]), "interfaces[0].ip must be dhcp, manual or"),
    (dict(interfaces=[{"bridge": "vmbr0", "ip": "10.0.0.5/24", "gw": "gateway"}]),
     "interfaces[0].gw must be an IPv4 address"),
])
def test_bad_options_fail_before_anything_is_read(options, message):
    with pytest.raises(VirtlabError) as failure:
        desired(params(**options))
    assert message in failure.value.msg


def test_pending_keys_are_the_new_values_and_deletions_waiting_for_a_restart():
    entries = [{"key": "hostname", "value": "calc-cs", "pending": "calc-cs2"},
               {"key": "memory", "value": 512},
               {"key": "nameserver", "value": "10.0.0.1", "delete": 1}]

    assert pending_keys(entries) == ["hostname", "nameserver"]
    assert pending_keys([]) == [] and pending_keys(None) == []


def test_declared_features_are_compared_and_the_others_kept():
    have = dict(current(), features={"keyctl": True})

    update, unused_delete = config_changes(have, desired(params(features={"nesting": "yes"})))
    assert update == {"features": "keyctl=1,nesting=1"}
    assert config_changes(dict(have, features={"keyctl": True, "nesting": True}),
                          desired(params(features={"nesting": True}))) == ({}, [])
    with pytest.raises(VirtlabError, match="features: invalid boolean 'maybe'"):
        desired(params(features={"nesting": "maybe"}))
