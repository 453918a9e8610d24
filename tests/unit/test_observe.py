# -*- coding: utf-8 -*-
"""The action plugins' shortcut reads a host with one shell command. These tests run those commands for real, in
this machine's shell, and check that what they parse is what the modules read with Python - the shortcut may
only skip a module run when both see the same host."""

import os
import subprocess

import pytest

from ansible_collections.virtlab.core.plugins.module_utils.node import node_service, observe, static_routes
from ansible_collections.virtlab.core.plugins.modules import node_service as node_service_module
from ansible_collections.virtlab.core.plugins.modules import static_routes as static_routes_module


def sh(command):
    return subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=True).stdout


class FakeModule:
    """What the modules' readers use of AnsibleModule: params and run_command."""

    def __init__(self, params=None):
        self.params = params or {}

    @staticmethod
    def run_command(args):
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def test_sections_keep_file_contents_exactly_with_or_without_final_newline(tmp_path):
    with_newline, without = tmp_path / "a", tmp_path / "b"
    with_newline.write_text("one\ntwo\n")
    without.write_text("no newline at the end")
    without.chmod(0o600)
    script = observe.script([observe.file_command(str(with_newline)), observe.file_command(str(without)),
                             observe.file_command(str(tmp_path / "missing")), observe.flag_command("t", "true"),
                             observe.flag_command("f", "false")])
    files, flags, unused_outputs = observe.files_and_flags(observe.parse_sections(sh(script)))
    assert files[str(with_newline)] == ("0644", "one\ntwo\n")
    assert files[str(without)] == ("0600", "no newline at the end")
    assert files[str(tmp_path / "missing")] is None
    assert flags == {"t": True, "f": False}


def test_a_terminal_s_crlf_is_undone_and_truncated_output_is_refused(tmp_path):
    path = tmp_path / "a"
    path.write_text("x\ny\n")
    output = sh(observe.script([observe.file_command(str(path))]))
    assert observe.parse_sections(output.replace("\n", "\r\n")) == observe.parse_sections(output)
    with pytest.raises(ValueError):
        observe.parse_sections(output[:-20])
    with pytest.raises(ValueError):
        observe.parse_sections("sh: 1: ip: not found\n")


def test_static_routes_shell_reading_equals_the_module_s_python_reading():
    by_shell = static_routes.parse_observation(sh(static_routes.observe_command()))
    by_python = static_routes_module.read_host(FakeModule())
    assert vars(by_shell) == vars(by_python)


def test_static_routes_shortcut_decides_as_the_module_does():
    state = static_routes.HostState({"10.77.3.0/24": "10.77.2.1"}, False, {}, False)
    params = dict(routes=[{"dest": "10.77.3.0/24", "via": "10.77.2.1"}], purge=True, forwarding=None, persist=False)
    assert static_routes.plan(state, params)["changed"] is False
    assert static_routes.plan(state, dict(params, persist=True))["changed"] is True, "boot files missing"
    assert static_routes.plan(state, dict(params, forwarding=True))["fix_forwarding"] is True


def service_params(directory, **kwargs):
    params = dict(name="virtlab-unit-test-service", description="test", user="nobody", directory=str(directory),
                  files=[{"path": "app.js", "content": "console.log(1)\n", "mode": "0644"}],
                  environment={"A": "1"}, exec_start="/usr/bin/node app.js", port=None, start_timeout=5,
                  state="started")
    params.update(kwargs)
    return params


def test_node_service_shell_reading_equals_the_module_s_python_reading(tmp_path):
    (tmp_path / "app.js").write_text("console.log(1)\n")
    params = service_params(tmp_path)
    by_shell = node_service.parse_observation(sh(node_service.observe_command(params)))
    by_python = node_service_module.ServiceReconciler(FakeModule(params)).read_host()
    assert vars(by_shell) == vars(by_python)
    assert by_shell.files[str(tmp_path / "app.js")] == ("0644", "console.log(1)\n")


def test_node_service_plan_in_sync_only_when_every_file_mode_and_state_match(tmp_path):
    params = service_params(tmp_path)
    files = dict((path, (mode, content)) for path, content, mode in node_service.wanted_files(params))
    state = node_service.HostState(True, files, True, True)
    assert node_service.plan(state, params) == ([], [])
    app = str(tmp_path / "app.js")
    changed_mode = dict(files, **{app: ("0600", "console.log(1)\n")})
    actions, stale = node_service.plan(node_service.HostState(True, changed_mode, True, True), params)
    assert actions == ["wrote %s" % app, "restarted"] and stale[0][0] == app
    assert node_service.plan(node_service.HostState(True, files, False, True), params)[0] == ["started"]
    assert node_service.invalid(dict(params, user="root")) and node_service.invalid(dict(params, exec_start="x"))


def test_observed_paths_with_quotes_and_spaces_are_safe(tmp_path):
    odd = tmp_path / "it's a file"
    odd.write_text("content\n")
    files, unused_flags, unused_outputs = observe.files_and_flags(
        observe.parse_sections(sh(observe.script([observe.file_command(str(odd))]))))
    assert files == {str(odd): ("0644", "content\n")}
    assert os.path.exists(str(odd))
