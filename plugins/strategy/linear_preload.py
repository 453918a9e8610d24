# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The linear strategy, with the play's connection plugins loaded once in the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: linear_preload
short_description: The linear strategy, with the hosts' connection plugins loaded once before the workers fork
version_added: 0.2.0
description:
  - Runs tasks exactly as C(ansible.builtin.linear) does (each task on every host before the next task).
  - Before the first task of a play it loads, in the controller process, the connection plugin of every host
    of the play. Ansible runs each task of each host in a worker process forked from the controller, and a
    plugin the controller has not loaded is loaded again, documentation and configuration included, in every
    worker. For C(community.docker.docker_api) that costs about 0.1 s of CPU per host and per task, even for
    a task that never connects (M(ansible.builtin.debug), M(ansible.builtin.assert)); loaded once here, the
    workers inherit it.
  - Also loaded once - the shell plugin C(sh) and the action plugins nearly every play uses (the one that runs
    Python modules, M(ansible.builtin.validate_argument_spec) of roles with argument specs, M(ansible.builtin.raw),
    M(ansible.builtin.assert), M(ansible.builtin.debug)).
  - A host whose C(ansible_connection) is templated or names no known plugin is left alone; the play runs
    as with C(ansible.builtin.linear).
  - virtlab's C(ansible.cfg) selects it with C(strategy = virtlab.core.linear_preload).
author:
  - virtlab developers (@virtlab)
"""

from ansible.plugins.loader import action_loader, connection_loader, shell_loader
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule
from ansible.utils.display import Display

display = Display()

# Action plugins that nearly every play runs: Python modules go through ansible.legacy.normal.
COMMON_ACTIONS = ("ansible.legacy.normal", "ansible.builtin.validate_argument_spec", "ansible.builtin.raw",
                  "ansible.builtin.assert", "ansible.builtin.debug")


def connection_names(host_vars):
    """The literal connection plugin names in a sequence of host variable mappings."""
    names = set()
    for variables in host_vars:
        name = variables.get("ansible_connection")
        if isinstance(name, str) and name and "{" not in name:
            names.add(name)
    return sorted(names)


class StrategyModule(LinearStrategyModule):

    # Hosts already looked at by an earlier play of this run: the plugins they use are loaded.
    seen_hosts = set()

    def run(self, iterator, play_context):  # pylint: disable=arguments-renamed
        play = iterator._play
        hosts = [host for host in self._inventory.get_hosts(play.hosts, order=play.order)
                 if host.name not in StrategyModule.seen_hosts]
        StrategyModule.seen_hosts.update(host.name for host in hosts)
        host_vars = (self._variable_manager.get_vars(play=play, host=host, include_hostvars=False) for host in hosts)
        wanted = [(connection_loader, name) for name in connection_names(host_vars)]
        wanted += [(action_loader, name) for name in COMMON_ACTIONS] + [(shell_loader, "ansible.builtin.sh")]
        for loader, name in wanted:
            try:
                loader.get(name, class_only=True)
            except Exception as exc:  # pylint: disable=broad-except
                # Only a speed-up: the task that uses the plugin reports any real problem with it.
                display.vvv("linear_preload: plugin %s not preloaded: %s" % (name, exc))
        return super(StrategyModule, self).run(iterator, play_context)
