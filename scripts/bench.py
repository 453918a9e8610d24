#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the lab's cost grows with its size: generated labs on Docker, each run timed against ``ansible all -m ping``.

One parameter set makes every topology: N operation nodes behind rt2 (sizes 4, 16 and 48), and a wider variant
with the operation nodes spread over more networks, each behind a router of its own on pn2. The first four
operation nodes are sum, sub, mul and div, as in the default lab (size 4 is the default lab); every further one
runs a calculator-kind service (the schema names operation services after their four operations), so every
operation node is a service node with Node.js and a unit. Each lab is built as its own lab (``virtlab_lab``,
its own names and address plan) from nodes that start from the Node.js image (scripts/bench-node-image.sh), and
destroyed at the end.

Per lab, in pairs with a ping of the same hosts (alternating which goes first where both can):

- ``converge``: site.yml on nothing (the lab destroyed, not timed), then a ping;
- ``noop``: site.yml on the lab in place (must change nothing);
- ``repair``: one route of cs deleted (not timed), then site.yml (must change something).

Each run's controller peak memory is the largest resident set of ansible's processes (wait4's rusage).
Prints a table and, unless --smoke, writes it into docs/benchmarks.md between its bench markers.

    scripts/bench.py                          # sizes 4 16 48 and wide, 5 pairs, 1 converge each
    scripts/bench.py --sizes 4 16 --no-wide --pairs 3
    scripts/bench.py --smoke                  # size 4, 2 pairs, fails when no-op > 2x ping
"""

from __future__ import print_function

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_load  # noqa: E402 pylint: disable=wrong-import-position

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INVENTORY = os.path.join(REPO, "inventories", "docker")
DOC = os.path.join(REPO, "docs", "benchmarks.md")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
NODE_IMAGE = "virtlab/debian-systemd-node:bookworm"
# A lab index far from the students' (the default lab is 0): its plan is 10.247.x, its calculator port 51700.
LAB, LAB_INDEX = "vbench", 170
OPERATIONS = ("sum", "sub", "mul", "div")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
PROFILE_LINE = re.compile(r"^(.+?) -+ (\d+\.\d+)s$", re.M)
SMOKE_NOOP_LIMIT = 2.0


def topology(operations, routers=1):
    """The lab with ``operations`` operation nodes spread round-robin over ``routers`` networks pn3, pn4, ...,
    each behind its own router rt2, rt3, ... on pn2: (virtlab_topology, inventory hosts by group)."""
    net = "10.77.%d.%d".__mod__
    networks = {"public": {"cidr": "10.77.0.0/24", "gateway": None},
                "pn1": {"cidr": "10.77.1.0/24", "gateway": "10.77.1.1"},
                "pn2": {"cidr": "10.77.2.0/24", "gateway": None}}
    routers_spec = {"rt1": {"interfaces": {"public": "10.77.0.1", "pn1": "10.77.1.1"}}}
    for index in range(1, routers + 1):
        name = "pn%d" % (2 + index)
        networks[name] = {"cidr": "10.77.%d.0/24" % (2 + index), "gateway": net((2 + index, 1))}
        routers_spec["rt%d" % (1 + index)] = {"interfaces": {"pn2": net((2, index)), name: net((2 + index, 1))}}
    nodes = {"cs": {"interfaces": {"pn1": "10.77.1.10", "pn2": "10.77.2.10"}},
             "outside": {"interfaces": {"public": "10.77.0.100"}}}
    services = {"calculator": {"node": "cs", "port": 50000, "kind": "calculator"}}
    names = list(OPERATIONS) + ["op%02d" % number for number in range(len(OPERATIONS) + 1, operations + 1)]
    for index, name in enumerate(names[:operations]):
        subnet = 3 + index % routers
        nodes[name] = {"interfaces": {"pn%d" % subnet: net((subnet, 11 + index // routers))}}
        if name in OPERATIONS:
            services[name] = {"node": name, "port": 50001 + index, "kind": "operation"}
        else:
            services[name] = {"node": name, "port": 50000, "kind": "calculator"}
    groups = {"routers": sorted(routers_spec), "calculator": ["cs"], "operations": names[:operations],
              "school": ["outside"]}
    return {"networks": networks, "routers": routers_spec, "nodes": nodes, "services": services}, groups


class Lab:
    """One generated lab: its inventory (the Docker inventory's group_vars, the generated hosts and topology)."""

    def __init__(self, name, operations, routers, workdir):
        self.name, self.operations, self.routers = name, operations, routers
        self.topology, groups = topology(operations, routers)
        self.hosts = sum(len(hosts) for hosts in groups.values()) + 1  # and localhost, as `ansible all` counts
        self.inventory = os.path.join(workdir, name)
        os.makedirs(os.path.join(self.inventory, "group_vars", "all"))
        # The Docker inventory's source (the hosts and groups from the topology file next to it) and group_vars,
        # with this lab's topology file.
        shutil.copy(os.path.join(INVENTORY, "lab.virtlab.yml"), self.inventory)  # its topology file is next to it
        for path in ("group_vars/all/backend.yml", "group_vars/all/topology_per_lab.yml", "group_vars/lab.yml"):
            os.symlink(os.path.join(INVENTORY, path), os.path.join(self.inventory, path))
        with open(os.path.join(self.inventory, "group_vars", "all", "topology.yml"), "w") as handle:
            yaml.safe_dump({"virtlab_topology": self.topology, "virtlab_topology_declared": self.topology,
                            "virtlab_outside_host": "outside"}, handle, default_flow_style=False)
        self.extra = ["-e", "virtlab_lab=%s" % LAB, "-e", "virtlab_lab_index=%d" % LAB_INDEX,
                      "-e", "virtlab_docker_image=%s" % NODE_IMAGE]

    def run(self, command, env=None):
        """Run an ansible command on this lab: (seconds, peak RSS in MiB, CPU seconds, stdout). Exits on failure."""
        full = command[:1] + ["-i", self.inventory] + self.extra + command[1:]
        run_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                       ANSIBLE_FORCE_COLOR="0", **(env or {}))
        with tempfile.TemporaryFile(mode="w+") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(full, cwd=REPO, env=run_env, stdout=out, stderr=subprocess.STDOUT)
            # wait4's rusage: ru_maxrss is the largest of the process and its waited-for descendants (KiB).
            unused_pid, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            stdout = out.read()
        if proc.returncode != 0:
            sys.exit("%s on lab %s failed, rc=%s:\n%s" % (" ".join(command), self.name, proc.returncode,
                                                          stdout[-5000:]))
        return seconds, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime, stdout

    def ping(self):
        return self.run(["ansible", "all", "-m", "ansible.builtin.ping"])

    def site(self, scenario):
        result = self.run(["ansible-playbook", "site.yml"])
        check_recap(result[3], scenario, self.name)
        return result

    def destroy(self):
        self.run(["ansible-playbook", "playbooks/destroy.yml"])
        # Objective 5's committed image too: a first converge starts from nothing but the base images.
        subprocess.run(["docker", "image", "rm", "-f", "virtlab/objective5:version3-%s" % LAB],
                       capture_output=True, check=False)

    def break_route(self):
        """Delete cs's route to the first operation network (what the repair run must put back)."""
        cidr = self.topology["networks"]["pn3"]["cidr"].replace("10.77.", "10.%d." % (77 + LAB_INDEX), 1)
        command = ["docker", "exec", "virtlab-%s-cs" % LAB, "ip", "route", "del", cidr]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit("cannot delete the route %s on cs: %s" % (cidr, proc.stderr.strip()))

    def profile(self, top=8):
        """One untimed no-op run with ansible.posix.profile_tasks: the slowest tasks, [(task, seconds)]."""
        stdout = self.run(["ansible-playbook", "site.yml"],
                          env={"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                               "PROFILE_TASKS_SORT_ORDER": "descending",
                               "PROFILE_TASKS_TASK_OUTPUT_LIMIT": str(top)})[3]
        summary = stdout.rsplit("PLAY RECAP", 1)[-1]
        return [(task.strip(), float(seconds)) for task, seconds in PROFILE_LINE.findall(summary)][:top]


def check_recap(stdout, scenario, lab):
    """A no-op run changes nothing; converge and repair change something; no run fails a host."""
    hosts = RECAP.findall(stdout)
    changed = sum(int(h[2]) for h in hosts)
    if not hosts or any(int(h[3]) or int(h[4]) for h in hosts):
        sys.exit("%s run of lab %s failed:\n%s" % (scenario, lab, stdout[-4000:]))
    if (changed == 0) != (scenario == "noop"):
        sys.exit("%s run of lab %s changed %d things:\n%s" % (scenario, lab, changed, stdout[-4000:]))


def measure(lab, pairs, converge_runs, log):
    """{scenario: [sample]}, a sample being {site, ping, ratio, rss, cpu}."""
    samples = dict((scenario, []) for scenario in ("converge", "noop", "repair"))

    def record(scenario, site, ping, note=""):
        sample = dict(site=site[0], ping=ping[0], ratio=site[0] / ping[0], rss=site[1], cpu=site[2])
        samples[scenario].append(sample)
        log("%-10s %-8s site %6.1fs ping %5.1fs %5.2fx  peak %4.0f MiB  cpu %5.1fs%s" % (
            lab.name, scenario, sample["site"], sample["ping"], sample["ratio"], sample["rss"], sample["cpu"], note))

    for unused_run in range(converge_runs):
        lab.destroy()
        # The hosts exist only after the converge: its ping comes after it.
        site = lab.site("converge")
        record("converge", site, lab.ping())
    lab.site("noop")  # not timed: the lab settles and every cache is warm
    for round_ in range(pairs):
        for scenario in ("noop", "repair"):
            ping_first = (round_ + (scenario == "repair")) % 2 == 0
            ping = lab.ping() if ping_first else None
            if scenario == "repair":
                lab.break_route()
            site = lab.site(scenario)
            record(scenario, site, ping or lab.ping(), " (ping first)" if ping_first else "")
    return samples


def describe_machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        memory = int(handle.readline().split()[1]) / 1024.0 / 1024.0
    docker = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                            text=True, check=False).stdout.strip()
    ansible = subprocess.run(["ansible", "--version"], capture_output=True, text=True, check=False).stdout
    ansible = ansible.splitlines()[0] if ansible else "ansible ?"
    return "%s, %d cores, %.1f GiB memory; %s; Docker %s; %s; Python %s" % (
        model, os.cpu_count(), memory, platform.platform(), docker, ansible, platform.python_version())


