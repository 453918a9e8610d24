# -*- coding: utf-8 -*-
"""Every objective of inventories/proxmox in one plain site.yml run, with real guests behind the PVE API double:

- objectives 6-7: a CT on vmbr0 with DHCP (the bridge's DHCP server), a snapshot, a change of its config and of its
  file system, the rollback, the migration to pve2; the look inside the CT is `pct exec` on the nodes (bin/pct, on
  pve1 and pve2 made local hosts by pve_guests.nodes_inventory, the one thing the test puts over the inventory);
- objectives 9-11: the eight CTs with root's SSH key given at create (as Proxmox writes it into the CT), Node.js,
  the five services, the static routes across rt2 and the reachability matrix, reached over SSH at the CTs'
  management addresses (the inventory's own, 192.168.100.x: the LAN bridge vmbr0 of the double is that subnet, with
  its DHCP pool in 192.168.100.128-254 and its gateway 192.168.100.1 this machine).

One lab for the module's tests, in file order, removed by its last test."""

import json
import os
import re
import subprocess
import sys
import time
import uuid

import proxmoxer
import pytest

from pve_guests import PveGuests, nodes_inventory  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from guest_lab import GuestLab, lab_key  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")
# The LAN bridge the CTs' eth0 is on, with the inventory's management plan (virtlab_proxmox_mgmt), and the DHCP
# server objective 6's CT asks.
LAB_BRIDGES = {"vmbr0": {"subnet": "192.168.100.0/24", "dhcp": True}}
# inventories/proxmox/lab.virtlab.yml, and objective 6-7's CT
VMIDS = {"rt1": 701, "rt2": 702, "cs": 710, "sum": 711, "sub": 712, "mul": 713, "div": 714, "outside": 720}
OBJECTIVE67_VMID = 600


class ProxmoxLab(GuestLab):
    calculator = ("192.168.100.80", 50000)  # cs's management address

    def __init__(self, server, ca_path, guests, key, nodes):
        self.double, self.port, self.ca_path = server.double, server.port, ca_path
        self.guests, self.key, self.nodes = guests, key, nodes

    def playbook(self, *arguments):
        env = dict(os.environ, PROXMOX_HOST="127.0.0.1", PROXMOX_PORT=str(self.port), PROXMOX_USER="root@pam",
                   PROXMOX_PASSWORD="lab-password", PROXMOX_CA_PATH=self.ca_path,
                   ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   PVE_DOUBLE_GUEST_PREFIX=self.guests.prefix, PATH=os.pathsep.join([BIN, os.environ["PATH"]]))
        extra = {"provision_proxmox_ssh_public_keys": [self.key.public], "ansible_ssh_private_key_file": self.key.path}
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventories/proxmox",
                   "-i", self.nodes, "-e", json.dumps(extra)] + list(arguments)
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=540, check=False)

    def site(self, *arguments):
        return self.playbook("site.yml", *arguments)

    def exec(self, host, *argv):
        vmid = VMIDS[host]
        return self.guests.exec(self.double.cts[vmid]["node"], vmid, *argv)

    def remaining(self):
        return sorted(self.double.cts)

    def stop(self, host):
        """`pct stop` through the API, as a user would stop the CT."""
        vmid = VMIDS[host]
        node = self.double.cts[vmid]["node"]
        api = proxmoxer.ProxmoxAPI("127.0.0.1", port=self.port, user="root@pam", password="lab-password",
                                   verify_ssl=self.ca_path)
        api.nodes(node).lxc(vmid).status.stop.post()
        deadline = time.time() + 30
        while api.nodes(node).lxc(vmid).status.current.get()["status"] != "stopped":
            assert time.time() < deadline, "CT %d did not stop" % vmid
            time.sleep(0.1)


