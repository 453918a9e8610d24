# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the proxmox_* modules: the shared auth spec (PROXMOX_* fallbacks, secrets no_log), the proxmoxer
dependency check, an early credential check, API errors as readable failures, and task waiting against a
deadline that tells a failed task from a timeout."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.virtlab.core.plugins.module_utils.base import VirtlabModule
from ansible_collections.virtlab.core.plugins.module_utils.errors import OperationFailed, VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.wait import wait_until
from ansible_collections.virtlab.core.plugins.module_utils.proxmox.properties import (
    describe_api_error,
    parse_upid,
    task_hint,
)

PROXMOXER_IMPORT_ERROR = None
try:
    import proxmoxer
    from proxmoxer.core import AuthenticationError, ResourceException
    import requests
except ImportError:
    PROXMOXER_IMPORT_ERROR = traceback.format_exc()


def proxmox_auth_argument_spec():
    return dict(
        api_host=dict(type="str", fallback=(env_fallback, ["PROXMOX_HOST"])),
        api_port=dict(type="int", default=8006, fallback=(env_fallback, ["PROXMOX_PORT"])),
        api_user=dict(type="str", fallback=(env_fallback, ["PROXMOX_USER"])),
        api_password=dict(type="str", no_log=True, fallback=(env_fallback, ["PROXMOX_PASSWORD"])),
        api_token_id=dict(type="str", no_log=False, fallback=(env_fallback, ["PROXMOX_TOKEN_ID"])),
        api_token_secret=dict(type="str", no_log=True,
                              fallback=(env_fallback, ["PROXMOX_TOKEN_SECRET"])),
        validate_certs=dict(type="bool", default=True,
                            fallback=(env_fallback, ["PROXMOX_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["PROXMOX_CA_PATH"])),
        api_timeout=dict(type="int", default=60),
        timeout=dict(type="int", default=300),
    )


class ProxmoxApiError(VirtlabError):
    """The API answered with an HTTP error; carries status, reason phrase and ``errors``."""


class ProxmoxModule(VirtlabModule):
    """Base of the proxmox_* modules: auth, connection, API errors and task waiting."""

    task_poll_interval = 0.5

    def backend_argument_spec(self):
        return proxmox_auth_argument_spec()

    def check_requirements(self):
        if PROXMOXER_IMPORT_ERROR is not None:
            self.ansible.fail_json(msg=missing_required_lib("proxmoxer"),
                                   exception=PROXMOXER_IMPORT_ERROR)

    # Connection ------------------------------------------------------------------
    def _credentials(self):
        """Return proxmoxer auth kwargs, or raise before any request on incomplete input."""
        user = self.params["api_user"]
        token_id = self.params["api_token_id"]
        token_secret = self.params["api_token_secret"]
        password = self.params["api_password"]
        if token_id or token_secret:
            if not (token_id and token_secret):
                raise VirtlabError("api_token_id and api_token_secret must be given together "
                                   "(or PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET)")
            if "!" in token_id:
                token_user, token_name = token_id.split("!", 1)
                if user and user != token_user:
                    raise VirtlabError("api_token_id %r belongs to %s, not to api_user %s"
                                       % (token_id, token_user, user))
                user = token_user
            else:
                token_name = token_id
            if not user:
                raise VirtlabError("api_user (e.g. root@pam) is required with api_token_id %r, "
                                   "or give the full token id user@realm!name" % token_id)
            self.auth_description = "API token %s!%s" % (user, token_name)
            return dict(user=user, token_name=token_name, token_value=token_secret)
        if password:
            if not user:
                raise VirtlabError("api_user (e.g. root@pam) is required with api_password")
            self.auth_description = "user %s" % user
            return dict(user=user, password=password)
        raise VirtlabError("No Proxmox credentials: give api_user with api_password, or "
                           "api_token_id with api_token_secret (or the PROXMOX_USER, "
                           "PROXMOX_PASSWORD, PROXMOX_TOKEN_ID, PROXMOX_TOKEN_SECRET variables)")

    def connect(self):
        if not self.params["api_host"]:
            raise VirtlabError("api_host (or the PROXMOX_HOST variable) is required: the address "
                               "of a Proxmox VE node")
        credentials = self._credentials()
        self.endpoint = "https://%s:%s" % (self.params["api_host"], self.params["api_port"])
        verify = self.params["ca_path"] or self.params["validate_certs"]
        try:
            self.client = proxmoxer.ProxmoxAPI(
                self.params["api_host"], port=self.params["api_port"], backend="https",
                verify_ssl=verify, timeout=self.params["api_timeout"], **credentials)
        except AuthenticationError as exc:
            raise VirtlabError("Authentication failed for %s at %s: %s"
                               % (self.auth_description, self.endpoint, exc),
                               endpoint=self.endpoint)
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(exc)
        # Token auth sends nothing until the first request: check credentials here,
        # before the module reads or changes anything.
        try:
            self.version = self.client.version.get()
        except ResourceException as exc:
            if exc.status_code == 401:
                raise VirtlabError("Authentication failed for %s at %s: %s"
                                   % (self.auth_description, self.endpoint,
                                      describe_api_error(exc.status_code, exc.content, exc.errors)),
                                   status=exc.status_code, endpoint=self.endpoint)
            raise self._api_error("GET", "version", exc)
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(exc)

    def _transport_error(self, exc):
        if isinstance(exc, requests.exceptions.SSLError):
            return VirtlabError(
                "TLS verification of %s failed: %s. Give the cluster's CA certificate as "
                "ca_path, or set validate_certs=false for a lab with a self-signed certificate"
                % (self.endpoint, exc), endpoint=self.endpoint)
        if isinstance(exc, requests.exceptions.Timeout):
            return VirtlabError("No answer from %s within api_timeout=%ss: %s"
                                % (self.endpoint, self.params["api_timeout"], exc),
                                endpoint=self.endpoint)
        return VirtlabError("Cannot reach the Proxmox API at %s: %s" % (self.endpoint, exc),
                            endpoint=self.endpoint)

    def _api_error(self, method, path, exc):
        return ProxmoxApiError(
            "Proxmox API %s /%s failed: %s"
            % (method, path, describe_api_error(exc.status_code, exc.content, exc.errors)),
            status=exc.status_code, reason=exc.content, errors=exc.errors)

    def api(self, method, path, **params):
        """Call the API: ``self.api("get", "nodes/pve/lxc/100/config")``.

        Every HTTP error becomes a ProxmoxApiError with a readable message, the status,
        the reason phrase and the parameter-level ``errors`` of a 400.
        """
        params = dict((key, value) for key, value in params.items() if value is not None)
        try:
            return getattr(self.client(path), method)(**params)
        except ResourceException as exc:
            raise self._api_error(method.upper(), path, exc)
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(exc)

    # Tasks -------------------------------------------------------------------------
    def wait_task(self, upid, what):
        """Wait for a task until it stops, against the ``timeout`` deadline.

        Returns its final status. A task that ended ``WARNINGS: n`` succeeded: its ``WARN:``
        lines become the module's warnings. A task that ended with an error raises
        OperationFailed with its exit status, last log lines and, for an error a student
        meets often, what to do (TASK_HINTS); a task still running at the deadline raises
        OperationTimeout. The task is polled on the node that runs it (the UPID's).
        """
        node = parse_upid(upid)["node"]
        base = "nodes/%s/tasks/%s" % (node, upid)

        def probe():
            status = self.api("get", base + "/status")
            if status.get("status") != "stopped":
                return None
            exitstatus = status.get("exitstatus") or ""
            if exitstatus == "OK":
                return status
            log = [entry.get("t", "") for entry in self.api("get", base + "/log", start=0, limit=5000) or []]
            if exitstatus.startswith("WARNINGS"):
                for line in log:
                    if line.startswith("WARN:"):
                        self.ansible.warn("%s: %s" % (what, line[5:].strip()))
                return status
            hint = task_hint(log)
            raise OperationFailed("%s failed: %s%s" % (what, exitstatus, " - " + hint if hint else ""),
                                  upid=upid, exitstatus=exitstatus, task_log=log[-10:])

        return wait_until(probe, self.params["timeout"], "%s (task %s)" % (what, upid),
                          interval=self.task_poll_interval)

    def run_task(self, method, path, what, **params):
        """Start an asynchronous API call and wait for its task."""
        upid = self.api(method, path, **params)
        return self.wait_task(upid, what)

    # Lookups shared by the CT modules ---------------------------------------------
    def nodes(self):
        return dict((entry["node"], entry) for entry in self.api("get", "nodes"))

    def find_ct(self, vmid=None, hostname=None):
        """Find an LXC container cluster-wide by vmid, else by hostname.

        Returns the /cluster/resources entry (vmid, node, status, name) or None.
        Raises when the vmid is a QEMU VM or the hostname matches several CTs.
        """
        resources = self.api("get", "cluster/resources", type="vm") or []
        if vmid is not None:
            for entry in resources:
                if int(entry["vmid"]) == int(vmid):
                    if entry.get("type") != "lxc":
                        raise VirtlabError("vmid %s is a %s guest on %s, not an LXC container"
                                           % (vmid, entry.get("type"), entry.get("node")))
                    return entry
            return None
        matches = [entry for entry in resources
                   if entry.get("type") == "lxc" and entry.get("name") == hostname]
        if len(matches) > 1:
            raise VirtlabError("%d containers are named %r (vmids %s): give vmid"
                               % (len(matches), hostname,
                                  ", ".join(str(entry["vmid"]) for entry in matches)))
        return matches[0] if matches else None

    def require_ct(self):
        """The CT the module's vmid/hostname options name, or a clear failure."""
        found = self.find_ct(self.params.get("vmid"), self.params.get("hostname"))
        if found is None:
            what = ("vmid %s" % self.params["vmid"] if self.params.get("vmid") is not None
                    else "hostname %r" % self.params.get("hostname"))
            raise VirtlabError("No LXC container with %s in the cluster" % what)
        return found

    @staticmethod
    def ct_path(node, vmid, *rest):
        return "/".join(["nodes", node, "lxc", str(vmid)] + [str(part) for part in rest])
