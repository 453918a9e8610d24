# -*- coding: utf-8 -*-
"""The lab as a user runs it, on the embedded Docker default.

One ordered scenario (the tests share the lab, so they run in file order):
build it, call the calculator, re-run with no change, then break a route on ``cs`` and watch
the calculator fail, ``--check --diff`` show the missing route, and a re-run repair only that.
Timings of the runs and of ``ansible -m ping`` are printed for the issue's note.
"""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import yaml

from ansible_collections.virtlab.core.plugins.module_utils.node import static_routes
from ansible_collections.virtlab.core.plugins.module_utils.topology import routing

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPOLOGY = yaml.safe_load(open(os.path.join(REPO, "inventories/docker/group_vars/all/topology.yml")))[
    "virtlab_topology"]
CALCULATOR_URL = "http://127.0.0.1:50000"
TIMINGS = {}


@pytest.fixture(scope="module", autouse=True)
def report_timings():
    """Print the wall times at the end, for the note (pytest -s shows them). They are figures, not checks: the
    re-run cost is judged by `make bench` (alternating pairs in one run), since single runs on a shared machine
    vary too much for a timed assertion."""
    yield
    print("\nWall times (seconds) on this machine:")
    for name, seconds in TIMINGS.items():
        print("  %-35s %6.1f" % (name, seconds))
    ping = TIMINGS.get("ansible all -m ping")
    for name in ("no-op re-run of site.yml", "route repair run of site.yml"):
        if ping and name in TIMINGS:
            print("  %-35s %6.1fx" % (name + " / ping", TIMINGS[name] / ping))


