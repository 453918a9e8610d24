"""One operation service of the calculator in a container and in a QEMU VM, measured side by side.

Objectives 1-3 of the lab (VM vs container) as figures from this machine, not adjectives:

- start: seconds from `docker run` / starting QEMU to the first correct answer of the service ("6 3" -> "9");
- memory: PSS of the container's processes (docker top) vs PSS of the QEMU process, from
  /proc/<pid>/smaps_rollup, after the latency run;
- CPU: CPU seconds spent until the first answer (the container's cgroup vs the QEMU process);
- disk: the image (every layer / the guest disk image with its kernel and initrd) and what one instance
  adds (the container's writable layer / the VM's qcow2 overlay and its seed);
- latency: p50 and p99 of N sequential requests from the host, one TCP connection each, to 127.0.0.1
  (Docker's published port / QEMU's user-mode hostfwd).

The container runs the lab's base image with Node.js (an image built once from it, as the nodejs role
installs it on a lab node); the VM boots the OpenStack tests' guest image directly (kernel, initrd, a
throw-away overlay of its root disk) with a config drive seed. Both get the same service files and the
same systemd unit at start. KVM is used only when a bounded probe boots the guest's kernel with it;
otherwise TCG (software emulation). Everything made is removed in a finally clause; `--cleanup` removes
what a killed run left (the container by name, the QEMU process by its pid file, the work directory).

Prints one JSON document on stdout. Needs root (Docker, /proc/<pid>/smaps_rollup of other users).
"""

import argparse
import base64
import http.client
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OPERAND, ANSWER = "6 3", "9\r\n"  # sum: the protocol's example
SERVICE_PORT = 50001              # sum's port in the lab; published on the host ports given
UNIT_NAME = "virtlab-measure.service"
SERVICE_DIR = "/opt/virtlab-measure"
NODE_PACKAGES = "nodejs"


class Failure(Exception):
    """A step that failed, with what to do about it."""


def run(cmd, timeout=120, check=True, **kwargs):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise Failure("%s failed (rc %d): %s" % (" ".join(cmd[:3]), proc.returncode, proc.stderr.strip()[-800:]))
    return proc


# ------------------------------------------------------------------------- the workload

def service_files(sources):
    """The files both instances get: the operation service, its shared module and one systemd unit."""
    files = {}
    for name in ("operation.js", "service_common.js"):
        with open(os.path.join(sources, name)) as handle:
            files[SERVICE_DIR + "/" + name] = handle.read()
    files["/etc/systemd/system/" + UNIT_NAME] = "\n".join([
        "[Unit]", "Description=virtlab measurement: the sum operation service", "",
        "[Service]", "DynamicUser=yes",
        "Environment=VIRTLAB_OPERATION=sum VIRTLAB_LISTEN_HOST=0.0.0.0 VIRTLAB_LISTEN_PORT=%d" % SERVICE_PORT,
        "ExecStart=/usr/bin/node %s/operation.js" % SERVICE_DIR, "Restart=on-failure", "",
        "[Install]", "WantedBy=multi-user.target", ""])
    # Enabled at boot as `systemctl enable` would, by a file (a bind mount cannot make a symlink).
    files["/etc/systemd/system/multi-user.target.d/virtlab-measure.conf"] = "[Unit]\nWants=%s\n" % UNIT_NAME
    return files


