# -*- coding: utf-8 -*-
"""One lab per student on one engine, on the embedded Docker default.

With the default lab built, lab student07 is built next to it from the same declared topology (its own names,
10.84.x addresses, calculator port 50070); both answer; a second run of student07 changes nothing; a third lab
given student07's index is refused before anything is created; student07 is destroyed (its objective 5 image
too, and a second destroy changes nothing), and the default lab is untouched: its containers still run, a re-run
changes nothing and its calculator answers.
(Lab 7 is 10.84.x: clear of the graded hand-built lab's 10.79.x and the Molecule lab's 10.80.x.)
"""

import subprocess
import urllib.request

import pytest

from test_lab import ansible, changed_tasks

LAB, PREFIX, PORT = "student07", "virtlab-student07-", 50070
DEFAULT_PREFIX, DEFAULT_PORT = "virtlab-", 50000


def lab_run(*args, **kwargs):
    return ansible("ansible-playbook", *(args + ("-e", "virtlab_lab=" + LAB)), **kwargs)


def answer(port, expression="(5+6)*2"):
    request = urllib.request.Request("http://127.0.0.1:%d" % port, data=expression.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.read().decode()


def docker_names(kind, prefix):
    """Names of the containers (kind ps) or networks (kind network) whose name starts with prefix."""
    command = ["docker", "ps", "-a"] if kind == "ps" else ["docker", "network", "ls"]
    proc = subprocess.run(command + ["--format", "{{.Names}}" if kind == "ps" else "{{.Name}}"],
                          capture_output=True, text=True, check=True)
    return sorted(name for name in proc.stdout.split() if name.startswith(prefix))


def docker_images():
    """repository:tag of every image on the engine."""
    return subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True,
                          text=True, check=True).stdout.split()


def default_lab_containers():
    """The default lab's containers (virtlab-<host>, not another lab's virtlab-<lab>-<host>) and their state."""
    proc = subprocess.run(["docker", "ps", "-a", "--filter", "label=virtlab.lab=" + DEFAULT_PREFIX, "--format",
                           "{{.Names}} {{.State}}"], capture_output=True, text=True, check=True)
    return dict(line.split() for line in proc.stdout.splitlines())


@pytest.fixture(scope="module", autouse=True)
def default_lab():
    """The default lab built (or repaired) first; student07 removed afterwards whatever happened."""
    ansible("ansible-playbook", "site.yml")
    yield
    lab_run("playbooks/destroy.yml", check=False)


def test_a_second_lab_builds_next_to_the_default_one_and_both_answer():
    before = default_lab_containers()
    proc, unused_part = lab_run("site.yml")
    assert 'lab student07: curl -d "(5+6)*2" -X POST http://127.0.0.1:%d' % PORT in proc.stdout, proc.stdout[-3000:]
    assert answer(PORT).startswith("result = 22")
    assert answer(DEFAULT_PORT).startswith("result = 22")
    hosts = ["cs", "div", "mul", "outside", "rt1", "rt2", "sub", "sum"]
    assert docker_names("ps", PREFIX) == sorted(
        [PREFIX + h for h in hosts] + [PREFIX + "objective5-" + c for c in ("container", "from-image", "peer")])
    assert docker_names("network", PREFIX) == [PREFIX + n for n in ("mgmt", "pn1", "pn2", "pn3", "public")]
    # Its own address plan, derived: lab 7 is the declared 10.77.x moved to 10.84.x.
    addresses = subprocess.run(["docker", "exec", PREFIX + "cs", "ip", "-4", "-o", "addr"], capture_output=True,
                               text=True, check=True).stdout
    assert "10.84.1.10/24" in addresses and "10.84.2.10/24" in addresses and "10.77." not in addresses
    images = docker_images()
    assert "virtlab/objective5:version3-student07" in images and "virtlab/objective5:version3" in images
    assert default_lab_containers() == before


def test_a_second_run_of_the_second_lab_changes_nothing():
    proc, unused_part = lab_run("site.yml", json_output=True)
    changed, stats = changed_tasks(proc.stdout)
    assert changed == {}, "a re-run of lab student07 changed: %s" % changed
    assert all(s["changed"] == 0 and s["failures"] == 0 for s in stats.values()), stats


def test_the_second_lab_is_graded_on_its_own_plan(tmp_path):
    lab_run("playbooks/validate.yml", "-e", "virtlab_report_dir=%s" % tmp_path)
    report = (tmp_path / (LAB + ".md")).read_text()
    assert report.startswith("# Lab student07: all ") and "10.84.1.10" in report and "10.77." not in report


def test_a_lab_with_the_same_address_plan_is_refused_before_anything_is_created():
    proc, unused_part = ansible("ansible-playbook", "site.yml", "-e", "virtlab_lab=twin", "-e",
                                "virtlab_lab_index=7", check=False)
    assert proc.returncode != 0
    assert "network virtlab-twin-pn1 10.84.1.0/24 overlaps Docker network virtlab-student07-pn1 10.84.1.0/24 " \
           "of lab virtlab-student07" in proc.stdout, proc.stdout[-3000:]
    assert docker_names("ps", "virtlab-twin-") == [] and docker_names("network", "virtlab-twin-") == []


def test_destroying_the_second_lab_leaves_the_default_one_untouched():
    before = default_lab_containers()
    lab_run("playbooks/destroy.yml")
    assert docker_names("ps", PREFIX) == [] and docker_names("network", PREFIX) == []
    # Its objective 5 image goes with it; the default lab's stays.
    images = docker_images()
    assert "virtlab/objective5:version3-student07" not in images and "virtlab/objective5:version3" in images
    proc, unused_part = lab_run("playbooks/destroy.yml", json_output=True)
    assert changed_tasks(proc.stdout)[0] == {}, "a second destroy of lab student07 changed something"
    assert default_lab_containers() == before and set(before.values()) == {"running"}
    proc, unused_part = ansible("ansible-playbook", "site.yml", json_output=True)
    changed, unused_part = changed_tasks(proc.stdout)
    assert changed == {}, "the default lab changed after student07 was destroyed: %s" % changed
    assert answer(DEFAULT_PORT).startswith("result = 22")
