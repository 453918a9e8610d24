# -*- coding: utf-8 -*-
"""vbox_medium (closemedium) against the VBoxManage double: VirtualBox's media registry emptied at teardown."""

import os

from ansible_collections.virtlab.core.plugins.modules import vbox_medium, vbox_medium_clone


def copied_base(vbox, base_args, run_module):
    """A base image copied once, as the lab's provisioning does: clonemedium registers the source and the copy."""
    with open(vbox.path("base.vdi"), "w") as image:
        image.write("a base image")
    run_module(vbox_medium_clone, dict(base_args, source=vbox.path("base.vdi"), dest=vbox.path("copy.vdi")))
    assert sorted(vbox.state()["media"]) == [vbox.path("base.vdi"), vbox.path("copy.vdi")]


def test_closed_forgets_the_base_image_and_keeps_its_file_then_nothing_to_do(vbox, base_args, run_module):
    copied_base(vbox, base_args, run_module)

    result = run_module(vbox_medium, dict(base_args, path=vbox.path("base.vdi"), state="closed"), diff=True)

    assert not result["failed"] and result["changed"], result
    assert result["actions"] == ["closed %s (VirtualBox forgets it; the file stays)" % vbox.path("base.vdi")]
    assert vbox.path("base.vdi") not in vbox.state()["media"] and os.path.exists(vbox.path("base.vdi"))
    assert (result["diff"]["before"]["registered"], result["diff"]["after"]["registered"]) == (True, False)
    again = run_module(vbox_medium, dict(base_args, path=vbox.path("base.vdi"), state="closed"))
    assert again["changed"] is False and again["actions"] == []


def test_absent_deletes_file_and_entry_also_of_an_unregistered_file(vbox, base_args, run_module):
    copied_base(vbox, base_args, run_module)
    with open(vbox.path("left.vdi"), "w") as image:
        image.write("a disk left by an interrupted run")

    for name in ("copy.vdi", "left.vdi"):
        result = run_module(vbox_medium, dict(base_args, path=vbox.path(name)))
        assert not result["failed"] and result["changed"], result
        assert not os.path.exists(vbox.path(name)) and vbox.path(name) not in vbox.state()["media"]
    again = run_module(vbox_medium, dict(base_args, path=vbox.path("left.vdi")))
    assert again["changed"] is False
    assert [call[0] for call in vbox.mutating_calls()].count("closemedium") == 2


def test_check_mode_changes_nothing(vbox, base_args, run_module):
    copied_base(vbox, base_args, run_module)
    before = vbox.state_text()

    result = run_module(vbox_medium, dict(base_args, path=vbox.path("copy.vdi")), check_mode=True)

    assert result["changed"] and result["medium"] == {"path": vbox.path("copy.vdi"), "registered": False,
                                                      "file": False}
    assert vbox.state_text() == before and os.path.exists(vbox.path("copy.vdi"))


def test_a_disk_attached_to_a_vm_is_refused_before_anything_changes(vbox, base_args, run_module, make_vm):
    make_vm("lab", "poweroff", disk=True)
    before = vbox.state_text()

    result = run_module(vbox_medium, dict(base_args, path=vbox.path("lab.vdi")))

    assert result["failed"]
    assert result["msg"] == ("Cannot close disk %s: VM 'lab' has it attached. Remove the VM (vbox_vm state=absent "
                             "deletes its disks) or detach the disk from it first." % vbox.path("lab.vdi"))
    assert vbox.state_text() == before and "closemedium" not in vbox.subcommands()