def ask(port, timeout=2.0, host="127.0.0.1"):
    """One request on a new connection: True when the answer is the correct sum."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("POST", "/", body=OPERAND)
        reply = conn.getresponse()
        return reply.status == 200 and reply.read().decode() == ANSWER
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def wait_for(what, ready, started, deadline, alive=lambda: None, interval=0.05):
    """Seconds from `started` until `ready()`; fails when `alive()` names a problem, or at the deadline."""
    while time.monotonic() < deadline:
        if ready():
            return time.monotonic() - started
        problem = alive()
        if problem:
            raise Failure(problem)
        time.sleep(interval)
    raise Failure("%s within %.0f s" % (what, deadline - started))


def first_answer(port, started, deadline, alive, host="127.0.0.1"):
    """Seconds from `started` to the first correct answer."""
    return wait_for("no correct answer on %s:%d" % (host, port), lambda: ask(port, timeout=1.0, host=host),
                    started, deadline, alive)


def latencies(port, count, host="127.0.0.1"):
    """p50 and p99 in milliseconds of `count` sequential requests, each on its own connection."""
    samples = []
    for unused_request in range(count):
        begin = time.perf_counter()
        if not ask(port, timeout=5.0, host=host):
            raise Failure("a request to %s:%d got no correct answer during the latency run" % (host, port))
        samples.append((time.perf_counter() - begin) * 1000.0)
    samples.sort()

    def percentile(fraction):  # nearest rank: the smallest sample with at least that fraction at or below it
        return samples[max(0, math.ceil(fraction * len(samples)) - 1)]
    return round(percentile(0.50), 3), round(percentile(0.99), 3)


def pss_kib(pids):
    """The summed PSS (KiB) of the processes, from smaps_rollup; processes gone meanwhile count nothing."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as handle:
                match = re.search(r"^Pss:\s+(\d+) kB", handle.read(), re.M)
        except OSError:
            continue
        total += int(match.group(1)) if match else 0
    return total


def mapping_pss_kib(pid, size_kib):
    """The PSS (KiB) of the process's mappings of exactly `size_kib`: QEMU's guest RAM."""
    total, size = 0, None
    with open("/proc/%d/smaps" % pid) as handle:
        for line in handle:
            if line.startswith("Size:"):
                size = int(line.split()[1])
            elif line.startswith("Pss:") and size == size_kib:
                total += int(line.split()[1])
    return total


def process_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def allocated(*paths):
    """Bytes the files take on disk (allocated blocks: a sparse or thin file counts what it holds)."""
    return sum(os.stat(path).st_blocks * 512 for path in paths)


# ------------------------------------------------------------------------- the machine

def machine():
    with open("/proc/cpuinfo") as handle:
        model = re.search(r"^model name\s*:\s*(.*)$", handle.read(), re.M)
    with open("/proc/meminfo") as handle:
        mem = re.search(r"^MemTotal:\s+(\d+) kB", handle.read(), re.M)
    qemu = run(["qemu-system-x86_64", "--version"], check=False).stdout.splitlines()
    docker = run(["docker", "version", "-f", "{{.Server.Version}}"], check=False).stdout.strip()
    return {"cpu_model": model.group(1).strip() if model else "unknown", "cores": os.cpu_count(),
            "memory_mib": int(mem.group(1)) // 1024 if mem else 0, "kernel": os.uname().release,
            "qemu": qemu[0] if qemu else "unknown", "docker": docker or "unknown",
            "load_before": round(os.getloadavg()[0], 2)}


def probe_kvm(kernel, timeout):
    """('kvm'|'tcg', why). KVM only when the guest's kernel boots with it to its first panic (no root
    disk) within the timeout: a /dev/kvm that opens is not enough, nested KVM can hang in the boot."""
    if not os.path.exists("/dev/kvm"):
        return "tcg", "no /dev/kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg", "/dev/kvm is not usable by this user"
    cmd = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "256", "-nodefaults", "-no-reboot",
           "-display", "none", "-serial", "stdio", "-kernel", kernel,
           "-append", "console=ttyS0 panic=-1 root=/dev/virtlab-none"]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              errors="replace", timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "tcg", "the KVM probe's boot did not finish within %d s: nested KVM hangs" % timeout
    if "Kernel panic" in proc.stdout:
        return "kvm", "the KVM probe booted the guest kernel in %.1f s" % (time.monotonic() - started)
    return "tcg", "the KVM probe failed (rc %d): %s" % (proc.returncode, proc.stdout.strip()[-200:])


# ------------------------------------------------------------------------- the container

def node_image_tag(base):
    """The Node.js image's tag: the base image's repository with -node (virtlab/debian-systemd-node:bookworm)."""
    repository, colon, tag = base.rpartition(":")
    if not colon or "/" in tag:  # no tag, or the colon is a registry's port
        return base + "-node"
    return "%s-node:%s" % (repository, tag)


