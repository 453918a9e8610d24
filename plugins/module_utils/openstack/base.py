# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the openstack_* modules: the shared auth spec (clouds.yaml or the OS_* variables), the
openstacksdk dependency check, an early credential check, SDK errors as readable failures, and lookups
that name what exists when a name is unknown."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.virtlab.core.plugins.module_utils.base import VirtlabModule
from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.openstack.messages import describe_sdk_error, names_list
from ansible_collections.virtlab.core.plugins.module_utils.openstack.waiters import OpenStackWaiters

OPENSTACKSDK_IMPORT_ERROR = None
try:
    import openstack
    from openstack import exceptions as sdk_exceptions
    from openstack.config import exceptions as config_exceptions
    from keystoneauth1 import exceptions as ksa_exceptions
except ImportError:
    OPENSTACKSDK_IMPORT_ERROR = traceback.format_exc()


def openstack_argument_spec():
    return dict(
        cloud=dict(type="raw", fallback=(env_fallback, ["OS_CLOUD"])),
        auth=dict(type="dict", no_log=True),
        auth_type=dict(type="str"),
        region_name=dict(type="str", fallback=(env_fallback, ["OS_REGION_NAME"])),
        validate_certs=dict(type="bool", aliases=["verify"]),
        ca_cert=dict(type="path", aliases=["cacert"], fallback=(env_fallback, ["OS_CACERT"])),
        interface=dict(type="str", default="public", choices=["public", "internal", "admin"],
                       fallback=(env_fallback, ["OS_INTERFACE"])),
        api_timeout=dict(type="int"),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=180),
    )


