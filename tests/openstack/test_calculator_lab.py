# -*- coding: utf-8 -*-
"""The calculator lab (objectives 9-11) on real guests, as a user builds it:
``ansible-playbook -i inventories/openstack site.yml``, then what a user relies on: the topology as OpenStack
resources (networks, Neutron routers, servers at their addresses, one floating IP), the calculator answers on the
CS's floating IP, the operation services do not answer from the machine, a route deleted inside the CS is shown by
--check --diff and the second run (the whole site.yml, objective 8 included) repairs it and changes nothing else,
a new shell reaches every server through the inventory, and ``playbooks/destroy.yml`` removes it all (the ``lab``
fixture's finaliser, asserted, and idempotent).

One lab per session, shared with objective 8's tests (guestlab.py: five guests under emulation take minutes to
boot).
"""

import json
import os
import re
import socket
import subprocess
import urllib.request

import pytest

from conftest import REPO, TEST_CLOUD
from guestlab import OPERATIONS, PREFIX, SERVERS, SITE
from guests import ssh
from test_playbooks import INVENTORY, playbook, recap

PN3, RT2_PN2 = "10.177.3.0/24", "10.177.2.1"


def test_site_yml_builds_the_lab_and_checks_the_matrix(lab, sdk):
    counts = recap(lab["output"])
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values()), lab["output"][-4000:]
    # Routers and outside are no servers; the in-guest plays ran on the five servers only.
    assert sorted(h for h in counts if h in SERVERS) == sorted(SERVERS)
    for name in ("rt1", "rt2", "outside"):
        assert sdk.compute.find_server(PREFIX + name) is None
    # The matrix's table: the machine (outside) reached the calculator on the floating IP, not pn3.
    assert re.search(r"outside\s+calculator\s+%s:50000\s+reachable\s+ok" % re.escape(lab["fip"]),
                     lab["output"]), lab["output"][-4000:]
    for service, (address, port) in OPERATIONS.items():
        assert re.search(r"outside\s+%s\s+%s:%d\s+blocked\s+ok" % (service, re.escape(address), port),
                         lab["output"]), lab["output"][-4000:]
        assert re.search(r"cs\s+%s\s+%s:%d\s+reachable\s+ok" % (service, re.escape(address), port),
                         lab["output"]), lab["output"][-4000:]


def test_the_lab_on_openstack_is_the_topology(lab, sdk):
    """What provision_openstack made of the topology: PN2's subnet without a gateway, RT1 a Neutron router with the
    external gateway, RT2 joining PN2 and PN3, the servers at their topology addresses, the CS alone with a
    floating IP, and the state file a new shell reads (the CS on its floating IP, the others through it)."""
    net = sdk.network
    subnets = dict((s.name, s) for s in net.subnets() if s.name and s.name.startswith(PREFIX))
    assert sorted(subnets) == [PREFIX + "pn1-subnet", PREFIX + "pn2-subnet", PREFIX + "pn3-subnet"]
    assert subnets[PREFIX + "pn1-subnet"].gateway_ip == "10.177.1.1"
    assert subnets[PREFIX + "pn2-subnet"].gateway_ip is None
    assert subnets[PREFIX + "pn3-subnet"].gateway_ip == "10.177.3.1"

    def router_ips(name):
        router = net.find_router(PREFIX + name)
        return router, sorted(f["ip_address"] for p in net.ports(device_id=router.id)
                              if p.device_owner == "network:router_interface" for f in p.fixed_ips)
    rt1, rt1_ips = router_ips("rt1")
    assert rt1.external_gateway_info["network_id"] == net.find_network("public").id and rt1_ips == ["10.177.1.1"]
    rt2, rt2_ips = router_ips("rt2")
    assert not rt2.external_gateway_info and rt2_ips == ["10.177.2.1", "10.177.3.1"]

    def fixed_addresses(host):
        server = sdk.compute.get_server(sdk.compute.find_server(PREFIX + host).id)
        return sorted(a["addr"] for entries in server.addresses.values() for a in entries
                      if a.get("OS-EXT-IPS:type") != "floating")
    assert fixed_addresses("cs") == ["10.177.1.10", "10.177.2.10"]
    for service, (address, unused_port) in OPERATIONS.items():
        assert fixed_addresses(service) == [address]
    floating = dict((ip.fixed_ip_address, ip.floating_ip_address) for ip in net.ips() if ip.port_id)
    assert floating.get("10.177.1.10") == lab["fip"]
    assert not set(floating) & set(address for address, unused_port in OPERATIONS.values())
    assert lab["state"] == {"jump_host": "cs", "nat": {"10.177.1.10": lab["fip"]},
                            "hosts": dict([("cs", lab["fip"])] + [(service, address) for service, (address, unused_port)
                                                                  in OPERATIONS.items()])}


def test_calculator_answers_on_the_floating_ip(lab):
    request = urllib.request.Request("http://%s:50000" % lab["fip"], data=b"(5+6)*2", method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.read().decode().strip().startswith("result = 22")


@pytest.mark.parametrize("service", sorted(OPERATIONS))
def test_operation_services_do_not_answer_from_the_machine(lab, service):
    address, port = OPERATIONS[service]
    with pytest.raises(OSError):
        socket.create_connection((address, port), timeout=2).close()
    # ... while the CS reaches each of them, through RT2.
    answer = ssh(lab["fip"], "curl -s -m 10 -d '6 3' -X POST http://%s:%d" % (address, port), timeout=90,
                 check=True)
    assert answer.stdout.strip() == {"sum": "9", "sub": "3", "mul": "18", "div": "2"}[service]


def test_deleted_route_is_shown_then_repaired_alone_and_nothing_else_changes(lab):
    """The lab's second run: a route deleted inside the CS is shown by --check --diff, and the whole site.yml
    (objective 8 on its real VM included) repairs it and changes nothing else - the idempotence of every other
    task of the lab, in the same run."""
    ssh(lab["fip"], "sudo ip route del %s" % PN3, check=True)
    # The CS alone (and the controller, for objective 8's check): the other servers are reached through the CS,
    # on the very route that is missing (a check of all of them finds them unreachable until a real run has put
    # it back).
    checked = playbook(SITE, "--check", "--diff", "--limit", "cs,localhost", **lab["extra"])
    assert PN3 in checked and RT2_PN2 in checked, checked[-4000:]
    counts = recap(checked)
    assert counts["cs"]["changed"] == 1 and counts["localhost"]["changed"] == 0, checked[-4000:]
    assert "%s via" % PN3 not in ssh(lab["fip"], "ip route", check=True).stdout, "check mode changed the CS"

    repaired = playbook(SITE, **lab["extra"])
    counts = recap(repaired)
    assert counts["cs"]["changed"] == 1, repaired[-4000:]
    assert all(c["failed"] == 0 and c["changed"] == 0 for host, c in counts.items() if host != "cs"), \
        repaired[-4000:]
    routes = ssh(lab["fip"], "ip route", check=True).stdout
    assert "%s via %s" % (PN3, RT2_PN2) in routes, routes


def test_a_new_shell_reaches_every_server_through_the_inventory(lab):
    """No play state: the inventory alone (the state file provision_openstack wrote) finds the servers."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), OS_CLOUD=TEST_CLOUD,
               ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [os.path.join(REPO, ".venv", "bin", "ansible"), "-i", INVENTORY, "servers", "-m", "ansible.builtin.ping",
         "-e", json.dumps(lab["extra"])],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
        timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    for host in SERVERS:
        assert "%s | SUCCESS" % host in proc.stdout, proc.stdout[-4000:]
