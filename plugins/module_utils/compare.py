# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalised comparison shared by every module (no Ansible import: unit-tested directly).

Modules normalise both sides first (backend-specific normalisers live with the backend),
then ask ``differences`` which declared keys differ. The same call decides "would change"
in check mode and "must change" in the real run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _canonical(value, unordered):
    if isinstance(value, dict):
        return dict((k, _canonical(v, unordered)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        items = [_canonical(v, unordered) for v in value]
        if unordered:
            return sorted(items, key=repr)
        return items
    return value


def differences(current, desired, unordered_keys=()):
    """Return {key: (current, desired)} for every key of ``desired`` whose value is not None
    and differs from ``current``. Keys left None in ``desired`` are "not managed".
    Lists under ``unordered_keys`` compare as sets (order is not a difference).
    """
    current = current or {}
    changes = {}
    for key, want in desired.items():
        if want is None:
            continue
        have = current.get(key)
        unordered = key in unordered_keys
        if _canonical(have, unordered) != _canonical(want, unordered):
            changes[key] = (have, want)
    return changes


def list_delta(current, desired):
    """Items to add and items to remove to turn ``current`` into ``desired`` (order kept)."""
    to_add = [item for item in desired if item not in current]
    to_remove = [item for item in current if item not in desired]
    return to_add, to_remove
