# -*- coding: utf-8 -*-
"""playbooks/objective4_virtualbox.yml through ansible-playbook against the VBoxManage double.

The steps that need the guest's SSH server (tag `guest`) are skipped; every VBoxManage step
runs, as a user runs it.
"""

import os
import re
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def run_playbook(vbox, *extra):
    with open(vbox.path("base.vdi"), "w") as image:
        image.write("a base image")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               "-i", "inventories/virtualbox", "playbooks/objective4_virtualbox.yml", "--skip-tags", "guest",
               "-e", "virtlab_vbox_machine_folder=%s" % vbox.folder,
               "-e", "virtlab_vbox_base_image=%s" % vbox.path("base.vdi")] + list(extra)
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run.stdout


def changed_count(output, host):
    return int(re.search(r"^%s\s*:.*changed=(\d+)" % re.escape(host), output, re.MULTILINE).group(1))


def test_objective4_and_a_lab_node_on_the_double(vbox):
    # One lab node is enough to check the second play's wiring (each node is the same tasks).
    first = run_playbook(vbox, "--tags", "all,lab_nodes", "--limit", "localhost,cs")
    vm = vbox.vm("virtlab-objective4")
    assert vm["state"] == "running" and vm["nics"]["1"] == {"type": "nat", "rules": ["ssh,tcp,,2222,,22"]}
    assert list(vm["attachments"].values()) == [vbox.path("virtlab-objective4.vdi")]
    assert vbox.vm("virtlab-objective4-clone")["state"] == "poweroff"
    # The refused clonemedium is explained, and nothing was copied.
    shown = " ".join(first.split()).replace("''", "'")  # the YAML callback folds and quotes the message
    assert "it is locked because VM 'virtlab-objective4' is running with it attached" in shown
    assert not os.path.exists(vbox.path("virtlab-objective4-copy.vdi"))
    assert changed_count(first, "localhost") == 4
    # The lab's nodes, from the topology: SSH forwarded from ansible_port, lab networks on adapters 2..
    cs = vbox.vm("virtlab-cs")
    assert cs["state"] == "running"
    # and the calculator's port forwarded to cs (virtlab_vbox_service_ports), the way the machine reaches it.
    assert cs["nics"]["1"]["rules"] == ["ssh,tcp,127.0.0.1,2210,,22", "calculator,tcp,127.0.0.1,50100,,50000"]
    assert (cs["nics"]["2"]["network"], cs["nics"]["3"]["network"]) == ("virtlab-pn1", "virtlab-pn2")
    assert len(vbox.state()["vms"]) == 3
    # Re-runs changing nothing is what the module tests check, module by module (a second
    # ansible-playbook run would double this test's time).
