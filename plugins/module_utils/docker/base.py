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
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan

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
    # The host firewall's lab rules (network.BridgeFirewall): one per module run, shared by its networks.
    bridge_firewall = None

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


def public(view):
    """What the modules return and diff: a resource's view without internal bookkeeping."""
    return dict((k, v) for k, v in view.items() if k not in ("id", "image_id", "_internal"))


class Reconciler:
    """One Docker resource of a module's options, in the steps of the module flow (base.VirtlabModule.run):
    ``read()`` the resource as it is, ``plan(current)`` the one decision (a Plan of Action records whose
    target is the resource's name), ``expected(current, plan)`` the resource as the plan leaves it (check
    mode's answer), ``apply(current, plan)`` each action by its ``apply_<verb>`` method, ``read_back(current,
    plan)`` the resource as it is then. docker_network, docker_commit and docker_vm run one reconciler
    through those steps (ReconcilerModule); docker_lab runs many, in its own order (``survey`` keeps what
    ``read`` and ``plan`` found on the reconciler).

    Subclasses set ``options`` and ``required_if`` (the options of one resource: the single-resource module's,
    and those of each element of docker_lab's list) and ``resource_key`` (the name it is returned under)."""

    options = {}
    required_if = []
    resource_key = None

    def __init__(self, module, params):
        self.module = module
        self.client = module.client
        self.params = params
        self.current = {}
        self.desired = {}
        self.actions = Plan()

    @property
    def name(self):
        """The resource's name: the target of its actions, and its key in docker_lab's results."""
        return self.params["name"]

    def read(self):
        raise NotImplementedError

    def desired_view(self):
        """The declared resource, normalised; bad input fails here, before anything changes."""
        raise NotImplementedError

    def plan(self, current):
        """The decision for a resource that is declared present or absent: remove it, create it, or (both there)
        what ``plan_changes`` finds; then, unless absent, what ``plan_more`` adds."""
        plan = Plan()
        self.desired = self.desired_view() if self.params["state"] != "absent" else {}
        if not self.desired:
            if current:
                plan.add("remove", self.name, text="removed")
            return plan
        if not current:
            plan.add("create", self.name, text="created")
        else:
            self.plan_changes(current, plan)
        self.plan_more(current, plan)
        return plan

    def plan_changes(self, current, plan):
        """Add to ``plan`` what turns the existing resource into ``self.desired``."""

    def plan_more(self, current, plan):
        """Add to ``plan`` what follows creation or changes (starting a node, a network's firewall rule)."""

    def expected(self, current, plan):
        raise NotImplementedError

    def read_back(self, current, plan):
        raise NotImplementedError

    def failed_step(self, plan):
        """What a failed Docker call was doing, for its error message."""
        raise NotImplementedError

    def apply(self, current, plan):
        """Carry out the plan, each action by its ``apply_<verb>`` method; a failed Docker call fails the module
        with the engine's own explanation."""
        self.current = current
        try:
            for action in plan:
                getattr(self, "apply_" + action.verb.replace(" ", "_").replace("-", "_"))(action)
        except APIError as exc:
            raise self.module.api_error(self.failed_step(plan), exc)

    def survey(self):
        """``read`` then ``plan``, both kept on the reconciler (``current``, ``actions``); returns the plan."""
        self.current = self.read()
        self.actions = self.plan(self.current)
        return self.actions

    def public(self, view):
        """The view as the module returns it."""
        return view


class ReconcilerModule(DockerModule):
    """A module for one Docker resource: its options, and the module flow's steps, are those of its
    ``reconciler`` class."""

    reconciler = None
    resource = None

    @property
    def argument_spec(self):
        return self.reconciler.options

    @property
    def module_kwargs(self):
        return dict(required_if=self.reconciler.required_if)

    @property
    def resource_key(self):
        return self.reconciler.resource_key

    def read(self):
        self.resource = self.reconciler(self, self.params)  # pylint: disable=not-callable
        return self.resource.read()

    def plan(self, current):
        return self.resource.plan(current)

    def expected(self, current, plan):
        return self.resource.expected(current, plan)

    def apply(self, current, plan):
        self.resource.apply(current, plan)

    def read_back(self, current, plan):
        return self.resource.read_back(current, plan)

    def exit_with(self, plan, before, after):
        super(ReconcilerModule, self).exit_with(plan, self.resource.public(before), self.resource.public(after))
