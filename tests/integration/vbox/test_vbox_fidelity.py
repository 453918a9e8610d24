# -*- coding: utf-8 -*-
"""What VirtualBox does beyond the happy path, in the VBoxManage double and through the modules: clonemedium
of a disk held by a running VM ("Failed to lock source media", or VERR_ACCESS_DENIED at OpenMedium where the
VM's process holds the file open), one NAT rule per host port, and an ACPI shutdown that takes its time or
never happens."""

import os
import subprocess
import time

from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import (
    error_kind,
    find_vboxmanage_error,
)
from ansible_collections.virtlab.core.plugins.modules import vbox_medium_clone, vbox_natpf, vbox_vm

SSH = "ssh,tcp,,2222,,22"


def vboxmanage(*argv):
    return subprocess.run(["VBoxManage"] + list(argv), capture_output=True, text=True, timeout=30, check=False)


def kind_of(run):
    error = find_vboxmanage_error(run.returncode, run.stderr)
    return error_kind(error["message"], run.stdout)


# clonemedium ---------------------------------------------------------------------------

def test_clonemedium_of_a_running_vms_disk_fails_to_lock_the_source(vbox, make_vm):
    make_vm("lab", "running", disk=True)

    run = vboxmanage("clonemedium", "disk", vbox.path("lab.vdi"), vbox.path("copy.vdi"))

    assert run.returncode == 1
    assert "VBoxManage: error: Failed to clone medium\n" in run.stderr
    assert "VBoxManage: error: Failed to lock source media '%s'\n" % vbox.path("lab.vdi") in run.stderr
    assert kind_of(run) == "medium_locked" and not os.path.exists(vbox.path("copy.vdi"))


def test_on_a_windows_host_the_open_itself_is_denied(vbox, make_vm):
    make_vm("lab", "running", disk=True)
    vbox.inject(windows_host=True)

    run = vboxmanage("clonemedium", "disk", vbox.path("lab.vdi"), vbox.path("copy.vdi"))

    assert run.returncode == 1
    lines = run.stderr.splitlines()
    assert lines[0] == ("VBoxManage: error: Permission problem accessing the file for the medium '%s' "
                        "(VERR_ACCESS_DENIED)" % vbox.path("lab.vdi"))
    assert lines[1].startswith("VBoxManage: error: Details: code VBOX_E_FILE_ERROR (0x80bb0004), component "
                               "MediumWrap, interface IMedium")
    assert lines[2].startswith('VBoxManage: error: Context: "OpenMedium(')
    assert kind_of(run) == "access_denied"


def test_a_file_held_by_another_program_is_explained(vbox, base_args, run_module, make_vm):
    make_vm("lab", "poweroff", disk=True)
    vbox.inject(open_denied=[vbox.path("lab.vdi")])

    result = run_module(vbox_medium_clone, dict(base_args, source=vbox.path("lab.vdi"), dest=vbox.path("copy.vdi")))

    assert result["failed"] is True
    assert result["msg"].startswith("Cannot clone disk %s: VirtualBox was denied access to the file "
                                    "(VERR_ACCESS_DENIED) because a program holds the file open" % vbox.path("lab.vdi"))
    assert "check the file's owner and permissions" in result["msg"]
    assert "Permission problem accessing the file for the medium" in result["msg"]  # VirtualBox's own words
    assert not os.path.exists(vbox.path("copy.vdi"))


# NAT: one rule per host port -------------------------------------------------------------

def test_double_refuses_a_second_rule_on_the_same_host_port(vbox, make_vm):
    make_vm("lab", "poweroff")
    assert vboxmanage("modifyvm", "lab", "--natpf1", SSH).returncode == 0

    offline = vboxmanage("modifyvm", "lab", "--natpf1", "ssh2,tcp,,2222,,2022")
    assert vboxmanage("modifyvm", "lab", "--natpf1", "dns,udp,,2222,,53").returncode == 0  # another protocol
    assert vboxmanage("modifyvm", "lab", "--natpf1", "local,tcp,127.0.0.1,2222,,22").returncode == 0  # another IP
    vboxmanage("startvm", "lab", "--type", "headless")
    live = vboxmanage("controlvm", "lab", "natpf1", "ssh3,tcp,,2222,,22")

    for run in (offline, live):
        assert run.returncode == 1
        assert run.stderr.startswith("VBoxManage: error: A NAT rule for this host port and this host IP already "
                                     "exists\n")
        assert kind_of(run) == "host_port_taken"
    assert vbox.vm("lab")["nics"]["1"]["rules"] == [SSH, "dns,udp,,2222,,53", "local,tcp,127.0.0.1,2222,,22"]


