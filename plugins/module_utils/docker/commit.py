# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A container's changes committed to an image name:tag, idempotently: the options, the image's view and the
one reconciler that docker_commit (one commit) and docker_lab (commits and the nodes that run their images, in
one call) both use."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.docker.base import Reconciler
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan

SOURCE_LABEL = "virtlab.commit.source"
FINGERPRINT_LABEL = "virtlab.commit.fingerprint"
REVISION_LABEL = "virtlab.commit.revision"

COMMIT_OPTIONS = dict(
    container=dict(type="str", required=True),
    repository=dict(type="str", required=True),
    tag=dict(type="str", default="latest"),
    commit_message=dict(type="str", default="committed by virtlab.core.docker_commit"),
    revision=dict(type="str", default="1"),
    compare=dict(type="str", choices=["changes", "source"], default="changes"),
    ignore_paths=dict(type="list", elements="str", default=[
        "/run", "/tmp", "/var/tmp", "/var/log", "/var/cache", "/var/lib/systemd", "/var/lib/apt/lists",
        "/root/.ansible", "/etc/machine-id", "/dev", "/proc", "/sys"]),
)


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


class CommitReconciler(Reconciler):
    """One commit: ``module`` gives the Docker client, lookups and check mode; ``params`` is one commit's options
    (COMMIT_OPTIONS). Its name (the target of its one verb, commit) is the image's ``repository:tag``."""

    options = COMMIT_OPTIONS
    resource_key = "image"

    def __init__(self, module, params):
        super(CommitReconciler, self).__init__(module, params)
        self.reference = "%s:%s" % (params["repository"], params["tag"])
        self.container = None
        self.image = None

    @property
    def name(self):
        return self.reference

    def fingerprint(self):
        return changes_fingerprint(self.container.diff(), self.params["ignore_paths"])

    def read(self):
        self.container = self.module.find_container(self.params["container"])
        if self.container is None:
            raise VirtlabError("Container %s does not exist: there is nothing to commit." % self.params["container"])
        return image_view(self.module.find_image(self.reference))

    def plan(self, current):
        """The one decision: same source container, same revision (and, compared on changes, the same changed
        paths) -> nothing to do."""
        params = self.params
        desired = {"tags": [self.reference], "source_container": self.container.id, "revision": params["revision"]}
        compared = ["source_container", "revision"]
        if params["compare"] == "changes" or current.get("source_container") != self.container.id:
            compared.append("fingerprint")
            desired["fingerprint"] = self.fingerprint()
        stale = [k for k in compared if current.get(k) != desired[k]]
        if stale and "fingerprint" not in desired:
            # Recorded with the new image, so that compare=changes works on it later.
            desired["fingerprint"] = self.fingerprint()
        self.desired = desired
        plan = Plan()
        if stale:
            plan.add("commit", self.reference, text="committed ({differs} differs)" if current else "committed",
                     stale=stale, differs=", ".join(stale))
        return plan

    def expected(self, current, plan):
        return dict(current, **self.desired) if plan else current

    def apply_commit(self, action):
        params = self.params
        labels = {SOURCE_LABEL: self.container.id, FINGERPRINT_LABEL: self.desired["fingerprint"],
                  REVISION_LABEL: params["revision"]}
        image = self.container.commit(repository=params["repository"], tag=params["tag"],
                                      message=params["commit_message"], conf={"Labels": labels})
        self.image = self.client.images.get(image.id)

    def failed_step(self, plan):
        return "commit of %s to %s" % (self.params["container"], self.reference)

    def read_back(self, current, plan):
        """The new image's view."""
        return image_view(self.image)
