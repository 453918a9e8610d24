#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: docker_node
short_description: Run a lab node as a VM-like Docker container (systemd as PID 1)
version_added: 0.1.0
description:
  - Creates, starts, stops or removes a container that behaves like a small VM, through the Docker SDK for Python
    - systemd runs as PID 1, the node has its own hostname and fixed addresses on several networks.
  - Settings Docker fixes at creation (image, hostname, capabilities, published ports, sysctls, systemd mode,
    environment, labels, restart policy) are compared after normalisation; a difference recreates the container.
  - Networks are reconciled in place - connected, disconnected or re-addressed without recreating the node.
  - Runs without C(--privileged) - systemd gets C(SYS_ADMIN), the host's cgroup namespace and tmpfs on C(/run).
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.docker
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  name:
    description: Container name.
    type: str
    required: true
  image:
    description:
      - Local image to run (there is no registry to pull from). Required unless O(state=absent).
    type: str
  hostname:
    description: The node's hostname. Defaults to O(name).
    type: str
  networks:
    description:
      - Networks to attach, each with an optional fixed IPv4 address. Networks must exist.
      - Attached networks that are not listed are disconnected.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Network name.
        type: str
        required: true
      ipv4_address:
        description: Fixed address on that network; Docker chooses one when omitted.
        type: str
  capabilities:
    description: Extra Linux capabilities (C(NET_ADMIN) lets the node manage routes).
    type: list
    elements: str
    default: []
  published_ports:
    description:
      - Ports published on the machine, as C([host_ip:]host_port:container_port[/protocol]).
      - Docker publishes ports only through a non-internal network.
    type: list
    elements: str
    default: []
  sysctls:
    description: Namespaced kernel parameters set at creation, e.g. C(net.ipv4.ip_forward=1) for a router.
    type: dict
    default: {}
  env:
    description: Environment variables of PID 1.
    type: dict
    default: {}
  labels:
    description: Container labels.
    type: dict
    default: {}
  systemd:
    description: Run the image's init (systemd) as PID 1 with what it needs to boot in an unprivileged container.
    type: bool
    default: true
  restart_policy:
    description: Docker restart policy.
    type: str
    choices: ["no", always, unless-stopped, on-failure]
    default: unless-stopped
  state:
    description:
      - V(started) - exists and runs (waits for systemd to finish booting); V(present) - exists, not started if new;
        V(stopped) - exists and is stopped; V(absent) - removed.
    type: str
    choices: [present, started, stopped, absent]
    default: started
  boot_timeout:
    description: Seconds to wait for systemd to finish booting after a start.
    type: int
    default: 90
"""

EXAMPLES = r"""
- name: The calculator node, on two lab networks and the management network
  virtlab.core.docker_node:
    name: virtlab-cs
    hostname: cs
    image: virtlab/debian-systemd:bookworm
    capabilities: [NET_ADMIN]
    networks:
      - name: virtlab-mgmt
      - name: virtlab-pn1
        ipv4_address: 10.77.1.10
      - name: virtlab-pn2
        ipv4_address: 10.77.2.10
    published_ports: ["127.0.0.1:50000:50000"]

- name: A router forwards between its networks
  virtlab.core.docker_node:
    name: virtlab-rt2
    image: virtlab/debian-systemd:bookworm
    capabilities: [NET_ADMIN]
    sysctls:
      net.ipv4.ip_forward: 1
    networks:
      - {name: virtlab-pn2, ipv4_address: 10.77.2.1}
      - {name: virtlab-pn3, ipv4_address: 10.77.3.1}

- name: Stop it (systemd shuts down cleanly)
  virtlab.core.docker_node:
    name: virtlab-rt2
    state: stopped