def loadavg():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def stats(values):
    return statistics.median(values), min(values), max(values)


def slope(points):
    """Least-squares seconds per host over [(hosts, seconds)]; None with fewer than two sizes."""
    if len(set(x for x, unused_y in points)) < 2:
        return None
    mean_x = statistics.mean(x for x, unused_y in points)
    mean_y = statistics.mean(y for unused_x, y in points)
    return (sum((x - mean_x) * (y - mean_y) for x, y in points)
            / sum((x - mean_x) ** 2 for x, unused_y in points))


def table(labs):
    """Markdown rows of every lab and scenario, and the per-host costs of the labs behind one router."""
    lines = ["| lab | hosts | run | pairs | median s | min s | max s | ping median s | ratio to ping median "
             "(min-max) | controller peak MiB | controller CPU s |",
             "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|"]
    for lab in labs:
        for scenario in ("converge", "noop", "repair"):
            rows = lab["samples"][scenario]
            if not rows:
                continue
            site, ping, ratio = (stats([r[key] for r in rows]) for key in ("site", "ping", "ratio"))
            lines.append("| %s | %d | %s | %d | %.1f | %.1f | %.1f | %.1f | %.2fx (%.2f-%.2fx) | %.0f | %.1f |" % (
                lab["name"], lab["hosts"], scenario, len(rows), site[0], site[1], site[2], ping[0], ratio[0],
                ratio[1], ratio[2], max(r["rss"] for r in rows), statistics.median(r["cpu"] for r in rows)))
    narrow = [lab for lab in labs if lab["routers"] == 1]
    per_host = []
    for scenario in ("converge", "noop", "repair"):
        measured = [lab for lab in narrow if lab["samples"][scenario]]
        points = dict((key, [(lab["hosts"], statistics.median(r[key] for r in lab["samples"][scenario]))
                             for lab in measured]) for key in ("site", "ping", "rss"))
        if slope(points["site"]) is not None:
            per_host.append("| %s | %.3f | %.3f | %.2f |" % (
                scenario, slope(points["site"]), slope(points["ping"]), slope(points["rss"])))
    if per_host:
        lines += ["", "Cost of one more host (least squares over the labs behind one router):", "",
                  "| run | site.yml s per host | ping s per host | controller peak MiB per host |",
                  "|---|---:|---:|---:|"] + per_host
    return lines