def test_two_declared_rules_on_one_host_port_are_refused_before_any_call(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")

    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH, "ssh-alt,tcp,,2222,,2022"]))

    assert result["failed"] is True
    assert result["msg"].startswith("NAT rule ssh-alt,tcp,,2222,,2022 cannot be added: host port 2222/tcp on every "
                                    "host address is already forwarded by rule ssh (ssh,tcp,,2222,,22) in the "
                                    "declared rules")
    assert vbox.mutating_calls() == []


def test_a_kept_rule_holding_the_port_is_named_and_nothing_changes(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")
    assert not run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH]))["failed"]
    calls = len(vbox.mutating_calls())

    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=["login,tcp,,2222,,22"], exclusive=False))

    assert result["failed"] is True
    assert "is already forwarded by rule ssh (ssh,tcp,,2222,,22) on adapter 1 of VM 'lab'" in result["msg"]
    assert "remove that rule (exclusive=true removes undeclared rules) or choose another host port" in result["msg"]
    assert len(vbox.mutating_calls()) == calls
    # Exclusive: the old rule goes first, so the port is free for the renamed one.
    renamed = run_module(vbox_natpf, dict(base_args, name="lab", rules=["login,tcp,,2222,,22"]))
    assert renamed["failed"] is False and renamed["rules"] == ["login,tcp,,2222,,22"], renamed


def test_a_port_held_by_a_rule_virtualbox_700_hides_is_explained(vbox, base_args, run_module, make_vm):
    make_vm("lab", "poweroff")
    vbox.command("modifyvm", "lab", "--natpf1", SSH)
    vbox.command("modifyvm", "lab", "--natpf1", "web,tcp,,8080,,80")
    vbox.inject(forwarding_bug_700=True)

    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=["login,tcp,,2222,,22"], exclusive=False))

    assert result["failed"] is True
    assert result["msg"].startswith("NAT rule login,tcp,,2222,,22 cannot be added: host port 2222/tcp on every "
                                    "host address is already forwarded by another rule of adapter 1 of VM 'lab' "
                                    "(one this VirtualBox does not list)")


# ACPI shutdown -------------------------------------------------------------------------

def test_acpi_power_button_returns_at_once_and_the_vm_stops_later(vbox, make_vm):
    make_vm("lab", "running")
    vbox.inject(acpi_shutdown_seconds=0.8)

    assert vboxmanage("controlvm", "lab", "acpipowerbutton").returncode == 0

    assert vbox.vm("lab")["state"] == "running"
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (not seen or seen[-1] != "poweroff"):
        vboxmanage("list", "runningvms")
        seen.append(vbox.vm("lab")["state"])
        time.sleep(0.05)
    assert seen[-1] == "poweroff" and "stopping" in seen


def test_vbox_vm_waits_for_the_acpi_shutdown(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")
    vbox.inject(acpi_shutdown_seconds=0.6)

    begun = time.monotonic()
    result = run_module(vbox_vm, dict(base_args, name="lab", state="poweroff", stop_method="acpi", timeout=10))

    assert result["failed"] is False and result["changed"] is True, result
    assert time.monotonic() - begun >= 0.6
    assert vbox.vm("lab")["state"] == "poweroff"
    assert ["controlvm", "lab", "acpipowerbutton"] in vbox.calls() and ["controlvm", "lab", "poweroff"] \
        not in vbox.calls()


def test_a_guest_that_ignores_acpi_is_reported_against_the_deadline(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")
    vbox.inject(acpi_ignored=True)

    result = run_module(vbox_vm, dict(base_args, name="lab", state="poweroff", stop_method="acpi", timeout=1))

    assert result["failed"] is True
    assert result["msg"].startswith("VM 'lab' did not shut down within 1s of the ACPI power button (it is still "
                                    "running): the guest ignores the button")
    assert "Use stop_method=poweroff" in result["msg"]
    assert vbox.vm("lab")["state"] == "running"
