# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology on Proxmox VE: exactly the input of virtlab.core.proxmox_ct for each lab host (no Ansible
import). The one place Proxmox's policy for the lab lives.

Each lab host is a CT. Its first interface (eth0) is the management interface on ``settings.mgmt.bridge``, with
the host's management address and the LAN's gateway: Ansible reaches the CT there. Then one interface per
topology network of the host (eth1, ... in the topology's network order), on that network's VLAN of a
VLAN-aware bridge that spans the nodes (``settings.networks``), with the topology address and no gateway (the
static_routes role computes the routes). Nothing is created for the networks themselves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtlab.core.plugins.module_utils.topology.model import interfaces

# The size and kind of a lab CT unless ``settings.ct`` says otherwise: small, unprivileged with nesting (the
# guests' systemd 252 needs it, and Proxmox 8 warns without it), and moved in restart mode when its node changes
# (LXC has no live migration).
CT_DEFAULTS = {"cores": 1, "memory": 512, "swap": 256, "unprivileged": True, "features": {"nesting": True},
               "migration": "restart"}
STATES = ("started", "stopped", "absent")


def _setting(settings, key, where="settings"):
    value = (settings or {}).get(key)
    if value in (None, ""):
        raise ValueError("%s.%s is required" % (where, key))
    return value


def ct_interfaces(topology, host, address, settings):
    """The host's ``interfaces`` option: the management interface, then one per topology network."""
    mgmt = _setting(settings, "mgmt")
    networks = settings.get("networks") or {}
    result = [{"bridge": _setting(mgmt, "bridge", "settings.mgmt"),
               "ip": "%s/%s" % (address, _setting(mgmt, "prefix", "settings.mgmt")),
               "gw": mgmt.get("gateway")}]
    for interface in interfaces(topology, host):
        network = networks.get(interface["network"])
        if not network or not network.get("bridge"):
            raise ValueError("settings.networks has no bridge for topology network %s (host %s)"
                             % (interface["network"], host))
        result.append({"bridge": network["bridge"], "tag": network.get("tag"),
                       "ip": "%s/%s" % (interface["address"], interface["prefix"])})
    return result


def proxmox_lab(topology, hosts, settings, state="started"):
    """The lab on Proxmox as virtlab.core.proxmox_ct takes it: {cts: {HOST: proxmox_ct options}}.

    ``hosts``: {HOST: {vmid, node, address}} - where each host's CT lives and its management address (from the
    inventory). ``settings``: {template, storage, disk_size, ssh_public_keys, mgmt: {bridge, prefix, gateway},
    networks: {NETWORK: {bridge, tag}}, ct: {cores, memory, swap, unprivileged, features, migration}} (``ct`` overrides
    CT_DEFAULTS). ``state``: started, stopped or absent; an absent CT is stopped first.
    """
    if state not in STATES:
        raise ValueError("state must be one of %s, not %r" % (", ".join(STATES), state))
    sizes = dict(CT_DEFAULTS, **(settings.get("ct") or {}))
    cts = {}
    for host in sorted(hosts):
        spec = hosts[host] or {}
        where = "hosts.%s" % host
        cts[host] = dict(
            vmid=int(_setting(spec, "vmid", where)), hostname=host, node=_setting(spec, "node", where),
            ostemplate=settings.get("template"), storage=settings.get("storage"),
            disk_size=None if settings.get("disk_size") is None else str(settings["disk_size"]),
            ssh_public_keys=list(settings.get("ssh_public_keys") or []),
            interfaces=ct_interfaces(topology, host, _setting(spec, "address", where), settings),
            state=state, stop_before_remove=state == "absent", **sizes)
    return {"cts": cts}
