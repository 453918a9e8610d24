# -*- coding: utf-8 -*-
"""The opt-in strategy virtlab.core.linear_preload runs a playbook exactly as ansible.builtin.linear does.

It relies on ansible-core internals (the plugin loader's cache surviving the workers' fork, the iterator's
play): this test is what says it still works with the ansible-core in use. It runs one playbook - several plays,
hosts with a literal, a templated and an inherited connection, loops, skips, an ignored failure, facts carried
from play to play - with each strategy and compares every task result of every host, then checks at -vvv that
the strategy did preload the plugins.
"""

import json
import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

INVENTORY = """
all:
  hosts:
    alpha: {ansible_connection: local}
    beta: {ansible_connection: local}
    gamma: {ansible_connection: "{{ 'lo' ~ 'cal' }}"}
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""

PLAYBOOK = """
- name: First play
  hosts: all
  gather_facts: false
  tasks:
    - name: A module on each host
      ansible.builtin.command: echo {{ inventory_hostname }}
      changed_when: false
      register: echoed
    - name: A fact
      ansible.builtin.set_fact:
        seen: "{{ echoed.stdout | upper }}"
    - name: A loop
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }} {{ item }}"
      loop: [1, 2]
    - name: Skipped on beta
      ansible.builtin.assert:
        that: seen == inventory_hostname | upper
      when: inventory_hostname != 'beta'
    - name: An ignored failure
      ansible.builtin.fail:
        msg: failed on purpose
      when: inventory_hostname == 'alpha'
      ignore_errors: true
    - name: Raw
      ansible.builtin.raw: echo raw {{ inventory_hostname }}
      changed_when: false
    - name: The same text with a header of its own is another template (compiled templates are kept by text)
      ansible.builtin.debug:
        msg: "{{ item }}"
      loop:
        - "#jinja2:variable_start_string:'[%', variable_end_string:'%]'\\n[% inventory_hostname %]{{ seen }}"
        - "[% inventory_hostname %]{{ seen }}"

- name: Second play, on some hosts
  hosts: alpha:gamma
  gather_facts: false
  tasks:
    - name: The fact of the first play
      ansible.builtin.debug:
        var: seen
    - name: A Python module again
      ansible.builtin.stat:
        path: /
"""

# What differs from run to run whatever the strategy: timings, and the ids Ansible gives plays and tasks.
VARYING_KEYS = {"start", "end", "delta", "duration", "id"}


def comparable(value):
    if isinstance(value, dict):
        return dict((k, comparable(v)) for k, v in value.items() if k not in VARYING_KEYS)
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    directory = tmp_path_factory.mktemp("strategy")
    (directory / "inventory.yml").write_text(INVENTORY)
    (directory / "playbook.yml").write_text(PLAYBOOK)
    return directory


def play(project, strategy, *extra, **env_extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_STRATEGY=strategy,
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", **env_extra)
    proc = subprocess.run(["ansible-playbook", "-i", "inventory.yml", "playbook.yml"] + list(extra), cwd=str(project),
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def per_host(report):
    """{host: [(play, task, result)]} in the order each host ran its tasks. (The json callback lists results by
    task for the strategies it knows to run in lockstep and by task and host for others, ours included.)"""
    hosts = {}
    for entry in report["plays"]:
        for task in entry["tasks"]:
            for host, result in task["hosts"].items():
                hosts.setdefault(host, []).append((entry["play"]["name"], task["task"]["name"], comparable(result)))
    return hosts


def test_results_are_those_of_linear(project):
    preload = json.loads(play(project, "virtlab.core.linear_preload").stdout)
    linear = json.loads(play(project, "linear").stdout)
    assert per_host(preload) == per_host(linear)
    assert preload["stats"] == linear["stats"]
    assert [task for unused_play, task, unused_result in per_host(preload)["alpha"]] == [
        "A module on each host", "A fact", "A loop", "Skipped on beta", "An ignored failure", "Raw",
        "The same text with a header of its own is another template (compiled templates are kept by text)",
        "The fact of the first play", "A Python module again"]
    headers = dict((task, result) for unused_play, task, result in per_host(preload)["gamma"])[
        "The same text with a header of its own is another template (compiled templates are kept by text)"]
    assert [item["msg"] for item in headers["results"]] == ["gamma{{ seen }}", "[% inventory_hostname %]GAMMA"]
    assert preload["stats"]["alpha"]["ignored"] == 1 and preload["stats"]["beta"]["skipped"] == 2


def test_it_preloads_the_plugins_once_per_run(project, tmp_path):
    log = tmp_path / "ansible.log"
    play(project, "virtlab.core.linear_preload", "-vvv", ANSIBLE_LOG_PATH=str(log))
    trace = log.read_text()
    assert "not preloaded" not in trace, re.findall(r".*not preloaded.*", trace)
    # ansible.builtin.local (alpha and beta; gamma's is templated), the five common actions and sh, once.
    assert re.findall(r"linear_preload: (\d+) plugins preloaded for (\d+) hosts", trace) == [("7", "3")]
    # ansible-core's filters and tests and the collection's filters (dozens), then the compile memo.
    assert int(re.findall(r"linear_preload: (\d+) filters and tests preloaded", trace)[0]) > 100
    assert "linear_preload: compiled templates kept" in trace
