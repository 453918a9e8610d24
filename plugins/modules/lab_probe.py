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
  - Its action plugin makes the same probes with one shell command on the node (bash's C(/dev/tcp), with
    C(timeout) and C(base64)) instead of starting Python there, and reports them the same way; a node without
    those tools, or output it cannot read, gets the module.
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

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtlab.core.plugins.module_utils.node import probe


def main():
    """Probe, and report. Outside the read, plan, apply, read back flow of the other modules (module_utils/base.py)
    on purpose: it never changes anything, so there is nothing to plan, apply or read back, and check mode runs
    the probes as the real run does (they only read); a Plan here would always be empty. Its action plugin makes
    the same probes with one shell command when the node can (module_utils/node/probe.py)."""
    module = AnsibleModule(argument_spec=probe.ARGUMENT_SPEC, supports_check_mode=True)
    probes = module.params["probes"]
    # Probes run side by side: a blocked path costs one timeout, not one per probe.
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(probes)))) as pool:
        outcomes = list(pool.map(lambda p: probe.socket_probe(p["address"], p["port"], p["body"], p["expect_prefix"],
                                                              probe.timeout_of(p, module.params)), probes))
    module.exit_json(changed=False, results=[probe.result(p, outcome) for p, outcome in zip(probes, outcomes)])


if __name__ == "__main__":
    main()
