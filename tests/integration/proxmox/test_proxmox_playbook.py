# -*- coding: utf-8 -*-
"""playbooks/objective6_7_proxmox.yml through ansible-playbook against the API double.

The steps that look inside the CT (`pct exec` on a node, tagged `guest`) need a real
cluster and are skipped here; every API step runs, as a user runs it.
"""

import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def test_check_mode_then_the_playbook_end_to_end_then_a_rerun_that_changes_nothing(pve):
    """--check on a cluster without the CT exits 0 and looks into no CT (there is none: no pct on PATH here, the
    guest steps included); a run does every API step; a re-run changes nothing and says the demonstration was
    done, and objective67_repeat=true does it again."""
    env = dict(os.environ, PROXMOX_HOST="127.0.0.1", PROXMOX_PORT=str(pve.port),
               PROXMOX_USER="root@pam", PROXMOX_PASSWORD="lab-password",
               PROXMOX_CA_PATH=pve.ca_path, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               "-i", "inventories/proxmox", "playbooks/objective6_7_proxmox.yml"]

    def run(*arguments):
        return subprocess.run(command + list(arguments), cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=300, check=False)

    check = run("--check")
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    assert pve.double.cts == {}
    assert "skipping: [localhost]" in check.stdout.split("TASK [Wait for its DHCP address]")[1].split("TASK [")[0]

    first = run("--skip-tags", "guest")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    ct = pve.double.cts[600]
    assert (ct["node"], ct["status"]) == ("pve2", "running")
    assert ct["config"]["memory"] == 512  # the change was rolled back
    assert "ip=dhcp" in ct["config"]["net0"] and "bridge=vmbr0" in ct["config"]["net0"]
    # The snapshot is deleted before the migration: on local-lvm Proxmox refuses to migrate it.
    assert ct["config"]["rootfs"].startswith("local-lvm:") and ct["snapshots"] == {}
    assert ("snapshot before_change deleted (local-lvm cannot migrate it), migrated pve1 -> pve2 "
            "(migrate to pve2 (restart mode))") in " ".join(first.stdout.split()), first.stdout[-3000:]

    again = run("--skip-tags", "guest")
    assert again.returncode == 0, again.stdout[-3000:]
    assert "changed=0" in again.stdout[again.stdout.index("PLAY RECAP"):], again.stdout[-3000:]
    assert "The snapshot, rollback and migration were done by an earlier run: the CT runs on pve2" in \
        " ".join(again.stdout.split()), again.stdout[-3000:]
    repeat = run("--skip-tags", "guest", "-e", "objective67_repeat=true")
    assert repeat.returncode == 0, repeat.stdout[-3000:]
    assert "migrated pve1 -> pve2" in " ".join(repeat.stdout.split()), repeat.stdout[-3000:]