def node_image(base, timeout, tag=None):
    """The base image plus Node.js in one more layer, from the base image's own apt sources, as the nodejs role
    installs it on a lab node. Built once per base image: its label virtlab.base names the base image it was
    made from, so a rebuilt base image (same tag, new content) gets a new one. scripts/bench-node-image.sh
    builds the benchmark labs' node image with this function."""
    found = run(["docker", "image", "inspect", "-f", "{{.Id}}", base], check=False)
    if found.returncode != 0:
        raise Failure("no base image %s: build it with scripts/build-base-image.sh (make image)" % base)
    base_id, tag = found.stdout.strip(), tag or node_image_tag(base)
    made_from = run(["docker", "image", "inspect", "-f", '{{ index .Config.Labels "virtlab.base" }}', tag],
                    check=False).stdout.strip()
    if made_from == base_id:
        return tag
    name = "virtlab-measure-build-%d" % os.getpid()
    try:
        # Then the package lists look stale again, as in the base image, so that a role's
        # `apt update_cache + cache_valid_time` on a node of this image refreshes them.
        run(["docker", "run", "--name", name, "--network", "bridge", "-e", "DEBIAN_FRONTEND=noninteractive",
             base, "/bin/sh", "-ec",
             "apt-get update -qq; apt-get install -y -qq --no-install-recommends %s >/dev/null; apt-get clean; "
             "rm -rf /var/lib/apt/lists/*; touch -d '2000-01-01 00:00:00' /var/lib/apt/lists /var/lib/apt; "
             "rm -f /var/lib/apt/periodic/update-success-stamp; node --version" % NODE_PACKAGES], timeout=timeout)
        run(["docker", "commit", "--change", 'CMD ["/lib/systemd/systemd"]', "--change", "ENV container=docker",
             "--change", "LABEL virtlab.base=" + base_id, name, tag])
    finally:
        run(["docker", "rm", "-f", name], check=False)
    return tag


def container_cpu_seconds(name):
    """CPU seconds of the container's cgroup (every process it ran, exited ones included), cgroup v1 or v2."""
    pid = run(["docker", "inspect", "-f", "{{.State.Pid}}", name]).stdout.strip()
    with open("/proc/%s/cgroup" % pid) as handle:
        lines = [line.strip().split(":", 2) for line in handle if line.count(":") >= 2]
    for unused_hierarchy, controllers, path in lines:
        # systemd in the container runs in a sub-cgroup (init.scope); its parent is the container's.
        path = path[:-len("/init.scope")] if path.endswith("/init.scope") else path
        if "cpuacct" in controllers.split(","):  # v1: nanoseconds
            usage = "/sys/fs/cgroup/%s%s/cpuacct.usage" % (controllers, path)
            if os.path.exists(usage):
                with open(usage) as handle:
                    return int(handle.read()) / 1e9
        if controllers == "" and os.path.exists("/sys/fs/cgroup%s/cpu.stat" % path):  # v2: microseconds
            with open("/sys/fs/cgroup%s/cpu.stat" % path) as handle:
                return int(re.search(r"^usage_usec (\d+)", handle.read(), re.M).group(1)) / 1e6
    return None