def report(runs):
    """The figures of one or more saved runs (--save), as Markdown lines."""
    lines = []
    for run in runs:
        lines.append("Measured %s UTC on %s. Load average before %s, after %s." % (
            run["started"], run["machine"], run["load_before"], run["load_after"]))
    labs = [lab for run in runs for lab in run["labs"]]
    lines += [""] + table(labs)
    for lab in labs:
        if lab.get("profile"):
            lines += ["", "Slowest tasks of one no-op run of %s (%d hosts, ansible.posix.profile_tasks):" % (
                lab["name"], lab["hosts"]), ""] + ["- %.2f s %s" % (sec, task) for task, sec in lab["profile"]]
    for run in runs:
        load = run.get("load")
        if load:
            lines += ["", "The calculator under load (scripts/bench_load.py: its five services on loopback, ab with "
                      "%d keep-alive clients for %d s, body %s): %.0f requests/s, p50 %d ms, p99 %d ms, %d requests, "
                      "%d failed (target: >= %.0f requests/s, p99 <= %.0f ms)." % (
                          load["clients"], load["seconds"], load["expression"], load["rps"], load["p50_ms"],
                          load["p99_ms"], load["complete"], load["failed"], bench_load.TARGET["rps"],
                          bench_load.TARGET["p99_ms"])]
    return lines


