# -*- coding: utf-8 -*-
"""Real guests behind the PVE API double (opt-in: ``PveDouble.guests = PveGuests(...)``).

A CT that the double starts becomes a systemd container on the local Docker engine, named
``<prefix><node>-<vmid>``; each bridge (and VLAN tag) its ``netN`` names is a Docker network
``<prefix>br-<bridge>[-v<tag>]``. What the double's tasks do acts on that container:

- create: what Proxmox writes into the CT's file system at create, root's ``ssh-public-keys``,
  is written into the guest when its container is first made;
- start: created from the CT's image (the template's, or the one a rollback or migration left)
  and started; each interface gets its ``hwaddr`` (set inside the guest: this Docker API predates
  per-network MAC addresses), and ``ip=dhcp`` interfaces ask the
  bridge's DHCP server (dnsmasq in a container of its own on that network) with dhclient, in the
  background as the CT's own network setup does; static ``ip``/``gw`` are set as given (by Docker
  when the address is in the bridge's Docker subnet, else inside the guest: a lab VLAN's addresses
  are the topology's, the Docker network under it only carries the frames);
- stop / shutdown / reboot: docker kill / stop / restart;
- snapshot: docker commit of the CT's container (or the CT's image when it never ran);
- rollback: the container is removed and the CT's image becomes the snapshot's; a start
  recreates it from there (what was changed in the file system after the snapshot is gone);
- migration: the container is committed and removed on the source node and recreated under
  the target node's name (started again in restart mode);
- destroy: the container and the CT's images are removed.

Everything this creates carries the prefix; ``cleanup()`` removes it all.
"""

import ipaddress
import json
import os
import re
import subprocess
import sys

# The guest side of the VBoxManage double makes its guests the same way: one systemd container per machine
# (with /proc/sys writable, as in a CT whose /proc/sys/net is its own: the lab's routers turn forwarding on
# themselves), and lab networks whose bridge lets every frame through (the topology's routed addresses are not
# the Docker subnet's).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vbox", "bin"))
from vbox_guests import (  # noqa: E402 pylint: disable=wrong-import-position
    SYSTEMD_ARGS, bridge_rule, docker, interface_order, iptables, unfirewall)


def parse_net(value):
    return dict(part.partition("=")[::2] for part in value.split(","))


