# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the virtlab Docker modules: one connection spec and one client, through the
Docker SDK for Python (never the docker CLI)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.virtlab.core.plugins.module_utils.base import VirtlabModule
from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError

try:
    import docker
    from docker.errors import APIError, DockerException, ImageNotFound, NotFound  # pylint: disable=unused-import
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()
    APIError = DockerException = ImageNotFound = NotFound = Exception


def docker_argument_spec():
    return dict(
        docker_host=dict(type="str", default="unix:///var/run/docker.sock", aliases=["docker_url"],
                         fallback=(env_fallback, ["DOCKER_HOST"])),
        api_timeout=dict(type="int", default=60, aliases=["timeout"],
                         fallback=(env_fallback, ["DOCKER_TIMEOUT"])),
    )


class DockerModule(VirtlabModule):
    """Adds the Docker connection options and ``self.client`` (a docker.DockerClient)."""

    client = None

    def backend_argument_spec(self):
        return docker_argument_spec()

    def check_requirements(self):
        if not HAS_DOCKER:
            self.fail(missing_required_lib("docker (the Docker SDK for Python)"), exception=DOCKER_IMPORT_ERROR)

    def connect(self):
        try:
            self.client = docker.DockerClient(base_url=self.params["docker_host"], version="auto",
                                              timeout=self.params["api_timeout"])
            self.client.ping()
        except DockerException as exc:
            raise VirtlabError(
                "Cannot talk to the Docker engine at %s: %s. Is dockerd running (make lab starts it)?"
                % (self.params["docker_host"], exc))

    # Lookups shared by the modules: None when absent, never an exception.
    def find_container(self, name):
        try:
            return self.client.containers.get(name)
        except NotFound:
            return None

    def find_network(self, name):
        try:
            return self.client.networks.get(name)
        except NotFound:
            return None

    def find_image(self, name):
        try:
            return self.client.images.get(name)
        except ImageNotFound:
            return None

    def api_error(self, action, exc):
        """A VirtlabError for a failed Docker call, with the engine's own explanation."""
        explanation = getattr(exc, "explanation", None) or str(exc)
        return VirtlabError("%s failed: %s" % (action, explanation),
                            status_code=getattr(exc, "status_code", None))


class Reconciler:
    """One Docker resource of a module's options: ``find_and_plan()`` finds it and decides the actions (the one
    decision, for check mode and the real run), ``expected()`` is the resource as the actions would leave it,
    ``apply()`` carries them out and returns the resource as it is then."""

    def __init__(self, module, params):
        self.module = module
        self.client = module.client
        self.params = params
        self.current = {}
        self.desired = {}
        self.actions = []

    def find_and_plan(self):
        raise NotImplementedError

    def expected(self):
        raise NotImplementedError

    def apply(self):
        raise NotImplementedError

    def reconcile(self):
        """The whole cycle: (before, after); the actions are in ``self.actions``."""
        self.find_and_plan()
        after = self.expected()
        if self.actions and not self.module.check_mode:
            after = self.apply()
        return self.current, after
