# -*- coding: utf-8 -*-
"""static_routes and node_service, run by Ansible inside a throwaway systemd node, as the roles run them.

The node is a container of the lab's base image on a test network (10.78.5.0/24); each call goes through
``ansible`` with the Docker API connection, so arguments, check mode and diff are Ansible's own. The last tests
set the node up by hand and check that the one reader of its state (the observation command both the modules
and their action plugins run, and its parser) sees exactly that, with and without a terminal.
"""

import json
import os
import subprocess
import tempfile

import docker
import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.virtlab.core.plugins.module_utils.node import node_service, static_routes
from ansible_collections.virtlab.core.plugins.module_utils.node.observe import BEGIN

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
IMAGE = "virtlab/debian-systemd:bookworm"
NODE = "virtlab-test-sidenode"
NETWORK = "virtlab-test-side"


@pytest.fixture(scope="module")
def node():
    client = docker.from_env(version="auto")
    for leftover in client.containers.list(all=True, filters={"name": NODE}):
        leftover.remove(force=True)
    for leftover in client.networks.list(names=[NETWORK]):
        leftover.remove()
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.78.5.0/24",
                                                                       gateway="10.78.5.254")])
    network = client.networks.create(NETWORK, internal=True, ipam=ipam)
    container = client.containers.create(
        IMAGE, name=NODE, hostname="sidenode", cap_add=["SYS_ADMIN", "NET_ADMIN"], cgroupns="host",
        tmpfs={"/run": "", "/run/lock": ""}, volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}},
        stop_signal="SIGRTMIN+3", environment={"container": "docker"}, sysctls={"net.ipv4.ip_forward": "0"},
        network=NETWORK, networking_config={NETWORK: client.api.create_endpoint_config(ipv4_address="10.78.5.10")},
        detach=True, tty=True)
    container.start()
    for unused_try in range(60):
        status = container.exec_run(["systemctl", "is-system-running"]).output.decode().strip()
        if status in ("running", "degraded"):
            break
        subprocess.run(["sleep", "0.5"], check=True)
    else:
        pytest.fail("the test node did not boot: %s" % status)
    yield container
    container.remove(force=True)
    network.remove()


