# -*- coding: utf-8 -*-
"""The objective-8 playbook and the provisioning part of objectives 9-11, against the control plane."""

import json
import os
import re
import subprocess

import pytest

from conftest import IMAGE, REPO, TEST_CLOUD

INVENTORY = os.path.join(REPO, "inventories", "openstack")
HERE = os.path.dirname(os.path.abspath(__file__))


def playbook_command(path, *extra, **extra_vars):
    """(argv, environment) of an ansible-playbook run on the OpenStack inventory against the test cloud."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), OS_CLOUD=TEST_CLOUD,
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    args = [os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", INVENTORY, path]
    # No key pair unless a test gives one: the API tests' servers boot nothing.
    extra_vars.setdefault("virtlab_openstack_key_name", "")
    return args + ["-e", json.dumps(extra_vars)] + list(extra), env


def playbook(path, *extra, **extra_vars):
    args, env = playbook_command(path, *extra, **extra_vars)
    proc = subprocess.run(args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=1800, check=False)
    assert proc.returncode == 0, failures(proc.stdout) + proc.stdout[-6000:]
    return proc.stdout


def failures(output):
    """The failed tasks of a run, each with its task title and message: a long run's tail alone hides them."""
    lines = output.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if re.match(r"^(fatal|failed): \[", line):
            title = next((lines[i] for i in range(index, -1, -1) if lines[i].startswith("TASK [")), "")
            blocks.append("\n".join([title] + lines[index:index + 25]))
    return ("FAILED TASKS:\n%s\n\nTAIL:\n" % "\n\n".join(blocks)) if blocks else ""


def recap(output):
    """{host: {ok: n, changed: n, failed: n, ...}} from PLAY RECAP."""
    result = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.MULTILINE):
        result[host] = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", counts))
    return result


def test_objective8_playbook(control_plane, sdk):
    path = os.path.join(REPO, "playbooks", "objective8_openstack.yml")
    # The fake hypervisor's image: the API side (objective 8 on real guests: test_objective8_guests).
    extra = dict(objective8_prefix="vt-o8-", objective8_cidr="10.95.0.0/24", virtlab_openstack_image=IMAGE,
                 virtlab_openstack_flavor="m1.small", virtlab_openstack_bigger_flavor="m1.medium")
    try:
        first = playbook(path, **extra)
        assert recap(first)["localhost"]["failed"] == 0
        assert "resize from m1.small to m1.medium" in first
        server = sdk.compute.find_server("vt-o8-vm")
        server = sdk.compute.get_server(server.id)
        assert (server.status, server.flavor["original_name"]) == ("ACTIVE", "m1.medium")
        [fip] = [ip for ip in sdk.network.ips() if ip.fixed_ip_address and
                 ip.port_id in [p.id for p in sdk.network.ports(device_id=server.id)]]
        assert fip.floating_network_id == sdk.network.find_network("public").id
        [snapshot] = list(sdk.image.images(name="vt-o8-vm-snapshot"))
        assert snapshot.status == "active"
        group = sdk.network.find_security_group("vt-o8-sg")
        ports = sorted((r.protocol, r.port_range_min, r.port_range_max)
                       for r in sdk.network.security_group_rules(security_group_id=group.id)
                       if r.direction == "ingress")
        assert ports == [("icmp", None, None), ("tcp", 22, 22), ("tcp", 50000, 50050)]

        second = playbook(path, **extra)
        assert recap(second)["localhost"]["changed"] == 0, second[-3000:]
        checked = playbook(path, "--check", **extra)
        assert recap(checked)["localhost"]["changed"] == 0
    finally:
        removed = playbook(path, **dict(extra, objective8_state="absent"))
    assert recap(removed)["localhost"]["failed"] == 0
    assert sdk.compute.find_server("vt-o8-vm") is None
    assert sdk.network.find_network("vt-o8-net") is None
    assert not list(sdk.image.images(name="vt-o8-vm-snapshot"))


