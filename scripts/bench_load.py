#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The calculator under load: its five services run on this machine's loopback, ``ab`` drives them.

The four operation services and the calculator (roles/calculator/files, the programs the lab deploys) are started
with Node.js on 127.0.0.1, on free ports, with their default limits (body size, timeouts). ``ab`` (apache2-utils,
installed with apt when it is missing) then POSTs one expression with 32 concurrent keep-alive clients for 20 s.
Each request of "(5+6)*2" is two calls to operation services, so the operation services answer twice the rate.

Prints, for each run, requests/s, p50 and p99 latency, the failed requests, the load average and the verdict
against the target (>= 2500 requests/s with p99 <= 30 ms), then the medians. Exits 1 when a request failed or,
with ``--check``, when the median misses the target. ``--variant NAME=DIR`` runs the services of another copy of
roles/calculator/files (a git worktree of an older commit) too: the variants run in turns, the order swapped
every round (A B, B A, ...), so that a change of the machine's load falls on both. The services' per-request log
lines go to a file, as journald takes them in the lab.

    scripts/bench_load.py                       # 32 clients, 20 s
    scripts/bench_load.py --runs 3 --variant old=../old/roles/calculator/files
    scripts/bench_load.py --clients 8 --seconds 5 --json out.json
"""

from __future__ import print_function

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = os.path.join(REPO, "roles", "calculator", "files")
OPERATIONS = ("sum", "sub", "mul", "div")
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
TARGET = {"rps": 2500.0, "p99_ms": 30.0}


def ensure_ab():
    """The path of ab, installed from the distribution's apache2-utils when missing."""
    if not shutil.which("ab"):
        print("installing apache2-utils (ab)", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "apache2-utils"],
                       check=True, env=env, stdout=subprocess.DEVNULL)
    return shutil.which("ab")


class Services:
    """The five services as child processes; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, logdir, files=FILES):
        self.logdir = logdir
        self.files = files
        self.children = []

    def start(self, program, env, timeout=10.0):
        """Start ``program`` on a free loopback port; its URL once it logs that it listens."""
        name = env.get("VIRTLAB_OPERATION", "calculator")
        log_path = os.path.join(self.logdir, name + ".log")
        child_env = dict((k, v) for k, v in os.environ.items() if not k.startswith("VIRTLAB_"))
        child_env.update(env, VIRTLAB_LISTEN_HOST="127.0.0.1", VIRTLAB_LISTEN_PORT="0")
        with open(log_path, "w") as log:
            child = subprocess.Popen(["node", os.path.join(self.files, program)], env=child_env, stdout=log,
                                     stderr=subprocess.STDOUT)
        self.children.append(child)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(log_path) as log:
                match = LISTENING.search(log.read())
            if match:
                return "http://127.0.0.1:%s" % match.group(1)
            if child.poll() is not None:
                break
            time.sleep(0.05)
        with open(log_path) as log:
            sys.exit("%s did not start: %s" % (name, log.read()[-2000:]))

    def stop(self):
        for child in self.children:
            child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=8)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def parse_ab(text):
    """requests/s, p50/p99 in ms, completed and failed requests and non-2xx answers from ab's report."""
    def number(pattern, default=None):
        match = re.search(pattern, text, re.M)
        if match is None:
            if default is None:
                raise ValueError("ab's report has no %r:\n%s" % (pattern, text[-2000:]))
            return default
        return float(match.group(1))

    return {
        "rps": number(r"^Requests per second:\s+([\d.]+)"),
        "p50_ms": number(r"^\s+50%\s+(\d+)"),
        "p99_ms": number(r"^\s+99%\s+(\d+)"),
        "complete": int(number(r"^Complete requests:\s+(\d+)")),
        "failed": int(number(r"^Failed requests:\s+(\d+)")),
        "non_2xx": int(number(r"^Non-2xx responses:\s+(\d+)", 0)),
    }


def verdict(result):
    """The run against the target, in words."""
    missed = []
    if result["rps"] < TARGET["rps"]:
        missed.append("%.0f requests/s < %.0f" % (result["rps"], TARGET["rps"]))
    if result["p99_ms"] > TARGET["p99_ms"]:
        missed.append("p99 %d ms > %.0f ms" % (result["p99_ms"], TARGET["p99_ms"]))
    return "target missed: " + ", ".join(missed) if missed else "target met"


