"""`ecgateway serve` keeps an idle keep-alive connection open longer than its clients' own idle time.

uvicorn's default closes an idle connection after 5 s, the same as httpx's own keep-alive expiry
and shorter than nginx's or a load balancer's 60 s: a client (or proxy) that sends on the
connection at that moment gets "Server disconnected without sending a response" (CI saw it in
tests/web/test_load_shoppers.py after 16 sequential sign-ins). The gateway keeps connections for
ECGW_KEEP_ALIVE_SECONDS (75 s by default), so the client side always closes first.
"""

from __future__ import annotations

import errno
import socket
import time

from commerce_procs import free_port, gateway_env, serve, stop

IDLE = 6.0  # past uvicorn's 5 s default and httpx's 5 s expiry


def _get_healthz(sock: socket.socket) -> bytes:
    """One GET /healthz on sock; its whole answer (headers and Content-Length bytes of body)."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += _recv(sock, answer)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += _recv(sock, answer + body)
    return head + b"\r\n\r\n" + body


def _recv(sock: socket.socket, so_far: bytes) -> bytes:
    chunk = sock.recv(4096)
    assert chunk, f"the gateway closed the connection while answering: {so_far!r}"
    return chunk


def _still_open(sock: socket.socket) -> bool:
    """True when the peer has not closed: nothing to read and no end of stream."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            return True
        return False
    finally:
        sock.setblocking(True)


def test_an_idle_connection_outlives_the_clients_five_seconds(gw):
    port = free_port()
    server = serve(gateway_env(gw), port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert _get_healthz(sock).startswith(b"HTTP/1.1 200")
            time.sleep(IDLE)
            assert _still_open(sock), f"the gateway closed an idle connection within {IDLE} s"
            assert _get_healthz(sock).startswith(b"HTTP/1.1 200")  # and it still answers on it
    finally:
        stop(server)


def test_the_access_log_is_on_unless_turned_off(gw):
    """uvicorn's line per request: on by default; ECGW_ACCESS_LOG=false leaves it out (and the rest of the log)."""
    import httpx

    for setting, logged in ((None, True), ("false", False)):
        env = gateway_env(gw)
        if setting is not None:
            env["ECGW_ACCESS_LOG"] = setting
        port = free_port()
        server = serve(env, port)
        try:
            assert httpx.get(f"http://127.0.0.1:{port}/healthz?probe=access-log", timeout=10).status_code == 200
        finally:
            out = stop(server)
        assert ('"GET /healthz?probe=access-log HTTP/1.1" 200' in out) is logged, (setting, out[-2000:])
        assert "Application startup complete" in out
