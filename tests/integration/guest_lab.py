# -*- coding: utf-8 -*-
"""What the calculator lab tests on the doubles with guests (proxmox/, vbox/) check in the same way: a key pair
for the guests, ansible-playbook's recap, and the calculator's answer as this machine reaches it."""

import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import yaml

from ansible_collections.virtlab.core.plugins.module_utils.topology import routing

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def default_topology():
    """The topology of inventories/docker, which the other backends' inventories link to."""
    with open(os.path.join(REPO, "inventories", "docker", "group_vars", "all", "topology.yml")) as handle:
        return yaml.safe_load(handle)["virtlab_topology"]


TOPOLOGY = default_topology()
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class Key:
    def __init__(self, path):
        self.path = path
        with open(path + ".pub") as handle:
            self.public = handle.read().strip()


def lab_key(directory):
    """A new ed25519 key pair in directory (the lab's guests authorise it)."""
    path = os.path.join(str(directory), "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
    return Key(path)


def recap(stdout):
    """{host: (ok, changed, unreachable, failed)} from the PLAY RECAP."""
    return dict((match.group(1), tuple(int(match.group(n)) for n in range(2, 6)))
                for match in RECAP.finditer(stdout[stdout.rindex("PLAY RECAP"):]))


def changed_counts(stdout):
    return dict((host, counts[1]) for host, counts in recap(stdout).items())


def changed_tasks(stdout):
    """["TASK [name]: changed: [host]", ...]: what a run changed, for a failed assertion's message."""
    found, task = [], None
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line.split("]", 1)[0] + "]"
        elif line.startswith("changed: ["):
            found.append("%s: %s" % (task, line.split("]", 1)[0] + "]"))
    return found


def task_output(stdout, name):
    """The output of the task called name (up to the next task or play), or None when it did not run."""
    marker = "TASK [%s]" % name
    if marker not in stdout:
        return None
    section = stdout[stdout.index(marker) + len(marker):]
    return re.split(r"\n(?:TASK|PLAY) \[", section, maxsplit=1)[0]


def calculator_answer(address, port, expression="(5+6)*2", timeout=15):
    """The calculator's answer to a POST of expression, or the error that stopped it, as a string."""
    request = urllib.request.Request("http://%s:%d/" % (address, port), data=expression.encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read().decode().strip()
    except urllib.error.HTTPError as exc:
        return "HTTP %d: %s" % (exc.code, exc.read().decode().strip())
    except (OSError, urllib.error.URLError) as exc:
        return "error: %s" % exc


class GuestLab:
    """One calculator lab built by site.yml on a double with guests; a backend's subclass says how to run a
    playbook on it (``playbook``, ``site``), how to run a command in a host's guest (``exec``), where the machine
    reaches the calculator (``calculator``: address, port) and what is left of the lab (``remaining``)."""

    hosts = ("rt1", "rt2", "cs", "sum", "sub", "mul", "div", "outside")
    calculator = None

    def playbook(self, *arguments):
        raise NotImplementedError

    def site(self, *arguments):
        raise NotImplementedError

    def exec(self, host, *argv):
        raise NotImplementedError

    def remaining(self):
        raise NotImplementedError

    def stop(self, host):
        """Stop host's machine the backend's way (as its user would), and wait until it is off."""
        raise NotImplementedError

    def answer(self):
        return calculator_answer(*self.calculator)

    # The checks every backend's lab passes ------------------------------------------------------------------
    def check_built(self, run):
        assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
        hosts = recap(run.stdout)
        assert sorted(host for host in hosts if host != "localhost") == sorted(self.hosts), hosts
        assert all(counts[2:] == (0, 0) for counts in hosts.values()), hosts
        # The services were started and the matrix checked: the play fails on a broken path.
        matrix = task_output(run.stdout, "virtlab.core.connectivity : Reachability matrix - every path is as the "
                                         "topology expects")
        assert "ok: [" in (matrix or ""), run.stdout[-3000:]
        # The routers forward (static_routes set it inside the guest), the nodes do not.
        assert self.exec("rt2", "cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
        assert self.exec("sum", "cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip() == "0"
        assert self.answer() == "result = 22"

    def check_second_run_changes_nothing(self):
        again = self.site()
        assert again.returncode == 0, again.stdout[-4000:]
        counts = changed_counts(again.stdout)
        assert counts and set(counts.values()) == {0}, (counts, changed_tasks(again.stdout))

    def check_incomplete_lab(self, host, would):
        """Check mode on an incomplete lab: host's machine stopped and a drift on another host (cs's route to pn3
        deleted). site.yml --check --diff exits 0 with no host unreachable or failed, says that host is not in place
        (``would``: what its machine would go through) and what a run would then set up inside it (from the
        topology), logs into none of it, shows cs's missing route in the diff, and changes nothing. Then one run
        repairs both - only host and cs change - and the run after it changes nothing."""
        self.stop(host)
        deleted = self.exec("cs", "ip", "route", "del", "10.77.3.0/24")
        assert deleted.returncode == 0, deleted.stderr
        check = self.site("--check", "--diff")
        out = check.stdout
        assert check.returncode == 0, out[-5000:] + check.stderr[-2000:]
        hosts = recap(out)
        assert "UNREACHABLE" not in out and all(counts[2:] == (0, 0) for counts in hosts.values()), hosts
        flat = " ".join(out.split())  # the callback wraps long message lines
        assert "%s: not in place yet (%s), so check mode does not log into it" % (host, would) in flat, out[-4000:]
        assert "services: %s on port %s" % (host, TOPOLOGY["services"][host]["port"]) in flat, out[-4000:]
        routes = ", ".join("%s via %s" % (route["dest"], route["via"]) for route in routing.routes(TOPOLOGY, host))
        assert "static routes: %s; forwarding off" % routes in flat, out[-4000:]
        # The in-node plays left host out and checked the others: cs's drift is in the diff.
        static_routes = task_output(out, "virtlab.core.static_routes : Static routes and forwarding of this host")
        assert "[%s]" % host not in static_routes and "changed: [cs]" in static_routes, static_routes
        assert "+10.77.3.0/24 via 10.77.2.1" in out, out[-4000:]
        # Check mode changed nothing.
        assert self.exec(host, "true").returncode != 0, "check mode started %s" % host
        assert "10.77.3.0/24" not in self.exec("cs", "ip", "route").stdout, "check mode put the route back"

        run = self.site()
        assert run.returncode == 0, run.stdout[-4000:]
        counts = changed_counts(run.stdout)
        assert counts[host] >= 1 and counts["cs"] >= 1, counts
        assert all(count == 0 for name, count in counts.items() if name not in (host, "cs")), \
            (counts, changed_tasks(run.stdout))
        assert "10.77.3.0/24 via 10.77.2.1" in self.exec("cs", "ip", "route").stdout
        assert self.answer() == "result = 22"
        self.check_second_run_changes_nothing()

    def check_validate_and_status(self, report_dir):
        graded = self.playbook("playbooks/validate.yml", "-e", json.dumps({"virtlab_report_dir": str(report_dir)}))
        assert graded.returncode == 0, graded.stdout[-4000:]
        passed = re.search(r"lab virtlab: all (\d+) checks passed", graded.stdout)
        # Both objectives graded, every check of each passed (16 of objective 9 and 18 of 10-11 for this topology).
        summary = re.search(r"objective 9: (\d+)/\1; objective 10-11: (\d+)/\2", graded.stdout)
        assert passed and summary, graded.stdout[-3000:]
        assert int(passed.group(1)) == int(summary.group(1)) + int(summary.group(2)) > 0
        with open(os.path.join(str(report_dir), "virtlab.junit.xml")) as handle:
            junit = handle.read()
        assert 'tests="%s" failures="0"' % passed.group(1) in junit, junit[:500]
        status = self.playbook("playbooks/status.yml")
        assert status.returncode == 0, status.stdout[-4000:]
        rows = dict(re.findall(r"^\s*\W?\s*(\w+)\s+(up|DOWN)\s", status.stdout, re.M))
        assert rows == dict((host, "up") for host in self.hosts), status.stdout[-3000:]
        assert "NOT ANSWERING" not in status.stdout and "MISSING" not in status.stdout

    def check_destroy(self):
        first = self.playbook("playbooks/destroy.yml")
        assert first.returncode == 0, first.stdout[-4000:]
        assert self.remaining() == []
        names = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}", "--filter",
                                "name=^%s" % self.guests.prefix],
                               capture_output=True, text=True, check=True).stdout.split()
        # The doubles' DHCP servers stand for the LAN's (objective 6's bridge): not the lab's, they stay.
        left = [name for name in names if not name.startswith(self.guests.prefix + "dhcp-")]
        assert left == [], left
        second = self.playbook("playbooks/destroy.yml")
        assert second.returncode == 0, second.stdout[-4000:]
        assert set(changed_counts(second.stdout).values()) == {0}
