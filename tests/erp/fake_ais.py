"""A fake JDE AIS server for tests and benchmarks: a small ASGI app on a loopback port.

It speaks the shapes of ../shared/docs/jde.md and erp/ais.py: token request and logout,
orchestrations in the standard input form, error bodies (ServiceErrorResponse) with
message/exception/status. It is as strict as Oracle documents the real server to be:

- a token requested with a device name (`deviceName` in the body or the
  `jde-AIS-Auth-Device` header) is valid only with that device name on every later call,
  logout included; one requested without is bound to the caller's IP address; a mismatch
  is 444 (Interoperability Guide for AIS, "Using a Token" and "Session Management":
  https://docs.oracle.com/en/applications/jd-edwards/interoperability/9.2.x/eoiis/using-a-token.html,
  .../eoiis/session-management.html);
- a token unused for longer than `idle_timeout` seconds is gone (444), as the server's
  session time-out in rest.ini makes it ("Session Management");
- a body that is not `application/json` is 415, a token missing or unknown is 444
  (REST API reference, "Execute an Orchestration v2":
  https://docs.oracle.com/en/applications/jd-edwards/cross-product/9.2/rest-api/op-v2-orchestrator-orchestration-post.html);
- an orchestration step that aborts on a business rule answers HTTP 500 with a
  ServiceErrorResponse whose userDefinedErrorText carries the step's error text (Orchestrator
  Guide, "Defining Error Handling for Orchestration Steps":
  https://docs.oracle.com/en/applications/jd-edwards/cross-product/9.2/eotot/defining-error-handling-for-orchestration-steps.html).
  `fake.hold(sold_to, text)` puts a sold-to on credit hold: the order orchestration then
  aborts that way, as an orchestration whose first step checks F03012 AIHOLD would;
  `fake.block(item, text)` makes pricing and orders of a grid holding the item abort so.

It fails on demand: `fake.fail_next("444", "500", ("slow", 2.0), "drop")` applies one
behaviour to each of the next orchestration calls. "500" is an outage (the HTML server
cannot be reached), "500-html" a proxy's HTML page, "502"/"503"/"504" a gateway in front,
("refuse", text) a business refusal. "slow" does the work first and answers late, as a
busy AIS would: a client that gives up still leaves the order made.
The order orchestration drops duplicates by ExternalReference, as erp/ais.py requires.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import uvicorn

USERNAME = "JDEGW"
PASSWORD = "s3cret-pass"
PRICE, ORDER, STATUS = "EC_PriceCart", "EC_SubmitOrder", "EC_OrderStatus"

Pricer = Callable[[dict, list[dict]], dict]


@dataclass
class Session:
    """What AIS keeps for a token: what it is bound to, and when it was last used."""

    device: str | None  # None: bound to the requesting IP address instead
    address: str
    last_used: float


@dataclass
class FakeAis:
    pricer: Pricer | None = None
    idle_timeout: float | None = None  # seconds a token may stay unused; None: never expires
    sessions: dict[str, Session] = field(default_factory=dict)  # token -> its session
    token_requests: list[dict] = field(default_factory=list)
    logouts: list[str] = field(default_factory=list)  # tokens logged out (accepted logouts only)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path, why) of every 444/415 answered
    devices_seen: list[str | None] = field(default_factory=list)  # device name of each accepted call
    calls: list[tuple[str, dict]] = field(default_factory=list)
    orders: dict[str, dict] = field(default_factory=dict)  # ExternalReference (or a serial) -> order
    holds: dict[str, str] = field(default_factory=dict)  # sold-to -> why its orders are refused
    blocked: dict[str, str] = field(default_factory=dict)  # item -> why a cart or order holding it is refused
    script: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    offset: float = 0.0  # added to the clock: idle_for() moves time on without sleeping
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(700001))

    @property
    def tokens(self) -> set[str]:
        """The tokens AIS still holds a session for."""
        with self.lock:
            return set(self.sessions)

    def fail_next(self, *behaviours) -> None:
        with self.lock:
            self.script.extend(behaviours)

    def expire_tokens(self) -> None:
        with self.lock:
            self.sessions.clear()

    def idle_for(self, seconds: float) -> None:
        """Let time pass for the sessions, as if nobody called for that long."""
        with self.lock:
            self.offset += seconds

    def hold(self, sold_to: int | str, reason: str) -> None:
        """Orders for this sold-to are refused with reason (as a credit-hold check would)."""
        with self.lock:
            self.holds[str(sold_to)] = reason

    def block(self, item: str, reason: str) -> None:
        """Pricing and orders of a grid holding this item are refused with reason (a whole-call abort)."""
        with self.lock:
            self.blocked[item] = reason

    def release(self, sold_to: int | str) -> None:
        with self.lock:
            self.holds.pop(str(sold_to), None)

    def now(self) -> float:
        return time.monotonic() + self.offset

    def calls_to(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        address = (scope.get("client") or ("", 0))[0]
        if method != "POST":
            await _reply(send, 405, _error(405, "Method not allowed"))
            return
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            with self.lock:
                self.refused.append((path, "content type"))
            await _reply(send, 415, _error(415, "Invalid Content-Type Header - Must use application/json"))
            return
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            await _reply(send, 400, _error(400, "Bad Request - Invalid JSON Input"))
            return
        if path == "/jderest/v2/tokenrequest":
            await self._token_request(send, payload, headers, address)
        elif path == "/jderest/v2/tokenrequest/logout":
            token, why = self._check_token(path, payload, headers, address)
            if why:
                await _reply(send, 444, _error(444, f"Invalid token: {why}"))
                return
            with self.lock:
                self.logouts.append(token)
                self.sessions.pop(token, None)
            await _reply(send, 200, {"status": "Success"})
        elif path.startswith("/jderest/v3/orchestrator/"):
            await self._orchestration(send, path, payload, headers, address)
        else:
            await _reply(send, 404, _error(404, f"No resource at {path}"))

    async def _token_request(self, send, payload: dict, headers: dict, address: str) -> None:
        device = payload.get("deviceName") or headers.get("jde-ais-auth-device") or None
        with self.lock:
            self.token_requests.append({k: v for k, v in payload.items() if k != "password"})
        if payload.get("username") != USERNAME or payload.get("password") != PASSWORD:
            await _reply(send, 403, _error(403, "Authorization Failure: invalid user name or password"))
            return
        token = "044" + secrets.token_hex(24)
        with self.lock:
            self.sessions[token] = Session(device=device, address=address, last_used=self.now())
        await _reply(send, 200, {"username": USERNAME, "environment": payload.get("environment"),
                                 "role": payload.get("role"), "userInfo": {"token": token, "langPref": "  "}})

    def _check_token(self, path: str, payload: dict, headers: dict, address: str) -> tuple[str | None, str]:
        """(token, "") when the call may use its token; else (token, why not), recorded in refused."""
        token = headers.get("jde-ais-auth") or payload.get("token")
        device = headers.get("jde-ais-auth-device") or payload.get("deviceName") or None
        with self.lock:
            session = self.sessions.get(token) if token else None
            now = self.now()
            if session is not None and self.idle_timeout is not None and now - session.last_used > self.idle_timeout:
                del self.sessions[token]
                session, why = None, "the session timed out"
            else:
                why = "no token" if not token else "unknown token"
            if session is not None:
                if session.device is not None and device != session.device:
                    why = f"token requested for device {session.device!r}, used with {device!r}"
                elif session.device is None and address != session.address:
                    why = f"token requested from {session.address}, used from {address}"
                else:
                    session.last_used = now
                    self.devices_seen.append(device)
                    return token, ""
            self.refused.append((path, why))
            return token, why

    async def _orchestration(self, send, path: str, payload: dict, headers: dict, address: str) -> None:
        name = path.rsplit("/", 1)[1]
        with self.lock:
            behaviour = self.script.popleft() if self.script else None
        if behaviour in ("444", "403-token"):
            code = 403 if behaviour == "403-token" else 444
            await _reply(send, code, _error(code, "Invalid or expired token"))
            return
        _token, why = self._check_token(path, payload, headers, address)
        if why:
            await _reply(send, 444, _error(444, f"Invalid token: {why}"))
            return
        with self.lock:
            self.calls.append((name, payload))
        if behaviour == "500":  # an outage as AIS reports it: the HTML server behind it is gone
            await _reply(send, 500, _error(500, "Unable to connect to the HTML Server: Connection refused",
                                           exception="java.net.ConnectException"))
            return
        if behaviour == "500-html":  # a proxy or a servlet container's own error page, no ServiceErrorResponse
            await _reply_raw(send, 500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", b"text/html")
            return
        if behaviour in ("502", "503", "504"):
            await _reply_raw(send, int(behaviour), b"<html><body>Bad gateway</body></html>", b"text/html")
            return
        if isinstance(behaviour, tuple) and behaviour[0] == "refuse":
            await _reply(send, 500, _step_aborted(name, behaviour[1]))
            return
        if behaviour == "drop":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"500")]})
            await send({"type": "http.response.body", "body": b'{"Lines": [', "more_body": True})
            raise ConnectionAbortedError("the fake AIS drops the connection on purpose")
        inputs, grid = _read_standard_input(payload)
        with self.lock:
            held = self.holds.get(str(inputs.get("SoldTo", "")))
            barred = next((self.blocked[row["ItemNumber"]] for row in grid if row.get("ItemNumber") in self.blocked), None)
        if name in (PRICE, ORDER) and barred:
            status, reply = 500, _step_aborted(name, barred)
        elif name == PRICE:
            status, reply = 200, self._price(inputs, grid)
        elif name == ORDER and held:
            status, reply = 500, _step_aborted(name, held)
        elif name == ORDER:
            status, reply = 200, self._order(inputs, grid)
        elif name == STATUS:
            status, reply = 200, {"NextStatus": "540", "LastStatus": "520", "Description": "Print pick slips"}
        else:
            status, reply = 404, _error(404, f"Orchestration {name} not found")
        if isinstance(behaviour, tuple) and behaviour[0] == "slow":
            await asyncio.sleep(behaviour[1])
        elif isinstance(behaviour, tuple) and behaviour[0] == "reply":
            status, reply = behaviour[1], behaviour[2]
        await _reply(send, status, reply)

    def _price(self, inputs: dict, grid: list[dict]) -> dict:
        if self.pricer is not None:
            return self.pricer(inputs, grid)
        lines = []
        for row in grid:
            if row["ItemNumber"].startswith("NO-"):
                lines.append({"ItemNumber": row["ItemNumber"], "Error": f"Item {row['ItemNumber']} not found"})
                continue
            price = Decimal(len(row["ItemNumber"])) + Decimal("0.1234")
            lines.append({"ItemNumber": row["ItemNumber"], "Description": "Fake item",
                          "UnitOfMeasure": row.get("UnitOfMeasure") or "EA", "UnitPrice": str(price),
                          "PriceSource": "fake"})
        return {"Currency": inputs.get("Currency") or "USD", "Lines": lines, "jde__status": "SUCCESS"}

    def _order(self, inputs: dict, grid: list[dict]) -> dict:
        reference = inputs.get("ExternalReference") or f"unkeyed-{len(self.orders)}-{time.monotonic_ns()}"
        with self.lock:
            first = self.orders.get(reference)
            if first is None:
                first = {"OrderNumber": str(next(self._numbers)), "OrderType": "SO",
                         "OrderCompany": inputs.get("Company", "00000"), "inputs": inputs, "lines": grid}
                self.orders[reference] = first
                duplicate = False
            else:
                duplicate = True
        return {"OrderNumber": first["OrderNumber"], "OrderType": "SO", "OrderCompany": first["OrderCompany"],
                "Duplicate": duplicate, "jde__status": "SUCCESS"}


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake AIS server did not start within 10s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def local_pricer(erp) -> Pricer:
    """Price the orchestration's grid with a LocalErp, as a JDE with these tables would."""
    from ecgateway.erp import PriceRequest, PriceRequestLine

    def price(inputs: dict, grid: list[dict]) -> dict:
        request = PriceRequest(
            sold_to=int(inputs["SoldTo"]), ship_to=int(inputs["ShipTo"]), company=inputs["Company"],
            branch=inputs["BranchPlant"], currency=inputs.get("Currency") or None,
            lines=tuple(PriceRequestLine(row["ItemNumber"], int(row["Quantity"]), row.get("UnitOfMeasure") or None)
                        for row in grid))
        result = erp.price(request)
        return {"Currency": result.currency, "jde__status": "SUCCESS", "Lines": [
            {"ItemNumber": line.item, "Description": line.description, "UnitOfMeasure": line.uom,
             "UnitPrice": str(line.unit_price) if line.available else "", "ExtendedPrice": str(line.extended),
             "PriceSource": line.source, "Error": "" if line.available else line.source}
            for line in result.lines]}

    return price


