#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: proxmox_ct
short_description: Manage a Proxmox VE LXC container, its config, power state and node
description:
  - Creates an LXC container (CT) from a template, keeps its config (cores, memory, swap,
    root disk size, network interfaces) as declared, starts, stops, restarts or removes it.
  - O(node) is the node the CT should live on. A CT found on another node is migrated
    there, offline, or in restart mode when it is running (LXC has no live migration).
  - Config is compared as normalised values and parsed property strings, so a generated
    C(hwaddr) or the order of items in a property string is never a difference; a second
    run with the same options reports no change.
  - A running CT is compared with its pending config (what Proxmox applies at the next start); the
    keys still pending are returned as RV(pending) and named in a warning.
  - A task that ends with C(WARNINGS) succeeded; its C(WARN:) lines are the module's warnings.
version_added: 0.1.0
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.proxmox
attributes:
  check_mode:
    details: Reports what would change (with the diff) and changes nothing.
  diff_mode:
    details: Shows the CT before and after (node, state, config values).
options:
  vmid:
    description:
      - Id of the CT. When left out, the CT is found by O(hostname), and a new CT gets the
        next free id of the cluster.
    type: int
  hostname:
    description:
      - Host name of the CT. Identifies the CT when O(vmid) is left out (it must then be
        unique among the cluster's CTs); otherwise it is a managed config value.
    type: str
  node:
    description:
      - Node the CT should live on. Required to create a CT. When the CT lives on another
        node it is migrated here (see O(migration)).
    type: str
  state:
    description:
      - V(present) creates the CT if needed and keeps its config, without touching its
        power state. V(started) and V(stopped) also set the power state. V(restarted)
        reboots a running CT (or starts a stopped one) and always reports a change.
      - V(absent) removes the CT. A running CT is only removed with O(stop_before_remove).
    type: str
    choices: [present, started, stopped, restarted, absent]
    default: present
  ostemplate:
    description:
      - Template volume to create the CT from, e.g.
        V(local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst). Only used on creation.
    type: str
  storage:
    description:
      - Storage of the root disk on creation. The API's default (V(local)) when left out.
    type: str
  disk_size:
    description:
      - Size of the root disk, in GiB or with a unit (V(8), V(8G), V(512M)).
      - A larger size grows the disk of an existing CT; a smaller one is refused.
    type: str
  cores:
    description: Number of CPU cores the CT may use.
    type: int
  memory:
    description: Memory in MiB.
    type: int
  swap:
    description: Swap in MiB.
    type: int
  onboot:
    description: Start the CT when its node boots.
    type: bool
  unprivileged:
    description:
      - Create an unprivileged CT (recommended). Cannot be changed on an existing CT; a
        different value there is an error. The API's default (privileged) when left out.
    type: bool
  password:
    description: Root password set on creation only (at least 5 characters).
    type: str
  ssh_public_keys:
    description: Public SSH keys for root, installed on creation only.
    type: list
    elements: str
  features:
    description:
      - Features of the CT, for example C(nesting) (V(true)), which an unprivileged CT with systemd 252 or newer
        (Debian 12) needs; without it Proxmox VE 8 warns when it starts the CT, and systemd units that use
        C(ProtectSystem=) or C(PrivateTmp=) fail inside it.
      - C(nesting), C(keyctl), C(fuse), C(mknod) and C(force_rw_sys) are booleans, C(mount) a string
        (V(nfs;cifs)). Only the features given are compared; the CT's others are kept.
      - On a running CT a change stays pending until its next start (see RV(pending)).
    type: dict
  interfaces:
    description:
      - The CT's network interfaces; item N is C(netN). When given, interfaces beyond the
        list are removed. Only the keys you set are compared; a generated C(hwaddr) is
        kept when an interface is changed.
    type: list
    elements: dict
    suboptions:
      name:
        description: Interface name inside the CT; C(eth<N>) for item N by default.
        type: str
      bridge:
        description: Bridge on the node, e.g. V(vmbr0).
        type: str
        required: true
      ip:
        description: V(dhcp), V(manual), or a static IPv4 address with prefix (V(10.0.0.5/24)).
        type: str
      gw:
        description: IPv4 gateway; only with a static O(interfaces[].ip).
        type: str
      ip6:
        description: V(dhcp), V(auto), V(manual) or a static IPv6 address with prefix.
        type: str
      gw6:
        description: IPv6 gateway.
        type: str
      firewall:
        description: Use the Proxmox firewall on this interface.
        type: bool
      tag:
        description: VLAN tag.
        type: int
      mtu:
        description: MTU.
        type: int
      hwaddr:
        description: MAC address; generated by Proxmox when left out.
        type: str
  migration:
    description:
      - How to move a CT that lives on another node than O(node).
      - V(offline) moves a stopped CT and refuses a running one (unless O(state=stopped),
        which stops it first). V(restart) shuts a running CT down, moves it and starts it
        on the target.
      - V(online) is refused with the reason (Proxmox has no live migration for LXC).
    type: str
    choices: [offline, restart, online]
    default: offline
  stop_before_remove:
    description:
      - With O(state=absent), stop a running CT before removing it. Without it removing a
        running CT fails and changes nothing.
    type: bool
    default: false
  shutdown_timeout:
    description:
      - Seconds a clean shutdown may take before the CT is stopped hard (for O(state=stopped),
        O(stop_before_remove) and restart migration).
    type: int
    default: 60
"""

EXAMPLES = r"""
- name: A CT on vmbr0 with DHCP, running on pve1
  virtlab.core.proxmox_ct:
    api_host: pve1.lab.example
    api_user: root@pam
    api_token_id: virtlab
    api_token_secret: "{{ proxmox_token_secret }}"
    node: pve1
    hostname: calc-cs
    ostemplate: local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
    storage: local-lvm
    disk_size: 8
    cores: 1
    memory: 512
    swap: 512
    unprivileged: true
    ssh_public_keys:
      - "{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"
    interfaces:
      - bridge: vmbr0
        ip: dhcp
    state: started

- name: A static address and gateway instead
  virtlab.core.proxmox_ct:
    hostname: calc-cs
    node: pve1
    interfaces:
      - bridge: vmbr0
        ip: 192.0.2.10/24
        gw: 192.0.2.1
    state: started

- name: Move the running CT to pve2 (restart mode)
  virtlab.core.proxmox_ct:
    hostname: calc-cs
    node: pve2
    migration: restart
    state: started

- name: Remove it, stopping it first
  virtlab.core.proxmox_ct:
    hostname: calc-cs
    state: absent
    stop_before_remove: true
"""

RETURN = r"""
ct:
  description: The CT after the run (as it would be, in check mode); empty once removed.
  returned: always
  type: dict
  contains:
    vmid:
      description: Id of the CT.
      type: int
      sample: 100
    node:
      description: Node the CT lives on.
      type: str
      sample: pve1
    status:
      description: V(running) or V(stopped).
      type: str
      sample: running
    hostname:
      description: Host name.
      type: str
      sample: calc-cs
    cores:
      description: CPU cores (null means all of the node's).
      type: int
      sample: 1
    memory:
      description: Memory in MiB.
      type: int
      sample: 512
    swap:
      description: Swap in MiB.
      type: int
      sample: 512
    onboot:
      description: Started when the node boots.
      type: bool
    unprivileged:
      description: Unprivileged CT.
      type: bool
    storage:
      description: Storage of the root disk.
      type: str
      sample: local-lvm
    disk_size:
      description: Size of the root disk.
      type: str
      sample: 8G
    features:
      description: The CT's features (C(nesting), C(keyctl), ... as booleans, C(mount) as a string).
      type: dict
      sample: {nesting: true}
    interfaces:
      description: Network interfaces, item N being C(netN), with their parsed properties.
      type: list
      elements: dict
      sample:
        - {name: eth0, bridge: vmbr0, ip: dhcp, hwaddr: "BC:24:11:2A:3B:4C", type: veth}
pending:
  description:
    - Config keys of a running CT changed but not applied yet (C(hostname), C(nameserver), C(searchdomain)
      and the like cannot be hot-applied); they take effect at its next start, or with O(state=restarted).
      The module compares the declared options with these pending values, so a second run changes nothing.
  returned: always
  type: list
  elements: str
  sample: [hostname]
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["create CT 100 on pve1", "start"]
verbs:
  description:
    - The verb of each of those steps, in order (V(create), V(start), V(migrate), V(update), ...);
      what a playbook decides on instead of the text of RV(actions). Whether the machine would be created or
      started is RV(not_in_place).
  returned: always
  type: list
  elements: str
  sample: [create, start]
  version_added: 0.3.0
not_in_place:
  description:
    - Whether this task creates or starts the CT (in check mode, would) - it was not running as declared.
      In check mode there is nothing to log into on it yet.
    - The same test as RV(virtlab.core.docker_lab#module:not_in_place) makes for a lab's nodes.
  returned: always
  type: bool
  sample: true
  version_added: 0.3.0
"""

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan
from ansible_collections.virtlab.core.plugins.module_utils.proxmox import ct
from ansible_collections.virtlab.core.plugins.module_utils.proxmox.base import ProxmoxModule
from ansible_collections.virtlab.core.plugins.module_utils.proxmox.properties import format_size_gib, size_to_bytes


class ProxmoxCt(ProxmoxModule):
    machine = True  # returns verbs and not_in_place
    argument_spec = dict(
        vmid=dict(type="int"),
        hostname=dict(type="str"),
        node=dict(type="str"),
        state=dict(type="str", default="present",
                   choices=["present", "started", "stopped", "restarted", "absent"]),
        ostemplate=dict(type="str"),
        storage=dict(type="str"),
        disk_size=dict(type="str"),
        cores=dict(type="int"),
        memory=dict(type="int"),
        swap=dict(type="int"),
        onboot=dict(type="bool"),
        unprivileged=dict(type="bool"),
        password=dict(type="str", no_log=True),
        ssh_public_keys=dict(type="list", elements="str", no_log=False),
        features=dict(type="dict"),
        interfaces=dict(type="list", elements="dict", options=dict(
            name=dict(type="str"),
            bridge=dict(type="str", required=True),
            ip=dict(type="str"),
            gw=dict(type="str"),
            ip6=dict(type="str"),
            gw6=dict(type="str"),
            firewall=dict(type="bool"),
            tag=dict(type="int"),
            mtu=dict(type="int"),
            hwaddr=dict(type="str"),
        )),
        migration=dict(type="str", default="offline", choices=["offline", "restart", "online"]),
        stop_before_remove=dict(type="bool", default=False),
        shutdown_timeout=dict(type="int", default=60),
    )
    module_kwargs = dict(required_one_of=[("vmid", "hostname")])

    # Reading -----------------------------------------------------------------------
    def read(self):
        """The CT as it is ({} when there is none), after the options are checked (before any request)."""
        self.want = ct.desired(self.params)
        self.cluster_nodes = self.nodes()
        if self.params["node"] is not None and self.params["node"] not in self.cluster_nodes:
            self.check_node(self.params["node"], "use it")
        entry = self.find_ct(self.params["vmid"], self.params["hostname"])
        return self.read_ct(entry["vmid"], entry["node"]) if entry else {}

    def read_ct(self, vmid, node):
        """The CT as it will be: GET config answers a running CT's pending values (what a change
        already made sets), which are what the declared options are compared with; the keys still
        pending until a restart are kept as ``_pending``."""
        path = self.ct_path(node, vmid)
        config = self.api("get", path + "/config")
        status = self.api("get", path + "/status/current").get("status")
        view = ct.ct_view(dict(vmid=vmid, node=node), config, status)
        view["_pending"] = ct.pending_keys(self.api("get", path + "/pending")) if status == "running" else []
        return view

    def check_node(self, name, purpose):
        nodes = self.cluster_nodes
        if name not in nodes:
            raise VirtlabError("Node %r is not in the cluster (nodes: %s)"
                               % (name, ", ".join(sorted(nodes))))
        if nodes[name].get("status") != "online":
            raise VirtlabError("Node %s is %s: cannot %s" % (name, nodes[name].get("status"), purpose))

    # The one decision for check mode and the real run ------------------------------
    def plan(self, current):
        """The steps that bring the CT to what is declared; each names the CT (vmid, node) it acts on."""
        plan = Plan()
        if not current:
            if self.params["state"] != "absent":
                self.plan_create(plan)
            return plan
        params = self.params
        state = params["state"]
        where = dict(vmid=current["vmid"], node=current["node"])

        if state == "absent":
            if current["status"] == "running":
                if not params["stop_before_remove"]:
                    raise VirtlabError(
                        "CT %s is running on %s: not removing it. Stop it first (state=stopped) "
                        "or set stop_before_remove=true" % (current["vmid"], current["node"]))
                plan.add("stop", **where)
            plan.add("destroy", **where)
            return plan

        if params["unprivileged"] is not None and params["unprivileged"] != current["unprivileged"]:
            raise VirtlabError(
                "CT %s is %s; unprivileged cannot be changed on an existing CT (remove and "
                "recreate it)" % (current["vmid"],
                                  "unprivileged" if current["unprivileged"] else "privileged"))

        running = current["status"] == "running"
        target = params["node"]
        if target is not None and target != current["node"]:
            self.check_node(target, "migrate CT %s there" % current["vmid"])
            if running and state == "stopped":
                plan.add("shutdown", **where)
                running = False
            if running and params["migration"] != "restart":
                raise VirtlabError(
                    "CT %s is running on %s: moving it to %s needs migration=restart (it is "
                    "shut down, moved and started again; LXC has no live migration), or "
                    "state=stopped" % (current["vmid"], current["node"], target))
            plan.add("migrate", text="migrate to {to} (restart mode)" if running else "migrate to {to} (offline)",
                     to=target, restart=running, **where)
            where = dict(where, node=target)

        update, delete = ct.config_changes(current, self.want)
        if update or delete:
            keys = sorted(update) + ["delete %s" % key for key in delete]
            plan.add("update", text="update {keys}", keys=", ".join(keys), update=update, delete=delete, **where)
        if self.want["disk_bytes"] is not None and current["disk_size"] is not None:
            have = size_to_bytes(current["disk_size"])
            if self.want["disk_bytes"] < have:
                raise VirtlabError("disk_size %s is smaller than the CT's root disk (%s): "
                                   "a disk cannot be shrunk"
                                   % (params["disk_size"], current["disk_size"]))
            if self.want["disk_bytes"] > have:
                plan.add("resize", text="resize rootfs to {size}",
                         size=format_size_gib(self.want["disk_bytes"]), **where)

        if state == "started" and not running:
            plan.add("start", **where)
        elif state == "stopped" and running:
            plan.add("shutdown", **where)
        elif state == "restarted":
            migrate = plan.get("migrate")
            if not (migrate and migrate.details["restart"]):
                plan.add("reboot" if running else "start", **where)
        return plan

    def plan_create(self, plan):
        params = self.params
        missing = [key for key in ("node", "ostemplate") if not params[key]]
        if missing:
            raise VirtlabError("CT %s does not exist; creating it needs %s"
                               % (params["vmid"] if params["vmid"] is not None
                                  else repr(params["hostname"]), " and ".join(missing)))
        self.check_node(params["node"], "create a CT there")
        vmid = params["vmid"]
        if vmid is None:
            vmid = int(self.api("get", "cluster/nextid"))
        plan.add("create", text="create CT {vmid} on {node}", vmid=vmid, node=params["node"],
                 parameters=ct.create_parameters(params, self.want, vmid))
        if params["state"] in ("started", "restarted"):
            plan.add("start", vmid=vmid, node=params["node"])

    def expected(self, current, plan):
        """The CT as the plan leaves it."""
        if plan.has("destroy"):
            return {}
        create = plan.get("create")
        if create:
            return ct.created_view(self.params, self.want, create.details["vmid"], plan.has("start"))
        after = dict(current)
        for action in plan:
            if action.verb == "migrate":
                after["node"] = action.details["to"]
            elif action.verb == "update":
                after.update(ct.updated_view(current, action.details["update"], action.details["delete"]))
            elif action.verb == "resize":
                after["disk_size"] = action.details["size"]
        state = self.params["state"]
        if state in ("started", "restarted"):
            after["status"] = "running"
        elif state == "stopped":
            after["status"] = "stopped"
        return after

    def read_back(self, current, plan):
        if plan.has("destroy"):
            return {}
        last = plan[-1].details  # where the last step left the CT
        after = self.read_ct(last["vmid"], last.get("to", last["node"]))
        if after["_pending"]:
            self.ansible.warn("CT %s is running: %s take effect at its next start (state=restarted applies "
                              "them now)" % (after["vmid"], ", ".join(after["_pending"])))
        return after

    def view(self, resource):
        return ct.public(resource)

    def result(self, after):
        return dict(ct=ct.public(after), pending=list(after.get("_pending", [])))

    # Acting: one method per verb ---------------------------------------------------
    def task(self, action, method, suffix="", what=None, **params):
        details = action.details
        path = self.ct_path(details["node"], details["vmid"]) + suffix
        return self.run_task(method, path, what or "%s of CT %s on %s" % (action.verb, details["vmid"],
                                                                          details["node"]), **params)

    def apply_create(self, action):
        details = action.details
        self.run_task("post", "nodes/%s/lxc" % details["node"],
                      "creation of CT %s on %s" % (details["vmid"], details["node"]), **details["parameters"])

    def apply_stop(self, action):
        self.task(action, "post", "/status/stop")

    def apply_start(self, action):
        self.task(action, "post", "/status/start")

    def apply_reboot(self, action):
        self.task(action, "post", "/status/reboot")

    def apply_shutdown(self, action):
        self.task(action, "post", "/status/shutdown", timeout=self.params["shutdown_timeout"], forceStop=1)

    def apply_destroy(self, action):
        self.task(action, "delete", purge=1)

    def apply_migrate(self, action):
        details = action.details
        restart = details["restart"]
        self.task(action, "post", "/migrate",
                  "migration of CT %s from %s to %s" % (details["vmid"], details["node"], details["to"]),
                  target=details["to"], restart=1 if restart else None,
                  timeout=self.params["shutdown_timeout"] if restart else None)

    def apply_update(self, action):
        params = dict(action.details["update"])
        if action.details["delete"]:
            params["delete"] = ",".join(action.details["delete"])
        self.api("put", self.ct_path(action.details["node"], action.details["vmid"], "config"), **params)

    def apply_resize(self, action):
        details = action.details
        upid = self.api("put", self.ct_path(details["node"], details["vmid"], "resize"), disk="rootfs",
                        size=details["size"])
        if upid:  # a task since PVE 7; older versions resize synchronously
            self.wait_task(upid, "resize of CT %s on %s" % (details["vmid"], details["node"]))


def main():
    ProxmoxCt()()


if __name__ == "__main__":
    main()