def test_calculator_provisioning(control_plane, sdk, tmp_path):
    path = os.path.join(HERE, "playbooks", "calculator_provision.yml")
    report = tmp_path / "reach.json"
    state_file = tmp_path / "lab.json"
    # Lab index 101 (10.178.x): the real lab of the session (guestlab.py, index 100) may exist meanwhile, and no
    # two networks of a project may overlap.
    extra = dict(virtlab_openstack_prefix="vt-calc-", provision_openstack_wait_for_ssh=False,
                 virtlab_openstack_lab_index=101,
                 virtlab_openstack_state_file=str(state_file),
                 provision_openstack_image=IMAGE, provision_report_file=str(report))
    net = sdk.network
    try:
        first = playbook(path, **extra)
        counts = recap(first)
        assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values()), first[-4000:]

        # Networks: PN2's subnet has no gateway; PN1 and PN3 have RT1's and RT2's addresses.
        subnets = dict((s.name, s) for s in net.subnets() if s.name and s.name.startswith("vt-calc-"))
        assert sorted(subnets) == ["vt-calc-pn1-subnet", "vt-calc-pn2-subnet", "vt-calc-pn3-subnet"]
        assert subnets["vt-calc-pn1-subnet"].gateway_ip == "10.178.1.1"
        assert subnets["vt-calc-pn2-subnet"].gateway_ip is None
        assert subnets["vt-calc-pn3-subnet"].gateway_ip == "10.178.3.1"

        # Routers are Neutron routers: RT1 with the external gateway, RT2 joining PN2 and PN3.
        def router_ips(name):
            router = net.find_router(name)
            return router, sorted(f["ip_address"] for p in net.ports(device_id=router.id)
                                  if p.device_owner == "network:router_interface" for f in p.fixed_ips)
        rt1, rt1_ips = router_ips("vt-calc-rt1")
        assert rt1.external_gateway_info["network_id"] == net.find_network("public").id
        assert rt1_ips == ["10.178.1.1"]
        rt2, rt2_ips = router_ips("vt-calc-rt2")
        assert not rt2.external_gateway_info and rt2_ips == ["10.178.2.1", "10.178.3.1"]
        assert sdk.compute.find_server("vt-calc-rt1") is None, "a router became a server"
        assert sdk.compute.find_server("vt-calc-outside") is None

        # Servers at their topology addresses; the CS alone has a floating IP.
        def addresses(name):
            server = sdk.compute.get_server(sdk.compute.find_server(name).id)
            assert server.status == "ACTIVE"
            return sorted(a["addr"] for entries in server.addresses.values() for a in entries
                          if a.get("OS-EXT-IPS:type") != "floating")
        assert addresses("vt-calc-cs") == ["10.178.1.10", "10.178.2.10"]
        assert addresses("vt-calc-sum") == ["10.178.3.11"]
        assert addresses("vt-calc-div") == ["10.178.3.14"]
        cs_ports = [p.id for p in net.ports(device_id=sdk.compute.find_server("vt-calc-cs").id)]
        [cs_fip] = [ip for ip in net.ips() if ip.port_id in cs_ports]
        assert cs_fip.fixed_ip_address == "10.178.1.10"
        for op in ("sum", "sub", "mul", "div"):
            op_ports = [p.id for p in net.ports(device_id=sdk.compute.find_server("vt-calc-" + op).id)]
            assert not [ip for ip in net.ips() if ip.port_id in op_ports], "%s got a floating IP" % op

        # Ansible reaches the CS on its floating IP, the others through it: the inventory reads it from the
        # state file provision_openstack wrote.
        state = json.loads(state_file.read_text())
        assert state == {"jump_host": "cs", "nat": {"10.178.1.10": cs_fip.floating_ip_address},
                         "hosts": {"cs": cs_fip.floating_ip_address, "sum": "10.178.3.11", "sub": "10.178.3.12",
                                   "mul": "10.178.3.13", "div": "10.178.3.14"}}
        reach = json.loads(report.read_text())
        assert reach["cs"]["ansible_host"] == cs_fip.floating_ip_address
        assert reach["sum"]["ansible_host"] == "10.178.3.11"
        jump = reach["sum"]["ansible_ssh_common_args"]
        assert ("ProxyJump=debian@%s" % cs_fip.floating_ip_address in jump
                or ("ProxyCommand=" in jump and "debian@%s" % cs_fip.floating_ip_address in jump)), jump
        assert "rt1" not in reach

        second = playbook(path, **extra)
        assert all(c["changed"] == 0 for c in recap(second).values()), second[-4000:]
    finally:
        removed = playbook(path, **dict(extra, provision_openstack_state="absent"))
    assert all(c["failed"] == 0 for c in recap(removed).values()), removed[-4000:]
    assert not [s for s in sdk.compute.servers() if s.name.startswith("vt-calc-")]
    assert not [n for n in net.networks() if n.name.startswith("vt-calc-")]
    assert net.find_router("vt-calc-rt1") is None and net.find_router("vt-calc-rt2") is None
    assert not state_file.exists()


