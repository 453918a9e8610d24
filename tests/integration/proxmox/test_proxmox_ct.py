# -*- coding: utf-8 -*-
"""proxmox_ct through proxmoxer against the HTTPS PVE API double."""

import pytest

from ansible_collections.virtlab.core.plugins.modules import proxmox_ct

HWADDR = "BC:24:11:AA:BB:CC"


@pytest.fixture
def running_ct(pve, run_module):
    result = run_module(proxmox_ct, pve.ct_args(state="started"))
    assert result["failed"] is False, result
    pve.double.requests.clear()
    return result


def net0(pve, vmid=100):
    return dict(item.split("=", 1) for item in pve.double.cts[vmid]["config"]["net0"].split(","))


def test_create_started_ct_with_dhcp_on_the_bridge(pve, run_module):
    result = run_module(proxmox_ct, pve.ct_args(state="started"), diff=True)

    assert result["failed"] is False, result
    assert result["changed"] is True
    assert result["actions"] == ["create CT 100 on pve1", "start"]
    ct = pve.double.cts[100]
    assert (ct["node"], ct["status"]) == ("pve1", "running")
    assert net0(pve)["bridge"] == "vmbr0" and net0(pve)["ip"] == "dhcp"
    assert ct["config"]["rootfs"] == "local-lvm:vm-100-disk-0,size=8G"
    assert ct["config"]["unprivileged"] == 1 and "lock" not in ct["config"]
    assert result["ct"]["interfaces"][0]["hwaddr"] == net0(pve)["hwaddr"]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["status"] == "running"


