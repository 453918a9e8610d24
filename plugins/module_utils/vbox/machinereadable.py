# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VBoxManage's output, parsed: ``--machinereadable`` listings, VM info, NAT forwarding rules, snapshot lists,
OS types, guest properties, and its error lines (no Ansible import; unit-tested directly)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re


# VM states in which a session holds the machine: settings change through controlvm only.
SESSION_STATES = frozenset(["running", "paused", "starting", "stopping", "saving", "restoring",
                            "livesnapshotting", "teleporting", "onlinesnapshotting"])
# VM states in which modifyvm may change settings.
MUTABLE_STATES = frozenset(["poweroff", "aborted"])

WSL_VBOXMANAGE = "/mnt/c/Program Files/Oracle/VirtualBox/VBoxManage.exe"
NOT_FOUND_CODE = "VBOX_E_OBJECT_NOT_FOUND"
TRANSIENT_LOCK_TEXTS = (
    "is already locked for a session (or being unlocked)",
    "already has a lock request pending",
)

_ERROR_LINE = re.compile(r"^VBoxManage[.\w]*: error: ?(.*)$", re.MULTILINE)
_DETAILS_CODE = re.compile(r"Details: code (\w+)")
_BARE_FIELD = re.compile(r"^([A-Za-z][\w ]*?):\s+(.*)$")
_FORWARDING_KEY = re.compile(r"^Forwarding\((\d+)\)$")
_NIC_KEY = re.compile(r"^nic(\d+)$")
_ATTACHMENT_KEY = re.compile(r"^(.+)-(\d+)-(\d+)$")
_WINDOWS_PATH = re.compile(r"^([A-Za-z]):[\\/]")


def _unescape(value):
    # VirtualBox 7 escapes '"' and '\' inside quoted values; older versions print them raw,
    # which this leaves intact (a lone backslash is kept as is).
    return re.sub(r'\\(["\\])', r"\1", value)


def _split_key(line):
    """(key, rest after '=') or None. Keys with spaces or dashes are quoted: "SATA-0-0"=..."""
    if line.startswith('"'):
        end = line.find('"=', 1)
        if end < 0:
            return None
        return line[1:end], line[end + 2:]
    key, sep, rest = line.partition("=")
    if not sep or not key or " " in key:
        return None
    return key, rest


def iter_machinereadable(text):
    """Yield (key, value) in output order from ``--machinereadable`` text.

    Quoted values are strings; unquoted all-digit values are ints (memory=1024); a quoted
    value whose closing quote is on a later line (an old VirtualBox's raw multi-line
    description) is joined. Bare ``Name:   value`` lines (VirtualBox 7.0 prints
    ``Encryption:     disabled``) are yielded as (Name, value); other lines are skipped.
    """
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].rstrip("\r")
        index += 1
        if not line.strip():
            continue
        split = _split_key(line)
        if split is None:
            bare = _BARE_FIELD.match(line)
            if bare:
                yield bare.group(1), bare.group(2).strip()
            continue
        key, raw = split
        if raw.startswith('"'):
            value = raw[1:]
            while not value.endswith('"') and index < len(lines):
                value += "\n" + lines[index].rstrip("\r")
                index += 1
            if value.endswith('"'):
                value = value[:-1]
            yield key, _unescape(value)
        elif raw.isdigit():
            yield key, int(raw)
        else:
            yield key, raw


def parse_machinereadable(text):
    """``--machinereadable`` output as a dict (for a repeated key, the last value wins)."""
    return dict(iter_machinereadable(text))


def parse_forwarding_rule(rule):
    """Parse "name,proto,hostip,hostport,guestip,guestport" into a normalised dict.

    Raises ValueError saying what is wrong. The protocol is lower-cased and ports become
    ints, so "SSH,TCP,,02222,,22" and "SSH,tcp,,2222,,22" are the same rule.
    """
    if not isinstance(rule, str):
        raise ValueError("a rule is a string 'name,proto,hostip,hostport,guestip,guestport'")
    fields = [field.strip() for field in rule.split(",")]
    if len(fields) != 6:
        raise ValueError("expected 6 comma-separated fields 'name,proto,hostip,hostport,guestip,guestport', "
                         "found %d" % len(fields))
    name, protocol, host_ip, host_port, guest_ip, guest_port = fields
    if not name:
        raise ValueError("the rule needs a name (first field): the module matches rules by name")
    protocol = protocol.lower()
    if protocol not in ("tcp", "udp"):
        raise ValueError("protocol must be tcp or udp, not %r" % fields[1])
    ports = []
    for label, port in (("host port", host_port), ("guest port", guest_port)):
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError("%s must be a number from 1 to 65535, not %r" % (label, port))
        ports.append(int(port))
    return {"name": name, "protocol": protocol, "host_ip": host_ip, "host_port": ports[0],
            "guest_ip": guest_ip, "guest_port": ports[1]}


