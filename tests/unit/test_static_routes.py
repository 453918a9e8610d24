# -*- coding: utf-8 -*-
"""The route planner and persisted configuration of the static_routes module (node-side)."""

from ansible_collections.virtlab.core.plugins.module_utils.node import static_routes


def test_missing_route_is_added_and_nothing_else():
    added, replaced, removed = static_routes.plan_routes(
        {"10.77.0.0/24": "10.77.1.1"}, {"10.77.0.0/24": "10.77.1.1", "10.77.3.0/24": "10.77.2.1"}, purge=True)
    assert added == [{"dest": "10.77.3.0/24", "via": "10.77.2.1"}] and replaced == [] and removed == []


def test_wrong_next_hop_is_replaced():
    unused_1, replaced, unused_2 = static_routes.plan_routes({"10.77.3.0/24": "10.77.2.9"}, {"10.77.3.0/24": "10.77.2.1"}, True)
    assert replaced == [{"dest": "10.77.3.0/24", "via": "10.77.2.1", "old": "10.77.2.9"}]


def test_undeclared_route_is_removed_only_with_purge():
    current = {"192.0.2.0/24": "10.77.1.1"}
    assert static_routes.plan_routes(current, {}, purge=True)[2] == [{"dest": "192.0.2.0/24", "via": "10.77.1.1"}]
    assert static_routes.plan_routes(current, {}, purge=False) == ([], [], [])


def test_in_sync_table_plans_nothing():
    table = {"10.77.3.0/24": "10.77.2.1"}
    assert static_routes.plan_routes(table, dict(table), purge=True) == ([], [], [])


def test_persisted_config_is_stable_and_readable_by_the_boot_script():
    text = static_routes.persisted_config({"10.77.3.0/24": "10.77.2.1", "10.77.0.0/24": "10.77.1.1"}, False)
    assert text.splitlines()[1:] == ["forwarding 0", "10.77.0.0/24 via 10.77.1.1", "10.77.3.0/24 via 10.77.2.1"]
    assert text == static_routes.persisted_config({"10.77.0.0/24": "10.77.1.1", "10.77.3.0/24": "10.77.2.1"}, False)


# Lab addresses and their connected routes ---------------------------------------------------------------------
def _addr_json(links):
    """``ip -j addr show`` output for {ifname: [address/prefix]}."""
    import json
    out = [{"ifname": "lo", "link_type": "loopback", "addr_info": [{"family": "inet", "local": "127.0.0.1",
                                                                    "prefixlen": 8}]}]
    for name, addresses in sorted(links.items()):
        out.append({"ifname": name, "link_type": "ether", "addr_info": [
            {"family": "inet", "local": a.split("/")[0], "prefixlen": int(a.split("/")[1])} for a in addresses]})
    return json.dumps(out)


def _state(links, connected, routes=None):
    addresses, bare = static_routes.parse_addresses(_addr_json(links))
    return static_routes.HostState(routes or {}, False, {}, True, addresses, bare, connected)


CS_PARAMS = {"routes": [{"dest": "10.77.3.0/24", "via": "10.77.2.1"}], "purge": True, "forwarding": None,
             "persist": False, "addresses": ["10.77.1.10/24", "10.77.2.10/24"]}


def test_a_flushed_address_goes_back_on_the_bare_interface_before_the_route_that_needs_it():
    state = _state({"eth1": ["10.77.1.10/24"], "eth2": []}, {"10.77.1.0/24": "eth1"})
    plan = static_routes.plan(state, CS_PARAMS)
    assert plan.verbs() == ["restore address", "add"]
    assert plan.texts()[0] == "restored 10.77.2.10/24 on eth2"
    after = static_routes.expected(state, plan, CS_PARAMS)
    assert after.addresses["10.77.2.10/24"] == "eth2" and after.connected["10.77.2.0/24"] == "eth2"
    assert static_routes.plan(after, CS_PARAMS).verbs() == []


