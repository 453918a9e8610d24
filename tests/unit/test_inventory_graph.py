# -*- coding: utf-8 -*-
"""The inventories built by virtlab.core.topology (inventories/<backend>/lab.virtlab.yml) show the same groups,
hosts and connection variables as the hosts.yml files they replaced, so every playbook works unchanged; the
groups they add are nodes and virtlab_machines. Runs ansible-inventory, as a user would."""

import json
import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = ["rt1", "rt2", "cs", "sum", "sub", "mul", "div", "outside"]
# The groups of the replaced hosts.yml files (the same on every backend), in their order.
BEFORE = {"routers": ["rt1", "rt2"], "calculator": ["cs"], "operations": ["sum", "sub", "mul", "div"],
          "school": ["outside"]}
CONTROLLER = {"docker": "virtlab_docker", "proxmox": "virtlab_proxmox", "virtualbox": "virtlab_virtualbox",
              "openstack": "virtlab_openstack"}
# Per backend, the connection variables the replaced hosts.yml (and group_vars/lab.yml) gave each host.
PROXMOX = {"rt1": (701, "pve1", "192.168.100.71"), "rt2": (702, "pve2", "192.168.100.72"),
           "cs": (710, "pve1", "192.168.100.80"), "sum": (711, "pve2", "192.168.100.81"),
           "sub": (712, "pve2", "192.168.100.82"), "mul": (713, "pve1", "192.168.100.83"),
           "div": (714, "pve1", "192.168.100.84"), "outside": (720, "pve2", "192.168.100.90")}
VBOX_PORTS = {"rt1": 2201, "rt2": 2202, "cs": 2210, "sum": 2211, "sub": 2212, "mul": 2213, "div": 2214,
              "outside": 2220}


def inventory(backend, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["ansible-inventory", "-i", "inventories/%s" % backend] + list(args), cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "WARNING" not in proc.stderr, proc.stderr
    return proc.stdout


def plain(value):
    """A value of ansible-inventory --list without its trust markers."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, plain(v)) for k, v in value.items())
    return value


# inventories/openstack keeps its hosts.yml until it switches (docs: lab.virtlab.yml with backend openstack).
@pytest.fixture(scope="module", params=["docker", "proxmox", "virtualbox"])
def listed(request):
    data = json.loads(inventory(request.param, "--list"))
    return (request.param, dict((g, v) for g, v in data.items() if g != "_meta"), plain(data["_meta"]["hostvars"]),
            data["_meta"]["hostvars"])


def test_the_same_groups_and_hosts_as_before(listed):
    backend, groups = listed[:2]
    for group, hosts in BEFORE.items():
        assert groups[group]["hosts"] == hosts, group
    assert sorted(groups["lab"]["children"]) == sorted(list(BEFORE) + ["nodes"])
    assert groups[CONTROLLER[backend]]["hosts"] == ["localhost"]
    for other in set(CONTROLLER.values()) - {CONTROLLER[backend]}:
        assert "hosts" not in groups.get(other, {}), other
    assert groups["nodes"]["hosts"] == LAB[2:]
    assert groups["virtlab_machines"]["hosts"] == LAB


def test_each_host_is_reached_as_before(listed):
    backend, hostvars = listed[0], listed[2]
    assert hostvars["localhost"]["ansible_connection"] == "local"
    for host in LAB:
        variables = hostvars[host]
        if backend == "docker":
            assert variables["ansible_connection"] == "community.docker.docker_api"
            assert variables["ansible_host"] == "{{ virtlab_docker_name_prefix }}%s" % host
            assert variables["ansible_python_interpreter"] == "/usr/bin/python3"
        elif backend == "proxmox":
            assert (variables["virtlab_proxmox_vmid"], variables["virtlab_proxmox_node"],
                    variables["ansible_host"]) == PROXMOX[host]
            assert variables["ansible_connection"] == "ssh" and variables["ansible_user"] == "root"
        elif backend == "virtualbox":
            assert (variables["ansible_host"], variables["ansible_port"]) == ("127.0.0.1", VBOX_PORTS[host])
            assert variables["ansible_connection"] == "ssh"
    if backend == "proxmox":
        assert (hostvars["pve1"]["ansible_host"], hostvars["pve2"]["ansible_host"]) == ("192.168.100.11",
                                                                                        "192.168.100.12")


@pytest.mark.parametrize("backend", ["docker", "proxmox", "virtualbox"])
def test_graph_shows_the_lab(backend):
    graph = inventory(backend, "--graph")
    for group in list(BEFORE) + ["lab", "nodes", "virtlab_machines", CONTROLLER[backend]]:
        assert re.search(r"\|--@%s:" % group, graph), group
    for host in LAB:
        assert "|--%s\n" % host in graph, host


def test_proxmox_nodes_group():
    graph = inventory("proxmox", "--graph", "proxmox_nodes")
    assert "|--pve1" in graph and "|--pve2" in graph


def test_the_group_vars_topology_file_stays_trusted(listed):
    """The plugin reads group_vars/all/topology.yml past the loader's cache: the group_vars read the same file as
    templates, and a copy cached by the plugin would reach them untrusted (shown as __ansible_unsafe)."""
    raw = listed[3]["cs"]
    assert "__ansible_unsafe" not in json.dumps(raw["virtlab_topology_declared"])
    assert "__ansible_unsafe" not in json.dumps(raw["virtlab_outside_host"])
