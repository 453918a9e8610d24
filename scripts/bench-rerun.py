#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a re-run of the Docker lab costs, measured against ``ansible all -m ping`` of the same hosts.

Two scenarios, each timed as a pair (the run and a ping, in alternating order) so that the machine's load
drifts out of the ratio:

- ``noop``: ``ansible-playbook site.yml`` on a lab that is in place (it must report nothing changed);
- ``repair``: ``docker exec virtlab-cs ip route del 10.77.3.0/24`` (not timed), then ``site.yml`` (it must
  change something and fail nothing).

Each variant is a strategy and, optionally, another copy of the collection (for example a checkout of the
commit before a change); the variants are interleaved round by round. The lab must be built first
(``make lab``). Prints, per variant and scenario, the median ratio, its range and the medians in seconds.

    scripts/bench-rerun.py                               # 5 rounds, linear and linear_preload, this clone
    scripts/bench-rerun.py --pairs 7 --variant before=virtlab.core.linear_preload@../old-clone \\
        --variant after=linear
"""

from __future__ import print_function

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BREAK_ROUTE = ["docker", "exec", "virtlab-cs", "ip", "route", "del", "10.77.3.0/24"]
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
DEFAULT_VARIANTS = ["linear_preload=virtlab.core.linear_preload", "linear=linear"]


class Variant:
    def __init__(self, spec):
        name, unused_sep, rest = spec.partition("=")
        strategy, unused_sep, tree = rest.partition("@")
        if not name or not strategy:
            raise argparse.ArgumentTypeError("variant %r: NAME=STRATEGY[@TREE]" % spec)
        self.name, self.strategy = name, strategy
        self.tree = os.path.abspath(tree) if tree else REPO
        if not os.path.isfile(os.path.join(self.tree, "ansible.cfg")):
            raise argparse.ArgumentTypeError("variant %r: no ansible.cfg in %s" % (spec, self.tree))

    def run(self, command):
        """Run ``command`` from the variant's tree; (seconds, stdout). Exits on failure."""
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(self.tree, "ansible.cfg"), ANSIBLE_STRATEGY=self.strategy,
                   ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=self.tree, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit("%s (%s) failed, rc=%s:\n%s\n%s" % (" ".join(command), self.name, proc.returncode,
                                                         proc.stdout[-4000:], proc.stderr[-2000:]))
        return seconds, proc.stdout


class NotMeasured(Exception):
    """A run that did not do what its scenario says (something else touched the lab meanwhile)."""


def check_recap(stdout, scenario, variant):
    """A no-op run changes nothing; a repair run changes something; neither fails a host."""
    hosts = RECAP.findall(stdout)
    changed = sum(int(h[2]) for h in hosts)
    if not hosts or any(int(h[3]) or int(h[4]) for h in hosts):
        sys.exit("%s run of %s failed:\n%s" % (scenario, variant.name, stdout[-3000:]))
    if (changed == 0) != (scenario == "noop"):
        raise NotMeasured("%s run of %s changed %d things" % (scenario, variant.name, changed))


def pair(variant, scenario, ping_first):
    """(seconds of site.yml, seconds of ping)."""
    if scenario == "repair":
        proc = subprocess.run(BREAK_ROUTE, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit("cannot delete the route on cs: %s" % proc.stderr.strip())
    ping = ["ansible", "all", "-m", "ansible.builtin.ping"]
    site = ["ansible-playbook", "site.yml"]
    if ping_first:
        ping_s = variant.run(ping)[0]
        site_s, out = variant.run(site)
    else:
        site_s, out = variant.run(site)
        ping_s = variant.run(ping)[0]
    check_recap(out, scenario, variant)
    return site_s, ping_s


def summary(samples):
    ratios = [s / p for s, p in samples]
    return dict(pairs=len(samples), median=statistics.median(ratios), min=min(ratios), max=max(ratios),
                site_median=statistics.median(s for s, unused_ping in samples),
                ping_median=statistics.median(p for unused_site, p in samples))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--pairs", type=int, default=5, help="rounds: pairs per variant and scenario (5)")
    parser.add_argument("--variant", type=Variant, action="append",
                        help="NAME=STRATEGY[@TREE], repeatable (default: linear_preload and linear, this clone)")
    parser.add_argument("--scenario", choices=["noop", "repair"], action="append",
                        help="repeatable (default: both)")
    parser.add_argument("--json", help="also write the samples and summaries to this file")
    args = parser.parse_args()
    variants = args.variant or [Variant(spec) for spec in DEFAULT_VARIANTS]
    scenarios = args.scenario or ["noop", "repair"]

    # A first no-op run per variant, not timed: the lab is in place and caches are warm for everyone.
    for variant in variants:
        variant.run(["ansible-playbook", "site.yml"])
    samples = dict(((v.name, s), []) for v in variants for s in scenarios)
    for round_ in range(args.pairs):
        for index in range(len(variants)):
            variant = variants[(index + round_) % len(variants)]
            for scenario in scenarios:
                try:
                    site_s, ping_s = pair(variant, scenario, ping_first=(round_ % 2 == 0))
                except NotMeasured as exc:
                    # The lab is shared: one more try, then the pair is left out (and said so).
                    print("round %d: %s, measured again" % (round_ + 1, exc), flush=True)
                    try:
                        site_s, ping_s = pair(variant, scenario, ping_first=(round_ % 2 == 0))
                    except NotMeasured as again:
                        print("round %d: %s, left out" % (round_ + 1, again), flush=True)
                        continue
                samples[(variant.name, scenario)].append((site_s, ping_s))
                print("round %d %-16s %-6s site %5.1fs ping %5.1fs %.2fx" % (
                    round_ + 1, variant.name, scenario, site_s, ping_s, site_s / ping_s), flush=True)

    print("\n%-16s %-6s %5s %7s %13s %8s %8s" % ("variant", "run", "pairs", "median", "min-max", "site s", "ping s"))
    report = {}
    for (name, scenario), pairs in samples.items():
        result = summary(pairs)
        report["%s/%s" % (name, scenario)] = dict(result, samples=pairs)
        print("%-16s %-6s %5d %6.2fx %5.2f-%5.2fx %8.1f %8.1f" % (
            name, scenario, result["pairs"], result["median"], result["min"], result["max"], result["site_median"],
            result["ping_median"]))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
