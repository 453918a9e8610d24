# -*- coding: utf-8 -*-
"""Assertions shared by the tests against the control plane."""


def ok(result):
    """Assert a module run succeeded, showing its message when it did not."""
    assert not result["failed"], result.get("msg")
    return result
