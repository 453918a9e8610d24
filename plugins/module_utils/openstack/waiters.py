# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Polling servers and images against the module's deadline: a server in ERROR fails at once with Nova's
fault message, a deadline passed is a timeout that says what it waited for."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtlab.core.plugins.module_utils.errors import OperationFailed
from ansible_collections.virtlab.core.plugins.module_utils.wait import wait_until

try:
    from openstack import exceptions as sdk_exceptions
except ImportError:  # reported by OpenStackModule.check_requirements before any wait
    sdk_exceptions = None


class OpenStackWaiters:
    """Mixed into OpenStackModule: needs ``self.conn``, ``self.params['timeout']`` and ``poll_interval``."""

    poll_interval = 1.0

    def wait_for_server(self, server_id, ready, what):
        """Poll the server until ``ready(server)`` is true; ERROR fails at once with Nova's fault."""
        def probe():
            server = self.conn.compute.get_server(server_id)
            if server.status == "ERROR":
                raise OperationFailed(
                    "%s failed: server %s is in ERROR: %s" % (what, server.name, fault_message(server)),
                    server_id=server_id, fault=server.fault)
            return server if ready(server) else None
        return wait_until(probe, self.params["timeout"], what, interval=self.poll_interval)

    def wait_for_image(self, image_id, what):
        def probe():
            image = self.conn.image.get_image(image_id)
            if image.status in ("killed", "deleted", "pending_delete"):
                raise OperationFailed("%s failed: image %s is %s" % (what, image.name, image.status),
                                      image_id=image_id)
            return image if image.status == "active" else None
        return wait_until(probe, self.params["timeout"], what, interval=self.poll_interval)

    def wait_for_gone(self, get, what):
        """Poll ``get()`` (None or NotFound when gone) until the resource has disappeared."""
        def probe():
            try:
                resource = get()
            except sdk_exceptions.NotFoundException:
                return True
            if resource is None:
                return True
            if getattr(resource, "status", None) == "ERROR" and hasattr(resource, "fault"):
                raise OperationFailed("%s failed: %s" % (what, fault_message(resource)))
            return None
        return wait_until(probe, self.params["timeout"], what, interval=self.poll_interval)


def fault_message(server):
    fault = getattr(server, "fault", None) or {}
    if isinstance(fault, dict):
        return fault.get("message") or "no fault message"
    return str(fault)