def measure_container(args, files):
    image = node_image(args.base_image, args.timeout)
    seed = os.path.join(args.workdir, "ct")
    mounts = []
    for path, content in files.items():
        local = os.path.join(seed, path.lstrip("/"))
        os.makedirs(os.path.dirname(local), exist_ok=True)
        with open(local, "w") as handle:
            handle.write(content)
        mounts += ["-v", "%s:%s:ro" % (local, path)]
    # As a lab node runs (plugins/module_utils/docker/node.py): systemd, no --privileged.
    cmd = ["docker", "run", "-d", "--name", args.container, "--hostname", "measure-ct", "--tty",
           "--cap-add", "SYS_ADMIN", "--cgroupns", "host", "--tmpfs", "/run", "--tmpfs", "/run/lock",
           "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--stop-signal", "SIGRTMIN+3",
           "-p", "127.0.0.1:%d:%d" % (args.container_port, SERVICE_PORT)] + mounts + [image]
    started = time.monotonic()
    run(cmd)

    def alive():
        state = run(["docker", "inspect", "-f", "{{.State.Status}}", args.container], check=False).stdout.strip()
        return None if state == "running" else "the container %s is %s" % (args.container, state or "gone")
    start = first_answer(args.container_port, started, started + args.timeout, alive)
    cpu = container_cpu_seconds(args.container)
    p50, p99 = latencies(args.container_port, args.requests)
    pids = [int(p) for p in run(["docker", "top", args.container, "-eo", "pid"]).stdout.split()[1:]]
    pss = pss_kib(pids)  # before the stop: its processes are gone then
    sizes = run(["docker", "inspect", "--size", "-f", "{{.SizeRw}}", args.container]).stdout.strip()
    image_bytes = int(run(["docker", "image", "inspect", "-f", "{{.Size}}", image]).stdout.strip())
    begin = time.monotonic()
    run(["docker", "stop", args.container], timeout=args.timeout)
    stop_s = time.monotonic() - begin
    begin = time.monotonic()
    run(["docker", "start", args.container])
    restart_s = first_answer(args.container_port, begin, begin + args.timeout, alive)
    return {"kind": "container", "image": image, "start_s": round(start, 2),
            "stop_s": round(stop_s, 2), "restart_s": round(restart_s, 2),
            "cpu_s": round(cpu, 2) if cpu is not None else None,
            "pss_mib": round(pss / 1024.0, 1), "processes": len(pids),
            "image_mib": round(image_bytes / 1048576.0, 1), "instance_mib": round(int(sizes) / 1048576.0, 2),
            "p50_ms": p50, "p99_ms": p99, "requests": args.requests}


# ------------------------------------------------------------------------- the VM

def cloud_config(files):
    """The service as cloud-init user data: the files, then the unit started at first boot (the drop-in
    written with it starts it at every later boot)."""
    user_data = {
        "write_files": [{"path": p, "encoding": "b64", "permissions": "0644",
                         "content": base64.b64encode(c.encode()).decode()} for p, c in files.items()],
        # runcmd is cloud-init's way to run a command at first boot (its final stage).
        "runcmd": [["systemctl", "daemon-reload"], ["systemctl", "start", "--no-block", UNIT_NAME]],
    }
    return "#cloud-config\n" + json.dumps(user_data)


def config_drive(path, files):
    """An OpenStack config drive (the guest image's first datasource): the service as cloud-config."""
    tree = tempfile.mkdtemp(dir=os.path.dirname(path))
    latest = os.path.join(tree, "openstack", "latest")
    os.makedirs(latest)
    with open(os.path.join(latest, "meta_data.json"), "w") as handle:
        json.dump({"uuid": "virtlab-measure-vm", "hostname": "measure-vm", "name": "measure-vm"}, handle)
    with open(os.path.join(latest, "user_data"), "w") as handle:
        handle.write(cloud_config(files))
    run(["genisoimage", "-quiet", "-o", path, "-V", "config-2", "-J", "-R", tree])
    shutil.rmtree(tree)


def manifest(guest_dir):
    with open(os.path.join(guest_dir, "manifest")) as handle:
        return dict(line.strip().split("=", 1) for line in handle if "=" in line)


