# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the node-side modules: modules that run on a lab node and reconcile the node itself.

There is no connection to make (the node is the host the module runs on). Each module names its ``concern``,
the module of this folder that both the module and its action plugin use:

- ``ARGUMENT_SPEC``;
- ``observe_command(params)`` and ``parse_observation(text)``: the one reader of the host (a POSIX shell
  command and its parser, see observe.py), giving a ``HostState``;
- ``plan(state, params)``: the Plan (ValueError for input the module refuses);
- ``expected(state, plan, params)``: the HostState as the plan leaves it;
- ``result(before, after, plan, params, want_diff)``: what the task returns besides changed and actions.

The module adds the ``apply_<verb>`` steps; module_result() is the task's result, for the module and for the
action plugin that answers without it when the plan is empty.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtlab.core.plugins.module_utils.base import VirtlabModule
from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError


def module_result(concern, before, after, plan, params, want_diff):
    """The whole result of a task of ``concern``: changed, the rendered actions and the concern's values."""
    outcome = concern.result(before, after, plan, params, want_diff)
    outcome.update(changed=bool(plan), actions=plan.texts())
    return outcome


def write_file(path, content, mode, group=None):
    """Write ``content`` to ``path`` atomically with ``mode`` (an int), owned by root and ``group`` when given."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    tmp = path + ".virtlab-tmp"
    with open(tmp, "w") as handle:
        handle.write(content)
    os.chmod(tmp, mode)
    if group is not None:
        os.chown(tmp, 0, group)
    os.rename(tmp, path)


class NodeModule(VirtlabModule):
    """A VirtlabModule whose read, plan, expected and result come from its ``concern`` (see the module's doc)."""

    concern = None
    read_error = "cannot read the host"

    def read(self):
        try:
            script = self.concern.observe_command(self.params)
        except ValueError as exc:  # options that name no host state (e.g. a destination that is no address)
            raise VirtlabError(str(exc))
        rc, out, err = self.ansible.run_command(["/bin/sh", "-c", script])
        if rc != 0:
            raise VirtlabError("%s: %s" % (self.read_error, err.strip()), rc=rc)
        try:
            return self.concern.parse_observation(out)
        except ValueError as exc:
            raise VirtlabError("%s: %s" % (self.read_error, exc))

    def plan(self, current):
        try:
            return self.concern.plan(current, self.params)
        except ValueError as exc:
            raise VirtlabError(str(exc))

    def expected(self, current, plan):
        return self.concern.expected(current, plan, self.params)

    def read_back(self, current, plan):
        # Each apply step checks its own outcome (the command's status, the service listening) and fails
        # otherwise: the host is as planned, and a second observation would only cost time.
        return self.expected(current, plan)

    def exit_with(self, plan, before, after):
        self.ansible.exit_json(**module_result(self.concern, before, after, plan, self.params, self.want_diff))

    def run_checked(self, args, what):
        """Run ``args``; VirtlabError naming ``what`` when it fails. Returns stdout."""
        rc, out, err = self.ansible.run_command(args)
        if rc != 0:
            raise VirtlabError("%s failed: %s" % (what, err.strip()), rc=rc)
        return out
