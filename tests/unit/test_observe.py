# -*- coding: utf-8 -*-
"""The one reader of a host's state: a POSIX shell command built by module_utils/node/observe.py and the
concern's parser. The node-side modules run it through run_command and /bin/sh, their action plugins through
the connection. These tests run those commands for real in this machine's shell, on files and services the
test sets up, and check that what is parsed is that state - exactly, CRLF and odd paths included."""

import os
import pwd
import subprocess

import pytest

from ansible_collections.virtlab.core.plugins.module_utils.node import node_service, observe, static_routes
from ansible_collections.virtlab.core.plugins.module_utils.node.base import module_result
from ansible_collections.virtlab.core.plugins.modules.node_service import NodeServiceModule
from ansible_collections.virtlab.core.plugins.modules.static_routes import StaticRoutesModule


def run(args):
    """(rc, stdout, stderr) as AnsibleModule.run_command gives them: decoded, newlines untouched."""
    proc = subprocess.run(args, capture_output=True, check=False)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def sh(command):
    rc, out, err = run(["/bin/sh", "-c", command])
    assert rc == 0, err
    return out


def through_a_terminal(output):
    """What a terminal's ONLCR makes of the output: every newline becomes CRLF."""
    return output.replace("\n", "\r\n")


class FakeAnsible:
    """What NodeModule.read uses of AnsibleModule: run_command, for real."""

    def __init__(self):
        self.commands = []

    def run_command(self, args):
        self.commands.append(args)
        return run(args)


def module_reading(module_class, params):
    """A module of ``module_class`` with ``params`` and a FakeAnsible, without Ansible's argument parsing."""
    module = module_class.__new__(module_class)
    module.ansible, module.params, module.check_mode, module.want_diff = FakeAnsible(), params, False, False
    return module


def test_sections_keep_file_contents_exactly_with_or_without_final_newline(tmp_path):
    with_newline, without, crlf = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    with_newline.write_text("one\ntwo\n")
    without.write_text("no newline at the end")
    without.chmod(0o600)
    crlf.write_bytes(b"windows\r\nline\r\n")
    script = observe.script([observe.file_command(str(with_newline)), observe.file_command(str(without)),
                             observe.file_command(str(crlf)), observe.file_command(str(tmp_path / "missing")),
                             observe.flag_command("t", "true"), observe.flag_command("f", "false")])
    output = sh(script)
    for text in (output, through_a_terminal(output)):
        files, flags, unused_outputs = observe.files_and_flags(observe.parse_sections(text))
        assert files[str(with_newline)] == ("0644", "one\ntwo\n")
        assert files[str(without)] == ("0600", "no newline at the end")
        assert files[str(crlf)] == ("0644", "windows\r\nline\r\n"), "a file's own CRLF is kept"
        assert files[str(tmp_path / "missing")] is None
        assert flags == {"t": True, "f": False}


def test_truncated_or_foreign_output_is_refused_and_a_failing_command_fails_the_whole(tmp_path):
    path = tmp_path / "a"
    path.write_text("x\ny\n")
    output = sh(observe.script([observe.file_command(str(path))]))
    assert observe.parse_sections("Welcome to the node\n" + output) == observe.parse_sections(output)
    with pytest.raises(ValueError):
        observe.parse_sections(output[:-20])
    with pytest.raises(ValueError):
        observe.parse_sections("sh: 1: ip: not found\n")
    rc, out, unused_err = run(["/bin/sh", "-c", observe.script([observe.command("output", "x", "exit 3")])])
    assert rc == 3
    with pytest.raises(ValueError):
        observe.parse_sections(out)


def test_observed_paths_with_quotes_and_spaces_are_safe(tmp_path):
    odd = tmp_path / "it's a file"
    odd.write_text("content\n")
    files, unused_flags, unused_outputs = observe.files_and_flags(
        observe.parse_sections(sh(observe.script([observe.file_command(str(odd))]))))
    assert files == {str(odd): ("0644", "content\n")}
    assert os.path.exists(str(odd))


def service_params(directory, **kwargs):
    params = dict(name="virtlab-unit-test-service", description="test", user="nobody", directory=str(directory),
                  files=[{"path": "app.js", "content": "console.log(1)\n", "mode": "0644"},
                         {"path": "it's.txt", "content": "a\r\nb", "mode": "0600"}],
                  environment={"A": "1"}, exec_start="/usr/bin/node app.js", port=None, start_timeout=5,
                  state="started")
    params.update(kwargs)
    return params


def test_the_node_service_module_reads_the_host_as_the_test_set_it_up(tmp_path):
    (tmp_path / "app.js").write_text("console.log(1)\n")
    (tmp_path / "it's.txt").write_bytes(b"a\r\nb")
    (tmp_path / "it's.txt").chmod(0o600)
    params = service_params(tmp_path)
    module = module_reading(NodeServiceModule, params)
    state = module.read()
    assert module.ansible.commands == [["/bin/sh", "-c", node_service.observe_command(params)]], \
        "the module reads with the action plugin's command"
    assert state.user_exists is True
    assert state.files == {str(tmp_path / "app.js"): ("0644", "console.log(1)\n"),
                           str(tmp_path / "it's.txt"): ("0600", "a\r\nb"),
                           node_service.env_path(params): None, node_service.unit_path(params): None}
    assert state.active is False and state.enabled is False, "no such unit here"
    unknown = module_reading(NodeServiceModule, dict(params, user="virtlab-no-such-user")).read()
    assert unknown.user_exists is False
    with pytest.raises(KeyError):
        pwd.getpwnam("virtlab-no-such-user")
    # Both sides then plan the same thing from the same state.
    assert node_service.plan(state, params).texts() == [
        "wrote %s" % node_service.env_path(params), "wrote %s" % node_service.unit_path(params), "enabled",
        "started"]


