"""`ecgateway serve` with several workers: each listens on its own socket (ecgateway/workers.py).

With uvicorn's one shared socket, the first worker to wake accepted a whole burst of keep-alive
connections (7:1 or 8:0 of 8 clients, issue 19) and did the work of both cores. Here: one listening
socket per worker, connections spread over the workers, a worker that dies is replaced, a port in use
is refused with a message, SIGTERM stops every worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

from commerce_procs import ECGATEWAY, free_port, gateway_env, start, stop
from ecgateway import workers

# Off Linux the gateway falls back to uvicorn's shared socket; CI runs on Linux and must run these.
pytestmark = pytest.mark.skipif(not workers.supported() and os.environ.get("CI") != "true",
                                reason="needs Linux SO_REUSEPORT (ecgateway/workers.py)")

WORKERS = 2


def _serve(env, port, n=WORKERS) -> subprocess.Popen:
    proc = start([ECGATEWAY, "serve", "--port", port, "--workers", n], env)
    try:
        _wait_listening(proc, port, n)
    except BaseException:
        stop(proc)  # not left running (with its workers) when it never got ready
        raise
    return proc


def _wait_listening(proc, port, n, timeout=90.0) -> None:
    """Until n workers listen on port and /healthz answers."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"the gateway exited with {proc.returncode}: {proc.stdout.read()}"
        if len(_listening_pids(port)) == n:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        assert time.monotonic() < deadline, f"{n} workers did not listen on {port} within {timeout} s"
        time.sleep(0.2)


def _sockets(port: int, state: str) -> set[int]:
    """Inodes of the TCP sockets on local port in a state ('0A' listening, '01' established), /proc/net/tcp."""
    inodes = set()
    for line in open("/proc/net/tcp").readlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(int(fields[9]))
    return inodes


def _owners(inodes: set[int]) -> dict[int, int]:
    """How many of the socket inodes each process holds (pid -> count)."""
    held: dict[int, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:  # gone, or not ours to read
            continue
        count = sum(1 for link in links if link.startswith("socket:[") and int(link[8:-1]) in inodes)
        if count:
            held[int(pid)] = count
    return held


def _listening_pids(port: int) -> dict[int, int]:
    return _owners(_sockets(port, "0A"))


def test_each_worker_listens_on_its_own_socket_and_takes_connections(gw):
    port = free_port()
    server = _serve(gateway_env(gw), port)
    try:
        listening = _listening_pids(port)
        assert len(listening) == WORKERS and set(listening.values()) == {1}, listening
        assert server.pid not in listening  # the supervisor only starts and watches them
        # A burst of keep-alive connections, each with a request answered (so it was accepted).
        connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(32)]
        try:
            for sock in connections:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for sock in connections:
                assert sock.recv(12).startswith(b"HTTP/1.1 200")
            served = _owners(_sockets(port, "01"))
            served = {pid: n for pid, n in served.items() if pid in listening}
            # the kernel hashes each connection to a socket: both workers get a share (28 of 32 or more on
            # one happens about once in 40,000 runs)
            assert len(served) == WORKERS and max(served.values()) < 29, served
        finally:
            for sock in connections:
                sock.close()
    finally:
        out = stop(server)
    assert not _listening_pids(port), "a worker still listens after SIGTERM"
    assert "serving on 127.0.0.1" in out


def test_a_worker_that_dies_is_replaced(gw):
    port = free_port()
    server = _serve(gateway_env(gw), port)
    try:
        started = 0
        while started < WORKERS:  # both have started the app (one may answer /healthz before the other)
            started += "Application startup complete" in server.stdout.readline()
        victim = next(iter(_listening_pids(port)))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while victim in _listening_pids(port) or len(_listening_pids(port)) < WORKERS:
            assert time.monotonic() < deadline, "no worker took the place of the killed one"
            time.sleep(0.2)
        _wait_listening(server, port, WORKERS)
    finally:
        out = stop(server)
    assert server.returncode == 0, out
    assert f"worker {victim} ended" in out


def test_the_workers_end_with_their_supervisor_even_when_it_is_killed(gw):
    port = free_port()
    server = _serve(gateway_env(gw), port)
    workers_ = list(_listening_pids(port))
    try:
        server.kill()  # SIGKILL: no chance to stop its workers itself
        server.wait(10)
        deadline = time.monotonic() + 60
        while _listening_pids(port):
            assert time.monotonic() < deadline, f"workers still listen after their supervisor died: {_listening_pids(port)}"
            time.sleep(0.2)
    finally:
        for pid in workers_:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.skipif(os.geteuid() != 0 and os.environ.get("CI") != "true", reason="needs root for unshare --pid")
def test_workers_start_under_a_supervisor_that_is_pid_1(gw):
    """In a container without an init process the supervisor is PID 1; its workers must still start
    (they compare their parent with the supervisor's pid, not with 1)."""
    port = free_port()
    proc = start(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM", ECGATEWAY, "serve", "--port", port, "--workers",
                  WORKERS], gateway_env(gw))
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"the gateway exited with {proc.returncode}: {proc.stdout.read()}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "no worker answered within 90 s"
            time.sleep(0.2)
        assert len(_listening_pids(port)) == WORKERS
    finally:
        stop(proc)
    deadline = time.monotonic() + 30
    while _listening_pids(port):  # SIGTERM to unshare: SIGTERM to the supervisor (--kill-child), then its workers
        assert time.monotonic() < deadline, "workers still listen after the gateway stopped"
        time.sleep(0.2)


def test_workers_that_fail_to_start_again_after_the_gateway_ran_are_retried(tmp_path):
    """Once the gateway has started, a failure to start again (its database away, say) is not a bad
    setup: the supervisor keeps starting workers until one starts, instead of stopping the gateway."""
    import sys

    marker = tmp_path / "fail"
    port = free_port()
    env = dict(os.environ, FLAKY_APP_MARKER=str(marker),
               PYTHONPATH=os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]))
    code = ("from ecgateway import workers; import sys; "
            f"sys.exit(workers.run('flaky_app:app', host='127.0.0.1', port={port}, workers=2, lifespan='on'))")
    proc = start([sys.executable, "-c", code], env)
    try:
        _wait_listening(proc, port, WORKERS)
        marker.touch()  # from now on a worker fails to start
        for pid in list(_listening_pids(port)):
            os.kill(pid, signal.SIGKILL)
        time.sleep(2 * workers.RESTART_PAUSE + 3)  # replacements start and fail, more than once
        assert proc.poll() is None, f"the gateway stopped: {proc.stdout.read()}"
        marker.unlink()
        _wait_listening(proc, port, WORKERS)
    finally:
        out = stop(proc)
    assert "starting another" in out


def test_a_port_in_use_is_refused_with_a_message(gw):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start([ECGATEWAY, "serve", "--port", port, "--workers", WORKERS], gateway_env(gw))
        out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 1, out
    assert f"127.0.0.1:{port} is in use by another process" in out


def test_a_worker_that_cannot_start_stops_the_gateway_instead_of_restarting_forever():
    started = time.monotonic()
    code = workers.run("ecgateway.no_such_module:app", host="127.0.0.1", port=free_port(), workers=2)
    assert code != 0
    assert time.monotonic() - started < 60