def loadavg():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def run(clients, seconds, expression, files=FILES):
    """One load run of the services in ``files``: ab's figures, the answer checked first, the load average."""
    ab = ensure_ab()
    logdir = tempfile.mkdtemp(prefix="virtlab-load.")
    services = Services(logdir, files)
    try:
        urls = dict((op, services.start("operation.js", {"VIRTLAB_OPERATION": op})) for op in OPERATIONS)
        env = dict(("VIRTLAB_%s_URL" % op.upper(), url) for op, url in urls.items())
        calculator = services.start("calculator.js", env)
        body = os.path.join(logdir, "body.txt")
        with open(body, "w") as handle:
            handle.write(expression)
        # A first request: the answer is the right one before anything is timed.
        check = subprocess.run(["curl", "-sS", "--max-time", "5", "--data-binary", "@" + body, calculator + "/"],
                               capture_output=True, text=True, check=False)
        if not check.stdout.startswith("result = "):
            sys.exit("the calculator answered %r %s" % (check.stdout, check.stderr))
        # -n is only a ceiling: -t ends the run. -k: keep-alive clients, as a browser or a load balancer keeps them.
        load_before = loadavg()
        command = [ab, "-q", "-k", "-c", str(clients), "-t", str(seconds), "-n", "100000000", "-p", body,
                   "-T", "text/plain", calculator + "/"]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit("ab failed (rc=%d): %s %s" % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
        result = parse_ab(proc.stdout)
        result.update(clients=clients, seconds=seconds, expression=expression, answer=check.stdout.strip(),
                      load_before=load_before, load_after=loadavg())
        result["verdict"] = verdict(result)
        return result
    finally:
        services.stop()
        shutil.rmtree(logdir, ignore_errors=True)


def describe(result):
    return ("%.0f requests/s, p50 %d ms, p99 %d ms, %d requests, %d failed, %d non-2xx (load %s before, %s after): %s"
            % (result["rps"], result["p50_ms"], result["p99_ms"], result["complete"], result["failed"],
               result["non_2xx"], result["load_before"], result["load_after"], result["verdict"]))


def median_of(results):
    """The medians of a variant's runs, with the verdict of the medians."""
    summary = dict((key, statistics.median(r[key] for r in results)) for key in ("rps", "p50_ms", "p99_ms"))
    summary.update(runs=len(results), failed=sum(r["failed"] for r in results),
                   non_2xx=sum(r["non_2xx"] for r in results))
    summary["verdict"] = verdict(summary)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--seconds", type=int, default=20, help="length of the run (20)")
    parser.add_argument("--expression", default="(5+6)*2", help="the request body ((5+6)*2)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each variant (1)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=DIR",
                        help="also run the services in DIR (a copy of roles/calculator/files), in turns")
    parser.add_argument("--check", action="store_true", help="exit 1 when the median misses the target")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    variants = [("current", FILES)]
    for spec in args.variant:
        name, sep, files = spec.partition("=")
        if not sep or not os.path.isfile(os.path.join(files, "calculator.js")):
            parser.error("--variant wants NAME=DIR, DIR holding calculator.js: %r" % spec)
        variants.append((name, os.path.abspath(files)))
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    names = [variant[0] for variant in variants]
    print("%d clients, %d s, body %r, %d run(s) of %s"
          % (args.clients, args.seconds, args.expression, args.runs, ", ".join(names)), flush=True)
    results = dict((name, []) for name in names)
    for index in range(args.runs):
        # Alternate the order, so that neither variant always runs on a warmer or a busier machine.
        for name, files in (variants if index % 2 == 0 else variants[::-1]):
            result = run(args.clients, args.seconds, args.expression, files)
            results[name].append(result)
            print("run %d %s -> %s: %s" % (index + 1, name, result["answer"], describe(result)), flush=True)
    summaries = dict((name, median_of(runs)) for name, runs in results.items())
    for name, summary in summaries.items():
        print("median of %d %s: %.0f requests/s, p50 %g ms, p99 %g ms: %s"
              % (summary["runs"], name, summary["rps"], summary["p50_ms"], summary["p99_ms"], summary["verdict"]))
    for name in names[1:]:
        print("current / %s: requests/s %.2fx, p99 %.2fx" % (
            name, summaries["current"]["rps"] / summaries[name]["rps"],
            summaries["current"]["p99_ms"] / summaries[name]["p99_ms"]))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"runs": results, "medians": summaries}, handle, indent=2)
    failed = sum(s["failed"] + s["non_2xx"] for s in summaries.values())
    if failed:
        sys.exit("%d requests failed or answered non-2xx" % failed)
    if args.check and summaries["current"]["verdict"] != "target met":
        sys.exit(summaries["current"]["verdict"])


if __name__ == "__main__":
    main()
