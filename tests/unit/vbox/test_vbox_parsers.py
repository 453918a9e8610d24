# -*- coding: utf-8 -*-
"""The pure VBoxManage output parsers of module_utils/vbox.py."""

import pytest

from ansible_collections.virtlab.core.plugins.module_utils.vbox.machinereadable import (
    controller_view,
    error_kind,
    find_vboxmanage_error,
    host_path,
    is_transient_lock,
    normalise_forwarding_rule,
    parse_forwarding_rule,
    parse_guest_property,
    parse_machinereadable,
    parse_hdds,
    parse_ostypes,
    parse_snapshot_list,
    parse_vm_info,
)

# Shaped like VirtualBox 7.0's output: a bare "Encryption:" line, quoted keys, unquoted numbers,
# two NAT adapters whose Forwarding(i) indexes both restart at 0, CRLF from VBoxManage.exe.
SHOWVMINFO = "\r\n".join([
    'name="lab vm"',
    "Encryption:     disabled",
    'groups="/"',
    'ostype="Ubuntu (64-bit)"',
    'UUID="0b6d2c1e-1111-2222-3333-444455556666"',
    'CfgFile="C:\\Users\\lab\\VirtualBox VMs\\lab vm\\lab vm.vbox"',
    "memory=2048",
    "cpus=2",
    'VMState="running"',
    'description="first line',
    'second line"',
    'storagecontrollername0="SATA"',
    '"SATA-0-0"="/vms/lab.vdi"',
    '"SATA-ImageUUID-0-0"="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"',
    '"SATA-1-0"="none"',
    'natnet1="nat"',
    'macaddress1="080027A1B2C3"',
    'nic1="nat"',
    'Forwarding(0)="ssh,tcp,,2222,,22"',
    'Forwarding(1)="web,TCP,127.0.0.1,8080,,80"',
    'nic2="nat"',
    'Forwarding(0)="dns,udp,,5353,,53"',
    'nic3="none"',
    'SnapshotName="base"',
    'CurrentSnapshotName="base"',
    "",
])


def test_machinereadable_values_keep_their_types_and_quirks():
    info = parse_machinereadable(SHOWVMINFO)
    assert info["name"] == "lab vm"
    assert info["memory"] == 2048 and info["cpus"] == 2
    assert info["Encryption"] == "disabled"
    assert info["SATA-0-0"] == "/vms/lab.vdi"
    assert info["CfgFile"] == "C:\\Users\\lab\\VirtualBox VMs\\lab vm\\lab vm.vbox"
    assert info["description"] == "first line\nsecond line"


def test_escaped_quotes_and_backslashes_of_virtualbox_7():
    info = parse_machinereadable('description="say \\"hi\\" in C:\\\\temp"\nmemory=64\n')
    assert info["description"] == 'say "hi" in C:\\temp'
    assert info["memory"] == 64


def test_vm_info_groups_forwarding_by_the_nic_printed_before():
    vm = parse_vm_info(SHOWVMINFO)
    assert vm["nics"] == {"1": "nat", "2": "nat"}
    assert vm["macs"] == {"1": "08:00:27:A1:B2:C3"}  # as the guest names it, for matching its interfaces
    assert vm["forwarding"] == {"1": ["ssh,tcp,,2222,,22", "web,tcp,127.0.0.1,8080,,80"],
                                "2": ["dns,udp,,5353,,53"]}
    assert vm["disks"] == [{"controller": "SATA", "port": 0, "device": 0, "path": "/vms/lab.vdi",
                            "uuid": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}]
    assert (vm["state"], vm["ostype"], vm["current_snapshot"]) == ("running", "Ubuntu (64-bit)", "base")


def test_forwarding_rule_is_normalised():
    assert parse_forwarding_rule(" ssh , TCP ,, 02222 ,, 22 ") == {
        "name": "ssh", "protocol": "tcp", "host_ip": "", "host_port": 2222, "guest_ip": "", "guest_port": 22}
    assert normalise_forwarding_rule("ssh,TCP,,02222,,22") == "ssh,tcp,,2222,,22"


@pytest.mark.parametrize("rule, reason", [
    ("ssh,tcp,,2222,22", "expected 6 comma-separated fields"),
    ("ssh,sctp,,2222,,22", "protocol must be tcp or udp"),
    ("ssh,tcp,,0,,22", "host port must be a number from 1 to 65535"),
    ("ssh,tcp,,2222,,70000", "guest port must be a number from 1 to 65535"),
    (",tcp,,2222,,22", "the rule needs a name"),
    (42, "a rule is a string"),
])
def test_forwarding_rule_errors_say_what_is_wrong(rule, reason):
    with pytest.raises(ValueError) as error:
        parse_forwarding_rule(rule)
    assert str(error.value).startswith(reason)


def test_snapshot_tree_parents_and_current():
    listing = parse_snapshot_list("\n".join([
        'SnapshotName="base"', 'SnapshotUUID="u1"',
        'SnapshotName-1="a"', 'SnapshotUUID-1="u2"', 'SnapshotDescription-1="after install"',
        'SnapshotName-1-1="b"', 'SnapshotUUID-1-1="u3"',
        'SnapshotName-2="c"', 'SnapshotUUID-2="u4"',
        'CurrentSnapshotName="b"', 'CurrentSnapshotUUID="u3"', 'CurrentSnapshotNode="SnapshotName-1-1"',
    ]))
    assert [(s["name"], s["parent"]) for s in listing["snapshots"]] == [
        ("base", None), ("a", "base"), ("b", "a"), ("c", "base")]
    assert listing["snapshots"][1]["description"] == "after install"
    assert listing["current"] == "b"
    assert parse_snapshot_list("") == {"snapshots": [], "current": None}


