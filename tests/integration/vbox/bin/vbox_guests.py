# -*- coding: utf-8 -*-
"""Real guests behind the VBoxManage double (opt-in: the state's ``guests`` key, see conftest.py).

A VM that the double starts becomes a systemd container on the local Docker engine, named
``<prefix><vm>``, with one interface per adapter, in adapter order (eth0 = adapter 1), each with
the adapter's MAC address:

- a NAT adapter is a NAT-ed Docker network of the VM's own, 10.0.2.0/24 with the guest at
  10.0.2.15 and the gateway at 10.0.2.2 as in VirtualBox (when another running VM holds that range,
  Docker refuses a second network with it, and the VM gets 10.81.128+n.0/24 with the same host
  numbers); each port-forwarding rule is a small forwarder container on that network
  (``<prefix><vm>-pf-<rule>``, socat) published on the rule's host IP, 127.0.0.1 when it names none;
- an internal network is an internal Docker network ``<prefix>intnet-<name>``, shared by the VMs
  that name it, on which the guest has no address until it configures one itself;
- poweroff / acpipowerbutton: docker kill / stop, the forwarders removed; savestate: docker pause;
- snapshot take: docker commit (the VM's image when it never ran); restore: the container is removed
  and recreated from the snapshot's image at the next start; clonevm: the clone starts from a commit
  of the source (or of the snapshot named); unregistervm: the container and the VM's images go.

A VM's container persists across stop and start (its disk). Everything carries the prefix.
"""

import ipaddress
import json
import re
import subprocess

# /proc/sys writable (systempaths=unconfined), as in a VM: the lab's routers turn forwarding on themselves.
SYSTEMD_ARGS = ["--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run",
                "--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3", "--cap-add", "NET_ADMIN",
                "--security-opt", "systempaths=unconfined"]
# The host firewall (DOCKER-USER) of a guests' bridge. Docker drops frames on an internal network whose addresses
# are not its subnet's; an internal network carries whatever addresses the guests give themselves (the lab's,
# routed), so its bridge lets every frame through. A NAT-ed bridge (VirtualBox's NAT, Proxmox's LAN) reaches this
# machine only: a lab address the guest has no route for would otherwise leave through the machine's default route.
BRIDGE_RULES = {"internal": ["-o", "{bridge}", "-m", "comment", "--comment", "virtlab guests lab bridge", "-j",
                             "ACCEPT"],
                "nat": ["!", "-o", "{bridge}", "-m", "comment", "--comment", "virtlab guests reach this machine only",
                        "-j", "DROP"]}
NAT_SUBNETS = ["10.0.2.0/24"] + ["10.81.%d.0/24" % n for n in range(128, 192)]
INTNET_SUBNETS = ["10.81.%d.0/24" % n for n in range(64, 128)]


class GuestError(RuntimeError):
    pass


def docker(*args, check=True):
    run = subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=120, check=False)
    if check and run.returncode != 0:
        raise GuestError("docker %s: %s" % (" ".join(args), run.stderr.strip()))
    return run.stdout.strip()


def exists(kind, name):
    return subprocess.run(["docker", kind, "inspect", name], capture_output=True, check=False).returncode == 0


def bridge_rule(network, internal):
    """The DOCKER-USER rule of the Docker network's bridge (BRIDGE_RULES)."""
    bridge = "br-" + docker("network", "inspect", "-f", "{{.Id}}", network)[:12]
    rule = BRIDGE_RULES["internal" if internal else "nat"]
    return ["DOCKER-USER", "-i", bridge] + [part.format(bridge=bridge) for part in rule]


def iptables(*args):
    return subprocess.run(["iptables", "-w"] + list(args), capture_output=True, text=True, timeout=60,
                          check=False).returncode


def unfirewall(network):
    """Remove both rules a bridge may have."""
    for internal in (True, False):
        rule = bridge_rule(network, internal)
        while iptables("-C", *rule) == 0:
            iptables("-D", *rule)


def interface_order(container, networks):
    """Shell steps that name the guest's interfaces eth0, eth1, ... in the order of ``networks`` (Docker network
    names), each found by the MAC address Docker gave it on that network: Docker attaches the networks connected
    before the start in an order of its own (by name), not in the order they were connected."""
    macs = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", container))
    steps = []
    for index, network in enumerate(networks):
        steps.append("dev=$(ip -o link | awk -F': ' '/%s/ {print $2}' | cut -d@ -f1); ip link set dev $dev down; "
                     "ip link set dev $dev name virtlab%d" % (macs[network]["MacAddress"], index))
    steps.extend("ip link set dev virtlab%d name eth%d; ip link set dev eth%d up" % (index, index, index)
                 for index in range(len(networks)))
    return steps


