# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A program deployed as a systemd service: the files it is made of, how the host is read, the one plan, the
host as the plan leaves it, and the result.

Shared by the node_service module (which reads the host with observe_command() and parse_observation(), plans,
and applies the plan) and its action plugin (which reads the host with the same command and parser and runs
the module only when the plan is not empty).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.virtlab.core.plugins.module_utils.node import observe
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan

UNIT_DIR = "/etc/systemd/system"
ENV_DIR = "/etc/virtlab"

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    description=dict(type="str", default="virtlab service"),
    user=dict(type="str", required=True),
    directory=dict(type="path", required=True),
    files=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="str", required=True),
        content=dict(type="str", required=True),
        mode=dict(type="str", default="0644"),
    )),
    environment=dict(type="dict", default={}),
    exec_start=dict(type="str", required=True),
    port=dict(type="int"),
    start_timeout=dict(type="int", default=20),
    state=dict(type="str", choices=["started", "stopped", "absent"], default="started"),
)


class HostState:
    """What the decision needs: whether the user exists, each file as (mode, content) or None when missing,
    whether the unit is active and enabled."""

    def __init__(self, user_exists, files, active, enabled):
        self.user_exists = user_exists
        self.files = files
        self.active = active
        self.enabled = enabled


def invalid(params):
    """What the module refuses before looking at the host, or None."""
    if params["user"] == "root":
        return "user: services of the lab never run as root; name a system user"
    if not params["exec_start"].startswith("/"):
        return "exec_start %r: the program needs an absolute path" % params["exec_start"]
    return None


def unit_path(params):
    return posixpath.join(UNIT_DIR, params["name"] + ".service")


def env_path(params):
    return posixpath.join(ENV_DIR, params["name"] + ".env")


def unit_text(params):
    return """[Unit]
Description={description}
After=network-online.target virtlab-static-routes.service
Wants=network-online.target

[Service]
User={user}
Group={user}
EnvironmentFile={env}
WorkingDirectory={directory}
ExecStart={exec_start}
Restart=on-failure
RestartSec=1
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
""".format(env=env_path(params), **params)


def env_text(environment):
    lines = ["# Written by virtlab.core.node_service"]
    for key, value in sorted(environment.items()):
        lines.append("%s=%s" % (key, str(value).replace("\n", " ")))
    return "\n".join(lines) + "\n"


def wanted_files(params):
    """[(path, content, mode)] of everything the service is made of."""
    files = [(posixpath.join(params["directory"], f["path"]), f["content"], f["mode"]) for f in params["files"]]
    files.append((env_path(params), env_text(params["environment"]), "0640"))
    files.append((unit_path(params), unit_text(params), "0644"))
    return files


def plan(state, params):
    """The one decision, for check mode, the real run and the action plugin's shortcut alike: a Plan of
    ``create user``, ``write`` (target: the path; details: content, mode), ``enable``, ``restart``, ``start``,
    ``stop`` or ``remove``, in the order they are applied. ValueError for what the module refuses."""
    refused = invalid(params)
    if refused:
        raise ValueError(refused)
    name, actions = params["name"], Plan()
    if params["state"] == "absent":
        if state.files.get(unit_path(params)) is not None:
            actions.add("remove", name, text="stopped and removed")
        return actions
    if not state.user_exists:
        actions.add("create user", params["user"], text="created user {target}")
    for path, content, mode in wanted_files(params):
        if state.files.get(path) != (mode, content):
            actions.add("write", path, text="wrote {target}", content=content, mode=mode)
    if params["state"] == "started":
        if not state.enabled:
            actions.add("enable", name, text="enabled")
        if actions.has("write") and state.active:
            actions.add("restart", name, text="restarted")
        elif not state.active:
            actions.add("start", name, text="started")
    elif state.active:
        actions.add("stop", name, text="stopped")
    return actions


def expected(state, actions, params):
    """The HostState as ``actions`` leave it (check mode's answer, and the real run's once they are done)."""
    files = dict(state.files)
    if actions.has("remove"):
        files.update(((unit_path(params), None), (env_path(params), None)))
        return HostState(state.user_exists, files, False, False)
    files.update((a.target, (a.details["mode"], a.details["content"])) for a in actions if a.verb == "write")
    return HostState(state.user_exists or actions.has("create user"), files,
                     (state.active or actions.has("start", "restart")) and not actions.has("stop"),
                     state.enabled or actions.has("enable"))


def result(before, after, actions, params, want_diff):
    """What the task returns besides changed and actions. With no action, or in check mode, the service is (or
    would be) as declared."""
    outcome = {}
    writes = [a for a in actions if a.verb == "write"]
    if want_diff and writes:
        # Programs are not diffed (long, and their checksum says enough); configuration is.
        outcome["diff"] = [{"before_header": a.target, "after_header": a.target,
                            "before": (before.files.get(a.target) or ("", ""))[1], "after": a.details["content"]}
                           for a in writes if not a.target.endswith(".js")]
    installed = params["state"] != "absent"
    outcome["service"] = dict(name=params["name"], user=params["user"], enabled=installed,
                              active=params["state"] == "started")
    return outcome


# Reading a host -----------------------------------------------------------------------------------------------
def observe_command(params):
    """One POSIX shell command printing everything HostState holds; see parse_observation."""
    name = observe.shell_quote(params["name"])
    return observe.script(
        [observe.flag_command("user", "id -u %s >/dev/null 2>&1" % observe.shell_quote(params["user"])),
         observe.flag_command("active", "systemctl is-active --quiet %s" % name),
         observe.flag_command("enabled", "systemctl is-enabled --quiet %s" % name)]
        + [observe.file_command(path) for path, unused_content, unused_mode in wanted_files(params)])


def parse_observation(text):
    """HostState from the output of observe_command(); ValueError when it is not what that command prints."""
    files, flags, unused_outputs = observe.files_and_flags(observe.parse_sections(text))
    if set(flags) != set(["user", "active", "enabled"]):
        raise ValueError("incomplete service observation")
    return HostState(flags["user"], files, flags["active"], flags["enabled"])