def ansible(*args, json_output=False, check=True):
    """Run an Ansible command from the clone, as a user would; returns (CompletedProcess, seconds)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    if json_output:
        env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    start = time.monotonic()
    proc = subprocess.run(list(args), cwd=REPO, env=env, capture_output=True, text=True, timeout=1800, check=False)
    elapsed = time.monotonic() - start
    if check and proc.returncode != 0:
        pytest.fail("%s failed (rc=%s)\n%s\n%s" % (" ".join(args), proc.returncode, proc.stdout[-6000:],
                                                   proc.stderr[-3000:]))
    return proc, elapsed


def changed_tasks(json_stdout):
    """From the json callback: {host: [names of tasks that reported changed]}, and the per-host stats."""
    report = json.loads(json_stdout)
    changed = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("changed"):
                    changed.setdefault(host, []).append(task["task"]["name"])
    return changed, report["stats"]


def task_results(json_stdout, name):
    """From the json callback: the results of the task called ``name``, one per host that ran it."""
    report = json.loads(json_stdout)
    return [result for play in report["plays"] for task in play["tasks"] if task["task"]["name"] == name
            for result in task["hosts"].values()]


def calculate(expression, timeout=15):
    request = urllib.request.Request(CALCULATOR_URL, data=expression.encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def docker_exec(host, *command):
    return subprocess.run(["docker", "exec", "virtlab-%s" % host] + list(command), capture_output=True, text=True, check=False)


def cs_route_to_pn3():
    return next(r for r in routing.routes(TOPOLOGY, "cs") if r["network"] == "pn3")


def test_first_run_builds_the_lab_and_the_calculator_answers():
    unused_part, TIMINGS["first run of site.yml"] = ansible("ansible-playbook", "site.yml")
    status, body = calculate("(5+6)*2")
    assert status == 200
    assert body.startswith("result = 22"), body


def test_second_run_changes_nothing():
    proc, TIMINGS["no-op re-run of site.yml"] = ansible("ansible-playbook", "site.yml", json_output=True)
    changed, stats = changed_tasks(proc.stdout)
    assert changed == {}, "a re-run changed: %s" % changed
    assert all(s["changed"] == 0 and s["failures"] == 0 for s in stats.values()), stats


def test_ping_baseline():
    # The same hosts site.yml touches: the lab's nodes and the controller.
    unused_part, TIMINGS["ansible all -m ping"] = ansible("ansible", "all", "-m", "ansible.builtin.ping")


def test_deleted_route_breaks_the_calculator_with_a_clear_error():
    route = cs_route_to_pn3()
    deleted = docker_exec("cs", "ip", "route", "del", route["dest"])
    assert deleted.returncode == 0, deleted.stderr
    status, body = calculate("(5+6)*2")
    assert status in (502, 504), (status, body)
    # The message names the operation service and where the calculator tried to reach it.
    assert "service at http://10.77.3." in body, body


def test_check_diff_shows_the_missing_route_and_touches_nothing():
    route = cs_route_to_pn3()
    proc, unused_part = ansible("ansible-playbook", "site.yml", "--check", "--diff")
    assert "+%s via %s" % (route["dest"], route["via"]) in proc.stdout, proc.stdout[-4000:]
    recap = proc.stdout[proc.stdout.index("PLAY RECAP"):]
    assert "cs                         : ok=" in recap and "changed=1" in recap.split("cs ", 1)[1].splitlines()[0]
    shown = docker_exec("cs", "ip", "route", "show", route["dest"])
    assert shown.stdout.strip() == "", "check mode must not add the route"


def test_rerun_repairs_only_the_route():
    route = cs_route_to_pn3()
    proc, TIMINGS["route repair run of site.yml"] = ansible("ansible-playbook", "site.yml", json_output=True)
    changed, unused_part = changed_tasks(proc.stdout)
    # Only cs changed, and only in its static routes task (the json callback prefixes the role's name).
    assert list(changed) == ["cs"] and changed["cs"] == [
        "virtlab.core.static_routes : Static routes and forwarding of this host"], changed
    shown = docker_exec("cs", "ip", "route", "show", route["dest"])
    assert "via %s" % route["via"] in shown.stdout
    status, body = calculate("(5+6)*2")
    assert status == 200 and body.startswith("result = 22"), body


def test_a_flushed_address_and_a_flushed_route_table_are_shown_then_healed_by_one_run():
    """Network state inside a node is the lab's too: an address flushed from cs's pn2 interface (its route to
    pn3 goes with it) and rt1's whole main table flushed (connected routes included) are reported by --check
    --diff and put back by one run, which changes nothing else; the run after it changes nothing."""
    device = docker_exec("cs", "sh", "-c", "ip -o -4 addr show | awk '/ 10.77.2.10\\// {print $2}'").stdout.strip()
    assert device, "cs has no interface with 10.77.2.10"
    assert docker_exec("cs", "ip", "addr", "flush", "dev", device).returncode == 0
    assert docker_exec("rt1", "ip", "route", "flush", "table", "main").returncode == 0
    proc, unused_part = ansible("ansible-playbook", "site.yml", "--check", "--diff", check=False)
    assert "-address 10.77.2.10/24 on (none)" in proc.stdout, proc.stdout[-4000:]
    assert "-connected 10.77.1.0/24 on (none)" in proc.stdout, proc.stdout[-4000:]
    assert docker_exec("cs", "ip", "-4", "addr", "show", "dev", device).stdout.count("inet ") == 0, "check mode changed"
    proc, unused_part = ansible("ansible-playbook", "site.yml", json_output=True)
    changed, unused_part = changed_tasks(proc.stdout)
    task = "virtlab.core.static_routes : Static routes and forwarding of this host"
    assert sorted(changed) == ["cs", "rt1"] and all(names == [task] for names in changed.values()), changed
    assert "10.77.2.10/24" in docker_exec("cs", "ip", "-4", "addr", "show", "dev", device).stdout
    assert "10.77.1.0/24 dev" in docker_exec("rt1", "ip", "-4", "route", "show").stdout
    status, body = calculate("(5+6)*2")
    assert status == 200 and body.startswith("result = 22"), body
    proc, unused_part = ansible("ansible-playbook", "site.yml", json_output=True)
    assert changed_tasks(proc.stdout)[0] == {}, "the run after the repair changed something"


STATIC_ROUTES_TASK = "virtlab.core.static_routes : Static routes and forwarding of this host"
PROVISION_TASK = "virtlab.core.provision_docker : The lab's networks and the node containers of the play's hosts"


def device_of(host, address):
    """The interface of ``host`` that holds ``address``."""
    device = docker_exec(host, "sh", "-c", "ip -o -4 addr show | awk '/ %s\\// {print $2}'" % address).stdout.strip()
    assert device, "%s has no interface with %s" % (host, address)
    return device


def set_sysctls(host, values):
    """Write /proc/sys files in a node (read-only there: remounted for the writes, as the module does)."""
    writes = "; ".join("echo %s > /proc/sys/%s" % (value, name.replace(".", "/")) for name, value in values.items())
    done = docker_exec(host, "sh", "-c", "mount -o remount,rw /proc/sys && { %s; }; status=$?; "
                                         "mount -o remount,ro /proc/sys; exit $status" % writes)
    assert done.returncode == 0, done.stderr


def test_the_nodes_accept_and_send_no_redirects_and_only_service_nodes_have_a_default_route():
    """Set where the node is created (Docker sysctls) and checked by the static_routes role: no redirect accepted or
    sent on any interface; the routers and outside have no default route (never the Docker host's bridge), the
    nodes that run a service go out through the management NAT."""
    for host in ("rt1", "rt2", "cs", "sum", "outside"):
        values = docker_exec(host, "sh", "-c", "grep -H . /proc/sys/net/ipv4/conf/*/accept_redirects "
                                               "/proc/sys/net/ipv4/conf/*/send_redirects | grep -v /lo/").stdout
        assert values and all(line.endswith(":0") for line in values.splitlines()), (host, values)
        default = docker_exec(host, "ip", "-4", "route", "show", "default").stdout.strip()
        if host in ("rt1", "rt2", "outside"):
            assert default == "", "%s: %s" % (host, default)
        else:
            assert default.startswith("default via 10.77.254.254 "), "%s: %s" % (host, default)


# ICMP host redirects, as rt2 sent them when pn3 was gone: from rt2 (10.77.2.1, cs's gateway to pn3) to cs, "for
# 10.77.3.11 use 10.77.2.254" (Docker's bridge on pn2). The quoted packet is an echo reply, which the kernel handles
# without a socket. Sent three times: the first only makes cs resolve the new gateway's link address.
FORGED_REDIRECT = r"""
import socket, struct, time
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    return ~(total + (total >> 16)) & 0xffff
header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 1, 0, socket.inet_aton("10.77.2.10"),
                     socket.inet_aton("10.77.3.11"))