class OpenStackModule(OpenStackWaiters, VirtlabModule):
    """Base of the openstack_* modules: auth, connection, SDK errors, lookups, waiting."""

    conn = None
    resource = None  # the SDK object the module acts on: found by read(), replaced by the apply_<verb> steps
    planned = None   # the resource as the plan leaves it, computed by plan() alongside the actions

    # The module flow (base.VirtlabModule.run) for one Neutron/Nova/Glance resource -------------------
    def find(self):
        """The SDK object of the module's resource, or None."""
        raise NotImplementedError

    def load(self, resource):
        """(resource, view): the SDK object read again and its normalised view; (None, {}) for None."""
        raise NotImplementedError

    def read(self):
        self.resource, view = self.load(self.find())
        return view

    def expected(self, current, plan):
        return self.planned if plan else current

    def read_back(self, current, plan):
        if self.params.get("state") == "absent":
            return {}
        return self.load(self.resource)[1]

    def render(self, plan):
        return [self.describe(action.verb, action.details) for action in plan]

    @staticmethod
    def describe(verb, details):
        """One action as the line the user sees; modules override it for verbs with details."""
        return verb

    def backend_argument_spec(self):
        return openstack_argument_spec()

    def check_requirements(self):
        if OPENSTACKSDK_IMPORT_ERROR is not None:
            self.ansible.fail_json(msg=missing_required_lib("openstacksdk"),
                                   exception=OPENSTACKSDK_IMPORT_ERROR)

    def error_message(self, exc):
        # openstacksdk's and keystoneauth's errors as one readable line, with the details.
        if isinstance(exc, sdk_exceptions.SDKException):
            return ("OpenStack refused the request: %s" % describe_sdk_error(exc),
                    dict(status=getattr(exc, "status_code", None), request_id=getattr(exc, "request_id", None)))
        if isinstance(exc, ksa_exceptions.ClientException):
            return "OpenStack connection failed: %s: %s" % (type(exc).__name__, exc), {}
        return None

    def disconnect(self):
        # Close the HTTP connections (they matter when modules run in-process, as in the tests).
        if self.conn is not None:
            self.conn.close()

    # Connection ------------------------------------------------------------------
    def connect(self):
        params = self.params
        cloud = params["cloud"]
        kwargs = dict(app_name="virtlab")
        if isinstance(cloud, dict):
            kwargs.update(cloud)
            cloud = None
        if params["auth"]:
            kwargs["auth"] = params["auth"]
        for option, sdk_key in (("auth_type", "auth_type"), ("region_name", "region_name"),
                                ("ca_cert", "cacert"), ("validate_certs", "verify"),
                                ("interface", "interface"), ("api_timeout", "api_timeout")):
            if params[option] is not None:
                kwargs[sdk_key] = params[option]
        self.cloud_description = ("cloud %r" % cloud if cloud else
                                  "auth_url %s" % (params["auth"] or {}).get("auth_url")
                                  if params["auth"] else "the OS_* environment variables")
        try:
            self.conn = openstack.connect(cloud=cloud, **kwargs)
        except config_exceptions.OpenStackConfigException as exc:
            raise VirtlabError(
                "OpenStack configuration error for %s: %s. Give cloud (the name of an entry of "
                "clouds.yaml, in ./clouds.yaml, ~/.config/openstack/ or /etc/openstack/, or the "
                "file named by OS_CLIENT_CONFIG_FILE), or source your project's RC file so that "
                "OS_AUTH_URL and the other OS_* variables are set" % (self.cloud_description, exc))
        except ksa_exceptions.ClientException as exc:
            raise VirtlabError("OpenStack credentials incomplete for %s: %s"
                               % (self.cloud_description, exc))
        self._check_credentials()

    def _check_credentials(self):
        """Get a token now: bad credentials fail here, before anything is read or changed."""
        auth_url = (self.conn.config.get_auth_args() or {}).get("auth_url")
        if not auth_url:
            raise VirtlabError(
                "No OpenStack credentials: give cloud (an entry of clouds.yaml), auth, or "
                "source your project's RC file (it sets OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, "
                "OS_PROJECT_NAME...) before running Ansible")
        try:
            self.conn.authorize()
        except (ksa_exceptions.ClientException, sdk_exceptions.SDKException) as exc:
            # openstacksdk re-raises keystoneauth's errors as a bare SDKException: look at
            # the original to tell bad credentials from an unreachable or untrusted endpoint.
            cause = exc if isinstance(exc, ksa_exceptions.ClientException) else exc.__context__
            raise self._authentication_error(auth_url, cause, exc)

    def _authentication_error(self, auth_url, cause, exc):
        if isinstance(cause, ksa_exceptions.Unauthorized):
            auth = self.conn.config.get_auth_args() or {}
            return VirtlabError(
                "Authentication failed at %s for user %s in project %s: wrong user name, "
                "password, project or domain (Keystone: %s)"
                % (auth_url, auth.get("username") or auth.get("user_id") or "?",
                   auth.get("project_name") or auth.get("project_id") or "?", cause),
                auth_url=auth_url)
        if isinstance(cause, ksa_exceptions.SSLError):
            return VirtlabError("TLS verification of %s failed: %s. Give the cloud's CA "
                                "certificate as ca_cert (or cacert in clouds.yaml)"
                                % (auth_url, cause), auth_url=auth_url)
        if isinstance(cause, (ksa_exceptions.ConnectFailure, ksa_exceptions.ConnectTimeout)):
            return VirtlabError("Cannot reach Keystone at %s: %s" % (auth_url, cause),
                                auth_url=auth_url)
        return VirtlabError("Cannot authenticate at %s: %s: %s"
                            % (auth_url, type(cause or exc).__name__, cause or exc),
                            auth_url=auth_url)

    # Lookups (clear errors for unknown names, listing what exists) ---------------
    def _find(self, kind, name_or_id, finder, **filters):
        """``finder(name_or_id)`` (an SDK find_* method): the resource or None; a name that
        several resources share is an error asking for the id."""
        try:
            found = finder(name_or_id, ignore_missing=True, **filters)
        except sdk_exceptions.DuplicateResource:
            raise VirtlabError("Several %ss are named %r: give the id of the one to use"
                               % (kind, name_or_id), name=name_or_id)
        return found

    def _unknown(self, kind, name_or_id, names, hint=""):
        return VirtlabError("Unknown %s %r. %ss this project can use: %s%s"
                            % (kind, name_or_id, kind.capitalize(), names_list(names), hint),
                            name=name_or_id)

    def find_network(self, name_or_id):
        return self._find("network", name_or_id, self.conn.network.find_network)

    def require_network(self, name_or_id, external=None):
        network = self.find_network(name_or_id)
        if network is None:
            raise self._unknown("network", name_or_id, (n.name for n in self.conn.network.networks()))
        if external is True:
            self.require_external(network, name_or_id)
        return network

    def require_external(self, network, name_or_id):
        """Fail unless the network found for name_or_id is an external (public) one."""
        if not network.is_router_external:
            externals = [n.name for n in self.conn.network.networks(is_router_external=True)]
            raise VirtlabError("Network %r is not an external (public) network. External "
                               "networks of this cloud: %s" % (name_or_id, names_list(externals)),
                               name=name_or_id)

    def require_subnet(self, name_or_id, network_id=None):
        filters = {"network_id": network_id} if network_id else {}
        subnet = self._find("subnet", name_or_id, self.conn.network.find_subnet, **filters)
        if subnet is None:
            raise self._unknown("subnet", name_or_id,
                                ("%s (%s)" % (s.name, s.cidr) for s in self.conn.network.subnets(**filters)))
        return subnet

    def require_image(self, name_or_id):
        image = self._find("image", name_or_id, self.conn.image.find_image)
        if image is None:
            raise self._unknown("image", name_or_id, (i.name for i in self.conn.image.images()),
                                " (openstack image list)")
        if image.status != "active":
            raise VirtlabError("Image %r is %s, not active: it cannot boot a server yet"
                               % (name_or_id, image.status), name=name_or_id)
        return image

    def require_flavor(self, name_or_id):
        flavor = self._find("flavor", name_or_id, self.conn.compute.find_flavor)
        if flavor is None:
            raise self._unknown("flavor", name_or_id,
                                ("%s (%s vCPU, %s MiB)" % (f.name, f.vcpus, f.ram)
                                 for f in self.conn.compute.flavors()),
                                " (openstack flavor list)")
        return flavor

    def find_server(self, name_or_id):
        return self._find("server", name_or_id, self.conn.compute.find_server)

    def require_server(self, name_or_id):
        server = self.find_server(name_or_id)
        if server is None:
            raise self._unknown("server", name_or_id, (s.name for s in self.conn.compute.servers()))
        return self.conn.compute.get_server(server.id)

    def require_security_group(self, name_or_id):
        group = self._find("security group", name_or_id, self.conn.network.find_security_group,
                           project_id=self.project_id)
        if group is None:
            group = self._find("security group", name_or_id,
                               self.conn.network.find_security_group)
        if group is None:
            raise self._unknown("security group", name_or_id,
                                (g.name for g in self.conn.network.security_groups(
                                    project_id=self.project_id)))
        return group

    @property
    def project_id(self):
        return self.conn.current_project_id
