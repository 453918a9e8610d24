# -*- coding: utf-8 -*-
"""vbox_clone (clonevm) and vbox_medium_clone (clonemedium) against the VBoxManage double."""

import os

import pytest

from ansible_collections.virtlab.core.plugins.modules import vbox_clone, vbox_medium_clone, vbox_snapshot


@pytest.fixture
def lab_with_disk(vbox, make_vm):
    def make(state):
        return make_vm("lab", state, disk=True)
    return make


def test_full_clone_of_a_running_vm_then_unchanged(vbox, base_args, run_module, lab_with_disk):
    lab_with_disk("running")
    result = run_module(vbox_clone, dict(base_args, name="copy", source="lab"), diff=True)
    assert not result["failed"] and result["changed"], result
    assert result["actions"] == ["cloned from lab (full)"]
    assert result["vm"]["name"] == "copy" and result["vm"]["state"] == "poweroff"
    copy_disk = result["vm"]["disks"][0]["path"]
    assert copy_disk != vbox.path("lab.vdi") and os.path.exists(copy_disk)
    assert result["diff"]["before"] == {} and result["diff"]["after"]["source"] == "lab"
    assert ["clonevm", "lab", "--name", "copy", "--register"] in vbox.calls()
    again = run_module(vbox_clone, dict(base_args, name="copy", source="lab"))
    assert again["changed"] is False and again["actions"] == []


def test_linked_clone_from_a_snapshot(vbox, base_args, run_module, lab_with_disk):
    lab_with_disk("poweroff")
    run_module(vbox_snapshot, dict(base_args, name="lab", snapshot="base"))
    result = run_module(vbox_clone, dict(base_args, name="linked", source="lab", mode="linked", snapshot="base"))
    assert not result["failed"] and result["changed"], result
    assert ["clonevm", "lab", "--name", "linked", "--register", "--snapshot", "base", "--options", "link"] \
        in vbox.calls()
    assert vbox.state()["media"][result["vm"]["disks"][0]["path"]]["parent"] == vbox.path("lab.vdi")


def test_linked_clone_needs_a_snapshot(vbox, base_args, run_module):
    result = run_module(vbox_clone, dict(base_args, name="linked", source="lab", mode="linked"))
    assert result["failed"] and "snapshot" in result["msg"]
    assert vbox.calls() == []


def test_clone_from_a_missing_snapshot_is_virtualboxs_error(vbox, base_args, run_module, lab_with_disk):
    lab_with_disk("poweroff")
    result = run_module(vbox_clone, dict(base_args, name="linked", source="lab", mode="linked", snapshot="nope"))
    assert result["failed"]
    assert result["msg"] == "VBoxManage clonevm failed: Could not find a snapshot named 'nope'"
    assert result["code"] == "VBOX_E_OBJECT_NOT_FOUND"
    assert vbox.vm("linked") is None


def test_clone_check_mode_and_missing_source(vbox, base_args, run_module, lab_with_disk):
    lab_with_disk("running")
    state_before = vbox.state_text()
    result = run_module(vbox_clone, dict(base_args, name="copy", source="lab"), check_mode=True)
    assert result["changed"] and vbox.state_text() == state_before
    assert "clonevm" not in vbox.subcommands()
    missing = run_module(vbox_clone, dict(base_args, name="copy", source="ghost"))
    assert missing["failed"] and missing["msg"] == "VirtualBox VM 'ghost' is not registered"


def test_clonemedium_of_a_running_vms_disk_says_why_and_what_to_do(vbox, base_args, run_module, lab_with_disk):
    lab_with_disk("running")
    args = dict(base_args, source=vbox.path("lab.vdi"), dest=vbox.path("copy.vdi"))
    for check_mode in (True, False):
        result = run_module(vbox_medium_clone, args, check_mode=check_mode)
        assert result["failed"]
        assert result["msg"].startswith("Cannot clone disk %s: it is locked because VM 'lab' is running with it "
                                        "attached" % vbox.path("lab.vdi"))
        assert "Power the VM off first" in result["msg"] and "vbox_clone (clonevm)" in result["msg"]
        assert result["holders"] == ["lab"]
    assert not os.path.exists(vbox.path("copy.vdi"))


def test_clonemedium_by_uuid_also_finds_the_holder(vbox, base_args, run_module, lab_with_disk):
    lab_with_disk("running")
    disk_uuid = vbox.state()["media"][vbox.path("lab.vdi")]["uuid"]
    result = run_module(vbox_medium_clone, dict(base_args, source="{%s}" % disk_uuid,
                                                dest=vbox.path("copy.vdi")))
    assert result["failed"] and result["holders"] == ["lab"]


def test_clonemedium_of_a_stopped_vms_disk_then_unchanged(vbox, base_args, run_module, lab_with_disk):
    lab_with_disk("poweroff")
    args = dict(base_args, source=vbox.path("lab.vdi"), dest=vbox.path("copy.vdi"))
    check = run_module(vbox_medium_clone, args, check_mode=True)
    assert check["changed"] and not os.path.exists(vbox.path("copy.vdi"))
    result = run_module(vbox_medium_clone, args, diff=True)
    assert not result["failed"] and result["changed"], result
    assert result["medium"]["uuid"] == vbox.state()["media"][vbox.path("copy.vdi")]["uuid"]
    assert result["diff"]["after"]["path"] == vbox.path("copy.vdi")
    again = run_module(vbox_medium_clone, args)
    assert again["changed"] is False


def test_clonemedium_of_a_missing_image_is_virtualboxs_error(vbox, base_args, run_module):
    result = run_module(vbox_medium_clone, dict(base_args, source=vbox.path("nope.vdi"), dest=vbox.path("c.vdi")))
    assert result["failed"]
    assert result["msg"] == ("VBoxManage clonemedium failed: Could not find file for the medium '%s' "
                             "(VERR_FILE_NOT_FOUND)" % vbox.path("nope.vdi"))
    assert result["code"] == "VBOX_E_FILE_ERROR"
