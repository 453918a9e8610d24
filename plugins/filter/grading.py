# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grading a lab against its topology (playbooks/validate.yml); the logic lives in module_utils/topology/grading.py.
Each filter is documented in its own plugins/filter/<name>.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtlab.core.plugins.module_utils.topology import grading
from ansible_collections.virtlab.core.plugins.plugin_utils.topology_filter import require_usable


def _usable(topology, host=None):
    require_usable(topology)
    if host is not None and host not in (topology.get("routers") or {}) and host not in (topology.get("nodes") or {}):
        raise AnsibleFilterError("host %s is not declared in virtlab_topology (routers or nodes)" % host)


def lab_grade_script(topology, host, requests=None):
    _usable(topology, host)
    return grading.observe_script(topology, host, requests)


def lab_grade_checks(observed, topology, host=None, requests=None):
    """``observed``: the registered result of running lab_grade_script with ansible.builtin.raw on ``host``; with
    no ``host``, a mapping of host names to such results (the checks of all of them)."""
    if host is None:
        return [check for name in sorted(observed or {})
                for check in lab_grade_checks(observed[name], topology, name, requests)]
    _usable(topology, host)
    observed = observed or {}
    if observed.get("unreachable") or observed.get("skipped"):
        return grading.unreachable_checks(topology, host, observed.get("msg"))
    if observed.get("rc") not in (0, None):
        return grading.unreachable_checks(topology, host, "the read-only command failed (exit %s): %s" % (
            observed.get("rc"), (observed.get("stderr") or observed.get("stdout") or "").strip()[-200:]))
    return grading.host_checks(topology, host, observed.get("stdout", ""), requests)


def lab_grade_probes(results):
    return grading.probe_checks(results or [])


def lab_grade_objective5(containers, names, image_info):
    """``containers``: the loop results of docker_container_info over the names in ``names`` (item: the name)."""
    return grading.objective5_checks(names, image_info, dict((r.get("item"), r) for r in containers or []))


def lab_grade_objective8(server_result, names, snapshot_result, bigger_flavor):
    return grading.objective8_checks(names, server_result, snapshot_result, bigger_flavor)


def lab_grade_report(checks, form="table", lab="lab", picture=None):
    if form == "table":
        return grading.report_table(checks)
    if form == "markdown":
        return grading.report_markdown(checks, lab, picture)
    if form == "junit":
        return grading.report_junit(checks, lab)
    if form == "failed":
        return grading.summary(checks)[1]
    if form == "status":
        return grading.report_status(checks)
    raise AnsibleFilterError("lab_grade_report: form %r is not one of table, markdown, junit, failed, status"
                             % (form,))


class FilterModule(object):
    def filters(self):
        return {
            "lab_grade_script": lab_grade_script,
            "lab_grade_checks": lab_grade_checks,
            "lab_grade_probes": lab_grade_probes,
            "lab_grade_objective5": lab_grade_objective5,
            "lab_grade_objective8": lab_grade_objective8,
            "lab_grade_report": lab_grade_report,
        }
