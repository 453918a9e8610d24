# -*- coding: utf-8 -*-
"""The VBoxManage double, put first on PATH for the vbox_* module tests.

``vbox`` gives each test an empty VirtualBox (a state file in tmp_path) and helpers to read
that state, the calls made, and to inject failures.
"""

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import uuid

import pytest

BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")
DOUBLE = os.path.join(BIN, "VBoxManage")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, BIN)

import vbox_guests as guest_side  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from guest_lab import lab_key  # noqa: E402


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

    def command(self, *argv):
        """Run one VBoxManage command in-process, for a test's setup: same code as the
        executable, without a process per call. Not logged with the module's calls."""
        double = _double_module().Double(self.state_path)
        double.run(list(argv))
        double.save()
        return "\n".join(double.out)


def _double_module():
    if "vbox_double" not in sys.modules:
        loader = importlib.machinery.SourceFileLoader("vbox_double", DOUBLE)
        spec = importlib.util.spec_from_loader("vbox_double", loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        sys.modules["vbox_double"] = module
    return sys.modules["vbox_double"]


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
def make_vm(vbox):
    """A VM set up directly in the double (as `VBoxManage createvm ...` would), for tests of the
    other modules: make_vm("lab", "running", disk=True, nic1="null")."""
    def make(name, state="poweroff", disk=False, nic1="nat"):
        vbox.command("createvm", "--name", name, "--ostype", "Ubuntu_64", "--register")
        vbox.command("modifyvm", name, "--memory", "1024", "--nic1", nic1)
        if disk:
            vbox.command("createmedium", "disk", "--filename", vbox.path(name + ".vdi"), "--size", "1024")
            vbox.command("storagectl", name, "--name", "SATA", "--add", "sata", "--controller", "IntelAhci")
            vbox.command("storageattach", name, "--storagectl", "SATA", "--port", "0", "--device", "0",
                         "--type", "hdd", "--medium", vbox.path(name + ".vdi"))
        if state == "running":
            vbox.command("startvm", name, "--type", "headless")
        return vbox.vm(name)
    return make


@pytest.fixture(scope="session")
def guest_image():
    """The guest image layer (built once, cached by the script's hash)."""
    run = subprocess.run(["bash", os.path.join(REPO, "scripts", "build-guest-container-image.sh")],
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip().splitlines()[-1]


class Guests:
    """What a test with guests on knows: the prefix, the user and key the base disk has."""

    def __init__(self, prefix, user, key):
        self.prefix, self.user, self.key = prefix, user, key

    def container(self, vm_name):
        return self.prefix + guest_side.slug(vm_name)

    def exec(self, vm_name, *argv):
        return subprocess.run(["docker", "exec", self.container(vm_name)] + list(argv),
                              capture_output=True, text=True, timeout=60, check=False)

    def ssh(self, port, command, timeout=60):
        return subprocess.run(
            ["ssh", "-p", str(port), "-i", self.key, "-o", "StrictHostKeyChecking=no", "-o",
             "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
             "-o", "LogLevel=ERROR", "%s@127.0.0.1" % self.user, command],
            capture_output=True, text=True, timeout=timeout, check=False)


def guest_base_image(guest_image, prefix, public):
    """The "base disk" of VMs with guests on: the guest image with a user ``debian`` whose authorized key is
    ``public`` and who may sudo (as a cloud image converted to VDI has), as the image ``<prefix>images:base``."""
    base = prefix + "images:base"
    builder = prefix + "base"
    subprocess.run(["docker", "run", "--name", builder, "--network", "none", guest_image, "sh", "-ec",
                    "useradd -m -s /bin/bash debian; mkdir -m 700 /home/debian/.ssh; "
                    "echo '%s' > /home/debian/.ssh/authorized_keys; "
                    "chown -R debian: /home/debian/.ssh; chmod 600 /home/debian/.ssh/authorized_keys; "
                    "echo 'debian ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/debian" % public],
                   check=True, capture_output=True, timeout=120)
    subprocess.run(["docker", "commit", "--change", 'CMD ["/lib/systemd/systemd"]', builder, base],
                   check=True, capture_output=True, timeout=120)
    subprocess.run(["docker", "rm", "-f", builder], check=True, capture_output=True, timeout=120)
    return base


def guests_on(state_path, guest_image, key_directory):
    """Turn guests on in the double's state file: a new prefix, a key pair in key_directory and the base disk
    that authorises it. Returns Guests; guest_side.cleanup(guests.prefix) removes everything they made."""
    prefix = "vguest-%s-" % uuid.uuid4().hex[:6]
    key = lab_key(key_directory)
    guests = Guests(prefix, "debian", key.path)
    try:
        base = guest_base_image(guest_image, prefix, key.public)
    except BaseException:
        guest_side.cleanup(prefix)
        raise
    state = {}
    if os.path.exists(state_path):
        with open(state_path) as handle:
            state = json.load(handle)
    state["guests"] = {"image": base, "prefix": prefix}
    with open(state_path, "w") as handle:
        json.dump(state, handle)
    return guests


@pytest.fixture
def vbox_guests(vbox, guest_image, tmp_path):
    """Guests on (guests_on): every VM the double starts is a real systemd container (bin/vbox_guests.py). All
    of it is removed afterwards."""
    guests = guests_on(vbox.state_path, guest_image, tmp_path)
    try:
        yield guests
    finally:
        guest_side.cleanup(guests.prefix)


@pytest.fixture(scope="session")
def vbox_guests_on():
    """guests_on itself, for a test module that keeps one set of guests for all its tests."""
    return guests_on
