# -*- coding: utf-8 -*-
"""static_routes: each host has exactly the routes the topology calls for, in the kernel and persisted for
reboots; the router forwards and the others do not; a and b reach each other only through the router."""

import pytest

from virtlab_checks import assert_forwarding, assert_routes, node

# Worked out by hand from molecule.yml's topology: a reaches n2 and b reaches n1 through the router's
# address on their own subnet; the router is on both subnets and needs no route. The stray route to
# 10.79.99.0/24 that prepare.yml left on a must be gone (purge).
EXPECTED_ROUTES = {
    "mol-sr-a": {"10.79.5.0/24": "10.79.4.1"},
    "mol-sr-rt": {},
    "mol-sr-b": {"10.79.4.0/24": "10.79.5.1"},
}
FORWARDING = {"mol-sr-a": False, "mol-sr-rt": True, "mol-sr-b": False}


@pytest.mark.parametrize("name", sorted(EXPECTED_ROUTES))
def test_routes_in_kernel_and_persisted(name):
    assert_routes(node(name), EXPECTED_ROUTES[name])


@pytest.mark.parametrize("name", sorted(FORWARDING))
def test_forwarding(name):
    assert_forwarding(node(name), FORWARDING[name])


@pytest.mark.parametrize("src, dst", [("mol-sr-a", "10.79.5.10"), ("mol-sr-b", "10.79.4.10")])
def test_hosts_reach_each_other_through_the_router(src, dst):
    # One hop through mol-sr-rt: the TTL the answer comes back with is one lower than a direct neighbour's.
    out = node(src).run("ping -c 1 -W 2 %s", dst)
    assert out.rc == 0, "%s cannot ping %s: %s%s" % (src, dst, out.stdout, out.stderr)
    assert "ttl=63" in out.stdout, "%s -> %s did not go through one router: %s" % (src, dst, out.stdout)


def test_boot_script_reapplies_the_routes():
    # What runs at boot, run now on a node whose route was deleted: the route is back.
    host = node("mol-sr-a")
    host.check_output("ip route del 10.79.5.0/24")
    try:
        assert "10.79.5.0/24" not in host.check_output("ip route show 10.79.5.0/24")
        host.check_output("/usr/local/sbin/virtlab-static-routes")
        assert_routes(host, EXPECTED_ROUTES["mol-sr-a"])
    finally:
        host.run("ip route replace 10.79.5.0/24 via 10.79.4.1")
