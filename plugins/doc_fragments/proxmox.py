# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  api_host:
    description:
      - Host name or address of a Proxmox VE node that serves the API.
      - Required; falls back to the E(PROXMOX_HOST) environment variable.
    type: str
  api_port:
    description:
      - Port of the API. Falls back to E(PROXMOX_PORT).
    type: int
    default: 8006
  api_user:
    description:
      - User with realm, for example V(root@pam). Falls back to E(PROXMOX_USER).
      - Required with O(api_password). With O(api_token_id) it may be left out when the
        token id is given in full, as V(user@realm!name).
    type: str
  api_password:
    description:
      - Password of O(api_user). Falls back to E(PROXMOX_PASSWORD).
      - Give either this or O(api_token_id) and O(api_token_secret).
    type: str
  api_token_id:
    description:
      - API token id, either the token name (with O(api_user)) or the full V(user@realm!name).
      - Falls back to E(PROXMOX_TOKEN_ID). Requires O(api_token_secret).
    type: str
  api_token_secret:
    description:
      - Secret (UUID) of the API token. Falls back to E(PROXMOX_TOKEN_SECRET).
    type: str
  validate_certs:
    description:
      - Verify the API's TLS certificate. Falls back to E(PROXMOX_VALIDATE_CERTS).
      - Prefer O(ca_path) to turning this off.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA (or the self-signed certificate) that signed the API's
        certificate. Falls back to E(PROXMOX_CA_PATH).
    type: path
  api_timeout:
    description:
      - Seconds to wait for the answer to one HTTP request (the API answers slow calls such
        as CT creation with a task id, but some take several seconds to do so).
    type: int
    default: 60
  timeout:
    description:
      - Seconds to wait for each asynchronous task (create, start, snapshot, migrate...)
        to finish. A task still running then is reported as a timeout, distinct from a
        task that failed.
    type: int
    default: 300
requirements:
  - proxmoxer >= 2.0
  - requests
notes:
  - Credentials are checked (GET /version) before the module reads or changes anything.
  - Every asynchronous task is waited on; a failed task is reported with its exit status
    and the last lines of its log.
"""
