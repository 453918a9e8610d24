# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failures a module reports: a message for the user plus structured details for ``fail_json``.
No Ansible import, so pure helpers and their unit tests use them too."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class VirtlabError(Exception):
    """A failure to report to the user: ``msg`` plus structured details for fail_json."""

    def __init__(self, msg, **details):
        super(VirtlabError, self).__init__(msg)
        self.msg = msg
        self.details = details


class OperationFailed(VirtlabError):
    """A long operation ended, and ended badly (e.g. a task with a non-OK exit status)."""


class OperationTimeout(VirtlabError):
    """A long operation was still running when its deadline passed."""
