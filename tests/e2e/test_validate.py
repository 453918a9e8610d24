# -*- coding: utf-8 -*-
"""Grading a lab built WITHOUT our roles (plain docker and ip commands, a student's own services, objective 5's
commit by hand), with playbooks/validate.yml: it passes on the lab as built, then fails by name on one missing
route, one wrong address, one stopped service and objective 5's container stopped - and leaves the lab exactly as
it found it.

The hand-built lab has its own names (vgrade-*) and addresses (10.79.x), so it never meets the embedded lab.
"""

import ipaddress
import json
import os
import subprocess
from xml.etree import ElementTree

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handbuilt", "service.py")
IMAGE = "virtlab/debian-systemd:bookworm"
PREFIX = "vgrade-"
LAB = "student42"
# Objective 5 by hand: a container changed and committed, and a container from the committed image.
OBJECTIVE5 = [PREFIX + "objective5-container", PREFIX + "objective5-from-image"]
OBJECTIVE5_IMAGE = "virtlab/objective5:version3-" + LAB
TOPOLOGY = yaml.safe_load(open(os.path.join(REPO, "inventories/docker/group_vars/all/topology.yml")))


def renumbered(value):
    """The embedded lab's topology moved from 10.77.x to 10.79.x."""
    if isinstance(value, dict):
        return dict((k, renumbered(v)) for k, v in value.items())
    if isinstance(value, str) and value.startswith("10.77."):
        return "10.79." + value[len("10.77."):]
    return value


TOPO = renumbered(TOPOLOGY["virtlab_topology"])
HOSTS = dict(list(TOPO["routers"].items()) + list(TOPO["nodes"].items()))


def sh(*command, check=True):
    proc = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        pytest.fail("%s failed: %s %s" % (" ".join(command), proc.stdout, proc.stderr))
    return proc


def dexec(host, *command, check=True):
    return sh("docker", "exec", PREFIX + host, *command, check=check)


def bridge(network):
    return "br-" + sh("docker", "network", "inspect", "-f", "{{.Id}}", PREFIX + network).stdout.strip()[:12]


def firewall_rule(network):
    """What a student adds so that routed frames may cross a lab bridge (Docker drops them otherwise)."""
    return ["DOCKER-USER", "-i", bridge(network), "-o", bridge(network), "-m", "comment", "--comment",
            "vgrade test lab", "-j", "ACCEPT"]


def teardown():
    for host in HOSTS:
        sh("docker", "rm", "-f", PREFIX + host, check=False)
    for name in OBJECTIVE5:
        sh("docker", "rm", "-f", name, check=False)
    sh("docker", "rmi", OBJECTIVE5_IMAGE, check=False)
    for network in TOPO["networks"]:
        if sh("docker", "network", "inspect", PREFIX + network, check=False).returncode != 0:
            continue
        rule = firewall_rule(network)
        while sh("iptables", "-w", "-C", *rule, check=False).returncode == 0:
            sh("iptables", "-w", "-D", *rule)
        sh("docker", "network", "rm", PREFIX + network)


def build_by_hand():
    """What a student does: networks, containers at fixed addresses, forwarding on routers, routes, services."""
    for name, spec in TOPO["networks"].items():
        subnet = ipaddress.ip_network(spec["cidr"])
        sh("docker", "network", "create", "--internal", "--subnet", str(subnet),
           "--gateway", str(subnet.broadcast_address - 1), PREFIX + name)
        sh("iptables", "-w", "-I", *firewall_rule(name))
    for host, spec in HOSTS.items():
        networks = sorted(spec["interfaces"].items())
        forward = ["--sysctl", "net.ipv4.ip_forward=1"] if host in TOPO["routers"] else []
        sh("docker", "run", "-d", "--name", PREFIX + host, "--hostname", host, "--cap-add", "NET_ADMIN",
           "--network", PREFIX + networks[0][0], "--ip", networks[0][1], *forward,
           "--entrypoint", "sleep", IMAGE, "infinity")
        for network, address in networks[1:]:
            sh("docker", "network", "connect", "--ip", address, PREFIX + network, PREFIX + host)
    # The static routes, by hand (route add -net ... gw ...).
    for host, dest, via in (("cs", "10.79.3.0/24", "10.79.2.1"), ("cs", "10.79.0.0/24", "10.79.1.1"),
                            ("outside", "10.79.1.0/24", "10.79.0.1")):
        dexec(host, "ip", "route", "add", dest, "via", via)
    for op in ("sum", "sub", "mul", "div"):
        dexec(op, "ip", "route", "add", "10.79.2.0/24", "via", "10.79.3.1")
    # The student's own services.
    for host in HOSTS:
        sh("docker", "cp", SERVICE, "%s%s:/usr/local/bin/service.py" % (PREFIX, host))
    urls = dict((op, "http://%s:%s" % (TOPO["nodes"][op]["interfaces"]["pn3"], TOPO["services"][op]["port"]))
                for op in ("sum", "sub", "mul", "div"))
    for op in urls:
        sh("docker", "exec", "-d", PREFIX + op, "python3", "/usr/local/bin/service.py", "operation", op,
           str(TOPO["services"][op]["port"]))
    sh("docker", "exec", "-d", PREFIX + "cs", "python3", "/usr/local/bin/service.py", "calculator", "-", "50000",
       json.dumps(urls))
    # Objective 5: docker run, a change, docker commit, docker run from the committed image.
    sh("docker", "run", "-d", "--name", OBJECTIVE5[0], "--entrypoint", "sleep", IMAGE, "infinity")
    sh("docker", "exec", OBJECTIVE5[0], "sh", "-c", "echo changed by hand > /etc/virtlab-objective5")
    sh("docker", "commit", OBJECTIVE5[0], OBJECTIVE5_IMAGE)
    sh("docker", "run", "-d", "--name", OBJECTIVE5[1], "--entrypoint", "sleep", OBJECTIVE5_IMAGE, "infinity")


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    """The Docker inventory from the topology (virtlab.core.topology), with this lab's names and topology."""
    folder = tmp_path_factory.mktemp("inventory")
    (folder / "group_vars" / "all").mkdir(parents=True)
    (folder / "lab.virtlab.yml").write_text(yaml.safe_dump({
        "plugin": "virtlab.core.topology", "backend": "docker", "docker": {"name_prefix": PREFIX}}))
    (folder / "group_vars" / "lab.yml").write_text(yaml.safe_dump({"ansible_python_interpreter": "/usr/bin/python3"}))
    (folder / "group_vars" / "all" / "topology.yml").write_text(yaml.safe_dump(
        {"virtlab_topology": TOPO, "virtlab_outside_host": "outside", "virtlab_backend": "docker",
         "virtlab_docker_name_prefix": PREFIX}))
    teardown()
    build_by_hand()
    yield str(folder)
    teardown()


