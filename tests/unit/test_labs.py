# -*- coding: utf-8 -*-
"""One lab per student: each lab's address plan, index and refusal of overlapping plans."""

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.virtlab.core.plugins.filter import lab_index as lab_index_filter
from ansible_collections.virtlab.core.plugins.filter import topology_for_lab as for_lab_filter
from ansible_collections.virtlab.core.plugins.module_utils.docker import adapter
from ansible_collections.virtlab.core.plugins.module_utils.topology import labs, model, routing

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(REPO, "inventories", "docker", "group_vars", "all", "topology.yml")) as handle:
    INVENTORY = yaml.safe_load(handle)
DECLARED = INVENTORY["virtlab_topology_declared"]
BLOCK = "10.77.0.0/16"
MGMT = {"name": "virtlab-student07-mgmt", "cidr": "10.84.254.0/24"}


def test_the_declared_plan_is_the_inventorys_topology():
    assert DECLARED == INVENTORY["virtlab_topology"]


def test_lab_zero_is_the_declared_topology_itself():
    assert labs.for_lab(DECLARED, BLOCK, 0) is DECLARED
    assert labs.renumber("10.77.254.0/24", BLOCK, 0) == "10.77.254.0/24"


def test_lab_seven_moves_every_address_seven_blocks_up_and_keeps_the_rest():
    lab = labs.for_lab(DECLARED, BLOCK, 7)
    assert lab["networks"]["pn1"] == {"cidr": "10.84.1.0/24", "gateway": "10.84.1.1"}
    assert lab["networks"]["pn2"] == {"cidr": "10.84.2.0/24", "gateway": None}
    assert lab["routers"]["rt2"]["interfaces"] == {"pn2": "10.84.2.1", "pn3": "10.84.3.1"}
    assert lab["nodes"]["outside"]["interfaces"] == {"public": "10.84.0.100"}
    assert lab["services"] == DECLARED["services"]
    assert DECLARED["networks"]["pn1"]["cidr"] == "10.77.1.0/24", "the declared plan is not changed"
    # Still a valid topology, with the same routes on the moved addresses.
    assert model.validate(lab, reserved=adapter.reserved_addresses(lab)) == []
    assert routing.routes(lab, "cs") == [
        dict(r, dest=r["dest"].replace("10.77.", "10.84."), via=r["via"].replace("10.77.", "10.84."))
        for r in routing.routes(DECLARED, "cs")]
    assert labs.renumber("10.77.254.0/24", BLOCK, 7) == "10.84.254.0/24"


def test_two_labs_never_share_an_address():
    one, two = labs.for_lab(DECLARED, BLOCK, 1), labs.for_lab(DECLARED, BLOCK, 2)
    cidrs = [n["cidr"] for lab in (DECLARED, one, two) for n in lab["networks"].values()]
    assert len(set(cidrs)) == len(cidrs) == 12


@pytest.mark.parametrize("name, index", [("virtlab", 0), ("", 0), (None, 0), ("student07", 7), ("lab178", 178),
                                         ("s1", 1)])
def test_a_labs_index_comes_from_its_name(name, index):
    assert labs.lab_index(name, BLOCK) == index


def test_a_name_without_digits_hashes_to_the_same_index_every_time():
    index = labs.lab_index("alice", BLOCK)
    assert 1 <= index <= 178 and index == labs.lab_index("alice", BLOCK)
    assert labs.lab_index("bob", BLOCK) != index or labs.lab_index("carol", BLOCK) != index


def test_the_last_index_is_the_last_block_of_the_private_range():
    assert labs.max_index(BLOCK) == 178
    assert labs.max_index("192.168.0.0/24") == 255
    assert labs.for_lab(DECLARED, BLOCK, 178)["networks"]["pn3"]["cidr"] == "10.255.3.0/24"