class PveGuests:
    """``image``: what every template boots; ``bridges``: {bridge or bridge.tag: {subnet, dhcp,
    internal}} (others get a subnet of ``spare`` and no DHCP); everything named ``prefix``..."""

    def __init__(self, image, prefix, bridges, spare="10.81.64.0/18"):
        self.image = image
        self.prefix = prefix
        self.bridges = dict(bridges)
        self.spare = ipaddress.ip_network(spare).subnets(new_prefix=24)
        self.networks = {}
        self.images = {}  # vmid -> the image its container is created from next
        self.keys = {}  # vmid -> root's authorized keys, written when its container is first made

    # Names -----------------------------------------------------------------------------
    def container(self, node, vmid):
        return "%s%s-%d" % (self.prefix, node, vmid)

    def _image_repo(self):
        return "%simages" % self.prefix

    def _exists(self, name):
        return subprocess.run(["docker", "container", "inspect", name], capture_output=True,
                              check=False).returncode == 0

    def _running(self, name):
        return docker("container", "inspect", "-f", "{{.State.Running}}", name, check=False) == "true"

    # Networks --------------------------------------------------------------------------
    def network(self, bridge, tag=None):
        key = bridge if tag is None else "%s.%s" % (bridge, tag)
        if key in self.networks:
            return self.networks[key]
        settings = self.bridges.get(key) or {"subnet": str(next(self.spare)), "internal": True}
        subnet = ipaddress.ip_network(settings["subnet"])
        name = "%sbr-%s" % (self.prefix, key.replace(".", "-v"))
        gateway = str(subnet.network_address + 1)
        args = ["network", "create", "--driver", "bridge", "--subnet", str(subnet), "--gateway", gateway]
        if settings.get("dhcp"):
            # Docker hands out only the first 16 addresses (the DHCP server's, and any static ones);
            # the DHCP pool is the second half of the subnet.
            args += ["--ip-range", str(next(subnet.subnets(new_prefix=28)))]
        if settings.get("internal"):
            args.append("--internal")
        docker(*(args + [name]))
        iptables("-I", *bridge_rule(name, settings.get("internal")))
        info = {"name": name, "subnet": subnet, "gateway": gateway}
        self.networks[key] = info
        if settings.get("dhcp"):
            hosts = list(subnet.hosts())
            pool = hosts[len(hosts) // 2], hosts[-1]
            docker("run", "-d", "--name", "%sdhcp-%s" % (self.prefix, key.replace(".", "-v")), "--network", name,
                   "--ip", str(hosts[1]), "--cap-add", "NET_ADMIN", "--entrypoint", "dnsmasq", self.image,
                   "--no-daemon", "--port=0", "--dhcp-authoritative", "--log-dhcp",
                   "--dhcp-range=%s,%s,%s,1h" % (pool[0], pool[1], subnet.netmask),
                   "--dhcp-option=option:router,%s" % gateway)
        return info

    # The CT's lifecycle ------------------------------------------------------------------
    def create(self, vmid, keys):
        self.keys[vmid] = keys

    def start(self, node, vmid, config):
        name = self.container(node, vmid)
        created = not self._exists(name)
        if created:
            self._create(name, vmid, config)
        docker("start", name)
        if created and self.keys.get(vmid):
            docker("exec", name, "sh", "-c",
                   'umask 077; mkdir -p /root/.ssh; printf "%s" "$0" >> /root/.ssh/authorized_keys', self.keys[vmid])
        self._configure_network(name, config)

    def _interfaces(self, config):
        nets = sorted((int(key[3:]), parse_net(value)) for key, value in config.items() if re.match(r"^net\d+$", key))
        return [net for unused_index, net in nets]

    def _networks(self, config):
        """[(netN settings, Docker network, the address Docker gives or None)] in interface order."""
        result = []
        for net in self._interfaces(config):
            network = self.network(net.get("bridge", "vmbr0"), net.get("tag"))
            static = net.get("ip", "dhcp")
            docker_ip = None
            if static not in ("dhcp", "manual", "auto") and \
                    ipaddress.ip_interface(static).ip in network["subnet"]:
                docker_ip = static.split("/")[0]
            result.append((net, network, docker_ip))
        return result

    def _create(self, name, vmid, config):
        networks = self._networks(config)
        args = ["create", "--name", name, "--hostname", config.get("hostname", "CT%d" % vmid),
                "--label", "%sct=%d" % (self.prefix, vmid)] + SYSTEMD_ARGS
        if networks:
            args += ["--network", networks[0][1]["name"]] + (["--ip", networks[0][2]] if networks[0][2] else [])
        else:
            args += ["--network", "none"]
        docker(*(args + [self.images.get(vmid, self.image)]))
        for unused_net, network, docker_ip in networks[1:]:
            docker(*(["network", "connect"] + (["--ip", docker_ip] if docker_ip else []) + [network["name"], name]))

    def _configure_network(self, name, config):
        """What the CT's network setup does at boot, in the background: names, MACs, DHCP or static routes."""
        networks = self._networks(config)
        steps = interface_order(name, [network["name"] for unused_net, network, unused_ip in networks])
        for index, (net, unused_network, docker_ip) in enumerate(networks):
            dev = "eth%d" % index
            if net.get("hwaddr"):
                steps.append("ip link set dev %s down; ip link set dev %s address %s; ip link set dev %s up"
                             % (dev, dev, net["hwaddr"].lower(), dev))
            if net.get("ip") == "dhcp":
                steps.append("ip -4 addr flush dev %s; dhclient -4 -1 -pf /run/dhclient.%s.pid %s" % (dev, dev, dev))
            elif net.get("ip") not in (None, "manual", "auto") and not docker_ip:
                steps.append("ip -4 addr flush dev %s; ip addr add %s dev %s" % (dev, net["ip"], dev))
            if net.get("gw"):
                steps.append("ip route replace default via %s dev %s" % (net["gw"], dev))
        docker("exec", "-d", name, "sh", "-c", "; ".join(steps))

    def stop(self, node, vmid, graceful=False):
        name = self.container(node, vmid)
        if self._running(name):
            docker("stop" if graceful else "kill", name)

    def reboot(self, node, vmid, config):
        docker("restart", self.container(node, vmid))
        self._configure_network(self.container(node, vmid), config)

    def _commit(self, name, tag):
        image = "%s:%s" % (self._image_repo(), tag)
        docker("commit", name, image)
        return image

    def snapshot(self, node, vmid, snapname):
        name = self.container(node, vmid)
        tag = "ct%d-%s" % (vmid, snapname.lower())
        if self._exists(name):
            return self._commit(name, tag)
        image = "%s:%s" % (self._image_repo(), tag)
        docker("tag", self.images.get(vmid, self.image), image)
        return image

    def rollback(self, node, vmid, image):
        docker("rm", "-f", self.container(node, vmid), check=False)
        self.images[vmid] = image

    def delete_snapshot(self, image):
        docker("rmi", image, check=False)

    def migrate(self, source, target, vmid, config, start):
        name = self.container(source, vmid)
        if self._exists(name):
            self.stop(source, vmid, graceful=True)
            self.images[vmid] = self._commit(name, "ct%d-migrated" % vmid)
            docker("rm", "-f", name)
        if start:
            self.start(target, vmid, config)

    def destroy(self, node, vmid):
        docker("rm", "-f", self.container(node, vmid), check=False)
        self.images.pop(vmid, None)
        for image in docker("images", "--format", "{{.Repository}}:{{.Tag}}", self._image_repo(),
                            check=False).split():
            if image.split(":")[1].startswith("ct%d-" % vmid):
                docker("rmi", "-f", image, check=False)

    def exec(self, node, vmid, *argv):
        return subprocess.run(["docker", "exec", self.container(node, vmid)] + list(argv),
                              capture_output=True, text=True, timeout=60, check=False)

    def cleanup(self):
        names = docker("ps", "-aq", "--filter", "name=^%s" % self.prefix, check=False).split()
        if names:
            docker(*(["rm", "-f"] + names), check=False)
        for info in self.networks.values():
            unfirewall(info["name"])
        for network in docker("network", "ls", "-q", "--filter", "name=^%s" % self.prefix, check=False).split():
            docker("network", "rm", network, check=False)
        # Newest first: a commit of a container made from another image of ours depends on it.
        for unused_pass in range(5):
            images = docker("images", "--format", "{{.Repository}}:{{.Tag}}", self._image_repo(), check=False).split()
            if not images:
                break
            docker(*(["rmi"] + images), check=False)
        self.networks.clear()
        self.images.clear()
        self.keys.clear()


def nodes_inventory(directory):
    """An inventory file in ``directory`` that makes the Proxmox inventory's nodes pve1 and pve2 (group
    proxmox_nodes, where objective 6-7 runs ``pct exec``) local hosts: each one's interpreter sets
    PVE_DOUBLE_NODE for the ``pct`` double of bin/, which then runs the command in the CT's guest on that node."""
    hosts = {}
    for node in ("pve1", "pve2"):
        wrapper = os.path.join(str(directory), "python-" + node)
        with open(wrapper, "w") as handle:
            handle.write("#!/bin/sh\nPVE_DOUBLE_NODE=%s exec %s \"$@\"\n" % (node, sys.executable))
        os.chmod(wrapper, 0o755)
        hosts[node] = {"ansible_connection": "local", "ansible_python_interpreter": wrapper}
    path = os.path.join(str(directory), "nodes.yml")
    with open(path, "w") as handle:
        json.dump({"all": {"children": {"proxmox_nodes": {"hosts": hosts}}}}, handle)
    return path
