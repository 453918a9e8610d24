# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova-compute with a fake virt driver whose snapshots become ``active`` images.

Nova's ``fake.FakeDriver`` boots nothing (there is no data plane on the test machine) and
its ``snapshot()`` uploads no data, so a snapshot image would stay ``queued`` for ever.
``SnapshotFakeDriver`` uploads a few bytes through Nova's own Glance API client instead.

Nova loads its driver as ``nova.virt.<compute_driver>``: this launcher registers the
subclass as the module ``nova.virt.virtlab_fake`` before running nova-compute's main(),
so nova.conf names it ``compute_driver = virtlab_fake.SnapshotFakeDriver``.

Run with Debian's Python (where Debian's Nova lives):
    /usr/bin/python3 nova_compute_fake.py --config-file /etc/nova/nova.conf
"""

import io
import sys
import types

# nova.cmd monkey-patches eventlet on import: it must come before the rest of Nova.
from nova.cmd import compute as compute_cmd  # noqa: E402  pylint: disable=wrong-import-order
from nova.image import glance  # noqa: E402
from nova.virt import fake  # noqa: E402

FAKE_IMAGE_BYTES = b"virtlab fake snapshot: no guest ran, so there is no disk to copy\n"


class SnapshotFakeDriver(fake.FakeDriver):
    """FakeDriver that uploads a small image file for each snapshot."""

    def snapshot(self, context, instance, image_id, update_task_state):
        super(SnapshotFakeDriver, self).snapshot(context, instance, image_id, update_task_state)
        glance.API().update(
            context, image_id,
            {"disk_format": "raw", "container_format": "bare"},
            data=io.BytesIO(FAKE_IMAGE_BYTES),
            purge_props=False,
        )


def main():
    module = types.ModuleType("nova.virt.virtlab_fake")
    module.SnapshotFakeDriver = SnapshotFakeDriver
    sys.modules["nova.virt.virtlab_fake"] = module
    sys.argv[0] = "nova-compute"
    compute_cmd.main()


if __name__ == "__main__":
    main()