def _read_standard_input(payload: dict) -> tuple[dict, list[dict]]:
    inputs = {item["name"]: item.get("value", "") for item in payload.get("inputs", [])}
    grid = []
    for detail in payload.get("detailInputs", []):
        if detail.get("name") == "GridData":
            for row in detail.get("repeatingInputs", []):
                grid.append({item["name"]: item.get("value", "") for item in row.get("inputs", [])})
    return inputs, grid


def _error(_http_status: int, message: str, *, exception: str = "JDERestServiceException") -> dict:
    """A ServiceErrorResponse: its status is ERROR or WARNING, never the HTTP code (REST API reference)."""
    return {"message": message, "exception": exception, "exceptionId": secrets.token_hex(4),
            "timeStamp": time.strftime("%Y-%m-%dT%H:%M:%S"), "status": "ERROR"}


def _step_aborted(name: str, text: str) -> dict:
    """What AIS answers when a step set to abort on error stops the orchestration: the step's
    User Defined Error Text comes back as userDefinedErrorText."""
    body = _error(500, f"Orchestration {name} failed at step CheckCustomer: Rule returned false",
                  exception="com.oracle.e1.rest.orchestrator.OrchestrationException")
    body["userDefinedErrorText"] = text
    return body


async def _reply(send, status: int, body: dict) -> None:
    await _reply_raw(send, status, json.dumps(body).encode(), b"application/json")


async def _reply_raw(send, status: int, data: bytes, content_type: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
