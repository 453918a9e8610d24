# -*- coding: utf-8 -*-
"""Connection, credentials and TLS, through proxmoxer against the HTTPS PVE API double."""

import socket
import time

from ansible_collections.virtlab.core.plugins.module_utils.proxmox.base import proxmox_auth_argument_spec
from ansible_collections.virtlab.core.plugins.modules import proxmox_ct

TOKEN_SECRET = "00000000-0000-0000-0000-0000005ec2e7"


def query(pve, **auth):
    """Look up a CT that does not exist: a read-only run that must succeed once connected."""
    args = dict(api_host="127.0.0.1", api_port=pve.port, ca_path=pve.ca_path, vmid=100,
                state="absent")
    args.update(auth)
    return args


def test_password_login(pve, run_module):
    result = run_module(proxmox_ct, query(pve, api_user="root@pam", api_password="lab-password"))

    assert result["failed"] is False, result
    assert ("POST", "/access/ticket") in pve.double.requests


def test_token_with_full_id_and_no_user(pve, run_module):
    result = run_module(proxmox_ct, query(pve, api_token_id="root@pam!virtlab",
                                          api_token_secret=TOKEN_SECRET))

    assert result["failed"] is False, result
    assert ("POST", "/access/ticket") not in pve.double.requests


def test_token_name_with_user(pve, run_module):
    result = run_module(proxmox_ct, query(pve, api_user="root@pam", api_token_id="virtlab",
                                          api_token_secret=TOKEN_SECRET))

    assert result["failed"] is False, result


def test_token_writes_need_no_csrf_and_work(pve, run_module):
    args = pve.ct_args(api_password=None, api_token_id="root@pam!virtlab",
                       api_token_secret=TOKEN_SECRET, api_user=None, state="started")

    result = run_module(proxmox_ct, args)

    assert result["failed"] is False, result
    assert pve.double.cts[100]["status"] == "running"


def test_bad_token_secret_names_the_token_and_the_reason(pve, run_module):
    result = run_module(proxmox_ct, query(pve, api_token_id="root@pam!virtlab",
                                          api_token_secret="wrong"))

    assert result["failed"] is True
    assert result["msg"] == ("Authentication failed for API token root@pam!virtlab at "
                             "https://127.0.0.1:%d: 401 invalid token value!" % pve.port)
    assert result["status"] == 401


def test_unknown_token(pve, run_module):
    result = run_module(proxmox_ct, query(pve, api_token_id="root@pam!ci",
                                          api_token_secret=TOKEN_SECRET))

    assert result["failed"] is True
    assert result["msg"].endswith("401 no such token 'ci' for user 'root@pam'")


def test_bad_password_waits_for_the_servers_delay_and_says_authentication(pve, run_module):
    pve.double.auth_failure_delay = 3.0  # what pve-http-server does on every failed login
    started = time.monotonic()

    result = run_module(proxmox_ct, query(pve, api_user="root@pam", api_password="wrong"))

    assert time.monotonic() - started >= 3.0
    assert result["failed"] is True
    assert result["msg"].startswith("Authentication failed for user root@pam at "
                                    "https://127.0.0.1:%d: " % pve.port)
    assert "code: 401" in result["msg"]


def test_missing_credentials_fail_before_any_request(pve, run_module):
    result = run_module(proxmox_ct, query(pve, api_user="root@pam"))

    assert result["failed"] is True
    assert result["msg"].startswith("No Proxmox credentials: give api_user with api_password")
    assert pve.double.requests == []


def test_missing_host_fails_before_any_request(pve, run_module):
    result = run_module(proxmox_ct, query(pve, api_host=None, api_user="root@pam",
                                          api_password="lab-password"))

    assert result["failed"] is True
    assert result["msg"].startswith("api_host (or the PROXMOX_HOST variable) is required")
    assert pve.double.requests == []


def test_token_id_without_secret_fails_before_any_request(pve, run_module):
    result = run_module(proxmox_ct, query(pve, api_token_id="root@pam!virtlab"))

    assert result["failed"] is True
    assert result["msg"].startswith("api_token_id and api_token_secret must be given together")
    assert pve.double.requests == []


def test_token_of_another_user_is_refused(pve, run_module):
    result = run_module(proxmox_ct, query(pve, api_user="admin@pve",
                                          api_token_id="root@pam!virtlab",
                                          api_token_secret=TOKEN_SECRET))

    assert result["failed"] is True
    assert result["msg"] == "api_token_id 'root@pam!virtlab' belongs to root@pam, not to api_user admin@pve"


def test_environment_fallbacks(pve, run_module, monkeypatch):
    monkeypatch.setenv("PROXMOX_HOST", "127.0.0.1")
    monkeypatch.setenv("PROXMOX_PORT", str(pve.port))
    monkeypatch.setenv("PROXMOX_TOKEN_ID", "root@pam!virtlab")
    monkeypatch.setenv("PROXMOX_TOKEN_SECRET", TOKEN_SECRET)
    monkeypatch.setenv("PROXMOX_CA_PATH", pve.ca_path)

    result = run_module(proxmox_ct, dict(vmid=100, state="absent"))

    assert result["failed"] is False, result
    assert pve.double.requests[0] == ("GET", "/version")


def test_tls_is_verified_by_default(pve, run_module):
    result = run_module(proxmox_ct, query(pve, ca_path=None, api_user="root@pam",
                                          api_password="lab-password"))

    assert result["failed"] is True
    assert result["msg"].startswith("TLS verification of https://127.0.0.1:%d failed" % pve.port)
    assert "Give the cluster's CA certificate as ca_path" in result["msg"]
    assert pve.double.requests == []


def test_validate_certs_false_accepts_the_self_signed_lab(pve, run_module):
    result = run_module(proxmox_ct, query(pve, ca_path=None, validate_certs=False,
                                          api_user="root@pam", api_password="lab-password"))

    assert result["failed"] is False, result


def test_unreachable_api(pve, run_module):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]

    result = run_module(proxmox_ct, query(pve, api_port=free_port, api_user="root@pam",
                                          api_password="lab-password"))

    assert result["failed"] is True
    assert result["msg"].startswith("Cannot reach the Proxmox API at https://127.0.0.1:%d" % free_port)


def test_secrets_are_no_log_and_token_id_is_not():
    spec = proxmox_auth_argument_spec()
    assert spec["api_password"]["no_log"] is True
    assert spec["api_token_secret"]["no_log"] is True
    assert spec["api_token_id"]["no_log"] is False
    assert spec["validate_certs"]["default"] is True
    assert spec["api_timeout"]["default"] >= 30  # not proxmoxer's 5 s, too short for CT creation
