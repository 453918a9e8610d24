# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one module skeleton every virtlab module follows.

A backend (docker, openstack, proxmox, vbox) subclasses VirtlabModule once, adding its
connection options and its client; each module subclasses the backend base and writes
``run()`` as: find -> compare -> exit early in check mode -> act -> return the resource.

Also here, with no Ansible import so they can be unit-tested directly: the error types
that carry details into ``fail_json``, and ``wait_until`` that polls against a deadline
and tells a failed operation from a timeout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import traceback

from ansible.module_utils.basic import AnsibleModule


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


class VirtlabModule:
    """Base of every virtlab module.

    Subclasses set ``argument_spec`` (their own options) and optionally ``module_kwargs``
    (mutually_exclusive, required_if, ...). Backend bases override ``backend_argument_spec``
    (connection and auth options), ``check_requirements`` (missing_required_lib) and
    ``connect`` (build the client, fail early on bad credentials).
    """

    argument_spec = {}
    module_kwargs = {}

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

    # What each module writes ----------------------------------------------------
    def run(self):
        raise NotImplementedError

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
