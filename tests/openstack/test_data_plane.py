# -*- coding: utf-8 -*-
"""The data plane of the test cloud: real guests (libvirt/QEMU in emulation, Neutron linuxbridge,
L3, DHCP and metadata agents) from the image built by scripts/build-guest-image.sh.

The guests are the session's (guestlab.py): objective 8's VM, with a floating IP, and a server booted from its
snapshot, without one. Their boots are measured there (create -> ACTIVE -> SSH, memory). The data plane is part of the
test cloud unless VIRTLAB_OS_DATA_PLANE=0 turned it off: then these tests are skipped, saying so;
when it is on and broken, they fail with what is missing.
"""

import http.server
import subprocess
import threading

import pytest

from ansible_collections.virtlab.core.plugins.modules import openstack_server

from guestlab import O8_PREFIX
from guests import (GUEST_FLAVOR, GUEST_IMAGE, HOST_ADDRESS, KEY_PAIR, PUBLIC_BRIDGE, SSH_KEY,
                    fixed_ip_of, floating_ip_of, ping, report, ssh)

# A stand-in for "beyond this machine": a namespace joined to the machine by a veth pair.
BEYOND_NS, BEYOND_HOST_IF, BEYOND_NS_IF = "vt-beyond", "vt-bey0", "vt-bey1"
BEYOND_HOST, BEYOND_ADDRESS = "10.99.7.1", "10.99.7.2"


@pytest.fixture(scope="module")
def first_guest(objective8_vm):
    """Objective 8's VM, with its floating IP (guestlab.py: the session's guests)."""
    return objective8_vm


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"virtlab host answers\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


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


def test_image_that_does_not_boot_fails_with_the_fault(os_module, sdk, admin_sdk, lab, tmp_path):
    blob = tmp_path / "broken.qcow2"
    blob.write_bytes(b"this is not a disk image\n" * 4096)
    image = admin_sdk.create_image(O8_PREFIX + "broken", filename=str(blob),
                                   disk_format="qcow2", container_format="bare", visibility="public",
                                   wait=True, allow_duplicates=True, hypervisor_type="qemu")
    name = O8_PREFIX + "broken-vm"
    try:
        result = os_module(openstack_server, name=name, image=image.name, flavor=GUEST_FLAVOR,
                           networks=[{"network": O8_PREFIX + "net"}], timeout=300)
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


def test_server_still_building_at_the_deadline_is_a_timeout(os_module, sdk, lab):
    name = O8_PREFIX + "slow-vm"
    try:
        result = os_module(openstack_server, name=name, image=GUEST_IMAGE, flavor=GUEST_FLAVOR,
                           key_name=KEY_PAIR, networks=[{"network": O8_PREFIX + "net"}],
                           timeout=2)
        assert result["failed"], result
        assert result["msg"].startswith("Timed out after 2s waiting for"), result["msg"]
        report("slow build: the task failed with: %s" % result["msg"])
    finally:
        server = sdk.compute.find_server(name)
        if server is not None:
            sdk.compute.delete_server(server)
            sdk.compute.wait_for_delete(server, wait=120)


def test_machine_cannot_reach_a_guest_without_floating_ip(sdk, first_guest, snapshot_guest):
    """The server from objective 8's snapshot has no floating IP (it booted while the tests above ran)."""
    server, fixed = snapshot_guest["server"], snapshot_guest["fixed"]
    assert floating_ip_of(sdk, server) is None
    # The guest is up: its neighbour on the cloud network reaches it.
    assert ssh(first_guest["fip"], "ping -n -q -c 2 -W 2 " + fixed).returncode == 0
    # From this machine, the only way into the cloud is the external network, and on it the
    # guest has no address: nothing answers for it there.
    route = subprocess.run(["ip", "route", "get", fixed], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    assert " dev %s " % PUBLIC_BRIDGE not in route, route
    assert ping(fixed, interface=PUBLIC_BRIDGE).returncode != 0
    # ...while the guest reaches the machine (the one-way ping), through its router.
    out = ssh(fixed, "ping -n -q -c 2 -W 2 %s >/dev/null && echo ping-ok" % HOST_ADDRESS,
              jump=first_guest["fip"], timeout=90, check=True).stdout
    assert "ping-ok" in out, out