header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
icmp = struct.pack("!BBH4s", 5, 1, 0, socket.inet_aton("10.77.2.254")) + header + struct.pack("!BBHHH", 0, 0, 0, 1, 1)
icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for unused_attempt in range(3):
    sender.sendto(icmp, ("10.77.2.10", 0))
    time.sleep(0.3)
"""


def test_a_redirected_route_is_shown_by_check_and_reinstalled_by_one_run():
    """A wrong resolution that the routing table does not show: cs accepts (allowed by hand for the injection, then
    put back) rt2's ICMP redirect for sum's address towards Docker's bridge on pn2. ``ip route show`` is unchanged,
    ``ip route get`` answers via the bridge; --check --diff shows it, one run re-installs cs's route to pn3 and
    changes nothing else, and the calculator answers again."""
    cs_pn2 = device_of("cs", "10.77.2.10")
    accept = dict(("net.ipv4.conf.%s.accept_redirects" % device, 1) for device in ("all", cs_pn2))
    set_sysctls("cs", accept)
    try:
        sent = docker_exec("rt2", "python3", "-c", FORGED_REDIRECT)
        assert sent.returncode == 0, sent.stderr
    finally:
        set_sysctls("cs", dict((name, 0) for name in accept))
    resolved = docker_exec("cs", "ip", "route", "get", "10.77.3.11").stdout
    assert "via 10.77.2.254" in resolved and "redirected" in resolved, resolved
    assert "10.77.3.0/24 via 10.77.2.1 " in docker_exec("cs", "ip", "-4", "route", "show").stdout
    proc, unused_part = ansible("ansible-playbook", "site.yml", "--check", "--diff")
    assert "-resolve 10.77.3.11 via 10.77.2.254" in proc.stdout and "+resolve 10.77.3.11 via 10.77.2.1" in proc.stdout, \
        proc.stdout[-4000:]
    assert "via 10.77.2.254" in docker_exec("cs", "ip", "route", "get", "10.77.3.11").stdout, "check mode changed"
    proc, unused_part = ansible("ansible-playbook", "site.yml", json_output=True)
    assert changed_tasks(proc.stdout)[0] == {"cs": [STATIC_ROUTES_TASK]}
    resolved = docker_exec("cs", "ip", "route", "get", "10.77.3.11").stdout
    assert "via 10.77.2.1 " in resolved and "redirected" not in resolved, resolved
    status, body = calculate("(5+6)*2")
    assert status == 200 and body.startswith("result = 22"), body


def test_a_lab_network_removed_and_created_again_is_healed_by_one_run():
    """Fault 3: every node disconnected from pn3 and pn3 removed, the calculator used meanwhile (this is when rt2
    used to redirect cs to Docker's bridge). --check --diff reports the network it would create and the nodes it
    would connect, and creates nothing. One run recreates it, reconnects the nodes and puts back the routes that went with their interfaces;
    the matrix passes, sum and mul answer through the calculator; the next run changes nothing."""
    network = "virtlab-pn3"
    attached = sorted(json.loads(subprocess.run(["docker", "network", "inspect", network, "--format",
                                                 "{{json .Containers}}"], capture_output=True, text=True,
                                                check=True).stdout).values(), key=lambda c: c["Name"])
    assert [c["Name"] for c in attached] == ["virtlab-div", "virtlab-mul", "virtlab-rt2", "virtlab-sub", "virtlab-sum"]
    for container in attached:
        subprocess.run(["docker", "network", "disconnect", "-f", network, container["Name"]], check=True)
    subprocess.run(["docker", "network", "rm", network], check=True, capture_output=True)
    status, body = calculate("1+2")
    assert status in (502, 504), (status, body)
    # rt2 has no route to pn3 now, and no default route via Docker's bridge: it sends cs no redirect.
    assert "redirected" not in docker_exec("cs", "ip", "route", "get", "10.77.3.11").stdout
    # Check mode first: it reports the network it would create and the nodes it would connect, and creates nothing
    # (its probes find pn3's services unreachable, as they are: its exit status is not the point here).
    proc, unused_part = ansible("ansible-playbook", "site.yml", "--check", "--diff", json_output=True, check=False)
    actions = task_results(proc.stdout, PROVISION_TASK)[0]["actions"]
    # The removal outside the modules left the old bridge's firewall rule behind: creating the network prunes it.
    assert actions[network][:2] == ["created", "allowed routed traffic"], actions
    assert any(text.startswith("pruned the firewall rules of ") for text in actions[network][2:]), actions
    for container in attached:
        address = container["IPv4Address"].split("/")[0]
        assert "connected %s (%s)" % (network, address) in actions[container["Name"]], actions
    gone = subprocess.run(["docker", "network", "inspect", network], capture_output=True, text=True, check=False)
    assert gone.returncode != 0, "check mode created %s" % network
    proc, TIMINGS["pn3 recreated: repair run"] = ansible("ansible-playbook", "site.yml", json_output=True)
    changed, unused_part = changed_tasks(proc.stdout)
    # The provisioning runs once for the play, reported under the play's first host.
    provisioned = [host for host, names in changed.items() if PROVISION_TASK in names]
    assert len(provisioned) == 1, changed
    changed[provisioned[0]].remove(PROVISION_TASK)
    changed = dict((host, names) for host, names in changed.items() if names)
    # The operation nodes lost their route back to pn2 with their pn3 interface (and Docker may have given a node
    # on pn3 a default route again when it reconnected it); nothing else changed.
    assert {"div", "mul", "sub", "sum"} <= set(changed) <= {"div", "mul", "sub", "sum", "rt2"}, changed
    assert all(names == [STATIC_ROUTES_TASK] for names in changed.values()), changed
    for expression, result in (("2+3", "5"), ("2*3", "6"), ("(5+6)*2", "22")):
        status, body = calculate(expression)
        assert status == 200 and body.startswith("result = " + result), (expression, status, body)
    proc, unused_part = ansible("ansible-playbook", "site.yml", json_output=True)
    assert changed_tasks(proc.stdout)[0] == {}, "the run after the repair changed something"


def run_boot_script(host, config, *prefix):
    """The boot script as the lab installed it on ``host``, run on ``config`` (the persisted file's lines) instead of
    the persisted file; ``prefix`` runs it under another command (fewer capabilities)."""
    script = docker_exec(host, "cat", static_routes.SCRIPT_PATH).stdout
    assert ("< %s\n" % static_routes.CONFIG_PATH) in script, script
    subprocess.run(["docker", "exec", "-i", "virtlab-" + host, "sh", "-c", "cat > /run/virtlab-e2e-boot"],
                   input=config, text=True, check=True)
    return subprocess.run(["docker", "exec", "-i", "virtlab-" + host] + list(prefix) + ["sh", "-s"], text=True,
                          input=script.replace(static_routes.CONFIG_PATH, "/run/virtlab-e2e-boot"),
                          capture_output=True, check=False)


def test_the_boot_script_is_quiet_on_a_read_only_proc_sys_and_shows_real_errors():
    """On Docker nodes /proc/sys is read-only: the boot script writes nothing already as wanted, remounts for a value
    that differs, and says nothing either way; a remount that fails (no CAP_SYS_ADMIN) or a route that cannot be
    added is shown, and the unit fails."""
    assert "(ro," in docker_exec("rt2", "sh", "-c", "mount | grep ' /proc/sys '").stdout
    as_they_are = run_boot_script("rt2", "forwarding 1\nredirects 0\n")
    assert (as_they_are.returncode, as_they_are.stderr) == (0, ""), as_they_are
    try:
        changed = run_boot_script("rt2", "redirects 1\n")
        assert (changed.returncode, changed.stderr) == (0, ""), changed
        assert docker_exec("rt2", "cat", "/proc/sys/net/ipv4/conf/all/send_redirects").stdout.strip() == "1"
    finally:
        restored = run_boot_script("rt2", "redirects 0\n")
    assert (restored.returncode, restored.stderr) == (0, ""), restored
    no_remount = run_boot_script("rt2", "redirects 1\n", "setpriv", "--bounding-set=-sys_admin",
                                 "--inh-caps=-sys_admin")
    assert no_remount.returncode == 1, no_remount
    assert "cannot set net/ipv4/conf/all/accept_redirects to 1: /proc/sys is read-only" in no_remount.stderr, no_remount
    bad_route = run_boot_script("rt2", "10.99.0.0/24 via 10.200.0.1\n")
    assert bad_route.returncode == 1 and "Nexthop has invalid gateway" in bad_route.stderr, bad_route
    redirects = ("cat /proc/sys/net/ipv4/conf/*/accept_redirects /proc/sys/net/ipv4/conf/*/send_redirects; "
                 "rm /run/virtlab-e2e-boot")
    values = docker_exec("rt2", "sh", "-c", redirects)
    assert set(values.stdout.split()) == {"0"}, values.stdout


def container_state(name):
    """docker inspect's State.Status of a container ("running", "exited"), or None when there is none."""
    proc = subprocess.run(["docker", "inspect", "--format", "{{.State.Status}}", name], capture_output=True, text=True,
                          check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def check_an_incomplete_lab(host, would, diff_lines):
    """--check --diff on a lab whose node ``host`` is not in place: exits 0 (ansible() fails the test otherwise), no
    host unreachable or failed, names the node and what a run would do to it and then set up inside it (from the
    topology), shows the node's change in the diff, and logs into every other node as usual."""
    proc, unused_part = ansible("ansible-playbook", "site.yml", "--check", "--diff")
    out = proc.stdout
    recap = out[out.index("PLAY RECAP"):].splitlines()[1:]
    assert "UNREACHABLE" not in out and all(" unreachable=0 " in line and " failed=0 " in line
                                            for line in recap if line.strip()), out[-4000:]
    flat = " ".join(out.split())  # the callback wraps long message lines
    assert "%s: not in place yet (node virtlab-%s would be %s)" % (host, host, would) in flat, out[-4000:]
    assert "services: %s on port %s" % (host, TOPOLOGY["services"][host]["port"]) in flat, out[-4000:]
    routes = ", ".join("%s via %s" % (r["dest"], r["via"]) for r in routing.routes(TOPOLOGY, host))
    assert "static routes: %s; forwarding off" % routes in flat, out[-4000:]
    for line in diff_lines:
        assert "\n" + line + "\n" in out, (line, out[-4000:])
    # The node is in no in-node play; the others are checked there as usual.
    static_routes = out[out.index("TASK [%s]" % STATIC_ROUTES_TASK):].split("\n\n")[0]
    assert "[%s]" % host not in static_routes and "ok: [cs]" in static_routes, static_routes


def repair_run_then_no_op(host, expression, result):
    """One run puts ``host`` back: only the provisioning and ``host``'s own tasks change, the calculator answers
    ``expression`` through it; the run after changes nothing."""
    proc, unused_part = ansible("ansible-playbook", "site.yml", json_output=True)
    changed, unused_part = changed_tasks(proc.stdout)
    provisioned = [name for name, names in changed.items() if PROVISION_TASK in names]
    assert len(provisioned) == 1, changed
    changed[provisioned[0]].remove(PROVISION_TASK)
    changed = dict((name, names) for name, names in changed.items() if names)
    assert set(changed) <= {host}, changed
    assert container_state("virtlab-" + host) == "running"
    status, body = calculate(expression)
    assert status == 200 and body.startswith("result = " + result), (expression, status, body)
    proc, unused_part = ansible("ansible-playbook", "site.yml", json_output=True)
    assert changed_tasks(proc.stdout)[0] == {}, "the run after the repair changed something"


def test_check_mode_with_a_stopped_node_reports_it_then_one_run_starts_it():
    """Item 4 of issue 13, a node stopped: check mode says it would be started and what a run sets up in it, logs
    into the others, exits 0 and starts nothing; one run starts it; the next changes nothing."""
    assert subprocess.run(["docker", "stop", "-t", "5", "virtlab-div"], capture_output=True, check=False).returncode == 0
    check_an_incomplete_lab("div", "started", ["-            running: false", "+            running: true"])
    assert container_state("virtlab-div") == "exited", "check mode started the node"
    repair_run_then_no_op("div", "8/2", "4")


def test_check_mode_with_a_removed_node_reports_it_then_one_run_creates_it():
    """Item 4 of issue 13, a node removed: check mode says it would be created and started and what a run sets up
    in it, shows the new node in the diff, exits 0 and creates nothing; one run creates it, with its runtime,
    service and routes; the next changes nothing."""
    assert subprocess.run(["docker", "rm", "-f", "virtlab-sub"], capture_output=True, check=False).returncode == 0
    check_an_incomplete_lab("sub", "created, started", ["-        virtlab-sub: {}", "+        virtlab-sub:"])
    assert container_state("virtlab-sub") is None, "check mode created the node"
    repair_run_then_no_op("sub", "7-2", "5")
