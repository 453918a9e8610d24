# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Grading a lab against its topology, without changing it (no Ansible import).

Each host is read with one read-only shell command (``observe_script``: its IPv4 addresses, how the kernel
resolves each destination the topology routes, forwarding on routers, and each of its services asked one
question in its own protocol); ``host_checks`` turns that output into checks, and ``probe_checks`` turns the
reachability matrix's probe results into more. ``objective5_checks`` (Docker: the committed image and the
container started from it) and ``objective8_checks`` (OpenStack: the snapshot and the resized server) turn the
results of read-only module calls on the controller into checks. Every check names its objective, its host, what was expected
and what was seen. ``report_*`` render the checks for a terminal, a Markdown report and JUnit XML.

The lab may have been built by anyone, by hand or with our roles: only its effective state is read (addresses
present, routes as the kernel resolves them), never the files our roles write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from xml.sax.saxutils import escape, quoteattr

from ansible_collections.virtlab.core.plugins.module_utils.node import observe
from ansible_collections.virtlab.core.plugins.module_utils.topology.model import interfaces, is_router
from ansible_collections.virtlab.core.plugins.module_utils.topology.probes import DEFAULT_REQUESTS
from ansible_collections.virtlab.core.plugins.module_utils.topology.routing import routes, service_address

# Which step of the lab each kind of check belongs to (lab-objectives: 5 Docker's containers and the committed
# image; 8 OpenStack's snapshot and resized server; 9 the nodes and their services; 10-11 the routed networks:
# routes, forwarding, who reaches whom).
OBJECTIVES = {"container": "5", "image": "5", "server": "8", "snapshot": "8", "host": "9", "address": "9",
              "service": "9", "route": "10-11", "forwarding": "10-11", "reach": "10-11"}
# The host column of the checks that are not about a lab host: the engine or the cloud the controller asks.
ENGINE, CLOUD = "docker", "openstack"
SERVICE_TIMEOUT = 3


def _probe_address(cidr):
    """An address inside ``cidr`` to ask the kernel for its route (any will do: routes are per subnet)."""
    network = ipaddress.ip_network(cidr)
    return str(network.network_address + 1)


def _http_post(address, port, body):
    """A POST of ``body`` with bash's /dev/tcp (a lab node need not have curl or Python), bounded in time."""
    request = "POST / HTTP/1.1\\r\\nHost: %s\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s" % (
        address, len(body.encode("utf-8")), body.replace("\\", "\\\\").replace("%", "%%"))
    inner = "exec 3<>/dev/tcp/%s/%s && printf %s >&3 && cat <&3" % (address, port, observe.shell_quote(request))
    return "timeout %d bash -c %s 2>&1 || echo \"(no answer: exit $?)\"" % (SERVICE_TIMEOUT, observe.shell_quote(inner))


def services_on(topology, host):
    return sorted(name for name, spec in (topology.get("services") or {}).items() if spec.get("node") == host)


def observe_script(topology, host, requests):
    """The one read-only command that reads ``host`` for grading. ``requests``: {service or kind: {body,
    expect_prefix}} (the connectivity role's sample requests)."""
    parts = [observe.command("addresses", "ipv4", "ip -o -4 addr show")]
    for route in routes(topology, host):
        parts.append(observe.command("route", route["dest"], "ip -4 route get %s 2>&1 || true"
                                     % _probe_address(route["dest"])))
    if is_router(topology, host):
        parts.append(observe.command("forwarding", "ipv4", "cat /proc/sys/net/ipv4/ip_forward"))
    for service in services_on(topology, host):
        spec = topology["services"][service]
        request = _request(requests, service, spec)
        parts.append(observe.command("service", service, _http_post(service_address(topology, service, host),
                                                                    spec["port"], request["body"])))
    return observe.script(parts)


def _request(requests, service, spec):
    requests = requests or DEFAULT_REQUESTS
    return requests.get(service) or requests.get(spec.get("kind", "operation")) or {"body": "", "expect_prefix": ""}


def _check(kind, host, what, expected, actual, ok):
    return {"objective": OBJECTIVES[kind], "kind": kind, "host": host, "check": what, "expected": expected,
            "actual": actual, "ok": bool(ok)}


