# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's static routes (as the kernel resolves them), its default route, IP forwarding, ICMP redirects and
their boot-time persistence: how they are read, the one plan, the host as the plan leaves it, and the result.

Shared by the static_routes module (which reads the host with observe_command() and parse_observation(),
plans, and applies the plan) and its action plugin (which reads the host with the same command and parser and
runs the module only when the plan is not empty). No Ansible import here beyond the argument spec, so both
sides and the unit tests use it as is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json

from ansible_collections.virtlab.core.plugins.module_utils.node import observe
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan

CONFIG_PATH = "/etc/virtlab/static-routes"
SCRIPT_PATH = "/usr/local/sbin/virtlab-static-routes"
UNIT_NAME = "virtlab-static-routes.service"
UNIT_PATH = "/etc/systemd/system/" + UNIT_NAME
WANTS_LINK = "/etc/systemd/system/multi-user.target.wants/" + UNIT_NAME
FORWARD_PATH = "/proc/sys/net/ipv4/ip_forward"
FORWARD_SYSCTL = "net.ipv4.ip_forward"
ROUTE_COMMAND = ["ip", "-j", "-4", "route", "show", "table", "main"]
ADDRESS_COMMAND = ["ip", "-j", "addr", "show"]
# One "PATH:VALUE" line per interface (all and default included) and redirect sysctl.
REDIRECT_SYSCTLS = ("accept_redirects", "send_redirects")
REDIRECTS_COMMAND = "grep -H . " + " ".join("/proc/sys/net/ipv4/conf/*/" + name for name in REDIRECT_SYSCTLS)
NO_DEFAULT = "absent"
# Whether the sysctls can be set: /proc/sys is writable, or it is read-only but the host may remount it
# (CAP_SYS_ADMIN, bit 21 of the effective capabilities).
SYSCTL_WRITABLE_TEST = ("[ -w %s ] || [ $(( 0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) >> 21 & 1 )) "
                        "-eq 1 ]" % FORWARD_PATH)

ARGUMENT_SPEC = dict(
    routes=dict(type="list", elements="dict", default=[], options=dict(
        dest=dict(type="str", required=True),
        via=dict(type="str", required=True),
    )),
    purge=dict(type="bool", default=True),
    forwarding=dict(type="bool"),
    persist=dict(type="bool", default=True),
    addresses=dict(type="list", elements="str"),
    destinations=dict(type="list", elements="str", default=[]),
    default_route=dict(type="str"),
    redirects=dict(type="bool"),
)

# Applied at boot by the unit: one "DEST via VIA" per line, "forwarding 0|1", "redirects 0|1" and "default absent"
# or "default via VIA".
BOOT_SCRIPT = """#!/bin/sh
# Written by virtlab.core.static_routes: re-applies the lab's static routes at boot.
set -u
status=0
set_sysctl() {
  # Usually as wanted already (Docker sets the lab's sysctls when it creates the node): nothing to write.
  [ "$(cat "$1")" = "$2" ] && return
  if [ -w "$1" ]; then echo "$2" > "$1" || status=1; return; fi
  # A read-only /proc/sys (unprivileged containers) is expected: remounted for the write (CAP_SYS_ADMIN). A remount
  # or a write that fails then is a real error: its message stays, and the unit fails.
  if mount -o remount,rw /proc/sys; then
    echo "$2" > "$1" || status=1
    mount -o remount,ro /proc/sys
  else
    echo "cannot set ${1#/proc/sys/} to $2: /proc/sys is read-only and remounting it failed" >&2
    status=1
  fi
}
while read -r kind a b; do
  case "$kind" in
    ''|'#'*) ;;
    forwarding) set_sysctl /proc/sys/net/ipv4/ip_forward "$a" ;;
    redirects)
      for f in %s; do set_sysctl "$f" "$a"; done ;;
    default)
      if [ "$a" = %s ]; then ip route del default 2>/dev/null; else ip route replace default via "$b" || status=1; fi ;;
    *) ip route replace "$kind" via "$b" || status=1 ;;
  esac
done < %s
exit $status
""" % (" ".join("/proc/sys/net/ipv4/conf/*/" + name for name in REDIRECT_SYSCTLS), NO_DEFAULT, CONFIG_PATH)

