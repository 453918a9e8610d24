# -*- coding: utf-8 -*-
"""The measure role's script (roles/measure/files/measure.py), the parts that need no container, VM or cloud:
the service handed to a guest as cloud-config, the Node.js image's tag, the accelerator read from a QEMU
command line, and the waits (a figure, a failure, a timeout told apart)."""

import base64
import importlib.util
import json
import os
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = importlib.util.spec_from_file_location("measure", os.path.join(REPO, "roles", "measure", "files", "measure.py"))
measure = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(measure)
SOURCES = os.path.join(REPO, "roles", "calculator", "files")


def test_the_cloud_config_writes_the_service_files_and_starts_the_unit_at_first_boot():
    files = measure.service_files(SOURCES)
    text = measure.cloud_config(files)
    assert text.startswith("#cloud-config\n")
    data = json.loads(text.split("\n", 1)[1])  # JSON is YAML: cloud-init reads it as cloud-config
    written = {entry["path"]: base64.b64decode(entry["content"]).decode() for entry in data["write_files"]}
    assert written == files
    with open(os.path.join(SOURCES, "operation.js")) as handle:
        assert written["/opt/virtlab-measure/operation.js"] == handle.read()
    # Every later boot starts it through the drop-in; the first through runcmd (the files come after systemd).
    assert "Wants=virtlab-measure.service" in written["/etc/systemd/system/multi-user.target.d/virtlab-measure.conf"]
    assert ["systemctl", "start", "--no-block", "virtlab-measure.service"] in data["runcmd"]


@pytest.mark.parametrize("base, tag", [
    ("virtlab/debian-systemd:bookworm", "virtlab/debian-systemd-node:bookworm"),  # the benchmark labs' image
    ("registry.local:5000/lab/base", "registry.local:5000/lab/base-node"),       # a port is not a tag
    ("base", "base-node"),
])
def test_the_node_image_is_named_after_its_base_image(base, tag):
    assert measure.node_image_tag(base) == tag


@pytest.mark.parametrize("command_line, mode", [
    ("qemu-system-x86_64 -machine pc-i440fx-7.2,usb=off,accel=tcg -cpu qemu64", "tcg"),
    ("qemu-system-x86_64 -accel kvm -cpu host", "kvm"),
    ("qemu-system-x86_64 -enable-kvm -m 512", "kvm"),
    ("qemu-system-x86_64 -m 512", "unknown"),
])
def test_the_accelerator_is_read_from_the_qemu_command_line(command_line, mode):
    assert measure.accelerator(command_line) == mode


def test_a_wait_gives_the_seconds_until_ready():
    started = time.monotonic()
    calls = []

    def ready():
        calls.append(1)
        return len(calls) == 3
    seconds = measure.wait_for("never", ready, started, started + 10, interval=0.01)
    assert 0 < seconds < 10 and len(calls) == 3


def test_a_wait_stops_at_once_when_the_instance_is_gone_and_names_the_problem():
    started = time.monotonic()
    with pytest.raises(measure.Failure, match="the container c is exited"):
        measure.wait_for("no answer", lambda: False, started, started + 30, alive=lambda: "the container c is exited")
    assert time.monotonic() - started < 5


def test_a_wait_that_times_out_says_what_it_waited_for():
    started = time.monotonic()
    with pytest.raises(measure.Failure, match=r"^no correct answer on 127.0.0.1:9 within 0 s$"):
        measure.first_answer(9, started, started + 0.2, lambda: None)
