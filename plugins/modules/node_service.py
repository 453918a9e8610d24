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

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.node import node_service
from ansible_collections.virtlab.core.plugins.module_utils.node.base import NodeModule, write_file


class NodeServiceModule(NodeModule):
    """Reads the host with node_service.observe_command(), plans with node_service.plan(), applies here."""

    argument_spec = node_service.ARGUMENT_SPEC
    concern = node_service
    read_error = "cannot read the service's state"

    @property
    def name(self):
        return self.params["name"]

    def systemctl(self, *args):
        return self.ansible.run_command(["systemctl"] + list(args))

    def apply_remove(self, action):
        self.systemctl("disable", "--now", self.name)
        for path in (node_service.unit_path(self.params), node_service.env_path(self.params)):
            if os.path.exists(path):
                os.remove(path)
        self.systemctl("daemon-reload")

    def apply_create_user(self, action):
        rc, unused_out, err = self.ansible.run_command(
            ["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", action.target])
        if rc != 0:
            raise VirtlabError("cannot create user %s: %s" % (action.target, err.strip()))

    def apply_write(self, action):
        path = action.target
        # The environment file may hold settings the user should not see; the service's group reads it.
        group = pwd.getpwnam(self.params["user"]).pw_gid if path == node_service.env_path(self.params) else None
        write_file(path, action.details["content"], int(action.details["mode"], 8), group=group)
        if path == node_service.unit_path(self.params):
            self.systemctl("daemon-reload")

    def apply_unit(self, action):
        """enable, restart, start or stop the unit; after a (re)start, wait for the port."""
        rc, unused_out, err = self.systemctl(action.verb, self.name)
        if rc != 0:
            self.fail_with_journal("systemctl %s %s failed: %s" % (action.verb, self.name, err.strip()))
        if action.verb in ("restart", "start") and self.params["port"]:
            self.wait_for_port()

    apply_enable = apply_restart = apply_start = apply_stop = apply_unit

    def wait_for_port(self):
        deadline = time.monotonic() + self.params["start_timeout"]
        while time.monotonic() < deadline:
            if self.systemctl("is-active", "--quiet", self.name)[0] != 0 and \
                    self.systemctl("is-failed", "--quiet", self.name)[0] == 0:
                self.fail_with_journal("%s failed while starting" % self.name)
            try:
                socket.create_connection(("127.0.0.1", self.params["port"]), timeout=1).close()
                return
            except (OSError, socket.error):
                time.sleep(0.2)
        self.fail_with_journal("%s did not listen on port %s within %ss"
                               % (self.name, self.params["port"], self.params["start_timeout"]))

    def fail_with_journal(self, msg):
        out = self.ansible.run_command(["journalctl", "-u", self.name, "-n", "15", "--no-pager", "-o", "cat"])[1]
        raise VirtlabError(msg, journal=out.splitlines())


def main():
    NodeServiceModule()()


if __name__ == "__main__":
    main()
