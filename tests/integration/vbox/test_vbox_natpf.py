# -*- coding: utf-8 -*-
"""vbox_natpf against the VBoxManage double: rules added and removed as a difference."""

import pytest

from ansible_collections.virtlab.core.plugins.modules import vbox_natpf

SSH = "ssh,tcp,,2222,,22"
WEB = "web,tcp,127.0.0.1,8080,,80"


def rules_of(vbox, name, nic="1"):
    return vbox.vm(name)["nics"][nic]["rules"]


@pytest.mark.parametrize("vm_state, command", [("running", "controlvm"), ("poweroff", "modifyvm")])
def test_add_then_rerun_unchanged(vbox, base_args, run_module, make_vm, vm_state, command):
    make_vm("lab", vm_state)
    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH]), diff=True)
    assert not result["failed"] and result["changed"], result
    assert result["added"] == [SSH] and result["removed"] == []
    assert result["rules"] == [SSH]
    assert result["diff"] == {"before": {"rules": []}, "after": {"rules": [SSH]}}
    assert rules_of(vbox, "lab") == [SSH]
    natpf_calls = [call for call in vbox.calls() if "natpf1" in call or "--natpf1" in call]
    assert natpf_calls == ([["controlvm", "lab", "natpf1", SSH]] if command == "controlvm"
                           else [["modifyvm", "lab", "--natpf1", SSH]])
    again = run_module(vbox_natpf, dict(base_args, name="lab", rules=["ssh,TCP,,02222,,22"]))
    assert again["changed"] is False, again


@pytest.mark.parametrize("vm_state", ["running", "poweroff"])
def test_removes_undeclared_and_replaces_changed_rules(vbox, base_args, run_module, make_vm, vm_state):
    make_vm("lab", vm_state)
    run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH, WEB]))
    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=["ssh,tcp,,2200,,22"]))
    assert result["changed"]
    assert sorted(result["removed"]) == sorted([SSH, WEB])
    assert result["added"] == ["ssh,tcp,,2200,,22"]
    assert rules_of(vbox, "lab") == ["ssh,tcp,,2200,,22"]
    assert vbox.vm("lab")["state"] == vm_state


def test_not_exclusive_keeps_other_rules(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")
    run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH]))
    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=[WEB], exclusive=False))
    assert result["changed"] and result["removed"] == []
    assert rules_of(vbox, "lab") == [SSH, WEB]


def test_check_mode_reports_the_difference_and_changes_nothing(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")
    run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH]))
    state_before, calls_before = vbox.state_text(), len(vbox.calls())
    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=[WEB]), check_mode=True, diff=True)
    assert result["changed"]
    assert (result["added"], result["removed"]) == ([WEB], [SSH])
    assert result["diff"]["after"] == {"rules": [WEB]}
    assert vbox.state_text() == state_before
    assert [call[0] for call in vbox.calls()[calls_before:]] == ["showvminfo"]


@pytest.mark.parametrize("rule, reason", [
    ("ssh,tcp,,2222,22", "expected 6 comma-separated fields"),
    ("ssh,icmp,,2222,,22", "protocol must be tcp or udp"),
    ("ssh,tcp,,http,,22", "host port must be a number from 1 to 65535"),
    (",tcp,,2222,,22", "the rule needs a name"),
])
def test_a_rule_that_does_not_parse_fails_naming_it(vbox, base_args, run_module, rule, reason):
    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH, rule]))
    assert result["failed"]
    assert result["msg"].startswith("NAT rule %r is not valid: %s" % (rule, reason))
    assert vbox.calls() == []  # rejected before VirtualBox is even asked


def test_duplicate_names_are_refused(vbox, base_args, run_module):
    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH, "ssh,tcp,,2200,,22"]))
    assert result["failed"] and "declared more than once: ssh" in result["msg"]


def test_missing_vm_and_non_nat_adapter_are_reported(vbox, base_args, run_module, make_vm):
    result = run_module(vbox_natpf, dict(base_args, name="ghost", rules=[SSH]))
    assert result["failed"] and result["msg"] == "VirtualBox VM 'ghost' is not registered"
    make_vm("lab", nic1="null")
    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH]))
    assert result["failed"] and "Adapter 1 of VM 'lab' is not in NAT mode (it is null)" in result["msg"]


def test_virtualbox_700_hidden_rules_are_replaced_not_duplicated(vbox, base_args, run_module, make_vm):
    make_vm("lab", "running")
    run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH, WEB]))
    vbox.inject(forwarding_bug_700=True)
    result = run_module(vbox_natpf, dict(base_args, name="lab", rules=[SSH, WEB]))
    assert not result["failed"], result
    assert rules_of(vbox, "lab") == [SSH, WEB]
    assert ["controlvm", "lab", "natpf1", "delete", "ssh"] in vbox.calls()
