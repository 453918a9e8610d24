# -*- coding: utf-8 -*-
"""Waiting on long operations, with a stand-in for the SDK connection (no cloud needed):
a server in ERROR fails at once with Nova's fault; one never ready times out; a resize is
confirmed when the cloud waits for it, and not when the cloud confirmed on its own."""

import pytest

from ansible_collections.virtlab.core.plugins.module_utils.errors import OperationFailed, OperationTimeout
from ansible_collections.virtlab.core.plugins.module_utils.openstack.base import OpenStackModule
from ansible_collections.virtlab.core.plugins.modules.openstack_server import OpenStackServer


class Server:
    def __init__(self, status, flavor="m1.tiny", fault=None):
        self.id, self.name, self.status, self.fault = "s-1", "vm", status, fault
        self.flavor = {"original_name": flavor}


class Flavor:
    id, name = "f-2", "m1.small"


class Compute:
    """Returns the given servers one after the other (the last one for ever); records calls."""

    def __init__(self, *servers):
        self.servers, self.calls = list(servers), []

    def get_server(self, server_id):
        return self.servers.pop(0) if len(self.servers) > 1 else self.servers[0]

    def resize_server(self, server, flavor_id):
        self.calls.append(("resize", flavor_id))

    def confirm_server_resize(self, server):
        self.calls.append(("confirm",))


class Conn:
    def __init__(self, compute):
        self.compute = compute


def module(module_class, compute, timeout=0.2):
    instance = object.__new__(module_class)  # no AnsibleModule: only the waiting logic runs
    instance.params = {"timeout": timeout, "wait": True}
    instance.poll_interval = 0.01
    instance.conn = Conn(compute)
    return instance


def test_server_in_error_fails_at_once_with_the_fault():
    waiting = module(OpenStackModule, Compute(Server("BUILD"), Server("ERROR", fault={
        "message": "No valid host was found."})), timeout=30)
    with pytest.raises(OperationFailed, match="No valid host was found") as failure:
        waiting.wait_for_server("s-1", lambda s: s.status == "ACTIVE", "the build of server vm")
    assert not isinstance(failure.value, OperationTimeout)


def test_server_never_ready_is_a_timeout():
    waiting = module(OpenStackModule, Compute(Server("BUILD")), timeout=0.05)
    with pytest.raises(OperationTimeout, match="the build of server vm"):
        waiting.wait_for_server("s-1", lambda s: s.status == "ACTIVE", "the build of server vm")


def test_resize_is_confirmed_when_the_cloud_waits_for_it():
    compute = Compute(Server("RESIZE"), Server("VERIFY_RESIZE", "m1.small"), Server("ACTIVE", "m1.small"))
    server = module(OpenStackServer, compute).resize(Server("ACTIVE"), Flavor())
    assert compute.calls == [("resize", "f-2"), ("confirm",)]
    assert server.status == "ACTIVE"


def test_resize_confirmed_by_the_cloud_itself_is_accepted():
    compute = Compute(Server("RESIZE"), Server("ACTIVE", "m1.small"))
    server = module(OpenStackServer, compute).resize(Server("ACTIVE"), Flavor())
    assert compute.calls == [("resize", "f-2")]
    assert server.flavor["original_name"] == "m1.small"


def test_resize_still_active_with_the_old_flavor_is_not_done_yet():
    # Right after the request Nova may still show ACTIVE with the old flavor: keep waiting.
    compute = Compute(Server("ACTIVE", "m1.tiny"), Server("RESIZE"), Server("VERIFY_RESIZE", "m1.small"),
                      Server("ACTIVE", "m1.small"))
    module(OpenStackServer, compute).resize(Server("ACTIVE"), Flavor())
    assert compute.calls == [("resize", "f-2"), ("confirm",)]
