#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docker_commit
short_description: Commit a container's changes to a new image name:tag, idempotently
version_added: 0.1.0
description:
  - The C(docker commit) of the lab, through the Docker SDK for Python - saves what was changed in a container as
    an image with a name and tag, e.g. C(blabla:version3).
  - Idempotent - the image records (in labels) which container it came from and a fingerprint of the paths that
    container changed. When both still match, nothing is committed again.
  - The fingerprint lists changed paths and their kind of change, not file contents - to commit again after
    editing a file that was already changed, change O(revision).
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.docker
options:
  container:
    description: Name or id of the container to commit.
    type: str
    required: true
  repository:
    description: Image name to commit to.
    type: str
    required: true
  tag:
    description: Image tag.
    type: str
    default: latest
  commit_message:
    description: Commit message.
    type: str
    default: committed by virtlab.core.docker_commit
  revision:
    description: Free text stored with the image; a different value forces a new commit.
    type: str
    default: "1"
  compare:
    description:
      - What decides that the image is up to date.
      - V(changes) - the image was committed from this container, with this O(revision), and the paths the
        container changed are still the same (their fingerprint). Asking the engine for a container's changes
        walks its file system, about half a second for a Debian container.
      - V(source) - the image was committed from this container, with this O(revision). Later changes in the
        container are not committed until the container is replaced or O(revision) changes - what a playbook
        that makes one known change wants, e.g. with the change's text as O(revision).
    type: str
    choices: [changes, source]
    default: changes
  ignore_paths:
    description:
      - Paths whose changes do not count (logs, caches, runtime state a running system always changes).
    type: list
    elements: str
    default: [/run, /tmp, /var/tmp, /var/log, /var/cache, /var/lib/systemd, /var/lib/apt/lists, /root/.ansible,
              /etc/machine-id, /dev, /proc, /sys]
"""

EXAMPLES = r"""
- name: Save the changed container as blabla:version3
  virtlab.core.docker_commit:
    container: virtlab-objective5
    repository: blabla
    tag: version3
"""

RETURN = r"""
image:
  description: The committed image (as it would be, in check mode).
  returned: always
  type: dict
  contains:
    id:
      description: Image id (absent in check mode before the commit).
      type: str
    tags:
      description: Image tags.
      type: list
      elements: str
      sample: ["blabla:version3"]
    source_container:
      description: Id of the container it was committed from.
      type: str
    fingerprint:
      description: Fingerprint of the container's changed paths at commit time.
      type: str
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: [committed]
"""

from ansible_collections.virtlab.core.plugins.module_utils.docker.base import ReconcilerModule
from ansible_collections.virtlab.core.plugins.module_utils.docker.commit import CommitReconciler


class DockerCommitModule(ReconcilerModule):
    """The module flow (read, plan, check mode or apply, read back) on one commit, with its options."""

    reconciler = CommitReconciler


def main():
    DockerCommitModule()()


if __name__ == "__main__":
    main()
