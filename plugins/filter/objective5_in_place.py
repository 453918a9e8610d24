# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Objective 5's containers that are in place; the logic lives in module_utils/docker/objective5.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: objective5_in_place
short_description: Which of objective 5's containers are in place, from one listing of the Docker engine
version_added: 0.3.0
description:
  - Objective 5 runs a container and a peer from the base image, changes the container, commits it to an image and
    starts a container from that image (C(<prefix>container), C(<prefix>peer), C(<prefix>from-image)). This filter
    says which of the three were in place when the engine was listed, so that a re-run skips the Docker steps that
    have nothing to do.
  - V(container) and V(peer) are in place when they run from O(image) (the reference as given, or its id).
  - V(from-image) is in place when it runs from the committed image as it is, and that image is a commit of the
    container as it is now (its C(virtlab.commit.source) label is the container's id) with this change (its
    C(virtlab.commit.revision) label is O(revision)), as M(virtlab.core.docker_lab) commits it with
    C(compare=source). A container removed and run again, or a change that is not the committed one, puts it out
    of place.
positional: prefix, image, revision
options:
  _input:
    description:
      - The result of M(community.docker.docker_host_info) with C(containers), C(containers_all) and
        C(verbose_output), its containers filtered to O(prefix) and its images to the committed C(repository:tag).
    type: dict
    required: true
  prefix:
    description: The prefix of objective 5's container names.
    type: str
    required: true
  image:
    description: The image the container and its peer run from.
    type: str
    required: true
  revision:
    description: The revision the committed image must carry, the text of the container's change.
    type: str
    required: true
author:
  - virtlab developers (@virtlab)
seealso:
  - module: virtlab.core.docker_lab
  - module: virtlab.core.docker_commit
"""

EXAMPLES = r"""
- name: Objective 5's containers and image, as the engine lists them
  community.docker.docker_host_info:
    containers: true
    containers_all: true
    containers_filters: {name: virtlab-objective5-}
    images: true
    images_filters: {reference: "virtlab/objective5:version3"}
    verbose_output: true
  register: engine

- name: Run the container and its peer unless both run already
  virtlab.core.docker_lab:
    nodes: "{{ nodes }}"
  when: >-
    not ['container', 'peer'] is subset(engine | virtlab.core.objective5_in_place('virtlab-objective5-',
    'virtlab/debian-systemd:bookworm', 'changed by objective 5'))
  # On a re-run with everything in place the filter gives ['container', 'peer', 'from-image'].
"""

RETURN = r"""
_value:
  description: The names in place, of V(container), V(peer) and V(from-image), in that order; empty when none is.
  type: list
  elements: str
"""

from ansible_collections.virtlab.core.plugins.module_utils.docker import objective5


class FilterModule(object):
    def filters(self):
        return {"objective5_in_place": objective5.in_place}
