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

from ansible_collections.virtlab.core.plugins.module_utils.topology import routing

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPOLOGY = yaml.safe_load(open(os.path.join(REPO, "inventories/docker/group_vars/all/topology.yml")))[
    "virtlab_topology"]
CALCULATOR_URL = "http://127.0.0.1:50000"
TIMINGS = {}


@pytest.fixture(scope="module", autouse=True)
def report_timings():
    """Print the wall times at the end, for the note (pytest -s shows them)."""
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


def test_reruns_stay_within_a_few_pings():
    """A guard against regressions of the re-run cost (the issue's target is 3x ping; single runs on a shared
    2-core machine vary by about 20%, so the guard fails only well above it, e.g. on a return to one module
    run per host and concern, which measured 6x)."""
    ping = TIMINGS["ansible all -m ping"]
    for name in ("no-op re-run of site.yml", "route repair run of site.yml"):
        assert TIMINGS[name] <= 4 * ping, "%s took %.1fs, %.1fx ansible -m ping (%.1fs)" % (
            name, TIMINGS[name], TIMINGS[name] / ping, ping)


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
