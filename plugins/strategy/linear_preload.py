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
  - Before the first task of the run it loads, in the controller process, the connection plugin of every host
    of the inventory. Ansible runs each task of each host in a worker process forked from the controller, and a
    plugin the controller has not loaded is loaded again, documentation and configuration included, in every
    worker. For C(community.docker.docker_api) that costs about 0.1 s of CPU per host and per task, even for
    a task that never connects (M(ansible.builtin.debug), M(ansible.builtin.assert)); loaded once here, the
    workers inherit it.
  - Also loaded once - the shell plugin C(sh) and the action plugins nearly every play uses (the one that runs
    Python modules, M(ansible.builtin.validate_argument_spec) of roles with argument specs, M(ansible.builtin.raw),
    M(ansible.builtin.assert), M(ansible.builtin.debug)).
  - And the Jinja filters and tests - ansible-core's own and those of this collection. Jinja looks a filter up
    when it compiles a template, and a worker that finds the collection's filters unloaded loads them (about
    30 ms of CPU), for the first template of each host and task that names one; loaded once here, none does.
  - Each Jinja template is compiled once per run and source text rather than every time it is rendered. ansible-core
    compiles a template's text again wherever it is rendered - the same inventory variable or task option on every
    host, in every task, in every worker - and a compile costs more than most renders. A compiled template is kept
    by its text, its options and the base directory its includes resolve from (the compiled code depends on nothing
    else), so what the controller compiles before the workers fork is compiled in none of them.
  - A host whose C(ansible_connection) is templated or names no known plugin is left alone; its tasks run as
    with C(ansible.builtin.linear). When preloading itself fails (an ansible-core whose internals changed), it
    warns and the run goes on as with C(ansible.builtin.linear).
  - Callbacks that recognise lockstep strategies by name, such as C(ansible.posix.json), list results by task
    and host rather than by task, as they do for any strategy they do not know.
  - Only in a clone of the repository (the built collection leaves it out); the clone's C(ansible.cfg) selects
    it for the lab. Select it elsewhere with C(ANSIBLE_STRATEGY=virtlab.core.linear_preload) or C(strategy =
    virtlab.core.linear_preload); C(ANSIBLE_STRATEGY=linear) turns it off.
  - It relies on how ansible-core loads plugins (the loader's cache, inherited by the forked workers); the test
    C(tests/integration/test_strategy_linear_preload.py) runs a playbook with it and with
    C(ansible.builtin.linear) and compares every result; C(scripts/bench-rerun.py) measures what it saves.
author:
  - virtlab developers (@virtlab)
"""

import importlib
import os

from ansible.plugins.loader import action_loader, connection_loader, filter_loader, shell_loader, test_loader
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule
from ansible.utils.display import Display

display = Display()

# Action plugins that nearly every play runs: Python modules go through ansible.legacy.normal.
COMMON_ACTIONS = ("ansible.legacy.normal", "ansible.builtin.validate_argument_spec", "ansible.builtin.raw",
                  "ansible.builtin.assert", "ansible.builtin.debug")

# This collection's plugins directory (plugins/strategy/..).
PLUGINS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTION = "virtlab.core"


# Compiled templates kept at most (each is a few kilobytes): past it the memo starts again.
MEMO_SIZE = 4096


def memoize(compile_method, key_of):
    """A compile method of ansible-core's TemplateEngine that keeps what it compiled, by ``key_of``'s key."""
    compiled = {}

    def memoized(engine, source, options):
        key = key_of(engine, source, options)
        try:
            return compiled[key]
        except KeyError:
            pass
        except TypeError:  # an option that cannot be a key: compile it as ansible-core does
            return compile_method(engine, source, options)
        if len(compiled) >= MEMO_SIZE:
            compiled.clear()
        result = compiled[key] = compile_method(engine, source, options)
        return result

    memoized.virtlab_memoized = True
    return memoized


def memoize_compiles():
    """Keep compiled templates and expressions; False when ansible-core's engine is not the expected one."""
    # pylint: disable-next=import-outside-toplevel
    from ansible._internal._templating._engine import TemplateEngine
    from ansible._internal._templating._jinja_bits import AnsibleEnvironment  # pylint: disable=import-outside-toplevel

    if getattr(TemplateEngine._compile_template, "virtlab_memoized", False):
        return True
    if AnsibleEnvironment._debuggable_template_source:  # template debugging writes each compile's Python source
        return False
    # A template's overlay (its #jinja2: header) comes from its text and options; its includes from the base directory.
    TemplateEngine._compile_template = memoize(TemplateEngine._compile_template,
                                               lambda engine, text, options: (str(text), options, engine.basedir))
    # Compiled with the engine's environment and only escape_backslashes of the options.
    TemplateEngine._compile_expression = memoize(
        TemplateEngine._compile_expression,
        lambda engine, text, options: (str(text), options.escape_backslashes, engine.basedir))
    return True


def jinja_plugin_names(kind, method):
    """The fully qualified names of this collection's Jinja plugins of one kind (filter: filters, test: tests)."""
    names = []
    directory = os.path.join(PLUGINS, kind)
    files = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
    for entry in files:
        stem, ext = os.path.splitext(entry)
        if ext != ".py" or stem.startswith("_"):
            continue
        module = importlib.import_module("ansible_collections.%s.plugins.%s.%s" % (COLLECTION, kind, stem))
        plugin_class = getattr(module, "FilterModule" if kind == "filter" else "TestModule", None)
        if plugin_class is not None:
            names.extend("%s.%s" % (COLLECTION, name) for name in sorted(getattr(plugin_class(), method)()))
    return names


def connection_names(host_vars):
    """The literal connection plugin names in a sequence of host variable mappings."""
    names = set()
    for variables in host_vars:
        name = variables.get("ansible_connection")
        if isinstance(name, str) and name and "{" not in name:
            names.add(name)
    return sorted(names)


class StrategyModule(LinearStrategyModule):

    # The controller process loads the plugins once per run: Ansible makes one strategy object per play.
    preloaded = False

    def run(self, iterator, play_context):  # pylint: disable=arguments-renamed
        if not StrategyModule.preloaded:
            StrategyModule.preloaded = True
            try:
                self.preload()
            except Exception as exc:  # pylint: disable=broad-except
                # An ansible-core whose internals moved: the play runs as with linear, only slower.
                display.warning("linear_preload: nothing preloaded, running as linear: %s" % exc)
        return super(StrategyModule, self).run(iterator, play_context)

    def preload(self):
        # Every host of the run, not only this play's: during a play the inventory is restricted to its batch, and
        # the first play may well be on the controller alone.
        hosts = self._inventory.get_hosts("all", ignore_restrictions=True)
        host_vars = (self._variable_manager.get_vars(host=host, include_hostvars=False) for host in hosts)
        wanted = [(connection_loader, name) for name in connection_names(host_vars)]
        wanted += [(action_loader, name) for name in COMMON_ACTIONS] + [(shell_loader, "ansible.builtin.sh")]
        loaded = 0
        for loader, name in wanted:
            try:
                if loader.get(name, class_only=True) is not None:
                    loaded += 1
            except Exception as exc:  # pylint: disable=broad-except
                # Only a speed-up: the task that uses the plugin reports any real problem with it.
                display.vvv("linear_preload: plugin %s not preloaded: %s" % (name, exc))
        display.vvv("linear_preload: %d plugins preloaded for %d hosts" % (loaded, len(hosts)))
        display.vvv("linear_preload: %d filters and tests preloaded" % self.preload_jinja())
        try:
            memoized = memoize_compiles()
        except (ImportError, AttributeError) as exc:
            memoized, reason = False, exc
        else:
            reason = "template debugging is on"
        display.vvv("linear_preload: compiled templates %s" % ("kept" if memoized else "not kept: %s" % reason))

    @staticmethod
    def preload_jinja():
        jinja = 0
        for loader, kind, method in ((filter_loader, "filter", "filters"), (test_loader, "test", "tests")):
            jinja += sum(1 for unused_plugin in loader.all())  # ansible-core's own
            for name in jinja_plugin_names(kind, method):
                try:
                    if loader.get(name) is not None:
                        jinja += 1
                except Exception as exc:  # pylint: disable=broad-except
                    display.vvv("linear_preload: %s %s not preloaded: %s" % (kind, name, exc))
        return jinja
