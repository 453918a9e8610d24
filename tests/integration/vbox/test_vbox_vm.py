# -*- coding: utf-8 -*-
"""vbox_vm against the VBoxManage double: create, re-run, change, power, check mode, errors."""

import os

import pytest

from ansible_collections.virtlab.core.plugins.modules import vbox_vm


def vm_args(vbox, base_args, **overrides):
    args = dict(base_args, name="lab", ostype="Ubuntu_64", memory=1024, cpus=2,
                disk={"path": vbox.path("lab.vdi"), "size_mb": 4096}, state="running")
    args.update(overrides)
    return args


@pytest.fixture
def running_vm(vbox, base_args, run_module):
    result = run_module(vbox_vm, vm_args(vbox, base_args))
    assert not result["failed"] and result["changed"], result
    return result


def test_create_registers_a_running_nat_vm_with_a_new_disk(vbox, running_vm):
    vm = running_vm["vm"]
    assert vm["state"] == "running"
    assert vm["ostype"] == "Ubuntu (64-bit)"
    assert (vm["memory"], vm["cpus"]) == (1024, 2)
    assert vm["nics"] == {"1": "nat"}
    assert [disk["path"] for disk in vm["disks"]] == [vbox.path("lab.vdi")]
    assert os.path.exists(vbox.path("lab.vdi"))
    assert running_vm["actions"] == ["created", "disk created and attached %s" % vbox.path("lab.vdi"), "started"]
    assert ["startvm", "lab", "--type", "headless"] in vbox.calls()


