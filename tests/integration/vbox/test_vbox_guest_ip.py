# -*- coding: utf-8 -*-
"""vbox_guest_ip against the VBoxManage double: waiting with a deadline, failure vs timeout."""

from ansible_collections.virtlab.core.plugins.modules import vbox_guest_ip

FAST = {"poll_interval": 0.05}


def test_waits_until_the_guest_reports_its_address(vbox, base_args, run_module, make_vm):
    vbox.inject(guest_ip_delay_polls=3)
    make_vm("lab", "running")
    result = run_module(vbox_guest_ip, dict(base_args, name="lab", timeout=20, **FAST), check_mode=True)
    assert not result["failed"] and result["changed"] is False, result
    assert result["ip"] == "10.0.2.15"
    assert result["ansible_facts"] == {"vbox_guest_ip": "10.0.2.15"}
    assert vbox.subcommands().count("guestproperty") == 4  # three "No value set!", then the address


def test_without_wait_an_absent_address_is_null(vbox, base_args, run_module, make_vm):
    vbox.inject(guest_ip_delay_polls=5)
    make_vm("lab", "running")
    result = run_module(vbox_guest_ip, dict(base_args, name="lab", wait=False))
    assert not result["failed"] and result["ip"] is None


def test_no_guest_additions_times_out_naming_the_vm(vbox, base_args, run_module, make_vm):
    vbox.inject(no_guest_additions=True)
    make_vm("lab", "running")
    result = run_module(vbox_guest_ip, dict(base_args, name="lab", timeout=1, **FAST))
    assert result["failed"]
    assert result["msg"] == "Timed out after 1s waiting for the IP address of VM 'lab'"
    assert result["timeout"] == 1


def test_a_stopped_vm_fails_at_once_not_as_a_timeout(vbox, base_args, run_module, make_vm):
    make_vm("lab", "poweroff")
    result = run_module(vbox_guest_ip, dict(base_args, name="lab", timeout=60, **FAST))
    assert result["failed"]
    assert result["msg"] == "VM 'lab' is poweroff: only a running VM reports an IP address"
    assert "guestproperty" not in vbox.subcommands()
