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
import hashlib
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


def ask(port, timeout=2.0):
    """One request on a new connection: True when the answer is the correct sum."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/", body=OPERAND)
        reply = conn.getresponse()
        return reply.status == 200 and reply.read().decode() == ANSWER
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def first_answer(port, started, deadline, alive):
    """Seconds from `started` to the first correct answer; fails when `alive()` is false or at the deadline."""
    while time.monotonic() < deadline:
        if ask(port, timeout=1.0):
            return time.monotonic() - started
        problem = alive()
        if problem:
            raise Failure(problem)
        time.sleep(0.05)
    raise Failure("no correct answer on 127.0.0.1:%d within %.0f s" % (port, deadline - started))


def latencies(port, count):
    """p50 and p99 in milliseconds of `count` sequential requests, each on its own connection."""
    samples = []
    for unused_request in range(count):
        begin = time.perf_counter()
        if not ask(port, timeout=5.0):
            raise Failure("a request to 127.0.0.1:%d got no correct answer during the latency run" % port)
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

def node_image(base, timeout):
    """The base image plus Node.js from the base image's own apt sources, built once (tag by recipe)."""
    found = run(["docker", "image", "inspect", "-f", "{{.Id}}", base], check=False)
    if found.returncode != 0:
        raise Failure("no base image %s: build it with scripts/build-base-image.sh (make image)" % base)
    # A rebuilt base image (same tag, new content) gets a Node.js image of its own.
    recipe = found.stdout.strip() + NODE_PACKAGES
    tag = "virtlab/measure-node:" + hashlib.sha256(recipe.encode()).hexdigest()[:12]
    if run(["docker", "image", "inspect", tag], check=False).returncode == 0:
        return tag
    name = "virtlab-measure-build-%d" % os.getpid()
    try:
        run(["docker", "network", "create", name])  # NAT-ed, for apt only; removed below
        run(["docker", "run", "--name", name, "--network", name, base, "/bin/sh", "-ec",
             "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; "
             "apt-get install -y -qq --no-install-recommends %s >/dev/null; "
             "rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb" % NODE_PACKAGES], timeout=timeout)
        run(["docker", "commit", "--change", 'CMD ["/lib/systemd/systemd"]', "--change", "ENV container=docker",
             name, tag])
    finally:
        run(["docker", "rm", "-f", name], check=False)
        run(["docker", "network", "rm", name], check=False)
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
    sizes = run(["docker", "inspect", "--size", "-f", "{{.SizeRw}}", args.container]).stdout.strip()
    image_bytes = int(run(["docker", "image", "inspect", "-f", "{{.Size}}", image]).stdout.strip())
    return {"kind": "container", "image": image, "start_s": round(start, 2),
            "cpu_s": round(cpu, 2) if cpu is not None else None,
            "pss_mib": round(pss_kib(pids) / 1024.0, 1), "processes": len(pids),
            "image_mib": round(image_bytes / 1048576.0, 1), "instance_mib": round(int(sizes) / 1048576.0, 2),
            "p50_ms": p50, "p99_ms": p99, "requests": args.requests}


# ------------------------------------------------------------------------- the VM

def config_drive(path, files):
    """An OpenStack config drive (the guest image's first datasource): the service as cloud-config."""
    tree = tempfile.mkdtemp(dir=os.path.dirname(path))
    latest = os.path.join(tree, "openstack", "latest")
    os.makedirs(latest)
    with open(os.path.join(latest, "meta_data.json"), "w") as handle:
        json.dump({"uuid": "virtlab-measure-vm", "hostname": "measure-vm", "name": "measure-vm"}, handle)
    user_data = {
        "write_files": [{"path": p, "encoding": "b64", "permissions": "0644",
                         "content": base64.b64encode(c.encode()).decode()} for p, c in files.items()],
        # runcmd is cloud-init's way to run a command at first boot (its final stage).
        "runcmd": [["systemctl", "daemon-reload"], ["systemctl", "start", "--no-block", UNIT_NAME]],
    }
    with open(os.path.join(latest, "user_data"), "w") as handle:
        handle.write("#cloud-config\n" + json.dumps(user_data))
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workdir", required=True, help="a directory of this run's own (removed at the end)")
    parser.add_argument("--guest-dir", help="the guest image's directory (root.qcow2, vmlinuz, initrd.img)")
    parser.add_argument("--base-image", default="virtlab/debian-systemd:bookworm")
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
    parser.add_argument("--cleanup", action="store_true", help="only remove what a run left")
    args = parser.parse_args()
    args.workdir = os.path.abspath(args.workdir)
    if args.cleanup:
        print(json.dumps({"removed": cleanup(args)}))
        return 0
    if not args.guest_dir or not os.path.exists(os.path.join(args.guest_dir, "manifest")):
        print(json.dumps({"failed": "no guest image in %s: build it with scripts/build-guest-image.sh"
                          % args.guest_dir}))
        return 1
    os.makedirs(args.workdir, exist_ok=True)
    result = {"machine": machine(), "requests": args.requests}
    try:
        files = service_files(args.sources)
        if args.accel == "auto":
            mode, why = probe_kvm(os.path.join(args.guest_dir, "vmlinuz"), args.probe_timeout)
        else:
            mode, why = args.accel, "chosen with --accel"
        result["virtualization"] = {"mode": mode, "why": why}
        result["rows"] = [measure_container(args, files)]
        run(["docker", "rm", "-f", args.container], check=False)  # one at a time: no contention
        result["rows"].append(measure_vm(args, files, mode))
    except (Failure, OSError, subprocess.TimeoutExpired) as failure:
        result["failed"] = str(failure)
    finally:
        result["removed"] = cleanup(args)
    print(json.dumps(result))
    return 1 if "failed" in result else 0


if __name__ == "__main__":
    sys.exit(main())