UNIT = """[Unit]
Description=virtlab static routes and IP forwarding
After=network.target
Wants=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=%s

[Install]
WantedBy=multi-user.target
""" % SCRIPT_PATH


class HostState:
    """What the decision needs to know about a host: {dest: via} gateway routes, forwarding, the persisted
    files' contents (None when missing), whether the boot unit is enabled, the IPv4 addresses {address/prefix:
    interface}, the interfaces with no IPv4 address at all (where a lost address goes back), the connected
    routes {subnet: interface}, how the kernel resolves each probed destination {address: gateway, None when
    on-link or unreachable}, the redirect sysctls {net.ipv4.conf.IF.NAME: "0"|"1"} and the default route's
    gateway (None when there is none)."""

    def __init__(self, routes, forwarding, files, unit_enabled, addresses=None, bare=None, connected=None,
                 **more):
        self.routes = routes
        self.forwarding = forwarding
        self.files = files
        self.unit_enabled = unit_enabled
        self.addresses = addresses or {}
        self.bare = bare or []
        self.connected = connected or {}
        self.resolved = more.get("resolved") or {}
        self.redirects = more.get("redirects") or {}
        self.default = more.get("default")
        self.sysctl_writable = more.get("sysctl_writable", True)

    def copy(self, **changes):
        values = dict(vars(self))
        values.update(changes)
        return HostState(**values)


def route_text(route):
    return "%s via %s" % (route["dest"], route["via"])


def normalise_routes(routes):
    """Declared routes as {dest: via}, normalised; ValueError names the bad route."""
    result = {}
    for route in routes:
        try:
            dest = str(ipaddress.ip_network(route["dest"], strict=False))
            via = str(ipaddress.ip_address(route["via"]))
        except ValueError as exc:
            raise ValueError("route %s via %s is not valid: %s" % (route["dest"], route["via"], exc))
        if dest in result and result[dest] != via:
            raise ValueError("route to %s is declared twice, via %s and via %s" % (dest, result[dest], via))
        result[dest] = via
    return result


def parse_kernel_routes(text):
    """Gateway routes of ``ip -j -4 route show table main``, except the default route: {dest: via}."""
    routes = {}
    for entry in json.loads(text or "[]"):
        if entry.get("dst") == "default" or "gateway" not in entry:
            continue
        dest = entry["dst"] if "/" in entry["dst"] else entry["dst"] + "/32"
        routes[str(ipaddress.ip_network(dest, strict=False))] = entry["gateway"]
    return routes


def parse_default(text):
    """The default route's gateway in ``ip -j -4 route show table main`` (a device route: its device), or None."""
    for entry in json.loads(text or "[]"):
        if entry.get("dst") == "default":
            return entry.get("gateway") or "dev " + str(entry.get("dev"))
    return None


def parse_resolution(text):
    """The gateway of ``ip -j -4 route get ADDRESS`` (None when on-link, or empty output: unreachable)."""
    entries = json.loads(text or "[]")
    return entries[0].get("gateway") if entries else None


def parse_redirects(text):
    """{net.ipv4.conf.IF.NAME: value} from REDIRECTS_COMMAND's output; the loopback never gets a redirect."""
    values = {}
    for line in (text or "").splitlines():
        path, sep, value = line.partition(":")
        parts = path.split("/")
        if sep and len(parts) == 8 and parts[6] != "lo":
            values["net.ipv4.conf.%s.%s" % (parts[6], parts[7])] = value.strip()
    return values


def sysctl_path(name):
    """The /proc/sys file of a sysctl name; an interface's name may hold dots (eth0.100)."""
    if name.startswith("net.ipv4.conf."):
        interface, unused_dot, key = name[len("net.ipv4.conf."):].rpartition(".")
        return "/proc/sys/net/ipv4/conf/%s/%s" % (interface, key)
    return "/proc/sys/" + name.replace(".", "/")