def test_inventory_before_a_lab_exists_says_so(tmp_path):
    """`ansible servers -m ping` before site.yml: every server says no lab has been built, and how to build it
    (not ssh's "Could not resolve hostname div"); with a lab, a Neutron router says it is none of its servers."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")

    def ping(pattern, state_file):
        return subprocess.run(
            [os.path.join(REPO, ".venv", "bin", "ansible"), "-i", INVENTORY, pattern, "-m", "ansible.builtin.ping",
             "-e", json.dumps({"virtlab_openstack_state_file": str(state_file), "ansible_timeout": 5})],
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
            timeout=120, check=False)
    missing = tmp_path / "lab.json"
    proc = ping("servers", missing)
    assert proc.returncode != 0
    for host in ("cs", "sum", "sub", "mul", "div"):
        assert re.search(r"%s \| UNREACHABLE.*\n(.*\n)*?.*virtlab: no OpenStack lab has been built with prefix "
                         r"virtlab-, there is no state file %s - ansible-playbook -i inventories/openstack site.yml "
                         r"builds it" % (host, re.escape(str(missing))), proc.stdout), proc.stdout
    assert "Could not resolve hostname" not in proc.stdout, proc.stdout

    missing.write_text(json.dumps({"jump_host": "cs", "hosts": {"cs": "127.0.0.1"}, "nat": {}}))
    proc = ping("rt1", missing)
    assert "virtlab: rt1 is no server of the OpenStack lab virtlab- - a Neutron router has nothing to log " \
           "into. Its servers: cs" in proc.stdout, proc.stdout


def failed_playbook(path, **extra_vars):
    """The output of a playbook run that must fail."""
    args, env = playbook_command(path, **extra_vars)
    proc = subprocess.run(args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600, check=False)
    assert proc.returncode != 0, proc.stdout[-4000:]
    return proc.stdout


def nothing_named(sdk, prefix):
    net = sdk.network
    left = [s.name for s in sdk.compute.servers() if s.name.startswith(prefix)]
    left += [n.name for n in net.networks() if n.name.startswith(prefix)]
    left += [r.name for r in net.routers() if r.name.startswith(prefix)]
    left += [g.name for g in net.security_groups() if g.name.startswith(prefix)]
    return left == [], left


def test_unknown_external_network_fails_before_anything_is_created(control_plane, sdk, tmp_path):
    extra = dict(virtlab_openstack_prefix="vt-noext-", provision_openstack_wait_for_ssh=False,
                 virtlab_openstack_state_file=str(tmp_path / "lab.json"), provision_openstack_image=IMAGE,
                 virtlab_openstack_external_network="no-such-public")
    output = failed_playbook(os.path.join(HERE, "playbooks", "calculator_provision.yml"), **extra)
    assert "Unknown external network 'no-such-public' (nothing has been created). External networks of this " \
           "cloud: public" in output, output[-4000:]
    assert nothing_named(sdk, "vt-noext-") == (True, [])
    # Objective 8 likewise.
    output = failed_playbook(os.path.join(REPO, "playbooks", "objective8_openstack.yml"), objective8_prefix="vt-noext-",
                             virtlab_openstack_image=IMAGE, virtlab_openstack_external_network="no-such-public")
    assert "Unknown external network 'no-such-public'" in output, output[-4000:]
    assert nothing_named(sdk, "vt-noext-") == (True, [])


def test_quota_exceeded_fails_before_anything_is_created(control_plane, sdk, admin_sdk, request, tmp_path):
    """Room for one server more in the project: the lab's five fail first, naming the quota; nothing is made."""
    try:   # the session's real guests, when they are being built meanwhile (guestlab.py)
        build = request.getfixturevalue("lab_build_first")
    except pytest.FixtureLookupError:
        build = None
    if build is not None:
        # (guestlab imports this module: imported here, not at the top)
        from guestlab import lab_servers_created  # pylint: disable=import-outside-toplevel
        lab_servers_created(sdk, build)
    project = sdk.current_project_id
    original = admin_sdk.get_compute_quotas(project).instances
    used = sdk.compute.get_limits().absolute.instances_used
    extra = dict(virtlab_openstack_prefix="vt-quota-", provision_openstack_wait_for_ssh=False,
                 virtlab_openstack_state_file=str(tmp_path / "lab.json"), provision_openstack_image=IMAGE)
    admin_sdk.set_compute_quotas(project, instances=used + 1)
    try:
        output = failed_playbook(os.path.join(HERE, "playbooks", "calculator_provision.yml"), **extra)
    finally:
        admin_sdk.set_compute_quotas(project, instances=original)
    assert "The project's quota has no room for what this play creates (nothing has been created): servers: 5 " \
           "needed, 1 of %d left (%d used)" % (used + 1, used) in output, output[-4000:]
    assert nothing_named(sdk, "vt-quota-") == (True, [])
