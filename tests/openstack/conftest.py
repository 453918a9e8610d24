# -*- coding: utf-8 -*-
"""Tests against a real OpenStack control plane on this machine (no mocks).

The session starts the control plane with scripts/openstack-control-plane.sh (installing it
on the first run, a few seconds when it already runs). When it cannot start, every test
FAILS with the script's reason: a missing cloud is never a skipped test.

Each test names its resources with a prefix unique to the session and deletes them, even
when it fails, with the ``cleanup`` fixture.
"""

import os
import subprocess
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "openstack-control-plane.sh")
CLOUDS_YAML = os.environ.get("VIRTLAB_OS_CLOUDS_YAML",
                             os.path.join(REPO, ".cache", "openstack", "clouds.yaml"))
SSH_KEY = os.path.join(os.path.dirname(CLOUDS_YAML), "id_ed25519")
TEST_CLOUD = "virtlab-test"
ADMIN_CLOUD = "virtlab-admin"
# The fake hypervisor's image (servers reach ACTIVE at once, nothing boots): the API tests.
IMAGE = "fake-debian-12"
# The data plane's: a bootable Debian built by scripts/build-guest-image.sh.
GUEST_IMAGE = "debian-12"
KEY_PAIR = "virtlab"
QEMU_HOST = "virtlab-qemu"
FLAVOR = "m1.tiny"
BIGGER_FLAVOR = "m1.small"
PUBLIC_NETWORK = "public"


