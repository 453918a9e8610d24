# -*- coding: utf-8 -*-
"""A Proxmox VE API double: a real HTTPS server on 127.0.0.1 that speaks the part of
/api2/json the proxmox_* modules use, with the status codes, reason phrases, ``errors``
objects, auth and task behaviour of the real pve-http-server / pve-container.

State lives in memory. Tasks take ``task_duration`` seconds (per type in
``task_durations``: creation and migration take longer, as on a real node, scaled down to
fractions of a second) and finish lazily: every request first completes the tasks whose
time has come, so the double behaves as if they ran in the background; a task is only
known to the node that runs it (``no such task`` elsewhere).
Failures are injected with ``fail_next_task(type, exitstatus)``.

Where Proxmox VE 8 does, the double also:
- refuses to migrate a CT with snapshots whose root disk is on storage that cannot send
  snapshots (``storages``: local is dir, local-lvm lvmthin; only zfspool and btrfs can) and,
  when a restart-mode migration fails, starts the CT again on the source node;
- ends the start of an unprivileged CT with systemd 252 (Debian 12) and no ``nesting`` feature
  with ``WARNINGS: 1`` and a ``WARN:`` line;
- keeps config changes to a running CT that cannot be hot-applied (``PENDING_KEYS``) pending
  until the next start or reboot: GET config answers the pending values, ``current=1`` the
  running ones, GET pending lists both.

Guests are opt-in: with ``guests`` set (a ``pve_guests.PveGuests``), the tasks that start, stop,
snapshot, roll back, migrate or destroy a CT also act on a real container behind it; the API's
answers stay the same.
"""

import copy
import datetime
import hashlib
import ipaddress
import json
import os
import random
import re
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

API_PREFIX = "/api2/json"
NOT_IN_SCHEMA = "property is not defined in schema and the schema does not allow additional properties"
MISSING = "property is missing and it is not optional"
CONFIGID_RE = re.compile(r"^[a-z][a-z0-9_-]+$", re.IGNORECASE)

DEFAULT_TEMPLATES = (
    "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
    "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
)

LXC_CREATE_KEYS = {"vmid", "ostemplate", "hostname", "password", "ssh-public-keys", "storage",
                   "memory", "swap", "cores", "start", "onboot", "unprivileged", "rootfs",
                   "description", "nameserver", "searchdomain", "ostype", "arch", "force",
                   "features"}
LXC_UPDATE_KEYS = {"hostname", "memory", "swap", "cores", "onboot", "description", "nameserver",
                   "searchdomain", "delete", "digest", "revert", "unprivileged", "ostype", "arch",
                   "features"}
READ_ONLY_KEYS = {"unprivileged", "ostype", "arch"}
# Options of a running CT that pve-container cannot hot-apply (vmconfig_hotplug_pending): they
# stay in the pending section until the CT starts again. memory, swap, cores, netN and onboot apply at once.
PENDING_KEYS = {"hostname", "nameserver", "searchdomain", "features", "ostype", "arch"}
# Storage types whose volumes can be migrated together with their snapshots (PVE::Storage volume_export_formats).
SNAPSHOT_MIGRATABLE = {"zfspool", "btrfs"}
DEFAULT_STORAGES = {"local": "dir", "local-lvm": "lvmthin", "local-zfs": "zfspool"}
# Templates whose init is systemd 252: started unprivileged without nesting, PVE 8 warns.
SYSTEMD_252_TEMPLATES = ("debian-12-",)
# Task times relative to ``task_duration``: an extraction or a migration takes longer than a start.
TASK_TIME_FACTORS = {"vzcreate": 3, "vzmigrate": 3}


