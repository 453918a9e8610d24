# -*- coding: utf-8 -*-
"""openstack_capacity counts as missing only what no resource is, by its name or its id (no cloud needed)."""

from ansible_collections.virtlab.core.plugins.modules.openstack_capacity import OpenStackCapacity, missing

NET_ID = "5a3c1e0f-9b1d-4c7e-8f21-0d6f4b2a9c10"


class Resource:
    def __init__(self, name, ident):
        self.name = name
        self.id = ident


NETWORKS = [Resource("virtlab-pn1", NET_ID), Resource("virtlab-pn2", "7e0b8a2c-1f3d-4e5a-9b6c-2d4f6a8b0c12"),
            Resource(None, "0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f")]


def test_a_resource_given_by_its_name_or_its_id_exists():
    assert missing(["virtlab-pn1", "7e0b8a2c-1f3d-4e5a-9b6c-2d4f6a8b0c12", "virtlab-pn3"], NETWORKS) == ["virtlab-pn3"]


def test_ids_are_matched_whatever_their_case_and_both_without_surrounding_whitespace():
    assert missing([NET_ID.upper(), " virtlab-pn2\n", "  %s " % NET_ID], NETWORKS) == []


def test_names_keep_their_case():
    assert missing(["VIRTLAB-PN1"], NETWORKS) == ["VIRTLAB-PN1"]


def test_an_unnamed_resource_is_found_by_its_id_only():
    assert missing(["0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f", "None", ""], NETWORKS) == ["None", ""]


def test_a_missing_resource_given_twice_counts_once_in_the_order_given():
    assert missing(["virtlab-pn4", "virtlab-pn3", " virtlab-pn4", "virtlab-pn1"], NETWORKS) == [
        "virtlab-pn4", "virtlab-pn3"]


class Conn:
    """The project: one server and the networks above; every listing counted."""

    def __init__(self):
        self.listed = []
        self.compute = self.network = self

    def servers(self):
        self.listed.append("servers")
        return [Resource("virtlab-cs", "a1b2c3d4-0000-4000-8000-000000000001")]

    def networks(self):
        self.listed.append("networks")
        return NETWORKS

    def routers(self):
        self.listed.append("routers")
        return [Resource("virtlab-rt1", "b1b2c3d4-0000-4000-8000-000000000002")]

    def security_groups(self):
        self.listed.append("security_groups")
        return [Resource("virtlab-lab", "c1b2c3d4-0000-4000-8000-000000000003")]


def needs(**params):
    module = object.__new__(OpenStackCapacity)
    module.conn = Conn()
    module.params = dict(dict(servers=[], flavor=None, floating_ips=[], ports=None, networks=[], routers=[],
                              security_groups=[], external_network=None), **params)
    return module.needs(), module.conn.listed


def test_what_exists_by_id_needs_no_room():
    result = needs(servers=["a1b2c3d4-0000-4000-8000-000000000001"], floating_ips=["virtlab-cs"],
                   networks=[NET_ID.upper(), "virtlab-pn2"], routers=["B1B2C3D4-0000-4000-8000-000000000002"],
                   security_groups=["c1b2c3d4-0000-4000-8000-000000000003"])[0]
    assert not any(result.values()), result


def test_what_is_missing_is_counted_once_and_unlisted_kinds_are_not_read():
    result, listed = needs(networks=["virtlab-pn3", "virtlab-pn3 ", NET_ID], routers=["virtlab-rt2"])
    assert result["network"] == 1 and result["subnet"] == 1 and result["router"] == 1, result
    assert result["instances"] == 0 and result["port"] == 0 and result["floatingip"] == 0
    assert listed == ["networks", "routers"], "no listing of servers or security groups: none was given"
