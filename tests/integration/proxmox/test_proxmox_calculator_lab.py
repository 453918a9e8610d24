# -*- coding: utf-8 -*-
"""Objectives 9-11 on inventories/proxmox with real guests behind the PVE API double: site.yml builds the whole
calculator lab - the eight CTs with root's SSH key given at create (as Proxmox writes it into the CT), Node.js,
the five services, the static routes across rt2 and the reachability matrix - reached over SSH at the CTs'
management addresses (the inventory's own, 192.168.100.x: the LAN bridge vmbr0 of the double is that subnet, its
gateway 192.168.100.1 is this machine). One lab for the module's tests, removed by its last test.

Objectives 6-7 (their own CT, DHCP, pct exec on the nodes) are left out of these runs with --skip-tags:
test_proxmox_guests.py runs them whole with guests."""

import json
import os
import subprocess
import sys
import uuid

import pytest

from pve_guests import PveGuests  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from guest_lab import GuestLab, lab_key  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The LAN bridge the CTs' eth0 is on, with the inventory's management plan (virtlab_proxmox_mgmt).
LAB_BRIDGES = {"vmbr0": {"subnet": "192.168.100.0/24"}}
# inventories/proxmox/lab.virtlab.yml
VMIDS = {"rt1": 701, "rt2": 702, "cs": 710, "sum": 711, "sub": 712, "mul": 713, "div": 714, "outside": 720}


class ProxmoxLab(GuestLab):
    calculator = ("192.168.100.80", 50000)  # cs's management address

    def __init__(self, server, ca_path, guests, key):
        self.double, self.port, self.ca_path = server.double, server.port, ca_path
        self.guests, self.key = guests, key

    def playbook(self, *arguments):
        env = dict(os.environ, PROXMOX_HOST="127.0.0.1", PROXMOX_PORT=str(self.port), PROXMOX_USER="root@pam",
                   PROXMOX_PASSWORD="lab-password", PROXMOX_CA_PATH=self.ca_path,
                   ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
        extra = {"provision_proxmox_ssh_public_keys": [self.key.public], "ansible_ssh_private_key_file": self.key.path}
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventories/proxmox",
                   "-e", json.dumps(extra)] + list(arguments)
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=540, check=False)

    def site(self, *arguments):
        return self.playbook("site.yml", "--skip-tags", "objective6,objective7", *arguments)

    def exec(self, host, *argv):
        vmid = VMIDS[host]
        return self.guests.exec(self.double.cts[vmid]["node"], vmid, *argv)

    def remaining(self):
        return sorted(self.double.cts)


@pytest.fixture(scope="module")
def proxmox_lab(pve_server, guest_image, tmp_path_factory):
    server, ca_path = pve_server
    server.double.reset()
    server.double.task_duration = 0.05
    guests = PveGuests(guest_image, "vguest-%s-" % uuid.uuid4().hex[:6], LAB_BRIDGES)
    server.double.guests = guests
    lab = ProxmoxLab(server, ca_path, guests, lab_key(tmp_path_factory.mktemp("pve-lab-key")))
    try:
        lab.first = lab.site()
        yield lab
    finally:
        server.double.guests = None
        guests.cleanup()
        server.double.reset()


def test_site_builds_the_whole_lab_over_ssh_to_the_cts(proxmox_lab):
    proxmox_lab.check_built(proxmox_lab.first)
    assert sorted(proxmox_lab.double.cts) == sorted(VMIDS.values())
    # Ansible logged in as root with the key given at create: it is in the CT's authorized_keys.
    assert proxmox_lab.key.public in proxmox_lab.exec("cs", "cat", "/root/.ssh/authorized_keys").stdout


def test_a_second_run_changes_nothing(proxmox_lab):
    proxmox_lab.check_second_run_changes_nothing()


def test_a_route_deleted_on_cs_is_repaired_by_a_rerun(proxmox_lab):
    proxmox_lab.check_route_repair()


def test_validate_grades_the_lab_all_passed_and_status_shows_every_host_up(proxmox_lab, tmp_path):
    proxmox_lab.check_validate_and_status(tmp_path)


def test_destroy_removes_the_lab_and_a_second_destroy_changes_nothing(proxmox_lab):
    proxmox_lab.check_destroy()
