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
