"""site.yml --tags objectiveN runs that objective's tasks and no other objective's."""

import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def listed_tasks(tag):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
    out = subprocess.run(["ansible-playbook", "site.yml", "--tags", tag, "--list-tasks"], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=True).stdout
    # Task lines: "      <name>\tTAGS: [a, b]"; argument-spec validation is tagged always and runs with any tag.
    return [(line.strip(), set(re.search(r"TAGS: \[(.*)\]", line).group(1).split(", ")))
            for line in out.splitlines() if line.startswith("      ") and "TAGS:" in line]


@pytest.mark.parametrize("tag", ["objective5", "objective9"])
def test_one_objective_alone(tag):
    tasks = listed_tasks(tag)
    assert tasks, "no task tagged %s" % tag
    for name, tags in tasks:
        if "always" in tags:  # argument validation: Ansible runs it whatever the tags
            continue
        assert tag in tags, "%s runs with --tags %s but belongs to %s" % (name, tag, sorted(tags))
    if tag == "objective5":
        assert not any("calculator" in name.lower() for name, tags in tasks if "always" not in tags)
