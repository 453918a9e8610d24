# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one module skeleton every virtlab module follows, on every backend.

A backend (docker, openstack, proxmox, vbox, node) subclasses VirtlabModule once, adding its connection
options and its client; each module subclasses the backend base and fills in the steps of one flow::

    read -> plan -> (check mode or nothing to do: expected) | (apply -> read back) -> exit

``read()`` returns the resource as it is (a normalised dict, {} when absent); ``plan(current)`` returns a
``Plan`` of ``Action`` records - the one decision, for check mode and the real run alike; ``expected(current,
plan)`` is the resource as the plan would leave it (check mode's answer); ``apply(current, plan)`` carries the
plan out, dispatching each action to ``apply_<verb>`` unless the module overrides it; ``read_back(current,
plan)`` is the resource as it now is. ``exit`` renders the plan to the ``actions`` lines.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan


class VirtlabModule:
    """Base of every virtlab module.

    Subclasses set ``argument_spec`` (their own options), optionally ``module_kwargs`` (mutually_exclusive,
    required_if, ...) and ``resource_key`` (the name under which the resource is returned). Backend bases
    override ``backend_argument_spec`` (connection and auth options), ``check_requirements``
    (missing_required_lib) and ``connect`` (build the client, fail early on bad credentials). A module whose
    resource is a machine that playbooks log into sets ``machine``: it then also returns the plan's ``verbs`` and
    ``not_in_place`` (``Plan.not_in_place``).
    """

    argument_spec = {}
    module_kwargs = {}
    resource_key = "resource"
    machine = False

    def __init__(self):
        spec = dict(self.backend_argument_spec())
        spec.update(self.argument_spec)
        self.ansible = AnsibleModule(argument_spec=spec, supports_check_mode=True, **self.module_kwargs)
        self.params = self.ansible.params
        self.check_mode = self.ansible.check_mode
        self.want_diff = self.ansible._diff

    # Hooks for the backend bases -------------------------------------------------
    def backend_argument_spec(self):
        return {}

    def check_requirements(self):
        """Fail with missing_required_lib when the backend's Python library is absent."""

    def connect(self):
        """Create the backend client; raise VirtlabError on bad credentials or no endpoint."""

    def disconnect(self):
        """Release the backend client; called on every way out, success or failure."""

    def error_message(self, exc):
        """A readable failure for an exception of the backend's library: (msg, details), or None when this
        backend does not know the exception (it is then reported with its type and traceback)."""
        return None

    # The steps each module writes -------------------------------------------------
    def read(self):
        """The resource as it is now: a normalised dict, {} when it does not exist."""
        raise NotImplementedError

    def plan(self, current):
        """The one decision: a Plan (empty when the resource is as declared). Bad input fails here, before
        anything changes."""
        raise NotImplementedError

    def expected(self, current, plan):
        """The resource as ``plan`` would leave it: what check mode reports."""
        if not plan:
            return current
        raise NotImplementedError

    def apply(self, current, plan):
        """Carry out the plan: each action in order, by its ``apply_<verb>`` method."""
        for action in plan:
            handler = getattr(self, "apply_" + action.verb.replace(" ", "_").replace("-", "_"))
            handler(action)

    def read_back(self, current, plan):
        """The resource after ``apply``: read again by default."""
        return self.read()

    def result(self, after):
        """What the module returns besides changed, actions and diff."""
        return {self.resource_key: after}

    def view(self, resource):
        """What diff shows of a read, expected or read-back resource (the resource itself by default)."""
        return resource

    # The one flow -----------------------------------------------------------------
    def run(self):
        current = self.read()
        plan = self.plan(current)
        if plan and not self.check_mode:
            self.apply(current, plan)
            after = self.read_back(current, plan)
        else:
            after = self.expected(current, plan)
        self.exit_with(plan, current, after)

    def exit_with(self, plan, before, after):
        """Exit with the plan rendered to text, the resource, and before/after for diff."""
        result = self.result(after)
        if self.machine:
            result.update(verbs=plan.verbs(), not_in_place=plan.not_in_place())
        self.exit(bool(plan), before=self.view(before), after=self.view(after), actions=self.render(plan),
                  **result)

    def render(self, plan):
        """The plan as the ``actions`` lines the user sees."""
        return Plan.texts(plan)

    # Results --------------------------------------------------------------------
    def exit(self, changed, before=None, after=None, **result):
        """Exit with ``changed`` and the resource; adds before/after when diff was asked for."""
        if self.want_diff and (before is not None or after is not None):
            result["diff"] = {"before": before if before is not None else {},
                              "after": after if after is not None else {}}
        self.ansible.exit_json(changed=changed, **result)

    def fail(self, msg, **details):
        self.ansible.fail_json(msg=msg, **details)

    def __call__(self):
        self.check_requirements()
        try:
            self.connect()
            self.run()
        except VirtlabError as exc:
            self.fail(exc.msg, **exc.details)
        except Exception as exc:  # pylint: disable=broad-except
            # Anything the backend library raised that the module did not expect: still a
            # clean failure with the details, never a raw traceback as the only message.
            known = self.error_message(exc)
            if known is not None:
                self.fail(known[0], exception=traceback.format_exc(), **known[1])
            self.fail("%s: %s" % (type(exc).__name__, exc), exception=traceback.format_exc())
        finally:
            # exit_json and fail_json end the module by raising: this runs on the way out.
            self.disconnect()
