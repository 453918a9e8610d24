# -*- coding: utf-8 -*-
"""The session's real guests, built once and shared (guests under emulation take minutes to boot):

- ``lab``: the calculator lab from ``site.yml`` (five servers) and, at the same time, objective 8 from
  ``playbooks/objective8_openstack.yml`` (its VM with a floating IP, snapshotted, resized to m1.medium);
  ``playbooks/destroy.yml`` removes both at the end of the session (asserted, and run twice: idempotent).
- ``objective8_vm``: objective 8's VM once it answers SSH again after its resize; the data-plane tests log into it.
- ``snapshot_guest``: a server booted from objective 8's snapshot, without a floating IP: the one-way ping and
  the boot from the snapshot, reached through ``objective8_vm``.

conftest.py imports these fixtures, so every test file of the session shares the same guests.
"""

import calendar
import json
import os
import subprocess
import tempfile
import time

import pytest

from conftest import DATA_PLANE, GUEST_IMAGE, KEY_PAIR, REPO, SSH_KEY
from guests import (GUEST_FLAVOR, console_tail, fixed_ip_of, floating_ip_of, guest_rss_mib,
                    mem_available_mib, report, ssh, wait_active, wait_ssh, wait_until)
from test_playbooks import failures, playbook, playbook_command, recap

PREFIX = "vt-lab-"
O8_PREFIX = "vt-o8g-"
SITE = os.path.join(REPO, "site.yml")
DESTROY = os.path.join(REPO, "playbooks", "destroy.yml")
OBJECTIVE8 = os.path.join(REPO, "playbooks", "objective8_openstack.yml")
# The inventory's own address plan (group_vars/all/topology_address_plan.yml): lab 100 of 10.77.0.0/16.
LAB_BLOCK = "10.177.0.0/16"
OPERATIONS = {"sum": ("10.177.3.11", 50001), "sub": ("10.177.3.12", 50002),
              "mul": ("10.177.3.13", 50003), "div": ("10.177.3.14", 50004)}
SERVERS = ["cs"] + sorted(OPERATIONS)


def lab_vars(state_file):
    """The extra variables of every run against the session's lab (site.yml, objective 8, destroy.yml)."""
    return dict(virtlab_openstack_prefix=PREFIX, virtlab_openstack_state_file=state_file,
                virtlab_openstack_key_name=KEY_PAIR, ansible_ssh_private_key_file=SSH_KEY,
                virtlab_openstack_image=GUEST_IMAGE, virtlab_openstack_flavor=GUEST_FLAVOR,
                virtlab_openstack_bigger_flavor="m1.medium",
                objective8_prefix=O8_PREFIX, objective8_cidr="10.97.0.0/24",
                # Six guests booting under emulation next to the API tests, on 2 cores: the first SSH login may
                # come 15 minutes after the create (the role's default wait is 10).
                provision_openstack_ssh_timeout=1500)


def lab_resources(sdk, floating_ips=()):
    """Every resource of the lab's and objective 8's prefixes (and the given floating IPs) left, by kind."""
    net = sdk.network

    def ours(name):
        return bool(name) and name.startswith((PREFIX, O8_PREFIX))
    left = {
        "servers": [s.name for s in sdk.compute.servers() if ours(s.name)],
        "networks": [n.name for n in net.networks() if ours(n.name)],
        "routers": [r.name for r in net.routers() if ours(r.name)],
        "security groups": [g.name for g in net.security_groups() if ours(g.name)],
        "images": [i.name for i in sdk.image.images() if ours(i.name)],
        "floating IPs": [ip.floating_ip_address for ip in net.ips() if ip.floating_ip_address in floating_ips],
    }
    return dict((kind, names) for kind, names in left.items() if names)


def boot_figures(sdk, state):
    """{server: seconds from `server create` to its sshd listening}, from the guests' own clocks.

    Nova's created_at is the create call (this machine's clock); the guest tells how long ago its sshd
    started (boot-time clock), so no polling loads the guests and no guest wall clock is trusted."""
    figures = {}
    for host in SERVERS:
        server = sdk.compute.find_server(PREFIX + host)
        created = calendar.timegm(time.strptime(server.created_at, "%Y-%m-%dT%H:%M:%SZ"))
        jump = state["hosts"]["cs"] if host != "cs" else None
        before = time.time()
        out = ssh(state["hosts"][host], "cut -d' ' -f1 /proc/uptime; "
                                        "systemctl show -p ActiveEnterTimestampMonotonic --value ssh",
                  jump=jump, timeout=90, check=True).stdout.split()
        now = (before + time.time()) / 2
        uptime, sshd_at = float(out[0]), int(out[1]) / 1e6
        figures[host] = now - (uptime - sshd_at) - created if sshd_at else None
    return figures


