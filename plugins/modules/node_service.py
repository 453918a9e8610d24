#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: node_service
short_description: Deploy a program as a systemd service in one call - user, files, environment, unit, running
version_added: 0.1.0
description:
  - Runs on the node. Reconciles everything one service needs, so a re-run costs one module call per service
    - a system user (no login, no home), the program's files, an environment file, a systemd unit that restarts
    on failure, and the unit enabled and active.
  - The service is restarted only when its files, environment or unit changed (or it was not running).
  - With O(port), waits until the service listens there and fails with the last journal lines when it does not.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  name:
    description: Service (and unit) name, e.g. C(virtlab-sum).
    type: str
    required: true
  description:
    description: The unit's description.
    type: str
    default: virtlab service
  user:
    description: System user the service runs as (created when missing). Never root.
    type: str
    required: true
  directory:
    description: Where the program's files go (owned by root, readable by the user).
    type: path
    required: true
  files:
    description: Files of the program, relative to O(directory).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: File name relative to O(directory).
        type: str
        required: true
      content:
        description: File content.
        type: str
        required: true
      mode:
        description: Octal mode.
        type: str
        default: "0644"
  environment:
    description: Variables written to C(/etc/virtlab/NAME.env) and loaded by the unit.
    type: dict
    default: {}
  exec_start:
    description: The command line, with an absolute program path.
    type: str
    required: true
  port:
    description: TCP port the service must listen on after a (re)start.
    type: int
  start_timeout:
    description: Seconds to wait for O(port) to listen.
    type: int
    default: 20
  state:
    description: V(started) - installed, enabled and running; V(stopped) - installed, stopped; V(absent) - removed.
    type: str
    choices: [started, stopped, absent]
    default: started
requirements:
  - systemd on the node (OpenRC is not handled yet)
"""

EXAMPLES = r"""
- name: The sum service
  virtlab.core.node_service:
    name: virtlab-sum
    user: virtlab
    directory: /opt/virtlab
    files:
      - path: operation.js
        content: "{{ lookup('ansible.builtin.file', 'operation.js') }}"
    environment:
      VIRTLAB_OPERATION: sum
      VIRTLAB_LISTEN_PORT: 50001
    exec_start: /usr/bin/node /opt/virtlab/operation.js
    port: 50001
"""

RETURN = r"""
service:
  description: The service after the task.
  returned: always
  type: dict
  contains:
    name:
      description: Unit name without C(.service).
      type: str
    active:
      description: Whether the unit is active.
      type: bool
    enabled:
      description: Whether the unit starts at boot.
      type: bool
    user:
      description: The user it runs as.
      type: str
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: ["created user virtlab", "wrote /opt/virtlab/operation.js", restarted]
"""

import os
import pwd
import socket
import time

from ansible.module_utils.basic import AnsibleModule

UNIT_DIR = "/etc/systemd/system"
ENV_DIR = "/etc/virtlab"


def unit_text(params, env_path):
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
""".format(env=env_path, **params)


def env_text(environment):
    lines = ["# Written by virtlab.core.node_service"]
    for key, value in sorted(environment.items()):
        lines.append("%s=%s" % (key, str(value).replace("\n", " ")))
    return "\n".join(lines) + "\n"


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except IOError:
        return None


def file_mode(path):
    try:
        return "%04o" % (os.stat(path).st_mode & 0o7777)
    except OSError:
        return None


def write(path, content, mode, group=None):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    tmp = path + ".virtlab-tmp"
    with open(tmp, "w") as handle:
        handle.write(content)
    os.chmod(tmp, int(mode, 8))
    if group is not None:
        os.chown(tmp, 0, group)
    os.rename(tmp, path)


