# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack backend: the module base every openstack_* module subclasses, and the pure
helpers they share (security group rule normalisation, CIDR checks, SDK error text).

The helpers at the top of this file use no Ansible API and no openstacksdk object, so
they are unit-tested directly (tests/unit/openstack).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.virtlab.core.plugins.module_utils.base import (
    OperationFailed,
    VirtlabError,
    VirtlabModule,
    wait_until,
)

OPENSTACKSDK_IMPORT_ERROR = None
try:
    import openstack
    from openstack import exceptions as sdk_exceptions
    from openstack.config import exceptions as config_exceptions
    from keystoneauth1 import exceptions as ksa_exceptions
except ImportError:
    OPENSTACKSDK_IMPORT_ERROR = traceback.format_exc()


# ---------------------------------------------------------------------------------
# Pure helpers: security group rules
# ---------------------------------------------------------------------------------

# Protocol numbers Neutron accepts as names; a rule given by number is compared by name.
PROTOCOL_NAMES = {
    1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 51: "ah",
    58: "ipv6-icmp", 112: "vrrp", 132: "sctp",
}
PROTOCOLS_WITH_PORTS = frozenset(("tcp", "udp", "sctp", "udplite", "dccp"))
ICMP_PROTOCOLS = frozenset(("icmp", "ipv6-icmp", "icmpv6"))
ANY_PROTOCOL = frozenset(("", "any", "-1", "0"))


def normalise_protocol(protocol):
    """'TCP', '6', 6 -> 'tcp'; None, 'any', -1 -> None (any protocol); 'icmpv6' -> 'ipv6-icmp'."""
    if protocol is None:
        return None
    text = str(protocol).strip().lower()
    if text in ANY_PROTOCOL:
        return None
    if text.isdigit():
        return PROTOCOL_NAMES.get(int(text), text)
    if text == "icmpv6":
        return "ipv6-icmp"
    return text


def parse_port_range(ports):
    """'22' -> (22, 22); '50000-50050' -> (50000, 50050); 'any' / -1 / None -> (None, None)."""
    if ports is None:
        return None, None
    text = str(ports).strip().lower()
    if text in ("", "any", "all", "-1"):
        return None, None
    try:
        if "-" in text or ":" in text:
            low, high = text.replace(":", "-").split("-", 1)
            return int(low), int(high)
        return int(text), int(text)
    except ValueError:
        raise ValueError("invalid port range %r (expected e.g. 22, 50000-50050 or any)" % (ports,))


def _optional_int(value):
    if value is None or str(value).strip() == "":
        return None
    number = int(value)
    return None if number < 0 else number


def normalise_port_range(protocol, port_min, port_max):
    """The (min, max) Neutron stores for a rule, with every spelling of "any" as (None, None).

    TCP/UDP/SCTP: -1 or None mean any port, 1-65535 is any port too, and a lone minimum is a
    single port. ICMP: min is the type, max the code; -1 means any. Other protocols: no ports.
    Raises ValueError for a range Neutron would refuse (min above max, beyond 65535).
    """
    low, high = _optional_int(port_min), _optional_int(port_max)
    if protocol in PROTOCOLS_WITH_PORTS:
        if low is None and high is not None:
            low = high
        if high is None and low is not None:
            high = low
        if low is not None:
            if not 1 <= low <= high <= 65535:
                raise ValueError("invalid %s port range %s-%s (ports go from 1 to 65535, the "
                                 "first no greater than the last)" % (protocol, low, high))
            if (low, high) == (1, 65535):
                return None, None
        return low, high
    if protocol in ICMP_PROTOCOLS:
        if low is None:
            return None, None  # a code without a type means nothing to Neutron
        if low > 255 or (high is not None and high > 255):
            raise ValueError("invalid ICMP type/code %s/%s (0 to 255)" % (low, high))
        return low, high
    if low is not None or high is not None:
        raise ValueError("protocol %s has no ports; leave ports out of the rule" % (protocol or "any"))
    return None, None


def normalise_remote_prefix(prefix):
    """'10.0.0.5' -> '10.0.0.5/32'; '10.0.0.5/24' -> '10.0.0.0/24'; '0.0.0.0/0', '::/0', None -> None."""
    if prefix is None or str(prefix).strip() in ("", "any"):
        return None
    try:
        network = ipaddress.ip_network(str(prefix).strip(), strict=False)
    except ValueError:
        raise ValueError("invalid remote_ip_prefix %r (expected an address or a CIDR)" % (prefix,))
    if network.prefixlen == 0:
        return None
    return str(network)