def unreachable_checks(topology, host, reason):
    """A host that cannot be read fails its one check; nothing else of it can be graded."""
    return [_check("host", host, "host answers", "reachable", "unreachable: %s" % (reason or "no answer"), False)]


def _http_answer(text):
    """(status, body) of an HTTP answer, or (None, the text) when it is not one."""
    head, sep, body = text.replace("\r\n", "\n").partition("\n\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", head)
    if not match or not sep:
        return None, text.strip()
    return int(match.group(1)), body.strip()


def host_checks(topology, host, output, requests):
    """The checks of ``host`` from the output of ``observe_script``."""
    try:
        sections = dict(((kind, name), content) for kind, name, content in observe.parse_sections(output))
    except ValueError as exc:
        return unreachable_checks(topology, host, "unreadable answer (%s)" % exc)
    checks = []
    have = re.findall(r"\binet (\d+\.\d+\.\d+\.\d+/\d+)", sections.get(("addresses", "ipv4"), ""))
    for interface in interfaces(topology, host):
        wanted = "%s/%s" % (interface["address"], interface["prefix"])
        same_network = [a for a in have if ipaddress.ip_interface(a) in ipaddress.ip_network(interface["cidr"])]
        checks.append(_check("address", host, "address on %s" % interface["network"], wanted,
                             ", ".join(same_network) or "none on %s" % interface["cidr"], wanted in have))
    for route in routes(topology, host):
        answer = sections.get(("route", route["dest"]), "").strip()
        via = re.search(r"\bvia (\S+)", answer)
        seen = ("via %s" % via.group(1)) if via else (answer.splitlines() or ["no route"])[0]
        if "cache <redirected>" in answer or " redirected" in answer:
            seen += " (redirected)"
        checks.append(_check("route", host, "route to %s (%s)" % (route["network"], route["dest"]),
                             "via %s" % route["via"], seen, seen == "via %s" % route["via"]))
    if is_router(topology, host):
        value = sections.get(("forwarding", "ipv4"), "").strip()
        checks.append(_check("forwarding", host, "forwards IPv4", "1", value or "unknown", value == "1"))
    for service in services_on(topology, host):
        spec = topology["services"][service]
        request = _request(requests, service, spec)
        status, body = _http_answer(sections.get(("service", service), ""))
        seen = ("%s %s" % (status, body.splitlines()[0] if body else "")).strip() if status else (
            body.splitlines() or ["no answer"])[0]
        checks.append(_check("service", host, "%s answers on port %s" % (service, spec["port"]),
                             "200 %s..." % request["expect_prefix"], seen,
                             status == 200 and body.startswith(request["expect_prefix"])))
    return checks


def probe_checks(results):
    """Checks from lab_probe results of the reachability matrix (each: src, service, address, port, expect,
    reached, detail). Each check also keeps src, service, address, port and detail: the picture draws the failed
    ones."""
    checks = []
    for row in sorted(results, key=lambda r: (r["src"], r["service"])):
        check = _check("reach", row["src"], "%s %s (%s:%s)" % ("reaches" if row["expect"] else "is blocked from",
                                                               row["service"], row["address"], row["port"]),
                       "reachable" if row["expect"] else "blocked",
                       ("reached" if row["reached"] else "not reached") + (
                           ": %s" % row["detail"] if row.get("detail") else ""),
                       row["reached"] == row["expect"])
        check.update((key, row.get(key)) for key in ("src", "service", "address", "port", "detail"))
        checks.append(check)
    return checks


def _failure(result):
    """Why a read-only module call gave no answer, or None."""
    result = result or {}
    if result.get("failed") or result.get("skipped"):
        return (result.get("msg") or "no answer").splitlines()[0]
    return None


def _absent(result):
    """What a check sees of a resource that is not there: absent, with the reason the read gave none."""
    reason = _failure(result)
    return "absent (%s)" % reason if reason else "absent"


def _container(info):
    """(status, image as it was named at run time, image id) from a docker_container_info result; status None
    when the container does not exist."""
    if not (info or {}).get("exists"):
        return None, None, None
    container = info.get("container") or {}
    return ((container.get("State") or {}).get("Status"), (container.get("Config") or {}).get("Image"),
            container.get("Image"))


