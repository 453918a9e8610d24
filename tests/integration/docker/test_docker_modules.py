# -*- coding: utf-8 -*-
"""docker_network, docker_vm and docker_commit against the real local Docker engine.

Every test cleans up the networks and containers it made (names start with virtlab-test-).
"""

import os
import subprocess
import sys

import docker
import pytest

from ansible_collections.virtlab.core.plugins.modules import docker_lab, docker_network, docker_vm

IMAGE = "virtlab/debian-systemd:bookworm"
NET_A = "virtlab-test-a"
NET_B = "virtlab-test-b"
NODE = "virtlab-test-node"
PEER = "virtlab-test-peer"


@pytest.fixture(scope="module")
def client():
    try:
        engine = docker.from_env(version="auto")
        engine.ping()
    except docker.errors.DockerException as exc:
        pytest.fail("these tests need the Docker engine that `make test` starts: %s" % exc)
    if not engine.images.list(name=IMAGE):
        pytest.fail("these tests need the base image %s that `make test` builds" % IMAGE)
    return engine


@pytest.fixture
def clean(client):
    def purge():
        for container in client.containers.list(all=True, filters={"name": "virtlab-test-"}):
            container.remove(force=True)
        for network in client.networks.list(names=[NET_A, NET_B]):
            network.remove()
    purge()
    yield client
    purge()


def net(**kwargs):
    args = dict(name=NET_A, subnet="10.78.1.0/24", gateway="10.78.1.254", internal=True)
    args.update(kwargs)
    return args


def test_network_create_rerun_and_check_mode(run_module, clean):
    result = run_module(docker_network, net(), check_mode=True, diff=True)
    assert result["changed"] and result["actions"] == ["created"]
    assert not clean.networks.list(names=[NET_A]), "check mode must not create the network"

    result = run_module(docker_network, net())
    assert result["changed"] and result["network"]["subnet"] == "10.78.1.0/24" and result["network"]["internal"]
    assert clean.networks.get(NET_A).attrs["Internal"] is True

    again = run_module(docker_network, net(), diff=True)
    assert again["changed"] is False and again["actions"] == []


def test_network_change_with_containers_attached_fails_clearly(run_module, clean):
    run_module(docker_network, net())
    clean.containers.create(IMAGE, name=NODE, network=NET_A)
    result = run_module(docker_network, net(subnet="10.78.2.0/24", gateway="10.78.2.254"))
    assert result["failed"]
    assert "containers are attached to it: %s" % NODE in result["msg"]
    assert "subnet 10.78.1.0/24 -> 10.78.2.0/24" in result["msg"]
    assert clean.networks.get(NET_A).attrs["IPAM"]["Config"][0]["Subnet"] == "10.78.1.0/24"


def test_network_bad_input_fails_before_anything_is_created(run_module, clean):
    result = run_module(docker_network, net(subnet="10.78.1.7/24"))
    assert result["failed"] and "is not a valid subnet" in result["msg"]
    result = run_module(docker_network, net(gateway="10.99.0.1"))
    assert result["failed"] and "gateway 10.99.0.1 is not inside subnet 10.78.1.0/24" in result["msg"]
    assert not clean.networks.list(names=[NET_A])


def test_network_absent_removes_and_is_idempotent(run_module, clean):
    run_module(docker_network, net())
    assert run_module(docker_network, dict(name=NET_A, state="absent"))["changed"]
    assert run_module(docker_network, dict(name=NET_A, state="absent"))["changed"] is False


def node(**kwargs):
    args = dict(name=NODE, hostname="testnode", image=IMAGE, capabilities=["SYS_ADMIN", "NET_ADMIN"],
                networks=[{"name": NET_A, "ipv4_address": "10.78.1.10"}], sysctls={"net.ipv4.ip_forward": 0})
    args.update(kwargs)
    return args