def normalise_rule(rule):
    """A rule as the user declares it, or as Neutron returns it, in one comparable form.

    Keys: direction, ethertype, protocol, port_range_min, port_range_max, remote_ip_prefix,
    remote_group_id. Accepts ``ports`` ('22', '50000-50050') as well as the two range keys.
    The ethertype follows the remote prefix when one is given (IPv6 for '::/0'-style prefixes).
    """
    protocol = normalise_protocol(rule.get("protocol"))
    if rule.get("ports") is not None:
        if rule.get("port_range_min") is not None or rule.get("port_range_max") is not None:
            raise ValueError("give either ports or port_range_min/port_range_max, not both")
        port_min, port_max = parse_port_range(rule["ports"])
    else:
        port_min, port_max = rule.get("port_range_min"), rule.get("port_range_max")
    port_min, port_max = normalise_port_range(protocol, port_min, port_max)
    raw_prefix = rule.get("remote_ip_prefix")
    ethertype = rule.get("ethertype")
    if raw_prefix not in (None, "") and ethertype is None:
        ethertype = "IPv%d" % ipaddress.ip_network(str(raw_prefix).strip(), strict=False).version
    ethertype = "IPv6" if str(ethertype or "IPv4").lower() == "ipv6" else "IPv4"
    if protocol == "icmp" and ethertype == "IPv6":
        protocol = "ipv6-icmp"
    remote_prefix = normalise_remote_prefix(raw_prefix)
    if remote_prefix is not None and ipaddress.ip_network(remote_prefix).version != int(ethertype[-1]):
        raise ValueError("remote_ip_prefix %s is not an %s prefix" % (remote_prefix, ethertype))
    direction = str(rule.get("direction") or "ingress").lower()
    if direction not in ("ingress", "egress"):
        raise ValueError("invalid direction %r (ingress or egress)" % (rule.get("direction"),))
    remote_group = rule.get("remote_group_id")
    if remote_group is not None and remote_prefix is not None:
        raise ValueError("a rule has either remote_ip_prefix or remote_group, not both")
    return {
        "direction": direction,
        "ethertype": ethertype,
        "protocol": protocol,
        "port_range_min": port_min,
        "port_range_max": port_max,
        "remote_ip_prefix": remote_prefix,
        "remote_group_id": remote_group,
    }


def rule_key(normalised):
    """What makes two normalised rules the same rule (Neutron never updates a rule)."""
    return tuple(normalised[key] for key in (
        "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
        "remote_ip_prefix", "remote_group_id"))


def describe_rule(normalised):
    """'ingress tcp 50000-50050 from 0.0.0.0/0' - for messages and the module's actions."""
    protocol = normalised["protocol"] or "any protocol"
    low, high = normalised["port_range_min"], normalised["port_range_max"]
    ports = ""
    if low is not None:
        if protocol in ICMP_PROTOCOLS:
            ports = " type %s" % low + ("" if high is None else " code %s" % high)
        else:
            ports = " %s" % low if low == high else " %s-%s" % (low, high)
    if normalised["remote_group_id"]:
        remote = "group %s" % normalised["remote_group_id"]
    else:
        remote = normalised["remote_ip_prefix"] or ("0.0.0.0/0" if normalised["ethertype"] == "IPv4"
                                                    else "::/0")
    return "%s %s %s%s %s %s" % (normalised["direction"], normalised["ethertype"], protocol, ports,
                                 "from" if normalised["direction"] == "ingress" else "to", remote)


def rule_delta(current, desired, purge):
    """Rules to create and rule ids to delete.

    ``current``: [(rule id, normalised rule)]; ``desired``: [normalised rule]. A declared rule
    that exists (in any spelling) is kept; undeclared rules are deleted only with ``purge``.
    Returns (to_create: [normalised], to_delete: [(id, normalised)]).
    """
    have = {}
    for rule_id, rule in current:
        have.setdefault(rule_key(rule), (rule_id, rule))
    wanted = {}
    for rule in desired:
        wanted.setdefault(rule_key(rule), rule)
    to_create = [rule for key, rule in wanted.items() if key not in have]
    to_delete = []
    if purge:
        to_delete = [(rule_id, rule) for rule_id, rule in current if rule_key(rule) not in wanted]
    return to_create, to_delete


# ---------------------------------------------------------------------------------
# Pure helpers: addresses, subnets, errors
# ---------------------------------------------------------------------------------

def normalise_cidr(cidr):
    """'10.0.0.0/24' stays; '10.0.0.5/24' -> ValueError naming the network address."""
    try:
        network = ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        raise ValueError("invalid CIDR %r (expected e.g. 10.77.1.0/24)" % (cidr,))
    if str(network) != str(cidr).strip():
        raise ValueError("CIDR %s has host bits set; did you mean %s?" % (cidr, network))
    return str(network)


