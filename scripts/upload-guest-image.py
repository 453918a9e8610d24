#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upload a guest image built by build-guest-image.sh to a cloud, idempotently.

    upload-guest-image.py --cloud C --name N [--visibility public] --command-line "..." <build dir>

Three Glance images: ``N-kernel`` (aki), ``N-ramdisk`` (ari) and ``N`` (qcow2) with the properties
``kernel_id``, ``ramdisk_id`` and ``os_command_line`` that make Nova's libvirt driver boot the
kernel directly, ``hypervisor_type=qemu`` and ``virtlab_build=<cache key>``. When image N of this
build is active, nothing is uploaded; afterwards, images named N, N-kernel or N-ramdisk of other
builds (or of no build) are deleted. Needs openstacksdk.
"""

import argparse
import os
import sys
import time

import openstack


def log(message):
    print("[upload-guest-image] %s" % message, file=sys.stderr, flush=True)


def read_manifest(directory):
    with open(os.path.join(directory, "manifest")) as handle:
        return dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)


def upload(conn, name, path, disk_format, container_format, visibility, properties):
    started = time.monotonic()
    image = conn.create_image(name, filename=path, disk_format=disk_format,
                              container_format=container_format, visibility=visibility,
                              wait=True, allow_duplicates=True, **properties)
    if image.status != "active":
        raise SystemExit("image %s is %s after its upload" % (name, image.status))
    log("uploaded %s (%s, %.0f MiB) in %.0fs" % (name, disk_format, os.path.getsize(path) / 2 ** 20,
                                                 time.monotonic() - started))
    return image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cloud", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--visibility", default="public")
    parser.add_argument("--command-line", required=True)
    parser.add_argument("directory")
    args = parser.parse_args()

    manifest = read_manifest(args.directory)
    build = manifest["key"]
    conn = openstack.connect(cloud=args.cloud)
    names = [args.name, args.name + "-kernel", args.name + "-ramdisk"]
    images = [i for i in conn.image.images() if i.name in names]

    active = dict((i.id, i) for i in images if i.status == "active")
    current = [i for i in images if i.name == args.name and i.id in active
               and i.properties.get("virtlab_build") == build
               and i.kernel_id in active and i.ramdisk_id in active]
    if current:
        log("%s is there (build %s): nothing to upload" % (args.name, build))
        keep = set([current[0].id, current[0].kernel_id, current[0].ramdisk_id])
    else:
        tag = {"virtlab_build": build}
        kernel = upload(conn, args.name + "-kernel", os.path.join(args.directory, "vmlinuz"),
                        "aki", "aki", args.visibility, tag)
        ramdisk = upload(conn, args.name + "-ramdisk", os.path.join(args.directory, "initrd.img"),
                         "ari", "ari", args.visibility, tag)
        properties = dict(tag, kernel_id=kernel.id, ramdisk_id=ramdisk.id,
                          os_command_line=args.command_line, hypervisor_type="qemu",
                          os_distro="debian", os_version="12", os_admin_user="debian")
        root = upload(conn, args.name, os.path.join(args.directory, "root.qcow2"),
                      "qcow2", "bare", args.visibility, properties)
        keep = set([kernel.id, ramdisk.id, root.id])

    for image in images:
        if image.id not in keep:
            conn.image.delete_image(image)
            log("deleted %s %s (build %s)" % (image.name, image.id,
                                              image.properties.get("virtlab_build", "none")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
