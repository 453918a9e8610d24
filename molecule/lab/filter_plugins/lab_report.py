# -*- coding: utf-8 -*-
"""Filters for side_effect.yml: what a playbook run reported as changed, from the ansible.posix.json callback."""


def _changed(report):
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            name = task["task"]["name"]
            for host, result in task.get("hosts", {}).items():
                if result.get("changed"):
                    yield host, name


def lab_changed_roles(report):
    """{host: sorted roles (or names of tasks outside any role) with a task that reported changed}."""
    changed = {}
    for host, name in _changed(report):
        changed.setdefault(host, set()).add(name.split(" : ", 1)[0] if " : " in name else name)
    return dict((host, sorted(names)) for host, names in changed.items())


def lab_changed_tasks(report):
    """{host: names of the tasks that reported changed, in run order}."""
    changed = {}
    for host, name in _changed(report):
        changed.setdefault(host, []).append(name)
    return changed


class FilterModule(object):
    def filters(self):
        return {"lab_changed_roles": lab_changed_roles, "lab_changed_tasks": lab_changed_tasks}
