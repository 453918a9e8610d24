# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every filter that derives something from the topology does first: refuse unusable data with the
validator's messages, and turn an adapter's own errors into a filter error naming the filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtlab.core.plugins.module_utils.topology.model import validate


def require_usable(topology):
    """AnsibleFilterError with the validator's one-line messages when the topology is not usable."""
    errors = validate(topology)
    if errors:
        raise AnsibleFilterError("virtlab_topology is not usable: %s" % "; ".join(errors))


def adapter_filter(name, adapter):
    """A filter running ``adapter(topology, ...)`` on usable data; its KeyError/ValueError name the filter."""
    def run(topology, *args, **kwargs):
        require_usable(topology)
        try:
            return adapter(topology, *args, **kwargs)
        except (KeyError, ValueError) as exc:
            raise AnsibleFilterError("%s: %s" % (name, exc))
    run.__name__ = name
    return run