def test_node_boots_systemd_with_fixed_address_and_reruns_unchanged(run_module, clean):
    run_module(docker_network, net())
    result = run_module(docker_vm, node())
    assert result["changed"] and result["actions"] == ["created", "started"]
    assert result["node"]["networks"] == {NET_A: "10.78.1.10"}
    container = clean.containers.get(NODE)
    code, out = container.exec_run(["systemctl", "is-system-running"])
    assert out.decode().strip() in ("running", "degraded")
    assert container.exec_run(["hostname"]).output.decode().strip() == "testnode"
    assert container.exec_run(["cat", "/proc/sys/net/ipv4/ip_forward"]).output.decode().strip() == "0"

    again = run_module(docker_vm, node(), diff=True)
    assert again["changed"] is False, again["actions"]


def test_node_check_mode_reports_recreate_and_touches_nothing(run_module, clean):
    run_module(docker_network, net())
    run_module(docker_vm, node())
    before_id = clean.containers.get(NODE).id
    result = run_module(docker_vm, node(hostname="renamed"), check_mode=True, diff=True)
    assert result["changed"] and result["actions"][0].startswith("recreated (hostname testnode -> renamed")
    assert result["diff"]["before"]["hostname"] == "testnode" and result["diff"]["after"]["hostname"] == "renamed"
    assert clean.containers.get(NODE).id == before_id


def test_node_networks_change_in_place(run_module, clean):
    run_module(docker_network, net())
    run_module(docker_network, net(name=NET_B, subnet="10.78.2.0/24", gateway="10.78.2.254"))
    run_module(docker_vm, node())
    before_id = clean.containers.get(NODE).id
    wanted = [{"name": NET_A, "ipv4_address": "10.78.1.10"}, {"name": NET_B, "ipv4_address": "10.78.2.10"}]
    result = run_module(docker_vm, node(networks=wanted))
    assert result["changed"] and result["actions"] == ["connected %s (10.78.2.10)" % NET_B]
    container = clean.containers.get(NODE)
    assert container.id == before_id
    assert "10.78.2.10" in container.exec_run(["ip", "-4", "addr"]).output.decode()
    assert run_module(docker_vm, node(networks=wanted))["changed"] is False


def test_node_stop_and_absent(run_module, clean):
    run_module(docker_network, net())
    run_module(docker_vm, node())
    assert run_module(docker_vm, node(state="stopped"))["actions"] == ["stopped"]
    assert clean.containers.get(NODE).status == "exited"
    assert run_module(docker_vm, node(state="stopped"))["changed"] is False
    assert run_module(docker_vm, dict(name=NODE, state="absent"))["actions"] == ["removed"]
    assert run_module(docker_vm, dict(name=NODE, state="absent"))["changed"] is False


def test_node_bad_input_fails_before_anything_is_created(run_module, clean):
    result = run_module(docker_vm, node(image="virtlab/none:missing"))
    assert result["failed"] and "there is no registry to pull it from" in result["msg"]
    result = run_module(docker_vm, node())
    assert result["failed"] and "Network %s does not exist" % NET_A in result["msg"]
    run_module(docker_network, net())
    result = run_module(docker_vm, node(networks=[{"name": NET_A, "ipv4_address": "10.78.9.9"}]))
    assert result["failed"] and "ipv4_address 10.78.9.9 is not inside network" in result["msg"]
    result = run_module(docker_vm, node(published_ports=["fifty"]))
    assert result["failed"] and "published port 'fifty'" in result["msg"]
    assert not clean.containers.list(all=True, filters={"name": NODE})


def firewall_rule_present(bridge):
    import subprocess
    return subprocess.run(["iptables", "-w", "-C", "DOCKER-USER", "-i", bridge, "-o", bridge, "-m", "comment",
                           "--comment", "virtlab routed lab network", "-j", "ACCEPT"],
                          capture_output=True, check=False).returncode == 0


