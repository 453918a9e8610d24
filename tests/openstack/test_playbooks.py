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
           "into. Its servers: cs - reach them with: ansible -i inventories/openstack servers -m ping" \
           in proc.stdout, proc.stdout


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


def test_check_mode_on_an_incomplete_lab_says_what_it_would_start_and_create(control_plane, sdk, prefix, tmp_path):
    """Issue 13's check mode on OpenStack, on the fake compute host (nothing boots): div's server is built shut off
    (provision_openstack_state=stopped logs into nothing), then ``site.yml --check --diff`` on cs and div exits 0:
    div would be started, cs created with its floating IP, neither is logged into (nothing unreachable), the one
    change reported on each is its server's, and nothing is changed. (The real lab's second run asserts the same
    for a stopped server among running ones, test_calculator_lab.py.)"""
    site = os.path.join(REPO, "site.yml")
    # Its own address plan (lab index 110: 10.187.x): the real lab, building meanwhile, holds the inventory's 10.177.x,
    # and the project refuses a second network on the same range.
    extra = dict(virtlab_openstack_prefix=prefix, virtlab_openstack_state_file=str(tmp_path / "lab.json"),
                 virtlab_openstack_image=IMAGE, virtlab_openstack_flavor="m1.tiny", virtlab_openstack_lab_index=110)
    try:
        playbook(site, "--limit", "div,localhost", "--skip-tags", "objective8", provision_openstack_state="stopped",
                 **extra)
        server = sdk.compute.get_server(sdk.compute.find_server(prefix + "div").id)
        assert server.status == "SHUTOFF"
        checked = playbook(site, "--check", "--diff", "--limit", "cs,div,localhost", "--skip-tags", "objective8",
                           **extra)
        counts = recap(checked)
        assert counts["cs"]["changed"] == counts["div"]["changed"] == 1, checked[-4000:]
        assert all(c["unreachable"] == 0 and c["failed"] == 0 for c in counts.values()), checked[-4000:]
        text = " ".join(checked.split())   # the callback folds long lines of a message
        for host, actions in (("div", "start"), ("cs", "create, given a floating IP")):
            assert "%s: not in place yet (server %s%s would be: %s), so check mode does not log into it" \
                   % (host, prefix, host, actions) in text, checked[-4000:]
        assert sdk.compute.get_server(server.id).status == "SHUTOFF"
        assert sdk.compute.find_server(prefix + "cs") is None
    finally:
        playbook(os.path.join(REPO, "playbooks", "destroy.yml"), **extra)
    assert nothing_named(sdk, prefix) == (True, [])
