# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology on VirtualBox: exactly the input of virtlab.core.vbox_medium_clone, vbox_vm and vbox_natpf for
each lab host, and how Ansible reaches it (no Ansible import). The one place VirtualBox's policy for the lab
lives.

Each lab host is a VM of the machine that runs VirtualBox. Its disk is a copy of the base image (made with
clonemedium before the VM exists, so no VM holds the image). Adapter 1 is NAT - the guest's way out, and the
way in through a forwarded port: ``ssh_host:ssh_port`` on the host goes to the guest's port 22. Adapters 2, 3,
... are the host's topology networks, in the topology's network order, each a VirtualBox internal network
named ``network_prefix`` + the network (``virtlab-pn1``). The guest's interface on each of those adapters gets
the host's topology address on that network (matched inside the guest by the adapter's MAC address).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtlab.core.plugins.module_utils.topology.model import interfaces

# The size of a lab VM unless ``settings.vm`` says otherwise.
VM_DEFAULTS = {"memory": 512, "cpus": 1}
# The roles' states, as vbox_vm names them.
VM_STATES = {"started": "running", "stopped": "poweroff", "absent": "absent"}


def _required(mapping, key, where):
    value = (mapping or {}).get(key)
    if value in (None, ""):
        raise ValueError("%s.%s is required" % (where, key))
    return value


def vbox_lab(topology, hosts, settings, state="started"):
    """The lab on VirtualBox: {vms: {HOST: {medium, vm, natpf, connection, addresses}}}.

    ``medium`` is vbox_medium_clone's options (the base image to the VM's disk), ``vm`` vbox_vm's, ``natpf``
    vbox_natpf's (the SSH port forward), ``connection`` how Ansible reaches the guest (ansible_host,
    ansible_port), ``addresses`` the guest's lab addresses [{adapter, network, address/prefix}], one per
    internal network adapter. With ``state=absent`` only ``vm`` is left (removing the VM removes its disk and
    port forward), and ``addresses`` is empty unless the VM runs (``state=started``).
    ``hosts``: {HOST: {ssh_port}} - the host port forwarded to each guest's SSH server.
    ``settings``: {machine_folder, base_image, ostype, name_prefix, network_prefix, ssh_host (127.0.0.1), vm:
    {memory, cpus}, service_ports: {SERVICE: host port}} (``vm`` overrides VM_DEFAULTS; each service of
    ``service_ports`` is forwarded from ``ssh_host:port`` to its port on its node's VM, the way the machine reaches
    it, e.g. the calculator). ``state``: started, stopped or absent.
    """
    if state not in VM_STATES:
        raise ValueError("state must be one of %s, not %r" % (", ".join(sorted(VM_STATES)), state))
    folder = _required(settings, "machine_folder", "settings").rstrip("/\\")
    name_prefix = settings.get("name_prefix") or ""
    network_prefix = settings.get("network_prefix") or ""
    ssh_host = settings.get("ssh_host") or "127.0.0.1"
    sizes = dict(VM_DEFAULTS, **(settings.get("vm") or {}))
    services = topology.get("services") or {}
    forwards = {}  # host -> the NAT rules of the services forwarded to it
    for service, port in sorted((settings.get("service_ports") or {}).items()):
        if service not in services:
            raise ValueError("settings.service_ports: %s is not a service of the topology" % service)
        forwards.setdefault(services[service]["node"], []).append(
            "%s,tcp,%s,%d,,%d" % (service, ssh_host, int(port), int(services[service]["port"])))
    vms = {}
    for host in sorted(hosts):
        name = name_prefix + host
        port = int(_required(hosts[host], "ssh_port", "hosts.%s" % host))
        disk = "%s/%s.vdi" % (folder, name)
        links = interfaces(topology, host)  # adapter 2 is the first, in network name order
        present = state != "absent"  # removing the VM removes its disk and its port forward with it
        vms[host] = dict(
            medium=dict(source=_required(settings, "base_image", "settings"), dest=disk) if present else None,
            vm=dict(name=name, ostype=settings.get("ostype"), nic1="nat",
                    internal_networks=[network_prefix + link["network"] for link in links],
                    disk=dict(path=disk), state=VM_STATES[state], **sizes),
            natpf=dict(name=name, rules=["ssh,tcp,%s,%d,,22" % (ssh_host, port)] + forwards.get(host, []))
            if present else None,
            connection=dict(ansible_host=ssh_host, ansible_port=port) if present else None,
            # Set inside the guest, so only while it runs.
            addresses=[dict(adapter=adapter, network=link["network"], address="%s/%s" % (link["address"],
                                                                                         link["prefix"]))
                       for adapter, link in enumerate(links, start=2)] if state == "started" else [])
    return {"vms": vms}