def test_second_run_is_unchanged_and_sends_no_write(pve, run_module, running_ct):
    result = run_module(proxmox_ct, pve.ct_args(state="started"), diff=True)

    assert result["failed"] is False, result
    assert result["changed"] is False
    assert result["actions"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert pve.double.writes() == []


def test_new_vmid_comes_from_the_cluster_and_hostname_finds_it_again(pve, run_module):
    pve.double.add_qemu(100, "pve1", "router")
    args = pve.ct_args(vmid=None, state="present")

    created = run_module(proxmox_ct, args)
    again = run_module(proxmox_ct, args)

    assert created["ct"]["vmid"] == 101
    assert again["changed"] is False and again["ct"]["vmid"] == 101


def test_check_mode_create_reports_change_and_sends_no_write(pve, run_module):
    result = run_module(proxmox_ct, pve.ct_args(state="started"), check_mode=True, diff=True)

    assert result["failed"] is False, result
    assert result["changed"] is True
    assert result["diff"]["after"]["hostname"] == "calc-cs"
    assert result["diff"]["after"]["status"] == "running"
    assert pve.double.cts == {}
    assert pve.double.writes() == []


def test_generated_hwaddr_and_property_order_are_not_a_change(pve, run_module):
    pve.double.add_ct(100, "pve1", "calc-cs", status="running", unprivileged=1, cores=1,
                      net0="bridge=vmbr0,type=veth,ip=dhcp,hwaddr=%s,name=eth0" % HWADDR.lower(),
                      rootfs="local-lvm:vm-100-disk-0,size=8192M")

    result = run_module(proxmox_ct, pve.ct_args(state="started"))

    assert result["failed"] is False, result
    assert result["changed"] is False
    assert pve.double.writes() == []


def test_change_in_check_mode_shows_the_diff_and_changes_nothing(pve, run_module, running_ct):
    args = pve.ct_args(state="started", memory=1024,
                       interfaces=[dict(bridge="vmbr0", ip="192.0.2.10/24", gw="192.0.2.1")])

    result = run_module(proxmox_ct, args, check_mode=True, diff=True)

    assert result["changed"] is True
    assert result["actions"] == ["update memory, net0"]
    assert result["diff"]["before"]["memory"] == 512
    assert result["diff"]["after"]["memory"] == 1024
    assert result["diff"]["after"]["interfaces"][0]["ip"] == "192.0.2.10/24"
    assert pve.double.cts[100]["config"]["memory"] == 512
    assert pve.double.writes() == []


def test_change_updates_config_keeps_the_mac_and_then_is_stable(pve, run_module, running_ct):
    mac = net0(pve)["hwaddr"]
    args = pve.ct_args(state="started", memory=1024, cores=2,
                       interfaces=[dict(bridge="vmbr0", ip="192.0.2.10/24", gw="192.0.2.1")])

    changed = run_module(proxmox_ct, args, diff=True)
    again = run_module(proxmox_ct, args)

    assert changed["changed"] is True, changed
    config = pve.double.cts[100]["config"]
    assert (config["memory"], config["cores"]) == (1024, 2)
    assert net0(pve)["ip"] == "192.0.2.10/24" and net0(pve)["gw"] == "192.0.2.1"
    assert net0(pve)["hwaddr"] == mac  # a new MAC would give the CT a new DHCP lease
    assert changed["diff"]["after"] == changed["ct"]
    assert again["changed"] is False


def test_interfaces_beyond_the_list_are_removed(pve, run_module):
    pve.double.add_ct(100, "pve1", "calc-cs", unprivileged=1, cores=1,
                      net0="name=eth0,bridge=vmbr0,hwaddr=%s,ip=dhcp,type=veth" % HWADDR,
                      net1="name=eth1,bridge=vmbr1,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth")

    result = run_module(proxmox_ct, pve.ct_args())

    assert result["actions"] == ["update delete net1"]
    assert "net1" not in pve.double.cts[100]["config"]
    assert run_module(proxmox_ct, pve.ct_args())["changed"] is False


def test_power_states(pve, run_module, running_ct):
    stopped = run_module(proxmox_ct, pve.ct_args(state="stopped"))
    assert stopped["actions"] == ["shutdown"]
    assert pve.double.cts[100]["status"] == "stopped"
    assert run_module(proxmox_ct, pve.ct_args(state="stopped"))["changed"] is False

    present = run_module(proxmox_ct, pve.ct_args(state="present"))
    assert present["changed"] is False and pve.double.cts[100]["status"] == "stopped"

    started = run_module(proxmox_ct, pve.ct_args(state="started"))
    assert started["actions"] == ["start"] and pve.double.cts[100]["status"] == "running"


def test_restarted_always_reboots_and_says_so_in_check_mode(pve, run_module, running_ct):
    checked = run_module(proxmox_ct, pve.ct_args(state="restarted"), check_mode=True)
    assert checked["changed"] is True and pve.double.writes() == []

    result = run_module(proxmox_ct, pve.ct_args(state="restarted"))
    assert result["actions"] == ["reboot"]
    assert any(path.endswith("/status/reboot") for unused_part, path in pve.double.writes())


def test_removing_a_running_ct_fails_and_changes_nothing(pve, run_module, running_ct):
    result = run_module(proxmox_ct, pve.ct_args(state="absent"))

    assert result["failed"] is True
    assert result["msg"] == ("CT 100 is running on pve1: not removing it. Stop it first "
                             "(state=stopped) or set stop_before_remove=true")
    assert 100 in pve.double.cts and pve.double.writes() == []


def test_removing_with_stop_before_remove(pve, run_module, running_ct):
    checked = run_module(proxmox_ct, pve.ct_args(state="absent", stop_before_remove=True),
                         check_mode=True)
    assert checked["changed"] is True and pve.double.writes() == []

    result = run_module(proxmox_ct, pve.ct_args(state="absent", stop_before_remove=True))
    assert result["actions"] == ["stop", "destroy"] and result["ct"] == {}
    assert pve.double.cts == {}
    assert run_module(proxmox_ct, pve.ct_args(state="absent"))["changed"] is False


def test_create_without_template_fails_before_any_write(pve, run_module):
    result = run_module(proxmox_ct, pve.ct_args(ostemplate=None))

    assert result["failed"] is True
    assert result["msg"] == "CT 100 does not exist; creating it needs ostemplate"
    assert pve.double.writes() == []


@pytest.mark.parametrize("options, message", [
    (dict(interfaces=[dict(bridge="vmbr0", ip="192.0.2.10")]),
     "interfaces[0].ip must be dhcp, manual or an IPv4 address with prefix"),
    (dict(interfaces=[dict(bridge="vmbr0", ip="dhcp", gw="192.0.2.1")]),
     "interfaces[0].gw needs a static ip"),
    (dict(memory=8), "memory must be at least 16 (MiB), got 8"),
    (dict(password="abc"), "password must have at least 5 characters"),
    (dict(disk_size="big"), "disk_size: invalid size 'big'"),
    (dict(node="pve9"), "Node 'pve9' is not in the cluster (nodes: pve1, pve2)"),
])
def test_bad_input_is_refused_before_any_write(pve, run_module, options, message):
    result = run_module(proxmox_ct, pve.ct_args(**options))

    assert result["failed"] is True
    assert message in result["msg"]
    assert pve.double.writes() == []


def test_parameter_errors_of_a_400_are_reported(pve, run_module):
    result = run_module(proxmox_ct, pve.ct_args(interfaces=[dict(bridge="vmbr0", tag=5000)]))

    assert result["failed"] is True
    assert result["msg"].startswith("Proxmox API POST /nodes/pve1/lxc failed: "
                                    "400 Parameter verification failed. (net0: ")
    assert "tag: value must have a maximum value of 4094" in result["msg"]
    assert result["status"] == 400 and "net0" in result["errors"]


def test_a_500_reason_phrase_is_reported(pve, run_module, running_ct):
    pve.double.cts[100]["config"]["lock"] = "backup"

    result = run_module(proxmox_ct, pve.ct_args(state="stopped"))

    assert result["failed"] is True
    assert result["msg"] == ("Proxmox API POST /nodes/pve1/lxc/100/status/shutdown failed: "
                             "500 CT is locked (backup)")
    assert result["status"] == 500


def test_unprivileged_cannot_change_on_an_existing_ct(pve, run_module, running_ct):
    result = run_module(proxmox_ct, pve.ct_args(state="started", unprivileged=False))

    assert result["failed"] is True
    assert "CT 100 is unprivileged; unprivileged cannot be changed" in result["msg"]
    assert pve.double.writes() == []


def test_root_disk_grows_and_never_shrinks(pve, run_module, running_ct):
    grown = run_module(proxmox_ct, pve.ct_args(state="started", disk_size="10G"))
    assert grown["actions"] == ["resize rootfs to 10G"]
    assert pve.double.cts[100]["config"]["rootfs"].endswith("size=10G")
    assert run_module(proxmox_ct, pve.ct_args(state="started", disk_size="10240M"))["changed"] is False

    pve.double.requests.clear()
    shrunk = run_module(proxmox_ct, pve.ct_args(state="started", disk_size="4G"))
    assert shrunk["failed"] is True
    assert "a disk cannot be shrunk" in shrunk["msg"]
    assert pve.double.writes() == []


# Migration ------------------------------------------------------------------------------

def test_online_migration_is_refused_with_the_reason(pve, run_module, running_ct):
    result = run_module(proxmox_ct, pve.ct_args(state="started", node="pve2", migration="online"))

    assert result["failed"] is True
    assert "Proxmox VE has no live migration for LXC containers" in result["msg"]
    assert pve.double.writes() == []


def test_offline_migration_of_a_stopped_ct(pve, run_module):
    run_module(proxmox_ct, pve.ct_args(state="stopped"))
    pve.double.requests.clear()

    checked = run_module(proxmox_ct, pve.ct_args(state="stopped", node="pve2"), check_mode=True,
                         diff=True)
    assert checked["changed"] is True and checked["diff"]["after"]["node"] == "pve2"
    assert pve.double.writes() == [] and pve.double.cts[100]["node"] == "pve1"

    moved = run_module(proxmox_ct, pve.ct_args(state="stopped", node="pve2"))
    assert moved["actions"] == ["migrate to pve2 (offline)"]
    assert pve.double.cts[100]["node"] == "pve2" and moved["ct"]["node"] == "pve2"
    assert run_module(proxmox_ct, pve.ct_args(state="stopped", node="pve2"))["changed"] is False


def test_running_ct_needs_restart_mode(pve, run_module, running_ct):
    refused = run_module(proxmox_ct, pve.ct_args(state="started", node="pve2"))
    assert refused["failed"] is True
    assert "CT 100 is running on pve1: moving it to pve2 needs migration=restart" in refused["msg"]
    assert pve.double.writes() == []

    moved = run_module(proxmox_ct, pve.ct_args(state="started", node="pve2", migration="restart"))
    assert moved["actions"] == ["migrate to pve2 (restart mode)"]
    assert (pve.double.cts[100]["node"], pve.double.cts[100]["status"]) == ("pve2", "running")
    again = run_module(proxmox_ct, pve.ct_args(state="started", node="pve2", migration="restart"))
    assert again["changed"] is False


def test_running_ct_with_state_stopped_is_shut_down_then_moved(pve, run_module, running_ct):
    result = run_module(proxmox_ct, pve.ct_args(state="stopped", node="pve2"))

    assert result["actions"] == ["shutdown", "migrate to pve2 (offline)"]
    assert (pve.double.cts[100]["node"], pve.double.cts[100]["status"]) == ("pve2", "stopped")


def test_migration_to_an_offline_node_is_refused(pve, run_module, running_ct):
    pve.double.nodes["pve2"]["status"] = "offline"

    result = run_module(proxmox_ct, pve.ct_args(state="started", node="pve2", migration="restart"))

    assert result["failed"] is True
    assert result["msg"] == "Node pve2 is offline: cannot migrate CT 100 there"
    assert pve.double.writes() == []


# Tasks -----------------------------------------------------------------------------------

def test_failed_task_reports_exit_status_and_log(pve, run_module):
    pve.double.fail_next_task("vzstart", "startup for container '100' failed",
                              log=["lxc-start: 100: ../src/lxc/start.c: failed to spawn"])

    result = run_module(proxmox_ct, pve.ct_args(state="started"))

    assert result["failed"] is True
    assert result["msg"] == "start of CT 100 on pve1 failed: startup for container '100' failed"
    assert result["exitstatus"] == "startup for container '100' failed"
    assert result["task_log"][-2:] == ["lxc-start: 100: ../src/lxc/start.c: failed to spawn",
                                       "TASK ERROR: startup for container '100' failed"]
    assert result["upid"].startswith("UPID:pve1:") and ":vzstart:100:" in result["upid"]


def test_failed_create_task_from_a_missing_template(pve, run_module):
    result = run_module(proxmox_ct, pve.ct_args(ostemplate="local:vztmpl/nothere.tar.zst"))

    assert result["failed"] is True
    assert result["msg"] == ("creation of CT 100 on pve1 failed: unable to create CT 100 - volume "
                             "'local:vztmpl/nothere.tar.zst' does not exist")
    assert pve.double.cts == {}


def test_task_past_its_deadline_is_a_timeout_not_a_failure(pve, run_module):
    pve.double.task_durations["vzcreate"] = 5

    result = run_module(proxmox_ct, pve.ct_args(timeout=1))

    assert result["failed"] is True
    assert result["msg"].startswith("Timed out after 1s waiting for creation of CT 100 on pve1 "
                                    "(task UPID:pve1:")
    assert "exitstatus" not in result


def test_slow_answer_is_reported_against_api_timeout(pve, run_module):
    pve.double.response_delays[("POST", "/nodes/pve1/lxc")] = 2

    result = run_module(proxmox_ct, pve.ct_args(api_timeout=1))

    assert result["failed"] is True
    assert result["msg"].startswith("No answer from https://127.0.0.1:%d within api_timeout=1s"
                                    % pve.port)


def test_vmid_of_a_qemu_vm_is_refused(pve, run_module):
    pve.double.add_qemu(100, "pve1", "router")

    result = run_module(proxmox_ct, pve.ct_args())

    assert result["failed"] is True
    assert result["msg"] == "vmid 100 is a qemu guest on pve1, not an LXC container"
    assert pve.double.writes() == []


def test_ambiguous_hostname_asks_for_vmid(pve, run_module):
    pve.double.add_ct(100, "pve1", "calc-cs")
    pve.double.add_ct(101, "pve2", "calc-cs")

    result = run_module(proxmox_ct, pve.ct_args(vmid=None))

    assert result["failed"] is True
    assert result["msg"] == "2 containers are named 'calc-cs' (vmids 100, 101): give vmid"
