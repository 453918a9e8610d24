# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Polling against a deadline, telling a failed operation from a timeout (no Ansible import)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.virtlab.core.plugins.module_utils.errors import OperationTimeout


def wait_until(probe, timeout, what, interval=0.5, clock=time.monotonic, sleep=time.sleep):
    """Call ``probe()`` until it returns something other than None, or the deadline passes.

    ``probe`` raises OperationFailed itself when the operation has ended badly; that
    propagates at once, so a failed operation is never reported as a timeout.
    Returns the probe's result; raises OperationTimeout naming ``what`` after ``timeout`` s.
    """
    deadline = clock() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        remaining = deadline - clock()
        if remaining <= 0:
            raise OperationTimeout(
                "Timed out after %ss waiting for %s" % (timeout, what), timeout=timeout
            )
        sleep(min(interval, remaining))
