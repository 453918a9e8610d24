# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A planned change is data: an ``Action`` (verb, target, details), collected in a ``Plan``.

Every module of every backend plans with these. Decisions (check mode's "would change", the real run's
"must change", which steps ``apply`` takes) read ``verb`` and ``details``; the text a user sees in the
module's ``actions`` result is rendered from the record only when the module exits. No Ansible import:
planners are unit-tested directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The verbs after which a machine is not the one that ran as declared: before the plan has run (in check mode) there
# is nothing to log into on it yet, or not the machine it will be. Plan.not_in_place() decides it for every module.
NOT_IN_PLACE_VERBS = ("create", "recreate", "start")


class Action:
    """One planned change.

    ``verb``: what is done, one word or a short fixed phrase a module dispatches on (``create``,
    ``connect``, ``migrate``); ``target``: what it is done to (a name, an address), or None for the
    module's own resource; ``details``: the values the step needs and the user may want to see.
    ``text``: a ``str.format`` template for the rendered line, over ``verb``, ``target`` and the details, or a
    function of the action returning the line; by default the verb and the target.
    """

    __slots__ = ("verb", "target", "details", "text")

    def __init__(self, verb, target=None, text=None, **details):
        self.verb = verb
        self.target = target
        self.details = details
        self.text = text

    def render(self):
        if self.text is None:
            return " ".join(str(part) for part in (self.verb, self.target) if part not in (None, ""))
        if callable(self.text):
            return self.text(self)
        return self.text.format(verb=self.verb, target=self.target, **self.details)

    def to_dict(self):
        return {"verb": self.verb, "target": self.target, "details": dict(self.details)}

    def __eq__(self, other):
        return isinstance(other, Action) and self.to_dict() == other.to_dict()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.verb, self.target))

    def __repr__(self):
        return "Action(%r, %r, %r)" % (self.verb, self.target, self.details)


class Plan(list):
    """The ordered actions of one module run (a list of Action). Empty: nothing to change."""

    def add(self, verb, target=None, text=None, **details):
        action = Action(verb, target, text=text, **details)
        self.append(action)
        return action

    def has(self, *verbs):
        """Whether any action has one of ``verbs``."""
        return any(action.verb in verbs for action in self)

    def get(self, verb):
        """The first action with ``verb``, or None."""
        return next((action for action in self if action.verb == verb), None)

    def verbs(self):
        return [action.verb for action in self]

    def not_in_place(self):
        """Whether the plan creates, recreates or starts its machine (``NOT_IN_PLACE_VERBS``): what a playbook
        asks in check mode before it logs into the machine."""
        return self.has(*NOT_IN_PLACE_VERBS)

    def texts(self):
        """The rendered lines, in order: what the module returns as ``actions``."""
        return [action.render() for action in self]

    def by_target(self):
        """{target: [rendered lines]} for modules that act on several resources in one run."""
        grouped = {}
        for action in self:
            grouped.setdefault(action.target, []).append(action.render())
        return grouped