def test_routed_network_accepts_forwarded_frames_and_repairs_the_rule(run_module, clean):
    import subprocess
    result = run_module(docker_network, net(routed=True))
    assert result["actions"] == ["created", "allowed routed traffic"]
    bridge = result["network"]["bridge"]
    assert firewall_rule_present(bridge)
    assert run_module(docker_network, net(routed=True))["changed"] is False
    # A lost rule (a firewall reload, a reboot) is seen and restored; check mode only reports it.
    subprocess.run(["iptables", "-w", "-D", "DOCKER-USER", "-i", bridge, "-o", bridge, "-m", "comment",
                    "--comment", "virtlab routed lab network", "-j", "ACCEPT"], check=True)
    assert run_module(docker_network, net(routed=True), check_mode=True)["actions"] == ["allowed routed traffic"]
    assert not firewall_rule_present(bridge)
    assert run_module(docker_network, net(routed=True))["actions"] == ["allowed routed traffic"]
    assert firewall_rule_present(bridge)
    run_module(docker_network, dict(name=NET_A, state="absent"))
    assert not firewall_rule_present(bridge), "removing the network removes its rule"


def test_commit_is_idempotent_and_sees_new_changes(run_module, clean):
    from ansible_collections.virtlab.core.plugins.modules import docker_commit
    run_module(docker_network, net())
    run_module(docker_vm, node())
    container = clean.containers.get(NODE)
    container.exec_run(["sh", "-c", "echo one > /etc/virtlab-test"])
    args = dict(container=NODE, repository="virtlab-test/commit", tag="v1")
    try:
        assert run_module(docker_commit, args, check_mode=True)["actions"] == ["committed"]
        assert not clean.images.list(name="virtlab-test/commit")
        first = run_module(docker_commit, args)
        assert first["changed"] and first["image"]["tags"] == ["virtlab-test/commit:v1"]
        again = run_module(docker_commit, args)
        assert again["changed"] is False and again["image"]["id"] == first["image"]["id"]
        container.exec_run(["sh", "-c", "echo two > /etc/virtlab-test-2"])
        third = run_module(docker_commit, args)
        assert third["changed"] and third["actions"] == ["committed (fingerprint differs)"]
        assert third["image"]["id"] != first["image"]["id"]
        missing = run_module(docker_commit, dict(args, container="virtlab-test-none"))
        assert missing["failed"] and "virtlab-test-none does not exist" in missing["msg"]
    finally:
        for image in clean.images.list(name="virtlab-test/commit"):
            clean.images.remove(image.id, force=True)


def test_commit_compared_on_source_ignores_later_changes_until_the_revision_changes(run_module, clean):
    from ansible_collections.virtlab.core.plugins.modules import docker_commit
    run_module(docker_network, net())
    run_module(docker_vm, node())
    container = clean.containers.get(NODE)
    args = dict(container=NODE, repository="virtlab-test/commit", tag="v1", compare="source", revision="one")
    try:
        first = run_module(docker_commit, args)
        assert first["changed"] and first["image"]["fingerprint"], "the fingerprint is recorded all the same"
        container.exec_run(["sh", "-c", "echo two > /etc/virtlab-test-2"])
        assert run_module(docker_commit, args)["changed"] is False, "compared on source: same container, revision"
        assert run_module(docker_commit, dict(args, compare="changes"))["actions"] == [
            "committed (fingerprint differs)"], "the recorded fingerprint serves compare=changes"
        assert run_module(docker_commit, dict(args, revision="two"))["actions"] == ["committed (revision differs)"]
    finally:
        for image in clean.images.list(name="virtlab-test/commit"):
            clean.images.remove(image.id, force=True)


def lab(**kwargs):
    """Two networks and two nodes, one of them on both networks."""
    args = dict(
        networks=[net(routed=True), net(name=NET_B, subnet="10.78.2.0/24", gateway="10.78.2.254", routed=True)],
        nodes=[node(), node(name=PEER, hostname="peer", networks=[
            {"name": NET_A, "ipv4_address": "10.78.1.11"}, {"name": NET_B, "ipv4_address": "10.78.2.11"}])])
    args.update(kwargs)
    return args