def test_a_flushed_route_table_gets_its_connected_routes_back():
    state = _state({"eth1": ["10.77.1.10/24"], "eth2": ["10.77.2.10/24"]}, {})
    plan = static_routes.plan(state, CS_PARAMS)
    assert plan.verbs() == ["restore connected route", "restore connected route", "add"]
    assert plan[0].target == "10.77.1.0/24" and plan[0].details == {"device": "eth1", "source": "10.77.1.10"}


def test_lost_addresses_that_cannot_be_placed_fail_before_anything_changes():
    state = _state({"eth1": [], "eth2": []}, {})
    try:
        static_routes.plan(state, CS_PARAMS)
    except ValueError as exc:
        assert "10.77.1.10/24, 10.77.2.10/24 are on no interface" in str(exc) and "eth1, eth2" in str(exc)
    else:
        raise AssertionError("two lost addresses and two bare interfaces must not be guessed")


def test_addresses_not_declared_are_not_managed():
    state = _state({"eth1": ["10.77.1.10/24"]}, {})
    params = dict(CS_PARAMS, addresses=None, routes=[])
    assert static_routes.plan(state, params).verbs() == []


# Routes as the kernel resolves them, the default route, redirects ---------------------------------------------
def _route_get(gateway, redirected=False):
    """``ip -j -4 route get`` output through ``gateway`` (None: on-link)."""
    import json
    entry = {"dst": "10.77.3.11", "dev": "eth2", "prefsrc": "10.77.2.10", "flags": [], "uid": 0,
             "cache": ["redirected"] if redirected else []}
    if gateway:
        entry["gateway"] = gateway
    return json.dumps([entry])


CS_RESOLVING = dict(CS_PARAMS, destinations=["10.77.3.11", "10.77.3.13", "10.77.1.1", "10.77.9.9"])


def test_only_destinations_behind_a_declared_route_are_probed_with_each_routes_first_host():
    assert static_routes.probes({"10.77.3.0/24": "10.77.2.1"}, CS_RESOLVING["destinations"]) == {
        "10.77.3.1": "10.77.3.0/24", "10.77.3.11": "10.77.3.0/24", "10.77.3.13": "10.77.3.0/24"}
    command = static_routes.observe_command(CS_RESOLVING)
    assert "ip -j -4 route get 10.77.3.11 " in command and "route get 10.77.1.1 " not in command


def test_a_redirected_destination_is_drift_and_its_route_is_reinstalled_once():
    """``ip route show`` looks right but the kernel sends 10.77.3.11 to Docker's bridge (an accepted redirect)."""
    state = _state({"eth1": ["10.77.1.10/24"], "eth2": ["10.77.2.10/24"]},
                   {"10.77.1.0/24": "eth1", "10.77.2.0/24": "eth2"}, routes={"10.77.3.0/24": "10.77.2.1"})
    state.resolved = {"10.77.3.1": "10.77.2.1", "10.77.3.11": static_routes.parse_resolution(
        _route_get("10.77.2.254", redirected=True)), "10.77.3.13": "10.77.2.254"}
    plan = static_routes.plan(state, CS_RESOLVING)
    assert plan.verbs() == ["reinstall"]
    assert plan.texts() == ["re-installed 10.77.3.0/24 via 10.77.2.1 (10.77.3.11 resolved via 10.77.2.254)"]
    after = static_routes.expected(state, plan, CS_RESOLVING)
    assert static_routes.plan(after, CS_RESOLVING).verbs() == []
    diff = static_routes.result(state, after, plan, CS_RESOLVING, True)["diff"][0]
    assert "resolve 10.77.3.11 via 10.77.2.254\n" in diff["before"] and "resolve 10.77.3.11 via 10.77.2.1\n" in diff["after"]


def test_a_missing_route_is_added_not_reinstalled_even_though_its_destinations_resolve_elsewhere():
    state = _state({"eth1": ["10.77.1.10/24"], "eth2": ["10.77.2.10/24"]},
                   {"10.77.1.0/24": "eth1", "10.77.2.0/24": "eth2"})
    state.resolved = {"10.77.3.11": "10.77.254.254"}
    assert static_routes.plan(state, CS_RESOLVING).verbs() == ["add"]


