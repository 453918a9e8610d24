# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab node as a VM-like container: its options, its comparable view and the one reconciler that
docker_node (one node) and docker_lab (all the lab's nodes in one call) both use."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.virtlab.core.plugins.module_utils.errors import OperationFailed, VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.wait import wait_until
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.docker.base import APIError, Reconciler

NODE_OPTIONS = dict(
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
NODE_REQUIRED_IF = [("state", "present", ["image"]), ("state", "started", ["image"]),
                    ("state", "stopped", ["image"])]

SYSTEMD_TMPFS = {"/run": "", "/run/lock": ""}
SYSTEMD_CGROUP = "/sys/fs/cgroup"

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


def public(view):
    """What the modules return and diff: the view without internal bookkeeping."""
    return dict((k, v) for k, v in view.items() if k not in ("id", "image_id", "_internal"))


def declared_only(current, declared):
    return dict((k, v) for k, v in current.items() if k in declared)


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


class NodeReconciler(Reconciler):
    """One node: ``module`` gives the Docker client, lookups and check mode; ``params`` is one node's options
    (NODE_OPTIONS). ``planned_networks`` (name -> {internal, subnet}) are networks the same call creates or
    recreates before the node: the node is planned against them as they will be, even in check mode.
    ``planned_images`` (name:tag -> what stands for its id) are images the same call commits before the node."""

    def __init__(self, module, params, planned_networks=None, planned_images=None):
        super(NodeReconciler, self).__init__(module, params)
        self.planned_networks = planned_networks or {}
        self.planned_images = planned_images or {}
        self.container = None

    # Desired state -------------------------------------------------------------
    def desired_view(self):
        """The declared node, normalised; bad input fails here, before anything changes."""
        params = self.params
        image_id = self.planned_images.get(params["image"])
        if image_id is None:
            image = self.module.find_image(params["image"])
            if image is None:
                raise VirtlabError("Image %s is not on this machine and there is no registry to pull it from: build "
                                   "it first (make image)." % params["image"])
            image_id = image.id
        networks = {}
        internal = {}
        for net in params["networks"]:
            networks[net["name"]] = net.get("ipv4_address")
            internal[net["name"]] = self.network_internal(net["name"], net.get("ipv4_address"))
        env = dict((str(k), str(v)) for k, v in params["env"].items())
        if params["systemd"]:
            env.setdefault("container", "docker")
        return {
            "name": params["name"],
            "image": params["image"],
            "image_id": image_id,
            "hostname": params["hostname"] or params["name"],
            "capabilities": sorted(set(normalise_capability(c) for c in params["capabilities"])),
            "published_ports": sorted(normalise_port(p) for p in params["published_ports"]),
            "sysctls": dict((str(k), str(v)) for k, v in params["sysctls"].items()),
            "systemd": params["systemd"],
            "env": env,
            "labels": dict((str(k), str(v)) for k, v in params["labels"].items()),
            "restart_policy": params["restart_policy"],
            "networks": networks,
            "_internal": internal,
        }

    def network_internal(self, name, address):
        """Whether the network is internal; fails when it does not exist or ``address`` is not inside it."""
        if name in self.planned_networks:
            internal, subnets = self.planned_networks[name]["internal"], [self.planned_networks[name]["subnet"]]
        else:
            network = self.module.find_network(name)
            if network is None:
                raise VirtlabError("Network %s does not exist: create it first (virtlab.core.docker_network)." % name)
            internal = bool(network.attrs.get("Internal"))
            subnets = [c.get("Subnet") for c in (network.attrs.get("IPAM") or {}).get("Config") or []]
        if address is not None:
            try:
                inside = any(ipaddress.ip_address(address) in ipaddress.ip_network(s) for s in subnets if s)
            except ValueError:
                raise VirtlabError("ipv4_address %r for network %s is not an IPv4 address" % (address, name))
            if not inside:
                raise VirtlabError("ipv4_address %s is not inside network %s (%s)"
                                   % (address, name, ", ".join(s for s in subnets if s)))
        return internal

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

    def find_and_plan(self):
        """Find the container, normalise the declaration and decide; returns the actions."""
        self.container = self.module.find_container(self.params["name"])
        self.current = container_view(self.container)
        self.desired = self.desired_view() if self.params["state"] != "absent" else {}
        self.actions = self.plan(self.current, self.desired)
        return self.actions

    def expected(self):
        """The node as it will be after the actions (check mode's answer); addresses Docker chooses are shown as
        they are now, or unknown."""
        if self.params["state"] == "absent":
            return {}
        if not self.actions:
            return self.current
        current_networks = self.current.get("networks", {})
        networks = dict((n, a or current_networks.get(n)) for n, a in self.desired["networks"].items())
        state = self.params["state"]
        replaced = any(a == "created" or a.startswith("recreated") for a in self.actions)
        return dict(self.desired, networks=networks, running=state == "started" or (
            state == "present" and bool(self.current.get("running")) and not replaced))

    # Acting ---------------------------------------------------------------------------
    def create(self, desired):
        # Docker publishes ports only through a non-internal network, so that one goes first.
        declared = [n["name"] for n in self.params["networks"]]
        order = sorted(desired["networks"], key=lambda n: (desired["_internal"][n], declared.index(n)))
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

    def booted(self):
        """None while systemd boots; its state once booted. A container that exits is a failure, not a wait."""
        container = self.container
        container.reload()
        state = container.attrs.get("State") or {}
        if not state.get("Running"):
            logs = container.logs(tail=20).decode("utf-8", "replace")
            raise OperationFailed("Container %s exited (code %s) while booting" % (container.name,
                                                                                   state.get("ExitCode")),
                                  logs=logs.splitlines())
        unused_code, output = container.exec_run(["systemctl", "is-system-running"])
        status = output.decode("utf-8", "replace").strip()
        return status if status in ("running", "degraded") else None

    def needs_boot_wait(self):
        return "started" in self.actions and self.desired.get("systemd")

    def start_actions(self):
        """Carry out the planned actions, without waiting for systemd (see wait_booted)."""
        container, desired, actions = self.container, self.desired, self.actions
        try:
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
        except APIError as exc:
            raise self.module.api_error("%s of node %s" % (", ".join(actions), self.params["name"]), exc)
        self.container = container

    def wait_booted(self):
        if self.needs_boot_wait():
            wait_until(self.booted, self.params["boot_timeout"], "systemd to boot in %s" % self.container.name)

    def after(self):
        """The node as it is now (after apply and wait)."""
        if self.container is None:
            return {}
        self.container.reload()
        return container_view(self.container)

    def apply(self):
        self.start_actions()
        self.wait_booted()
        return self.after()