@pytest.mark.parametrize("name, message", [
    ("student00", "lab student00: index 0 from its name is not in 1..178"),
    ("student179", "index 179 from its name is not in 1..178"),
])
def test_a_name_that_cannot_say_its_index_fails(name, message):
    with pytest.raises(ValueError, match=message):
        labs.lab_index(name, BLOCK)
    with pytest.raises(AnsibleFilterError, match="set virtlab_lab_index"):
        lab_index_filter.lab_index(name, BLOCK)


def test_an_index_beyond_the_range_fails_naming_it():
    with pytest.raises(ValueError, match=r"lab index 179 is not in 0\.\.178: lab 179 of 10.77.0.0/16 would leave "
                                         r"10.0.0.0/8"):
        labs.for_lab(DECLARED, BLOCK, 179)
    with pytest.raises(ValueError, match="lab index 'x' is not an integer"):
        labs.renumber("10.77.1.0/24", BLOCK, "x")


def test_an_address_outside_the_block_fails_naming_it():
    topology = dict(DECLARED, networks=dict(DECLARED["networks"], pn4={"cidr": "10.78.4.0/24", "gateway": None}))
    with pytest.raises(ValueError, match="network pn4: cidr: 10.78.4.0/24 is outside the lab block 10.77.0.0/16"):
        labs.for_lab(topology, BLOCK, 3)
    with pytest.raises(AnsibleFilterError, match="lab 3: address: 10.9.0.0/24 is outside"):
        for_lab_filter.topology_for_lab("10.9.0.0/24", BLOCK, 3)


def test_the_filter_takes_a_topology_or_one_value_and_an_index_as_text():
    assert for_lab_filter.topology_for_lab(DECLARED, BLOCK, "7") == labs.for_lab(DECLARED, BLOCK, 7)
    assert for_lab_filter.topology_for_lab("10.77.3.11", BLOCK, 2) == "10.79.3.11"


def engine_network(name, subnet, lab=None):
    return {"Name": name, "Labels": {"virtlab.lab": lab} if lab else {}, "IPAM": {"Config": [{"Subnet": subnet}]}}


def student07(engine_networks):
    lab = labs.for_lab(DECLARED, BLOCK, 7)
    return adapter.docker_lab(lab, ["cs"], "virtlab-student07-", "img:1", MGMT, engine_networks=engine_networks)


def test_a_plan_that_overlaps_another_labs_networks_is_refused_naming_both():
    engine = [engine_network("bridge", "172.17.0.0/16"), engine_network("host", ""),
              engine_network("virtlab-twin-pn1", "10.84.1.0/24", "virtlab-twin-"),
              engine_network("someones", "10.84.0.0/16")]
    with pytest.raises(ValueError) as failure:
        student07(engine)
    message = str(failure.value)
    assert "network virtlab-student07-pn1 10.84.1.0/24 overlaps Docker network virtlab-twin-pn1 10.84.1.0/24 of " \
           "lab virtlab-twin" in message
    assert "network virtlab-student07-mgmt 10.84.254.0/24 overlaps Docker network someones 10.84.0.0/16 (not a " \
           "virtlab lab's)" in message
    assert "-e virtlab_lab_index=N" in message


def test_the_labs_own_networks_and_other_labs_plans_are_no_conflict():
    engine = [engine_network("virtlab-student07-pn1", "10.84.1.0/24", "virtlab-student07-"),
              engine_network("virtlab-pn1", "10.77.1.0/24", "virtlab-"),
              engine_network("virtlab-mgmt", "10.77.254.0/24", "virtlab-")]
    assert adapter.subnet_conflicts(student07(engine)["networks"], engine) == []
    # Removing a lab never asks about overlaps.
    lab = labs.for_lab(DECLARED, BLOCK, 7)
    removal = adapter.docker_lab(lab, ["cs"], "virtlab-student07-", "img:1", MGMT, state="absent",
                                 engine_networks=[engine_network("x", "10.84.0.0/16")])
    assert all(n["state"] == "absent" for n in removal["networks"])
