# -*- coding: utf-8 -*-
"""The data plane of the test cloud: real guests (libvirt/QEMU in emulation, Neutron linuxbridge,
L3, DHCP and metadata agents) from the image built by scripts/build-guest-image.sh.

Each test prints what it measured (create -> ACTIVE -> SSH, memory). The data plane is part of the
test cloud unless VIRTLAB_OS_DATA_PLANE=0 turned it off: then these tests are skipped, saying so;
when it is on and broken, they fail with what is missing.
"""

import http.server
import os
import subprocess
import threading
import time

import pytest

from ansible_collections.virtlab.core.plugins.modules import openstack_server

from conftest import PUBLIC_NETWORK
from guests import (GUEST_FLAVOR, GUEST_IMAGE, HOST_ADDRESS, KEY_PAIR, PUBLIC_BRIDGE, SSH_KEY,
                    console_tail, fixed_ip_of, floating_ip_of, guest_rss_mib, mem_available_mib,
                    ping, report, ssh, wait_active, wait_ssh, wait_until)

CIDR = "10.96.0.0/24"
# A stand-in for "beyond this machine": a namespace joined to the machine by a veth pair.
BEYOND_NS, BEYOND_HOST_IF, BEYOND_NS_IF = "vt-beyond", "vt-bey0", "vt-bey1"
BEYOND_HOST, BEYOND_ADDRESS = "10.99.7.1", "10.99.7.2"


@pytest.fixture(scope="module")
def guest_net(data_plane, sdk):
    """A network with a router to `public` and a security group open to SSH and ICMP."""
    net = sdk.network
    stamp = "vtdp%d-" % os.getpid()
    network = net.create_network(name=stamp + "net")
    subnet = net.create_subnet(network_id=network.id, name=stamp + "subnet", ip_version=4,
                               cidr=CIDR, gateway_ip="10.96.0.1")
    router = net.create_router(name=stamp + "rt", external_gateway_info={
        "network_id": net.find_network(PUBLIC_NETWORK).id})
    net.add_interface_to_router(router, subnet_id=subnet.id)  # noqa
    group = net.create_security_group(name=stamp + "sg")
    for rule in ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
                 {"protocol": "icmp"}):
        net.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                       ethertype="IPv4", remote_ip_prefix="0.0.0.0/0", **rule)
    env = {"stamp": stamp, "network": network, "router": router, "group": group, "servers": []}
    yield env
    for server in env["servers"]:
        ports = [p.id for p in net.ports(device_id=server.id)]
        for ip in list(net.ips()):
            if ip.port_id in ports:
                net.delete_ip(ip)
        sdk.compute.delete_server(server, ignore_missing=True)
    for server in env["servers"]:
        sdk.compute.wait_for_delete(server, wait=180)
    net.remove_interface_from_router(router, subnet_id=subnet.id)
    net.delete_router(router)
    net.delete_network(network)
    net.delete_security_group(group)


def boot(sdk, env, name):
    """Create a guest; returns (server, the monotonic time of the create call)."""
    started = time.monotonic()
    server = sdk.compute.create_server(
        name=env["stamp"] + name, image_id=sdk.image.find_image(GUEST_IMAGE).id,
        flavor_id=sdk.compute.find_flavor(GUEST_FLAVOR).id, key_name=KEY_PAIR,
        networks=[{"uuid": env["network"].id}], security_groups=[{"name": env["group"].name}])
    env["servers"].append(server)
    return server, started


def activate(sdk, server, started, floating=True):
    server = wait_active(sdk, server.id)
    active = time.monotonic() - started
    fip = None
    if floating:
        port = next(iter(sdk.network.ports(device_id=server.id)))
        fip = sdk.network.create_ip(floating_network_id=sdk.network.find_network(PUBLIC_NETWORK).id,
                                    port_id=port.id).floating_ip_address
    return server, active, fip


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"virtlab host answers\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def first_guest(sdk, guest_net):
    """One guest alone on the data plane, with a floating IP: the measured boot."""
    before = mem_available_mib()
    server, started = boot(sdk, guest_net, "one")
    server, active, fip = activate(sdk, server, started)
    try:
        wait_ssh(fip)
    except AssertionError as exc:
        raise AssertionError("%s\nconsole:\n%s" % (exc, console_tail(sdk, server)))
    to_ssh = time.monotonic() - started
    rss = guest_rss_mib()
    report("one guest: server create -> ACTIVE %.0fs, -> SSH on its floating IP %s %.0fs; "
           "host memory used +%d MiB (QEMU resident %s MiB); load average %s"
           % (active, fip, to_ssh, before - mem_available_mib(), sorted(rss.values()),
              " ".join(open("/proc/loadavg").read().split()[:3])))
    # The guest without a floating IP boots while the next tests run (its test comes last).
    second, second_started = boot(sdk, guest_net, "nofip")
    return {"server": server, "fip": fip, "second": second, "second_started": second_started}