def objective5_checks(names, image_info, containers):
    """Objective 5 on the Docker engine: the container that was changed runs, the image committed from it exists,
    and a container started from that image runs. ``names``: {container, from_image, image (repository:tag)};
    ``image_info``: docker_image_info's result for ``names.image``; ``containers``: {container name:
    docker_container_info's result}."""
    image = names["image"]
    status = _container(containers.get(names["container"]))[0]
    checks = [_check("container", ENGINE, "container %s runs" % names["container"], "running",
                     status or _absent(containers.get(names["container"])), status == "running")]
    images = [] if _failure(image_info) else ((image_info or {}).get("images") or [])
    image_id = images[0].get("Id") if images else None
    checks.append(_check("image", ENGINE, "image %s is committed" % image, "present",
                         "present (%s)" % image_id.split(":")[-1][:12] if image_id else _absent(image_info),
                         bool(image_id)))
    status, named, used = _container(containers.get(names["from_image"]))
    from_it = named == image or (image_id is not None and used == image_id)
    checks.append(_check("container", ENGINE, "container %s runs from %s" % (names["from_image"], image),
                         "running, image %s" % image,
                         _absent(containers.get(names["from_image"])) if status is None else "%s, image %s" % (
                             status, named),
                         status == "running" and from_it))
    return checks


def objective8_checks(names, server_result, snapshot_result, bigger_flavor):
    """Objective 8 on OpenStack: the VM's snapshot image is active, and the VM is active on the bigger flavor.
    ``names``: {server, snapshot}; ``server_result``, ``snapshot_result``: the check-mode results of
    openstack_server and openstack_server_snapshot for them (an image that does not exist yet has no id)."""
    server = {} if _failure(server_result) else ((server_result or {}).get("server") or {})
    absent = _absent(server_result)
    checks = [
        _check("server", CLOUD, "server %s is active" % names["server"], "ACTIVE",
               server.get("status") or absent, server.get("status") == "ACTIVE"),
        _check("server", CLOUD, "server %s is resized to %s" % (names["server"], bigger_flavor), bigger_flavor,
               server.get("flavor") or absent, bool(server) and server.get("flavor") == bigger_flavor)]
    image = {} if _failure(snapshot_result) else ((snapshot_result or {}).get("image") or {})
    exists = bool(image.get("id"))  # check mode's answer for a snapshot still to take has no id
    seen = image.get("status") if exists else _absent(snapshot_result)
    of_it = not server.get("id") or image.get("server_id") in (None, server.get("id"))
    checks.append(_check("snapshot", CLOUD, "snapshot %s of %s is active" % (names["snapshot"], names["server"]),
                         "active", seen if of_it else "%s, of another server (%s)" % (seen, image.get("server_id")),
                         exists and image.get("status") == "active" and of_it))
    return checks


def _objective_order(objective):
    """'9' before '10-11': by the objective's first number."""
    return int(str(objective).split("-", maxsplit=1)[0])


def _sorted(checks):
    return sorted(checks, key=lambda c: (_objective_order(c["objective"]), c["host"], c["kind"], c["check"]))


def summary(checks):
    """{objective: (passed, total)} and the names of the failed checks."""
    per_objective = {}
    for check in checks:
        passed, total = per_objective.get(check["objective"], (0, 0))
        per_objective[check["objective"]] = (passed + check["ok"], total + 1)
    failed = ["objective %s, %s: %s - expected %s, got %s" % (c["objective"], c["host"], c["check"], c["expected"],
                                                              c["actual"]) for c in _sorted(checks) if not c["ok"]]
    return per_objective, failed


def report_table(checks):
    """Lines for the terminal."""
    lines = ["%-9s %-8s %-44s %-26s %-6s %s" % ("OBJECTIVE", "HOST", "CHECK", "EXPECTED", "OK", "SEEN")]
    for c in _sorted(checks):
        lines.append("%-9s %-8s %-44s %-26s %-6s %s" % (c["objective"], c["host"], c["check"], c["expected"],
                                                        "ok" if c["ok"] else "FAILED", c["actual"]))
    per_objective, failed = summary(checks)
    lines.append("; ".join("objective %s: %d/%d" % (o, p, t) for o, (p, t) in
                           sorted(per_objective.items(), key=lambda item: _objective_order(item[0]))))
    return lines