def probes(desired, destinations):
    """{address: declared destination} of the addresses whose resolution is checked: each route's first host, and
    every address of ``destinations`` (the topology's hosts) that a declared route covers (the most specific)."""
    networks = sorted((ipaddress.ip_network(dest) for dest in desired), key=lambda n: n.prefixlen, reverse=True)
    found = {}
    for network in networks:
        first = network.network_address + (1 if network.num_addresses > 2 else 0)
        found.setdefault(str(first), str(network))
    for address in destinations or []:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            raise ValueError("destination %s is not an IPv4 address" % address)
        covering = [n for n in networks if parsed in n]
        if covering:
            found.setdefault(str(parsed), str(covering[0]))
    return found


def parse_addresses(text):
    """From ``ip -j addr show``: ({address/prefix: interface} of the IPv4 addresses, [Ethernet interfaces with no
    IPv4 address]) - tunnels and loopback are never where a lab address goes."""
    addresses, bare = {}, []
    for link in json.loads(text or "[]"):
        inet = [info for info in link.get("addr_info") or [] if info.get("family") == "inet" and "local" in info]
        for info in inet:
            addresses["%s/%s" % (info["local"], info["prefixlen"])] = link.get("ifname")
        if not inet and link.get("link_type") == "ether":
            bare.append(link.get("ifname"))
    return addresses, sorted(bare)


def parse_connected(text):
    """Connected (link scope, no gateway) routes of ``ip -j -4 route show table main``: {subnet: interface}."""
    connected = {}
    for entry in json.loads(text or "[]"):
        if "gateway" not in entry and entry.get("dst") not in (None, "default") and entry.get("scope") == "link":
            dest = entry["dst"] if "/" in entry["dst"] else entry["dst"] + "/32"
            connected[str(ipaddress.ip_network(dest, strict=False))] = entry.get("dev")
    return connected


def normalise_addresses(addresses):
    """Declared interface addresses (10.77.1.10/24) in one form; ValueError names the bad one."""
    result = []
    for address in addresses or []:
        try:
            result.append(str(ipaddress.ip_interface(address)))
        except ValueError as exc:
            raise ValueError("address %s is not an interface address (e.g. 10.77.1.10/24): %s" % (address, exc))
    return result


def plan_addresses(state, declared):
    """[(verb, target, details)] making every declared address present with its connected route.

    A lost address goes back on the interface that lost it: the one interface left with no IPv4 address at all
    (interface names are not predictable - Docker's follow the order the networks were joined in - so nothing
    else tells). ValueError, before anything changes, when that is not one interface for one address.
    """
    missing = [address for address in declared if address not in state.addresses]
    if missing and len(missing) != len(state.bare) or len(missing) > 1:
        raise ValueError("address%s %s %s on no interface of this host, and the interfaces without an address "
                         "(%s) do not tell where %s: attach the host to the network again (for Docker, re-run the "
                         "provisioning) or add the address by hand" % (
                             "es" if len(missing) > 1 else "", ", ".join(missing), "are" if len(missing) > 1 else "is",
                             ", ".join(state.bare) or "none", "they go" if len(missing) > 1 else "it goes"))
    steps = []
    for address in declared:
        subnet = str(ipaddress.ip_interface(address).network)
        if address in missing:
            steps.append(("restore address", address, {"device": state.bare[0]}))
        elif state.connected.get(subnet) != state.addresses[address]:
            steps.append(("restore connected route", subnet, {"device": state.addresses[address],
                                                              "source": address.split("/")[0]}))
    return steps


def plan_routes(current, desired, purge):
    """(added, replaced, removed) as route dicts."""
    added = [{"dest": d, "via": v} for d, v in sorted(desired.items()) if d not in current]
    replaced = [{"dest": d, "via": v, "old": current[d]} for d, v in sorted(desired.items())
                if d in current and current[d] != v]
    removed = [{"dest": d, "via": v} for d, v in sorted(current.items()) if purge and d not in desired]
    return added, replaced, removed


def persisted_config(desired, forwarding, params=None):
    lines = ["# Written by virtlab.core.static_routes; applied at boot by virtlab-static-routes.service."]
    if forwarding is not None:
        lines.append("forwarding %d" % int(forwarding))
    params = params or {}
    if params.get("redirects") is not None:
        lines.append("redirects %d" % int(params["redirects"]))
    if params.get("default_route"):
        lines.append("default " + default_text(params["default_route"]))
    lines.extend(route_text({"dest": d, "via": v}) for d, v in sorted(desired.items()))
    return "\n".join(lines) + "\n"