"""

RETURN = r"""
node:
  description: The container as it is after the task (as it would be, in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Container name.
      type: str
    id:
      description: Container id (absent in check mode before creation).
      type: str
    running:
      description: Whether the container runs.
      type: bool
    image:
      description: Image name the container was created from.
      type: str
    hostname:
      description: Hostname.
      type: str
    networks:
      description: Network name to IPv4 address.
      type: dict
      sample: {virtlab-pn1: 10.77.1.10, virtlab-pn2: 10.77.2.10}
    published_ports:
      description: Normalised published ports.
      type: list
      elements: str
      sample: ["127.0.0.1:50000:50000/tcp"]
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: ["recreated (hostname cs -> cs2)", "connected virtlab-pn2 (10.77.2.10)", started]
"""

import ipaddress
import re

from ansible_collections.virtlab.core.plugins.module_utils.base import OperationFailed, VirtlabError, wait_until
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.docker import APIError, DockerModule

SYSTEMD_TMPFS = {"/run": "", "/run/lock": ""}
SYSTEMD_CGROUP = "/sys/fs/cgroup"
# Settings Docker fixes at creation: a difference in any of them means recreating the node.
CREATE_TIME_KEYS = ("image_id", "hostname", "capabilities", "published_ports", "sysctls", "systemd", "env",
                    "labels", "restart_policy")
PORT_RE = re.compile(r"^(?:(?P<ip>[0-9.]+):)?(?P<host>\d+):(?P<container>\d+)(?:/(?P<proto>tcp|udp))?$")


def normalise_port(spec):
    match = PORT_RE.match(str(spec).strip())
    if not match:
        raise VirtlabError("published port %r is not [host_ip:]host_port:container_port[/protocol]" % spec)
    return "%s:%s:%s/%s" % (match.group("ip") or "0.0.0.0", match.group("host"), match.group("container"),
                            match.group("proto") or "tcp")


def normalise_capability(cap):
    cap = str(cap).upper()
    return cap[4:] if cap.startswith("CAP_") else cap


def container_view(container):
    """The normalised, comparable view of an existing container."""
    if container is None:
        return {}
    attrs = container.attrs
    host = attrs.get("HostConfig") or {}
    config = attrs.get("Config") or {}
    ports = []
    for container_port, bindings in sorted((host.get("PortBindings") or {}).items()):
        number, unused_part, proto = container_port.partition("/")
        for binding in bindings or []:
            ports.append("%s:%s:%s/%s" % (binding.get("HostIp") or "0.0.0.0", binding.get("HostPort"), number,
                                          proto or "tcp"))
    networks = {}
    for name, endpoint in ((attrs.get("NetworkSettings") or {}).get("Networks") or {}).items():
        fixed = (endpoint.get("IPAMConfig") or {}).get("IPv4Address")
        networks[name] = fixed or endpoint.get("IPAddress") or None
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    return {
        "name": attrs["Name"].lstrip("/"),
        "id": attrs["Id"],
        "running": bool((attrs.get("State") or {}).get("Running")),
        "image": config.get("Image"),
        "image_id": attrs.get("Image"),
        "hostname": config.get("Hostname"),
        "capabilities": sorted(normalise_capability(c) for c in host.get("CapAdd") or []),
        "published_ports": sorted(ports),
        "sysctls": dict((k, str(v)) for k, v in (host.get("Sysctls") or {}).items()),
        "systemd": host.get("CgroupnsMode") == "host" and "/run" in (host.get("Tmpfs") or {}),
        "env": env,
        "labels": config.get("Labels") or {},
        "restart_policy": (host.get("RestartPolicy") or {}).get("Name") or "no",
        "networks": networks,
    }


class DockerNodeModule(DockerModule):
    argument_spec = dict(
        name=dict(type="str", required=True),
        image=dict(type="str"),
        hostname=dict(type="str"),
        networks=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            ipv4_address=dict(type="str"),
        )),
        capabilities=dict(type="list", elements="str", default=[]),
        published_ports=dict(type="list", elements="str", default=[]),
        sysctls=dict(type="dict", default={}),
        env=dict(type="dict", default={}),
        labels=dict(type="dict", default={}),
        systemd=dict(type="bool", default=True),
        restart_policy=dict(type="str", choices=["no", "always", "unless-stopped", "on-failure"],
                            default="unless-stopped"),
        state=dict(type="str", choices=["present", "started", "stopped", "absent"], default="started"),
        boot_timeout=dict(type="int", default=90),
    )
    module_kwargs = dict(required_if=[("state", "present", ["image"]), ("state", "started", ["image"]),
                                      ("state", "stopped", ["image"])])

    # Desired state -------------------------------------------------------------
    def desired(self):
        """The declared node, normalised; bad input fails here, before anything changes."""
        params = self.params
        image = self.find_image(params["image"])
        if image is None:
            raise VirtlabError("Image %s is not on this machine and there is no registry to pull it from: build it "
                               "first (make image)." % params["image"])
        networks = {}
        for net in params["networks"]:
            network = self.find_network(net["name"])
            if network is None:
                raise VirtlabError("Network %s does not exist: create it first (virtlab.core.docker_network)."
                                   % net["name"])
            address = net.get("ipv4_address")
            if address is not None:
                subnets = [c.get("Subnet") for c in (network.attrs.get("IPAM") or {}).get("Config") or []]
                try:
                    inside = any(ipaddress.ip_address(address) in ipaddress.ip_network(s) for s in subnets if s)
                except ValueError:
                    raise VirtlabError("ipv4_address %r for network %s is not an IPv4 address" % (address, net["name"]))
                if not inside:
                    raise VirtlabError("ipv4_address %s is not inside network %s (%s)"
                                       % (address, net["name"], ", ".join(s for s in subnets if s)))
            networks[net["name"]] = {"address": address, "internal": bool(network.attrs.get("Internal"))}
        env = dict((str(k), str(v)) for k, v in params["env"].items())
        if params["systemd"]:
            env.setdefault("container", "docker")
        return {
            "name": params["name"],
            "image": params["image"],
            "image_id": image.id,
            "hostname": params["hostname"] or params["name"],
            "capabilities": sorted(set(normalise_capability(c) for c in params["capabilities"])),
            "published_ports": sorted(normalise_port(p) for p in params["published_ports"]),
            "sysctls": dict((str(k), str(v)) for k, v in params["sysctls"].items()),
            "systemd": params["systemd"],
            "env": env,
            "labels": dict((str(k), str(v)) for k, v in params["labels"].items()),
            "restart_policy": params["restart_policy"],
            "networks": dict((name, spec["address"]) for name, spec in networks.items()),
            "_internal": dict((name, spec["internal"]) for name, spec in networks.items()),
        }

    # The one decision -------------------------------------------------------------
    def plan(self, current, desired):
        """Actions turning ``current`` into ``desired``, used by check mode and the real run alike."""
        state = self.params["state"]
        if state == "absent":
            return ["removed"] if current else []
        actions = []
        if not current:
            actions.append("created")
        else:
            # The image's own env (PATH...) and labels are part of the container's: compare declared keys only.
            seen = dict(current, env=declared_only(current["env"], desired["env"]),
                        labels=declared_only(current["labels"], desired["labels"]))
            changed = differences(seen, dict((k, desired[k]) for k in CREATE_TIME_KEYS))
            if changed:
                actions.append("recreated (%s)" % ", ".join(
                    "%s %s -> %s" % (key, _short(old), _short(new)) for key, (old, new) in sorted(changed.items())))
            else:
                have = current["networks"]
                for name in sorted(set(have) - set(desired["networks"])):
                    actions.append("disconnected %s" % name)
                for name, address in sorted(desired["networks"].items()):
                    if name not in have:
                        actions.append("connected %s (%s)" % (name, address or "any address"))
                    elif address is not None and have[name] != address:
                        actions.append("re-addressed %s (%s -> %s)" % (name, have[name], address))
        running = bool(current.get("running")) and not any(a.startswith("recreated") for a in actions)
        if state == "started" and not running:
            actions.append("started")
        if state == "stopped" and current.get("running"):
            actions.append("stopped")
        return actions

    # Acting ---------------------------------------------------------------------------
    def create(self, desired):
        params = self.params
        # Docker publishes ports only through a non-internal network, so that one goes first.
        order = sorted(desired["networks"], key=lambda n: (desired["_internal"][n], params_index(params, n)))
        first = order[0] if order else None
        kwargs = dict(
            name=desired["name"], hostname=desired["hostname"], cap_add=desired["capabilities"] or None,
            sysctls=desired["sysctls"] or None, environment=desired["env"], labels=desired["labels"],
            restart_policy={"Name": desired["restart_policy"]}, detach=True, tty=True,
            ports=port_bindings(desired["published_ports"]) or None,
        )
        if desired["systemd"]:
            kwargs.update(cgroupns="host", tmpfs=SYSTEMD_TMPFS, stop_signal="SIGRTMIN+3",
                          volumes={SYSTEMD_CGROUP: {"bind": SYSTEMD_CGROUP, "mode": "rw"}})
        if first:
            kwargs["network"] = first
            kwargs["networking_config"] = {first: self.client.api.create_endpoint_config(
                ipv4_address=desired["networks"][first])}
        container = self.client.containers.create(desired["image"], **kwargs)
        for name in order[1:]:
            self.client.networks.get(name).connect(container, ipv4_address=desired["networks"][name])
        return container

    def reconcile_networks(self, container, desired):
        have = container_view(container)["networks"]
        for name in sorted(set(have) - set(desired["networks"])):
            self.client.networks.get(name).disconnect(container, force=True)
        for name, address in sorted(desired["networks"].items()):
            if name in have and (address is None or have[name] == address):
                continue
            network = self.client.networks.get(name)
            if name in have:
                network.disconnect(container, force=True)
            network.connect(container, ipv4_address=address)

    def wait_booted(self, container):
        """Wait until systemd has finished booting; a container that exits is a failure, not a timeout."""
        def booted():
            container.reload()
            state = container.attrs.get("State") or {}
            if not state.get("Running"):
                logs = container.logs(tail=20).decode("utf-8", "replace")
                raise OperationFailed("Container %s exited (code %s) while booting" % (container.name,
                                                                                       state.get("ExitCode")),
                                      logs=logs.splitlines())
            code, output = container.exec_run(["systemctl", "is-system-running"])
            status = output.decode("utf-8", "replace").strip()
            return status if status in ("running", "degraded") else None
        return wait_until(booted, self.params["boot_timeout"], "systemd to boot in %s" % container.name)

    def apply(self, container, actions, desired):
        for action in actions:
            if action == "removed" or action.startswith("recreated"):
                container.remove(force=True)
                container = None
            if action == "created" or action.startswith("recreated"):
                container = self.create(desired)
            if action == "stopped":
                container.stop(timeout=20)
        if any(a.split()[0] in ("connected", "disconnected", "re-addressed") for a in actions):
            self.reconcile_networks(container, desired)
        if "started" in actions:
            container.start()
            if desired["systemd"]:
                self.wait_booted(container)
        if container is not None:
            container.reload()
        return container

    def run(self):
        name = self.params["name"]
        container = self.find_container(name)
        current = container_view(container)
        desired = self.desired() if self.params["state"] != "absent" else {}
        actions = self.plan(current, desired)
        if self.params["state"] == "absent":
            after = {}
        else:
            # As it would be: addresses Docker chooses are shown as they are now (or unknown).
            networks = dict((n, a or current.get("networks", {}).get(n)) for n, a in desired["networks"].items())
            after = dict(desired, networks=networks, running=self.params["state"] == "started" or (
                self.params["state"] == "present" and bool(current.get("running")) and not actions))
        if actions and not self.check_mode:
            try:
                container = self.apply(container, actions, desired)
            except APIError as exc:
                raise self.api_error("%s of node %s" % (", ".join(actions), name), exc)
            after = container_view(container)
        elif not actions:
            after = current
        self.exit(bool(actions), before=public(current), after=public(after), node=public(after), actions=actions)


def public(view):
    """What the module returns and diffs: the view without internal bookkeeping."""
    return dict((k, v) for k, v in view.items() if k not in ("id", "image_id", "_internal"))


def declared_only(current, declared):
    return dict((k, v) for k, v in current.items() if k in declared)


def params_index(params, network_name):
    return [n["name"] for n in params["networks"]].index(network_name)


def port_bindings(ports):
    """Normalised port strings -> the SDK's ``ports`` argument."""
    bindings = {}
    for port in ports:
        host_ip, host_port, rest = port.split(":")
        bindings.setdefault(rest, []).append((host_ip, int(host_port)))
    return dict((k, v[0] if len(v) == 1 else v) for k, v in bindings.items())


def _short(value):
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def main():
    DockerNodeModule()()


if __name__ == "__main__":
    main()
