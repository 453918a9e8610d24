# -*- coding: utf-8 -*-
"""Real guests behind the VBoxManage double: each VM the double starts is a systemd container on the local Docker
engine (bin/vbox_guests.py). Objective 4 runs whole, its `guest` steps included (SSH through the host's port
2222), in the one site.yml run of test_vbox_calculator_lab.py."""

import json
import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def test_poweroff_snapshot_restore_and_port_forward_removal_act_on_the_guest(vbox, vbox_guests, make_vm):
    make_vm("lab", "running", disk=True)
    vbox.command("controlvm", "lab", "natpf1", "ssh,tcp,127.0.0.1,2231,,22")
    assert vbox_guests.exec("lab", "touch", "/root/before-snapshot").returncode == 0
    vbox.command("controlvm", "lab", "poweroff")
    assert vbox_guests.exec("lab", "true").returncode != 0  # the guest is down
    vbox.command("snapshot", "lab", "take", "clean")
    vbox.command("startvm", "lab", "--type", "headless")
    assert vbox_guests.exec("lab", "test", "-e", "/root/before-snapshot").returncode == 0  # its disk kept it
    assert vbox_guests.exec("lab", "touch", "/root/after-snapshot").returncode == 0
    vbox.command("controlvm", "lab", "poweroff")
    vbox.command("snapshot", "lab", "restore", "clean")
    vbox.command("startvm", "lab", "--type", "headless")
    assert vbox_guests.exec("lab", "test", "-e", "/root/before-snapshot").returncode == 0
    assert vbox_guests.exec("lab", "test", "-e", "/root/after-snapshot").returncode == 1  # restored
    # The forward came back with the VM, and goes with its rule.
    forwarders = ["docker", "ps", "--format", "{{.Ports}}", "--filter", "name=^%s" % vbox_guests.prefix]
    assert "127.0.0.1:2231->2231/tcp" in subprocess.run(forwarders, capture_output=True, text=True, check=True).stdout
    vbox.command("controlvm", "lab", "natpf1", "delete", "ssh")
    assert "2231" not in subprocess.run(forwarders, capture_output=True, text=True, check=True).stdout


def test_provision_virtualbox_configures_the_lab_addresses_inside_the_guest(vbox, vbox_guests):
    """roles/provision_virtualbox's `guest` steps on a real guest: over SSH through the VM's forwarded
    port, the lab addresses land on the internal network adapters matched by their MAC addresses."""
    with open(vbox.path("base.vdi"), "w") as image:
        image.write("a base image")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False")
    extra = {"virtlab_vbox_machine_folder": vbox.folder, "virtlab_vbox_base_image": vbox.path("base.vdi"),
             "virtlab_vbox_ssh_user": vbox_guests.user, "virtlab_vbox_ssh_private_key_file": vbox_guests.key}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventories/virtualbox",
               "tests/integration/vbox/provision.yml", "--limit", "rt2", "-e", json.dumps(extra)]

    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    addresses = vbox_guests.exec("virtlab-rt2", "ip", "-4", "-o", "addr", "show")
    assert " eth1    inet 10.77.2.1/24" in addresses.stdout and " eth2    inet 10.77.3.1/24" in addresses.stdout, \
        addresses.stdout
    login = vbox_guests.ssh(2202, "hostname")
    assert login.returncode == 0, login.stderr
