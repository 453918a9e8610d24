# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of objective 5's containers are in place, from one listing of the engine (docker_host_info's containers
and images): what lets a re-run skip objective 5's two Docker steps. Plain data in, plain data out: unit-tested
directly."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtlab.core.plugins.module_utils.docker.commit import REVISION_LABEL, SOURCE_LABEL

# Objective 5's containers, <prefix><node>: the container that is changed and committed, its peer, and the
# container started from the committed image.
CONTAINER, PEER, FROM_IMAGE = "container", "peer", "from-image"


def containers_by_name(containers):
    """{name: listing} of docker_host_info's containers (the engine names them with a leading '/')."""
    found = {}
    for listing in containers or []:
        name = listing["Names"][0]
        found[name[1:] if name.startswith("/") else name] = listing
    return found


def runs_from(listing, image):
    """Whether a container's listing is running from ``image`` (a reference as given, or an image id)."""
    return listing.get("State") == "running" and image in (listing.get("Image"), listing.get("ImageID"))


def in_place(engine, prefix, image, revision):
    """The nodes of objective 5 that were in place when the engine was listed, in the order container, peer,
    from-image: the container and its peer running from the base ``image``; from-image running from the
    committed image as it is, when that image is a commit of this container (its id) with this change
    (``revision``). ``engine``: docker_host_info's result (``containers``, and ``images``: the committed image's
    listing, or none)."""
    found = containers_by_name(engine.get("containers"))
    committed = (engine.get("images") or [{}])[0]
    labels = committed.get("Labels") or {}
    wanted = [(CONTAINER, image), (PEER, image)]
    source = found.get(prefix + CONTAINER, {})
    if labels.get(REVISION_LABEL, "") == revision and labels.get(SOURCE_LABEL, "") == source.get("Id", ""):
        wanted.append((FROM_IMAGE, committed.get("Id")))
    return [node for node, image_ref in wanted
            if image_ref and runs_from(found.get(prefix + node, {}), image_ref)]