def format_forwarding_rule(rule):
    """The canonical "name,proto,hostip,hostport,guestip,guestport" text of a parsed rule."""
    return "%(name)s,%(protocol)s,%(host_ip)s,%(host_port)d,%(guest_ip)s,%(guest_port)d" % rule


def normalise_forwarding_rule(rule):
    return format_forwarding_rule(parse_forwarding_rule(rule))


def parse_vm_info(text):
    """The normalised view of ``showvminfo --machinereadable``, the one dict modules compare.

    Forwarding(i) lines carry no NIC number: each belongs to the nicN line printed before it.
    """
    raw = {}
    nics = {}
    forwarding = {}
    current_nic = None
    for key, value in iter_machinereadable(text):
        raw[key] = value
        nic = _NIC_KEY.match(key)
        if nic:
            current_nic = int(nic.group(1))
            nics[current_nic] = value
            continue
        if _FORWARDING_KEY.match(key) and current_nic is not None:
            forwarding.setdefault(current_nic, []).append(normalise_forwarding_rule(value))
    controllers = [value for key, value in raw.items() if key.startswith("storagecontrollername")]
    disks = []
    for key, value in raw.items():
        attachment = _ATTACHMENT_KEY.match(key)
        if attachment and attachment.group(1) in controllers and value not in ("none", "emptydrive"):
            controller, port, device = attachment.groups()
            disks.append({"controller": controller, "port": int(port), "device": int(device), "path": value,
                          "uuid": raw.get("%s-ImageUUID-%s-%s" % (controller, port, device))})
    return {
        "name": raw.get("name"),
        "uuid": raw.get("UUID"),
        "state": raw.get("VMState"),
        "ostype": raw.get("ostype"),
        "memory": raw.get("memory"),
        "cpus": raw.get("cpus"),
        "nics": dict((str(n), kind) for n, kind in sorted(nics.items()) if kind != "none"),
        "forwarding": dict((str(n), rules) for n, rules in sorted(forwarding.items())),
        "internal_networks": dict((str(n), raw.get("intnet%d" % n)) for n, kind in sorted(nics.items())
                                  if kind == "intnet"),
        "macs": dict((str(n), format_mac(raw.get("macaddress%d" % n))) for n, kind in sorted(nics.items())
                     if kind != "none" and raw.get("macaddress%d" % n)),
        "controllers": controllers,
        "disks": disks,
        "config_file": raw.get("CfgFile"),
        "current_snapshot": raw.get("CurrentSnapshotName"),
    }


def format_mac(mac):
    """VirtualBox's MAC address (080027AABBCC) as a guest names it: 08:00:27:AA:BB:CC."""
    mac = str(mac).replace(":", "").upper()
    return ":".join(mac[i:i + 2] for i in range(0, len(mac), 2))


def parse_snapshot_list(text):
    """``snapshot <vm> list --machinereadable`` -> {"snapshots": [{name, uuid, description,
    parent}], "current": name or None}. The key suffix ("-1-2") is the path in the tree."""
    by_node = {}
    order = []
    current_node = None
    for key, value in iter_machinereadable(text):
        if key == "CurrentSnapshotNode":
            current_node = value
            continue
        for field in ("Name", "UUID", "Description"):
            prefix = "Snapshot" + field
            if key == prefix or key.startswith(prefix + "-"):
                node = key[len(prefix):]
                if node not in by_node:
                    by_node[node] = {}
                    order.append(node)
                by_node[node][field.lower()] = value
    snapshots = []
    for node in order:
        parent = node.rsplit("-", 1)[0] if node else None
        entry = by_node[node]
        snapshots.append({"name": entry.get("name"), "uuid": entry.get("uuid"),
                          "description": entry.get("description", ""),
                          "parent": by_node.get(parent, {}).get("name") if node else None})
    current = None
    if current_node is not None:
        current = by_node.get(current_node[len("SnapshotName"):], {}).get("name")
    return {"snapshots": snapshots, "current": current}