@pytest.fixture(scope="session")
def control_plane():
    """Start (or find running) the control plane; fail every test with the reason if it can't."""
    started = time.monotonic()
    env = dict(os.environ, VIRTLAB_OS_CLOUDS_YAML=CLOUDS_YAML)
    try:
        proc = subprocess.run(["bash", SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=1800,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail("the OpenStack control plane did not start within 30 min:\n%s"
                    % (exc.output or "")[-3000:], pytrace=False)
    if proc.returncode != 0:
        pytest.fail("the OpenStack control plane could not start (exit %s):\n%s"
                    % (proc.returncode, proc.stdout[-3000:]), pytrace=False)
    os.environ["OS_CLIENT_CONFIG_FILE"] = CLOUDS_YAML
    for name in [n for n in os.environ if n.startswith("OS_") and n != "OS_CLIENT_CONFIG_FILE"]:
        del os.environ[name]  # a user's sourced RC file must not redirect the tests
    last = proc.stdout.strip().splitlines()[-1]
    print("\ncontrol plane ready in %.0fs:\n%s" % (time.monotonic() - started, last))
    MEASUREMENTS.append("cloud start (%s): ready in %.0fs"
                        % ("warm" if "already running" in last else "cold", time.monotonic() - started))
    return CLOUDS_YAML


@pytest.fixture(scope="session")
def sdk(control_plane):
    """An openstacksdk connection as the test user: the tests' own view of the cloud.

    The project virtlab-test belongs to the tests: whatever an interrupted earlier run left
    there is removed first, so that it cannot collide with this run (overlapping CIDRs...).
    """
    import openstack
    conn = openstack.connect(cloud=TEST_CLOUD)
    empty_test_project(conn)
    yield conn
    conn.close()


def empty_test_project(conn):
    net, compute = conn.network, conn.compute
    project = conn.current_project_id
    for ip in net.ips(project_id=project):
        net.delete_ip(ip)
    servers = list(compute.servers())
    for server in servers:
        compute.delete_server(server)
    for server in servers:
        compute.wait_for_delete(server, wait=120)
    for image in conn.image.images(owner=project):
        if image.visibility != "public":
            conn.image.delete_image(image)
    for keypair in compute.keypairs():
        if keypair.name != KEY_PAIR:   # the test cloud's own, seeded by the control plane
            compute.delete_keypair(keypair)
    for router in net.routers(project_id=project):
        net.update_router(router, routes=[])
        for port in net.ports(device_id=router.id, device_owner="network:router_interface"):
            net.remove_interface_from_router(router, None, port.id)
        net.delete_router(router)
    for network in net.networks(project_id=project):
        for port in net.ports(network_id=network.id):
            net.delete_port(port)
        net.delete_network(network)
    for group in net.security_groups(project_id=project):
        if group.name != "default":
            net.delete_security_group(group)


@pytest.fixture(scope="session")
def admin_sdk(control_plane):
    import openstack
    return openstack.connect(cloud=ADMIN_CLOUD)


DATA_PLANE = os.environ.get("VIRTLAB_OS_DATA_PLANE", "1") != "0"
DATA_PLANE_AGENTS = ["Linux bridge agent", "DHCP agent", "L3 agent", "Metadata agent"]


@pytest.fixture(scope="session")
def data_plane(control_plane, admin_sdk):
    """The data plane is there and usable (the bootable image, the agents, the QEMU host).

    Skips, saying so, when VIRTLAB_OS_DATA_PLANE=0 turned it off; fails with what is missing when
    it is on and broken."""
    if not DATA_PLANE:
        pytest.skip("the data plane is turned off (VIRTLAB_OS_DATA_PLANE=0)")
    problems = []
    image = admin_sdk.image.find_image(GUEST_IMAGE)
    if image is None or image.status != "active" or image.hypervisor_type != "qemu" \
            or not image.kernel_id:
        problems.append("no bootable image %s (see /var/log/virtlab-openstack/guest-image.log)"
                        % GUEST_IMAGE)
    alive = set(a.agent_type for a in admin_sdk.network.agents() if a.is_alive)
    problems += ["no live %s" % agent for agent in DATA_PLANE_AGENTS if agent not in alive]
    computes = [s for s in admin_sdk.compute.services() if s.binary == "nova-compute"]
    if not any(s.host == QEMU_HOST and s.state == "up" for s in computes):
        problems.append("nova-compute on %s is not up" % QEMU_HOST)
    if not os.path.isfile(SSH_KEY):
        problems.append("no SSH key %s" % SSH_KEY)
    if problems:
        pytest.fail("the data plane was started but is not usable: " + "; ".join(problems),
                    pytrace=False)
    return image


@pytest.fixture(scope="session")
def prefix():
    return "vt%s-" % uuid.uuid4().hex[:6]


@pytest.fixture
def cloud(control_plane):
    """The connection options every module call takes."""
    return {"cloud": TEST_CLOUD}


@pytest.fixture
def os_module(run_module, cloud):
    """run(module, check_mode=False, diff=False, **args): a module run against the test cloud."""
    def run(module, check_mode=False, diff=False, **args):
        full = dict(cloud)
        full.update(args)
        return run_module(module, full, check_mode=check_mode, diff=diff)
    return run


@pytest.fixture
def cleanup(sdk):
    """Register deletions (callables) that run after the test, last registered first."""
    actions = []
    yield actions.append
    errors = []
    for action in reversed(actions):
        try:
            action()
        except Exception as exc:  # pylint: disable=broad-except
            errors.append("%s: %s" % (type(exc).__name__, exc))
    assert not errors, "cleanup failed: %s" % errors


MEASUREMENTS = []


def pytest_terminal_summary(terminalreporter):
    """What the tests with real guests measured (boot times, memory), even under -q."""
    if MEASUREMENTS:
        terminalreporter.section("data plane measurements")
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)


def pytest_configure(config):
    # openstacksdk's own deprecation notices about its internals say nothing about the modules.
    config.addinivalue_line("filterwarnings", "ignore::Warning:openstack.*")


# The session's real guests (the calculator lab, objective 8's VM and a server from its snapshot), shared by
# every test file: imported last, since guestlab imports this module's names.
from guestlab import lab, lab_build, lab_build_first, objective8_vm, snapshot_guest  # noqa: E402,F401 pylint: disable=wrong-import-position,unused-import


def pytest_collection_modifyitems(items):
    """The tests of the real guests last (in their files' order): the lab builds in the background meanwhile."""
    items.sort(key=lambda item: "lab" in item.fixturenames)