def default_text(gateway):
    return NO_DEFAULT if gateway in (None, NO_DEFAULT) else "via " + gateway


def normalise_default(value):
    """The declared default route: None (not managed), NO_DEFAULT or the gateway address; ValueError otherwise."""
    if value is None or value == NO_DEFAULT:
        return value
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("default_route %s is neither an IPv4 address nor %s" % (value, NO_DEFAULT))


def plan_resolution(state, desired, params, changed):
    """[(dest, via, address, seen)] for each declared route already in the table whose probed destination the
    kernel resolves elsewhere (a route exception such as an accepted ICMP redirect): ``changed`` are the routes
    the plan adds or replaces anyway."""
    wrong = {}
    for address, dest in sorted(probes(desired, params.get("destinations")).items()):
        via = desired[dest]
        seen = state.resolved.get(address)
        if dest not in changed and state.routes.get(dest) == via and seen != via:
            wrong.setdefault(dest, (dest, via, address, seen))
    return [wrong[dest] for dest in sorted(wrong)]


ALL_ACCEPT_REDIRECTS = "net.ipv4.conf.all.accept_redirects"


def plan_redirects(state, params, forwarding=None):
    """{sysctl: value} of the redirect sysctls to set (every interface's, all and default); none when the host
    cannot set them (redirects_warning says so). ``forwarding`` is the value a planned forwarding change writes
    first: the kernel then resets all.accept_redirects to its opposite, so that one is compared with that."""
    if params.get("redirects") is None or not state.sysctl_writable:
        return {}
    value = str(int(params["redirects"]))
    seen = dict(state.redirects)
    if forwarding is not None and ALL_ACCEPT_REDIRECTS in seen:
        seen[ALL_ACCEPT_REDIRECTS] = str(int(not forwarding))
    return dict((name, value) for name, now in sorted(seen.items()) if now != value)


def redirects_warning(state, params):
    """The warning of a host whose redirect sysctls differ but cannot be set, or None."""
    if params.get("redirects") is None or state.sysctl_writable:
        return None
    value = str(int(params["redirects"]))
    wrong = sorted(name for name, seen in state.redirects.items() if seen != value)
    if not wrong:
        return None
    return ("%s not set to %s: /proc/sys is read-only here and the host may not remount it (no CAP_SYS_ADMIN); set "
            "them where the node is created" % (", ".join(wrong), value))


def persisted_files(desired, forwarding, params=None):
    """[(path, content, mode)] of the boot-time configuration."""
    return [(CONFIG_PATH, persisted_config(desired, forwarding, params), 0o644),
            (SCRIPT_PATH, BOOT_SCRIPT, 0o755),
            (UNIT_PATH, UNIT, 0o644)]


