# -*- coding: utf-8 -*-
"""nodejs: the runtime the calculator needs (18 or newer) is installed from the distribution and runs;
a runtime older than the floor fails the play instead of deploying services that would not start."""

from virtlab_checks import node, node_version, packaged_node_version, run_converge

NODE = "mol-nodejs"


def test_runtime_is_recent_enough():
    assert node_version(node(NODE)) >= (18, 0, 0)


def test_runtime_comes_from_the_distribution_package():
    host = node(NODE)
    assert host.package("nodejs").is_installed
    assert node_version(host) == packaged_node_version(host)
    assert host.file("/usr/bin/node").exists


def test_runtime_runs_a_program():
    # What the services rely on: the http module and modern syntax.
    out = node(NODE).check_output("node -e %s", "const h = require('http'); console.log(typeof h.createServer, 2 ** 10)")
    assert out == "function 1024"


def test_too_old_a_runtime_fails_the_play():
    proc = run_converge("-e", "nodejs_min_version=99.0.0")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    # The play stops at the version check, on this node.
    assert "Check the version it got" in output, output[-3000:]
    assert "fatal: [%s]" % NODE in output, output[-3000:]
