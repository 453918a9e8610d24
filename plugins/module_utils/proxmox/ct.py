# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a Proxmox CT is compared: its config as the module reports it, the declared options checked and
normalised, and the PUT /config parameters that make one match the other (no Ansible import; unit-tested
directly). The proxmox_ct module plans with these and only adds the API calls."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.virtlab.core.plugins.module_utils.compare import differences
from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.proxmox.properties import (
    format_property_string,
    format_size_gib,
    net_differences,
    net_to_api,
    normalise_net,
    parse_property_string,
    parse_rootfs,
    size_to_bytes,
    to_bool,
)

# Values the API uses when a key is missing from a CT's config.
CONFIG_DEFAULTS = {"memory": 512, "swap": 512, "onboot": False, "unprivileged": False}
SCALAR_KEYS = ("hostname", "cores", "memory", "swap", "onboot")


# The boolean features of an LXC CT; the others (mount, ...) are strings.
BOOL_FEATURES = ("nesting", "keyctl", "fuse", "mknod", "force_rw_sys")


def normalise_features(features):
    """{name: bool or str} from a parsed ``features`` property string or the declared option."""
    return dict((key, to_bool(value) if key in BOOL_FEATURES else str(value))
                for key, value in (features or {}).items() if value is not None)


def features_to_api(features):
    return format_property_string(dict((key, int(value) if isinstance(value, bool) else value)
                                       for key, value in features.items()))


def net_index(key):
    return int(key[3:]) if key.startswith("net") and key[3:].isdigit() else None


def ct_view(entry, config, status):
    """The CT as the module reports and compares it: typed values, parsed properties.

    ``_net_indexes`` (the N of each netN, in order) is internal: ``public`` leaves it out."""
    rootfs = parse_rootfs(config["rootfs"]) if config.get("rootfs") else {}
    interfaces = {}
    for key, value in config.items():
        index = net_index(key)
        if index is not None:
            interfaces[index] = normalise_net(parse_property_string(value))

    def number(key):
        value = config.get(key, CONFIG_DEFAULTS.get(key))
        return int(value) if value is not None else None

    return dict(
        vmid=int(entry["vmid"]),
        node=entry["node"],
        status=status,
        hostname=config.get("hostname"),
        cores=number("cores"),
        memory=number("memory"),
        swap=number("swap"),
        onboot=to_bool(config.get("onboot", CONFIG_DEFAULTS["onboot"])),
        unprivileged=to_bool(config.get("unprivileged", CONFIG_DEFAULTS["unprivileged"])),
        storage=rootfs.get("storage"),
        disk_size=format_size_gib(rootfs["size"]) if rootfs.get("size") else None,
        features=normalise_features(parse_property_string(config.get("features"))),
        interfaces=[interfaces[index] for index in sorted(interfaces)],
        _net_indexes=sorted(interfaces),
    )


def pending_keys(entries):
    """The keys of GET .../pending that wait for a restart (a new value or a deletion)."""
    return sorted(entry["key"] for entry in entries or [] if "pending" in entry or entry.get("delete"))


def public(view):
    """A view without its internal (``_``) keys: what the module returns and diffs."""
    return dict((key, value) for key, value in (view or {}).items() if not key.startswith("_"))


def desired_net(index, item):
    """One declared interface, checked and normalised; ``name`` defaults to eth<index>."""
    where = "interfaces[%d]" % index
    ip = item.get("ip")
    if ip is not None and ip.lower() not in ("dhcp", "manual"):
        try:
            if "/" not in ip:
                raise ValueError("no prefix length")
            ipaddress.IPv4Interface(ip)
        except ValueError as exc:
            raise VirtlabError("%s.ip must be dhcp, manual or an IPv4 address with prefix "
                               "like 192.0.2.10/24; got %r (%s)" % (where, ip, exc))
    if item.get("gw") is not None:
        if ip is None or ip.lower() in ("dhcp", "manual"):
            raise VirtlabError("%s.gw needs a static ip (with ip=%s the gateway comes from "
                               "DHCP or is not set)" % (where, ip))
        try:
            ipaddress.IPv4Address(item["gw"])
        except ValueError:
            raise VirtlabError("%s.gw must be an IPv4 address, got %r" % (where, item["gw"]))
    wanted = dict(item)
    wanted["name"] = wanted.get("name") or "eth%d" % index
    return normalise_net(wanted)


def _at_least(params, key, minimum, text):
    if params[key] is not None and params[key] < minimum:
        raise VirtlabError(text % params[key])


