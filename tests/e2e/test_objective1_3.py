# -*- coding: utf-8 -*-
"""Objectives 1-3 measured: playbooks/objective1_3_measure.yml in its short mode (20 requests).

The playbook runs the sum service in a container and in a QEMU VM (the guest image is built first when the
machine has none: scripts/build-guest-image.sh, a cache hit otherwise), prints the table and writes the
report. Checked: every row of the table with plausible figures (the container also stopped and started
again), the machine's description and the mode in the report, and that nothing it made remains (container,
QEMU process, overlay) - after a run that succeeded and after one that failed half-way (the VM given too
little time to answer).

The OpenStack column (-e measure_openstack=true) is not run here: one TCG guest takes about eight minutes
(boot, stop, start); docs/theory.md says how to run it on the test cloud.
"""

import json
import os
import subprocess

import pytest

from test_lab import ansible

CONTAINER = "virtlab-measure-ct"
ROWS = ["start to first correct answer (s)", "CPU time until then (s)", "memory, PSS (MiB)",
        "disk: the image (MiB)", "disk: one more instance (MiB)", "latency p50 (ms), 20 requests",
        "latency p99 (ms), 20 requests", "stop (s)", "start again to first correct answer (s)",
        "OpenStack server vs Docker container", "Proxmox CT vs VM"]


def measure(tmp_path, **extra):
    variables = dict(measure_requests=20, measure_report=str(tmp_path / "report" / "objectives1-3.md"),
                     measure_tmp_parent=str(tmp_path), **extra)
    return ansible("ansible-playbook", "playbooks/objective1_3_measure.yml", "-e", json.dumps(variables),
                   check=False)[0]


def leftovers(tmp_path):
    """What a run made and did not remove: its container, its QEMU process, its work directory."""
    found = subprocess.run(["docker", "ps", "-a", "--filter", "name=^/virtlab-measure", "--format", "{{.Names}}"],
                           capture_output=True, text=True, check=True).stdout.split()
    found += ["network " + n for n in subprocess.run(
        ["docker", "network", "ls", "--filter", "name=virtlab-measure", "--format", "{{.Name}}"],
        capture_output=True, text=True, check=True).stdout.split()]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("qemu-system") and str(tmp_path) in cmdline:
            found.append("qemu pid %s" % pid)
    found += [name for name in os.listdir(tmp_path) if name.startswith("virtlab-measure.")]
    return found


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("measure")
    proc = measure(tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    report = tmp_path / "report" / "objectives1-3.md"
    with open(str(report)[:-3] + ".json") as handle:
        figures = json.load(handle)
    return dict(proc=proc, tmp_path=tmp_path, report=report.read_text(), figures=figures)


def test_the_table_has_every_row_printed_and_in_the_report(short_run):
    mode = short_run["figures"]["virtualization"]["mode"].upper()
    assert mode in ("TCG", "KVM")
    for text in (short_run["proc"].stdout, short_run["report"]):
        assert "| measured on this machine (%s) | Docker container | QEMU VM (%s) |" % (mode, mode) in text
        for row in ROWS:
            assert "| %s |" % row in text, "row %r missing" % row
    machine = short_run["figures"]["machine"]
    assert machine["cores"] >= 1 and machine["cpu_model"] in short_run["report"]
    assert "Virtualization: **%s**" % mode in short_run["report"]


def test_the_figures_are_plausible(short_run):
    rows = {row["kind"]: row for row in short_run["figures"]["rows"]}
    assert sorted(rows) == ["container", "vm"]
    for kind, row in rows.items():
        assert row["start_s"] > 0, kind
        assert row["cpu_s"] is not None and row["cpu_s"] > 0, kind
        assert row["pss_mib"] > 1, kind  # a Node.js process alone takes tens of MiB
        assert row["image_mib"] > 10 and row["instance_mib"] > 0, kind
        assert 0 < row["p50_ms"] <= row["p99_ms"], kind
        assert row["requests"] == 20
    # A VM boots a kernel and an init before the service; under emulation that is tens of seconds.
    if short_run["figures"]["virtualization"]["mode"] == "tcg":
        assert rows["container"]["start_s"] < rows["vm"]["start_s"]
        assert rows["container"]["cpu_s"] < rows["vm"]["cpu_s"]
    # The guest's memory is in the QEMU process; a container shares the host kernel.
    assert rows["container"]["pss_mib"] < rows["vm"]["pss_mib"]
    # The container was stopped and started again, and answered again (the VM's every start is a boot).
    assert rows["container"]["stop_s"] > 0 and rows["container"]["restart_s"] > 0
    assert "stop_s" not in rows["vm"]


def test_nothing_remains_after_a_run(short_run):
    assert leftovers(short_run["tmp_path"]) == []


def test_nothing_remains_after_a_run_that_fails_half_way(tmp_path):
    # 20 s: enough for the container, too little for a VM to boot and answer under emulation.
    proc = measure(tmp_path, measure_timeout=20, measure_accel="tcg")
    assert proc.returncode != 0
    assert "measure: no correct answer on 127.0.0.1:50082 within 20 s" in " ".join(proc.stdout.split()), \
        proc.stdout[-4000:]
    assert leftovers(tmp_path) == []