def test_the_static_routes_module_reads_the_kernel_s_table_and_forwarding():
    module = module_reading(StaticRoutesModule, {})
    state = module.read()
    assert module.ansible.commands == [["/bin/sh", "-c", static_routes.observe_command()]]
    kernel = subprocess.run(static_routes.ROUTE_COMMAND, capture_output=True, text=True, check=True).stdout
    assert state.routes == static_routes.parse_kernel_routes(kernel)
    with open(static_routes.FORWARD_PATH) as handle:
        assert state.forwarding is (handle.read().strip() == "1")
    for path, unused_content, unused_mode in static_routes.persisted_files({}, None):
        assert state.files[path] == (open(path).read() if os.path.isfile(path) else None)
    assert state.unit_enabled is os.path.islink(static_routes.WANTS_LINK)


def test_static_routes_plan_texts_and_result():
    state = static_routes.HostState({"10.77.3.0/24": "10.77.2.9", "192.0.2.0/24": "10.77.1.1"}, False, {}, False)
    params = dict(routes=[{"dest": "10.77.3.0/24", "via": "10.77.2.1"}, {"dest": "10.77.0.0/24", "via": "10.77.1.1"}],
                  purge=True, forwarding=None, persist=False)
    plan = static_routes.plan(state, params)
    assert plan.texts() == ["removed 192.0.2.0/24 via 10.77.1.1", "added 10.77.0.0/24 via 10.77.1.1",
                            "replaced 10.77.3.0/24 via 10.77.2.9 -> 10.77.2.1"]
    after = static_routes.expected(state, plan, params)
    result = module_result(static_routes, state, after, plan, params, want_diff=False)
    assert result == dict(changed=True, actions=plan.texts(),
                          routes=["10.77.0.0/24 via 10.77.1.1", "10.77.3.0/24 via 10.77.2.1"],
                          added=["10.77.0.0/24 via 10.77.1.1"], replaced=["10.77.3.0/24 via 10.77.2.9 -> 10.77.2.1"],
                          removed=["192.0.2.0/24 via 10.77.1.1"], forwarding=False, persisted=[],
                          # each route's first host, as the kernel will resolve it once the plan is applied
                          resolved=["10.77.0.1 via 10.77.1.1", "10.77.3.1 via 10.77.2.1"], default_route=None)
    in_place = static_routes.HostState(after.routes, False, {}, False, resolved=after.resolved)
    assert not static_routes.plan(in_place, params), "routes in place: nothing to do"
    params = dict(params, persist=True, forwarding=True)
    persisting = static_routes.plan(in_place, params)
    assert persisting.texts() == ["set net.ipv4.ip_forward to 1", "wrote " + static_routes.CONFIG_PATH,
                                  "wrote " + static_routes.SCRIPT_PATH, "wrote " + static_routes.UNIT_PATH,
                                  "enabled virtlab-static-routes.service"]
    persisted = module_result(static_routes, in_place, static_routes.expected(in_place, persisting, params),
                              persisting, params, want_diff=True)
    assert persisted["persisted"] == [static_routes.CONFIG_PATH, static_routes.SCRIPT_PATH, static_routes.UNIT_PATH,
                                      "enabled virtlab-static-routes.service"]
    assert persisted["forwarding"] is True and len(persisted["diff"]) == 4
    with pytest.raises(ValueError, match="not valid"):
        static_routes.plan(state, dict(params, routes=[{"dest": "10.0.0.0/8", "via": "nowhere"}]))


def test_node_service_plan_in_sync_only_when_every_file_mode_and_state_match(tmp_path):
    params = service_params(tmp_path)
    files = dict((path, (mode, content)) for path, content, mode in node_service.wanted_files(params))
    state = node_service.HostState(True, files, True, True)
    assert node_service.plan(state, params) == []
    app = str(tmp_path / "app.js")
    changed_mode = dict(files, **{app: ("0600", "console.log(1)\n")})
    plan = node_service.plan(node_service.HostState(True, changed_mode, True, True), params)
    assert plan.texts() == ["wrote %s" % app, "restarted"] and plan[0].details["mode"] == "0644"
    assert node_service.plan(node_service.HostState(True, files, False, True), params).texts() == ["started"]
    assert node_service.plan(node_service.HostState(False, {}, False, False), dict(params, state="absent")) == []
    assert node_service.plan(state, dict(params, state="absent")).texts() == ["stopped and removed"]
    assert node_service.plan(state, dict(params, state="stopped")).texts() == ["stopped"]
    for refused in (dict(params, user="root"), dict(params, exec_start="x")):
        with pytest.raises(ValueError):
            node_service.plan(state, refused)
    fresh = node_service.HostState(False, {}, False, False)
    plan = node_service.plan(fresh, params)
    assert plan.texts()[0] == "created user nobody"
    after = node_service.expected(fresh, plan, params)
    assert not node_service.plan(after, params), "the host as the plan leaves it needs nothing more"
