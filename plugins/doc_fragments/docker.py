# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options shared by every virtlab Docker module.
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker engine's API address. If not set, the value of the E(DOCKER_HOST) environment variable is used.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  api_timeout:
    description:
      - Seconds to wait for one Docker API call. If not set, the value of E(DOCKER_TIMEOUT) is used.
    type: int
    default: 60
    aliases: [timeout]
requirements:
  - docker (the Docker SDK for Python) >= 7.0
notes:
  - The modules talk to the engine through the Docker SDK for Python, never through the docker CLI.
"""
