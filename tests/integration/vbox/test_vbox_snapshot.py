# -*- coding: utf-8 -*-
"""vbox_snapshot against the VBoxManage double: take, restore, delete."""

from ansible_collections.virtlab.core.plugins.modules import vbox_snapshot


def snap(base_args, snapshot, **options):
    return dict(base_args, name="lab", snapshot=snapshot, **options)


def test_take_on_a_running_vm_then_unchanged(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")
    result = run_module(vbox_snapshot, snap(base_args, "base", description="first"), diff=True)
    assert not result["failed"] and result["changed"], result
    assert result["actions"] == ["taken"]
    assert result["snapshot"]["name"] == "base" and result["snapshot"]["description"] == "first"
    assert result["diff"] == {"before": {"snapshots": [], "current": None},
                              "after": {"snapshots": ["base"], "current": "base"}}
    again = run_module(vbox_snapshot, snap(base_args, "base"))
    assert again["changed"] is False and again["snapshots"] == ["base"]


def test_restore_needs_the_vm_off_then_restores_once(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")
    run_module(vbox_snapshot, snap(base_args, "one"))
    run_module(vbox_snapshot, snap(base_args, "two"))
    state_before = vbox.state_text()
    refused = run_module(vbox_snapshot, snap(base_args, "one", state="restored"))
    assert refused["failed"]
    assert "VM 'lab' is running, and VirtualBox restores only a VM that is powered off" in refused["msg"]
    assert vbox.state_text() == state_before
    vbox.command("controlvm", "lab", "poweroff")
    check = run_module(vbox_snapshot, snap(base_args, "one", state="restored"), check_mode=True)
    assert check["changed"] and check["current"] == "one"
    assert vbox.vm("lab")["current_snapshot"] != check["snapshot"]["uuid"]
    result = run_module(vbox_snapshot, snap(base_args, "one", state="restored"))
    assert result["changed"] and result["current"] == "one"
    assert ["snapshot", vbox.vm("lab")["uuid"], "restore", result["snapshot"]["uuid"]] in vbox.calls()
    again = run_module(vbox_snapshot, snap(base_args, "one", state="restored"))
    assert again["changed"] is False


def test_restore_of_a_missing_snapshot_lists_the_existing_ones(vbox, base_args, run_module, make_vm):
    make_vm("lab")
    run_module(vbox_snapshot, snap(base_args, "one"))
    result = run_module(vbox_snapshot, snap(base_args, "nope", state="restored"))
    assert result["failed"] and result["msg"] == "VM 'lab' has no snapshot named 'nope' to restore"
    assert result["snapshots"] == ["one"]


def test_delete_in_check_mode_then_for_real_then_unchanged(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")
    run_module(vbox_snapshot, snap(base_args, "one"))
    run_module(vbox_snapshot, snap(base_args, "two"))
    state_before = vbox.state_text()
    check = run_module(vbox_snapshot, snap(base_args, "two", state="absent"), check_mode=True, diff=True)
    assert check["changed"] and check["diff"]["after"] == {"snapshots": ["one"], "current": "one"}
    assert vbox.state_text() == state_before
    result = run_module(vbox_snapshot, snap(base_args, "two", state="absent"))
    assert result["changed"] and result["snapshots"] == ["one"] and result["current"] == "one"
    assert [s["name"] for s in vbox.vm("lab")["snapshots"]] == ["one"]
    again = run_module(vbox_snapshot, snap(base_args, "two", state="absent"))
    assert again["changed"] is False


def test_vm_without_snapshots_and_missing_vm(vbox, base_args, run_module, make_vm):
    make_vm("lab")
    result = run_module(vbox_snapshot, snap(base_args, "one", state="absent"))
    assert not result["failed"] and result["changed"] is False and result["snapshots"] == []
    missing = run_module(vbox_snapshot, dict(base_args, name="ghost", snapshot="one"))
    assert missing["failed"] and missing["msg"] == "VirtualBox VM 'ghost' is not registered"