def test_lab_plans_everything_in_check_mode_then_builds_it_in_one_run(run_module, clean):
    planned = run_module(docker_lab, lab(), check_mode=True, diff=True)
    assert planned["changed"], planned
    assert planned["actions"][NET_A] == ["created", "allowed routed traffic"]
    assert planned["actions"][PEER] == ["created", "started"], "a node on networks the same call creates"
    assert planned["diff"]["after"]["nodes"][PEER]["networks"] == {NET_A: "10.78.1.11", NET_B: "10.78.2.11"}
    assert not clean.networks.list(names=[NET_A, NET_B]) and not clean.containers.list(
        all=True, filters={"name": "virtlab-test-"}), "check mode touches nothing"

    built = run_module(docker_lab, lab())
    assert built["changed"] and set(built["actions"]) == {NET_A, NET_B, NODE, PEER}
    assert built["nodes"][PEER]["running"] and built["nodes"][PEER]["networks"][NET_B] == "10.78.2.11"
    peer = clean.containers.get(PEER)
    assert peer.exec_run(["systemctl", "is-system-running"]).output.decode().strip() in ("running", "degraded")
    assert peer.exec_run(["ping", "-c", "1", "-W", "2", "10.78.1.10"]).exit_code == 0

    again = run_module(docker_lab, lab(), diff=True)
    assert again["changed"] is False and again["actions"] == {}
    assert again["diff"]["before"] == {"networks": {}, "images": {}, "nodes": {}}, "an unchanged lab: empty diff"
    assert sorted(again["nodes"]) == sorted([NODE, PEER]) and again["networks"][NET_B]["containers"] == [PEER]


def test_lab_repairs_only_what_drifted(run_module, clean):
    run_module(docker_lab, lab())
    clean.containers.get(NODE).stop(timeout=5)
    clean.networks.get(NET_B).disconnect(PEER)
    repaired = run_module(docker_lab, lab(), diff=True)
    assert repaired["actions"] == {NODE: ["started"], PEER: ["connected %s (10.78.2.11)" % NET_B]}
    assert sorted(repaired["diff"]["after"]["nodes"]) == sorted([NODE, PEER])
    assert repaired["diff"]["after"]["networks"] == {}
    assert clean.containers.get(NODE).status == "running"


def test_lab_bad_input_fails_before_anything_is_created(run_module, clean):
    bad_node = lab(nodes=[node(), node(name=PEER, networks=[{"name": NET_B, "ipv4_address": "10.78.9.9"}])])
    result = run_module(docker_lab, bad_node)
    assert result["failed"] and "ipv4_address 10.78.9.9 is not inside network %s" % NET_B in result["msg"]
    result = run_module(docker_lab, lab(nodes=[node(), node(name=PEER, colour="blue")]))
    assert result["failed"] and "nodes[1] (%s)" % PEER in result["msg"] and "colour" in result["msg"]
    result = run_module(docker_lab, lab(commits=[dict(container=NODE)]))
    assert result["failed"] and "commits[0] (%s)" % NODE in result["msg"] and "repository" in result["msg"]
    bad_net = lab(networks=[net(), net(name=NET_B, subnet="10.78.2.1/24")])
    result = run_module(docker_lab, bad_net)
    assert result["failed"] and "is not a valid subnet" in result["msg"]
    assert not clean.networks.list(names=[NET_A, NET_B]) and not clean.containers.list(
        all=True, filters={"name": "virtlab-test-"}), "nothing was created before the failure"


