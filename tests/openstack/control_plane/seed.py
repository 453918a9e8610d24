# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fill the test control plane with what a real cloud gives its users, idempotently.

    seed.py identity   service users, catalog endpoints, the test project and its user
    seed.py resources  the public (external) network, flavors, images, quotas
    seed.py verify     exit 0 only when a server could be scheduled and bound now

Run by scripts/openstack-control-plane.sh with Debian's Python and openstacksdk, with
OS_CLIENT_CONFIG_FILE pointing at the clouds.yaml it wrote and the service passwords in
the environment (VIRTLAB_OS_SERVICE_PASSWORD, VIRTLAB_OS_TEST_PASSWORD).
"""

import os
import sys
import tempfile

import openstack

ADMIN_CLOUD = "virtlab-admin"
REGION = "RegionOne"
SERVICE_PROJECT = "service"
TEST_PROJECT = "virtlab-test"
TEST_USER = "virtlab-test"
COMPUTE_HOST = os.environ.get("VIRTLAB_OS_COMPUTE_HOST", "virtlab-compute")

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

# Images named like a real cloud's; their contents are a few bytes (no guest ever boots).
IMAGES = ["debian-12", "alpine-3.20"]


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
    for name in IMAGES:
        image = conn.image.find_image(name)
        if image is not None and image.status != "active":
            conn.image.delete_image(image)
            image = None
        if image is None:
            with tempfile.NamedTemporaryFile(suffix=".raw") as blob:
                blob.write(b"virtlab test image %s: a few bytes, nothing boots\n" % name.encode())
                blob.flush()
                conn.create_image(name, filename=blob.name, disk_format="raw",
                                  container_format="bare", visibility="public", wait=True)
            log("image %s" % name)
    project = conn.identity.find_project(TEST_PROJECT, domain_id="default")
    conn.set_compute_quotas(project.id, instances=50, cores=100, ram=204800)
    conn.set_network_quotas(project.id, network=50, subnet=50, router=20, floatingip=50,
                            port=500, security_group=50, security_group_rule=500)


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
    if not list(conn.compute.hypervisors()):
        problems.append("no hypervisor yet (cell_v2 discover_hosts not done)")
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
    else:
        raise SystemExit("unknown phase %r" % phase)
    return 0


if __name__ == "__main__":
    sys.exit(main())
