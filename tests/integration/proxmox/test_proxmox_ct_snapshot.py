# -*- coding: utf-8 -*-
"""proxmox_ct_snapshot through proxmoxer against the HTTPS PVE API double."""

import pytest

from ansible_collections.virtlab.core.plugins.modules import proxmox_ct, proxmox_ct_snapshot


@pytest.fixture
def ct(pve):
    pve.double.add_ct(100, "pve1", "calc-cs", status="stopped", unprivileged=1, cores=1,
                      net0="name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth")
    return pve.double.cts[100]


def snap_args(pve, **options):
    merged = pve.args(hostname="calc-cs", name="before_change")
    merged.update(options)
    return merged


@pytest.fixture
def snapshot(pve, run_module, ct):
    result = run_module(proxmox_ct_snapshot, snap_args(pve, description="baseline"))
    assert result["changed"] is True, result
    pve.double.requests.clear()
    return result


def test_check_mode_create_reports_change_and_takes_nothing(pve, run_module, ct):
    result = run_module(proxmox_ct_snapshot, snap_args(pve), check_mode=True, diff=True)

    assert result["failed"] is False, result
    assert result["changed"] is True
    assert result["diff"] == {"before": {}, "after": {"name": "before_change", "description": ""}}
    assert ct["snapshots"] == {} and pve.double.writes() == []


def test_create_then_rerun_is_unchanged(pve, run_module, ct, snapshot):
    assert snapshot["snapshot"]["name"] == "before_change"
    assert snapshot["snapshot"]["description"] == "baseline"
    assert snapshot["ct"]["parent"] == "before_change"
    assert list(ct["snapshots"]) == ["before_change"]

    again = run_module(proxmox_ct_snapshot, snap_args(pve, description="baseline"), check_mode=True)
    assert again["changed"] is False
    again = run_module(proxmox_ct_snapshot, snap_args(pve, description="baseline"))
    assert again["changed"] is False and pve.double.writes() == []


def test_description_is_updated_in_place(pve, run_module, ct, snapshot):
    result = run_module(proxmox_ct_snapshot, snap_args(pve, description="before the lab change"),
                        diff=True)

    assert result["changed"] is True
    assert result["diff"]["before"]["description"] == "baseline"
    assert result["diff"]["after"]["description"] == "before the lab change"
    assert ct["snapshots"]["before_change"]["description"] == "before the lab change"


def test_absent_in_check_mode_then_for_real(pve, run_module, ct, snapshot):
    checked = run_module(proxmox_ct_snapshot, snap_args(pve, state="absent"), check_mode=True)
    assert checked["changed"] is True
    assert "before_change" in ct["snapshots"] and pve.double.writes() == []

    removed = run_module(proxmox_ct_snapshot, snap_args(pve, state="absent"))
    assert removed["changed"] is True and removed["snapshot"] == {}
    assert ct["snapshots"] == {} and "parent" not in ct["config"]
    assert run_module(proxmox_ct_snapshot, snap_args(pve, state="absent"))["changed"] is False


def test_rollback_at_the_snapshot_with_no_change_since_is_unchanged(pve, run_module, ct, snapshot):
    checked = run_module(proxmox_ct_snapshot, snap_args(pve, state="rolled_back"), check_mode=True)
    result = run_module(proxmox_ct_snapshot, snap_args(pve, state="rolled_back"))

    assert checked["changed"] is False
    assert result["changed"] is False
    assert pve.double.writes() == []


def test_rollback_after_a_change(pve, run_module, ct, snapshot):
    changed = run_module(proxmox_ct, pve.args(vmid=100, memory=1024, state="started"))
    assert changed["changed"] is True
    pve.double.requests.clear()

    checked = run_module(proxmox_ct_snapshot, snap_args(pve, state="rolled_back"),
                         check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["config"] == {"memory": "1024"}
    assert checked["diff"]["after"] == {"parent": "before_change", "config": {"memory": "512"}}
    assert pve.double.writes() == [] and ct["config"]["memory"] == 1024

    rolled = run_module(proxmox_ct_snapshot, snap_args(pve, state="rolled_back"))
    assert rolled["changed"] is True
    assert ct["config"]["memory"] == 512 and ct["status"] == "stopped"
    assert rolled["ct"] == {"vmid": 100, "node": "pve1", "parent": "before_change",
                            "status": "stopped"}

    again = run_module(proxmox_ct_snapshot, snap_args(pve, state="rolled_back"))
    assert again["changed"] is False


def test_rollback_undoes_a_key_added_since(pve, run_module, ct, snapshot):
    run_module(proxmox_ct, pve.args(vmid=100, onboot=True))

    result = run_module(proxmox_ct_snapshot, snap_args(pve, state="rolled_back"))

    assert result["changed"] is True and "onboot" not in ct["config"]


def test_force_rolls_back_even_when_unchanged(pve, run_module, ct, snapshot):
    result = run_module(proxmox_ct_snapshot, snap_args(pve, state="rolled_back", force=True))

    assert result["changed"] is True
    assert any(path.endswith("/snapshot/before_change/rollback")
               for unused_part, path in pve.double.writes())


def test_rollback_to_a_missing_snapshot(pve, run_module, ct, snapshot):
    result = run_module(proxmox_ct_snapshot, snap_args(pve, name="other", state="rolled_back"))

    assert result["failed"] is True
    assert result["msg"] == ("CT 100 has no snapshot 'other' to roll back to "
                             "(snapshots: before_change)")


@pytest.mark.parametrize("name, message", [
    ("current", "'current' is a reserved snapshot name in Proxmox VE"),
    ("1st", "Invalid snapshot name '1st'"),
    ("has space", "Invalid snapshot name 'has space'"),
    ("a" * 41, "be 2 to 40 characters long"),
])
def test_bad_snapshot_names_are_refused_before_any_request(pve, run_module, ct, name, message):
    result = run_module(proxmox_ct_snapshot, snap_args(pve, name=name))

    assert result["failed"] is True and message in result["msg"]
    assert [path for unused_part, path in pve.double.requests if "snapshot" in path] == []


def test_unknown_ct(pve, run_module, ct):
    result = run_module(proxmox_ct_snapshot, snap_args(pve, hostname="nobody"))

    assert result["failed"] is True
    assert result["msg"] == "No LXC container with hostname 'nobody' in the cluster"


def test_failed_snapshot_task_is_reported_and_unlocks_the_ct(pve, run_module, ct):
    pve.double.fail_next_task("vzsnapshot", "snapshot feature is not available",
                              log=["snapshot create failed: starting cleanup"])

    result = run_module(proxmox_ct_snapshot, snap_args(pve))

    assert result["failed"] is True
    assert result["msg"] == ("create of snapshot 'before_change' of CT 100 on pve1 failed: "
                             "snapshot feature is not available")
    assert "snapshot create failed: starting cleanup" in result["task_log"]
    assert "lock" not in ct["config"] and ct["snapshots"] == {}
