# -*- coding: utf-8 -*-
"""openstack_capacity's arithmetic (no cloud needed; the quota test in test_playbooks.py runs it on the cloud)."""

from ansible_collections.virtlab.core.plugins.modules.openstack_capacity import shortfalls


def test_a_quota_short_of_the_need_is_named_with_its_figures():
    capacity = {"instances": {"limit": 10, "used": 8, "needed": 5},
                "ram": {"limit": 4096, "used": 0, "needed": 4096},       # exactly fits
                "floatingip": {"limit": -1, "used": 99, "needed": 1},    # unlimited
                "router": {"limit": 1, "used": 3, "needed": 0}}          # over, but nothing more is needed
    assert shortfalls(capacity) == ["servers: 5 needed, 2 of 10 left (8 used)"]


def test_used_beyond_the_limit_leaves_none():
    assert shortfalls({"cores": {"limit": 4, "used": 6, "needed": 1}}) == ["vCPUs: 1 needed, 0 of 4 left (6 used)"]
