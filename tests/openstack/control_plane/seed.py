# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fill the test control plane with what a real cloud gives its users, idempotently.

    seed.py identity   service users, catalog endpoints, the test project and its user
    seed.py resources  the public (external) network, flavors, images, quotas
    seed.py verify     exit 0 only when a server could be scheduled and bound now (on the fake
                       host, and on the data plane when there is one)
    seed.py keypair    the test user's key pair holds the public key of VIRTLAB_OS_SSH_KEY

Run by scripts/openstack-control-plane.sh with Debian's Python and openstacksdk, with
OS_CLIENT_CONFIG_FILE pointing at the clouds.yaml it wrote and the service passwords in
the environment (VIRTLAB_OS_SERVICE_PASSWORD, VIRTLAB_OS_TEST_PASSWORD); VIRTLAB_OS_QEMU_HOST
names the data plane's compute host (empty: none), VIRTLAB_OS_SSH_KEY the private key whose
public half becomes the test user's key pair ``virtlab``.
"""

import os
import sys
import tempfile

import openstack

ADMIN_CLOUD = "virtlab-admin"
TEST_CLOUD = "virtlab-test"
REGION = "RegionOne"
SERVICE_PROJECT = "service"
TEST_PROJECT = "virtlab-test"
TEST_USER = "virtlab-test"
COMPUTE_HOST = os.environ.get("VIRTLAB_OS_COMPUTE_HOST", "virtlab-compute")
QEMU_HOST = os.environ.get("VIRTLAB_OS_QEMU_HOST", "")
SSH_KEY = os.environ.get("VIRTLAB_OS_SSH_KEY", "")
KEY_PAIR = "virtlab"
# The Neutron agents a data plane needs on its host.
DATA_PLANE_AGENTS = ["Linux bridge agent", "DHCP agent", "L3 agent", "Metadata agent"]

# name, type, URL of each service the tests use (all on loopback).
CATALOG = [
    ("glance", "image", "http://127.0.0.1:9292"),
    ("placement", "placement", "http://127.0.0.1:8778"),
    ("nova", "compute", "http://127.0.0.1:8774/v2.1"),
    ("neutron", "network", "http://127.0.0.1:9696"),
]

PUBLIC_NETWORK = "public"
PUBLIC_SUBNET = dict(name="public-subnet", cidr="172.24.4.0/24", gateway_ip="172.24.4.1",
                     allocation_pools=[{"start": "172.24.4.10", "end": "172.24.4.250"}])

FLAVORS = [  # name, vcpus, ram MiB, disk GiB
    ("m1.tiny", 1, 512, 1),
    ("m1.small", 1, 1024, 2),
    ("m1.medium", 2, 2048, 4),
]

# Images for the fake hypervisor: a few bytes, nothing boots; hypervisor_type=fake sends their
# servers to the fake compute host. (The bootable `debian-12` comes from build-guest-image.sh.)
FAKE_IMAGES = ["fake-debian-12"]
FAKE_PROPERTIES = {"hypervisor_type": "fake"}


def log(message):
    print("[seed] %s" % message, flush=True)


def identity(conn):
    service_password = os.environ["VIRTLAB_OS_SERVICE_PASSWORD"]
    test_password = os.environ["VIRTLAB_OS_TEST_PASSWORD"]
    service_project = ensure_project(conn, SERVICE_PROJECT)
    for name, service_type, url in CATALOG:
        ensure_user(conn, name, service_password, service_project, "admin")
        service = conn.identity.find_service(name)
        if service is None:
            service = conn.identity.create_service(name=name, type=service_type)
            log("service %s (%s)" % (name, service_type))
        endpoints = list(conn.identity.endpoints(service_id=service.id))
        for interface in ("public", "internal"):
            if not any(e.interface == interface for e in endpoints):
                conn.identity.create_endpoint(service_id=service.id, interface=interface,
                                              url=url, region_id=REGION)
                log("endpoint %s %s %s" % (name, interface, url))
    test_project = ensure_project(conn, TEST_PROJECT)
    ensure_user(conn, TEST_USER, test_password, test_project, "member")


def ensure_project(conn, name):
    project = conn.identity.find_project(name, domain_id="default")
    if project is None:
        project = conn.identity.create_project(name=name, domain_id="default")
        log("project %s" % name)
    return project


def ensure_user(conn, name, password, project, role_name):
    user = conn.identity.find_user(name, domain_id="default")
    if user is None:
        user = conn.identity.create_user(name=name, password=password, domain_id="default",
                                         default_project_id=project.id)
        log("user %s" % name)
    else:
        conn.identity.update_user(user, password=password)
    role = conn.identity.find_role(role_name)
    conn.grant_role(role.id, user=user.id, project=project.id)


def resources(conn):
    public = conn.network.find_network(PUBLIC_NETWORK)
    if public is None:
        public = conn.network.create_network(
            name=PUBLIC_NETWORK, is_router_external=True, is_shared=False,
            provider_network_type="flat", provider_physical_network="public")
        log("network %s" % PUBLIC_NETWORK)
    if conn.network.find_subnet(PUBLIC_SUBNET["name"], network_id=public.id) is None:
        conn.network.create_subnet(network_id=public.id, ip_version=4, is_dhcp_enabled=False,
                                   **PUBLIC_SUBNET)
        log("subnet %s" % PUBLIC_SUBNET["cidr"])
    for name, vcpus, ram, disk in FLAVORS:
        if conn.compute.find_flavor(name) is None:
            conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk)
            log("flavor %s" % name)
    for name in FAKE_IMAGES:
        image = conn.image.find_image(name)
        if image is not None and (image.status != "active" or any(
                getattr(image, k, None) != v for k, v in FAKE_PROPERTIES.items())):
            conn.image.delete_image(image)
            image = None
        if image is None:
            with tempfile.NamedTemporaryFile(suffix=".raw") as blob:
                blob.write(b"virtlab test image %s: a few bytes, nothing boots\n" % name.encode())
                blob.flush()
                conn.create_image(name, filename=blob.name, disk_format="raw",
                                  container_format="bare", visibility="public", wait=True,
                                  allow_duplicates=True, **FAKE_PROPERTIES)
            log("image %s" % name)
    # Images of earlier versions of this seed: fakes under real names would hide the real ones.
    for image in conn.image.images():
        if image.name == "alpine-3.20" and not image.properties.get("virtlab_build"):
            conn.image.delete_image(image)
            log("deleted the old fake image %s" % image.name)
    project = conn.identity.find_project(TEST_PROJECT, domain_id="default")
    conn.set_compute_quotas(project.id, instances=50, cores=100, ram=204800)
    conn.set_network_quotas(project.id, network=50, subnet=50, router=20, floatingip=50,
                            port=500, security_group=50, security_group_rule=500)
    if SSH_KEY:
        key_pair(SSH_KEY + ".pub")


def key_pair(path):
    """The test user's key pair `virtlab` holds the public key at path (key pairs are per user)."""
    with open(path) as handle:
        public_key = handle.read().strip()
    test = openstack.connect(cloud=TEST_CLOUD)
    existing = test.compute.find_keypair(KEY_PAIR)
    if existing is not None and existing.public_key.strip() != public_key:
        test.compute.delete_keypair(existing)
        existing = None
    if existing is None:
        test.compute.create_keypair(name=KEY_PAIR, public_key=public_key)
        log("key pair %s" % KEY_PAIR)


