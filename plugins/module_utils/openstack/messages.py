# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readable text for openstacksdk errors and for lists of what a cloud has (no Ansible import)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def describe_sdk_error(exc):
    """One readable line from an openstacksdk exception: service answer, status, details."""
    status = getattr(exc, "status_code", None)
    details = getattr(exc, "details", None)
    method = getattr(exc, "method", None)
    url = getattr(exc, "url", None)
    message = getattr(exc, "message", None) or str(exc)
    if status is None:
        return message
    text = "%s%s answered %s" % (method + " " if method else "", url or "the API", status)
    if details and details != message:
        text += ": %s" % details
    elif message and message != "Error":
        text += ": %s" % message
    return text


def names_list(names, limit=15):
    """'a, b, c' (sorted), or '(none)'; long lists are cut with a count."""
    names = sorted(set(str(n) for n in names if n))
    if not names:
        return "(none)"
    if len(names) > limit:
        return ", ".join(names[:limit]) + " and %d more" % (len(names) - limit)
    return ", ".join(names)