def test_guest_boots_and_answers_ssh_on_its_floating_ip(sdk, first_guest):
    server, fip = first_guest["server"], first_guest["fip"]
    assert ping(fip).returncode == 0, "no ping answer from %s" % fip
    # cloud-init did its job: the host name, the key pair's key (we are logged in with it).
    hostname = ssh(fip, "hostname", check=True).stdout.strip()
    assert hostname == server.name
    keys = ssh(fip, "cat ~/.ssh/authorized_keys", check=True).stdout
    assert open(SSH_KEY + ".pub").read().split()[1] in keys
    # What the lab's roles need is in the image: systemd, Node.js, Python, sudo.
    facts = ssh(fip, "ps -p 1 -o comm=; node --version; python3 --version; sudo -n true && echo sudo-ok",
                check=True).stdout.split("\n")
    assert facts[0] == "systemd" and facts[1].startswith("v") and facts[2].startswith("Python 3")
    assert "sudo-ok" in facts
    # The guest's address came from Neutron's DHCP; the config drive was there.
    addresses = ssh(fip, "ip -4 -o addr show dev eth0", check=True).stdout
    assert fixed_ip_of(sdk.compute.get_server(server.id)) in addresses


def test_guest_reaches_this_machine(first_guest):
    fip = first_guest["fip"]
    server = http.server.HTTPServer((HOST_ADDRESS, 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = ssh(fip, "ping -n -q -c 2 -W 2 %s >/dev/null && echo ping-ok; "
                       "curl -s -m 10 http://%s:%d/" % (HOST_ADDRESS, HOST_ADDRESS, server.server_port),
                  check=True).stdout
    finally:
        server.shutdown()
    assert "ping-ok" in out and "virtlab host answers" in out, out


@pytest.fixture
def beyond():
    """A namespace behind a veth on this machine, outside the cloud: 'beyond the machine'."""
    def run(*args):
        subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    subprocess.run(["ip", "netns", "delete", BEYOND_NS], stderr=subprocess.DEVNULL, check=False)
    subprocess.run(["ip", "link", "delete", BEYOND_HOST_IF], stderr=subprocess.DEVNULL, check=False)
    run("ip", "netns", "add", BEYOND_NS)
    run("ip", "link", "add", BEYOND_HOST_IF, "type", "veth", "peer", "name", BEYOND_NS_IF)
    run("ip", "link", "set", BEYOND_NS_IF, "netns", BEYOND_NS)
    run("ip", "addr", "add", BEYOND_HOST + "/30", "dev", BEYOND_HOST_IF)
    run("ip", "link", "set", BEYOND_HOST_IF, "up")
    run("ip", "netns", "exec", BEYOND_NS, "ip", "addr", "add", BEYOND_ADDRESS + "/30", "dev", BEYOND_NS_IF)
    run("ip", "netns", "exec", BEYOND_NS, "ip", "link", "set", BEYOND_NS_IF, "up")
    run("ip", "netns", "exec", BEYOND_NS, "ip", "route", "add", "default", "via", BEYOND_HOST)
    yield BEYOND_ADDRESS
    subprocess.run(["ip", "netns", "delete", BEYOND_NS], check=False)
    subprocess.run(["ip", "link", "delete", BEYOND_HOST_IF], stderr=subprocess.DEVNULL, check=False)


def test_guests_reach_nothing_beyond_this_machine(first_guest, beyond):
    fip = first_guest["fip"]
    assert ping(beyond).returncode == 0, "the machine itself should reach %s" % beyond
    command = "ping -n -q -c 2 -W 2 %s >/dev/null && echo reached || echo blocked" % beyond
    assert ssh(fip, command, check=True).stdout.strip() == "blocked"
    # The control: let exactly this path through, above the guard rule, and the ping passes, so
    # it was the guard rule that stopped it (and not a missing route).
    allow = [["-i", PUBLIC_BRIDGE, "-o", BEYOND_HOST_IF, "-j", "ACCEPT"],
             ["-i", BEYOND_HOST_IF, "-o", PUBLIC_BRIDGE, "-j", "ACCEPT"]]
    for rule in allow:
        subprocess.run(["iptables", "-w", "-I", "FORWARD", "1"] + rule, check=True)
    try:
        assert ssh(fip, command, check=True).stdout.strip() == "reached"
    finally:
        for rule in allow:
            subprocess.run(["iptables", "-w", "-D", "FORWARD"] + rule, check=True)


def test_image_that_does_not_boot_fails_with_the_fault(os_module, sdk, admin_sdk, guest_net, tmp_path,
                                                       data_plane):
    blob = tmp_path / "broken.qcow2"
    blob.write_bytes(b"this is not a disk image\n" * 4096)
    image = admin_sdk.create_image(guest_net["stamp"] + "broken", filename=str(blob),
                                   disk_format="qcow2", container_format="bare", visibility="public",
                                   wait=True, allow_duplicates=True, hypervisor_type="qemu")
    name = guest_net["stamp"] + "broken-vm"
    try:
        result = os_module(openstack_server, name=name, image=image.name, flavor=GUEST_FLAVOR,
                           networks=[{"network": guest_net["network"].name}], timeout=300)
        assert result["failed"], result
        server = sdk.compute.find_server(name)
        assert server is not None
        server = sdk.compute.get_server(server.id)
        assert server.status == "ERROR" and server.fault and server.fault.get("message")
        assert "is in ERROR" in result["msg"] and server.fault["message"] in result["msg"], result["msg"]
        report("bad image: the task failed with: %s" % result["msg"])
    finally:
        server = sdk.compute.find_server(name)
        if server is not None:
            sdk.compute.delete_server(server)
            sdk.compute.wait_for_delete(server, wait=120)
        admin_sdk.image.delete_image(image)


def test_server_still_building_at_the_deadline_is_a_timeout(os_module, sdk, guest_net):
    name = guest_net["stamp"] + "slow-vm"
    try:
        result = os_module(openstack_server, name=name, image=GUEST_IMAGE, flavor=GUEST_FLAVOR,
                           key_name=KEY_PAIR, networks=[{"network": guest_net["network"].name}],
                           timeout=2)
        assert result["failed"], result
        assert result["msg"].startswith("Timed out after 2s waiting for"), result["msg"]
        report("slow build: the task failed with: %s" % result["msg"])
    finally:
        server = sdk.compute.find_server(name)
        if server is not None:
            sdk.compute.delete_server(server)
            sdk.compute.wait_for_delete(server, wait=120)


def test_machine_cannot_reach_a_guest_without_floating_ip(sdk, guest_net, first_guest):
    server, started = first_guest["second"], first_guest["second_started"]
    server, active, unused_floating = activate(sdk, server, started, floating=False)
    fixed = fixed_ip_of(server)
    assert floating_ip_of(sdk, server) is None
    # The guest is up: its neighbour on the cloud network reaches it.
    wait_until("%s answering %s's ping" % (first_guest["fip"], fixed),
               lambda: ssh(first_guest["fip"], "ping -n -q -c 1 -W 2 " + fixed).returncode == 0,
               timeout=300)
    report("second guest (no floating IP): ACTIVE %.0fs, answers its neighbour %.0fs after create"
           % (active, time.monotonic() - started))
    # From this machine, the only way into the cloud is the external network, and on it the
    # guest has no address: nothing answers for it there.
    route = subprocess.run(["ip", "route", "get", fixed], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    assert " dev %s " % PUBLIC_BRIDGE not in route, route
    assert ping(fixed, interface=PUBLIC_BRIDGE).returncode != 0
    # ...while the guest reaches the machine (the one-way ping), through its router.
    # (its sshd comes up a little after its network)
    out = wait_until("SSH to %s through %s" % (fixed, first_guest["fip"]), lambda: ssh(
        fixed, "ping -n -q -c 2 -W 2 %s >/dev/null && echo ping-ok" % HOST_ADDRESS,
        jump=first_guest["fip"], timeout=90).stdout, timeout=240, interval=5)
    assert "ping-ok" in out


@pytest.mark.skipif(os.environ.get("VIRTLAB_OS_MEASURE_FIVE") != "1",
                    reason="five guests at once take about five minutes: VIRTLAB_OS_MEASURE_FIVE=1 measures them")
def test_five_guests_at_once(sdk, guest_net):
    """Five guests created together: create -> ACTIVE and -> SSH for each, and the memory they cost."""
    before = mem_available_mib()
    started = {}
    servers = []
    for index in range(5):
        server, start = boot(sdk, guest_net, "five-%d" % index)
        servers.append(server)
        started[server.id] = start
    fips, active = {}, {}
    for server in servers:
        server, seconds, fip = activate(sdk, server, started[server.id])
        active[server.id], fips[server.id] = seconds, fip
    to_ssh = {}
    for server in servers:
        wait_ssh(fips[server.id], timeout=720)
        to_ssh[server.id] = time.monotonic() - started[server.id]
    used = before - mem_available_mib()
    rss = guest_rss_mib()
    report("five guests: create -> ACTIVE %s s, -> SSH %s s; host memory used +%d MiB (%.0f MiB a "
           "guest; QEMU resident %s MiB)"
           % (sorted(int(v) for v in active.values()), sorted(int(v) for v in to_ssh.values()),
              used, used / 5.0, sorted(rss.values())))
    for server in servers:
        assert ssh(fips[server.id], "hostname", check=True).stdout.strip() == server.name