def test_redirect_sysctls_and_the_default_route_are_reconciled_and_persisted():
    text = ("/proc/sys/net/ipv4/conf/all/accept_redirects:0\n/proc/sys/net/ipv4/conf/eth0/accept_redirects:1\n"
            "/proc/sys/net/ipv4/conf/lo/accept_redirects:1\n/proc/sys/net/ipv4/conf/eth0/send_redirects:1\n")
    redirects = static_routes.parse_redirects(text)
    assert redirects == {"net.ipv4.conf.all.accept_redirects": "0", "net.ipv4.conf.eth0.accept_redirects": "1",
                         "net.ipv4.conf.eth0.send_redirects": "1"}, "the loopback is left out"
    state = static_routes.HostState({}, True, {}, True, redirects=redirects, default="10.77.1.254")
    params = {"routes": [], "purge": True, "forwarding": True, "persist": False, "redirects": False,
              "default_route": "absent"}
    plan = static_routes.plan(state, params)
    assert plan.verbs() == ["remove default", "set redirects"]
    assert plan.get("set redirects").details["values"] == {
        "net.ipv4.conf.eth0.accept_redirects": "0", "net.ipv4.conf.eth0.send_redirects": "0"}
    after = static_routes.expected(state, plan, params)
    assert after.default is None and static_routes.plan(after, params).verbs() == []
    assert static_routes.plan(after, dict(params, default_route="10.77.1.254")).texts() == [
        "set the default route via 10.77.1.254"]
    config = static_routes.persisted_config({}, True, params)
    assert config.splitlines()[1:] == ["forwarding 1", "redirects 0", "default absent"]
    assert static_routes.sysctl_path("net.ipv4.conf.eth0.100.send_redirects") == \
        "/proc/sys/net/ipv4/conf/eth0.100/send_redirects"


def test_turning_forwarding_off_resets_all_accept_redirects_so_it_is_written_after_it():
    """The kernel sets all.accept_redirects to the opposite of the new forwarding value when forwarding changes
    (a Docker container starts with forwarding on, hence all.accept_redirects 0): writing forwarding 0 turns it
    back to 1, so the same run must write it too, or the next run finds it changed."""
    state = static_routes.HostState({}, True, {}, True, redirects={"net.ipv4.conf.all.accept_redirects": "0",
                                                                   "net.ipv4.conf.eth0.accept_redirects": "0"})
    params = {"routes": [], "purge": True, "forwarding": False, "persist": False, "redirects": False}
    plan = static_routes.plan(state, params)
    assert plan.verbs() == ["set forwarding", "set redirects"], "forwarding first, then the redirect sysctls"
    assert plan.get("set redirects").details["values"] == {"net.ipv4.conf.all.accept_redirects": "0"}
    # Turning forwarding on sets it to 0, which is what a router wants: nothing more to write.
    router = static_routes.HostState({}, False, {}, True, redirects={"net.ipv4.conf.all.accept_redirects": "1"})
    assert static_routes.plan(router, dict(params, forwarding=True)).verbs() == ["set forwarding"]


def test_a_default_route_that_is_no_address_fails_before_anything_changes():
    state = static_routes.HostState({}, False, {}, True)
    try:
        static_routes.plan(state, {"routes": [], "purge": True, "forwarding": None, "persist": False,
                                   "default_route": "rt1"})
    except ValueError as exc:
        assert "default_route rt1 is neither an IPv4 address nor absent" in str(exc)
    else:
        raise AssertionError("a default route via a name must be refused")


def test_redirects_a_host_cannot_set_are_a_warning_not_a_change_on_every_run():
    state = static_routes.HostState({}, False, {}, True, redirects={"net.ipv4.conf.eth0.accept_redirects": "1"},
                                    sysctl_writable=False)
    params = {"routes": [], "purge": True, "forwarding": None, "persist": False, "redirects": False}
    plan = static_routes.plan(state, params)
    assert plan.verbs() == []
    warnings = static_routes.result(state, state, plan, params, False)["warnings"]
    assert warnings == ["net.ipv4.conf.eth0.accept_redirects not set to 0: /proc/sys is read-only here and the host "
                        "may not remount it (no CAP_SYS_ADMIN); set them where the node is created"]
