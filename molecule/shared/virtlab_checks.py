# -*- coding: utf-8 -*-
"""Checks shared by the Molecule verifiers (testinfra), run inside the lab's nodes.

Every helper looks at a node the way a user does - the kernel's routing table, the files that bring the
routes back after a reboot, systemd's view of a unit, an HTTP answer - and returns what it saw or fails
with a message naming the node and the difference. The scenarios' tests say what is expected.

The verifier's environment puts this directory on PYTHONPATH (.config/molecule/config.yml).
"""

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time

import testinfra

STATIC_ROUTES_CONFIG = "/etc/virtlab/static-routes"
STATIC_ROUTES_UNIT = "virtlab-static-routes.service"

# One HTTP POST from inside a node, with the standard library only (what the calculator's clients send).
# Prints {"status": code or null, "body": text}.
_POST = r"""
import json, sys, urllib.error, urllib.request
url, body, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
request = urllib.request.Request(url, data=body.encode(), method="POST", headers={"Content-Type": "text/plain"})
try:
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        print(json.dumps({"status": answer.status, "body": answer.read().decode()}))
except urllib.error.HTTPError as err:
    print(json.dumps({"status": err.code, "body": err.read().decode()}))
except OSError as err:
    print(json.dumps({"status": None, "body": str(getattr(err, "reason", err))}))
"""

_hosts = {}


def node(container):
    """The testinfra host of a node, reached with `docker exec` (no SSH in the nodes)."""
    if container not in _hosts:
        _hosts[container] = testinfra.get_host("docker://" + container)
    return _hosts[container]


def post(host, address, port, body, timeout=5):
    """POST ``body`` to http://address:port/ from inside ``host``: (status or None, body or error text)."""
    out = host.check_output("python3 -c %s %s %s %s", _POST, "http://%s:%s/" % (address, port), body, str(timeout))
    answer = json.loads(out)
    return answer["status"], answer["body"]


def wait_for_answer(host, address, port, body, expected, timeout=20):
    """Wait until a POST from ``host`` gets ``expected`` ((status, body)); the last answer when it never does."""
    deadline = time.monotonic() + timeout
    while True:
        answer = post(host, address, port, body)
        if answer == expected or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def gateway_routes(host):
    """The kernel's gateway routes of the main table, except the default route: {dest CIDR: via}."""
    routes = {}
    for entry in json.loads(host.check_output("ip -j -4 route show table main") or "[]"):
        if entry.get("dst") == "default" or "gateway" not in entry:
            continue
        routes[str(ipaddress.ip_network(entry["dst"], strict=False))] = entry["gateway"]
    return routes


def persisted_routes(host):
    """What the node re-applies at boot: ({dest: via}, forwarding 0/1 or None)."""
    config = host.file(STATIC_ROUTES_CONFIG)
    assert config.exists, "%s: %s is missing" % (host.backend.name, STATIC_ROUTES_CONFIG)
    routes, forwarding = {}, None
    for line in config.content_string.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "forwarding":
            forwarding = int(words[1])
        elif words[0] in ("redirects", "default"):
            # The redirect sysctls and the default route, re-applied at boot too (not routes to compare here).
            assert len(words) in (2, 3), "%s: unexpected line in %s: %r" % (
                host.backend.name, STATIC_ROUTES_CONFIG, line)
        else:
            assert len(words) == 3 and words[1] == "via", "%s: unexpected line in %s: %r" % (
                host.backend.name, STATIC_ROUTES_CONFIG, line)
            routes[str(ipaddress.ip_network(words[0], strict=False))] = words[2]
    return routes, forwarding


def forwarding(host):
    """The node's IPv4 forwarding, as the kernel applies it (0 or 1)."""
    return int(host.file("/proc/sys/net/ipv4/ip_forward").content_string.strip())


def assert_routes(host, expected):
    """Exactly ``expected`` ({dest: via}) in the kernel's table and in the persisted configuration, and the
    unit that re-applies them at boot enabled."""
    name = host.backend.name
    assert gateway_routes(host) == expected, "%s: kernel routes %s, expected %s" % (
        name, gateway_routes(host), expected)
    persisted, unused_part = persisted_routes(host)
    assert persisted == expected, "%s: persisted routes %s, expected %s" % (name, persisted, expected)
    unit = host.service(STATIC_ROUTES_UNIT)
    assert unit.is_enabled, "%s: %s is not enabled: the routes would not come back after a reboot" % (
        name, STATIC_ROUTES_UNIT)


def assert_forwarding(host, expected):
    """Forwarding on (routers) or off, in the kernel and in the persisted configuration."""
    name = host.backend.name
    assert forwarding(host) == int(expected), "%s: ip_forward is %s, expected %s" % (
        name, forwarding(host), int(expected))
    unused_part, persisted = persisted_routes(host)
    assert persisted == int(expected), "%s: persisted forwarding %s, expected %s" % (name, persisted, int(expected))


def assert_service(host, unit, user):
    """The unit is active and enabled, declared to run as ``user`` (never root), and its process does."""
    name = host.backend.name
    service = host.service(unit)
    assert service.is_running, "%s: %s is not active" % (name, unit)
    assert service.is_enabled, "%s: %s is not enabled: it would not start after a reboot" % (name, unit)
    declared = host.check_output("systemctl show -p User --value %s", unit)
    assert declared == user and declared not in ("", "root"), "%s: %s declares User=%r, expected %r" % (
        name, unit, declared, user)
    pid = host.check_output("systemctl show -p MainPID --value %s", unit)
    assert pid not in ("", "0"), "%s: %s has no main process" % (name, unit)
    owner = host.check_output("ps -o user= -p %s", pid).strip()
    assert owner == user, "%s: %s's process %s runs as %r, expected %r" % (name, unit, pid, owner, user)


def node_version(host):
    """The runtime's version as `node --version` says it, without the leading v: (major, minor, patch)."""
    out = host.check_output("node --version")
    assert out.startswith("v"), "%s: node --version said %r" % (host.backend.name, out)
    return tuple(int(part) for part in out[1:].split("."))


def packaged_node_version(host):
    """The nodejs package's upstream version (dpkg), e.g. (18, 19, 0) for 18.19.0+dfsg-6~deb12u2."""
    out = host.check_output("dpkg-query -W -f '${Version}' nodejs")
    upstream = out.split(":")[-1].split("-")[0].split("+")[0].split("~")[0]
    return tuple(int(part) for part in upstream.split("."))


def run_converge(*extra, callback=None):
    """Run the scenario's converge.yml again from a test, on the scenario's inventory and Ansible settings:
    the CompletedProcess (text). ``callback`` sets the stdout callback (e.g. ansible.posix.json)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    if callback:
        env["ANSIBLE_STDOUT_CALLBACK"] = callback
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    # The ansible-playbook next to the interpreter running the tests (the virtualenv's), else the PATH's.
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if not os.access(playbook, os.X_OK):
        playbook = shutil.which("ansible-playbook")
    return subprocess.run([playbook, "-i", inventory, os.path.join(scenario, "converge.yml")] + list(extra),
                          env=env, capture_output=True, text=True, timeout=900, check=False)
