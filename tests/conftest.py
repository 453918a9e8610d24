# -*- coding: utf-8 -*-
"""Shared pytest setup: import the collection from the clone, and run modules in-process.

``run_module(module, args, check_mode=False, diff=False)`` runs a module's ``main()`` with
the given arguments, as Ansible would, and returns its result dict; ``result["failed"]``
is True when the module called fail_json.
"""

import json
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, "collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


class _ModuleExit(BaseException):
    # BaseException, like the SystemExit that exit_json raises for real: a module's own
    # "except Exception" must not swallow it.
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def _run_module(module, args, check_mode=False, diff=False):
    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    def exit_json(self, **kwargs):
        kwargs.setdefault("changed", False)
        kwargs["failed"] = False
        raise _ModuleExit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.update(msg=msg, failed=True)
        raise _ModuleExit(kwargs)

    full_args = dict(args)
    full_args["_ansible_check_mode"] = check_mode
    full_args["_ansible_diff"] = diff
    saved = basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json
    basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json = exit_json, fail_json
    try:
        with patch_module_args(full_args):
            module.main()
    except _ModuleExit as done:
        # Round-trip through JSON, as Ansible does, so tests see what a playbook sees.
        return json.loads(json.dumps(done.result, default=str))
    finally:
        basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json = saved
    raise AssertionError("module returned without calling exit_json or fail_json")


@pytest.fixture
def run_module():
    return _run_module
