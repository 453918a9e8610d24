# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep an "Open vSwitch agent" alive in Neutron for the fake compute host.

Nova asks Neutron to bind each port of a server to the compute host. The ML2 openvswitch
mechanism driver binds a port only when an Open vSwitch agent of that host has reported
its state recently (within ``agent_down_time``). The test machine runs no Open vSwitch
and no agent: this process sends the agent's state report, through Neutron's own RPC
client, every ``REPORT_INTERVAL`` seconds. Nothing is plugged anywhere.

Run with Debian's Python (where Debian's Neutron lives):
    /usr/bin/python3 ovs_agent_heartbeat.py <compute host> --config-file /etc/neutron/neutron.conf
"""

import sys
import time

from neutron.agent import rpc as agent_rpc
from neutron.api.rpc.callbacks import resources
from neutron.common import config as common_config
from neutron.conf.agent import common as agent_config
from neutron_lib import context as n_context
from neutron_lib.agent import topics
from oslo_config import cfg

REPORT_INTERVAL = 20


def agent_state(host):
    return {
        "binary": "neutron-openvswitch-agent",
        "host": host,
        "topic": "N/A",
        "agent_type": "Open vSwitch agent",
        "configurations": {
            "bridge_mappings": {"public": "br-ex"},
            "tunnel_types": ["vxlan"],
            "tunneling_ip": "127.0.0.1",
            "integration_bridge": "br-int",
            "datapath_type": "system",
            "ovs_hybrid_plug": False,
            "l2_population": False,
            "arp_responder_enabled": False,
            "enable_distributed_routing": False,
            "extensions": [],
        },
        "resource_versions": resources.LOCAL_RESOURCE_VERSIONS,
        "start_flag": True,
    }


def main():
    host, config_args = sys.argv[1], sys.argv[2:]
    common_config.register_common_config_options()
    agent_config.register_agent_state_opts_helper(cfg.CONF)
    common_config.init(config_args)
    reporter = agent_rpc.PluginReportStateAPI(topics.REPORTS)
    context = n_context.get_admin_context_without_session()
    state = agent_state(host)
    while True:
        try:
            reporter.report_state(context, dict(state), use_call=True)
            state["start_flag"] = False
        except Exception as exc:  # pylint: disable=broad-except
            # Neutron may be restarting: say so and try again at the next interval.
            print("state report failed: %s: %s" % (type(exc).__name__, exc), flush=True)
        time.sleep(REPORT_INTERVAL)


if __name__ == "__main__":
    main()
