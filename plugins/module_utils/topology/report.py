# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probe results as a text table and a list of broken paths (no Ansible import)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def reachability_table(results):
    """Probe results -> (table lines, broken path descriptions)."""
    header = "%-8s %-11s %-18s %-10s %-6s %s" % ("FROM", "SERVICE", "ADDRESS", "EXPECTED", "OK", "DETAIL")
    lines, broken = [header], []
    for row in sorted(results, key=lambda r: (r["src"], not r["expect"], r["service"])):
        ok = row["reached"] == row["expect"]
        where = "%s:%s" % (row["address"], row["port"])
        expected = "reachable" if row["expect"] else "blocked"
        lines.append("%-8s %-11s %-18s %-10s %-6s %s" % (
            row["src"], row["service"], where, expected, "ok" if ok else "BROKEN", row["detail"]))
        if not ok:
            broken.append("%s -> %s (%s) should be %s: %s" % (
                row["src"], row["service"], where, expected, row["detail"]))
    return lines, broken
