# -*- coding: utf-8 -*-
"""The double itself answers as Proxmox VE does (checked through proxmoxer and requests),
so the module tests above exercise the real API's behaviour."""

import time

import pytest
import requests
from proxmoxer.core import ResourceException

from ansible_collections.virtlab.core.plugins.module_utils.proxmox.properties import parse_upid


def wait(api, upid):
    node = parse_upid(upid)["node"]
    for unused_part in range(200):
        status = api.nodes(node).tasks(upid).status.get()
        if status["status"] == "stopped":
            return status
        time.sleep(0.02)
    raise AssertionError("task %s never stopped" % upid)


def create(api, vmid=100, node="pve1", **extra):
    return wait(api, api.nodes(node).lxc.post(
        vmid=vmid, ostemplate="local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
        net0="name=eth0,bridge=vmbr0,ip=dhcp", **extra))


def error_of(call, *args, **kwargs):
    with pytest.raises(ResourceException) as caught:
        call(*args, **kwargs)
    return caught.value


def test_reason_phrase_carries_the_message(api):
    create(api)

    exc = error_of(api.nodes("pve1").lxc.post, vmid=100,
                   ostemplate="local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")

    assert exc.status_code == 500
    assert exc.content == "CT 100 already exists on node 'pve1'"
    assert str(exc) == "500 Internal Server Error: CT 100 already exists on node 'pve1'"


def test_parameter_errors_of_a_400(api):
    exc = error_of(api.nodes("pve1").lxc.post, vmid=100)

    assert (exc.status_code, exc.content) == (400, "Parameter verification failed.")
    assert exc.errors == {"ostemplate": "property is missing and it is not optional"}


def test_nextid_is_a_string_and_a_taken_vmid_a_400(api):
    assert api.cluster.nextid.get() == "100"
    create(api)
    assert api.cluster.nextid.get() == "101"

    exc = error_of(api.cluster.nextid.get, vmid=100)
    assert exc.errors == {"vmid": "VM 100 already exists"}


def test_tasks_take_time_and_have_pve_upids(pve, api):
    pve.double.task_durations["vzcreate"] = 0.3
    upid = api.nodes("pve1").lxc.post(
        vmid=100, ostemplate="local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")

    parts = parse_upid(upid)
    assert (parts["node"], parts["type"], parts["id"], parts["user"]) == (
        "pve1", "vzcreate", "100", "root@pam!virtlab")
    first = api.nodes("pve1").tasks(upid).status.get()
    assert first["status"] == "running" and "exitstatus" not in first
    assert api.nodes("pve1").lxc(100).status.current.get()["lock"] == "create"
    assert wait(api, upid)["exitstatus"] == "OK"
    assert api.nodes("pve1").tasks(upid).log.get()[-1] == {"n": 3, "t": "TASK OK"}


def test_ct_on_another_node_has_no_config_file_there(api):
    create(api)

    exc = error_of(api.nodes("pve2").lxc(100).config.get)

    assert exc.content == "Configuration file 'nodes/pve2/lxc/100.conf' does not exist"


def test_power_errors(api):
    create(api)
    exc = error_of(api.nodes("pve1").lxc(100).status.stop.post)
    assert (exc.status_code, exc.content) == (500, "CT 100 not running")
    wait(api, api.nodes("pve1").lxc(100).status.start.post())
    exc = error_of(api.nodes("pve1").lxc(100).status.start.post)
    assert exc.content == "CT 100 already running"
    exc = error_of(api.nodes("pve1").lxc(100).delete)
    assert exc.content == "unable to destroy CT 100 - container is running"


def test_updating_net_without_hwaddr_generates_a_new_one(api):
    create(api)
    before = api.nodes("pve1").lxc(100).config.get()["net0"]

    api.nodes("pve1").lxc(100).config.put(net0="name=eth0,bridge=vmbr0,ip=dhcp")

    after = api.nodes("pve1").lxc(100).config.get()["net0"]
    assert after.startswith("name=eth0,bridge=vmbr0,hwaddr=BC:24:11:")
    assert after != before
    exc = error_of(api.nodes("pve1").lxc(100).config.put)
    assert (exc.status_code, exc.content) == (500, "no options specified")


def test_migration_rules(api):
    create(api)
    exc = error_of(api.nodes("pve1").lxc(100).migrate.post, target="pve1")
    assert exc.errors == {"target": "target is local node."}

    wait(api, api.nodes("pve1").lxc(100).status.start.post())
    exc = error_of(api.nodes("pve1").lxc(100).migrate.post, target="pve2")
    assert exc.content == "can't migrate running container without --online or --restart"

    online = wait(api, api.nodes("pve1").lxc(100).migrate.post(target="pve2", online=1))
    assert online["exitstatus"] == "lxc live migration is currently not implemented"

    wait(api, api.nodes("pve1").lxc(100).migrate.post(target="pve2", restart=1))
    moved = [item for item in api.cluster.resources.get(type="vm") if item["vmid"] == 100]
    assert moved[0]["node"] == "pve2" and moved[0]["status"] == "running"


def test_snapshot_rules(api):
    create(api)
    snapshots = api.nodes("pve1").lxc(100).snapshot
    exc = error_of(snapshots.post, snapname="current")
    assert (exc.status_code, exc.content) == (500, "invalid snapshot name 'current'")
    exc = error_of(snapshots.post, snapname="9lives")
    assert exc.status_code == 400 and "invalid configuration ID '9lives'" in exc.errors["snapname"]

    assert wait(api, snapshots.post(snapname="base"))["exitstatus"] == "OK"
    duplicate = wait(api, snapshots.post(snapname="base"))
    assert duplicate["exitstatus"] == "snapshot name 'base' already used"
    names = [item["name"] for item in snapshots.get()]
    assert sorted(names) == ["base", "current"]


def test_auth_errors(pve):
    base = "https://127.0.0.1:%d/api2/json" % pve.port
    no_ticket = requests.get(base + "/nodes", verify=pve.ca_path)
    assert (no_ticket.status_code, no_ticket.reason) == (401, "No ticket")

    login = requests.post(base + "/access/ticket", verify=pve.ca_path,
                          data={"username": "root@pam", "password": "lab-password"}).json()["data"]
    cookies = {"PVEAuthCookie": login["ticket"]}
    assert login["ticket"].startswith("PVE:root@pam:")
    reading = requests.get(base + "/nodes", cookies=cookies, verify=pve.ca_path)
    assert [node["node"] for node in reading.json()["data"]] == ["pve1", "pve2"]
    writing = requests.post(base + "/nodes/pve1/lxc", cookies=cookies, verify=pve.ca_path,
                            data={"vmid": 100})
    assert (writing.status_code, writing.reason) == (401, "Permission denied - invalid csrf token")

    unknown = requests.get(base + "/nodes/pve1/qemu", cookies=cookies, verify=pve.ca_path)
    assert (unknown.status_code, unknown.reason) == (501, "Method 'GET /nodes/pve1/qemu' not implemented")