def desired(params):
    """The declared CT, checked and normalised, raising before anything is read or changed:
    {scalars, interfaces (None: not managed), disk_bytes}."""
    if params["migration"] == "online":
        raise VirtlabError("migration=online is not possible: Proxmox VE has no live "
                           "migration for LXC containers. Use migration=restart (the CT "
                           "is shut down, moved and started again) or offline")
    if params["password"] is not None and len(params["password"]) < 5:
        raise VirtlabError("password must have at least 5 characters")
    _at_least(params, "memory", 16, "memory must be at least 16 (MiB), got %s")
    _at_least(params, "cores", 1, "cores must be at least 1, got %s")
    _at_least(params, "swap", 0, "swap cannot be negative, got %s")
    disk_bytes = None
    if params["disk_size"] is not None:
        try:
            disk_bytes = size_to_bytes(params["disk_size"])
        except ValueError as exc:
            raise VirtlabError("disk_size: %s" % exc)
    interfaces = None
    if params["interfaces"] is not None:
        interfaces = [desired_net(index, item) for index, item in enumerate(params["interfaces"])]
    scalars = dict((key, params[key]) for key in SCALAR_KEYS)
    if params["vmid"] is None:
        scalars["hostname"] = None  # it identifies the CT, it is not a value to set
    try:
        features = None if params.get("features") is None else normalise_features(params["features"])
    except ValueError as exc:
        raise VirtlabError("features: %s (%s are true or false)" % (exc, ", ".join(BOOL_FEATURES)))
    return dict(scalars=scalars, interfaces=interfaces, disk_bytes=disk_bytes, features=features)


def config_changes(current, want):
    """The PUT /config parameters that make the config match: (update, delete)."""
    update = {}
    for key, (_have, value) in differences(current, want["scalars"]).items():
        update[key] = int(value) if isinstance(value, bool) else value
    if want["features"] and any(current["features"].get(key) != value for key, value in want["features"].items()):
        # Only the declared features are compared; the others are kept.
        update["features"] = features_to_api(dict(current["features"], **want["features"]))
    delete = []
    if want["interfaces"] is not None:
        indexes = current["_net_indexes"]
        have_by_index = dict(zip(indexes, current["interfaces"]))
        for index, net in enumerate(want["interfaces"]):
            have = have_by_index.get(index, {})
            if index not in have_by_index or net_differences(have, net):
                merged = dict(have)
                merged.update(net)
                update["net%d" % index] = net_to_api(merged)
        delete = ["net%d" % index for index in indexes if index >= len(want["interfaces"])]
    return update, delete


def updated_view(current, update, delete):
    """The keys of the CT's view that ``update`` and ``delete`` change, as they will read."""
    changed = {}
    for key, value in update.items():
        if key == "features":
            changed[key] = normalise_features(parse_property_string(value))
        elif net_index(key) is None:
            changed[key] = bool(value) if key == "onboot" else value
    if any(net_index(key) is not None for key in update) or delete:
        nets = dict(zip(current["_net_indexes"], current["interfaces"]))
        for key, value in update.items():
            if net_index(key) is not None:
                nets[net_index(key)] = normalise_net(parse_property_string(value))
        for key in delete:
            nets.pop(net_index(key), None)
        changed["interfaces"] = [nets[index] for index in sorted(nets)]
        changed["_net_indexes"] = sorted(nets)
    return changed


def create_parameters(params, want, vmid):
    """The POST /nodes/{node}/lxc parameters of a new CT (None values are left out by the client)."""
    create = dict(vmid=vmid, ostemplate=params["ostemplate"], hostname=params["hostname"],
                  password=params["password"], cores=params["cores"],
                  memory=params["memory"], swap=params["swap"],
                  unprivileged=int(params["unprivileged"]) if params["unprivileged"] is not None else None,
                  onboot=int(params["onboot"]) if params["onboot"] is not None else None)
    if params["ssh_public_keys"]:
        create["ssh-public-keys"] = "\n".join(params["ssh_public_keys"]) + "\n"
    if want["features"]:
        create["features"] = features_to_api(want["features"])
    if want["disk_bytes"] is not None:
        gib = want["disk_bytes"] / 1024.0 ** 3
        create["rootfs"] = "%s:%s" % (params["storage"] or "local",
                                      int(gib) if gib.is_integer() else round(gib, 3))
    else:
        create["storage"] = params["storage"]
    for index, net in enumerate(want["interfaces"] or []):
        create["net%d" % index] = net_to_api(net)
    return create


def created_view(params, want, vmid, running):
    """A new CT as the module will report it (check mode's answer for a creation)."""
    return dict(vmid=vmid, node=params["node"], status="running" if running else "stopped",
                hostname=params["hostname"], cores=params["cores"],
                memory=params["memory"] or CONFIG_DEFAULTS["memory"],
                swap=params["swap"] if params["swap"] is not None else CONFIG_DEFAULTS["swap"],
                onboot=bool(params["onboot"]), unprivileged=bool(params["unprivileged"]),
                storage=params["storage"],
                disk_size=format_size_gib(want["disk_bytes"]) if want["disk_bytes"] is not None else None,
                features=want["features"] or {}, interfaces=want["interfaces"] or [])
