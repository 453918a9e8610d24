# -*- coding: utf-8 -*-
"""Helpers for the tests with real guests: SSH with the test user's key, waiting, measuring."""

import os
import re
import subprocess
import time

from conftest import CLOUDS_YAML, MEASUREMENTS

SSH_KEY = os.path.join(os.path.dirname(CLOUDS_YAML), "id_ed25519")
GUEST_USER = "debian"
KEY_PAIR = "virtlab"
GUEST_IMAGE = "debian-12"
GUEST_FLAVOR = "m1.small"
HOST_ADDRESS = "172.24.4.1"         # this machine on the external network `public`
PUBLIC_BRIDGE = "br-ex"


def report(text):
    """Figures go to the terminal summary, even under -q (and to the log)."""
    MEASUREMENTS.append(text)
    with open("/var/log/virtlab-openstack/measurements.log", "a") as handle:
        handle.write(time.strftime("%Y-%m-%dT%H:%M:%SZ ", time.gmtime()) + text + "\n")


def ssh(address, command, timeout=60, check=False, jump=None):
    """Run command in the guest at address as the image's user; returns the CompletedProcess."""
    args = ["ssh", "-i", SSH_KEY, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10"]
    if jump:
        args += ["-o", "ProxyCommand=ssh -i %s -o BatchMode=yes -o StrictHostKeyChecking=no "
                 "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -W %%h:%%p %s@%s"
                 % (SSH_KEY, GUEST_USER, jump)]
    args += ["%s@%s" % (GUEST_USER, address), command]
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, check=False)
    if check:
        assert proc.returncode == 0, "ssh %s %r: exit %s: %s%s" % (
            address, command, proc.returncode, proc.stdout, proc.stderr)
    return proc


def wait_until(what, predicate, timeout, interval=3):
    """Poll predicate() until it returns something true; fail naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except subprocess.TimeoutExpired as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError("%s: not within %ss (last: %r)" % (what, timeout, last))


def wait_active(sdk, server_id, timeout=300):
    """Wait for ACTIVE; a server in ERROR fails at once with its fault message."""
    def active():
        server = sdk.compute.get_server(server_id)
        if server.status == "ERROR":
            raise AssertionError("server %s is in ERROR: %s" % (server.name, server.fault))
        return server if server.status == "ACTIVE" else None
    return wait_until("server %s ACTIVE" % server_id, active, timeout, interval=1)


def wait_ssh(address, timeout=420):
    return wait_until("SSH on %s" % address,
                      lambda: ssh(address, "true", timeout=30).returncode == 0, timeout, interval=2)


def ping(address, count=2, interface=None, netns=None):
    args = ["ping", "-n", "-q", "-c", str(count), "-W", "2"]
    if interface:
        args += ["-I", interface]
    args.append(address)
    if netns:
        args = ["ip", "netns", "exec", netns] + args
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def console_tail(sdk, server, lines=30):
    try:
        output = sdk.compute.get_server_console_output(server, length=lines)["output"]
    except Exception as exc:  # pylint: disable=broad-except
        output = "(no console output: %s)" % exc
    return output


def mem_available_mib():
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no MemAvailable in /proc/meminfo")


def guest_rss_mib():
    """{libvirt domain: resident MiB of its QEMU process} for the running guests."""
    result = {}
    run = "/run/libvirt/qemu"
    for name in os.listdir(run) if os.path.isdir(run) else []:
        if not name.endswith(".pid"):
            continue
        with open(os.path.join(run, name)) as handle:
            pid = handle.read().strip()
        try:
            with open("/proc/%s/status" % pid) as handle:
                match = re.search(r"^VmRSS:\s+(\d+) kB", handle.read(), re.MULTILINE)
        except OSError:
            continue
        if match:
            result[name[:-4]] = int(match.group(1)) // 1024
    return result


def floating_ip_of(sdk, server):
    ports = [p.id for p in sdk.network.ports(device_id=server.id)]
    ips = [ip for ip in sdk.network.ips() if ip.port_id in ports]
    return ips[0].floating_ip_address if ips else None


def fixed_ip_of(server):
    return [a["addr"] for entries in server.addresses.values() for a in entries
            if a.get("OS-EXT-IPS:type") == "fixed"][0]
