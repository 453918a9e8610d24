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
  - virtlab.core.attributes
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

from ansible_collections.virtlab.core.plugins.module_utils.node.node_service import (
    ARGUMENT_SPEC,
    HostState,
    env_path,
    invalid,
    plan,
    result,
    unit_path,
    wanted_files,
)


def read(path):
    """(mode as 4 octal digits, content) of a regular file, or None."""
    try:
        with open(path) as handle:
            content = handle.read()
        return "%04o" % (os.stat(path).st_mode & 0o7777), content
    except (IOError, OSError):
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
        self.unit_path = unit_path(self.params)
        self.env_path = env_path(self.params)

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

    def read_host(self):
        files = dict((path, read(path)) for path, unused_content, unused_mode in wanted_files(self.params))
        return HostState(self.user_exists(), files, self.is_active(), self.is_enabled())

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
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    refused = invalid(module.params)
    if refused:
        module.fail_json(msg=refused)
    reconciler = ServiceReconciler(module)
    state = reconciler.read_host()
    actions, stale = plan(state, module.params)
    if actions and not module.check_mode:
        reconciler.apply(actions, stale)
    module.exit_json(**result(state, actions, stale, module.params, module._diff))


if __name__ == "__main__":
    main()