def write_doc(lines):
    with open(DOC) as handle:
        text = handle.read()
    if BEGIN not in text or END not in text:
        sys.exit("%s has no %s ... %s block to write the figures into" % (DOC, BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    unused_old, tail = rest.split(END, 1)
    with open(DOC, "w") as handle:
        handle.write(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 16, 48],
                        help="operation nodes behind rt2, one lab each (4 16 48)")
    parser.add_argument("--wide", type=int, nargs=2, default=[16, 4], metavar=("OPERATIONS", "ROUTERS"),
                        help="the wider lab: operation nodes over networks, each behind a router (16 4)")
    parser.add_argument("--no-wide", action="store_true", help="leave the wider lab out")
    parser.add_argument("--pairs", type=int, default=5, help="no-op and repair pairs per lab (5)")
    parser.add_argument("--converge-runs", type=int, default=1,
                        help="first converges per lab, each from a destroyed lab (1; the lab is built by the first)")
    parser.add_argument("--profile", action="store_true", help="one more no-op run per lab with profile_tasks")
    parser.add_argument("--no-load", action="store_true", help="leave the calculator's load test out")
    parser.add_argument("--save", help="also write the run's samples to this JSON file")
    parser.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md as it is")
    parser.add_argument("--report", nargs="+", metavar="JSON",
                        help="measure nothing: write the figures of these saved runs into docs/benchmarks.md")
    parser.add_argument("--smoke", action="store_true",
                        help="size 4 only, 2 pairs, nothing written; fails when the no-op run exceeds %.0fx ping"
                        % SMOKE_NOOP_LIMIT)
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.no_wide, args.pairs, args.converge_runs, args.profile = [4], True, 2, 1, False
        args.no_load = True
    if args.pairs < 1 or args.converge_runs < 1:
        parser.error("--pairs and --converge-runs must be 1 or more")

    if args.report:
        runs = []
        for path in args.report:
            with open(path) as handle:
                runs.append(json.load(handle))
        lines = report(runs)
        print("\n".join(lines))
        write_doc(lines)
        return
    run = {"started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
           "machine": describe_machine(), "load_before": loadavg(), "labs": []}
    subprocess.run(["bash", os.path.join(REPO, "scripts", "bench-node-image.sh")], check=True)
    specs = [("n%d" % size, size, 1) for size in args.sizes]
    if not args.no_wide:
        specs.append(("wide%dx%d" % tuple(args.wide), args.wide[0], args.wide[1]))
    workdir = tempfile.mkdtemp(prefix="virtlab-bench.")
    lab = None
    try:
        for name, operations, routers in specs:
            lab = Lab(name, operations, routers, workdir)
            samples = measure(lab, args.pairs, args.converge_runs, lambda line: print(line, flush=True))
            run["labs"].append({"name": name, "hosts": lab.hosts, "operations": operations, "routers": routers,
                                "samples": samples, "profile": lab.profile() if args.profile else None})
            lab.destroy()
            lab = None
    finally:
        if lab is not None:
            lab.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    if not args.no_load:
        run["load"] = bench_load.run(32, 20, "(5+6)*2")
    run["load_after"] = loadavg()
    if args.save:
        with open(args.save, "w") as handle:
            json.dump(run, handle, indent=1)
    lines = report([run])
    print("\n".join(lines))
    if args.smoke:
        noop = statistics.median(r["ratio"] for r in run["labs"][0]["samples"]["noop"])
        if noop > SMOKE_NOOP_LIMIT:
            sys.exit("no-op re-run of the 4-operation lab took %.2fx ping: more than %.1fx" % (noop, SMOKE_NOOP_LIMIT))
        print("smoke: no-op re-run %.2fx ping (limit %.1fx)" % (noop, SMOKE_NOOP_LIMIT))
    elif not args.no_write:
        write_doc(lines)


if __name__ == "__main__":
    main()
