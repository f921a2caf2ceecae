"""The worker processes of `ecgateway serve`, each listening on its own socket (Linux SO_REUSEPORT).

uvicorn's own supervisor binds one socket and shares it: a worker's event loop accepts every
connection waiting when it wakes, so a burst of keep-alive connections lands on one process. Measured
with 8 clients on the picker mix and 2 workers (bench/RESULTS-search.md, issue 19): the connections
split 7:1 or 8:0 in most runs and one process did the work of both cores (58-141 req/s, with the
split); with a socket per worker the kernel spreads new connections over the workers (4:4, 5:3, 6:2)
and the same load gave 119-152 req/s in every run (169-175 without uvicorn's access log).

Each worker is a uvicorn server on its own SO_REUSEPORT socket. This process only starts them, starts
a worker again when one dies, and stops them all on SIGINT or SIGTERM. Before the workers bind, the
port is bound once without SO_REUSEPORT: a port another process listens on (a second gateway
included, which would otherwise quietly share it) stops the start with a clear message.
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

logger = logging.getLogger("ecgateway.workers")

BACKLOG = 2048  # uvicorn's default listen backlog
STARTUP_FAILURE = 3  # uvicorn's exit code when the app does not start: no point starting it again
RESTART_PAUSE = 1.0  # seconds between a worker's death and its successor


class PortInUse(RuntimeError):
    """The address is taken by another process."""


def supported() -> bool:
    """Workers with their own sockets need SO_REUSEPORT's load spreading, which Linux gives."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    """Bind host:port once, without SO_REUSEPORT, and let it go; PortInUse when another process has it."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"{host}:{port} is in use by another process (another gateway?). Stop it, or serve "
                            f"on another port with --port.") from None
        raise
    finally:
        probe.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A worker's own listening socket on host:port, in the port's SO_REUSEPORT group."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _end_with_parent(supervisor: int) -> None:
    """Linux: this process gets SIGTERM when the supervisor ends, even by SIGKILL or a crash: no worker
    is left serving, and holding the port, without anyone to stop it (prctl PR_SET_PDEATHSIG)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != supervisor:  # it ended before the call (compared by pid: it may be PID 1 itself)
        os.kill(os.getpid(), signal.SIGTERM)


def _worker(app: str, host: str, port: int, options: dict[str, Any], started, supervisor: int) -> None:
    """One worker process: its socket, then uvicorn serving the app on it until SIGINT or SIGTERM.
    started (an Event) is set once the app has started: the supervisor then knows a later end is a crash."""
    import uvicorn

    _end_with_parent(supervisor)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                started.set()

    sock = listening_socket(host, port)
    server = Server(uvicorn.Config(app, host=host, port=port, **options))
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def run(app: str, *, host: str, port: int, workers: int, **options: Any) -> int:
    """Serve app (an import string) with workers processes until SIGINT or SIGTERM; the exit code."""
    if not logging.getLogger().handlers:  # the workers' uvicorn configures its own logging, not this process's
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    check_port_free(host, port)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each: nothing of this one is shared
    stop = threading.Event()

    started = {}  # process -> its Event, set once its app has started
    ever_started = False  # in any worker since the gateway started: a later failure is not a bad setup
    supervisor = os.getpid()

    def start() -> multiprocessing.process.BaseProcess:
        event = context.Event()
        process = context.Process(target=_worker, args=(app, host, port, options, event, supervisor),
                                  name="ecgateway-worker")
        process.start()
        started[process] = event
        return process

    def on_signal(signum, _frame) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes: list[multiprocessing.process.BaseProcess] = []
    code = 0
    try:
        processes += [start() for _ in range(workers)]
        logger.info("serving on %s:%d with %d workers (pids %s)", host, port, workers,
                    ", ".join(str(p.pid) for p in processes))
        while not stop.wait(0.5):
            ever_started = ever_started or any(e.is_set() for e in started.values())
            for i, process in enumerate(processes):
                if stop.is_set():  # SIGINT or SIGTERM meanwhile (a whole process group gets Ctrl-C)
                    break
                if process.is_alive():
                    continue
                ever_started = ever_started or started.pop(process).is_set()
                if not ever_started:
                    # Not started in any worker yet: the app does not import, the settings are wrong...
                    # the others would end the same way; do not start it again and again.
                    code = process.exitcode if process.exitcode and process.exitcode > 0 else STARTUP_FAILURE
                    logger.error("a worker ended before the gateway started (exit code %s): stopping",
                                 process.exitcode)
                    stop.set()
                    break
                logger.warning("worker %s ended with exit code %s: starting another", process.pid, process.exitcode)
                if stop.wait(RESTART_PAUSE):
                    break
                processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then the lifespan
        deadline = time.monotonic() + 60
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