def test_ostypes_map_ids_to_the_description_showvminfo_prints():
    text = ("ID:          Ubuntu_64\nDescription: Ubuntu (64-bit)\nFamily ID:   Linux\n\n"
            "ID:          Debian_64\nDescription: Debian (64-bit)\nFamily ID:   Linux\n")
    assert parse_ostypes(text) == {"Ubuntu_64": "Ubuntu (64-bit)", "Debian_64": "Debian (64-bit)"}


def test_guest_property():
    assert parse_guest_property("Value: 10.0.2.15\n") == "10.0.2.15"
    assert parse_guest_property("No value set!\n") is None


def test_an_error_line_fails_even_with_exit_code_zero():
    stderr = ("0%...\nVBoxManage: error: Failed to clone medium\n"
              "VBoxManage: error: Medium '/vms/lab.vdi' is locked for writing by another task\n"
              "VBoxManage: error: Details: code VBOX_E_INVALID_OBJECT_STATE (0x80bb0007), component MediumWrap\n"
              'VBoxManage: error: Context: "handleCloneMedium" at line 1087 of file VBoxManageDisk.cpp\n')
    assert find_vboxmanage_error(0, stderr) == {
        "message": "Failed to clone medium Medium '/vms/lab.vdi' is locked for writing by another task",
        "code": "VBOX_E_INVALID_OBJECT_STATE"}


def test_windows_prefix_and_failures_without_error_lines():
    assert find_vboxmanage_error(1, "VBoxManage.exe: error: Could not find a registered machine named 'x'\r\n"
                                    "VBoxManage.exe: error: Details: code VBOX_E_OBJECT_NOT_FOUND (0x80bb0001)\r\n") \
        == {"message": "Could not find a registered machine named 'x'", "code": "VBOX_E_OBJECT_NOT_FOUND"}
    assert find_vboxmanage_error(1, "0%...10%...\nsomething odd\n") == {"message": "something odd", "code": None}
    assert find_vboxmanage_error(1, "") == {"message": "exit code 1", "code": None}
    assert find_vboxmanage_error(0, "0%...10%...20%...100%\n") is None


def test_only_session_locks_are_transient():
    assert is_transient_lock("VBoxManage: error: The machine 'x' is already locked for a session (or being unlocked)")
    assert not is_transient_lock("VBoxManage: error: Medium '/a.vdi' is locked for writing by another task")
    assert not is_transient_lock(None)


def test_windows_paths_for_vboxmanage_exe_from_wsl():
    assert host_path("C:\\VMs\\lab.vdi") == "C:\\VMs\\lab.vdi"
    assert controller_view("C:\\VMs\\lab.vdi") == "/mnt/c/VMs/lab.vdi"
    assert controller_view("d:/VMs/lab.vdi") == "/mnt/d/VMs/lab.vdi"
    assert host_path("/vms/../vms/lab.vdi") == "/vms/lab.vdi"
    assert controller_view("/vms/lab.vdi") == "/vms/lab.vdi"


@pytest.mark.parametrize("message, stdout, kind", [
    ("A NAT rule of this name already exists", "", "rule_exists"),
    ("Medium '/vms/lab.vdi' is locked for writing by another task", "", "medium_locked"),
    ("exit code 1", "This machine does not have any snapshots\n", "no_snapshots"),
    ("Could not find a registered machine named 'lab'", "", None),
])
def test_error_kind_says_what_a_failure_means_for_the_modules_that_handle_it(message, stdout, kind):
    assert error_kind(message, stdout) == kind


def test_hdds_the_media_registry_with_the_vms_that_use_each_disk():
    text = "\r\n".join([
        "UUID:           1b2c3d4e-0000-1111-2222-333344445555", "Parent UUID:    base", "State:          created",
        "Type:           normal (base)", "Location:       /srv/images/base.vdi", "Storage format: VDI",
        "Capacity:       1024 MBytes", "Encryption:     disabled", "",
        "UUID:           5e6f7a8b-0000-1111-2222-333344445555", "Parent UUID:    base",
        "State:          inaccessible", "Location:       /srv/vms/lab vm.vdi", "Storage format: VDI",
        "In use by VMs:  lab vm (UUID: 0b6d2c1e-1111-2222-3333-444455556666), "
        "b (UUID: 0b6d2c1e-1111-2222-3333-444455556667)",
        ""])

    assert parse_hdds(text) == {
        "/srv/images/base.vdi": {"uuid": "1b2c3d4e-0000-1111-2222-333344445555", "state": "created",
                                 "format": "VDI", "in_use": []},
        "/srv/vms/lab vm.vdi": {"uuid": "5e6f7a8b-0000-1111-2222-333344445555", "state": "inaccessible",
                                "format": "VDI", "in_use": ["lab vm", "b"]}}
    assert parse_hdds("") == {}
