# -*- coding: utf-8 -*-
"""Objectives 9-11 on inventories/virtualbox with real guests behind the VBoxManage double: site.yml builds the
whole calculator lab - the eight VMs from the base disk (its user and key, as a cloud image has), each reached
over SSH through its NAT adapter's forwarded port, the lab addresses on the internal networks, Node.js, the five
services, the static routes across rt2 and the reachability matrix - and the calculator answers on the host port
forwarded to cs (virtlab_vbox_service_ports, 127.0.0.1:50100). One lab for the module's tests, removed by its
last test.

Objective 4 (its own VM, port 2222, the clonemedium refusal) is left out of these runs with --skip-tags:
test_vbox_guests.py runs it whole with a guest."""

import json
import os
import subprocess
import sys

import pytest

import vbox_guests as guest_side  # noqa: E402 - bin/, on sys.path from conftest.py

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from guest_lab import GuestLab  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")


class VBoxLab(GuestLab):
    calculator = ("127.0.0.1", 50100)  # virtlab_vbox_service_ports in inventories/virtualbox

    def __init__(self, folder):
        self.folder, self.guests = folder, None
        self.state_path = os.path.join(folder, "vbox-state.json")
        interpreter = os.path.join(folder, "interpreter")
        os.mkdir(interpreter)
        os.symlink(sys.executable, os.path.join(interpreter, "python3"))
        self.env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                        VBOXMANAGE_DOUBLE_STATE=self.state_path,
                        PATH=os.pathsep.join([BIN, interpreter, os.environ.get("PATH", "")]))

    def state(self):
        with open(self.state_path) as handle:
            return json.load(handle)

    def playbook(self, *arguments):
        extra = {"virtlab_vbox_machine_folder": self.folder,
                 "virtlab_vbox_base_image": os.path.join(self.folder, "base.vdi"),
                 "virtlab_vbox_ssh_user": self.guests.user, "virtlab_vbox_ssh_private_key_file": self.guests.key}
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventories/virtualbox",
                   "-e", json.dumps(extra)] + list(arguments)
        return subprocess.run(command, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=540,
                              check=False)

    def site(self, *arguments):
        return self.playbook("site.yml", "--skip-tags", "objective4", *arguments)

    def exec(self, host, *argv):
        return self.guests.exec("virtlab-" + host, *argv)

    def remaining(self):
        state = self.state()
        return state["vms"] + sorted(state["media"])


@pytest.fixture(scope="module")
def vbox_lab(guest_image, vbox_guests_on, tmp_path_factory):
    lab = VBoxLab(str(tmp_path_factory.mktemp("vbox-lab")))
    with open(os.path.join(lab.folder, "base.vdi"), "w") as image:
        image.write("a base image")
    try:
        lab.guests = vbox_guests_on(lab.state_path, guest_image, lab.folder)
        lab.first = lab.site()
        yield lab
    finally:
        if lab.guests is not None:
            guest_side.cleanup(lab.guests.prefix)


def test_site_builds_the_whole_lab_through_the_forwarded_ssh_ports(vbox_lab):
    vbox_lab.check_built(vbox_lab.first)
    assert sorted(vm["name"] for vm in vbox_lab.state()["vms"]) == sorted("virtlab-" + host for host in vbox_lab.hosts)
    # The lab addresses are on the internal network adapters; the calculator's port is forwarded to cs.
    assert "inet 10.77.2.1/24" in vbox_lab.exec("rt2", "ip", "-4", "-o", "addr", "show", "dev", "eth1").stdout
    cs = next(vm for vm in vbox_lab.state()["vms"] if vm["name"] == "virtlab-cs")
    assert "calculator,tcp,127.0.0.1,50100,,50000" in cs["nics"]["1"]["rules"]


def test_a_second_run_changes_nothing(vbox_lab):
    vbox_lab.check_second_run_changes_nothing()


def test_a_route_deleted_on_cs_is_repaired_by_a_rerun(vbox_lab):
    vbox_lab.check_route_repair()


def test_validate_grades_the_lab_all_passed_and_status_shows_every_host_up(vbox_lab, tmp_path):
    vbox_lab.check_validate_and_status(tmp_path)


def test_destroy_removes_the_lab_and_a_second_destroy_changes_nothing(vbox_lab):
    # Nothing left: no VM, and no disk in VirtualBox's media registry (the base image closed too).
    vbox_lab.check_destroy()