class ServiceReconciler:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = self.params["name"]
        self.unit_path = os.path.join(UNIT_DIR, self.name + ".service")
        self.env_path = os.path.join(ENV_DIR, self.name + ".env")

    def systemctl(self, *args):
        return self.module.run_command(["systemctl"] + list(args))

    def is_active(self):
        return self.systemctl("is-active", "--quiet", self.name)[0] == 0

    def is_enabled(self):
        return self.systemctl("is-enabled", "--quiet", self.name)[0] == 0

    def user_exists(self):
        try:
            pwd.getpwnam(self.params["user"])
            return True
        except KeyError:
            return False

    def wanted_files(self):
        """[(path, content, mode)] of everything the service is made of."""
        files = [(os.path.join(self.params["directory"], f["path"]), f["content"], f["mode"])
                 for f in self.params["files"]]
        files.append((self.env_path, env_text(self.params["environment"]), "0640"))
        files.append((self.unit_path, unit_text(self.params, self.env_path), "0644"))
        return files

    def plan(self):
        """The one decision: actions for check mode and the real run, and the stale files."""
        state = self.params["state"]
        if state == "absent":
            present = os.path.exists(self.unit_path)
            return (["stopped and removed"] if present else []), []
        actions = []
        if not self.user_exists():
            actions.append("created user %s" % self.params["user"])
        stale = [(p, c, m) for p, c, m in self.wanted_files() if read(p) != c or file_mode(p) != m]
        actions.extend("wrote %s" % p for p, unused_1, unused_2 in stale)
        active = self.is_active()
        if state == "started":
            if not self.is_enabled():
                actions.append("enabled")
            if stale and active:
                actions.append("restarted")
            elif not active:
                actions.append("started")
        elif active:
            actions.append("stopped")
        return actions, stale

    def apply(self, actions, stale):
        params = self.params
        if "stopped and removed" in actions:
            self.systemctl("disable", "--now", self.name)
            for path in (self.unit_path, self.env_path):
                if os.path.exists(path):
                    os.remove(path)
            self.systemctl("daemon-reload")
            return
        if not self.user_exists():
            rc, unused_out, err = self.module.run_command(
                ["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                 params["user"]])
            if rc != 0:
                self.module.fail_json(msg="cannot create user %s: %s" % (params["user"], err.strip()))
        group = pwd.getpwnam(params["user"]).pw_gid
        for path, content, mode in stale:
            # The environment file may hold settings the user should not see; the service's group reads it.
            write(path, content, mode, group=group if path == self.env_path else None)
        if any(p == self.unit_path for p, unused_1, unused_2 in stale):
            self.systemctl("daemon-reload")
        for action, args in (("enabled", ("enable", self.name)), ("restarted", ("restart", self.name)),
                             ("started", ("start", self.name)), ("stopped", ("stop", self.name))):
            if action in actions:
                rc, unused_part, err = self.systemctl(*args)
                if rc != 0:
                    self.fail_with_journal("systemctl %s %s failed: %s" % (args[0], self.name, err.strip()))
        if params["port"] and ("restarted" in actions or "started" in actions):
            self.wait_for_port()

    def wait_for_port(self):
        deadline = time.monotonic() + self.params["start_timeout"]
        while time.monotonic() < deadline:
            if not self.is_active() and self.systemctl("is-failed", "--quiet", self.name)[0] == 0:
                self.fail_with_journal("%s failed while starting" % self.name)
            try:
                socket.create_connection(("127.0.0.1", self.params["port"]), timeout=1).close()
                return
            except (OSError, socket.error):
                time.sleep(0.2)
        self.fail_with_journal("%s did not listen on port %s within %ss"
                               % (self.name, self.params["port"], self.params["start_timeout"]))

    def fail_with_journal(self, msg):
        out = self.module.run_command(["journalctl", "-u", self.name, "-n", "15", "--no-pager", "-o", "cat"])[1]
        self.module.fail_json(msg=msg, journal=out.splitlines())


def main():
    module = AnsibleModule(
        argument_spec=dict(
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
        ),
        supports_check_mode=True,
    )
    if module.params["user"] == "root":
        module.fail_json(msg="user: services of the lab never run as root; name a system user")
    if not module.params["exec_start"].startswith("/"):
        module.fail_json(msg="exec_start %r: the program needs an absolute path" % module.params["exec_start"])
    reconciler = ServiceReconciler(module)
    actions, stale = reconciler.plan()
    result = dict(changed=bool(actions), actions=actions)
    if module._diff and stale:
        result["diff"] = [{"before_header": p, "after_header": p, "before": read(p) or "", "after": c}
                          for p, c, unused_part in stale if not p.endswith(".js")]
    if actions and not module.check_mode:
        reconciler.apply(actions, stale)
    # With no action, or in check mode, the service is (or would be) as declared: no need to ask systemd.
    installed = module.params["state"] != "absent"
    result["service"] = dict(name=module.params["name"], user=module.params["user"], enabled=installed,
                             active=module.params["state"] == "started")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
