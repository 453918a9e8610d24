# -*- coding: utf-8 -*-
"""Fixtures: one HTTPS PVE API double per test session, its state reset for every test."""

import os
import subprocess
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pve_double import PveDouble, PveServer, make_certificates  # noqa: E402
from pve_guests import PveGuests  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The bridge on the nodes' LAN answers DHCP (objective 6); an address range of the guests' own.
GUEST_BRIDGES = {"vmbr0": {"subnet": "10.81.0.0/24", "dhcp": True}}

TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


class Lab:
    """The double plus the connection options modules need to reach it."""

    def __init__(self, server, ca_path):
        self.double = server.double
        self.port = server.port
        self.ca_path = ca_path
        self.auth = dict(api_host="127.0.0.1", api_port=server.port, api_user="root@pam",
                         api_password="lab-password", ca_path=ca_path, timeout=10)

    def args(self, **options):
        merged = dict(self.auth)
        merged.update(options)
        return merged

    def ct_args(self, **options):
        """Options of a small DHCP CT on pve1, overridable."""
        merged = self.args(vmid=100, hostname="calc-cs", node="pve1", ostemplate=TEMPLATE,
                           storage="local-lvm", disk_size="8", cores=1, memory=512, swap=512,
                           unprivileged=True, password="lab-root-pw",
                           interfaces=[dict(bridge="vmbr0", ip="dhcp")])
        merged.update(options)
        return merged


@pytest.fixture(scope="session")
def pve_server(tmp_path_factory):
    ca_path, cert, key = make_certificates(str(tmp_path_factory.mktemp("pve-tls")))
    server = PveServer(PveDouble(), cert, key).start()
    yield server, ca_path
    server.stop()


@pytest.fixture
def pve(pve_server, monkeypatch):
    from ansible_collections.virtlab.core.plugins.module_utils.proxmox.base import ProxmoxModule

    server, ca_path = pve_server
    server.double.reset()
    # Short tasks and no 3 s wait on every bad login; test_proxmox_auth checks the real delay.
    server.double.task_duration = 0.05
    server.double.auth_failure_delay = 0.05
    monkeypatch.setattr(ProxmoxModule, "task_poll_interval", 0.02)
    for name in list(os.environ):
        if name.startswith("PROXMOX_"):
            monkeypatch.delenv(name)
    return Lab(server, ca_path)


@pytest.fixture
def api(pve):
    """proxmoxer on the double with the lab's API token: the API as a client sees it."""
    import proxmoxer

    token_id = "root@pam!virtlab"
    return proxmoxer.ProxmoxAPI("127.0.0.1", port=pve.port, user="root@pam",
                                token_name="virtlab", token_value=pve.double.tokens[token_id],
                                verify_ssl=pve.ca_path)


@pytest.fixture(scope="session")
def guest_image():
    """The guest image layer (built once, cached by the script's hash)."""
    run = subprocess.run(["bash", os.path.join(REPO, "scripts", "build-guest-container-image.sh")],
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip().splitlines()[-1]


@pytest.fixture
def pve_guests(pve, guest_image):
    """Guests on: every CT the double starts is a real systemd container (see pve_guests.py);
    all of this test's containers, networks and images are removed afterwards."""
    guests = PveGuests(guest_image, "vguest-%s-" % uuid.uuid4().hex[:6], GUEST_BRIDGES)
    pve.double.guests = guests
    pve.guests = guests
    yield guests
    pve.double.guests = None
    guests.cleanup()
