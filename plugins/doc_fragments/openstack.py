# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection, authentication and waiting options shared by every virtlab OpenStack module.
    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Name of an entry of C(clouds.yaml), or a dict with the same content as such an entry.
      - C(clouds.yaml) is read from the current directory, C(~/.config/openstack/) and
        C(/etc/openstack/), or from the file the E(OS_CLIENT_CONFIG_FILE) variable names.
      - Falls back to E(OS_CLOUD). When neither O(cloud) nor O(auth) is given, the E(OS_*)
        variables your project's RC file sets (E(OS_AUTH_URL), E(OS_USERNAME),
        E(OS_PASSWORD), E(OS_PROJECT_NAME), ...) are used; source the RC file before running
        Ansible.
    type: raw
  auth:
    description:
      - Authentication options given inline (V(auth_url), V(username), V(password),
        V(project_name), V(user_domain_name), V(project_domain_name), ...), instead of or on
        top of O(cloud). Never logged.
    type: dict
  auth_type:
    description:
      - Keystone authentication plugin, for example V(password), V(v3applicationcredential)
        or V(token). The cloud's configuration decides when left out.
    type: str
  region_name:
    description:
      - Region of the cloud to work in. Falls back to E(OS_REGION_NAME).
    type: str
  validate_certs:
    description:
      - Verify the TLS certificates of the cloud's endpoints. The cloud's configuration
        decides when left out (verification is on by default).
    type: bool
    aliases: [verify]
  ca_cert:
    description:
      - PEM file of the CA that signed the endpoints' certificates. Falls back to E(OS_CACERT).
    type: path
    aliases: [cacert]
  interface:
    description:
      - Which endpoints of the service catalog to use. Falls back to E(OS_INTERFACE).
    type: str
    choices: [public, internal, admin]
    default: public
  api_timeout:
    description:
      - Seconds to wait for the answer to one API request. The SDK's default when left out.
    type: int
  wait:
    description:
      - Wait until a long operation (server build, resize, snapshot, deletion) has finished
        before returning.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each long operation when O(wait=true). An operation still running
        then is reported as a timeout; one that failed (a server in C(ERROR)) is reported at
        once with the cloud's fault message.
    type: int
    default: 180
requirements:
  - openstacksdk >= 1.0
notes:
  - Credentials are checked (a Keystone token is requested) before the module reads or changes
    anything; wrong credentials fail with the auth URL, user and project that were tried.
  - Names given for images, flavors, networks, subnets and security groups are looked up
    before anything is created; an unknown name fails with the list of names that exist.
"""