def report_status(checks):
    """One line per host for the status view: up or not, its addresses, its routes and its services."""
    hosts = {}
    for check in checks:
        hosts.setdefault(check["host"], []).append(check)
    lines = ["%-9s %-12s %-32s %-16s %s" % ("HOST", "STATE", "ADDRESSES", "ROUTES", "SERVICES")]
    for host in sorted(hosts):
        own = hosts[host]
        down = [c for c in own if c["kind"] == "host"]
        if down:
            lines.append("%-9s %-12s %s" % (host, "DOWN", down[0]["actual"]))
            continue
        addresses = [c for c in own if c["kind"] == "address"]
        routes_ = [c for c in own if c["kind"] in ("route", "forwarding")]
        services = [c for c in own if c["kind"] == "service"]
        shown = " ".join(c["expected"] if c["ok"] else "%s MISSING" % c["expected"] for c in addresses)
        in_sync = sum(c["ok"] for c in routes_)
        lines.append("%-9s %-12s %-32s %-16s %s" % (
            host, "up", shown, ("%d/%d in sync" % (in_sync, len(routes_))) if routes_ else "-",
            ", ".join("%s %s" % (c["check"].split()[0], "answering" if c["ok"] else "NOT ANSWERING (%s)" % c["actual"])
                      for c in services) or "-"))
    return lines


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def report_markdown(checks, lab, picture=None):
    """The Markdown report of one lab; ``picture``: a path to the lab's SVG, embedded when given."""
    per_objective, failed = summary(checks)
    lines = ["# Lab %s: %s" % (lab, "all %d checks passed" % len(checks) if not failed
                               else "%d of %d checks failed" % (len(failed), len(checks))), ""]
    if picture:
        lines += ["![The lab, broken paths in red](%s)" % picture, ""]
    lines += ["| objective | passed |", "|---|---|"]
    lines += ["| %s | %d/%d |" % (o, p, t) for o, (p, t) in
              sorted(per_objective.items(), key=lambda item: _objective_order(item[0]))]
    lines += ["", "| objective | host | check | expected | seen | result |", "|---|---|---|---|---|---|"]
    for c in _sorted(checks):
        lines.append("| %s | %s | %s | %s | %s | %s |" % (c["objective"], c["host"], _cell(c["check"]),
                                                          _cell(c["expected"]), _cell(c["actual"]),
                                                          "ok" if c["ok"] else "**FAILED**"))
    if failed:
        lines += ["", "## Failed", ""] + ["- %s" % _cell(f) for f in failed]
    return "\n".join(lines) + "\n"


def report_junit(checks, lab):
    """JUnit XML: one test suite per objective, one test case per check (for CI and for grading many labs)."""
    suites = {}
    for c in _sorted(checks):
        suites.setdefault(c["objective"], []).append(c)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           "<testsuites name=%s tests=\"%d\" failures=\"%d\">" % (quoteattr("virtlab lab %s" % lab), len(checks),
                                                                  sum(not c["ok"] for c in checks))]
    for objective, cases in sorted(suites.items(), key=lambda item: _objective_order(item[0])):
        out.append("  <testsuite name=%s tests=\"%d\" failures=\"%d\">" % (
            quoteattr("%s objective %s" % (lab, objective)), len(cases), sum(not c["ok"] for c in cases)))
        for c in cases:
            name = quoteattr("%s: %s" % (c["host"], c["check"]))
            classname = quoteattr("%s.objective%s.%s" % (lab, objective.replace("-", "_"), c["host"]))
            if c["ok"]:
                out.append("    <testcase classname=%s name=%s/>" % (classname, name))
            else:
                message = "expected %s, got %s" % (c["expected"], c["actual"])
                out.append("    <testcase classname=%s name=%s><failure message=%s>%s</failure></testcase>"
                           % (classname, name, quoteattr(message), escape(message)))
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"
