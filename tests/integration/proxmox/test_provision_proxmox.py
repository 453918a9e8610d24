# -*- coding: utf-8 -*-
"""roles/provision_proxmox (the Proxmox adapter's output, through proxmox_ct) and destroy.yml's Proxmox path
(the lab's CTs and objective 6-7's, idempotently), through ansible-playbook against the API double."""

import json
import os
import re
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HOSTS = "cs,rt2,localhost"  # a node on two networks, a router on another node; localhost runs objectives 6-7


def playbook(pve, path, *options, **extra):
    env = dict(os.environ, PROXMOX_HOST="127.0.0.1", PROXMOX_PORT=str(pve.port), PROXMOX_USER="root@pam",
               PROXMOX_PASSWORD="lab-password", PROXMOX_CA_PATH=pve.ca_path,
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    extra = dict({"provision_proxmox_ssh_public_keys": ["ssh-ed25519 AAAA lab"]}, **extra)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventories/proxmox",
               path, "--limit", HOSTS, "-e", json.dumps(extra)] + list(options)
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run.stdout


def net(ct, key):
    return dict(item.split("=", 1) for item in ct["config"][key].split(","))


def test_the_lab_hosts_become_cts_from_the_topology_then_destroy_removes_them(pve):
    # No guests behind the double here: nothing answers SSH (test_proxmox_calculator_lab.py has guests).
    playbook(pve, "tests/integration/proxmox/provision.yml", "--skip-tags", "guest")

    cs, rt2 = pve.double.cts[710], pve.double.cts[702]
    assert (cs["node"], cs["status"], rt2["node"]) == ("pve1", "running", "pve2")
    assert (net(cs, "net0")["bridge"], net(cs, "net0")["ip"], net(cs, "net0")["gw"]) == \
        ("vmbr0", "192.168.100.80/24", "192.168.100.1")
    assert [(net(cs, key)["tag"], net(cs, key)["ip"]) for key in ("net1", "net2")] == \
        [("101", "10.77.1.10/24"), ("102", "10.77.2.10/24")]
    assert "gw" not in net(cs, "net1")
    assert (cs["config"]["memory"], cs["config"]["swap"], cs["config"]["unprivileged"]) == (512, 256, 1)

    playbook(pve, "playbooks/objective6_7_proxmox.yml", "--skip-tags", "guest")
    assert pve.double.cts[600]["node"] == "pve2"

    playbook(pve, "playbooks/destroy.yml")
    assert pve.double.cts == {}
    pve.double.requests.clear()
    again = playbook(pve, "playbooks/destroy.yml")
    assert pve.double.writes() == []
    assert re.findall(r"changed=(\d+)", again) == ["0"] * 3, again[-1500:]


def test_in_check_mode_a_stopped_or_missing_ct_joins_virtlab_unprovisioned_with_its_reason(pve):
    """The provisioning role interface in check mode: cs's CT stopped and rt2's missing, --check puts both in
    virtlab_unprovisioned with what their CT would go through (from proxmox_ct's not_in_place), and changes nothing."""
    pve.double.add_ct(710, "pve1", "cs", status="stopped", unprivileged=1, rootfs="local-lvm:vm-710-disk-0,size=4G")
    output = playbook(pve, "tests/integration/proxmox/provision.yml", "--check", "--limit", "cs,rt2")
    flat = " ".join(output.split())
    assert "unprovisioned cs: CT 710 on pve1 would be: " in flat and "start" in flat.split("unprovisioned cs:")[1]
    assert "unprovisioned rt2: CT 702 on pve2 would be: create CT 702 on pve2, start" in flat, output[-3000:]
    assert sorted(pve.double.cts) == [710] and pve.double.cts[710]["status"] == "stopped"
