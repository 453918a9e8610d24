#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lab_probe
short_description: Probe the lab's services from this node, speaking the calculator protocol
version_added: 0.1.0
description:
  - Runs on a lab node and sends one request to each listed service (HTTP POST, the calculator protocol), then
    reports for each whether it answered as expected. All probes of a node are made in one call, concurrently.
  - Never changes anything and never fails because a probe failed - the caller compares the results with what
    the topology expects (a probe that must fail, such as pn3 from outside, is a success when it fails).
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
attributes:
  check_mode:
    support: full
    details: Probes only read, so they run in check mode too.
  diff_mode:
    support: none
options:
  probes:
    description: What to probe.
    type: list
    elements: dict
    required: true
    suboptions:
      service:
        description: Service name, for the report.
        type: str
        required: true
      src:
        description: The probing host's name, for the report.
        type: str
      expect:
        description: Whether the path should work (V(false) for a path that must be blocked).
        type: bool
        default: true
      address:
        description: Address to dial.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        required: true
      body:
        description: Request body.
        type: str
        required: true
      expect_prefix:
        description: The answer must start with this.
        type: str
        required: true
  timeout:
    description: Seconds allowed for each probe of a path that should work.
    type: float
    default: 3
  blocked_timeout:
    description:
      - Seconds allowed for each probe of a path that should be blocked (O(probes[].expect=false)). Such probes
        usually end in a timeout, so a short one keeps the check fast. Defaults to O(timeout).
    type: float
"""

EXAMPLES = r"""
- name: From cs, every operation service answers
  virtlab.core.lab_probe:
    probes:
      - {service: sum, address: 10.77.3.11, port: 50001, body: "6 3", expect_prefix: "9"}
"""

RETURN = r"""
results:
  description: One entry per probe.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: Service name.
      type: str
    address:
      description: Address dialled.
      type: str
    port:
      description: Port dialled.
      type: int
    src:
      description: The probing host, as given.
      type: str
    expect:
      description: Whether the path should work, as given.
      type: bool
    reached:
      description: Whether the service answered with the expected prefix.
      type: bool
    detail:
      description: The answer's first line, or the error (e.g. C(Network is unreachable)).
      type: str
"""

import socket
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule


def probe(address, port, body, expect_prefix, timeout):
    """One HTTP POST over a plain socket (the node may lack curl): (answered as expected, detail)."""
    request = ("POST / HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
               "Connection: close\r\n\r\n%s" % (address, port, len(body.encode("utf-8")), body)).encode("utf-8")
    try:
        conn = socket.create_connection((address, port), timeout=timeout)
        try:
            conn.sendall(request)
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
    head, unused_part, payload = b"".join(chunks).decode("utf-8", "replace").partition("\r\n\r\n")
    status = head.split("\r\n", 1)[0]
    if not (status.startswith("HTTP/1.") and status[8:12] == " 200"):
        return False, "%s: %s" % (status, payload.strip())
    return payload.startswith(expect_prefix), payload.strip().splitlines()[0] if payload.strip() else "(empty)"


def main():
    """Probe, and report. Outside the read, plan, apply, read back flow of the other modules (module_utils/base.py)
    on purpose: it never changes anything, so there is nothing to plan, apply or read back, and check mode runs
    the probes as the real run does (they only read); a Plan here would always be empty."""
    module = AnsibleModule(
        argument_spec=dict(
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
        ),
        supports_check_mode=True,
    )
    probes = module.params["probes"]
    timeout = module.params["timeout"]
    blocked_timeout = module.params["blocked_timeout"] or timeout
    # Probes run side by side: a blocked path costs one timeout, not one per probe.
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(probes)))) as pool:
        outcomes = list(pool.map(lambda p: probe(p["address"], p["port"], p["body"], p["expect_prefix"],
                                                 timeout if p["expect"] else blocked_timeout), probes))
    results = [dict(src=p["src"], service=p["service"], address=p["address"], port=p["port"], expect=p["expect"],
                    reached=reached, detail=detail) for p, (reached, detail) in zip(probes, outcomes)]
    module.exit_json(changed=False, results=results)


if __name__ == "__main__":
    main()