def start_playbook(path, *extra, **extra_vars):
    """Start a playbook in the background; returns (process, its output file)."""
    output = tempfile.TemporaryFile(mode="w+")
    args, env = playbook_command(path, *extra, **extra_vars)
    return subprocess.Popen(args, env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT,
                            universal_newlines=True), output


def finish_playbooks(runs, started, timeout):
    """{name: (output, seconds from started to its end)} of background playbooks; each must have succeeded."""
    ended = {}
    deadline = time.monotonic() + timeout
    while len(ended) < len(runs) and time.monotonic() < deadline:
        for name, (proc, unused_output) in runs.items():
            if name not in ended and proc.poll() is not None:
                ended[name] = time.monotonic() - started
        time.sleep(1)
    results = {}
    for name, (proc, output) in runs.items():
        assert name in ended, "%s still running after %ss" % (name, timeout)
        output.seek(0)
        text = output.read()
        assert proc.returncode == 0, "%s failed:\n%s%s" % (name, failures(text), text[-6000:])
        results[name] = (text, ended[name])
    return results


@pytest.fixture(scope="session", autouse=True)
def lab_build_first(request):
    """Start ``lab_build`` before the first test when the session has tests of the real guests (none: nothing
    boots, so that one API test file runs alone in seconds). Returns the build, or None."""
    if any("lab" in item.fixturenames for item in request.session.items):
        return request.getfixturevalue("lab_build")
    return None


@pytest.fixture(scope="session")
def lab_build(control_plane, sdk, tmp_path_factory):
    """The session's first step: the lab's build starts in the background, and the tests that do not need it
    (the API tests, on the fake compute host) run meanwhile; the tests of the lab come last (conftest orders
    them). site.yml (objective 8 skipped) builds the calculator, objective8_openstack.yml objective 8 alongside:
    its VM's boot, snapshot and resize overlap the five servers' boots. Nothing starts when the data plane is off.

    Started after ``sdk``, which empties the test project first."""
    if not DATA_PLANE:
        yield None
        return
    state_file = str(tmp_path_factory.mktemp("openstack-lab") / "lab.json")
    extra = lab_vars(state_file)
    # The machine routes the lab's block onto the external network, as a school network would: probes of the
    # operation services' addresses stay on this machine (and find nobody there) instead of the default route.
    subprocess.run(["ip", "route", "replace", LAB_BLOCK, "dev", "br-ex"], check=True)
    build = {"extra": extra, "state_file": state_file, "memory_before": mem_available_mib(),
             "started": time.monotonic(), "state": {"hosts": {}},
             "runs": {"site.yml": start_playbook(SITE, "--skip-tags", "objective8", **extra),
                      "objective8_openstack.yml": start_playbook(OBJECTIVE8, **extra)}}
    try:
        yield build
    finally:
        for run in build["runs"].values():
            proc, output = run
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            output.close()
        subprocess.run(["ip", "route", "del", LAB_BLOCK, "dev", "br-ex"], check=False)
        if "snapshot_server" in build:   # not the lab's: destroy.yml would find its port on objective 8's network
            sdk.compute.delete_server(build["snapshot_server"]["server"], ignore_missing=True)
            sdk.compute.wait_for_delete(build["snapshot_server"]["server"], wait=180)
        removed = playbook(DESTROY, **extra)
        again = playbook(DESTROY, **extra)
        left = lab_resources(sdk, list(build["state"]["hosts"].values()))
        assert left == {}, left
        assert not os.path.exists(state_file)
        assert all(c["failed"] == 0 for c in recap(removed).values()), removed[-4000:]
        assert all(c["changed"] == 0 for c in recap(again).values()), again[-4000:]


