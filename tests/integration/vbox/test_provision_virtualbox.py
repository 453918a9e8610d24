# -*- coding: utf-8 -*-
"""roles/provision_virtualbox (the VirtualBox adapter's output, through the vbox_* modules) and destroy.yml's
VirtualBox path (the lab's VMs and objective 4's, idempotently), through ansible-playbook against the VBoxManage
double."""

import json
import os
import re
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def playbook(vbox, path, limit="rt2,localhost"):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    extra = {"virtlab_vbox_machine_folder": vbox.folder, "virtlab_vbox_base_image": vbox.path("base.vdi")}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventories/virtualbox",
               path, "--limit", limit, "--skip-tags", "guest", "-e", json.dumps(extra)]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run.stdout


def test_a_lab_host_becomes_a_vm_reached_through_its_port_forward_then_destroy_removes_it(vbox):
    with open(vbox.path("base.vdi"), "w") as image:
        image.write("a base image")

    output = playbook(vbox, "tests/integration/vbox/provision.yml")

    rt2 = vbox.vm("virtlab-rt2")
    assert rt2["state"] == "running"
    assert rt2["nics"]["1"]["rules"] == ["ssh,tcp,127.0.0.1,2202,,22"]
    assert (rt2["nics"]["2"]["network"], rt2["nics"]["3"]["network"]) == ("virtlab-pn2", "virtlab-pn3")
    assert list(rt2["attachments"].values()) == [vbox.path("virtlab-rt2.vdi")]
    assert "reach rt2 at 127.0.0.1:2202" in output

    playbook(vbox, "playbooks/objective4_virtualbox.yml")
    assert vbox.vm("virtlab-objective4")["state"] == "running" and vbox.vm("virtlab-objective4-clone")

    playbook(vbox, "playbooks/destroy.yml")
    assert vbox.vm("virtlab-rt2") is None
    assert not os.path.exists(vbox.path("virtlab-rt2.vdi"))
    assert vbox.state()["vms"] == []
    assert vbox.state()["media"] == {}  # nothing left in VirtualBox's media registry, not even the base image
    assert os.path.exists(vbox.path("base.vdi"))
    assert not os.path.exists(vbox.path("virtlab-objective4.vdi"))
    before = len(vbox.mutating_calls())
    again = playbook(vbox, "playbooks/destroy.yml")
    assert len(vbox.mutating_calls()) == before
    assert re.findall(r"changed=(\d+)", again) == ["0", "0"], again[-1500:]


def test_in_check_mode_a_powered_off_vm_joins_virtlab_unprovisioned_and_no_one_logs_into_it(vbox):
    """The provisioning role interface in check mode: rt2's VM powered off, --check (the guest steps included:
    nothing answers SSH here) puts rt2 in virtlab_unprovisioned with what its VM would go through (from vbox_vm's
    not_in_place), logs into no guest and changes nothing."""
    with open(vbox.path("base.vdi"), "w") as image:
        image.write("a base image")
    playbook(vbox, "tests/integration/vbox/provision.yml", limit="rt2")
    vbox.command("controlvm", "virtlab-rt2", "poweroff")
    state = vbox.state_text()
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    extra = {"virtlab_vbox_machine_folder": vbox.folder, "virtlab_vbox_base_image": vbox.path("base.vdi")}
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventories/virtualbox",
               "tests/integration/vbox/provision.yml", "--limit", "rt2", "--check", "-e", json.dumps(extra)]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0 and "UNREACHABLE" not in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]
    assert "unprovisioned rt2: VM virtlab-rt2 would be: started" in " ".join(run.stdout.split()), run.stdout[-3000:]
    assert vbox.state_text() == state
