"""Property-based: whatever is done to the topology data, the validator answers with messages, or the data is
usable and everything derived from it is consistent - never another exception (issue: bad data never crashes)."""

import copy
import ipaddress
import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.virtlab.core.plugins.module_utils.docker import adapter as docker_adapter
from ansible_collections.virtlab.core.plugins.module_utils.topology import model, probes, routing

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(REPO, "inventories", "docker", "group_vars", "all", "topology.yml")) as handle:
    DEFAULT = yaml.safe_load(handle)["virtlab_topology"]

# Values a careless edit puts where an address, a CIDR, a port or a name was.
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-70000, 70000), st.floats(allow_nan=True),
    st.sampled_from(["", "10.77.1.300", "10.77.2.0/33", "10.77.1.10/24", "::1", "fe80::/64", "pn9", "cs", "rt1",
                     "10.77.3.1", "10.77.1.1", "10.77.0.100", "0.0.0.0/0", "not an address", "50000", "-1"]),
    st.text(max_size=12), st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.text(max_size=3), st.none(), max_size=2),
)


def paths(value, prefix=()):
    """Every path to a value in the nested mappings."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, prefix + (key,))


@st.composite
def mutated(draw):
    topology = copy.deepcopy(DEFAULT)
    for unused_step in range(draw(st.integers(1, 3))):
        candidates = [p for p in paths(topology) if p]
        path = draw(st.sampled_from(candidates))
        parent = topology
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "rename", "duplicate"]))
        if action == "replace":
            parent[path[-1]] = draw(JUNK)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "rename":
            parent[draw(st.sampled_from(["cdir", "netwroks", "interface", "gatway", "prot", "nodes2", "pn9"]))] = \
                parent.pop(path[-1])
        elif isinstance(parent, dict) and parent:
            # Another element with a copy of this one's value: duplicate addresses, ports, names.
            parent[str(path[-1]) + "x"] = copy.deepcopy(parent[path[-1]])
    return topology


def check_consistent(topology):
    """A topology the validator accepts: every derived view works and agrees with the data."""
    hosts = sorted(list(topology.get("routers") or {}) + list(topology.get("nodes") or {}))
    for host in hosts:
        own = model.interfaces(topology, host)
        own_addresses = set(i["address"] for i in own)
        for route in routing.routes(topology, host):
            via = ipaddress.ip_address(route["via"])
            assert via not in own_addresses, (host, route)
            assert any(via in ipaddress.ip_network(i["cidr"]) for i in own), (host, route)
            assert route["dest"] not in set(i["cidr"] for i in own), (host, route)
    for probe in probes.reachability_matrix(topology, "outside" if "outside" in hosts else None):
        assert probe["service"] in topology["services"]
        assert 1 <= probe["port"] <= 65535
        ipaddress.ip_address(probe["address"])
    lab = docker_adapter.docker_lab(topology, hosts, "virtlab-", "image", {"name": "virtlab-mgmt", "cidr": "10.78.0.0/24"})
    assert sorted(n["hostname"] for n in lab["nodes"]) == hosts


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_topology_validates_or_fails_with_messages(topology):
    try:
        errors = model.validate(topology)
    except Exception as exc:  # pragma: no cover - the property under test
        raise AssertionError("validate() raised %s: %s on %r" % (type(exc).__name__, exc, topology))
    assert isinstance(errors, list)
    for message in errors:
        assert isinstance(message, str) and "\n" not in message and "Traceback" not in message
    if not errors:
        check_consistent(topology)


@settings(max_examples=200, deadline=None)
@given(st.one_of(JUNK, st.dictionaries(st.sampled_from(["networks", "routers", "nodes", "services", "x"]), JUNK)))
def test_any_value_at_all_gets_messages_not_exceptions(value):
    errors = model.validate(value)
    assert isinstance(errors, list) and all(isinstance(m, str) and "\n" not in m for m in errors)
    assert errors, "%r has no networks, so it cannot be usable" % (value,)


@st.composite
def grown(draw):
    """The default lab with extra nodes on its networks, at free host addresses: always usable."""
    topology = copy.deepcopy(DEFAULT)
    used = set(a for kind in ("routers", "nodes") for h in topology[kind].values() for a in h["interfaces"].values())
    for index in range(draw(st.integers(1, 4))):
        network = draw(st.sampled_from(sorted(topology["networks"])))
        subnet = ipaddress.ip_network(topology["networks"][network]["cidr"])
        address = str(subnet.network_address + draw(st.integers(2, subnet.num_addresses - 3)))
        if address in used:
            continue
        used.add(address)
        topology["nodes"]["extra%d" % index] = {"interfaces": {network: address}}
    return topology


@settings(max_examples=100, deadline=None)
@given(grown())
def test_a_grown_lab_is_usable_and_its_derived_views_agree(topology):
    assert model.validate(topology) == []
    check_consistent(topology)
    # A node added on pn3 reaches pn1 through rt2: the routing follows the topology, not a fixed list.
    for host, spec in topology["nodes"].items():
        if host.startswith("extra") and "pn3" in spec["interfaces"]:
            assert {"dest": "10.77.2.0/24", "via": "10.77.3.1", "network": "pn2"} in routing.routes(topology, host)