def measure_vm(args, files, mode):
    guest = args.guest_dir
    base, kernel, initrd = (os.path.join(guest, n) for n in ("root.qcow2", "vmlinuz", "initrd.img"))
    overlay = os.path.join(args.workdir, "overlay.qcow2")
    seed = os.path.join(args.workdir, "seed.iso")
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay])
    config_drive(seed, files)
    accel = ["-accel", "kvm", "-cpu", "host"] if mode == "kvm" else ["-accel", "tcg"]
    command_line = manifest(guest).get("command_line", "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet")
    cmd = ["qemu-system-x86_64"] + accel + [
        "-name", "virtlab-measure-vm", "-machine", "pc", "-smp", str(args.vcpus), "-m", str(args.vm_memory),
        "-nodefaults", "-display", "none", "-serial", "file:" + os.path.join(args.workdir, "console.log"),
        "-pidfile", os.path.join(args.workdir, "qemu.pid"),
        "-kernel", kernel, "-initrd", initrd, "-append", command_line,
        "-drive", "file=%s,if=virtio,format=qcow2" % overlay,
        "-drive", "file=%s,media=cdrom,readonly=on" % seed,
        "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d" % (args.vm_port, SERVICE_PORT),
        "-device", "virtio-net-pci,netdev=n0"]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True)
    try:
        def alive():
            if proc.poll() is None:
                return None
            return "QEMU exited (rc %s): %s" % (proc.returncode, proc.stderr.read().strip()[-400:])
        try:
            start = first_answer(args.vm_port, started, started + args.timeout, alive)
        except Failure as failure:
            raise Failure("%s; the guest's console: %s" % (failure, console_tail(args.workdir))) from None
        cpu = process_cpu_seconds(proc.pid)
        p50, p99 = latencies(args.vm_port, args.requests)
        pss = pss_kib([proc.pid])
        guest_ram = mapping_pss_kib(proc.pid, args.vm_memory * 1024)
    finally:
        stop_qemu(proc)
    return {"kind": "vm", "image": os.path.basename(guest), "vcpus": args.vcpus, "memory_mib": args.vm_memory,
            "start_s": round(start, 2), "cpu_s": round(cpu, 2), "pss_mib": round(pss / 1024.0, 1), "processes": 1,
            "guest_ram_pss_mib": round(guest_ram / 1024.0, 1),
            "image_mib": round(allocated(base, kernel, initrd) / 1048576.0, 1),
            "instance_mib": round(allocated(overlay, seed) / 1048576.0, 2),
            "p50_ms": p50, "p99_ms": p99, "requests": args.requests}


def console_tail(workdir):
    try:
        with open(os.path.join(workdir, "console.log"), errors="replace") as handle:
            return " | ".join(handle.read().strip().splitlines()[-8:]) or "(empty)"
    except OSError:
        return "(none)"