def plan(state, params):
    """The one decision, for check mode, the real run and the action plugin's shortcut alike: a Plan of
    ``remove``, ``add``, ``replace`` (target: the destination; details: via, and old for replace), ``set
    forwarding`` (value 0 or 1), ``write`` (target: the path; details: content, mode) and ``enable`` (the boot
    unit), in the order they are applied. ``params`` are the module's options (after validation); ValueError
    names a bad route."""
    desired = normalise_routes(params["routes"])
    added, replaced, removed = plan_routes(state.routes, desired, params["purge"])
    actions = Plan()
    # Addresses (and their connected routes) first: a gateway route needs its next hop on a connected subnet.
    declared = normalise_addresses(params.get("addresses"))
    for verb, target, details in plan_addresses(state, declared):
        actions.add(verb, target, text="%s {target} on {device}" % ("restored" if verb == "restore address"
                                                                    else "restored connected route"), **details)
    for route in removed:
        actions.add("remove", route["dest"], text="removed {target} via {via}", via=route["via"])
    for route in added:
        actions.add("add", route["dest"], text="added {target} via {via}", via=route["via"])
    for route in replaced:
        actions.add("replace", route["dest"], text="replaced {target} via {old} -> {via}", via=route["via"],
                    old=route["old"])
    # Deleting and adding the route again clears the kernel's exceptions (/proc/sys is read-only in containers:
    # no "ip route flush cache").
    changed = set(route["dest"] for route in added + replaced)
    for dest, via, address, seen in plan_resolution(state, desired, params, changed):
        actions.add("reinstall", dest, text="re-installed {target} via {via} ({address} resolved via {seen})",
                    via=via, address=address, seen=seen or "no gateway")
    default = normalise_default(params.get("default_route"))
    if default == NO_DEFAULT and state.default is not None:
        actions.add("remove default", "default", text="removed the default route via {via}", via=state.default)
    elif default not in (None, NO_DEFAULT) and state.default != default:
        actions.add("set default", "default", text="set the default route via {via}", via=default)
    forwarding = params["forwarding"]
    forwarding_change = forwarding is not None and forwarding != state.forwarding
    if forwarding_change:
        actions.add("set forwarding", FORWARD_SYSCTL, text="set {target} to {value}", value=int(forwarding))
    redirects = plan_redirects(state, params, forwarding if forwarding_change else None)
    if redirects:
        actions.add("set redirects", "net.ipv4.conf", text="set {count} redirect sysctls to {value} ({names})",
                    values=redirects, count=len(redirects), value=int(params["redirects"]),
                    names=", ".join(sorted(redirects)))
    if params["persist"]:
        for path, content, mode in persisted_files(desired, forwarding, params):
            if state.files.get(path) != content:
                actions.add("write", path, text="wrote {target}", content=content, mode=mode)
        if not state.unit_enabled:
            actions.add("enable", UNIT_NAME, text="enabled {target}")
    return actions


def expected(state, actions, params):
    """The HostState as ``actions`` leave it (check mode's answer, and the real run's once they are done)."""
    routes = dict(state.routes)
    for action in actions:
        if action.verb == "remove":
            routes.pop(action.target, None)
        elif action.verb in ("add", "replace"):
            routes[action.target] = action.details["via"]
    files = dict(state.files)
    files.update((action.target, action.details["content"]) for action in actions if action.verb == "write")
    forwarding = params["forwarding"] if params["forwarding"] is not None else state.forwarding
    addresses, bare, connected = dict(state.addresses), list(state.bare), dict(state.connected)
    for action in actions:
        if action.verb == "restore address":
            addresses[action.target] = action.details["device"]
            bare.remove(action.details["device"])
            connected[str(ipaddress.ip_interface(action.target).network)] = action.details["device"]
        elif action.verb == "restore connected route":
            connected[action.target] = action.details["device"]
    resolved = dict(state.resolved)
    probed = probes(normalise_routes(params["routes"]), params.get("destinations"))
    for action in actions:
        if action.verb in ("add", "replace", "reinstall"):
            resolved.update((address, action.details["via"]) for address, dest in probed.items()
                            if dest == action.target)
    redirects = dict(state.redirects)
    for action in actions:
        if action.verb == "set redirects":
            redirects.update(action.details["values"])
    default = state.default
    if actions.has("remove default"):
        default = None
    elif actions.has("set default"):
        default = actions.get("set default").details["via"]
    return state.copy(routes=routes, forwarding=forwarding, files=files,
                      unit_enabled=state.unit_enabled or actions.has("enable"), addresses=addresses, bare=bare,
                      connected=connected, resolved=resolved, redirects=redirects, default=default)


def network_text(state, params):
    """The host's lab networking as the diff shows it: the declared addresses and their connected routes, the
    gateway routes, how each probed destination resolves, the default route, forwarding and the redirect
    sysctls (those two when managed)."""
    lines = []
    for address in normalise_addresses(params.get("addresses")):
        subnet = str(ipaddress.ip_interface(address).network)
        lines.append("address %s on %s" % (address, state.addresses.get(address) or "(none)"))
        lines.append("connected %s on %s" % (subnet, state.connected.get(subnet) or "(none)"))
    lines.extend(routes_lines(state.routes))
    lines.extend("resolve %s via %s" % (address, state.resolved.get(address) or "no gateway")
                 for address in sorted(probes(normalise_routes(params["routes"]), params.get("destinations"))))
    if params.get("default_route") is not None:
        lines.append("default " + default_text(state.default))
    lines.append("forwarding %s" % int(state.forwarding))
    if params.get("redirects") is not None:
        lines.extend("%s = %s" % item for item in sorted(state.redirects.items()))
    return "".join(line + "\n" for line in lines)