def test_lab_absent_removes_nodes_before_their_networks(run_module, clean):
    run_module(docker_lab, lab())
    gone = dict(networks=[dict(name=NET_A, state="absent"), dict(name=NET_B, state="absent")],
                nodes=[dict(name=NODE, state="absent"), dict(name=PEER, state="absent")])
    assert run_module(docker_lab, gone, check_mode=True)["actions"][NET_A] == ["removed"]
    assert clean.networks.list(names=[NET_A]), "check mode removes nothing"
    removed = run_module(docker_lab, gone)
    assert removed["actions"] == {NET_A: ["removed"], NET_B: ["removed"], NODE: ["removed"], PEER: ["removed"]}
    assert not clean.networks.list(names=[NET_A, NET_B])
    assert run_module(docker_lab, gone)["changed"] is False


def test_lab_commits_then_runs_the_committed_image_in_one_call(run_module, clean):
    run_module(docker_lab, lab())
    clean.containers.get(NODE).exec_run(["sh", "-c", "echo one > /etc/virtlab-test"])
    runner = node(name="virtlab-test-runner", hostname="runner", image="virtlab-test/commit:v1",
                  networks=[{"name": NET_A, "ipv4_address": "10.78.1.20"}])
    args = dict(commits=[dict(container=NODE, repository="virtlab-test/commit", tag="v1", compare="source",
                              revision="one")], nodes=[runner])
    try:
        planned = run_module(docker_lab, args, check_mode=True)
        assert planned["actions"] == {"virtlab-test/commit:v1": ["committed"],
                                      "virtlab-test-runner": ["created", "started"]}
        assert not clean.images.list(name="virtlab-test/commit"), "check mode commits nothing"
        done = run_module(docker_lab, args)
        image_id = done["images"]["virtlab-test/commit:v1"]["id"]
        runner_container = clean.containers.get("virtlab-test-runner")
        assert runner_container.image.id == image_id
        assert runner_container.exec_run(["cat", "/etc/virtlab-test"]).output.decode().strip() == "one"
        assert run_module(docker_lab, args)["changed"] is False
        # A new revision: a new commit, and the runner is recreated from it in the same call.
        again = run_module(docker_lab, dict(args, commits=[dict(args["commits"][0], revision="two")]))
        assert again["actions"]["virtlab-test/commit:v1"] == ["committed (revision differs)"]
        assert again["actions"]["virtlab-test-runner"][0].startswith("recreated (image_id")
        assert clean.containers.get("virtlab-test-runner").image.id == again["images"]["virtlab-test/commit:v1"]["id"]
    finally:
        for container in clean.containers.list(all=True, filters={"name": "virtlab-test-runner"}):
            container.remove(force=True)
        for image in clean.images.list(name="virtlab-test/commit"):
            clean.images.remove(image.id, force=True)


def ansible_adhoc(*args):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(repo, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_DEPRECATION_WARNINGS="1", ANSIBLE_STRATEGY="linear")
    return subprocess.run(["ansible", "localhost", "--check"] + list(args), cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_old_name_docker_node_still_works_and_warns(clean):
    proc = ansible_adhoc("-m", "virtlab.core.docker_node", "-a", "name=%s-absent state=absent" % NODE)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert '"changed": false' in output or "changed: false" in output, output
    assert "[DEPRECATION WARNING]: virtlab.core.docker_node has been deprecated." in output, output
    assert "use virtlab.core.docker_vm" in output and "version 1.0.0" in output, output


def test_the_docker_group_sets_defaults_also_through_the_old_name(clean, tmp_path):
    # module_defaults of group/virtlab.core.docker reach docker_vm, called by its new name or its old one.
    playbook = tmp_path / "group.yml"
    playbook.write_text("""---
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/virtlab.core.docker:
      docker_host: unix:///nonexistent/virtlab-test.sock
  tasks:
    - virtlab.core.docker_vm: {name: %s-absent, state: absent}
      ignore_errors: true
    - virtlab.core.docker_node: {name: %s-absent, state: absent}
      ignore_errors: true
""" % (NODE, NODE))
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(repo, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STRATEGY="linear")
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e",
                           "ansible_python_interpreter=%s" % sys.executable, str(playbook)], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert output.count("virtlab-test.sock") >= 2 and "ignored=2" in output, output
