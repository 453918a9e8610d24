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