def playbook(inventory, name, *args, json_output=False):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    if json_output:
        env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    return subprocess.run(["ansible-playbook", "-i", inventory, "playbooks/%s.yml" % name] + list(args), cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def validate(inventory, report):
    return playbook(inventory, "validate", "-e", "virtlab_lab=" + LAB, "-e", "virtlab_report_dir=" + report)


def status_lines(inventory):
    """{host: its line of the status table}."""
    proc = playbook(inventory, "status", json_output=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    table = json.loads(proc.stdout)["plays"][-1]["tasks"][-1]["hosts"]["localhost"]["msg"]
    return dict((line.split()[0], line) for line in table[1:])


def junit_failures(report):
    tree = ElementTree.parse(os.path.join(report, LAB + ".junit.xml"))
    return sorted(case.get("name") for case in tree.iter("testcase") if case.find("failure") is not None)


def lab_state():
    """What the grader must not change: each container's addresses and routes, and which services run."""
    state = {}
    for host in HOSTS:
        state[host] = (dexec(host, "ip", "-o", "-4", "addr", "show").stdout,
                       dexec(host, "ip", "-4", "route", "show").stdout,
                       dexec(host, "sh", "-c", "ps -eo args | grep -c '[s]ervice.py'", check=False).stdout)
    state["objective 5"] = (sh("docker", "ps", "-a", "--filter", "name=%sobjective5-" % PREFIX, "--format",
                               "{{.Names}} {{.Image}} {{.State}}").stdout,
                            sh("docker", "image", "inspect", "-f", "{{.Id}}", OBJECTIVE5_IMAGE, check=False).stdout)
    return state


def test_a_hand_built_lab_passes(inventory, tmp_path):
    proc = validate(inventory, str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "all" in proc.stdout and "checks passed" in proc.stdout
    assert junit_failures(str(tmp_path)) == []
    report = (tmp_path / (LAB + ".md")).read_text()
    assert report.startswith("# Lab %s: all" % LAB) and "| 10-11 |" in report and "| 9 |" in report
    assert "| 5 | 3/3 |" in report, report
    assert (tmp_path / (LAB + ".svg")).read_text().lstrip().startswith("<?xml")
    status = status_lines(inventory)
    assert sorted(status) == sorted(HOSTS)
    assert "2/2 in sync" in status["cs"] and "calculator answering" in status["cs"], status["cs"]


def test_each_fault_fails_by_name_and_the_lab_is_left_as_it_was(inventory, tmp_path):
    dexec("cs", "ip", "route", "del", "10.79.3.0/24")                          # one route missing
    device = dexec("sum", "sh", "-c", "ip -o -4 addr show | awk '/ 10.79.3.11\\// {print $2}'").stdout.strip()
    dexec("sum", "ip", "addr", "del", "10.79.3.11/24", "dev", device)          # one wrong address
    dexec("sum", "ip", "addr", "add", "10.79.3.99/24", "dev", device)
    dexec("div", "pkill", "-f", "service.py")                                  # one stopped service
    sh("docker", "kill", OBJECTIVE5[1])                                        # objective 5 undone
    before = lab_state()
    proc = validate(inventory, str(tmp_path))
    assert proc.returncode != 0, proc.stdout[-3000:]
    failures = junit_failures(str(tmp_path))
    assert "cs: route to pn3 (10.79.3.0/24)" in failures, failures
    assert "sum: address on pn3" in failures, failures
    assert "div: div answers on port 50004" in failures, failures
    assert "docker: container %s runs from %s" % (OBJECTIVE5[1], OBJECTIVE5_IMAGE) in failures, failures
    assert "docker: container %s runs" % OBJECTIVE5[0] not in failures, failures
    for named in ("objective 10-11, cs: route to pn3 (10.79.3.0/24)", "objective 9, sum: address on pn3",
                  "objective 9, div: div answers on port 50004",
                  "objective 5, docker: container %s runs from %s" % (OBJECTIVE5[1], OBJECTIVE5_IMAGE)):
        assert named in proc.stdout, named
    report = (tmp_path / (LAB + ".md")).read_text()
    assert "**FAILED**" in report and "## Failed" in report
    assert 'color=red' in (tmp_path / (LAB + ".dot")).read_text(), "broken paths are drawn in red"
    assert lab_state() == before, "the grader changed the lab"
    status = status_lines(inventory)
    assert "1/2 in sync" in status["cs"] and "10.79.3.11/24 MISSING" in status["sum"], status
    assert "div NOT ANSWERING" in status["div"], status["div"]
    assert lab_state() == before, "the status view changed the lab"