def parse_ostypes(text):
    """``list ostypes`` -> {ID: Description}. Blocks of "Key:   value" lines."""
    types = {}
    current_id = None
    for line in text.splitlines():
        field = _BARE_FIELD.match(line.strip())
        if not field:
            continue
        if field.group(1) == "ID":
            current_id = field.group(2).strip()
            types[current_id] = current_id
        elif field.group(1) == "Description" and current_id:
            types[current_id] = field.group(2).strip()
    return types


def parse_hdds(text):
    """``list hdds`` (the media registry) -> {Location: {uuid, state, format, in_use: [VM names]}}. Blocks of
    "Key:   value" lines, one per disk, separated by empty lines."""
    disks = {}
    block = {}
    for line in text.splitlines() + [""]:
        field = _BARE_FIELD.match(line.strip())
        if field:
            block[field.group(1)] = field.group(2).strip()
            continue
        if block.get("Location"):
            users = re.findall(r"(?:^|,\s*)(.+?) \(UUID: [0-9a-fA-F-]+\)", block.get("In use by VMs", ""))
            disks[block["Location"]] = {"uuid": block.get("UUID"), "state": block.get("State"),
                                        "format": block.get("Storage format"), "in_use": users}
        block = {}
    return disks


def parse_guest_property(text):
    """``guestproperty get`` output: the value, or None for "No value set!"."""
    for line in text.splitlines():
        if line.startswith("Value: "):
            return line[len("Value: "):].strip()
    return None


def find_vboxmanage_error(rc, stderr):
    """None when the call succeeded, else {"message", "code"}.

    A call failed when it exits non-zero or prints "VBoxManage: error:" on stderr (some
    commands do that and still exit 0). The message is the error lines without the
    "Details:"/"Context:" ones; the code is VirtualBox's (VBOX_E_..., E_..., NS_ERROR_...).
    """
    errors = _ERROR_LINE.findall(stderr or "")
    if rc == 0 and not errors:
        return None
    code = _DETAILS_CODE.search(stderr or "")
    lines = [line.strip() for line in errors if line.strip() and not line.startswith(("Details:", "Context:"))]
    if not lines:
        lines = [line.strip() for line in (stderr or "").splitlines()
                 if line.strip() and not re.match(r"^[\d%.]+$", line.strip())][-3:]
    return {"message": " ".join(lines) or "exit code %s" % rc, "code": code.group(1) if code else None}


# What a failed call means, for the modules that handle it: a kind, from VirtualBox's words (its codes are
# too coarse: NS_ERROR_INVALID_ARG is also a malformed rule, VBOX_E_INVALID_OBJECT_STATE also a session lock).
ERROR_KINDS = (
    ("rule_exists", re.compile(r"A NAT rule of this name already exists")),
    ("host_port_taken", re.compile(r"A NAT rule for this host port and this host IP already exists")),
    ("medium_locked", re.compile(r"is locked for (writing|reading) by another task|Failed to lock source media")),
    ("access_denied", re.compile(r"VERR_ACCESS_DENIED")),
    ("no_snapshots", re.compile(r"does not have any snapshots")),
)


def error_kind(message, stdout=""):
    """The kind of a VBoxManage failure (see ERROR_KINDS) from its message and stdout, or None."""
    text = "%s\n%s" % (message or "", stdout or "")
    return next((kind for kind, pattern in ERROR_KINDS if pattern.search(text)), None)


def is_transient_lock(stderr):
    return any(text in (stderr or "") for text in TRANSIENT_LOCK_TEXTS)


def host_path(path):
    """A path as VirtualBox will be given it: absolute, except a Windows path (VBoxManage.exe
    from WSL), which is kept as written."""
    return path if _WINDOWS_PATH.match(path) else os.path.abspath(path)


def controller_view(path):
    """Where the controller sees a host path: WSL mounts drive C: at /mnt/c."""
    drive = _WINDOWS_PATH.match(path)
    if drive:
        return "/mnt/%s/%s" % (drive.group(1).lower(), path[3:].replace("\\", "/"))
    return path
