#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The calculator under load: its five services run on this machine's loopback, ``ab`` drives them.

The four operation services and the calculator (roles/calculator/files, the programs the lab deploys) are started
with Node.js on 127.0.0.1, on free ports, with their default limits (body size, timeouts). ``ab`` (apache2-utils,
installed with apt when it is missing) then POSTs one expression with 32 concurrent keep-alive clients for 20 s.
Each request of "(5+6)*2" is two calls to operation services, so the operation services answer twice the rate.

Prints requests/s, p50 and p99 latency and the failed requests; exits 1 when a request failed or, with
``--check``, when the target (>= 2500 requests/s, p99 <= 30 ms) is missed. The services' per-request log lines go
to a file, as journald takes them in the lab.

    scripts/bench_load.py                       # 32 clients, 20 s
    scripts/bench_load.py --clients 8 --seconds 5 --json out.json
"""

from __future__ import print_function

import argparse
import json
import os
import re
import shutil
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

    def __init__(self, logdir):
        self.logdir = logdir
        self.children = []

    def start(self, program, env, timeout=10.0):
        """Start ``program`` on a free loopback port; its URL once it logs that it listens."""
        name = env.get("VIRTLAB_OPERATION", "calculator")
        log_path = os.path.join(self.logdir, name + ".log")
        child_env = dict((k, v) for k, v in os.environ.items() if not k.startswith("VIRTLAB_"))
        child_env.update(env, VIRTLAB_LISTEN_HOST="127.0.0.1", VIRTLAB_LISTEN_PORT="0")
        with open(log_path, "w") as log:
            child = subprocess.Popen(["node", os.path.join(FILES, program)], env=child_env, stdout=log,
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


def run(clients, seconds, expression):
    ab = ensure_ab()
    logdir = tempfile.mkdtemp(prefix="virtlab-load.")
    services = Services(logdir)
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
        command = [ab, "-q", "-k", "-c", str(clients), "-t", str(seconds), "-n", "100000000", "-p", body,
                   "-T", "text/plain", calculator + "/"]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit("ab failed (rc=%d): %s %s" % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
        result = parse_ab(proc.stdout)
        result.update(clients=clients, seconds=seconds, expression=expression, answer=check.stdout.strip())
        return result
    finally:
        services.stop()
        shutil.rmtree(logdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--seconds", type=int, default=20, help="length of the run (20)")
    parser.add_argument("--expression", default="(5+6)*2", help="the request body ((5+6)*2)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    result = run(args.clients, args.seconds, args.expression)
    print("%d clients, %d s, %r -> %s: %.0f requests/s, p50 %d ms, p99 %d ms, %d requests, %d failed, %d non-2xx"
          % (args.clients, args.seconds, args.expression, result["answer"], result["rps"], result["p50_ms"],
             result["p99_ms"], result["complete"], result["failed"], result["non_2xx"]))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    if result["failed"] or result["non_2xx"]:
        sys.exit("%d requests failed, %d answered non-2xx" % (result["failed"], result["non_2xx"]))
    if args.check and (result["rps"] < TARGET["rps"] or result["p99_ms"] > TARGET["p99_ms"]):
        sys.exit("target missed: >= %.0f requests/s with p99 <= %.0f ms" % (TARGET["rps"], TARGET["p99_ms"]))


if __name__ == "__main__":
    main()
