# -*- coding: utf-8 -*-
"""The VBoxManage double, put first on PATH for the vbox_* module tests.

``vbox`` gives each test an empty VirtualBox (a state file in tmp_path) and helpers to read
that state, the calls made, and to inject failures.
"""

import json
import os
import sys

import pytest

BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")
DOUBLE = os.path.join(BIN, "VBoxManage")


class VBoxDouble:
    def __init__(self, state_path):
        self.state_path = state_path
        self.log_path = state_path + ".log"
        self.folder = os.path.dirname(state_path)

    def state(self):
        if not os.path.exists(self.state_path):
            return {}
        with open(self.state_path) as handle:
            return json.load(handle)

    def state_text(self):
        """The state file's exact content, to prove that check mode changed nothing."""
        if not os.path.exists(self.state_path):
            return ""
        with open(self.state_path) as handle:
            return handle.read()

    def vm(self, name):
        return next((vm for vm in self.state().get("vms", []) if vm["name"] == name), None)

    def calls(self):
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path) as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def subcommands(self):
        return [call[0] for call in self.calls()]

    def mutating_calls(self):
        """Calls other than the read-only ones (showvminfo, list, guestproperty, snapshot list)."""
        def reads(call):
            return call[0] in ("showvminfo", "list", "guestproperty", "--version") or \
                (call[0] == "snapshot" and call[2:3] == ["list"])
        return [call for call in self.calls() if not reads(call)]

    def inject(self, **knobs):
        state = self.state()
        state.setdefault("inject", {}).update(knobs)
        with open(self.state_path, "w") as handle:
            json.dump(state, handle)

    def path(self, *parts):
        return os.path.join(self.folder, *parts)


@pytest.fixture
def vbox(tmp_path, monkeypatch):
    assert os.access(DOUBLE, os.X_OK), "%s must be executable (chmod +x, git keeps the mode)" % DOUBLE
    state_path = str(tmp_path / "vbox-state.json")
    # The double starts with "env python3": make that the interpreter running the tests, so it
    # neither depends on nor waits for whatever python3 (or version-manager shim) PATH has.
    interpreter = tmp_path / "interpreter"
    interpreter.mkdir()
    os.symlink(sys.executable, str(interpreter / "python3"))
    monkeypatch.setenv("PATH", os.pathsep.join([BIN, str(interpreter), os.environ.get("PATH", "")]))
    monkeypatch.setenv("VBOXMANAGE_DOUBLE_STATE", state_path)
    return VBoxDouble(state_path)


@pytest.fixture
def base_args():
    """Options every test passes: retries without waiting."""
    return {"retry_delay": 0}


@pytest.fixture
def make_vm(vbox, base_args, run_module):
    """Create a VM through vbox_vm (no disk unless given): make_vm("lab", "running")."""
    from ansible_collections.virtlab.core.plugins.modules import vbox_vm

    def make(name, state="poweroff", **options):
        result = run_module(vbox_vm, dict(base_args, name=name, ostype="Ubuntu_64", state=state, **options))
        assert not result["failed"] and result["changed"], result
        return result["vm"]
    return make