@pytest.fixture(scope="session")
def lab(sdk, data_plane, lab_build):
    """The lab and objective 8 once both playbooks have ended (they must have succeeded); ``lab_build``'s
    finaliser removes both with destroy.yml (asserted, and run twice: idempotent). The second run of the lab's
    tests is the whole site.yml, objective 8 included."""
    results = finish_playbooks(lab_build["runs"], lab_build["started"], timeout=1500)
    (output, elapsed), (objective8_output, objective8_elapsed) = \
        results["site.yml"], results["objective8_openstack.yml"]
    with open(lab_build["state_file"]) as handle:
        lab_build["state"] = state = json.load(handle)
    report("calculator lab (5 guests) from site.yml: %.0fs from nothing to the reachability matrix checked "
           "(objective 8 alongside: %.0fs; the API tests ran meanwhile); guests' QEMU resident memory %s MiB; "
           "machine's available memory %d -> %d MiB"
           % (elapsed, objective8_elapsed, sum(guest_rss_mib().values()), lab_build["memory_before"],
              mem_available_mib()))
    try:
        figures = boot_figures(sdk, state)
        report("five guests at once (the lab's, objective 8's VM booting too): server create -> sshd listening %s"
               % ", ".join("%s %.0fs" % (host, figures[host]) if figures[host] is not None else host + " ?"
                           for host in SERVERS))
    except AssertionError as exc:   # a figure, not a check of the lab: the tests below check the servers
        report("five guests at once: no figure (%s)" % str(exc).splitlines()[0])
    lab_build["snapshot_server"] = create_snapshot_server(sdk)
    return {"output": output, "objective8": objective8_output, "extra": lab_build["extra"], "state": state,
            "fip": state["hosts"]["cs"], "snapshot_server": lab_build["snapshot_server"]}


def lab_servers_created(sdk, build):
    """Wait until the background build has asked Nova for all its servers (or ended): a test that lowers the
    project's quota for a moment must not refuse one of them."""
    if build is None:
        return
    names = set([PREFIX + host for host in SERVERS] + [O8_PREFIX + "vm"])
    wait_until("the lab's servers created", lambda: names <= set(s.name for s in sdk.compute.servers()) or any(
        proc.poll() is not None and proc.returncode != 0 for proc, unused in build["runs"].values()), timeout=900)


def create_snapshot_server(sdk):
    """The create call of a server from objective 8's snapshot (no floating IP, objective 8's network): it boots
    while the calculator lab's tests run; snapshot_guest waits for it."""
    [snapshot] = list(sdk.image.images(name=O8_PREFIX + "vm-snapshot"))
    before = mem_available_mib()
    started = time.monotonic()
    server = sdk.compute.create_server(
        name=O8_PREFIX + "from-snapshot", image_id=snapshot.id, key_name=KEY_PAIR,
        flavor_id=sdk.compute.find_flavor(GUEST_FLAVOR).id,
        networks=[{"uuid": sdk.network.find_network(O8_PREFIX + "net").id}],
        security_groups=[{"name": O8_PREFIX + "sg"}])
    return {"server": server, "snapshot": snapshot, "started": started, "memory_before": before}


@pytest.fixture(scope="session")
def objective8_vm(sdk, lab):
    """Objective 8's VM, SSH answering on its floating IP again after the resize's reboot."""
    server = sdk.compute.get_server(sdk.compute.find_server(O8_PREFIX + "vm").id)
    fip = floating_ip_of(sdk, server)
    started = time.monotonic()
    try:
        wait_ssh(fip)
    except AssertionError as exc:
        raise AssertionError("%s\nconsole:\n%s" % (exc, console_tail(sdk, server)))
    report("objective 8's VM: SSH on its floating IP %s %.0fs after both playbooks had ended"
           % (fip, time.monotonic() - started))
    return {"server": server, "fip": fip}


@pytest.fixture(scope="session")
def snapshot_guest(sdk, lab, objective8_vm):
    """The server from objective 8's snapshot (created by ``lab``) once ACTIVE and answering SSH through objective
    8's VM."""
    snapshot_server = lab["snapshot_server"]
    started = snapshot_server["started"]
    server = wait_active(sdk, snapshot_server["server"].id)
    active = time.monotonic() - started
    fixed = fixed_ip_of(server)
    try:
        wait_until("SSH to %s through %s" % (fixed, objective8_vm["fip"]),
                   lambda: ssh(fixed, "true", jump=objective8_vm["fip"], timeout=60).returncode == 0,
                   timeout=420, interval=2)
    except AssertionError as exc:
        raise AssertionError("%s\nconsole:\n%s" % (exc, console_tail(sdk, server)))
    report("one guest (from the snapshot, booting while the calculator lab's tests ran): server "
           "create -> ACTIVE %.0fs, -> SSH (through objective 8's VM) %.0fs; host memory used +%d MiB; load "
           "average %s" % (active, time.monotonic() - started, snapshot_server["memory_before"] - mem_available_mib(),
                           " ".join(open("/proc/loadavg").read().split()[:3])))
    return {"server": server, "fixed": fixed, "snapshot": snapshot_server["snapshot"]}