def test_second_run_is_unchanged_and_calls_nothing_that_changes(vbox, base_args, run_module, running_vm):
    calls_before = len(vbox.calls())
    result = run_module(vbox_vm, vm_args(vbox, base_args), diff=True)
    assert result["changed"] is False
    assert result["actions"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    new_calls = vbox.calls()[calls_before:]
    assert {call[0] for call in new_calls} <= {"showvminfo", "list"}


def test_create_in_check_mode_changes_nothing(vbox, base_args, run_module):
    result = run_module(vbox_vm, vm_args(vbox, base_args), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["actions"][0] == "created"
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["state"] == "running"
    assert result["diff"]["after"]["memory"] == 1024
    assert vbox.state_text() == ""
    assert vbox.mutating_calls() == []
    assert not os.path.exists(vbox.path("lab.vdi"))


def test_change_on_a_running_vm_that_needs_it_off_is_refused_before_acting(vbox, base_args, run_module, running_vm):
    state_before = vbox.state_text()
    result = run_module(vbox_vm, vm_args(vbox, base_args, memory=2048, cpus=4))
    assert result["failed"]
    assert "Cannot change cpus, memory of VM 'lab' while it is running" in result["msg"]
    assert "state=poweroff" in result["msg"]
    assert vbox.state_text() == state_before


def test_live_change_of_the_first_adapter_uses_controlvm(vbox, base_args, run_module, running_vm):
    result = run_module(vbox_vm, vm_args(vbox, base_args, nic1="null"))
    assert result["changed"] and result["actions"] == ["changed nic1"]
    assert ["controlvm", "lab", "nic1", "null"] in vbox.calls()
    assert result["vm"]["nics"] == {"1": "null"}
    assert result["vm"]["state"] == "running"


def test_poweroff_then_change_uses_modifyvm_and_diff_shows_it(vbox, base_args, run_module, running_vm):
    result = run_module(vbox_vm, vm_args(vbox, base_args, memory=2048, state="poweroff"), diff=True)
    assert result["changed"]
    assert result["actions"] == ["stopped", "changed memory"]
    assert ["modifyvm", "lab", "--memory", "2048"] in vbox.calls()
    assert result["diff"]["before"]["memory"] == 1024 and result["diff"]["after"]["memory"] == 2048
    assert result["diff"]["before"]["state"] == "running" and result["diff"]["after"]["state"] == "poweroff"
    assert vbox.vm("lab")["memory"] == 2048
    again = run_module(vbox_vm, vm_args(vbox, base_args, memory=2048, state="poweroff"))
    assert again["changed"] is False


def test_check_mode_change_predicts_and_changes_nothing(vbox, base_args, run_module, running_vm):
    state_before = vbox.state_text()
    result = run_module(vbox_vm, vm_args(vbox, base_args, memory=512, state="poweroff"), check_mode=True, diff=True)
    assert result["changed"] and result["actions"] == ["stopped", "changed memory"]
    assert result["diff"]["after"]["memory"] == 512
    assert vbox.state_text() == state_before


def test_ostype_change_compares_description_and_passes_the_id(vbox, base_args, run_module, running_vm):
    run_module(vbox_vm, vm_args(vbox, base_args, state="poweroff"))
    result = run_module(vbox_vm, vm_args(vbox, base_args, ostype="Debian_64", state="poweroff"))
    assert result["actions"] == ["changed ostype"]
    assert ["modifyvm", "lab", "--ostype", "Debian_64"] in vbox.calls()
    assert result["vm"]["ostype"] == "Debian (64-bit)"


def test_unknown_ostype_is_virtualboxs_own_error(vbox, base_args, run_module):
    result = run_module(vbox_vm, vm_args(vbox, base_args, ostype="Windows3_1"))
    assert result["failed"]
    assert result["msg"] == "VBoxManage createvm failed: Guest OS type 'Windows3_1' is invalid"
    assert result["code"] == "E_INVALIDARG"
    assert vbox.vm("lab") is None


def test_missing_disk_without_size_fails_before_creating_anything(vbox, base_args, run_module):
    result = run_module(vbox_vm, vm_args(vbox, base_args, disk={"path": vbox.path("nope.vdi")}))
    assert result["failed"]
    assert "nope.vdi does not exist: give disk.size_mb" in result["msg"]
    assert vbox.mutating_calls() == []


def test_existing_image_is_attached_not_created(vbox, base_args, run_module):
    with open(vbox.path("base.vdi"), "w") as image:
        image.write("an existing image")
    result = run_module(vbox_vm, vm_args(vbox, base_args, disk={"path": vbox.path("base.vdi")}, state="present"))
    assert not result["failed"] and result["changed"], result
    assert "createmedium" not in vbox.subcommands()
    assert [disk["path"] for disk in result["vm"]["disks"]] == [vbox.path("base.vdi")]
    assert result["vm"]["state"] == "poweroff"


def test_absent_powers_off_a_running_vm_and_deletes_it(vbox, base_args, run_module, running_vm):
    result = run_module(vbox_vm, dict(base_args, name="lab", state="absent"), diff=True)
    assert result["changed"] and result["actions"] == ["stopped", "removed"]
    assert result["diff"]["after"] == {}
    assert vbox.vm("lab") is None
    assert not os.path.exists(vbox.path("lab.vdi"))
    again = run_module(vbox_vm, dict(base_args, name="lab", state="absent"))
    assert again["changed"] is False and again["vm"] == {}


def test_transient_session_lock_is_retried(vbox, base_args, run_module, running_vm):
    vbox.inject(lock_failures=2)
    result = run_module(vbox_vm, vm_args(vbox, base_args, state="poweroff"))
    assert not result["failed"] and result["changed"], result
    assert vbox.subcommands().count("controlvm") == 3  # two refused, then done
    assert vbox.vm("lab")["state"] == "poweroff"


def test_lock_that_does_not_go_away_fails_with_virtualboxs_message(vbox, base_args, run_module, running_vm):
    vbox.inject(lock_failures=10)
    result = run_module(vbox_vm, vm_args(vbox, base_args, state="poweroff", retries=2))
    assert result["failed"]
    assert "is already locked for a session (or being unlocked)" in result["msg"]
    assert result["attempts"] == 3
    assert result["code"] == "VBOX_E_INVALID_OBJECT_STATE"


def test_missing_vboxmanage_is_explained(vbox, base_args, run_module, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_module(vbox_vm, vm_args(vbox, base_args))
    assert result["failed"]
    assert result["msg"].startswith("VBoxManage was not found on PATH")


def test_internal_networks_on_adapters_two_and_up(vbox, base_args, run_module):
    args = vm_args(vbox, base_args, state="poweroff", disk=None, internal_networks=["virtlab-pn1", "virtlab-pn2"])
    created = run_module(vbox_vm, args)
    assert not created["failed"] and created["changed"], created
    assert created["vm"]["internal_networks"] == {"2": "virtlab-pn1", "3": "virtlab-pn2"}
    macs = created["vm"]["macs"]  # what provision_virtualbox matches the guest's interfaces by
    assert sorted(macs) == ["1", "2", "3"] and len(set(macs.values())) == 3
    assert all(mac.startswith("08:00:27:") for mac in macs.values())
    assert run_module(vbox_vm, args)["changed"] is False
    fewer = run_module(vbox_vm, dict(args, internal_networks=["virtlab-pn3"]), diff=True)
    assert fewer["actions"] == ["changed internal_networks"]
    assert ["modifyvm", "lab", "--nic2", "intnet", "--intnet2", "virtlab-pn3", "--nic3", "none"] in vbox.calls()
    assert fewer["diff"]["after"]["internal_networks"] == ["virtlab-pn3"]
    assert fewer["vm"]["nics"] == {"1": "nat", "2": "intnet"}