def stop_qemu(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------------- an OpenStack server

def qemu_of(uuid):
    """The pid of the QEMU process that runs the libvirt domain `uuid` on this machine (libvirt passes
    `-uuid`), or None: the compute host is another machine."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if b"qemu" in os.path.basename(argv[0]) and uuid.encode() in argv:
            return int(pid), b" ".join(argv).decode(errors="replace")
    return None, ""


def accelerator(command_line):
    """kvm, tcg or unknown, from a QEMU command line (libvirt writes -accel or -machine ...,accel=)."""
    for mode in ("kvm", "tcg"):
        if re.search(r"(-accel |accel=)%s\b" % mode, command_line) or (mode == "kvm" and "-enable-kvm" in
                                                                       command_line):
            return mode
    return "unknown"


def ssh_login(address, key, user):
    """True when an SSH login as `user` runs a command (cloud-init has installed the key pair's key)."""
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5"] + (["-i", key] if key else []) + [
               "%s@%s" % (user, address), "true"]
    try:
        return run(cmd, timeout=30, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def server_status(conn, server_id):
    """The server's status; a server in ERROR fails with its fault."""
    server = conn.compute.get_server(server_id)
    if server.status == "ERROR":
        raise Failure("the server %s is in ERROR: %s" % (server.name, (server.fault or {}).get("message")))
    return server.status


def glance_bytes(conn, image_id):
    """The Glance image's size with its kernel and ramdisk images (a direct kernel boot, as the lab's)."""
    image = conn.image.get_image(image_id)
    ids = [image_id] + [each for each in (image.kernel_id, image.ramdisk_id) if each]
    return sum(conn.image.get_image(each).size or 0 for each in ids)


def measure_openstack(args):
    """The server the role created with the collection's modules, measured (measure_server)."""
    import openstack  # pylint: disable=import-outside-toplevel  # only this mode needs the SDK
    try:
        return measure_server(openstack.connect(cloud=args.cloud) if args.cloud else openstack.connect(), args)
    except openstack.exceptions.SDKException as exc:
        raise Failure("OpenStack: %s" % exc) from None


def measure_server(conn, args):
    """From `--started` (the epoch before the create call): to SSH and to the first answer on the server's
    floating IP, its QEMU process when the compute host is this machine, a stop and a start. One poll loop
    sees SSH and the service, each when it first works."""
    server = conn.compute.find_server(args.openstack_server, ignore_missing=False)
    address = args.address
    started = time.monotonic() - (time.time() - args.started)  # the role's epoch on this clock
    deadline, seen = started + args.timeout, {}
    checks = {"ssh": lambda: ssh_login(address, args.ssh_key, args.ssh_user),
              "answer": lambda: ask(SERVICE_PORT, timeout=1.0, host=address)}

    def alive():
        server_status(conn, server.id)  # fails on ERROR

    def both_seen():
        for what, check in checks.items():
            if what not in seen and check():
                seen[what] = time.monotonic() - started
        return len(seen) == len(checks)
    wait_for("no SSH login and correct answer on %s" % address, both_seen, started, deadline,
             alive=alive, interval=1)
    pid, command_line = qemu_of(server.id)
    cpu = process_cpu_seconds(pid) if pid else None
    p50, p99 = latencies(SERVICE_PORT, args.requests, host=address)
    flavor = conn.compute.find_flavor(args.flavor, ignore_missing=False)
    pss = pss_kib([pid]) / 1024.0 if pid else None
    guest_ram = mapping_pss_kib(pid, flavor.ram * 1024) / 1024.0 if pid else None
    instance_dir = os.path.join(args.nova_instances, server.id)
    instance = allocated(*(os.path.join(instance_dir, n) for n in os.listdir(instance_dir))) \
        if os.path.isdir(instance_dir) else None
    begin = time.monotonic()
    conn.compute.stop_server(server)
    stop_s = wait_for("the server %s not SHUTOFF" % server.name,
                      lambda: server_status(conn, server.id) == "SHUTOFF", begin, begin + args.timeout, interval=0.5)
    begin = time.monotonic()
    conn.compute.start_server(server)
    restart_s = first_answer(SERVICE_PORT, begin, begin + args.timeout, alive, host=address)

    def rounded(value, digits=1):
        return round(value, digits) if value is not None else None
    return {"kind": "openstack", "server": server.name, "image": server.image.id, "flavor": flavor.name,
            "vcpus": flavor.vcpus, "memory_mib": flavor.ram, "address": address,
            "accel": accelerator(command_line) if pid else "unknown", "compute_host_local": bool(pid),
            "active_s": round(args.active - args.started, 2), "ssh_s": round(seen["ssh"], 2),
            "start_s": round(seen["answer"], 2), "cpu_s": rounded(cpu, 2), "pss_mib": rounded(pss),
            "processes": 1 if pid else None, "guest_ram_pss_mib": rounded(guest_ram),
            "image_mib": round(glance_bytes(conn, server.image.id) / 1048576.0, 1),
            "instance_mib": rounded(instance / 1048576.0 if instance is not None else None, 2),
            "stop_s": round(stop_s, 2), "restart_s": round(restart_s, 2),
            "p50_ms": p50, "p99_ms": p99, "requests": args.requests}


# ------------------------------------------------------------------------- cleanup

def cleanup(args):
    """Remove what a run made: the container, the QEMU process of this work directory, the directory."""
    removed = []
    if run(["docker", "rm", "-f", args.container], check=False).returncode == 0:
        removed.append("container " + args.container)
    pidfile = os.path.join(args.workdir, "qemu.pid")
    if os.path.exists(pidfile):
        with open(pidfile) as handle:
            pid = int(handle.read().strip() or 0)
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                ours = args.workdir.encode() in handle.read()  # only the QEMU that uses our overlay
            if ours:
                os.kill(pid, signal.SIGKILL)
                removed.append("qemu pid %d" % pid)
        except (OSError, ValueError):
            pass
    if os.path.isdir(args.workdir):
        shutil.rmtree(args.workdir)
        removed.append(args.workdir)
    return removed


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--cleanup", action="store_true", help="only remove what a run left")
    mode.add_argument("--node-image", action="store_true", help="only build the Node.js image; prints its tag")
    mode.add_argument("--print-user-data", action="store_true", help="only print the service as cloud-config")
    mode.add_argument("--openstack-server", metavar="NAME", help="only measure this server (it exists, booting)")
    parser.add_argument("--workdir", help="a directory of this run's own (removed at the end)")
    parser.add_argument("--guest-dir", help="the guest image's directory (root.qcow2, vmlinuz, initrd.img)")
    parser.add_argument("--no-vm", action="store_true", help="the container only, no QEMU VM")
    parser.add_argument("--base-image", default="virtlab/debian-systemd:bookworm")
    parser.add_argument("--node-tag", help="the Node.js image's tag (default: the base image's, with -node)")
    parser.add_argument("--sources", default=os.path.join(HERE, "..", "..", "calculator", "files"),
                        help="the directory of operation.js and service_common.js")
    parser.add_argument("--container", default="virtlab-measure-ct")
    parser.add_argument("--container-port", type=int, default=50081)
    parser.add_argument("--vm-port", type=int, default=50082)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--timeout", type=int, default=300, help="seconds each instance has to answer")
    parser.add_argument("--accel", choices=["auto", "kvm", "tcg"], default="auto")
    parser.add_argument("--probe-timeout", type=int, default=20)
    parser.add_argument("--vcpus", type=int, default=1)
    parser.add_argument("--vm-memory", type=int, default=512, help="MiB")
    parser.add_argument("--cloud", help="the clouds.yaml entry (default: OS_CLOUD or the OS_* variables)")
    parser.add_argument("--started", type=float, help="epoch seconds just before the server's create call")
    parser.add_argument("--active", type=float, help="epoch seconds when the create call returned (ACTIVE)")
    parser.add_argument("--address", help="the server's floating IP")
    parser.add_argument("--flavor", help="the server's flavor (its memory size finds QEMU's guest RAM)")
    parser.add_argument("--ssh-key", help="the private key of the server's key pair (default: ssh's own)")
    parser.add_argument("--ssh-user", default="debian")
    parser.add_argument("--nova-instances", default="/var/lib/nova/instances",
                        help="Nova's instances directory, when the compute host is this machine")
    args = parser.parse_args()
    if args.openstack_server and (args.started is None or args.active is None or not args.flavor
                                  or not args.address):
        parser.error("--openstack-server needs --started, --active, --flavor and --address")
    if not (args.node_image or args.print_user_data or args.openstack_server) and not args.workdir:
        parser.error("--workdir is required")
    return args


def measure_here(args):
    """The container, then (unless --no-vm) the QEMU VM: the result document."""
    if not args.no_vm and (not args.guest_dir or not os.path.exists(os.path.join(args.guest_dir, "manifest"))):
        return {"failed": "no guest image in %s: build it with scripts/build-guest-image.sh" % args.guest_dir}
    os.makedirs(args.workdir, exist_ok=True)
    result = {"machine": machine(), "requests": args.requests}
    try:
        files = service_files(args.sources)
        if args.no_vm:
            mode, why = "none", "no QEMU VM in this run"
        elif args.accel == "auto":
            mode, why = probe_kvm(os.path.join(args.guest_dir, "vmlinuz"), args.probe_timeout)
        else:
            mode, why = args.accel, "chosen with --accel"
        result["virtualization"] = {"mode": mode, "why": why}
        result["rows"] = [measure_container(args, files)]
        run(["docker", "rm", "-f", args.container], check=False)  # one at a time: no contention
        if not args.no_vm:
            result["rows"].append(measure_vm(args, files, mode))
    except (Failure, OSError, subprocess.TimeoutExpired) as failure:
        result["failed"] = str(failure)
    finally:
        result["removed"] = cleanup(args)
    return result


def main():
    args = arguments()
    if args.workdir:
        args.workdir = os.path.abspath(args.workdir)
    if args.print_user_data:
        print(cloud_config(service_files(args.sources)))
        return 0
    if args.cleanup:
        print(json.dumps({"removed": cleanup(args)}))
        return 0
    try:
        if args.node_image:
            print(node_image(args.base_image, args.timeout * 4, args.node_tag))
            return 0
        result = {"rows": [measure_openstack(args)]} if args.openstack_server else measure_here(args)
    except (Failure, OSError, subprocess.TimeoutExpired) as failure:
        if args.node_image:
            sys.stderr.write("node image: %s\n" % failure)
            return 1
        result = {"failed": str(failure)}
    print(json.dumps(result))
    return 1 if "failed" in result else 0


if __name__ == "__main__":
    sys.exit(main())
