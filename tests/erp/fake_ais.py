"""A fake JDE AIS server for tests and benchmarks: a small ASGI app on a loopback port.

It speaks the shapes of ../shared/docs/jde.md and erp/ais.py: token request and logout,
orchestrations in the standard input form, error bodies with message/exception/status.
It fails on demand: `fake.fail_next("444", "500", ("slow", 2.0), "drop")` applies one
behaviour to each of the next orchestration calls. "slow" does the work first and answers
late, as a busy AIS would: a client that gives up still leaves the order made.
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
class FakeAis:
    pricer: Pricer | None = None
    tokens: set[str] = field(default_factory=set)
    token_requests: list[dict] = field(default_factory=list)
    logouts: list[str] = field(default_factory=list)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    orders: dict[str, dict] = field(default_factory=dict)  # ExternalReference (or a serial) -> order
    script: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(700001))

    def fail_next(self, *behaviours) -> None:
        with self.lock:
            self.script.extend(behaviours)

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

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
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            await _reply(send, 400, _error(400, "Request body is not JSON"))
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if method != "POST":
            await _reply(send, 405, _error(405, "Method not allowed"))
        elif headers.get("content-type", "").split(";")[0] != "application/json":
            await _reply(send, 415, _error(415, "Unsupported Media Type"))
        elif path == "/jderest/v2/tokenrequest":
            await self._token_request(send, payload)
        elif path == "/jderest/v2/tokenrequest/logout":
            token = payload.get("token") or headers.get("jde-ais-auth")
            with self.lock:
                self.logouts.append(token)
                self.tokens.discard(token)
            await _reply(send, 200, {})
        elif path.startswith("/jderest/v3/orchestrator/"):
            await self._orchestration(send, path.rsplit("/", 1)[1], payload, headers)
        else:
            await _reply(send, 404, _error(404, f"No resource at {path}"))

    async def _token_request(self, send, payload: dict) -> None:
        with self.lock:
            self.token_requests.append({k: v for k, v in payload.items() if k != "password"})
        if payload.get("username") != USERNAME or payload.get("password") != PASSWORD:
            await _reply(send, 403, _error(403, "Authorization Failure: invalid user name or password"))
            return
        token = "044" + secrets.token_hex(24)
        with self.lock:
            self.tokens.add(token)
        await _reply(send, 200, {"username": USERNAME, "environment": payload.get("environment"),
                                 "role": payload.get("role"), "userInfo": {"token": token, "langPref": "  "}})

    async def _orchestration(self, send, name: str, payload: dict, headers: dict) -> None:
        token = headers.get("jde-ais-auth") or payload.get("token")
        with self.lock:
            behaviour = self.script.popleft() if self.script else None
            valid = token in self.tokens
        if behaviour in ("444", "403-token") or not valid:
            code = 403 if behaviour == "403-token" else 444
            await _reply(send, code, _error(code, "Invalid or expired token"))
            return
        with self.lock:
            self.calls.append((name, payload))
        if behaviour == "500":
            await _reply(send, 500, _error(500, "Server error: the JAS server did not answer"))
            return
        if behaviour == "drop":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"500")]})
            await send({"type": "http.response.body", "body": b'{"Lines": [', "more_body": True})
            raise ConnectionAbortedError("the fake AIS drops the connection on purpose")
        inputs, grid = _read_standard_input(payload)
        if name == PRICE:
            status, reply = 200, self._price(inputs, grid)
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


def _error(status: int, message: str) -> dict:
    return {"message": message, "exception": "JDERestServiceException", "exceptionId": secrets.token_hex(4),
            "timeStamp": time.strftime("%Y-%m-%dT%H:%M:%S"), "status": status}


async def _reply(send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
