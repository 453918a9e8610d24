# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reachability probe of virtlab.core.lab_probe, in its two forms with one meaning.

One probe is one HTTP POST of the calculator protocol to a service; it answered as expected when the status is
200 and the body starts with the expected prefix. The module makes it in Python over a plain socket; its action
plugin makes the same request with one shell command for all the node's probes (bash's /dev/tcp, no Python start
on the node: about a quarter of a second of CPU less per probe source, which is most of a re-run's probe task).
Both read the answer with ``interpret`` and name a failure the same way (``Connection refused``, ``timed out``),
so the reachability table does not depend on which of the two ran.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re
import socket

from ansible_collections.virtlab.core.plugins.module_utils.node import observe

ARGUMENT_SPEC = dict(
    probes=dict(type="list", elements="dict", required=True, options=dict(
        service=dict(type="str", required=True),
        src=dict(type="str"),
        expect=dict(type="bool", default=True),
        address=dict(type="str", required=True),
        port=dict(type="int", required=True),
        body=dict(type="str", required=True),
        expect_prefix=dict(type="str", required=True),
    )),
    timeout=dict(type="float", default=3),
    blocked_timeout=dict(type="float"),
)

TIMED_OUT = "timed out"  # what Python's socket timeout says; `timeout`'s exit status 124 says the same
TIMEOUT_STATUS = 124
# bash's own words for a failed connect: "bash: connect: Connection refused", then a line naming /dev/tcp.
CONNECT_ERROR = re.compile(r"^(?:\S+: )?connect: (.+)$", re.M)
# The node needs these for the shell form; without them the module runs instead.
SHELL_TOOLS = ("bash", "timeout", "base64", "mktemp")


def request(address, port, body):
    """The request bytes: the calculator protocol's POST, one request per connection."""
    return ("POST / HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n%s" % (address, port, len(body.encode("utf-8")), body)).encode("utf-8")


def interpret(answer, expect_prefix):
    """(answered as expected, detail) from the bytes a service sent back before closing."""
    head, unused_part, payload = answer.decode("utf-8", "replace").partition("\r\n\r\n")
    status = head.split("\r\n", 1)[0]
    if not (status.startswith("HTTP/1.") and status[8:12] == " 200"):
        return False, "%s: %s" % (status, payload.strip())
    return payload.startswith(expect_prefix), payload.strip().splitlines()[0] if payload.strip() else "(empty)"


def timeout_of(probe, params):
    """Seconds allowed for a probe: a path that must be blocked usually ends in a timeout, so it gets its own."""
    return params["timeout"] if probe["expect"] else (params["blocked_timeout"] or params["timeout"])


def socket_probe(address, port, body, expect_prefix, timeout):
    """The module's form: (answered as expected, detail)."""
    try:
        conn = socket.create_connection((address, port), timeout=timeout)
        try:
            conn.sendall(request(address, port, body))
            chunks = []
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            conn.close()
    except (OSError, socket.error) as exc:
        return False, getattr(exc, "strerror", None) or str(exc)
    return interpret(b"".join(chunks), expect_prefix)


def result(probe, outcome):
    """One entry of the module's ``results``."""
    reached, detail = outcome
    return dict(src=probe["src"], service=probe["service"], address=probe["address"], port=probe["port"],
                expect=probe["expect"], reached=reached, detail=detail)


def shell_command(params):
    """One POSIX shell command making every probe side by side (each bounded by ``timeout``); its output, in the
    sections of module_utils/node/observe.py, holds for probe I its exit status (``status I``) and what the
    service answered, base64-encoded (``answer I``: binary-safe, and a terminal cannot rewrite it), or what bash
    said (``error I``)."""
    tools = " && ".join("command -v %s >/dev/null 2>&1" % tool for tool in SHELL_TOOLS)
    # bash's /dev/tcp: $0 address, $1 port, $2 the request (printf's %s keeps its bytes as they are).
    dial = observe.shell_quote('exec 3<>"/dev/tcp/$0/$1" && printf %s "$2" >&3 && cat <&3')
    jobs = ["{ timeout %s bash -c %s %s %d %s >\"$d/%d\" 2>\"$d/%d.err\"; echo $? >\"$d/%d.rc\"; } &" % (
        repr(float(timeout_of(probe, params))), dial, observe.shell_quote(probe["address"]), probe["port"],
        observe.shell_quote(request(probe["address"], probe["port"], probe["body"]).decode("utf-8")),
        index, index, index) for index, probe in enumerate(params["probes"])]
    parts = ["{ %s; } || exit 127" % tools, 'd=$(mktemp -d) || exit 125', " ".join(jobs + ["wait"])]
    for index in range(len(params["probes"])):
        parts.append(observe.command("status", str(index), 'cat "$d/%d.rc"' % index))
        parts.append(observe.command("answer", str(index), 'base64 <"$d/%d"' % index))
        parts.append(observe.command("error", str(index), 'cat "$d/%d.err"' % index))
    parts.append('rm -rf "$d"')
    return observe.script(parts)


def parse_shell_output(text, params):
    """The module's ``results`` from shell_command's output; ValueError when the output is not all there."""
    sections = dict(((kind, name), content) for kind, name, content in observe.parse_sections(text))
    results = []
    for index, probe in enumerate(params["probes"]):
        try:
            status = int(sections[("status", str(index))].strip())
            answer = base64.b64decode("".join(sections[("answer", str(index))].split()))
            error = sections[("error", str(index))]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("the probes' output lacks probe %d: %s" % (index, exc))
        if status == 0:
            outcome = interpret(answer, probe["expect_prefix"])
        elif status == TIMEOUT_STATUS:
            outcome = (False, TIMED_OUT)
        else:
            said = CONNECT_ERROR.findall(error)
            outcome = (False, said[-1].strip() if said else (error.strip().splitlines() or ["exit %d" % status])[-1])
        results.append(result(probe, outcome))
    return results
