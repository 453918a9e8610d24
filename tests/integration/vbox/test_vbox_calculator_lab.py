# -*- coding: utf-8 -*-
"""Every objective of inventories/virtualbox in one plain site.yml run, with real guests behind the VBoxManage
double:

- objective 4: its VM from a copy of the base disk, NAT on adapter 1, host port 2222 forwarded to its SSH server
  and a login through it, the refused clonemedium of the running VM's disk, the clone made with clonevm;
- objectives 9-11: the eight VMs from the base disk (its user and key, as a cloud image has), each reached over SSH
  through its NAT adapter's forwarded port, the lab addresses on the internal networks, Node.js, the five services,
  the static routes across rt2 and the reachability matrix; the calculator answers on the host port forwarded to
  cs (virtlab_vbox_service_ports, 127.0.0.1:50100).

One lab for the module's tests, in file order, removed by its last test."""

import json
import os
import subprocess
import sys
import time

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
                 "virtlab_vbox_ssh_user": self.guests.user, "virtlab_vbox_ssh_private_key_file": self.guests.key,
                 "virtlab_vbox_guest_additions": True}  # objective 4 reads the guest's IP property
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventories/virtualbox",
                   "-e", json.dumps(extra)] + list(arguments)
        return subprocess.run(command, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=540,
                              check=False)

    def site(self, *arguments):
        return self.playbook("site.yml", *arguments)

    def exec(self, host, *argv):
        return self.guests.exec("virtlab-" + host, *argv)

    def remaining(self):
        state = self.state()
        return state["vms"] + sorted(state["media"])

    def vboxmanage(self, *argv):
        return subprocess.run(["VBoxManage"] + list(argv), env=self.env, capture_output=True, text=True,
                              timeout=120, check=False)

    def stop(self, host):
        """VBoxManage controlvm poweroff, as a user would stop the VM (the double powers it off at once)."""
        stopped = self.vboxmanage("controlvm", "virtlab-" + host, "poweroff")
        assert stopped.returncode == 0, stopped.stderr


@pytest.fixture(scope="module")
def vbox_lab(guest_image, vbox_guests_on, tmp_path_factory):
    lab = VBoxLab(str(tmp_path_factory.mktemp("vbox-lab")))
    with open(os.path.join(lab.folder, "base.vdi"), "w") as image:
        image.write("a base image")
    try:
        lab.guests = vbox_guests_on(lab.state_path, guest_image, lab.folder)
        started = time.time()
        lab.first = lab.site()
        lab.first_seconds = time.time() - started
        yield lab
    finally:
        if lab.guests is not None:
            guest_side.cleanup(lab.guests.prefix)


def test_site_builds_the_whole_lab_through_the_forwarded_ssh_ports(vbox_lab):
    print("site.yml, every objective, first run: %.0f s" % vbox_lab.first_seconds)
    vbox_lab.check_built(vbox_lab.first)
    lab_vms = sorted("virtlab-" + host for host in vbox_lab.hosts)
    assert sorted(vm["name"] for vm in vbox_lab.state()["vms"]) == sorted(
        lab_vms + ["virtlab-objective4", "virtlab-objective4-clone"])
    # The lab addresses are on the internal network adapters; the calculator's port is forwarded to cs.
    assert "inet 10.77.2.1/24" in vbox_lab.exec("rt2", "ip", "-4", "-o", "addr", "show", "dev", "eth1").stdout
    cs = next(vm for vm in vbox_lab.state()["vms"] if vm["name"] == "virtlab-cs")
    assert "calculator,tcp,127.0.0.1,50100,,50000" in cs["nics"]["1"]["rules"]


def test_the_same_run_did_objective_4_ssh_through_host_port_2222_clonemedium_refused_clonevm(vbox_lab):
    run = vbox_lab.first.stdout
    section = run[run.index("PLAY [Objective 4 - a VirtualBox VM in NAT mode, port forwarding, cloning]"):]
    section = section[:section.index("PLAY [", 1)]
    # Every step ran; only the removal path (objective4_state=absent) is skipped.
    skipped = [part.split("]", 1)[0] for part in section.split("TASK [")[1:] if "skipping:" in part]
    assert set(skipped) <= {"Remove the clone and the VM with their disks (powered off first)",
                            "Remove the VM's disk and the demonstration's copy when no VM took them along",
                            "VirtualBox forgets the base image the disks were copied from",
                            "Nothing else to do when removing"}, skipped
    # The playbook logged in through 127.0.0.1:2222 and saw the guest's NAT address; the disk copy was refused.
    assert "Logged in through 127.0.0.1:2222" in section and "inet 10.0.2.15/24" in section, section[-3000:]
    assert "is locked" in section, section[-3000:]
    # So does the host, with the base disk's key: the guest is the VM's, behind VirtualBox's NAT (its own NAT
    # network next to the eight lab VMs' ones).
    login = vbox_lab.guests.ssh(2222, "ip -4 -o addr show dev eth0; ip route show default; "
                                      "cat /sys/class/net/eth0/address")
    assert login.returncode == 0, login.stderr
    info = vbox_lab.vboxmanage("showvminfo", "virtlab-objective4", "--machinereadable").stdout
    mac = next(line.split('"')[1] for line in info.splitlines() if line.startswith("macaddress1="))
    assert "inet 10.0.2.15/24" in login.stdout and "default via 10.0.2.2" in login.stdout, login.stdout
    assert ":".join(mac[i:i + 2] for i in range(0, 12, 2)).lower() in login.stdout
    # The clone (off) starts from a copy of the guest's disk, not from the base.
    clone = next(vm for vm in vbox_lab.state()["vms"] if vm["name"] == "virtlab-objective4-clone")
    assert clone["guest"]["image"].startswith(vbox_lab.guests.prefix + "images:")


def test_a_second_run_changes_nothing(vbox_lab):
    vbox_lab.check_second_run_changes_nothing()


def test_check_mode_on_an_incomplete_lab_then_one_run_repairs_it(vbox_lab):
    vbox_lab.check_incomplete_lab("sum", "VM virtlab-sum would be: started")


def test_validate_grades_the_lab_all_passed_and_status_shows_every_host_up(vbox_lab, tmp_path):
    vbox_lab.check_validate_and_status(tmp_path)


def test_destroy_removes_the_lab_and_a_second_destroy_changes_nothing(vbox_lab):
    # Nothing left: no VM (objective 4's and its clone included), and no disk in VirtualBox's media registry (the
    # base image closed too).
    vbox_lab.check_destroy()
