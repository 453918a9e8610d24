#!/usr/bin/env bash
# Install, configure and start a real OpenStack control plane on this machine, on 127.0.0.1 only,
# for the tests of the openstack_* modules (tests/openstack) and the OpenStack playbooks.
#
# Debian bookworm's own packages (OpenStack Zed): MariaDB, RabbitMQ, Keystone and Placement (under
# uwsgi), Glance, Neutron and Nova, with two compute hosts:
#
#   virtlab-compute  nova-compute with a fake virt driver (and a fake Open vSwitch agent heartbeat):
#                    servers reach ACTIVE at once and nothing boots. Images with the property
#                    hypervisor_type=fake are scheduled there (the seeded `fake-debian-12`): the
#                    API tests, fast and with no guest.
#   virtlab-qemu     the data plane: nova-compute with libvirt and QEMU in emulation (TCG; never
#                    KVM), Neutron ML2 linuxbridge + l2population with the linuxbridge, L3, DHCP
#                    and metadata agents. Images with hypervisor_type=qemu are scheduled there: the
#                    guest image built by scripts/build-guest-image.sh, uploaded as `debian-12`.
#
# The external network `public` (flat) is the bridge br-ex holding 172.24.4.1/24 on this machine:
# floating IPs answer from here. A FORWARD rule drops whatever leaves br-ex for another interface,
# so guests reach this machine and nothing beyond it. Docker may run next to it.
# VIRTLAB_OS_DATA_PLANE=0 starts the control plane with the fake compute host only.
#
# Idempotent: on a machine where it already runs, it checks the services and returns within
# seconds. It prints its own duration. Needs root (apt-get, services); uses no systemd.
#
# Writes:
#   <repo>/.cache/openstack/clouds.yaml  clouds `virtlab-test` (a member of project virtlab-test,
#                                         what the tests use) and `virtlab-admin`;
#                                         override the path with VIRTLAB_OS_CLOUDS_YAML
#   /var/lib/virtlab-openstack/          generated passwords, stamps
#   /var/log/virtlab-openstack/          one log per service
#   /run/virtlab-openstack/              one pid file per service
#   <repo>/.cache/openstack/id_ed25519    the SSH key of the test user's key pair `virtlab`
#
#   scripts/openstack-control-plane.sh          install if needed, start, wait until usable
#   scripts/openstack-control-plane.sh stop     stop every service it started, the guests, dnsmasq
#                                               and haproxy, and remove the namespaces, bridges and
#                                               firewall rules of the data plane
set -euo pipefail

# The services outlive this script: they must not inherit its open files beyond the standard streams (a
# caller's `flock LOCKFILE scripts/openstack-control-plane.sh` would stay locked for as long as the cloud runs).
# 255 is the script bash is reading.
for fd in "/proc/$$/fd"/*; do
  fd=${fd##*/}
  case $fd in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done

STARTED_AT=$(date +%s)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPERS="$REPO/tests/openstack/control_plane"
CLOUDS_YAML="${VIRTLAB_OS_CLOUDS_YAML:-$REPO/.cache/openstack/clouds.yaml}"
STATE_DIR=/var/lib/virtlab-openstack
LOG_DIR=/var/log/virtlab-openstack
RUN_DIR=/run/virtlab-openstack
PY=/usr/bin/python3                 # Debian's Python, where Debian's OpenStack lives
COMPUTE_HOST=virtlab-compute        # the fake hypervisor
QEMU_HOST=virtlab-qemu              # the data plane (libvirt/QEMU, Neutron's agents)
DATA_PLANE="${VIRTLAB_OS_DATA_PLANE:-1}"
PUBLIC_BRIDGE=br-ex                 # the flat physical network `public`
PUBLIC_ADDRESS=172.24.4.1/24        # this machine on it; the floating IPs are in this /24
VTEP_BRIDGE=br-vtep                 # holds the VXLAN endpoint address (local_ip)
VTEP_ADDRESS=172.24.5.1
SSH_KEY="$(dirname "$CLOUDS_YAML")/id_ed25519"
REGION=RegionOne
RABBIT_URL="rabbit://guest:guest@127.0.0.1:5672/"
KEYSTONE_URL="http://127.0.0.1:5000/v3/"

