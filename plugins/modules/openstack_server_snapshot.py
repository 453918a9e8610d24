#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: openstack_server_snapshot
short_description: Snapshot an OpenStack server into an image, and wait until it is active
version_added: 0.1.0
description:
  - Creates an image of a server (Nova's C(createImage)) named O(name), and waits until Glance
    reports it C(active), so it can boot new servers.
  - An image of that name that exists already is kept (a second run reports no change); one
    still being saved is waited for. An image that ends C(killed) fails the task.
author:
  - virtlab developers (@virtlab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - virtlab.core.attributes
  - virtlab.core.openstack
options:
  server:
    description: Name or id of the server to snapshot. Required with O(state=present).
    type: str
  name:
    description: Name of the snapshot image (unique among the project's images).
    type: str
    required: true
  metadata:
    description: Properties to set on the image when it is created.
    type: dict
  state:
    description: V(absent) deletes the snapshot image.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Keep the CS as it is now
  virtlab.core.openstack_server_snapshot:
    cloud: mylab
    server: virtlab-cs
    name: virtlab-cs-before-resize
"""

RETURN = r"""
image:
  description: The snapshot image after the task (in check mode, as it would be); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Image id (absent in check mode before creation).
      type: str
    name:
      description: Image name.
      type: str
    status:
      description: Glance's status; V(active) once usable.
      type: str
    server_id:
      description: The server it is an image of (from the image's C(instance_uuid) property).
      type: str
    size:
      description: Size in bytes.
      type: int
actions:
  description: What the task did or, in check mode, would do.
  returned: always
  type: list
  elements: str
  sample: ["snapshot virtlab-cs"]
"""

from ansible_collections.virtlab.core.plugins.module_utils.errors import VirtlabError
from ansible_collections.virtlab.core.plugins.module_utils.openstack.base import OpenStackModule
from ansible_collections.virtlab.core.plugins.module_utils.plan import Plan


def image_view(image):
    if image is None:
        return {}
    server_id = getattr(image, "instance_uuid", None) or (image.properties or {}).get("instance_uuid")
    return {"id": image.id, "name": image.name, "status": image.status,
            "server_id": server_id, "size": image.size}


class OpenStackServerSnapshot(OpenStackModule):
    resource_key = "image"
    argument_spec = dict(
        server=dict(type="str"),
        name=dict(type="str", required=True),
        metadata=dict(type="dict"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module_kwargs = dict(required_if=[("state", "present", ["server"])])

    def find_image(self):
        images = list(self.conn.image.images(name=self.params["name"], owner=self.project_id))
        if len(images) > 1:
            raise VirtlabError("Several images of this project are named %r: delete the extra ones"
                               % self.params["name"])
        return images[0] if images else None

    def read(self):
        self.resource = self.find_image()
        return image_view(self.resource)

    def plan(self, current):
        """Delete the image, or snapshot the server when no image of that name exists. An existing image is
        kept as it is (a snapshot is never updated); one still uploading is waited for, one that failed is an
        error."""
        params, image = self.params, self.resource
        actions = Plan()
        if params["state"] == "absent":
            if image is not None:
                actions.add("delete image", params["name"])
            self.planned = {}
            return actions
        server = self.require_server(params["server"])
        if image is not None:
            if image.status in ("killed", "deleted", "pending_delete"):
                raise VirtlabError("Image %s is %s: delete it (state=absent) and run again"
                                   % (params["name"], image.status))
            return actions
        actions.add("snapshot", server.name, server=server)
        self.planned = {"name": params["name"], "status": "active", "server_id": server.id, "size": None}
        return actions

    def render(self, plan):
        return plan.texts()

    def expected(self, current, plan):
        if not plan and self.resource is not None and self.resource.status != "active" and self.params["wait"] \
                and not self.check_mode:
            # In sync, but still uploading: the task returns once the image can boot a server.
            self.resource = self.wait_for_image(self.resource.id, "the snapshot %s" % self.params["name"])
            return image_view(self.resource)
        return super(OpenStackServerSnapshot, self).expected(current, plan)

    def apply_delete_image(self, action):
        self.conn.image.delete_image(self.resource)

    def apply_snapshot(self, action):
        params, server = self.params, action.details["server"]
        image = self.conn.compute.create_server_image(server, params["name"], metadata=params["metadata"])
        if params["wait"]:
            self.resource = self.wait_for_image(image.id, "the snapshot %s of server %s"
                                                % (params["name"], server.name))
        else:
            self.resource = self.conn.image.get_image(image.id)

    def read_back(self, current, plan):
        return {} if self.params["state"] == "absent" else image_view(self.resource)


def main():
    OpenStackServerSnapshot()()


if __name__ == "__main__":
    main()
