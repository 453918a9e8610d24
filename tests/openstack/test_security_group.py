# -*- coding: utf-8 -*-
"""openstack_security_group against the real control plane."""

from ansible_collections.virtlab.core.plugins.modules import openstack_security_group

from checks import ok

LAB_RULES = [
    {"protocol": "tcp", "ports": "22"},
    {"protocol": "icmp"},
    {"protocol": "tcp", "ports": "50000-50050"},
]


def api_rules(sdk, group_id):
    return sorted((r.direction, r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix)
                  for r in sdk.network.security_group_rules(security_group_id=group_id)
                  if r.direction == "ingress")


def test_rules_create_rerun_add_purge_delete(os_module, sdk, prefix, cleanup):
    name = prefix + "sg"
    cleanup(lambda: sdk.network.find_security_group(name) and sdk.network.delete_security_group(
        sdk.network.find_security_group(name)))

    planned = ok(os_module(openstack_security_group, check_mode=True, name=name, rules=LAB_RULES))
    assert planned["changed"] and sdk.network.find_security_group(name) is None
    assert len([a for a in planned["actions"] if a.startswith("create rule")]) == 3

    created = ok(os_module(openstack_security_group, name=name, description="lab", rules=LAB_RULES))
    assert created["changed"]
    group = sdk.network.find_security_group(name)
    assert api_rules(sdk, group.id) == [
        ("ingress", "icmp", None, None, None),
        ("ingress", "tcp", 22, 22, None),
        ("ingress", "tcp", 50000, 50050, None),
    ]

    # The same rules spelled differently are the same rules: no change, no 409.
    respelled = [
        {"protocol": "6", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
        {"protocol": "ICMP", "port_range_min": -1, "port_range_max": -1},
        {"protocol": "tcp", "port_range_min": 50000, "port_range_max": 50050},
    ]
    again = ok(os_module(openstack_security_group, name=name, description="lab", rules=respelled))
    assert again["changed"] is False, again["actions"]

    # Add one rule: only it is created; check mode first changes nothing.
    more = LAB_RULES + [{"protocol": "udp", "ports": "53", "remote_ip_prefix": "10.77.1.5"}]
    planned = ok(os_module(openstack_security_group, check_mode=True, name=name, rules=more))
    assert planned["actions"] == ["create rule ingress IPv4 udp 53 from 10.77.1.5/32"]
    assert len(api_rules(sdk, group.id)) == 3
    added = ok(os_module(openstack_security_group, name=name, rules=more, diff=True))
    assert added["changed"] and len(api_rules(sdk, group.id)) == 4
    assert ("ingress", "udp", 53, 53, "10.77.1.5/32") in api_rules(sdk, group.id)
    assert ok(os_module(openstack_security_group, name=name, rules=more))["changed"] is False

    # Purge: the undeclared rules go (the egress defaults too), the declared stay.
    purged = ok(os_module(openstack_security_group, name=name, rules=LAB_RULES, purge_rules=True))
    assert purged["changed"]
    remaining = list(sdk.network.security_group_rules(security_group_id=group.id))
    assert len(remaining) == 3 and all(r.direction == "ingress" for r in remaining)
    assert ok(os_module(openstack_security_group, name=name, rules=LAB_RULES,
                        purge_rules=True))["changed"] is False

    gone = ok(os_module(openstack_security_group, name=name, state="absent"))
    assert gone["changed"] and sdk.network.find_security_group(name) is None
    assert ok(os_module(openstack_security_group, name=name, state="absent"))["changed"] is False


def test_self_referencing_group(os_module, sdk, prefix, cleanup):
    name = prefix + "sg-self"
    cleanup(lambda: sdk.network.delete_security_group(sdk.network.find_security_group(name)))
    rules = [{"protocol": "any", "remote_group": name}]
    ok(os_module(openstack_security_group, name=name, rules=rules))
    group = sdk.network.find_security_group(name)
    assert any(r.remote_group_id == group.id
               for r in sdk.network.security_group_rules(security_group_id=group.id))
    assert ok(os_module(openstack_security_group, name=name, rules=rules))["changed"] is False


def test_bad_rule_fails_before_creating(os_module, sdk, prefix):
    name = prefix + "sg-bad"
    result = os_module(openstack_security_group, name=name,
                       rules=[{"protocol": "tcp", "ports": "70000"}])
    assert result["failed"] and "rules[0]" in result["msg"] and "65535" in result["msg"]
    unknown = os_module(openstack_security_group, name=name,
                        rules=[{"protocol": "tcp", "ports": "22", "remote_group": "no-such-group"}])
    assert unknown["failed"] and "Unknown security group 'no-such-group'" in unknown["msg"]
    assert sdk.network.find_security_group(name) is None