PACKAGES="mariadb-server rabbitmq-server python3-pymysql keystone glance placement-api nova-api
nova-conductor nova-scheduler python3-nova neutron-server uwsgi-plugin-python3 curl openssh-client"
# The order they start in; each has a pid file in $RUN_DIR.
DAEMONS="mariadb rabbitmq keystone placement glance-api neutron-server ovs-agent-heartbeat nova-api
nova-conductor nova-scheduler nova-compute"
if [ "$DATA_PLANE" = 1 ]; then
  PACKAGES="$PACKAGES nova-compute nova-compute-qemu libvirt-daemon-system python3-libvirt
neutron-linuxbridge-agent neutron-l3-agent neutron-dhcp-agent neutron-metadata-agent haproxy
dnsmasq-base dnsmasq-utils ipset conntrack ebtables iptables genisoimage qemu-utils sudo debootstrap"
  DAEMONS="mariadb rabbitmq keystone placement glance-api neutron-server ovs-agent-heartbeat
linuxbridge-agent dhcp-agent l3-agent metadata-agent nova-api nova-conductor nova-scheduler
nova-compute virtlogd libvirtd nova-compute-qemu"
fi
# Every daemon this script may have started, in start order: `stop` stops them all.
ALL_DAEMONS="mariadb rabbitmq keystone placement glance-api neutron-server ovs-agent-heartbeat
linuxbridge-agent dhcp-agent l3-agent metadata-agent nova-api nova-conductor nova-scheduler
nova-compute virtlogd libvirtd nova-compute-qemu"

