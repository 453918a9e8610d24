# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox VE's data formats: property strings, sizes, UPIDs, a CT's config in comparable form and API
error text (no Ansible import; unit-tested directly)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


def parse_property_string(text, default_key=None):
    """Parse a PVE property string ("name=eth0,bridge=vmbr0,ip=dhcp") into a dict.

    An item without "=" is the value of ``default_key`` (e.g. the volume of
    "local-lvm:vm-100-disk-0,size=8G" with default_key="volume").
    """
    result = {}
    if text is None:
        return result
    for item in str(text).split(","):
        item = item.strip()
        if not item:
            continue
        if "=" in item:
            key, value = item.split("=", 1)
            result[key.strip()] = value.strip()
        elif default_key is not None and default_key not in result:
            result[default_key] = item
        else:
            raise ValueError("cannot parse %r in property string %r" % (item, text))
    return result


def format_property_string(props, first_key=None, default_key=None):
    """Format a dict as PVE prints it: ``first_key`` (or the bare ``default_key`` value)
    first, then the other keys in alphabetical order; None values are left out."""
    items = []
    if default_key is not None and props.get(default_key) is not None:
        items.append(str(props[default_key]))
    if first_key is not None and props.get(first_key) is not None:
        items.append("%s=%s" % (first_key, props[first_key]))
    for key in sorted(props):
        if key in (first_key, default_key) or props[key] is None:
            continue
        items.append("%s=%s" % (key, props[key]))
    return ",".join(items)


_SIZE_UNITS = {"": 1024 ** 3, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}


def size_to_bytes(size):
    """'8G', '8192M', '8' (GiB, as the API reads a bare number for disks) -> bytes."""
    if isinstance(size, (int, float)) and not isinstance(size, bool):
        return int(size * _SIZE_UNITS["G"])
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", str(size), re.IGNORECASE)
    if not match:
        raise ValueError("invalid size %r (expected e.g. 8, 8G or 512M)" % (size,))
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])


def format_size_gib(size_bytes):
    """Bytes -> the API's GiB notation ('8G'); sizes below whole GiB keep M."""
    if size_bytes % _SIZE_UNITS["G"] == 0:
        return "%dG" % (size_bytes // _SIZE_UNITS["G"])
    return "%dM" % (size_bytes // _SIZE_UNITS["M"])


_BOOL_VALUES = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False,
                "on": True, "off": False}


def to_bool(value):
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    try:
        return _BOOL_VALUES[str(value).strip().lower()]
    except KeyError:
        raise ValueError("invalid boolean %r" % (value,))


# The keys of an LXC net[n] property a user manages, each with its normaliser.
NET_KEYS = {
    "name": str,
    "bridge": str,
    "ip": lambda v: str(v).lower() if str(v).lower() in ("dhcp", "manual") else str(v),
    "gw": str,
    "ip6": lambda v: str(v).lower(),
    "gw6": lambda v: str(v).lower(),
    "firewall": to_bool,
    "tag": int,
    "mtu": int,
    "rate": float,
    "hwaddr": lambda v: str(v).upper(),
    "type": str,
}


def normalise_net(props):
    """Normalise a parsed (or user-given) net[n] dict: typed values, None left out."""
    result = {}
    for key, value in props.items():
        if value is None:
            continue
        convert = NET_KEYS.get(key, str)
        result[key] = convert(value)
    return result


def net_to_api(props):
    """A normalised net dict -> the property string the API takes (booleans as 0/1)."""
    printable = {}
    for key, value in props.items():
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        printable[key] = value
    return format_property_string(printable, first_key="name")


def net_differences(current, desired):
    """Keys of ``desired`` (a normalised net dict) that differ from ``current``.

    Keys the user did not set are not managed: a generated ``hwaddr`` or the default
    ``type=veth`` is never a difference.
    """
    return dict((key, (current.get(key), want)) for key, want in desired.items()
                if current.get(key) != want)


def parse_rootfs(text):
    """'local-lvm:vm-100-disk-0,size=8G' -> {'volume': ..., 'storage': 'local-lvm', 'size': bytes}."""
    props = parse_property_string(text, default_key="volume")
    volume = props.get("volume", "")
    props["storage"] = volume.split(":", 1)[0] if ":" in volume else None
    if "size" in props:
        props["size"] = size_to_bytes(props["size"])
    return props


UPID_RE = re.compile(
    r"^UPID:(?P<node>[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):(?P<pid>[0-9A-Fa-f]{8}):"
    r"(?P<pstart>[0-9A-Fa-f]{8,9}):(?P<starttime>[0-9A-Fa-f]{8}):(?P<type>[^:\s]+):"
    r"(?P<id>[^:\s]*):(?P<user>[^:\s]+):$"
)


def parse_upid(upid):
    """Split a task id 'UPID:node:pid:pstart:starttime:type:id:user:' into its parts."""
    match = UPID_RE.match(str(upid or ""))
    if not match:
        raise ValueError("not a Proxmox task id (UPID): %r" % (upid,))
    return dict(match.groupdict())


# Keys that describe a snapshot or the config file itself rather than the CT.
CONFIG_META_KEYS = frozenset(("digest", "parent", "snaptime", "snapstate", "description", "lock"))


def comparable_config(config):
    """A CT config (current or a snapshot's) reduced to what a rollback would restore,
    with property strings parsed and normalised so formatting is not a difference."""
    result = {}
    for key, value in (config or {}).items():
        if key in CONFIG_META_KEYS:
            continue
        if re.match(r"^net\d+$", key):
            result[key] = normalise_net(parse_property_string(value))
        elif key == "rootfs" or re.match(r"^mp\d+$", key):
            result[key] = parse_rootfs(value)
        else:
            result[key] = str(value)
    return result


def describe_api_error(status_code, reason, errors):
    """One readable line from an API error: status, reason phrase, parameter errors."""
    text = "%s %s" % (status_code, (reason or "").strip())
    if errors:
        if isinstance(errors, dict):
            detail = "; ".join("%s: %s" % (key, str(errors[key]).strip()) for key in sorted(errors))
        else:
            detail = str(errors).strip()
        text += " (%s)" % detail
    return text


# Task failures a student meets often, recognised by a line of the task's log: (pattern, what it means
# and what to do). ``{0}`` is the first group of the pattern.
TASK_HINTS = (
    (re.compile(r"can't migrate local volume '([^']+)': non-migratable snapshot exists"),
     "the CT has snapshots and its disk {0} is on storage that cannot move snapshots to another node "
     "(on local-lvm and local a CT with snapshots cannot migrate; zfspool and btrfs storage can). "
     "Delete its snapshots first (proxmox_ct_snapshot state=absent), or create the CT on ZFS or btrfs storage"),
)
RESTARTED_ON_SOURCE = "start container on source node"


def task_hint(log):
    """What a failed task's log means for the user, or None; says when the CT was started again on its node."""
    for pattern, text in TASK_HINTS:
        for line in log:
            match = pattern.search(line)
            if match:
                hint = text.format(*match.groups())
                if RESTARTED_ON_SOURCE in log:
                    hint += ". The CT was started again on its node"
                return hint
    return None