def routes_lines(routes):
    return [route_text({"dest": d, "via": v}) for d, v in sorted(routes.items())]


def result(before, after, actions, params, want_diff):
    """What the task returns besides changed and actions: the host after the actions (or as it would be, in
    check mode), what each kind of action did, and the diff when asked for."""
    def routes_of(verb, line="{target} via {via}"):
        return [line.format(target=a.target, **a.details) for a in actions if a.verb == verb]

    outcome = dict(
        routes=routes_lines(after.routes),
        added=routes_of("add"),
        replaced=routes_of("replace", "{target} via {old} -> {via}"),
        removed=routes_of("remove"),
        forwarding=after.forwarding,
        persisted=[a.target if a.verb == "write" else a.render() for a in actions if a.verb in ("write", "enable")],
        resolved=["%s via %s" % (address, after.resolved.get(address) or "no gateway")
                  for address in sorted(probes(normalise_routes(params["routes"]), params.get("destinations")))],
        default_route=after.default,
    )
    warning = redirects_warning(after, params)
    if warning:
        outcome["warnings"] = [warning]
    if want_diff:
        outcome["diff"] = [{"before_header": "routes (kernel)", "after_header": "routes (declared)",
                            "before": network_text(before, params), "after": network_text(after, params)}]
        outcome["diff"].extend({"before_header": a.target, "after_header": a.target,
                                "before": before.files.get(a.target) or "", "after": a.details["content"]}
                               for a in actions if a.verb == "write")
    return outcome


# Reading a host -----------------------------------------------------------------------------------------------
def observe_command(params=None):
    """One POSIX shell command printing everything HostState holds; see parse_observation. ``params`` (the
    module's options) name the destinations to resolve (``ip route get``, as the kernel routes a packet); a
    destination the kernel cannot route prints nothing. ValueError for a route or destination that is not an
    address."""
    params = params or {}
    resolve = sorted(probes(normalise_routes(params.get("routes") or []), params.get("destinations")))
    return observe.script([observe.command("output", "routes", " ".join(ROUTE_COMMAND)),
                           observe.command("output", "addresses", " ".join(ADDRESS_COMMAND)),
                           observe.command("output", "forwarding", "cat " + FORWARD_PATH),
                           observe.command("output", "redirects", REDIRECTS_COMMAND + " 2>/dev/null || true")]
                          + [observe.command("resolve", address, "ip -j -4 route get %s 2>/dev/null || true"
                                             % address) for address in resolve]
                          + [observe.file_command(path) for path, unused_1, unused_2 in persisted_files({}, None)]
                          + [observe.flag_command("unit-enabled", "[ -L %s ]" % WANTS_LINK),
                             observe.flag_command("sysctl-writable", SYSCTL_WRITABLE_TEST)])


def parse_observation(text):
    """HostState from the output of observe_command(); ValueError when it is not what that command prints."""
    sections = observe.parse_sections(text)
    files, flags, outputs = observe.files_and_flags(section for section in sections if section[0] != "resolve")
    if "routes" not in outputs or "forwarding" not in outputs or "unit-enabled" not in flags:
        raise ValueError("incomplete static routes observation")
    return HostState(parse_kernel_routes(outputs["routes"]), outputs["forwarding"].strip() == "1",
                     dict((path, None if entry is None else entry[1]) for path, entry in files.items()),
                     flags["unit-enabled"], *parse_addresses(outputs.get("addresses")),
                     connected=parse_connected(outputs["routes"]),
                     resolved=dict((name, parse_resolution(content)) for kind, name, content in sections
                                   if kind == "resolve"),
                     redirects=parse_redirects(outputs.get("redirects")), default=parse_default(outputs["routes"]),
                     sysctl_writable=flags.get("sysctl-writable", True))
