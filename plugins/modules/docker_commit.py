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
  - virtlab.core.docker
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
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

import hashlib

from ansible_collections.virtlab.core.plugins.module_utils.base import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.docker import APIError, DockerModule

SOURCE_LABEL = "virtlab.commit.source"
FINGERPRINT_LABEL = "virtlab.commit.fingerprint"
REVISION_LABEL = "virtlab.commit.revision"


def changes_fingerprint(changes, ignore_paths):
    """A stable fingerprint of a container's changed paths, ignoring the volatile ones."""
    def ignored(path):
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in ignore_paths)
    kept = sorted("%s %s" % (c["Kind"], c["Path"]) for c in changes or [] if not ignored(c["Path"]))
    return hashlib.sha256("\n".join(kept).encode("utf-8")).hexdigest()[:16]


def image_view(image):
    if image is None:
        return {}
    labels = image.attrs.get("Config", {}).get("Labels") or {}
    return {"id": image.id, "tags": sorted(image.tags), "source_container": labels.get(SOURCE_LABEL),
            "fingerprint": labels.get(FINGERPRINT_LABEL), "revision": labels.get(REVISION_LABEL)}


class DockerCommitModule(DockerModule):
    argument_spec = dict(
        container=dict(type="str", required=True),
        repository=dict(type="str", required=True),
        tag=dict(type="str", default="latest"),
        commit_message=dict(type="str", default="committed by virtlab.core.docker_commit"),
        revision=dict(type="str", default="1"),
        ignore_paths=dict(type="list", elements="str", default=[
            "/run", "/tmp", "/var/tmp", "/var/log", "/var/cache", "/var/lib/systemd", "/var/lib/apt/lists",
            "/root/.ansible", "/etc/machine-id", "/dev", "/proc", "/sys"]),
    )

    def run(self):
        params = self.params
        reference = "%s:%s" % (params["repository"], params["tag"])
        container = self.find_container(params["container"])
        if container is None:
            raise VirtlabError("Container %s does not exist: there is nothing to commit." % params["container"])
        current = image_view(self.find_image(reference))
        desired = {"tags": [reference], "source_container": container.id, "revision": params["revision"],
                   "fingerprint": changes_fingerprint(container.diff(), params["ignore_paths"])}
        # The one decision: same source container, same changed paths, same revision -> nothing to do.
        stale = [k for k in ("source_container", "fingerprint", "revision") if current.get(k) != desired[k]]
        actions = ["committed (%s differs)" % ", ".join(stale)] if stale and current else (
            ["committed"] if stale else [])
        after = current
        if actions and not self.check_mode:
            labels = {SOURCE_LABEL: container.id, FINGERPRINT_LABEL: desired["fingerprint"],
                      REVISION_LABEL: params["revision"]}
            try:
                image = container.commit(repository=params["repository"], tag=params["tag"],
                                         message=params["commit_message"], conf={"Labels": labels})
            except APIError as exc:
                raise self.api_error("commit of %s to %s" % (params["container"], reference), exc)
            after = image_view(self.client.images.get(image.id))
        elif actions:
            after = dict(current, **desired)
        self.exit(bool(actions), before=current, after=after, image=after, actions=actions)


def main():
    DockerCommitModule()()


if __name__ == "__main__":
    main()
