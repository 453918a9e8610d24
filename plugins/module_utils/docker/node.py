# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab node as a VM-like container: its options, its comparable view and the one reconciler that
docker_vm (one node) and docker_lab (all the lab's nodes in one call) both use."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.virtlab.core.plugins.module_utils.errors import OperationFailed, VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.wait import wait_until
from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.docker.base import Reconciler, public

NODE_OPTIONS = dict(
    name=dict(type="str", required=True),
    image=dict(type="str"),
    hostname=dict(type="str"),
    networks=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        ipv4_address=dict(type="str"),
    )),
    capabilities=dict(type="list", elements="str", default=[]),
    published_ports=dict(type="list", elements="str", default=[], aliases=["ports"]),
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
    ``planned_images`` (name:tag -> what stands for its id) are images the same call commits before the node.
    Verbs: create, recreate, remove, disconnect, connect, readdress, start, stop."""

    options = NODE_OPTIONS
    required_if = NODE_REQUIRED_IF
    resource_key = "node"

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
    def read(self):
        self.container = self.module.find_container(self.params["name"])
        return container_view(self.container)

    def plan_changes(self, current, plan):
        """Settings fixed at creation recreate the node; networks change in place."""
        desired, name = self.desired, self.name
        # The image's own env (PATH...) and labels are part of the container's: compare declared keys only.
        seen = dict(current, env=declared_only(current["env"], desired["env"]),
                    labels=declared_only(current["labels"], desired["labels"]))
        changes = differences(seen, dict((k, desired[k]) for k in CREATE_TIME_KEYS))
        if changes:
            plan.add("recreate", name, text="recreated ({summary})", changes=changes, summary=", ".join(
                "%s %s -> %s" % (key, _short(old), _short(new)) for key, (old, new) in sorted(changes.items())))
            return
        have = current["networks"]
        for network in sorted(set(have) - set(desired["networks"])):
            plan.add("disconnect", name, text="disconnected {network}", network=network)
        for network, address in sorted(desired["networks"].items()):
            if network not in have:
                plan.add("connect", name, text="connected {network} ({shown})", network=network,
                         address=address, shown=address or "any address")
            elif address is not None and have[network] != address:
                plan.add("readdress", name, text="re-addressed {network} ({old} -> {address})",
                         network=network, old=have[network], address=address)

    def plan_more(self, current, plan):
        """Started or stopped as declared (a recreated node is not running)."""
        state = self.params["state"]
        running = bool(current.get("running")) and not plan.has("recreate")
        if state == "started" and not running:
            plan.add("start", self.name, text="started")
        if state == "stopped" and current.get("running"):
            plan.add("stop", self.name, text="stopped")

    def expected(self, current, plan):
        """The node as it will be after the plan (check mode's answer); addresses Docker chooses are shown as
        they are now, or unknown."""
        if self.params["state"] == "absent":
            return {}
        if not plan:
            return current
        current_networks = current.get("networks", {})
        networks = dict((n, a or current_networks.get(n)) for n, a in self.desired["networks"].items())
        state = self.params["state"]
        replaced = plan.has("create", "recreate")
        return dict(self.desired, networks=networks, running=state == "started" or (
            state == "present" and bool(current.get("running")) and not replaced))

    def public(self, view):
        return public(view)

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

    # One method a verb; apply() runs them in the plan's order, without waiting for systemd (read_back waits).
    def apply_remove(self, action):
        self.container.remove(force=True)
        self.container = None

    def apply_create(self, action):
        self.container = self.create(self.desired)

    def apply_recreate(self, action):
        self.apply_remove(action)
        self.apply_create(action)

    def apply_disconnect(self, action):
        self.client.networks.get(action.details["network"]).disconnect(self.container, force=True)

    def apply_connect(self, action):
        self.client.networks.get(action.details["network"]).connect(
            self.container, ipv4_address=action.details["address"])

    def apply_readdress(self, action):
        self.apply_disconnect(action)
        self.apply_connect(action)

    def apply_start(self, action):
        self.container.start()

    def apply_stop(self, action):
        self.container.stop(timeout=20)

    def failed_step(self, plan):
        return "%s of node %s" % (", ".join(plan.texts()), self.name)

    def read_back(self, current, plan):
        """The node as it is now, once systemd has booted when the plan started it (docker_lab starts all its
        nodes before it reads back any, so they boot together)."""
        if plan.has("start") and self.desired.get("systemd"):
            wait_until(self.booted, self.params["boot_timeout"], "systemd to boot in %s" % self.container.name)
        if self.container is None:
            return {}
        self.container.reload()
        return container_view(self.container)