def verify(conn):
    """Fail unless nova-compute is up and its host has a live Open vSwitch agent."""
    problems = []
    computes = [s for s in conn.compute.services() if s.binary == "nova-compute"]
    if not any(s.host == COMPUTE_HOST and s.state == "up" for s in computes):
        problems.append("nova-compute on %s is not up (%s)"
                        % (COMPUTE_HOST, [(s.host, s.state) for s in computes]))
    agents = list(conn.network.agents(host=COMPUTE_HOST))
    if not any(a.is_alive and a.agent_type == "Open vSwitch agent" for a in agents):
        problems.append("no live Open vSwitch agent on %s" % COMPUTE_HOST)
    hypervisors = [h.name for h in conn.compute.hypervisors()]
    if not hypervisors:
        problems.append("no hypervisor yet (cell_v2 discover_hosts not done)")
    if QEMU_HOST:
        if not any(s.host == QEMU_HOST and s.state == "up" for s in computes):
            problems.append("nova-compute on %s (libvirt) is not up" % QEMU_HOST)
        if len(hypervisors) < 2:
            problems.append("the data plane's hypervisor is not mapped yet (%s)" % hypervisors)
        alive = set(a.agent_type for a in conn.network.agents(host=QEMU_HOST) if a.is_alive)
        missing = [t for t in DATA_PLANE_AGENTS if t not in alive]
        if missing:
            problems.append("no live %s on %s" % (", ".join(missing), QEMU_HOST))
    if problems:
        log("not ready: " + "; ".join(problems))
        return 1
    return 0


def main():
    phase = sys.argv[1]
    conn = openstack.connect(cloud=ADMIN_CLOUD)
    if phase == "identity":
        identity(conn)
    elif phase == "resources":
        resources(conn)
    elif phase == "verify":
        return verify(conn)
    elif phase == "keypair":
        # A warm start from another clone has another key: the key pair follows the clone's key.
        if SSH_KEY:
            key_pair(SSH_KEY + ".pub")
    else:
        raise SystemExit("unknown phase %r" % phase)
    return 0


if __name__ == "__main__":
    sys.exit(main())