log() { printf "[openstack-control-plane +%ss] %s\n" "$(( $(date +%s) - STARTED_AT ))" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
elapsed() { echo "$(( $(date +%s) - STARTED_AT ))s"; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts services)"

# ------------------------------------------------------------------------------------------
# Processes
# ------------------------------------------------------------------------------------------
is_running() { # name
  local pidfile="$RUN_DIR/$1.pid"
  [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

start_daemon() { # name command...
  local name=$1; shift
  if is_running "$name"; then return 0; fi
  log "starting $name"
  # Detached, with every stream redirected: a caller waiting on this script's output
  # (pytest's subprocess) must not wait for the services too.
  setsid nohup "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
}

stop_pid() { # name pid: TERM its process group, KILL what is left after 20 s
  local name=$1 pid=$2
  log "stopping $name ($pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 40); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  log "$name ($pid) still runs after 20 s: KILL"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

stop_all() {
  local name
  destroy_guests
  for name in $(echo "$ALL_DAEMONS" | tr ' ' '\n' | tac); do
    # RabbitMQ's wrapper switches user (su), so its Erlang VM is not in the wrapper's process
    # group: ask it to stop. MariaDB too is stopped the clean way.
    case $name in
      rabbitmq) rabbitmqctl -q stop >/dev/null 2>&1 || true ;;
      mariadb) mysqladmin shutdown >/dev/null 2>&1 || true ;;
    esac
    if is_running "$name"; then
      stop_pid "$name" "$(cat "$RUN_DIR/$name.pid")"
    fi
    rm -f "$RUN_DIR/$name.pid"
  done
  remove_data_plane_leftovers
}

# ------------------------------------------------------------------------------------------
# The data plane's traces outside the daemons: guests, dnsmasq and haproxy (they daemonize out
# of the agents' process groups), namespaces, bridges, firewall rules.
# ------------------------------------------------------------------------------------------
destroy_guests() {
  local domain pidfile
  if command -v virsh >/dev/null 2>&1 && [ -S /run/libvirt/libvirt-sock ] \
      && timeout 10 virsh -c qemu:///system version >/dev/null 2>&1; then
    for domain in $(timeout 20 virsh -c qemu:///system list --name 2>/dev/null); do
      log "destroying guest $domain"
      timeout 30 virsh -c qemu:///system destroy "$domain" >/dev/null 2>&1 || true
    done
  fi
  # Guests whose libvirtd is gone: libvirt's pid files name them.
  for pidfile in /run/libvirt/qemu/instance-*.pid; do
    [ -s "$pidfile" ] || continue
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      stop_pid "guest $(basename "$pidfile" .pid)" "$(cat "$pidfile")"
    fi
  done
}

remove_iptables_chains() { # iptables|ip6tables: every neutron-* chain and the jumps to them
  local cmd=$1 table rule chain
  command -v "$cmd-save" >/dev/null 2>&1 || return 0
  for table in filter nat mangle raw; do
    "$cmd-save" -t "$table" 2>/dev/null | grep -E '^-A [A-Z]+ .*-j neutron-' | sed 's/^-A /-D /' \
      | while read -r rule; do eval "$cmd -w -t $table $rule" 2>/dev/null || true; done || true
    for chain in $("$cmd-save" -t "$table" 2>/dev/null | grep -oE '^:neutron-[^ ]+' | cut -c2-); do
      "$cmd" -w -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $("$cmd-save" -t "$table" 2>/dev/null | grep -oE '^:neutron-[^ ]+' | cut -c2-); do
      "$cmd" -w -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

remove_data_plane_leftovers() {
  local pidfile pid ns link set rule chain
  for pidfile in /var/lib/neutron/dhcp/*/pid /var/lib/neutron/external/pids/*.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping $(basename "$(dirname "$pidfile")")/$(basename "$pidfile") ($pid)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  if command -v ip >/dev/null 2>&1; then
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^(qrouter|qdhcp)-' || true); do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
      ip netns delete "$ns" 2>/dev/null || true
    done
    for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 \
                  | grep -E '^(brq[0-9a-f-]+|vxlan-[0-9]+|tap[0-9a-f]{8}-[0-9a-f]{2})$' || true); do
      ip link delete "$link" 2>/dev/null || true
    done
  fi
  remove_iptables_chains iptables
  remove_iptables_chains ip6tables
  if command -v ebtables >/dev/null 2>&1; then
    for table in filter nat; do
      ebtables -t "$table" -L 2>/dev/null | grep -E -- '-j neutron' | while read -r rule; do
        for chain in PREROUTING INPUT FORWARD OUTPUT POSTROUTING; do
          # shellcheck disable=SC2086
          ebtables -t "$table" -D "$chain" $rule 2>/dev/null || true
        done
      done || true
      for chain in $(ebtables -t "$table" -L 2>/dev/null | sed -nE 's/^Bridge chain: (neutron[^,]*),.*/\1/p'); do
        ebtables -t "$table" -F "$chain" 2>/dev/null || true
        ebtables -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  fi
  if command -v ipset >/dev/null 2>&1; then
    for set in $(ipset list -n 2>/dev/null | grep -E '^NIPv[46]' || true); do
      ipset destroy "$set" 2>/dev/null || true
    done
  fi
  remove_host_network
}

# ------------------------------------------------------------------------------------------
# The host side of the data plane: the external bridge, the VXLAN endpoint, the guard rule
# ------------------------------------------------------------------------------------------
guard_rule() { # iptables|ip6tables -C|-I|-D
  local cmd=$1 op=$2
  if [ "$op" = -I ]; then set -- -I FORWARD 1; else set -- "$op" FORWARD; fi
  "$cmd" -w "$@" -i "$PUBLIC_BRIDGE" ! -o "$PUBLIC_BRIDGE" \
    -m comment --comment "virtlab: guests reach this machine only" -j DROP
}

has_address() { # device address/prefix (no pipe into grep -q: pipefail would see SIGPIPE)
  local addresses
  addresses=$(ip -o addr show dev "$1" 2>/dev/null) || return 1
  [[ "$addresses" == *" inet $2 "* ]]
}

ensure_bridge() { # name address
  ip link show "$1" >/dev/null 2>&1 || ip link add "$1" type bridge
  has_address "$1" "$2" || ip addr add "$2" dev "$1"
  ip link set "$1" up
}

setup_host_network() {
  ensure_bridge "$PUBLIC_BRIDGE" "$PUBLIC_ADDRESS"
  ensure_bridge "$VTEP_BRIDGE" "$VTEP_ADDRESS/32"
  local cmd
  for cmd in iptables ip6tables; do
    guard_rule "$cmd" -C 2>/dev/null || guard_rule "$cmd" -I \
      || die "could not add the FORWARD rule that keeps guests on this machine ($cmd)"
  done
}

host_network_ok() {
  has_address "$PUBLIC_BRIDGE" "$PUBLIC_ADDRESS" && has_address "$VTEP_BRIDGE" "$VTEP_ADDRESS/32" \
    && guard_rule iptables -C 2>/dev/null && guard_rule ip6tables -C 2>/dev/null
}

remove_host_network() {
  local cmd
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null 2>&1 || continue
    while guard_rule "$cmd" -C 2>/dev/null; do guard_rule "$cmd" -D || break; done
  done
  for link in "$PUBLIC_BRIDGE" "$VTEP_BRIDGE"; do
    if ip link show "$link" >/dev/null 2>&1; then ip link delete "$link" 2>/dev/null || true; fi
  done
}

wait_for() { # seconds description command...
  local seconds=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "gave up waiting for $what after ${seconds}s"
      return 1
    fi
    sleep 1
  done
}

http_answers() { # url: any HTTP status (401 included) means the service listens
  local code
  code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true)
  [ -n "$code" ] && [ "$code" != 000 ]
}

wait_http() { # name url
  wait_for 120 "$1" http_answers "$2" \
    || die "$1 does not answer on $2 after 120 s; see $LOG_DIR/$1.log:
$(tail -n 20 "$LOG_DIR/$1.log" 2>/dev/null)"
}

seed() { # phase
  VIRTLAB_OS_SERVICE_PASSWORD="$SERVICE_PW" VIRTLAB_OS_TEST_PASSWORD="$TEST_PW" \
  VIRTLAB_OS_COMPUTE_HOST="$COMPUTE_HOST" OS_CLIENT_CONFIG_FILE="$CLOUDS_YAML" \
  VIRTLAB_OS_QEMU_HOST="$([ "$DATA_PLANE" = 1 ] && echo "$QEMU_HOST")" \
  VIRTLAB_OS_SSH_KEY="$SSH_KEY" \
    "$PY" "$HELPERS/seed.py" "$1"
}

# The guest image: built once (cached by content), uploaded once as `debian-12` (idempotent).
guest_image() {
  OS_CLIENT_CONFIG_FILE="$CLOUDS_YAML" VIRTLAB_PYTHON="$PY" \
    bash "$REPO/scripts/build-guest-image.sh" upload --cloud virtlab-admin --name debian-12 \
    >>"$LOG_DIR/guest-image.log" 2>&1 || die "the guest image could not be built or uploaded; see $LOG_DIR/guest-image.log:
$(tail -n 20 "$LOG_DIR/guest-image.log")"
}

# The test user's SSH key (its key pair `virtlab` is seeded from it).
ensure_ssh_key() {
  [ -s "$SSH_KEY" ] && [ -s "$SSH_KEY.pub" ] && return 0
  rm -f "$SSH_KEY" "$SSH_KEY.pub"
  ssh-keygen -q -t ed25519 -N '' -C virtlab-test -f "$SSH_KEY" || die "ssh-keygen failed"
}

all_running() {
  local name
  for name in $DAEMONS; do is_running "$name" || return 1; done
}

if [ "${1:-}" = stop ]; then
  stop_all
  log "stopped ($(elapsed))"
  exit 0
fi

mkdir -p "$STATE_DIR" "$LOG_DIR" "$RUN_DIR" "$(dirname "$CLOUDS_YAML")"
chmod 700 "$STATE_DIR"

# ------------------------------------------------------------------------------------------
# Passwords (generated once, kept root-only) and the clouds.yaml the tests read
# ------------------------------------------------------------------------------------------
if [ ! -s "$STATE_DIR/passwords" ]; then
  gen() { head -c 18 /dev/urandom | base64 | tr -d '/+=' ; }
  umask 077
  printf 'DB_PW=%s\nADMIN_PW=%s\nSERVICE_PW=%s\nTEST_PW=%s\n' "$(gen)" "$(gen)" "$(gen)" "$(gen)" \
    >"$STATE_DIR/passwords"
  umask 022
fi
if ! grep -q '^METADATA_SECRET=' "$STATE_DIR/passwords"; then
  printf 'METADATA_SECRET=%s\n' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" >>"$STATE_DIR/passwords"
fi
# shellcheck disable=SC1091
. "$STATE_DIR/passwords"

write_clouds_yaml() {
  umask 077
  cat >"$CLOUDS_YAML" <<EOF
# Written by scripts/openstack-control-plane.sh: the test control plane on this machine.
clouds:
  virtlab-test:
    auth:
      auth_url: $KEYSTONE_URL
      username: virtlab-test
      password: $TEST_PW
      project_name: virtlab-test
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    identity_api_version: 3
  virtlab-admin:
    auth:
      auth_url: $KEYSTONE_URL
      username: admin
      password: $ADMIN_PW
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    identity_api_version: 3
EOF
  umask 022
}

# Warm start: everything runs already and a server could be scheduled now.
if all_running && [ -s "$CLOUDS_YAML" ] && { [ "$DATA_PLANE" != 1 ] || host_network_ok; } \
    && seed verify >/dev/null 2>&1; then
  if [ "$DATA_PLANE" = 1 ]; then ensure_ssh_key; seed keypair || die "cannot set the test user's key pair"; guest_image; fi
  log "already running ($(elapsed)); clouds.yaml: $CLOUDS_YAML"
  exit 0
fi

# ------------------------------------------------------------------------------------------
# Install (no service may start while installing: policy-rc.d; no dbconfig, no endpoints)
# ------------------------------------------------------------------------------------------
missing_packages() {
  local pkg missing=""
  for pkg in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $pkg"
  done
  echo "$missing"
}

MISSING=$(missing_packages)
if [ -n "$MISSING" ]; then
  log "installing Debian's OpenStack packages:$MISSING (a few minutes)"
  export DEBIAN_FRONTEND=noninteractive
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  for svc in keystone glance nova placement neutron; do
    echo "$svc $svc/configure_db boolean false"
    echo "$svc $svc/register-endpoint boolean false"
  done | debconf-set-selections
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $MISSING >"$LOG_DIR/apt-install.log" 2>&1 \
    || die "apt-get install failed; see $LOG_DIR/apt-install.log:
$(tail -n 20 "$LOG_DIR/apt-install.log")"
  rm -f /usr/sbin/policy-rc.d
  trap - EXIT
  log "installed ($(elapsed))"
fi

# ------------------------------------------------------------------------------------------
# Configuration (rewritten on every cold start; the packages' files are replaced)
# ------------------------------------------------------------------------------------------
db_url() { echo "mysql+pymysql://virtlab:$DB_PW@127.0.0.1/$1?charset=utf8"; }

authtoken() { # service user
  cat <<EOF
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000
auth_url = http://127.0.0.1:5000
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SERVICE_PW
region_name = $REGION
EOF
}

service_auth() { # section service-user
  cat <<EOF
[$1]
auth_url = http://127.0.0.1:5000
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $SERVICE_PW
region_name = $REGION
EOF
}

if [ "$DATA_PLANE" = 1 ]; then
  MECHANISM_DRIVERS=openvswitch,linuxbridge,l2population
  NOVA_APIS=osapi_compute,metadata
  NOTIFY_NOVA=true
else
  MECHANISM_DRIVERS=openvswitch
  NOVA_APIS=osapi_compute
  NOTIFY_NOVA=false
fi

write_configs() {
  mkdir -p /var/lib/glance/images /var/lib/glance/lock /var/lib/neutron/lock /var/lib/nova/lock \
           /var/lib/nova/instances

  cat >/etc/rabbitmq/rabbitmq-env.conf <<EOF
NODENAME=rabbit@localhost
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=5672
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF

  cat >/etc/keystone/keystone.conf <<EOF
[DEFAULT]
log_file = $LOG_DIR/keystone-app.log
[database]
connection = $(db_url keystone)
[token]
provider = fernet
[oslo_messaging_notifications]
driver = noop
EOF

  cat >/etc/placement/placement.conf <<EOF
[DEFAULT]
log_file = $LOG_DIR/placement-app.log
[api]
auth_strategy = keystone
[placement_database]
connection = $(db_url placement)
$(authtoken placement)
EOF

  cat >/etc/glance/glance-api.conf <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
workers = 1
client_socket_timeout = 30
log_file = $LOG_DIR/glance-api-app.log
[database]
connection = $(db_url glance)
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = /var/lib/glance/images/
[oslo_concurrency]
lock_path = /var/lib/glance/lock
[paste_deploy]
flavor = keystone
$(authtoken glance)
EOF

  cat >/etc/neutron/neutron.conf <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $RABBIT_URL
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
allow_overlapping_ips = true
# Idle keep-alive connections hold one of the eventlet server's green threads each: close them
# soon, or a client that opens many connections (a test run) exhausts the pool and Neutron hangs.
client_socket_timeout = 30
wsgi_default_pool_size = 1000
notify_nova_on_port_status_changes = $NOTIFY_NOVA
notify_nova_on_port_data_changes = $NOTIFY_NOVA
state_path = /var/lib/neutron
# The agents' host: the data plane's compute host (port binding matches on it).
host = $QEMU_HOST
[agent]
report_interval = 20
root_helper = sudo neutron-rootwrap /etc/neutron/rootwrap.conf
root_helper_daemon = sudo neutron-rootwrap-daemon /etc/neutron/rootwrap.conf
[experimental]
# Zed's linuxbridge mechanism driver and agent refuse to start without it.
linuxbridge = true
[database]
connection = $(db_url neutron)
[oslo_concurrency]
lock_path = /var/lib/neutron/lock
$(authtoken neutron)
$(service_auth nova nova)
EOF

  cat >/etc/neutron/plugins/ml2/ml2_conf.ini <<EOF
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = $MECHANISM_DRIVERS
extension_drivers = port_security
[ml2_type_flat]
flat_networks = public
[ml2_type_vxlan]
vni_ranges = 1:1000
[securitygroup]
enable_security_group = true
EOF

  cat >/etc/nova/nova.conf <<EOF
[DEFAULT]
my_ip = 127.0.0.1
transport_url = $RABBIT_URL
enabled_apis = $NOVA_APIS
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
metadata_listen = 127.0.0.1
metadata_listen_port = 8775
metadata_workers = 1
allow_resize_to_same_host = true
state_path = /var/lib/nova
instances_path = /var/lib/nova/instances
[api]
auth_strategy = keystone
[api_database]
connection = $(db_url nova_api)
[database]
connection = $(db_url nova)
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 30
[filter_scheduler]
# ImagePropertiesFilter sends images with hypervisor_type=fake to the fake host and images with
# hypervisor_type=qemu to the data plane.
enabled_filters = ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter
[oslo_concurrency]
lock_path = /var/lib/nova/lock
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
client_socket_timeout = 30
[glance]
region_name = $REGION
$(authtoken nova)
$(service_auth placement placement)
$(service_auth neutron neutron)
service_metadata_proxy = true
metadata_proxy_shared_secret = $METADATA_SECRET
EOF

  # Each compute host: the common nova.conf, then its own file.
  cat >/etc/nova/nova-compute-fake.conf <<EOF
[DEFAULT]
host = $COMPUTE_HOST
compute_driver = virtlab_fake.SnapshotFakeDriver
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
EOF

  [ "$DATA_PLANE" = 1 ] || return 0

  cat >/etc/nova/nova-compute-qemu.conf <<EOF
[DEFAULT]
host = $QEMU_HOST
compute_driver = libvirt.LibvirtDriver
instances_path = /var/lib/nova/instances
# Guests get their metadata (SSH key, hostname, networks) on a config drive: no wait on the
# metadata service at first boot.
force_config_drive = true
reserved_host_memory_mb = 1024
# Keep the image's qcow2 as the base of the guests' disks (no conversion to a 2 GiB raw file at
# the first boot of each image).
force_raw_images = false
vif_plugging_is_fatal = true
vif_plugging_timeout = 120
[libvirt]
# Emulation (TCG). Never kvm: nested KVM hangs on this kind of machine.
virt_type = qemu
cpu_mode = none
[vnc]
enabled = false
[spice]
enabled = false
EOF

  cat >/etc/neutron/plugins/ml2/linuxbridge_agent.ini <<EOF
[DEFAULT]
debug = ${VIRTLAB_OS_AGENT_DEBUG:-false}
[linux_bridge]
bridge_mappings = public:$PUBLIC_BRIDGE
[vxlan]
enable_vxlan = true
local_ip = $VTEP_ADDRESS
l2_population = true
[securitygroup]
enable_security_group = true
firewall_driver = iptables
[agent]
polling_interval = 2
EOF

  cat >/etc/neutron/l3_agent.ini <<EOF
[DEFAULT]
interface_driver = linuxbridge
EOF

  cat >/etc/neutron/dhcp_agent.ini <<EOF
[DEFAULT]
interface_driver = linuxbridge
dhcp_driver = neutron.agent.linux.dhcp.Dnsmasq
enable_isolated_metadata = true
EOF

  cat >/etc/neutron/metadata_agent.ini <<EOF
[DEFAULT]
nova_metadata_host = 127.0.0.1
nova_metadata_port = 8775
metadata_proxy_shared_secret = $METADATA_SECRET
metadata_workers = 1
EOF

  # libvirt makes no network of its own: Neutron plugs the guests.
  rm -f /etc/libvirt/qemu/networks/autostart/default.xml
  # QEMU as root. libvirt probes each emulator's capabilities as root, and there /dev/kvm opens;
  # run as libvirt-qemu, it does not (the device's group is not kvm here), so libvirt would find
  # its cached capabilities stale at every call and probe QEMU again (seconds of CPU each time,
  # and about a minute added to each server build). Guests never use KVM: virt_type = qemu.
  cat >/etc/libvirt/qemu.conf <<EOF
# Written by scripts/openstack-control-plane.sh
user = "root"
group = "root"
dynamic_ownership = 1
EOF
}

# ------------------------------------------------------------------------------------------
# MariaDB and RabbitMQ
# ------------------------------------------------------------------------------------------
mysql_answers() { mysqladmin --silent ping; }

start_infrastructure() {
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if ! mysql_answers >/dev/null 2>&1; then
    start_daemon mariadb /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1
  fi
  wait_for 60 mariadb mysql_answers || die "MariaDB does not start; see $LOG_DIR/mariadb.log"

  if ! is_running rabbitmq; then
    ERL_EPMD_ADDRESS=127.0.0.1 start_daemon rabbitmq /usr/sbin/rabbitmq-server
  fi
  wait_for 90 rabbitmq rabbitmqctl -q await_startup \
    || die "RabbitMQ does not start; see $LOG_DIR/rabbitmq.log and /var/log/rabbitmq/"
}

create_databases() {
  local db sql=""
  for db in keystone glance placement neutron nova_api nova nova_cell0; do
    sql="$sql CREATE DATABASE IF NOT EXISTS $db;"
    sql="$sql GRANT ALL PRIVILEGES ON $db.* TO 'virtlab'@'127.0.0.1';"
    sql="$sql GRANT ALL PRIVILEGES ON $db.* TO 'virtlab'@'localhost';"
  done
  mysql -e "CREATE USER IF NOT EXISTS 'virtlab'@'127.0.0.1' IDENTIFIED BY '$DB_PW';
            CREATE USER IF NOT EXISTS 'virtlab'@'localhost' IDENTIFIED BY '$DB_PW';
            ALTER USER 'virtlab'@'127.0.0.1' IDENTIFIED BY '$DB_PW';
            ALTER USER 'virtlab'@'localhost' IDENTIFIED BY '$DB_PW';
            $sql FLUSH PRIVILEGES;"
}

sync_databases() {
  [ -f "$STATE_DIR/databases-synced" ] && return 0
  log "creating the services' database schemas (about a minute)"
  {
    keystone-manage db_sync
    glance-manage db_sync
    placement-manage db sync
    neutron-db-manage --config-file /etc/neutron/neutron.conf \
      --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade heads
    nova-manage api_db sync
    nova-manage cell_v2 map_cell0 --database_connection "$(db_url nova_cell0)"
    nova-manage cell_v2 list_cells | grep -q ' cell1 ' || nova-manage cell_v2 create_cell --name cell1
    nova-manage db sync
  } >>"$LOG_DIR/db-sync.log" 2>&1 || die "database sync failed; see $LOG_DIR/db-sync.log:
$(tail -n 20 "$LOG_DIR/db-sync.log")"
  touch "$STATE_DIR/databases-synced"
}

# ------------------------------------------------------------------------------------------
# Keystone and Placement (uwsgi), identity, the other services
# ------------------------------------------------------------------------------------------
uwsgi_app() { # name port wsgi-file
  # uwsgi's http socket has no keep-alive: without "Connection: close" clients that reuse
  # connections (openstacksdk) get ECONNRESET on their second request.
  start_daemon "$1" uwsgi --plugin python3 --http-socket "127.0.0.1:$2" --wsgi-file "$3" \
    --master --processes 2 --threads 1 --lazy-apps --die-on-term --buffer-size 65535 \
    --add-header "Connection: close"
}

start_identity() {
  if [ ! -d /etc/keystone/fernet-keys ] || [ -z "$(ls -A /etc/keystone/fernet-keys 2>/dev/null)" ]; then
    { keystone-manage fernet_setup --keystone-user root --keystone-group root
      keystone-manage credential_setup --keystone-user root --keystone-group root
    } >>"$LOG_DIR/db-sync.log" 2>&1 || die "keystone-manage fernet_setup failed; see $LOG_DIR/db-sync.log"
  fi
  if [ ! -f "$STATE_DIR/keystone-bootstrapped" ]; then
    keystone-manage bootstrap --bootstrap-password "$ADMIN_PW" \
      --bootstrap-admin-url "$KEYSTONE_URL" --bootstrap-internal-url "$KEYSTONE_URL" \
      --bootstrap-public-url "$KEYSTONE_URL" --bootstrap-region-id "$REGION" \
      >>"$LOG_DIR/db-sync.log" 2>&1 || die "keystone-manage bootstrap failed; see $LOG_DIR/db-sync.log"
    touch "$STATE_DIR/keystone-bootstrapped"
  fi
  uwsgi_app keystone 5000 /usr/bin/keystone-wsgi-public
  wait_http keystone "$KEYSTONE_URL"
  write_clouds_yaml
  seed identity >>"$LOG_DIR/seed.log" 2>&1 || die "creating users and endpoints failed; see $LOG_DIR/seed.log:
$(tail -n 20 "$LOG_DIR/seed.log")"
  uwsgi_app placement 8778 /usr/bin/placement-api
  wait_http placement http://127.0.0.1:8778/
}

start_services() {
  start_daemon glance-api glance-api --config-file /etc/glance/glance-api.conf
  start_daemon neutron-server neutron-server --config-file /etc/neutron/neutron.conf \
    --config-file /etc/neutron/plugins/ml2/ml2_conf.ini
  wait_http glance-api http://127.0.0.1:9292/
  wait_http neutron-server http://127.0.0.1:9696/
  start_daemon ovs-agent-heartbeat "$PY" "$HELPERS/ovs_agent_heartbeat.py" "$COMPUTE_HOST" \
    --config-file /etc/neutron/neutron.conf
  if [ "$DATA_PLANE" = 1 ]; then
    local conf=/etc/neutron/neutron.conf
    start_daemon linuxbridge-agent neutron-linuxbridge-agent --config-file "$conf" \
      --config-file /etc/neutron/plugins/ml2/linuxbridge_agent.ini
    start_daemon dhcp-agent neutron-dhcp-agent --config-file "$conf" --config-file /etc/neutron/dhcp_agent.ini
    start_daemon l3-agent neutron-l3-agent --config-file "$conf" --config-file /etc/neutron/l3_agent.ini
    start_daemon metadata-agent neutron-metadata-agent --config-file "$conf" \
      --config-file /etc/neutron/metadata_agent.ini
  fi
  start_daemon nova-api nova-api --config-file /etc/nova/nova.conf
  start_daemon nova-conductor nova-conductor --config-file /etc/nova/nova.conf
  start_daemon nova-scheduler nova-scheduler --config-file /etc/nova/nova.conf
  start_daemon nova-compute "$PY" "$HELPERS/nova_compute_fake.py" --config-file /etc/nova/nova.conf \
    --config-file /etc/nova/nova-compute-fake.conf
  if [ "$DATA_PLANE" = 1 ]; then
    mkdir -p /run/libvirt
    start_daemon virtlogd /usr/sbin/virtlogd
    start_daemon libvirtd /usr/sbin/libvirtd
    # The first start probes every QEMU architecture (about a minute); cached afterwards.
    wait_for 240 libvirtd virsh -c qemu:///system version \
      || die "libvirtd does not answer; see $LOG_DIR/libvirtd.log:
$(tail -n 20 "$LOG_DIR/libvirtd.log")"
    # No network of libvirt's own (an autostarted `default` would make a bridge and a dnsmasq).
    if virsh -c qemu:///system net-info default >/dev/null 2>&1; then
      virsh -c qemu:///system net-destroy default >/dev/null 2>&1 || true
      virsh -c qemu:///system net-autostart default --disable >/dev/null 2>&1 || true
    fi
    start_daemon nova-compute-qemu nova-compute --config-file /etc/nova/nova.conf \
      --config-file /etc/nova/nova-compute-qemu.conf
  fi
  wait_http nova-api http://127.0.0.1:8774/
}

compute_host_mapped() {
  nova-manage cell_v2 discover_hosts >>"$LOG_DIR/db-sync.log" 2>&1
  local hosts
  hosts=$(nova-manage cell_v2 list_hosts 2>/dev/null)
  echo "$hosts" | grep -q " $COMPUTE_HOST " || return 1
  [ "$DATA_PLANE" != 1 ] || echo "$hosts" | grep -q " $QEMU_HOST "
}

usable() { seed verify >>"$LOG_DIR/seed.log" 2>&1; }

# ------------------------------------------------------------------------------------------
log "cold start"
write_configs
if [ "$DATA_PLANE" = 1 ]; then setup_host_network; ensure_ssh_key; fi
start_infrastructure
create_databases
sync_databases
start_identity
start_services
seed resources >>"$LOG_DIR/seed.log" 2>&1 || die "creating the public network, flavors and images failed; see $LOG_DIR/seed.log:
$(tail -n 20 "$LOG_DIR/seed.log")"
wait_for 120 "compute host" compute_host_mapped \
  || die "nova-compute did not register $COMPUTE_HOST; see $LOG_DIR/nova-compute.log:
$(tail -n 20 "$LOG_DIR/nova-compute.log")"
wait_for 180 "a usable cloud" usable \
  || die "the control plane is not usable; see $LOG_DIR/seed.log:
$(tail -n 5 "$LOG_DIR/seed.log")"
if [ "$DATA_PLANE" = 1 ]; then guest_image; fi
log "running ($(elapsed)); clouds.yaml: $CLOUDS_YAML (clouds virtlab-test, virtlab-admin)"
