# -*- coding: utf-8 -*-
"""Objectives 6-7 with real guests behind the PVE API double: playbooks/objective6_7_proxmox.yml
runs whole, its `guest` steps included. Each CT the double starts is a systemd container on the
local Docker engine (pve_guests.py); the nodes' `pct exec` is tests/integration/proxmox/bin/pct,
run on each node through a local connection whose interpreter names the node."""

import json
import os
import re
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")


def nodes_inventory(tmp_path):
    """pve1 and pve2 as local hosts; each one's interpreter sets PVE_DOUBLE_NODE for its `pct`."""
    hosts = {}
    for node in ("pve1", "pve2"):
        wrapper = tmp_path / ("python-" + node)
        wrapper.write_text("#!/bin/sh\nPVE_DOUBLE_NODE=%s exec %s \"$@\"\n" % (node, sys.executable))
        wrapper.chmod(0o755)
        hosts[node] = {"ansible_connection": "local", "ansible_python_interpreter": str(wrapper)}
    path = tmp_path / "nodes.yml"
    path.write_text(json.dumps({"all": {"children": {"proxmox_nodes": {"hosts": hosts}}}}))
    return str(path)


def test_objectives_6_7_in_the_guest_dhcp_rollback_migration(pve, pve_guests, tmp_path):
    pve.double.task_duration = 0.2
    env = dict(os.environ, PROXMOX_HOST="127.0.0.1", PROXMOX_PORT=str(pve.port),
               PROXMOX_USER="root@pam", PROXMOX_PASSWORD="lab-password",
               PROXMOX_CA_PATH=pve.ca_path, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", PVE_DOUBLE_GUEST_PREFIX=pve_guests.prefix,
               PATH=os.pathsep.join([BIN, os.environ["PATH"]]))
    mgmt = {"virtlab_proxmox_mgmt": {"bridge": "vmbr0", "prefix": 24, "gateway": "10.81.0.1"}}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               "-i", "inventories/proxmox", "-i", nodes_inventory(tmp_path),
               "playbooks/objective6_7_proxmox.yml", "-e", json.dumps(mgmt)]

    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # Every in-guest step ran (none skipped; only the removal path, for objective67_state=absent, is), through
    # pct exec on the node that held the CT.
    skipped = [section.split("]", 1)[0] for section in run.stdout.split("TASK [")[1:] if "skipping:" in section]
    assert set(skipped) <= {"Remove the CT, wherever it lives (stopped first)", "Nothing else to do when removing"}, \
        skipped
    assert "TASK [Check that the file system change is gone]" in run.stdout
    # Objective 6: the address came from the bridge's DHCP server (its pool, not Docker's).
    leased = re.search(r"with DHCP: inet (10\.81\.0\.(\d+))/24", run.stdout)
    assert leased and int(leased.group(2)) >= 128, run.stdout[-3000:]
    # Objective 7: the CT ended on pve2, its guest is the one that runs, and it answers there.
    ct = pve.double.cts[600]
    assert (ct["node"], ct["status"]) == ("pve2", "running")
    assert pve_guests.exec("pve1", 600, "true").returncode != 0  # no guest left on pve1
    after = pve_guests.exec("pve2", 600, "ping", "-c", "1", "-W", "2", "10.81.0.1")
    assert after.returncode == 0, after.stdout + after.stderr
    # The file made after the snapshot is gone (rolled back), and the guest kept its lease's MAC.
    assert pve_guests.exec("pve2", 600, "test", "-e", "/root/changed-after-snapshot").returncode == 1
    mac = re.search(r"hwaddr=([0-9A-F:]+)", ct["config"]["net0"]).group(1).lower()
    assert mac in pve_guests.exec("pve2", 600, "ip", "link", "show", "eth0").stdout


def test_pct_exec_answers_like_pct_for_a_ct_elsewhere_or_stopped(pve, pve_guests, tmp_path):
    env = dict(os.environ, PVE_DOUBLE_GUEST_PREFIX=pve_guests.prefix, PVE_DOUBLE_NODE="pve2")
    missing = subprocess.run([os.path.join(BIN, "pct"), "exec", "600", "--", "true"], env=env,
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 255
    assert missing.stderr == "Configuration file 'nodes/pve2/lxc/600.conf' does not exist\n"
