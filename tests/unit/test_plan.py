# -*- coding: utf-8 -*-
"""Whether a machine is in place, decided once (Plan.not_in_place) and returned by every machine module."""

import pytest

from ansible_collections.virtlab.core.plugins.module_utils.base import VirtlabModule
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan


def plan_of(*verbs):
    plan = Plan()
    for verb in verbs:
        plan.add(verb, "vm")
    return plan


@pytest.mark.parametrize("verbs, not_in_place", [
    ((), False),
    (("update", "resize"), False),                   # a running machine changed in place: still there to log into
    (("migrate", "update"), False),
    (("stop", "change"), False),
    (("create", "start"), True),
    (("change", "start"), True),                      # a stopped machine that the run would start
    (("recreate", "start"), True),                    # a Docker node replaced: not the container it will be
    (("disconnect", "connect", "readdress", "start"), True),
])
def test_a_machine_is_not_in_place_when_the_plan_creates_recreates_or_starts_it(verbs, not_in_place):
    assert plan_of(*verbs).not_in_place() is not_in_place


class Exited(Exception):
    pass


def exit_result(machine, plan):
    """What VirtlabModule.exit_with hands to exit for ``plan``, for a module with or without ``machine``."""
    module = object.__new__(type("Module", (VirtlabModule,), {"machine": machine}))
    seen = {}

    def exit(changed, before=None, after=None, **result):
        seen.update(result, changed=changed)
        raise Exited()

    module.exit = exit
    with pytest.raises(Exited):
        module.exit_with(plan, {}, {"state": "running"})
    return seen


def test_a_machine_module_returns_its_verbs_and_whether_it_is_in_place():
    result = exit_result(True, plan_of("create", "start"))
    assert result["not_in_place"] is True and result["verbs"] == ["create", "start"]
    assert result["changed"] is True and result["resource"] == {"state": "running"}
    in_place = exit_result(True, Plan())
    assert in_place["not_in_place"] is False and in_place["verbs"] == [] and in_place["changed"] is False


def test_a_module_of_another_resource_returns_neither():
    result = exit_result(False, plan_of("create"))
    assert "not_in_place" not in result and "verbs" not in result


@pytest.mark.parametrize("module, cls", [
    ("proxmox_ct", "ProxmoxCt"), ("vbox_vm", "VBoxVmModule"), ("openstack_server", "OpenStackServer"),
])
def test_each_backend_s_machine_module_returns_whether_it_is_in_place(module, cls):
    """The provisioning roles read not_in_place of these modules in check mode (docs/CONVENTIONS.md)."""
    imported = __import__("ansible_collections.virtlab.core.plugins.modules." + module, fromlist=[cls])
    assert getattr(imported, cls).machine is True