@pytest.fixture(scope="module")
def proxmox_lab(pve_server, guest_image, tmp_path_factory):
    server, ca_path = pve_server
    server.double.reset()
    server.double.task_duration = 0.05
    guests = PveGuests(guest_image, "vguest-%s-" % uuid.uuid4().hex[:6], LAB_BRIDGES)
    server.double.guests = guests
    files = tmp_path_factory.mktemp("pve-lab")
    lab = ProxmoxLab(server, ca_path, guests, lab_key(files), nodes_inventory(files))
    try:
        started = time.time()
        lab.first = lab.site()
        lab.first_seconds = time.time() - started
        yield lab
    finally:
        server.double.guests = None
        guests.cleanup()
        server.double.reset()


def test_site_builds_the_whole_lab_over_ssh_to_the_cts(proxmox_lab):
    print("site.yml, every objective, first run: %.0f s" % proxmox_lab.first_seconds)
    proxmox_lab.check_built(proxmox_lab.first)
    assert sorted(proxmox_lab.double.cts) == sorted([OBJECTIVE67_VMID] + list(VMIDS.values()))
    # Ansible logged in as root with the key given at create: it is in the CT's authorized_keys.
    assert proxmox_lab.key.public in proxmox_lab.exec("cs", "cat", "/root/.ssh/authorized_keys").stdout


def test_the_same_run_did_objectives_6_7_in_the_guest_dhcp_rollback_migration(proxmox_lab):
    run, double, guests = proxmox_lab.first, proxmox_lab.double, proxmox_lab.guests
    # Every step of objectives 6-7 ran, the in-guest ones too, through pct exec on the node that held the CT.
    section = run.stdout[run.stdout.index("PLAY [Objectives 6-7 - Proxmox LXC containers]"):]
    section = section[:section.index("PLAY [", 1)]
    skipped = [part.split("]", 1)[0] for part in section.split("TASK [")[1:] if "skipping:" in part]
    # Skipped: the removal path, and check mode's summary (a real run demonstrates instead).
    assert set(skipped) <= {"Remove the CT, wherever it lives (stopped first)", "Nothing else to do when removing",
                            "In check mode, what a run would demonstrate"}, skipped
    assert "TASK [Check that the file system change is gone]" in section
    # Objective 6: the address came from the bridge's DHCP server (its pool, not Docker's).
    leased = re.search(r"with DHCP: inet (192\.168\.100\.(\d+))/24", section)
    assert leased and int(leased.group(2)) >= 128, section[-3000:]
    # Objective 7: the CT ended on pve2, its guest is the one that runs, and it answers there.
    ct = double.cts[OBJECTIVE67_VMID]
    assert (ct["node"], ct["status"]) == ("pve2", "running")
    assert guests.exec("pve1", OBJECTIVE67_VMID, "true").returncode != 0  # no guest left on pve1
    after = guests.exec("pve2", OBJECTIVE67_VMID, "ping", "-c", "1", "-W", "2", "192.168.100.1")
    assert after.returncode == 0, after.stdout + after.stderr
    # The file made after the snapshot is gone (rolled back), and the guest kept its lease's MAC.
    assert guests.exec("pve2", OBJECTIVE67_VMID, "test", "-e", "/root/changed-after-snapshot").returncode == 1
    mac = re.search(r"hwaddr=([0-9A-F:]+)", ct["config"]["net0"]).group(1).lower()
    assert mac in guests.exec("pve2", OBJECTIVE67_VMID, "ip", "link", "show", "eth0").stdout


def test_a_second_run_changes_nothing(proxmox_lab):
    # Objectives 6-7 included: their demonstration is done (the CT runs on pve2 as declared), the re-run checks it.
    proxmox_lab.check_second_run_changes_nothing()


def test_check_mode_on_an_incomplete_lab_then_one_run_repairs_it(proxmox_lab):
    proxmox_lab.check_incomplete_lab("sum", "CT 711 on pve2 would be: start")


def test_validate_grades_the_lab_all_passed_and_status_shows_every_host_up(proxmox_lab, tmp_path):
    proxmox_lab.check_validate_and_status(tmp_path)


def test_destroy_removes_the_lab_and_a_second_destroy_changes_nothing(proxmox_lab):
    # Objectives 6-7's CT goes too: no CT is left.
    proxmox_lab.check_destroy()
