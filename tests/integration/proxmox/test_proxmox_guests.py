# -*- coding: utf-8 -*-
"""The nodes' `pct exec` with real guests behind the PVE API double: tests/integration/proxmox/bin/pct, run on
each node through a local connection whose interpreter names the node (pve_guests.nodes_inventory). Objectives 6-7
run whole, their `guest` steps included, in the one site.yml run of test_proxmox_calculator_lab.py."""

import os
import subprocess

BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")


def test_pct_exec_answers_like_pct_for_a_ct_elsewhere_or_stopped(pve, pve_guests, tmp_path):
    env = dict(os.environ, PVE_DOUBLE_GUEST_PREFIX=pve_guests.prefix, PVE_DOUBLE_NODE="pve2")
    missing = subprocess.run([os.path.join(BIN, "pct"), "exec", "600", "--", "true"], env=env,
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 255
    assert missing.stderr == "Configuration file 'nodes/pve2/lxc/600.conf' does not exist\n"