def run(module, args, check=False, diff=False, count_module_runs=False):
    """One module call through ansible; returns the module's result. With ``count_module_runs``, the result also
    says (under ``_module_runs``) how many times a Python module was started on the node."""
    command = ["ansible", "all", "-i", NODE + ",", "-c", "community.docker.docker_api",
               "-e", "ansible_python_interpreter=/usr/bin/python3", "-m", module, "-a", json.dumps(args)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        if count_module_runs:
            command.append("-vvv")
            env["ANSIBLE_LOG_PATH"] = log.name
        proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
        trace = log.read()
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    result = report["plays"][0]["tasks"][0]["hosts"][NODE]
    if count_module_runs:
        result["_module_runs"] = len([line for line in trace.splitlines()
                                      if "EXEC" in line and "/usr/bin/python3 && sleep 0" in line])
    return result


def sh(container, command):
    return container.exec_run(["sh", "-c", command]).output.decode()


ROUTES = {"routes": [{"dest": "10.78.6.0/24", "via": "10.78.5.1"}, {"dest": "10.78.7.0/24", "via": "10.78.5.2"}]}


def test_routes_are_added_persisted_and_reported_once(node):
    check = run("virtlab.core.static_routes", ROUTES, check=True, diff=True)
    assert check["changed"] and check["added"] == ["10.78.6.0/24 via 10.78.5.1", "10.78.7.0/24 via 10.78.5.2"]
    routes_diff = check["diff"][0]
    assert "10.78.6.0/24 via 10.78.5.1" in routes_diff["after"] and "10.78.6.0/24" not in routes_diff["before"]
    assert "10.78.6.0/24" not in sh(node, "ip route"), "check mode must not add routes"

    first = run("virtlab.core.static_routes", ROUTES)
    assert first["changed"] and first["persisted"]
    table = sh(node, "ip route")
    assert "10.78.6.0/24 via 10.78.5.1" in table and "10.78.7.0/24 via 10.78.5.2" in table
    persisted = sh(node, "cat /etc/virtlab/static-routes")
    assert "10.78.6.0/24 via 10.78.5.1" in persisted and "10.78.7.0/24 via 10.78.5.2" in persisted
    assert sh(node, "systemctl is-enabled virtlab-static-routes").strip() == "enabled"

    again = run("virtlab.core.static_routes", ROUTES, count_module_runs=True)
    assert again["changed"] is False
    assert again["_module_runs"] == 0, "routes in place: the action answers from one shell command"
    assert again["routes"] == first["routes"] and again["forwarding"] == first["forwarding"]
    assert again["added"] == again["replaced"] == again["removed"] == again["persisted"] == []


def test_a_lost_route_comes_back_and_only_it_is_reported(node):
    run("virtlab.core.static_routes", ROUTES)
    sh(node, "ip route del 10.78.7.0/24")
    repaired = run("virtlab.core.static_routes", ROUTES, count_module_runs=True)
    assert repaired["changed"] and repaired["added"] == ["10.78.7.0/24 via 10.78.5.2"]
    assert repaired["_module_runs"] == 1, "a route is missing: the module runs and repairs it"
    assert repaired["removed"] == [] and repaired["replaced"] == [] and repaired["persisted"] == []


def test_wrong_next_hop_is_replaced_and_undeclared_routes_purged(node):
    run("virtlab.core.static_routes", ROUTES)
    sh(node, "ip route replace 10.78.7.0/24 via 10.78.5.3; ip route add 10.78.8.0/24 via 10.78.5.4")
    result = run("virtlab.core.static_routes", ROUTES)
    assert result["replaced"] == ["10.78.7.0/24 via 10.78.5.3 -> 10.78.5.2"]
    assert result["removed"] == ["10.78.8.0/24 via 10.78.5.4"]
    assert "10.78.8.0/24" not in sh(node, "ip route")
    kept = run("virtlab.core.static_routes", dict(ROUTES, purge=False))
    assert kept["changed"] is False


def test_forwarding_is_set_through_a_read_only_proc_sys(node):
    assert sh(node, "cat /proc/sys/net/ipv4/ip_forward").strip() == "0"
    on = run("virtlab.core.static_routes", dict(ROUTES, forwarding=True))
    assert on["changed"] and on["forwarding"] is True
    assert sh(node, "cat /proc/sys/net/ipv4/ip_forward").strip() == "1"
    assert "forwarding 1" in sh(node, "cat /etc/virtlab/static-routes")
    assert run("virtlab.core.static_routes", dict(ROUTES, forwarding=True))["changed"] is False
    off = run("virtlab.core.static_routes", dict(ROUTES, forwarding=False))
    assert off["changed"] and sh(node, "cat /proc/sys/net/ipv4/ip_forward").strip() == "0"


def test_bad_route_fails_before_anything_changes(node):
    before = sh(node, "ip route")
    result = run("virtlab.core.static_routes", {"routes": [{"dest": "10.78.9.0/24", "via": "not-an-address"}]})
    assert result.get("failed") and "route 10.78.9.0/24 via not-an-address is not valid" in result["msg"]
    assert sh(node, "ip route") == before


SERVICE = {"name": "virtlab-test-web", "user": "virtlabtest", "directory": "/opt/virtlab-test",
           "files": [{"path": "index.html", "content": "hello from the test service\n"}],
           "environment": {"GREETING": "hello"},
           "exec_start": "/usr/bin/python3 -m http.server 8080 --directory /opt/virtlab-test", "port": 8080}


def test_service_is_installed_running_as_its_user_and_idempotent(node):
    check = run("virtlab.core.node_service", SERVICE, check=True)
    assert check["changed"] and "created user virtlabtest" in check["actions"]
    assert sh(node, "id virtlabtest 2>&1").startswith("id:"), "check mode must not create the user"

    first = run("virtlab.core.node_service", SERVICE)
    assert first["changed"] and "started" in first["actions"] and "enabled" in first["actions"]
    assert sh(node, "systemctl is-active virtlab-test-web").strip() == "active"
    assert sh(node, "systemctl is-enabled virtlab-test-web").strip() == "enabled"
    assert sh(node, "ps -o user= -C python3").split()[0] == "virtlabtest"
    assert "hello from the test service" in sh(node, "curl -s http://127.0.0.1:8080/index.html")
    assert sh(node, "stat -c '%a %G' /etc/virtlab/virtlab-test-web.env").strip() == "640 virtlabtest"

    again = run("virtlab.core.node_service", SERVICE, count_module_runs=True)
    assert again["changed"] is False and again["actions"] == []
    assert again["_module_runs"] == 0, "service in place: the action answers from one shell command"
    assert again["service"] == {"name": "virtlab-test-web", "user": "virtlabtest", "enabled": True, "active": True}
    sh(node, "chmod 600 /opt/virtlab-test/index.html")
    mode_fixed = run("virtlab.core.node_service", SERVICE, count_module_runs=True)
    assert mode_fixed["actions"] == ["wrote /opt/virtlab-test/index.html", "restarted"]
    assert mode_fixed["_module_runs"] == 1


def test_changed_file_restarts_the_service_and_shows_in_the_diff(node):
    run("virtlab.core.node_service", SERVICE)
    changed = dict(SERVICE, environment={"GREETING": "bonjour"})
    preview = run("virtlab.core.node_service", changed, check=True, diff=True)
    assert preview["actions"] == ["wrote /etc/virtlab/virtlab-test-web.env", "restarted"]
    assert "GREETING=bonjour" in preview["diff"][0]["after"] and "GREETING=hello" in preview["diff"][0]["before"]
    pid_before = sh(node, "systemctl show -p MainPID --value virtlab-test-web").strip()
    result = run("virtlab.core.node_service", changed)
    assert result["actions"] == ["wrote /etc/virtlab/virtlab-test-web.env", "restarted"]
    assert sh(node, "systemctl show -p MainPID --value virtlab-test-web").strip() != pid_before


def test_service_that_never_listens_fails_with_its_journal(node):
    broken = dict(SERVICE, name="virtlab-test-broken", exec_start="/bin/sh -c 'echo cannot start; exit 3'",
                  port=8081, start_timeout=5)
    result = run("virtlab.core.node_service", broken)
    assert result.get("failed")
    assert "virtlab-test-broken" in result["msg"]
    assert any("cannot start" in line for line in result["journal"])


def test_root_user_is_refused_before_anything_changes(node):
    result = run("virtlab.core.node_service", dict(SERVICE, name="virtlab-test-root", user="root"))
    assert result.get("failed") and "never run as root" in result["msg"]
    assert sh(node, "test -e /etc/systemd/system/virtlab-test-root.service && echo present").strip() == ""


def test_absent_removes_the_service(node):
    run("virtlab.core.node_service", SERVICE)
    gone = run("virtlab.core.node_service", dict(SERVICE, state="absent"))
    assert gone["changed"] and gone["actions"] == ["stopped and removed"]
    assert sh(node, "systemctl is-active virtlab-test-web").strip() != "active"
    assert run("virtlab.core.node_service", dict(SERVICE, state="absent"))["changed"] is False


def observe(container, command):
    """The observation's output, as the node prints it without a terminal and through one."""
    plain = container.exec_run(["sh", "-c", command]).output.decode()
    terminal = container.exec_run(["sh", "-c", command], tty=True).output.decode()
    assert plain.startswith(BEGIN + "\n") and terminal.startswith(BEGIN + "\r\n"), "the terminal makes newlines CRLF"
    return plain, terminal


def test_the_one_reader_sees_the_routes_forwarding_and_files_the_test_set_up(node):
    sh(node, "ip -4 route show table main | grep ' via ' | grep -v '^default' | while read -r dest unused_via via rest;"
             " do ip route del \"$dest\" via \"$via\"; done;"
             " ip route add 10.78.9.0/24 via 10.78.5.9; ip route add 10.78.10.5 via 10.78.5.8;"
             " mount -o remount,rw /proc/sys; echo 1 > /proc/sys/net/ipv4/ip_forward; mount -o remount,ro /proc/sys;"
             " mkdir -p /etc/virtlab; printf 'by hand\\r\\nno final newline' > %s; chmod 600 %s; rm -f %s %s;"
             " printf '[Unit]\\n' > %s" % (static_routes.CONFIG_PATH, static_routes.CONFIG_PATH,
                                           static_routes.SCRIPT_PATH, static_routes.WANTS_LINK, static_routes.UNIT_PATH))
    try:
        for output in observe(node, static_routes.observe_command()):
            state = static_routes.parse_observation(output)
            assert state.routes == {"10.78.9.0/24": "10.78.5.9", "10.78.10.5/32": "10.78.5.8"}
            assert state.forwarding is True
            assert state.files == {static_routes.CONFIG_PATH: "by hand\r\nno final newline",
                                   static_routes.SCRIPT_PATH: None, static_routes.UNIT_PATH: "[Unit]\n"}
            assert state.unit_enabled is False
    finally:
        sh(node, "mount -o remount,rw /proc/sys; echo 0 > /proc/sys/net/ipv4/ip_forward; mount -o remount,ro /proc/sys")


def test_the_one_reader_sees_the_service_as_it_is(node):
    run("virtlab.core.node_service", SERVICE)
    params = ArgumentSpecValidator(node_service.ARGUMENT_SPEC).validate(SERVICE).validated_parameters
    sh(node, "chmod 600 /opt/virtlab-test/index.html; systemctl stop virtlab-test-web")
    try:
        for output in observe(node, node_service.observe_command(params)):
            state = node_service.parse_observation(output)
            assert (state.user_exists, state.active, state.enabled) == (True, False, True)
            wanted = dict((path, (mode, content)) for path, content, mode in node_service.wanted_files(params))
            index = "/opt/virtlab-test/index.html"
            assert state.files == dict(wanted, **{index: ("0600", "hello from the test service\n")})
            assert node_service.plan(state, params).texts() == ["wrote %s" % index, "started"]
    finally:
        run("virtlab.core.node_service", dict(SERVICE, state="absent"))
