# -*- coding: utf-8 -*-
"""The reachability probe in its two forms: the module's socket and the action plugin's one shell command. Both
run here for real against services on loopback that answer, answer wrongly, refuse, or never answer, and must
report each the same way: the reachability table and the grader read ``reached`` and ``detail`` and must not
depend on which form ran."""

import socket
import subprocess
import threading
import time

import pytest

from ansible_collections.virtlab.core.plugins.module_utils.node import probe


class Service:
    """A TCP service on loopback: ``answer`` is what it sends back (after reading the request), None to accept
    and say nothing."""

    def __init__(self, answer):
        self.answer = answer
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.requests = []
        self.held = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, unused_peer = self.listener.accept()
            except OSError:
                return
            if self.answer is None:
                self.held.append(conn)  # never answered, never closed: the prober's timeout ends it
                continue
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            head, unused_part, body = data.partition(b"\r\n\r\n")
            length = int([line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(
                b"content-length")][0])
            while len(body) < length:
                body += conn.recv(4096)
            self.requests.append(body)
            conn.sendall(self.answer)
            conn.close()

    def close(self):
        self.listener.close()
        for conn in self.held:
            conn.close()


def http(status, body):
    return ("HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (status, len(body), body)).encode()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once it is closed


def params(*probes, **options):
    return dict(probes=[dict(dict(src="cs", expect=True, body="6 3", expect_prefix="9", service="sum"), **p)
                        for p in probes], timeout=options.get("timeout", 3),
                blocked_timeout=options.get("blocked_timeout"))


def shell_form(parameters, path=None):
    env = None if path is None else {"PATH": path}
    proc = subprocess.run(["/bin/sh", "-c", probe.shell_command(parameters)], capture_output=True, env=env,
                          check=False, timeout=30)
    return proc.returncode, proc.stdout.decode("utf-8")


def both_forms(parameters):
    """(module's results, shell form's results) for the same probes."""
    from_socket = [probe.result(p, probe.socket_probe(p["address"], p["port"], p["body"], p["expect_prefix"],
                                                      probe.timeout_of(p, parameters)))
                   for p in parameters["probes"]]
    rc, out = shell_form(parameters)
    assert rc == 0, out
    return from_socket, probe.parse_shell_output(out, parameters)


@pytest.fixture
def services():
    started = []

    def start(answer):
        started.append(Service(answer))
        return started[-1]
    yield start
    for service in started:
        service.close()


def test_an_answering_service_is_reached_in_both_forms_with_its_first_line(services):
    service = services(http("200 OK", "9\nmore\n"))
    from_socket, from_shell = both_forms(params({"address": "127.0.0.1", "port": service.port}))
    assert from_socket == from_shell == [dict(src="cs", service="sum", address="127.0.0.1", port=service.port,
                                              expect=True, reached=True, detail="9")]
    # The request is the calculator protocol's body, byte for byte, in both forms.
    assert service.requests == [b"6 3", b"6 3"]


def test_a_wrong_answer_and_an_error_status_are_not_reached_and_say_what_came_back(services):
    wrong = services(http("200 OK", "18"))
    failing = services(http("400 Bad Request", "ERROR: bad input"))
    from_socket, from_shell = both_forms(params({"address": "127.0.0.1", "port": wrong.port},
                                                {"address": "127.0.0.1", "port": failing.port}))
    assert from_socket == from_shell
    assert [(r["reached"], r["detail"]) for r in from_shell] == [
        (False, "18"), (False, "HTTP/1.1 400 Bad Request: ERROR: bad input")]


def test_a_refused_connection_and_a_silent_service_are_named_the_same_way_in_both_forms(services):
    silent = services(None)
    from_socket, from_shell = both_forms(params(
        {"address": "127.0.0.1", "port": closed_port()},
        {"address": "127.0.0.1", "port": silent.port, "expect": False}, blocked_timeout=0.5))
    assert from_socket == from_shell
    assert [(r["reached"], r["detail"], r["expect"]) for r in from_shell] == [
        (False, "Connection refused", True), (False, "timed out", False)]


def test_probes_run_side_by_side_so_blocked_paths_cost_one_timeout(services):
    silent = services(None)
    parameters = params(*[{"address": "127.0.0.1", "port": silent.port, "expect": False}] * 4, blocked_timeout=1)
    started = time.monotonic()
    rc, out = shell_form(parameters)
    elapsed = time.monotonic() - started
    assert rc == 0 and [r["detail"] for r in probe.parse_shell_output(out, parameters)] == ["timed out"] * 4
    assert elapsed < 3.5, "four blocked probes of 1 s took %.1f s: they ran one after the other" % elapsed


def test_a_node_without_bash_makes_the_shell_form_step_aside():
    rc, out = shell_form(params({"address": "127.0.0.1", "port": closed_port()}), path="/nonexistent")
    assert rc == 127 and "@@virtlab-observe end" not in out


def test_output_that_is_not_all_there_is_refused_so_the_module_runs(services):
    service = services(http("200 OK", "9"))
    parameters = params({"address": "127.0.0.1", "port": service.port})
    rc, out = shell_form(parameters)
    assert rc == 0
    with pytest.raises(ValueError):
        probe.parse_shell_output(out[:out.index("@@virtlab-observe answer")], parameters)
    with pytest.raises(ValueError):
        probe.parse_shell_output(out, params({"address": "127.0.0.1", "port": 1}, {"address": "127.0.0.1",
                                                                                   "port": 2}))
