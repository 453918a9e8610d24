#!/usr/bin/env bash
# Install, configure and start a real OpenStack control plane on this machine, on 127.0.0.1 only,
# for the tests of the openstack_* modules (tests/openstack) and the OpenStack playbooks.
#
# Debian bookworm's own packages (OpenStack Zed): MariaDB, RabbitMQ, Keystone and Placement (under
# uwsgi), Glance, Neutron (ML2 openvswitch, no agents but a fake heartbeat) and Nova (api, conductor,
# scheduler, and nova-compute with a fake virt driver). There is no data plane: servers, ports,
# routers and floating IPs exist in the databases only, and no guest boots.
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
#
#   scripts/openstack-control-plane.sh          install if needed, start, wait until usable
#   scripts/openstack-control-plane.sh stop     stop every service it started
set -euo pipefail

STARTED_AT=$(date +%s)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPERS="$REPO/tests/openstack/control_plane"
CLOUDS_YAML="${VIRTLAB_OS_CLOUDS_YAML:-$REPO/.cache/openstack/clouds.yaml}"
STATE_DIR=/var/lib/virtlab-openstack
LOG_DIR=/var/log/virtlab-openstack
RUN_DIR=/run/virtlab-openstack
PY=/usr/bin/python3                 # Debian's Python, where Debian's OpenStack lives
COMPUTE_HOST=virtlab-compute
REGION=RegionOne
RABBIT_URL="rabbit://guest:guest@127.0.0.1:5672/"
KEYSTONE_URL="http://127.0.0.1:5000/v3/"

PACKAGES="mariadb-server rabbitmq-server python3-pymysql keystone glance placement-api nova-api
nova-conductor nova-scheduler python3-nova neutron-server uwsgi-plugin-python3 curl"
# The order they start in; each has a pid file in $RUN_DIR.
DAEMONS="mariadb rabbitmq keystone placement glance-api neutron-server ovs-agent-heartbeat nova-api
nova-conductor nova-scheduler nova-compute"

log() { printf '[openstack-control-plane] %s\n' "$*" >&2; }
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

stop_all() {
  local name pid
  for name in $(echo "$DAEMONS" | tr ' ' '\n' | tac); do
    # RabbitMQ's wrapper switches user (su), so its Erlang VM is not in the wrapper's process
    # group: ask it to stop. MariaDB too is stopped the clean way.
    case $name in
      rabbitmq) rabbitmqctl -q stop >/dev/null 2>&1 || true ;;
      mariadb) mysqladmin shutdown >/dev/null 2>&1 || true ;;
    esac
    if is_running "$name"; then
      pid=$(cat "$RUN_DIR/$name.pid")
      log "stopping $name ($pid)"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$name.pid"
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
    "$PY" "$HELPERS/seed.py" "$1"
}

all_running() {
  local name
  for name in $DAEMONS; do is_running "$name" || return 1; done
}

if [ "${1:-}" = stop ]; then
  stop_all
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
if all_running && [ -s "$CLOUDS_YAML" ] && seed verify >/dev/null 2>&1; then
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
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
state_path = /var/lib/neutron
[agent]
report_interval = 20
[database]
connection = $(db_url neutron)
[oslo_concurrency]
lock_path = /var/lib/neutron/lock
$(authtoken neutron)
EOF

  cat >/etc/neutron/plugins/ml2/ml2_conf.ini <<EOF
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = openvswitch
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
host = $COMPUTE_HOST
my_ip = 127.0.0.1
transport_url = $RABBIT_URL
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
compute_driver = virtlab_fake.SnapshotFakeDriver
allow_resize_to_same_host = true
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
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
  start_daemon nova-api nova-api --config-file /etc/nova/nova.conf
  start_daemon nova-conductor nova-conductor --config-file /etc/nova/nova.conf
  start_daemon nova-scheduler nova-scheduler --config-file /etc/nova/nova.conf
  start_daemon nova-compute "$PY" "$HELPERS/nova_compute_fake.py" --config-file /etc/nova/nova.conf
  wait_http nova-api http://127.0.0.1:8774/
}

compute_host_mapped() {
  nova-manage cell_v2 discover_hosts >>"$LOG_DIR/db-sync.log" 2>&1
  nova-manage cell_v2 list_hosts 2>/dev/null | grep -q " $COMPUTE_HOST "
}

usable() { seed verify >>"$LOG_DIR/seed.log" 2>&1; }

# ------------------------------------------------------------------------------------------
log "cold start"
write_configs
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
wait_for 120 "a usable cloud" usable \
  || die "the control plane is not usable; see $LOG_DIR/seed.log:
$(tail -n 5 "$LOG_DIR/seed.log")"
log "running ($(elapsed)); clouds.yaml: $CLOUDS_YAML (clouds virtlab-test, virtlab-admin)"