def overlapping(cidr, others):
    """The entries of ``others`` ([(label, cidr)]) whose CIDR overlaps ``cidr``."""
    network = ipaddress.ip_network(cidr)
    result = []
    for label, other in others:
        other_network = ipaddress.ip_network(other, strict=False)
        if other_network.version == network.version and other_network.overlaps(network):
            result.append((label, str(other_network)))
    return result


def address_in(address, cidr):
    return ipaddress.ip_address(str(address)) in ipaddress.ip_network(str(cidr), strict=False)


def normalise_route(route):
    """{'destination': '10.77.3.5/24', 'nexthop': '10.77.2.1'} -> canonical strings."""
    return {"destination": str(ipaddress.ip_network(str(route["destination"]), strict=False)),
            "nexthop": str(ipaddress.ip_address(str(route["nexthop"])))}


def describe_sdk_error(exc):
    """One readable line from an openstacksdk exception: service answer, status, details."""
    status = getattr(exc, "status_code", None)
    details = getattr(exc, "details", None)
    method = getattr(exc, "method", None)
    url = getattr(exc, "url", None)
    message = getattr(exc, "message", None) or str(exc)
    if status is None:
        return message
    text = "%s%s answered %s" % (method + " " if method else "", url or "the API", status)
    if details and details != message:
        text += ": %s" % details
    elif message and message != "Error":
        text += ": %s" % message
    return text


def names_list(names, limit=15):
    """'a, b, c' (sorted), or '(none)'; long lists are cut with a count."""
    names = sorted(set(str(n) for n in names if n))
    if not names:
        return "(none)"
    if len(names) > limit:
        return ", ".join(names[:limit]) + " and %d more" % (len(names) - limit)
    return ", ".join(names)


# ---------------------------------------------------------------------------------
# The module base
# ---------------------------------------------------------------------------------

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


class OpenStackModule(VirtlabModule):
    """Base of the openstack_* modules: auth, connection, SDK errors, lookups, waiting."""

    poll_interval = 1.0

    def finish(self, resource_key, current, after, actions, act, read_back):
        """The tail every module shares. In sync, or in check mode: report the plan (``after`` is the resource as
        it would be). Otherwise ``act()`` (returns the resource) and return it as it now is, read back with
        ``read_back(resource)`` - or empty once removed. Modules give ``describe(verb, details)``."""
        described = [self.describe(verb, details) for verb, details in actions]
        if not actions or self.check_mode:
            self.exit(bool(actions), before=current, after=after, actions=described, **{resource_key: after})
        resource = act()
        final = {} if self.params["state"] == "absent" else read_back(resource)
        self.exit(True, before=current, after=final, actions=described, **{resource_key: final})
    conn = None

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
        if external is True and not network.is_router_external:
            externals = [n.name for n in self.conn.network.networks(is_router_external=True)]
            raise VirtlabError("Network %r is not an external (public) network. External "
                               "networks of this cloud: %s" % (name_or_id, names_list(externals)),
                               name=name_or_id)
        return network

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

    # Waiting ------------------------------------------------------------------------
    def wait_for_server(self, server_id, ready, what):
        """Poll the server until ``ready(server)`` is true; ERROR fails at once with Nova's fault."""
        def probe():
            server = self.conn.compute.get_server(server_id)
            if server.status == "ERROR":
                raise OperationFailed(
                    "%s failed: server %s is in ERROR: %s" % (what, server.name, fault_message(server)),
                    server_id=server_id, fault=server.fault)
            return server if ready(server) else None
        return wait_until(probe, self.params["timeout"], what, interval=self.poll_interval)

    def wait_for_image(self, image_id, what):
        def probe():
            image = self.conn.image.get_image(image_id)
            if image.status in ("killed", "deleted", "pending_delete"):
                raise OperationFailed("%s failed: image %s is %s" % (what, image.name, image.status),
                                      image_id=image_id)
            return image if image.status == "active" else None
        return wait_until(probe, self.params["timeout"], what, interval=self.poll_interval)

    def wait_for_gone(self, get, what):
        """Poll ``get()`` (None or NotFound when gone) until the resource has disappeared."""
        def probe():
            try:
                resource = get()
            except sdk_exceptions.NotFoundException:
                return True
            if resource is None:
                return True
            if getattr(resource, "status", None) == "ERROR" and hasattr(resource, "fault"):
                raise OperationFailed("%s failed: %s" % (what, fault_message(resource)))
            return None
        return wait_until(probe, self.params["timeout"], what, interval=self.poll_interval)


def fault_message(server):
    fault = getattr(server, "fault", None) or {}
    if isinstance(fault, dict):
        return fault.get("message") or "no fault message"
    return str(fault)