class ApiError(Exception):
    """An HTTP error the double answers with; ``message`` becomes the reason phrase."""

    def __init__(self, status, message, errors=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def param_error(errors):
    return ApiError(400, "Parameter verification failed.", errors)


class TaskError(Exception):
    """Raised by a task's effect: the task ends with this text as its exit status."""


class Task:
    def __init__(self, upid, node, kind, ident, user, duration, finish, log):
        self.upid = upid
        self.node = node
        self.type = kind
        self.id = ident
        self.user = user
        self.starttime = int(time.time())
        self.ends_at = time.monotonic() + duration
        self.finish = finish
        self.log = list(log)
        self.status = "running"
        self.exitstatus = None
        self.injected_failure = None


class PveDouble:
    def __init__(self, nodes=("pve1", "pve2"), task_duration=0.1, auth_failure_delay=3.0):
        self.node_names = tuple(nodes)
        self.default_task_duration = task_duration
        self.default_auth_failure_delay = auth_failure_delay
        self.lock = threading.RLock()
        self.reset()

    # Test controls -------------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.nodes = dict((name, {"status": "online"}) for name in self.node_names)
            self.users = {"root@pam": "lab-password"}
            self.tokens = {"root@pam!virtlab": str(uuid.UUID(int=0x5EC2E7))}
            self.templates = set(DEFAULT_TEMPLATES)
            self.storages = dict(DEFAULT_STORAGES)
            self.task_duration = self.default_task_duration
            self.task_durations = {}
            self.auth_failure_delay = self.default_auth_failure_delay
            self.response_delays = {}  # {(method, path): seconds} before a success is sent
            self.cts = {}
            self.qemu = {}
            self.tasks = {}
            self.tickets = {}
            self.failures = []
            self.requests = []
            self.pid = 4000
            self.guests = None

    def _guest(self, action, *args):
        """Act on the CT's guest, when guests are on; a guest that fails fails the task."""
        if self.guests is None:
            return None
        try:
            return getattr(self.guests, action)(*args)
        except RuntimeError as exc:
            raise TaskError("guest: %s" % exc)

    def fail_next_task(self, kind, exitstatus, log=()):
        """The next task of ``kind`` (vzcreate, vzstart, vzmigrate...) fails with ``exitstatus``."""
        with self.lock:
            self.failures.append((kind, exitstatus, list(log)))

    def add_ct(self, vmid, node, hostname, status="stopped", **config):
        with self.lock:
            base = {"arch": "amd64", "ostype": "debian", "hostname": hostname, "memory": 512,
                    "swap": 512, "rootfs": "local-lvm:vm-%d-disk-0,size=8G" % vmid}
            base.update(config)
            self.cts[vmid] = {"node": node, "status": status, "config": base, "snapshots": {},
                              "started": time.time(), "pending": {}, "template": None}
            return self.cts[vmid]

    def add_qemu(self, vmid, node, name):
        with self.lock:
            self.qemu[vmid] = {"node": node, "name": name, "status": "stopped"}

    def writes(self):
        """Non-GET requests other than logins: what check mode must never send."""
        return [(method, path) for method, path in self.requests
                if method != "GET" and path != "/access/ticket"]

    # Request entry point ---------------------------------------------------------------
    def handle(self, method, path, params, headers):
        """Return (status, reason, body, delay)."""
        with self.lock:
            self.requests.append((method, path))
            self._advance()
            try:
                if path == "/access/ticket" and method == "POST":
                    return 200, "OK", {"data": self._login(params)}, 0
                user = self._authenticate(method, headers)
                handler, args = self._route(method, path)
                data = handler(params, user, *args)
                return 200, "OK", {"data": data}, self.response_delays.get((method, path), 0)
            except ApiError as exc:
                body = {"data": None, "message": exc.message + "\n"}
                if exc.errors is not None:
                    body["errors"] = exc.errors
                delay = self.auth_failure_delay if exc.status == 401 else 0
                return exc.status, exc.message, body, delay

    # Auth ------------------------------------------------------------------------------
    def _login(self, params):
        username, password = params.get("username"), params.get("password")
        missing = dict((key, MISSING) for key in ("username", "password") if key not in params)
        if missing:
            raise param_error(missing)
        if self.users.get(username) != password:
            raise ApiError(401, "authentication failure")
        ticket = "PVE:%s:%08X::%s" % (username, int(time.time()), hashlib.sha256(os.urandom(16)).hexdigest())
        csrf = "%08X:%s" % (int(time.time()), hashlib.sha1(os.urandom(16)).hexdigest())
        self.tickets[ticket] = (username, csrf)
        return {"username": username, "ticket": ticket, "CSRFPreventionToken": csrf,
                "cap": {"vms": {"VM.Allocate": 1}}}

    def _authenticate(self, method, headers):
        authorization = headers.get("Authorization") or ""
        if authorization.startswith("PVEAPIToken="):
            match = re.match(r"^PVEAPIToken=([^!]+)!([^=]+)=(.+)$", authorization)
            if not match:
                raise ApiError(401, "invalid token value!")
            user, name, secret = match.groups()
            expected = self.tokens.get("%s!%s" % (user, name))
            if expected is None:
                raise ApiError(401, "no such token '%s' for user '%s'" % (name, user))
            if secret != expected:
                raise ApiError(401, "invalid token value!")
            return "%s!%s" % (user, name)
        ticket = _cookie(headers.get("Cookie") or "", "PVEAuthCookie")
        if not ticket:
            raise ApiError(401, "No ticket")
        if ticket not in self.tickets:
            raise ApiError(401, "permission denied - invalid PVE ticket")
        user, csrf = self.tickets[ticket]
        if method != "GET" and headers.get("CSRFPreventionToken") != csrf:
            raise ApiError(401, "Permission denied - invalid csrf token")
        return user

    # Routing ---------------------------------------------------------------------------
    def _route(self, method, path):
        routes = [
            ("GET", r"/version", self._version),
            ("GET", r"/nodes", self._list_nodes),
            ("GET", r"/cluster/nextid", self._nextid),
            ("GET", r"/cluster/resources", self._resources),
            ("GET", r"/nodes/([^/]+)/lxc", self._list_cts),
            ("POST", r"/nodes/([^/]+)/lxc", self._create_ct),
            ("DELETE", r"/nodes/([^/]+)/lxc/(\d+)", self._destroy_ct),
            ("GET", r"/nodes/([^/]+)/lxc/(\d+)/config", self._get_config),
            ("GET", r"/nodes/([^/]+)/lxc/(\d+)/pending", self._get_pending),
            ("PUT", r"/nodes/([^/]+)/lxc/(\d+)/config", self._put_config),
            ("PUT", r"/nodes/([^/]+)/lxc/(\d+)/resize", self._resize),
            ("GET", r"/nodes/([^/]+)/lxc/(\d+)/status/current", self._status_current),
            ("POST", r"/nodes/([^/]+)/lxc/(\d+)/status/(start|stop|shutdown|reboot)", self._power),
            ("POST", r"/nodes/([^/]+)/lxc/(\d+)/migrate", self._migrate),
            ("GET", r"/nodes/([^/]+)/lxc/(\d+)/snapshot", self._list_snapshots),
            ("POST", r"/nodes/([^/]+)/lxc/(\d+)/snapshot", self._create_snapshot),
            ("DELETE", r"/nodes/([^/]+)/lxc/(\d+)/snapshot/([^/]+)", self._delete_snapshot),
            ("GET", r"/nodes/([^/]+)/lxc/(\d+)/snapshot/([^/]+)/config", self._get_snapshot_config),
            ("PUT", r"/nodes/([^/]+)/lxc/(\d+)/snapshot/([^/]+)/config", self._put_snapshot_config),
            ("POST", r"/nodes/([^/]+)/lxc/(\d+)/snapshot/([^/]+)/rollback", self._rollback),
            ("GET", r"/nodes/([^/]+)/tasks/([^/]+)/status", self._task_status),
            ("GET", r"/nodes/([^/]+)/tasks/([^/]+)/log", self._task_log),
        ]
        for route_method, pattern, handler in routes:
            match = re.match("^%s$" % pattern, path)
            if match and route_method == method:
                args = [unquote(group) for group in match.groups()]
                if pattern.startswith("/nodes/([^/]+)"):
                    self._check_node(args[0])
                    if "(\\d+)" in pattern:
                        args[1] = int(args[1])
                return handler, args
        raise ApiError(501, "Method '%s %s' not implemented" % (method, path))

    def _check_node(self, node):
        if node not in self.nodes:
            raise ApiError(500, "no such cluster node '%s'" % node)
        if self.nodes[node]["status"] != "online":
            raise ApiError(595, "No route to host")

    def _ct(self, node, vmid):
        ct = self.cts.get(vmid)
        if ct is None or ct["node"] != node:
            raise ApiError(500, "Configuration file 'nodes/%s/lxc/%d.conf' does not exist"
                           % (node, vmid))
        return ct

    @staticmethod
    def _check_unlocked(ct):
        lock = ct["config"].get("lock")
        if lock:
            raise ApiError(500, "CT is locked (%s)" % lock)

    # Tasks -----------------------------------------------------------------------------
    def _start_task(self, node, kind, ident, user, finish, log=()):
        self.pid += 1
        started = int(time.time())
        upid = "UPID:%s:%08X:%08X:%08X:%s:%s:%s:" % (node, self.pid, self.pid * 7, started, kind, ident, user)
        duration = self.task_durations.get(kind, self.task_duration * TASK_TIME_FACTORS.get(kind, 1))
        task = Task(upid, node, kind, ident, user, duration, finish, log)
        for index, (failing_kind, exitstatus, lines) in enumerate(self.failures):
            if failing_kind == kind:
                task.injected_failure = (exitstatus, lines)
                del self.failures[index]
                break
        self.tasks[upid] = task
        return upid

    def _advance(self):
        now = time.monotonic()
        for task in sorted(self.tasks.values(), key=lambda item: item.ends_at):
            if task.status == "running" and task.ends_at <= now:
                self._finish(task)

    def _finish(self, task):
        task.status = "stopped"
        try:
            if task.injected_failure:
                exitstatus, lines = task.injected_failure
                task.log.extend(lines)
                raise TaskError(exitstatus)
            task.finish(task)
            warnings = [line for line in task.log if line.startswith("WARN: ")]
            task.exitstatus = "WARNINGS: %d" % len(warnings) if warnings else "OK"
            task.log.append("TASK %s" % task.exitstatus)
        except TaskError as exc:
            task.exitstatus = str(exc)
            task.log.append("TASK ERROR: %s" % exc)
            failed = getattr(task, "on_failure", None)
            if failed:
                failed()

    def _task(self, node, upid):
        if not upid.startswith("UPID:"):
            raise ApiError(500, "unable to parse worker upid '%s'" % upid)
        if upid not in self.tasks or self.tasks[upid].node != node:
            raise ApiError(500, "no such task")
        return self.tasks[upid]

    def _task_status(self, params, user, node, upid):
        task = self._task(node, upid)
        status = {"upid": task.upid, "node": task.node, "pid": int(task.upid.split(":")[2], 16),
                  "pstart": int(task.upid.split(":")[3], 16), "starttime": task.starttime,
                  "type": task.type, "id": task.id, "user": task.user, "status": task.status}
        if task.status == "stopped":
            status["exitstatus"] = task.exitstatus
        return status

    def _task_log(self, params, user, node, upid):
        task = self._task(node, upid)
        start = int(params.get("start", 0))
        limit = int(params.get("limit", 50))
        return [{"n": index + 1, "t": line}
                for index, line in enumerate(task.log)][start:start + limit]

    # Cluster -----------------------------------------------------------------------------
    def _version(self, params, user):
        return {"version": "8.2.4", "release": "8.2", "repoid": "faa83925c9641325"}

    def _list_nodes(self, params, user):
        return [{"node": name, "status": info["status"], "type": "node", "id": "node/" + name,
                 "maxcpu": 4, "maxmem": 8 * 1024 ** 3} for name, info in self.nodes.items()]

    def _used_vmids(self):
        return set(self.cts) | set(self.qemu)

    def _nextid(self, params, user):
        if "vmid" in params:
            vmid = int(params["vmid"])
            if vmid in self._used_vmids():
                raise param_error({"vmid": "VM %d already exists" % vmid})
            return str(vmid)
        vmid = 100
        while vmid in self._used_vmids():
            vmid += 1
        return str(vmid)

    def _resources(self, params, user):
        result = []
        for vmid, ct in self.cts.items():
            result.append({"id": "lxc/%d" % vmid, "vmid": vmid, "node": ct["node"], "type": "lxc",
                           "status": ct["status"], "name": ct["config"].get("hostname"),
                           "maxmem": ct["config"].get("memory", 512) * 1024 ** 2,
                           "template": 0})
        for vmid, vm in self.qemu.items():
            result.append({"id": "qemu/%d" % vmid, "vmid": vmid, "node": vm["node"],
                           "type": "qemu", "status": vm["status"], "name": vm["name"]})
        if params.get("type") not in (None, "vm"):
            return []
        return result

    # LXC ----------------------------------------------------------------------------------
    def _list_cts(self, params, user, node):
        return [{"vmid": vmid, "status": ct["status"], "name": ct["config"].get("hostname"),
                 "type": "lxc"} for vmid, ct in self.cts.items() if ct["node"] == node]

    def _validate(self, params, allowed):
        errors = {}
        for key, value in params.items():
            if key not in allowed and not re.match(r"^net\d+$", key):
                errors[key] = NOT_IN_SCHEMA
            elif re.match(r"^net\d+$", key):
                problem = _net_problem(value)
                if problem:
                    errors[key] = problem
        for key, minimum in (("memory", 16), ("swap", 0), ("cores", 1), ("vmid", 100)):
            if key in params:
                try:
                    number = int(params[key])
                except ValueError:
                    errors[key] = "type check ('integer') failed - got '%s'" % params[key]
                    continue
                if number < minimum:
                    errors[key] = "value must have a minimum value of %d" % minimum
        if "password" in params and len(params["password"]) < 5:
            errors["password"] = "value must be at least 5 characters long"
        if errors:
            raise param_error(errors)

    def _create_ct(self, params, user, node):
        missing = dict((key, MISSING) for key in ("vmid", "ostemplate") if key not in params)
        if missing:
            raise param_error(missing)
        self._validate(params, LXC_CREATE_KEYS)
        vmid = int(params["vmid"])
        if vmid in self.cts:
            raise ApiError(500, "CT %d already exists on node '%s'" % (vmid, self.cts[vmid]["node"]))
        if vmid in self.qemu:
            raise ApiError(500, "VM %d already exists on node '%s'" % (vmid, self.qemu[vmid]["node"]))
        storage = params.get("storage", "local")
        rootfs_size = "4G"
        if "rootfs" in params:
            match = re.match(r"^([a-zA-Z][\w.-]*):(\d+(?:\.\d+)?)$", params["rootfs"])
            if not match:
                raise param_error({"rootfs": "invalid format - unable to parse volume '%s'"
                                             % params["rootfs"]})
            storage, gib = match.groups()
            rootfs_size = _format_size(int(float(gib) * 1024 ** 3))
        config = {"arch": "amd64", "ostype": "debian", "hostname": params.get("hostname", "CT%d" % vmid),
                  "memory": int(params.get("memory", 512)), "swap": int(params.get("swap", 512)),
                  "rootfs": "%s:vm-%d-disk-0,size=%s" % (storage, vmid, rootfs_size),
                  "lock": "create"}
        for key in ("cores", "onboot", "unprivileged"):
            if key in params:
                config[key] = int(params[key])
        if "features" in params:
            config["features"] = params["features"]
        for key, value in params.items():
            if re.match(r"^net\d+$", key):
                config[key] = _with_hwaddr(value)
        template = params["ostemplate"]
        ct = {"node": node, "status": "stopped", "config": config, "snapshots": {},
              "started": None, "pending": {}, "template": template}
        self.cts[vmid] = ct

        def finish(task):
            if template not in self.templates:
                raise TaskError("unable to create CT %d - volume '%s' does not exist"
                                % (vmid, template))
            # Proxmox writes the keys into the CT's root file system; they are not part of its config.
            self._guest("create", vmid, params.get("ssh-public-keys"))
            config.pop("lock", None)
            if str(params.get("start", "0")) == "1":
                self._start_ct(task, node, vmid, ct)

        upid = self._start_task(node, "vzcreate", str(vmid), user, finish,
                                log=["extracting archive '%s'" % template,
                                     "Total bytes read: 524288000 (500MiB, 120MiB/s)"])
        self.tasks[upid].on_failure = lambda: self.cts.pop(vmid, None)
        return upid

    def _destroy_ct(self, params, user, node, vmid):
        ct = self._ct(node, vmid)
        self._check_unlocked(ct)
        if ct["status"] == "running":
            raise ApiError(500, "unable to destroy CT %d - container is running" % vmid)
        ct["config"]["lock"] = "destroyed"

        def finish(task):
            self._guest("destroy", node, vmid)
            self.cts.pop(vmid, None)

        return self._start_task(node, "vzdestroy", str(vmid), user, finish)

    def _get_config(self, params, user, node, vmid):
        ct = self._ct(node, vmid)
        config = dict(ct["config"])
        digest = _digest(dict(config, pending=ct["pending"]))
        if str(params.get("current", "0")) != "1":  # the default: pending values
            config = _with_pending(config, ct["pending"])
        config["digest"] = digest
        return config

    def _get_pending(self, params, user, node, vmid):
        ct = self._ct(node, vmid)
        entries = []
        for key in sorted(set(ct["config"]) | set(ct["pending"])):
            entry = {"key": key}
            if key in ct["config"]:
                entry["value"] = ct["config"][key]
            if key in ct["pending"]:
                if ct["pending"][key] is None:
                    entry["delete"] = 1
                else:
                    entry["pending"] = ct["pending"][key]
            entries.append(entry)
        return entries

    def _apply_pending(self, ct):
        """What a start or reboot does first (vmconfig_apply_pending)."""
        ct["config"] = _with_pending(ct["config"], ct["pending"])
        ct["pending"] = {}

    def _start_ct(self, task, node, vmid, ct):
        """Start the CT (its pending changes first); PVE 8 warns about systemd without nesting."""
        self._apply_pending(ct)
        config = ct["config"]
        if (config.get("unprivileged") and "nesting=1" not in config.get("features", "")
                and any(marker in (ct.get("template") or "") for marker in SYSTEMD_252_TEMPLATES)):
            task.log.append("WARN: Systemd 252 detected. You may need to enable nesting.")
        self._guest("start", node, vmid, config)
        ct["status"] = "running"
        ct["started"] = time.time()

    def _put_config(self, params, user, node, vmid):
        ct = self._ct(node, vmid)
        self._validate(params, LXC_UPDATE_KEYS)
        changes = dict((key, value) for key, value in params.items() if key != "digest")
        if not changes:
            raise ApiError(500, "no options specified")
        self._check_unlocked(ct)
        if "digest" in params and params["digest"] != _digest(dict(ct["config"], pending=ct["pending"])):
            raise ApiError(500, "detected modified configuration - file changed by other user? "
                                "Try again.")
        for key in changes:
            if key in READ_ONLY_KEYS:
                raise ApiError(500, "unable to modify read-only option: '%s'" % key)
        running = ct["status"] == "running"
        for key in [item for item in re.split(r"[,;\s]+", changes.pop("delete", "")) if item]:
            if running and key in PENDING_KEYS:
                ct["pending"][key] = None
            else:
                ct["config"].pop(key, None)
        for key, value in changes.items():
            if re.match(r"^net\d+$", key):
                value = _with_hwaddr(value)
            elif key in ("memory", "swap", "cores", "onboot"):
                value = int(value)
            if not (running and key in PENDING_KEYS):
                ct["config"][key] = value
            elif ct["config"].get(key) == value:
                ct["pending"].pop(key, None)  # back to the running value: nothing pending
            else:
                ct["pending"][key] = value
        return None

    def _resize(self, params, user, node, vmid):
        ct = self._ct(node, vmid)
        missing = dict((key, MISSING) for key in ("disk", "size") if key not in params)
        if missing:
            raise param_error(missing)
        if params["disk"] != "rootfs" and not re.match(r"^mp\d+$", params["disk"]):
            raise param_error({"disk": "value '%s' does not have a value in the enumeration "
                                       "'rootfs, mp0, ...'" % params["disk"]})
        self._check_unlocked(ct)
        volume, unused_part, rest = ct["config"]["rootfs"].partition(",size=")
        current = _bytes(rest)
        wanted = params["size"]
        new = current + _bytes(wanted[1:]) if wanted.startswith("+") else _bytes(wanted)
        if new < current:
            raise ApiError(500, "unable to shrink disk size")

        def finish(task):
            ct["config"]["rootfs"] = "%s,size=%s" % (volume, _format_size(new))

        return self._start_task(node, "resize", str(vmid), user, finish)

    def _status_current(self, params, user, node, vmid):
        ct = self._ct(node, vmid)
        config = ct["config"]
        status = {"vmid": vmid, "status": ct["status"], "name": config.get("hostname"),
                  "cpus": config.get("cores", 4), "maxmem": config.get("memory", 512) * 1024 ** 2,
                  "maxswap": config.get("swap", 512) * 1024 ** 2, "type": "lxc",
                  "uptime": int(time.time() - ct["started"]) if ct["status"] == "running" else 0}
        if config.get("lock"):
            status["lock"] = config["lock"]
        return status

    def _power(self, params, user, node, vmid, action):
        ct = self._ct(node, vmid)
        running = ct["status"] == "running"
        if action == "start" and running:
            raise ApiError(500, "CT %d already running" % vmid)
        if action != "start" and not running:
            raise ApiError(500, "CT %d not running" % vmid)
        if action != "stop":  # a hard stop ignores locks, as the real stop does with skiplock
            self._check_unlocked(ct)

        def finish(task):
            if action == "start":
                self._start_ct(task, node, vmid, ct)
            elif action == "reboot":  # "Applies pending changes."
                self._apply_pending(ct)
                self._guest("reboot", node, vmid, ct["config"])
                ct["started"] = time.time()
            else:
                self._guest("stop", node, vmid, action == "shutdown")
                ct["status"] = "stopped"

        kind = {"start": "vzstart", "stop": "vzstop", "shutdown": "vzshutdown",
                "reboot": "vzreboot"}[action]
        return self._start_task(node, kind, str(vmid), user, finish)

    def _migrate(self, params, user, node, vmid):
        ct = self._ct(node, vmid)
        if "target" not in params:
            raise param_error({"target": MISSING})
        target = params["target"]
        if target == node:
            raise param_error({"target": "target is local node."})
        if target not in self.nodes:
            raise param_error({"target": "no such cluster node '%s'" % target})
        if self.nodes[target]["status"] != "online":
            raise ApiError(500, "target node '%s' is not online" % target)
        self._check_unlocked(ct)
        online = str(params.get("online", "0")) == "1"
        restart = str(params.get("restart", "0")) == "1"
        running = ct["status"] == "running"
        if running and not (online or restart):
            raise ApiError(500, "can't migrate running container without --online or --restart")
        ct["config"]["lock"] = "migrate"

        def finish(task):
            ct["config"].pop("lock", None)
            if running and online:
                raise TaskError("lxc live migration is currently not implemented")
            volume = ct["config"].get("rootfs", "").split(",")[0]
            storage = volume.partition(":")[0]
            if ct["snapshots"] and self.storages.get(storage) not in SNAPSHOT_MIGRATABLE:
                # PVE/LXC/Migrate.pm, phase 1: only zfspool and btrfs volumes travel with their snapshots.
                task.log.extend(["found local volume '%s' (in current VM config)" % volume,
                                 "can't migrate local volume '%s': non-migratable snapshot exists" % volume,
                                 "aborting phase 1 - cleanup resources"])
                raise TaskError("can't migrate CT - check log")
            self._guest("migrate", node, target, vmid, ct["config"], running and restart)
            ct["node"] = target
            if running and restart:
                ct["status"] = "running"
                ct["started"] = time.time()
                task.log.append("start container on target node")

        def failed():
            ct["config"].pop("lock", None)
            if running and restart and ct["node"] == node and ct["status"] == "stopped":
                # final_cleanup: a CT shut down for the move runs again on the source.
                task = self.tasks[upid]
                task.log.insert(-1, "start final cleanup")
                task.log.insert(-1, "start container on source node")
                try:
                    self._guest("reboot", node, vmid, ct["config"])
                except TaskError as exc:
                    task.log.insert(-1, "ERROR: %s" % exc)
                    return
                ct["status"] = "running"
                ct["started"] = time.time()

        log = ["starting migration of CT %d to node '%s'" % (vmid, target)]
        if running and restart:
            ct["status"] = "stopped"
            log.append("shutdown CT %d" % vmid)
        upid = self._start_task(node, "vzmigrate", str(vmid), user, finish, log=log)
        self.tasks[upid].on_failure = failed
        return upid

    # Snapshots ----------------------------------------------------------------------------
    def _list_snapshots(self, params, user, node, vmid):
        ct = self._ct(node, vmid)
        current = {"name": "current", "description": "You are here!",
                   "running": 1 if ct["status"] == "running" else 0}
        if ct["config"].get("parent"):
            current["parent"] = ct["config"]["parent"]
        entries = [current]
        for name, snapshot in reversed(list(ct["snapshots"].items())):  # order is not fixed
            entry = {"name": name, "snaptime": snapshot["snaptime"],
                     "description": snapshot["description"]}
            if snapshot.get("parent"):
                entry["parent"] = snapshot["parent"]
            entries.append(entry)
        return entries

    def _create_snapshot(self, params, user, node, vmid):
        ct = self._ct(node, vmid)
        if "snapname" not in params:
            raise param_error({"snapname": MISSING})
        name = params["snapname"]
        if not CONFIGID_RE.match(name):
            raise param_error({"snapname": "invalid format - invalid configuration ID '%s'\n" % name})
        if len(name) > 40:
            raise param_error({"snapname": "value may only be 40 characters long"})
        if name in ("current", "vzdump"):
            raise ApiError(500, "invalid snapshot name '%s'" % name)
        self._check_unlocked(ct)
        ct["config"]["lock"] = "snapshot"

        def finish(task):
            ct["config"].pop("lock", None)
            if name in ct["snapshots"]:
                raise TaskError("snapshot name '%s' already used" % name)
            saved = dict((key, value) for key, value in ct["config"].items() if key != "parent")
            guest_image = self._guest("snapshot", node, vmid, name)
            ct["snapshots"][name] = {"config": copy.deepcopy(saved), "snaptime": int(time.time()),
                                     "description": params.get("description", ""),
                                     "parent": ct["config"].get("parent")}
            if guest_image:
                ct["snapshots"][name]["guest_image"] = guest_image
            ct["config"]["parent"] = name

        upid = self._start_task(node, "vzsnapshot", str(vmid), user, finish)
        self.tasks[upid].on_failure = lambda: ct["config"].pop("lock", None)
        return upid

    def _snapshot(self, ct, name):
        if name not in ct["snapshots"]:
            raise ApiError(500, "snapshot '%s' does not exist" % name)
        return ct["snapshots"][name]

    def _delete_snapshot(self, params, user, node, vmid, name):
        ct = self._ct(node, vmid)
        snapshot = self._snapshot(ct, name)
        self._check_unlocked(ct)

        def finish(task):
            for other in ct["snapshots"].values():
                if other.get("parent") == name:
                    other["parent"] = snapshot.get("parent")
            if ct["config"].get("parent") == name:
                if snapshot.get("parent"):
                    ct["config"]["parent"] = snapshot["parent"]
                else:
                    ct["config"].pop("parent")
            del ct["snapshots"][name]
            if snapshot.get("guest_image"):
                self._guest("delete_snapshot", snapshot["guest_image"])

        return self._start_task(node, "vzdelsnapshot", str(vmid), user, finish)

    def _get_snapshot_config(self, params, user, node, vmid, name):
        snapshot = self._snapshot(self._ct(node, vmid), name)
        config = copy.deepcopy(snapshot["config"])
        config.update(snaptime=snapshot["snaptime"], description=snapshot["description"])
        if snapshot.get("parent"):
            config["parent"] = snapshot["parent"]
        config["digest"] = _digest(config)
        return config

    def _put_snapshot_config(self, params, user, node, vmid, name):
        snapshot = self._snapshot(self._ct(node, vmid), name)
        unknown = dict((key, NOT_IN_SCHEMA) for key in params if key != "description")
        if unknown:
            raise param_error(unknown)
        if "description" in params:
            snapshot["description"] = params["description"]
        return None

    def _rollback(self, params, user, node, vmid, name):
        ct = self._ct(node, vmid)
        snapshot = self._snapshot(ct, name)
        self._check_unlocked(ct)
        start = str(params.get("start", "0")) == "1"
        ct["config"]["lock"] = "rollback"

        def finish(task):
            if ct["status"] == "running":
                task.log.append("stopping CT %d" % vmid)
                self._guest("stop", node, vmid)
                ct["status"] = "stopped"
            ct["config"] = copy.deepcopy(snapshot["config"])
            ct["config"]["parent"] = name
            ct["pending"] = {}
            if snapshot.get("guest_image"):
                self._guest("rollback", node, vmid, snapshot["guest_image"])
            if start:
                self._start_ct(task, node, vmid, ct)

        upid = self._start_task(node, "vzrollback", str(vmid), user, finish)
        self.tasks[upid].on_failure = lambda: ct["config"].pop("lock", None)
        return upid


# Helpers ---------------------------------------------------------------------------------

def _cookie(header, name):
    for part in header.split(";"):
        key, unused_part, value = part.strip().partition("=")
        if key == name:
            return unquote(value)
    return None


def _with_pending(config, pending):
    merged = dict(config)
    for key, value in pending.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _digest(config):
    return hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()


def _bytes(size):
    match = re.match(r"^(\d+(?:\.\d+)?)([KMGT]?)$", size)
    if not match:
        raise param_error({"size": "unable to parse size '%s'" % size})
    factor = {"": 1024 ** 3, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
    return int(float(match.group(1)) * factor[match.group(2)])


def _format_size(size):
    if size % 1024 ** 3 == 0:
        return "%dG" % (size // 1024 ** 3)
    return "%dM" % (size // 1024 ** 2)


def _parse_net(value):
    props = {}
    for item in value.split(","):
        key, unused_part, val = item.partition("=")
        props[key] = val
    return props


def _net_problem(value):
    props = _parse_net(value)
    if "name" not in props:
        return "invalid format - format error\nname: property is missing and it is not optional\n"
    ip = props.get("ip")
    if ip is not None and ip not in ("dhcp", "manual"):
        try:
            if "/" not in ip:
                raise ValueError(ip)
            ipaddress.IPv4Interface(ip)
        except ValueError:
            return ("invalid format - format error\nip: invalid format - value does not look "
                    "like a valid IPv4 network configuration\n")
    if "tag" in props and not (props["tag"].isdigit() and 1 <= int(props["tag"]) <= 4094):
        return "invalid format - format error\ntag: value must have a maximum value of 4094\n"
    if "hwaddr" in props and not re.match(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$", props["hwaddr"], re.I):
        return "invalid format - format error\nhwaddr: value does not look like a valid MAC address\n"
    if "gw" in props:
        try:
            ipaddress.IPv4Address(props["gw"])
        except ValueError:
            return "invalid format - format error\ngw: invalid format - value does not look like a valid IPv4 address\n"
    return None


def _with_hwaddr(value):
    """Store a net property as PVE prints it, generating a hwaddr when none is given
    (PVE does the same on every update that leaves hwaddr out)."""
    props = _parse_net(value)
    octets = tuple(random.randrange(256) for unused_octet in range(3))
    props.setdefault("hwaddr", "BC:24:11:%02X:%02X:%02X" % octets)
    props.setdefault("type", "veth")
    ordered = ["name=%s" % props.pop("name")] + ["%s=%s" % (key, props[key]) for key in sorted(props)]
    return ",".join(ordered)


# The HTTPS server --------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response: no Nagle and delayed-ACK stall between header and body
    server_version = "pve-api-daemon/3.0"
    sys_version = ""

    def log_message(self, *args):  # keep test output clean
        pass

    def _dispatch(self):
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            params.update(parse_qsl(self.rfile.read(length).decode("utf-8"),
                                    keep_blank_values=True))
        path = url.path
        double = self.server.double
        if not path.startswith(API_PREFIX + "/"):
            status, reason, body, delay = 501, "Unknown API format", {"data": None}, 0
        else:
            status, reason, body, delay = double.handle(self.command, path[len(API_PREFIX):],
                                                        params, self.headers)
        if delay:
            time.sleep(delay)
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status, reason)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


class PveServer:
    """Runs a PveDouble behind TLS on 127.0.0.1 in a background thread."""

    def __init__(self, double, certfile, keyfile):
        self.double = double
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.double = double
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def make_certificates(directory):
    """A CA and a server certificate for 127.0.0.1 signed by it; returns (ca, cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "virtlab test PVE CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                            crl_sign=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pve1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = [os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server.key")]
    with open(paths[0], "wb") as handle:
        handle.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return paths