def slug(name):
    return re.sub(r"[^a-zA-Z0-9_.-]+", "_", name)


class VBoxGuests:
    def __init__(self, settings):
        self.image = settings["image"]
        self.prefix = settings["prefix"]

    def container(self, vm):
        return self.prefix + slug(vm["name"])

    def images_repo(self):
        return self.prefix + "images"

    # Networks ----------------------------------------------------------------------------
    def _create_network(self, name, subnets, gateway_host, internal):
        if exists("network", name):
            return docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", name)
        for subnet in subnets:
            net = ipaddress.ip_network(subnet)
            args = ["network", "create", "--driver", "bridge", "--subnet", subnet,
                    "--gateway", str(net.network_address + gateway_host)]
            if internal:
                args.append("--internal")
            run = subprocess.run(["docker"] + args + [name], capture_output=True, text=True, check=False)
            if run.returncode == 0:
                iptables("-I", *bridge_rule(name, internal))
                return subnet
            if "overlaps" not in run.stderr:
                raise GuestError("docker network create %s: %s" % (name, run.stderr.strip()))
        raise GuestError("no free subnet for %s" % name)

    def _networks(self, vm):
        """[(adapter, docker network, guest address or None)] in adapter order."""
        result = []
        for nic in sorted(vm["nics"], key=int):
            settings = vm["nics"][nic]
            if settings["type"] == "nat":
                name = "%s%s-nat%s" % (self.prefix, slug(vm["name"]), nic)
                subnet = ipaddress.ip_network(self._create_network(name, NAT_SUBNETS, 2, False))
                result.append((nic, name, str(subnet.network_address + 15)))
            elif settings["type"] == "intnet":
                name = "%sintnet-%s" % (self.prefix, slug(settings.get("network", "intnet")))
                self._create_network(name, INTNET_SUBNETS, 1, True)
                result.append((nic, name, None))
        return result

    # Lifecycle -----------------------------------------------------------------------------
    def start(self, vm, macs):
        name = self.container(vm)
        guest = vm.setdefault("guest", {})
        if guest.get("paused"):
            docker("unpause", name)
            guest["paused"] = False
            self.forward_all(vm)
            return
        networks = self._networks(vm)
        if not exists("container", name):
            args = ["create", "--name", name, "--hostname", slug(vm["name"])[:63]] + SYSTEMD_ARGS
            if networks:
                args += ["--network", networks[0][1]]
                if networks[0][2]:
                    args += ["--ip", networks[0][2]]
            else:
                args += ["--network", "none"]
            docker(*(args + [guest.get("image", self.image)]))
            for unused_nic, network, address in networks[1:]:
                docker(*(["network", "connect"] + (["--ip", address] if address else []) + [network, name]))
        docker("start", name)
        # What the VM's virtual hardware is: the adapters' MACs, no address where VirtualBox's NAT
        # gives none (internal networks), the NAT's gateway as default route.
        steps = interface_order(name, [network for unused_nic, network, unused_address in networks])
        for index, (nic, unused_network, address) in enumerate(networks):
            dev = "eth%d" % index
            steps.append("ip link set dev %s down; ip link set dev %s address %s; ip link set dev %s up"
                         % (dev, dev, macs[nic], dev))
            if address is None:
                steps.append("ip -4 addr flush dev %s" % dev)
            elif index == 0:
                gateway = str(ipaddress.ip_network(address + "/24", strict=False).network_address + 2)
                steps.append("ip route replace default via %s dev %s" % (gateway, dev))
        if steps:
            docker("exec", name, "sh", "-c", "; ".join(steps))
        vm["guest"]["nat_address"] = networks[0][2] if networks and networks[0][2] else None
        self.forward_all(vm)

    def stop(self, vm, graceful=False):
        name = self.container(vm)
        self.unforward_all(vm)
        if vm.get("guest", {}).get("paused"):
            docker("unpause", name, check=False)
            vm["guest"]["paused"] = False
        if exists("container", name):
            docker("stop" if graceful else "kill", name, check=False)

    def pause(self, vm):
        self.unforward_all(vm)
        docker("pause", self.container(vm))
        vm.setdefault("guest", {})["paused"] = True

    def _commit(self, vm, tag):
        image = "%s:%s" % (self.images_repo(), tag)
        if exists("container", self.container(vm)):
            docker("commit", self.container(vm), image)
        else:
            docker("tag", vm.get("guest", {}).get("image", self.image), image)
        return image

    def snapshot(self, vm, snap):
        snap["guest_image"] = self._commit(vm, "%s-%s" % (vm["uuid"][:8], snap["uuid"][:8]))

    def restore(self, vm, snap):
        self.unforward_all(vm)
        docker("rm", "-f", self.container(vm), check=False)
        vm.setdefault("guest", {}).update(image=snap.get("guest_image", self.image), paused=False)

    def delete_snapshot(self, snap):
        if snap.get("guest_image"):
            docker("rmi", snap["guest_image"], check=False)

    def clone(self, source, clone, snap=None):
        image = snap.get("guest_image") if snap else None
        if not image:
            image = self._commit(source, "%s-clone-%s" % (source["uuid"][:8], clone["uuid"][:8]))
        clone["guest"] = {"image": image}

    def remove(self, vm):
        self.unforward_all(vm)
        name = self.container(vm)
        docker("rm", "-f", name, check=False)
        for network in docker("network", "ls", "--format", "{{.Name}}", "--filter",
                              "name=^%s-nat" % name, check=False).split():
            unfirewall(network)
            docker("network", "rm", network, check=False)
        for image in docker("images", "--format", "{{.Repository}}:{{.Tag}}", self.images_repo(),
                            check=False).split():
            if image.split(":")[1].startswith(vm["uuid"][:8]):
                docker("rmi", image, check=False)

    # Port forwards ---------------------------------------------------------------------------
    def _forwarder(self, vm, rule):
        return "%s%s-pf-%s" % (self.prefix, slug(vm["name"]), slug(rule.split(",")[0]))

    def forward(self, vm, nic, rule):
        name, proto, host_ip, host_port, guest_ip, guest_port = rule.split(",")
        network = "%s%s-nat%s" % (self.prefix, slug(vm["name"]), nic)
        target = guest_ip or vm.get("guest", {}).get("nat_address")
        if not target or not exists("network", network):
            return
        listen, connect = ("TCP-LISTEN", "TCP") if proto == "tcp" else ("UDP-LISTEN", "UDP")
        run = subprocess.run(
            ["docker", "run", "-d", "--name", self._forwarder(vm, rule), "--network", network,
             "-p", "%s:%s:%s/%s" % (host_ip or "127.0.0.1", host_port, host_port, proto),
             "--entrypoint", "socat", self.image, "%s:%s,fork,reuseaddr" % (listen, host_port),
             "%s:%s:%s" % (connect, target, guest_port)],
            capture_output=True, text=True, check=False)
        if run.returncode != 0:
            # VirtualBox only logs a rule it cannot bind (VBox.log); the command still succeeds.
            docker("rm", "-f", self._forwarder(vm, rule), check=False)
            vm.setdefault("guest", {}).setdefault("log", []).append(
                "NAT: failed to redirect %s (%s)" % (rule, run.stderr.strip()))

    def unforward(self, vm, rule):
        docker("rm", "-f", self._forwarder(vm, rule), check=False)

    def forward_all(self, vm):
        for nic, settings in vm["nics"].items():
            if settings["type"] == "nat":
                for rule in settings["rules"]:
                    self.forward(vm, nic, rule)

    def unforward_all(self, vm):
        for settings in vm["nics"].values():
            for rule in settings.get("rules", []):
                self.unforward(vm, rule)


def cleanup(prefix):
    """Remove every container, network and image of a guests prefix (a test session's teardown)."""
    names = docker("ps", "-aq", "--filter", "name=^%s" % prefix, check=False).split()
    if names:
        docker(*(["rm", "-f"] + names), check=False)
    for network in docker("network", "ls", "-q", "--filter", "name=^%s" % prefix, check=False).split():
        unfirewall(network)
        docker("network", "rm", network, check=False)
    # Newest first: a commit of a container made from another image of ours depends on it.
    for unused_pass in range(5):
        images = docker("images", "--format", "{{.Repository}}:{{.Tag}}", prefix + "images", check=False).split()
        if not images:
            break
        docker(*(["rmi"] + images), check=False)
