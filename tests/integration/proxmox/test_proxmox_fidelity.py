# -*- coding: utf-8 -*-
"""What Proxmox VE does beyond the happy path, in the double and through proxmox_ct: a CT with
snapshots on local-lvm cannot migrate, a failed restart-mode migration starts the CT again on its
node, a start ends ``WARNINGS: 1`` for systemd without nesting, a running CT keeps changes it cannot
hot-apply pending, and tasks take time and are known to their own node only."""

import time

import pytest
from ansible.module_utils import basic

from ansible_collections.virtlab.core.plugins.modules import proxmox_ct
from ansible_collections.virtlab.core.plugins.modules import proxmox_ct_snapshot
from test_proxmox_api_double import create, error_of, wait

SNAPSHOT_HINT = ("the CT has snapshots and its disk local-lvm:vm-100-disk-0 is on storage that cannot move "
                 "snapshots to another node")


@pytest.fixture
def warnings(monkeypatch):
    """The warnings the module gave (AnsibleModule.warn), in order."""
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: seen.append(text))
    return seen


def started(pve, run_module, **options):
    result = run_module(proxmox_ct, pve.ct_args(state="started", **options))
    assert result["failed"] is False, result
    return result


def snapshot(pve, run_module, vmid=100):
    result = run_module(proxmox_ct_snapshot, pve.args(vmid=vmid, name="before_change"))
    assert result["failed"] is False, result


# Migration with snapshots ---------------------------------------------------------------

def test_double_refuses_to_migrate_snapshots_on_local_lvm_and_allows_zfs(pve, api):
    create(api, vmid=100, rootfs="local-lvm:8")
    create(api, vmid=101, rootfs="local-zfs:8")
    for vmid in (100, 101):
        assert wait(api, api.nodes("pve1").lxc(vmid).snapshot.post(snapname="s1"))["exitstatus"] == "OK"

    refused = wait(api, api.nodes("pve1").lxc(100).migrate.post(target="pve2"))
    moved = wait(api, api.nodes("pve1").lxc(101).migrate.post(target="pve2"))

    assert refused["exitstatus"] == "can't migrate CT - check log"
    log = [entry["t"] for entry in api.nodes("pve1").tasks(refused["upid"]).log.get()]
    assert "can't migrate local volume 'local-lvm:vm-100-disk-0': non-migratable snapshot exists" in log
    assert pve.double.cts[100]["node"] == "pve1" and "lock" not in pve.double.cts[100]["config"]
    assert moved["exitstatus"] == "OK" and pve.double.cts[101]["node"] == "pve2"


def test_migrating_a_ct_with_a_snapshot_says_why_and_it_runs_again_on_its_node(pve, run_module):
    started(pve, run_module)
    snapshot(pve, run_module)

    result = run_module(proxmox_ct, pve.ct_args(state="started", node="pve2", migration="restart"))

    assert result["failed"] is True
    assert result["msg"].startswith("migration of CT 100 from pve1 to pve2 failed: can't migrate CT - check log - "
                                    + SNAPSHOT_HINT)
    assert "Delete its snapshots first (proxmox_ct_snapshot state=absent)" in result["msg"]
    assert result["msg"].endswith("The CT was started again on its node")
    ct = pve.double.cts[100]
    assert (ct["node"], ct["status"]) == ("pve1", "running")  # final_cleanup restarted it on the source

    deleted = run_module(proxmox_ct_snapshot, pve.args(vmid=100, name="before_change", state="absent"))
    assert deleted["failed"] is False, deleted
    moved = started(pve, run_module, node="pve2", migration="restart")
    assert moved["ct"]["node"] == "pve2" and moved["ct"]["status"] == "running"


def test_failed_restart_mode_migration_starts_the_ct_again_on_the_source(pve, run_module):
    started(pve, run_module)
    pve.double.fail_next_task("vzmigrate", "migration aborted", log=["ERROR: rsync failed"])

    result = run_module(proxmox_ct, pve.ct_args(state="started", node="pve2", migration="restart"))

    assert result["failed"] is True
    assert result["msg"] == "migration of CT 100 from pve1 to pve2 failed: migration aborted"
    assert result["task_log"][-3:] == ["start final cleanup", "start container on source node",
                                       "TASK ERROR: migration aborted"]
    ct = pve.double.cts[100]
    assert (ct["node"], ct["status"]) == ("pve1", "running")


