"""The topology's picture (module_utils/topology/picture.py) and the committed docs/lab.* that README shows."""

import os
import re

import yaml

from ansible_collections.virtlab.core.plugins.module_utils.topology.picture import fingerprint, to_dot

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(REPO, "docs")
with open(os.path.join(REPO, "inventories", "docker", "group_vars", "all", "topology.yml")) as handle:
    INVENTORY = yaml.safe_load(handle)
LAB = INVENTORY["virtlab_topology"]


def test_every_network_host_address_and_service_is_drawn():
    dot = to_dot(LAB, outside_host="outside")
    for name, spec in LAB["networks"].items():
        assert '"net:%s"' % name in dot and spec["cidr"] in dot
    for kind in ("routers", "nodes"):
        for host, spec in LAB[kind].items():
            for network, address in spec["interfaces"].items():
                assert ('"%s" -- "net:%s" [label="%s"]' % (host, network, address) in dot
                        or '"net:%s" -- "%s" [label="%s"]' % (network, host, address) in dot)
    for name, spec in LAB["services"].items():
        assert "%s :%s" % (name, spec["port"]) in dot
    assert '"outside" [shape=house' in dot and "(router)" in dot


def test_broken_paths_are_red_arrows_to_the_service_node():
    broken = [{"src": "cs", "service": "sum", "address": "10.77.3.11", "port": 50001, "detail": "timed out"}]
    dot = to_dot(LAB, outside_host="outside", broken=broken)
    edge = [line for line in dot.splitlines() if "color=red" in line]
    assert len(edge) == 1 and edge[0].startswith('  "cs" -- "sum"') and "timed out" in edge[0]
    assert fingerprint(dot) != fingerprint(to_dot(LAB, outside_host="outside"))


def test_the_committed_picture_matches_the_topology():
    """README shows docs/lab.svg: it must be the rendering of today's topology
    (regenerate with `ansible-playbook playbooks/picture.yml`)."""
    dot = to_dot(LAB, outside_host=INVENTORY["virtlab_outside_host"])
    with open(os.path.join(DOCS, "lab.dot")) as handle:
        assert handle.read() == dot, "docs/lab.dot is stale: run ansible-playbook playbooks/picture.yml"
    with open(os.path.join(DOCS, "lab.svg")) as handle:
        svg = handle.read()
    assert re.search(r"virtlab topology %s" % fingerprint(dot), svg), "docs/lab.svg was not rendered from docs/lab.dot"
    with open(os.path.join(DOCS, "lab.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