# WARNINGS ------------------------------------------------------------------------------

def test_start_without_nesting_ends_with_warnings_which_are_success_and_reported(pve, api, run_module,
                                                                                 warnings):
    create(api, vmid=200, unprivileged=1)
    create(api, vmid=201, unprivileged=1, features="nesting=1")
    status = wait(api, api.nodes("pve1").lxc(200).status.start.post())
    quiet = wait(api, api.nodes("pve1").lxc(201).status.start.post())
    assert status["exitstatus"] == "WARNINGS: 1" and quiet["exitstatus"] == "OK"
    log = [entry["t"] for entry in api.nodes("pve1").tasks(status["upid"]).log.get()]
    assert log[-2:] == ["WARN: Systemd 252 detected. You may need to enable nesting.", "TASK WARNINGS: 1"]

    result = started(pve, run_module)

    assert result["changed"] is True and result["ct"]["status"] == "running"
    assert warnings == ["start of CT 100 on pve1: Systemd 252 detected. You may need to enable nesting."]


def test_a_ct_with_nesting_starts_without_the_warning_and_stays_unchanged(pve, run_module, warnings):
    result = started(pve, run_module, features={"nesting": True})

    assert pve.double.cts[100]["config"]["features"] == "nesting=1"
    assert result["ct"]["features"] == {"nesting": True} and warnings == []
    pve.double.requests.clear()
    again = run_module(proxmox_ct, pve.ct_args(state="started", features={"nesting": True}))
    assert again["changed"] is False and pve.double.writes() == []


# Pending config ------------------------------------------------------------------------

def test_running_ct_keeps_a_hostname_change_pending_until_a_restart(pve, api, run_module, warnings):
    started(pve, run_module)
    del warnings[:]

    changed = run_module(proxmox_ct, pve.ct_args(state="started", hostname="calc-cs2"))

    assert changed["failed"] is False and changed["changed"] is True, changed
    assert changed["pending"] == ["hostname"] and changed["ct"]["hostname"] == "calc-cs2"
    assert warnings == ["CT 100 is running: hostname take effect at its next start (state=restarted applies "
                        "them now)"]
    config = api.nodes("pve1").lxc(100).config
    assert config.get()["hostname"] == "calc-cs2" and config.get(current=1)["hostname"] == "calc-cs"
    pending = dict((entry["key"], entry) for entry in api.nodes("pve1").lxc(100).pending.get())
    assert pending["hostname"] == {"key": "hostname", "value": "calc-cs", "pending": "calc-cs2"}
    assert "pending" not in pending["memory"]  # memory is hot-applied

    pve.double.requests.clear()
    again = run_module(proxmox_ct, pve.ct_args(state="started", hostname="calc-cs2"))
    assert again["changed"] is False and pve.double.writes() == []  # compared with the pending value

    restarted = run_module(proxmox_ct, pve.ct_args(state="restarted", hostname="calc-cs2"))
    assert restarted["failed"] is False and restarted["pending"] == []
    assert config.get(current=1)["hostname"] == "calc-cs2"


def test_memory_of_a_running_ct_applies_at_once(pve, run_module):
    started(pve, run_module)

    result = run_module(proxmox_ct, pve.ct_args(state="started", memory=1024))

    assert result["changed"] is True and result["pending"] == []
    assert pve.double.cts[100]["config"]["memory"] == 1024 and pve.double.cts[100]["pending"] == {}


# Time ----------------------------------------------------------------------------------

def test_tasks_take_time_the_module_polls_until_the_end(pve, run_module):
    pve.double.task_duration = 0.2  # creation takes three times as long, as extraction does

    begun = time.monotonic()
    result = run_module(proxmox_ct, pve.ct_args())
    took = time.monotonic() - begun

    assert result["failed"] is False, result
    assert took >= 0.6
    polls = [path for method, path in pve.double.requests if method == "GET" and path.endswith("/status")
             and ":vzcreate:" in path]
    assert len(polls) >= 3  # running, running..., stopped: waited on against the deadline


def test_a_task_is_known_to_its_own_node_only(pve, api):
    upid = api.nodes("pve1").lxc.post(vmid=100, ostemplate="local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")

    exc = error_of(api.nodes("pve2").tasks(upid).status.get)

    assert exc.status_code == 500 and exc.content == "no such task"
    assert wait(api, upid)["exitstatus"] == "OK"
