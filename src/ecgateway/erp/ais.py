"""The ERP over a JDE AIS server: one token per process, one orchestration call per request.

Session (Interoperability Guide for AIS, "Requesting a Token", "Using a Token", "Session
Management": https://docs.oracle.com/en/applications/jd-edwards/interoperability/9.2.x/eoiis/using-a-token.html
and .../eoiis/session-management.html):
- `POST /jderest/v2/tokenrequest` with the configured user, environment, role and a stable
  deviceName (ECGW_AIS_DEVICE_NAME) gives the token. AIS binds the token to that device name
  (to the caller's IP address when there is none) and checks it on every use, so every later
  call, the logout included, sends both: the `jde-AIS-Auth` and `jde-AIS-Auth-Device` headers.
- One token serves every thread of the process (one AisErp per process, commerce/wiring.py):
  it is requested on first use and held until close(), which logs it out
  (`POST /jderest/v2/tokenrequest/logout` with token and deviceName). Each uvicorn worker
  process and each `ecgateway outbox run` therefore holds one AIS session.
- AIS ends a session left idle longer than its time-out (rest.ini) and answers 444 (or 403
  naming the token) to a token it no longer holds. The client then requests a new token once
  and repeats the call once; a 444 means AIS did not run the call, so repeating it is safe even
  for an order. A new token refused again is a clear ErpUnavailable (a device name or session
  setting is wrong), never a loop of logins.

Calls: `POST /jderest/v3/orchestrator/{name}` in JDE's standard input form:
`{"inputs": [{"name", "value"}...], "detailInputs": [{"name": "GridData",
"repeatingInputs": [{"inputs": [...]}, ...]}]}`, values as text, one grid row per line.

  pricing (ECGW_AIS_PRICE_ORCHESTRATION), one call per cart.
    inputs: SoldTo, ShipTo, Company, BranchPlant, Currency (blank: the sold-to's);
    grid rows: ItemNumber, Quantity, UnitOfMeasure (blank: the item's primary).
    reply: {"Currency": "USD", "Lines": [{"ItemNumber", "Description", "UnitOfMeasure",
    "UnitPrice", "ExtendedPrice" (optional), "PriceSource" (optional), "Error"}]}, one row
    per grid row in the same order; a row with an Error or no UnitPrice has no price.
  order (ECGW_AIS_ORDER_ORCHESTRATION), one call per order.
    inputs: SoldTo, ShipTo, Parent, Company, BranchPlant, Currency, CustomerPO, PlacedBy,
    ExternalReference (references.external_reference of the idempotency key, 25 chars);
    grid rows: ItemNumber, Quantity, UnitOfMeasure, UnitPrice.
    reply: {"OrderNumber", "OrderType", "OrderCompany", "Duplicate"}.
  status (ECGW_AIS_STATUS_ORCHESTRATION).
    inputs: OrderNumber, OrderType, OrderCompany.
    reply: {"NextStatus", "LastStatus", "Description"}.

Refusals and outages are told apart by reading the answer before anything is retried.
Oracle's REST API reference ("Execute an Orchestration v2",
https://docs.oracle.com/en/applications/jd-edwards/cross-product/9.2/rest-api/op-v2-orchestrator-orchestration-post.html)
gives 400, 403, 415, 444 and 500 for an orchestration, each 4xx/500 with a ServiceErrorResponse
body (message, exception, exceptionId, timeStamp, status ERROR/WARNING, userDefinedErrorText).
A step set to abort on error puts its User Defined Error Text into userDefinedErrorText
(Orchestrator Guide, "Defining Error Handling for Orchestration Steps",
https://docs.oracle.com/en/applications/jd-edwards/cross-product/9.2/eotot/defining-error-handling-for-orchestration-steps.html),
and the same HTTP 500 also reports the server's own failures: the HTML server or an external
resource not answering (Orchestrator Guide, "Possible Causes of Orchestrator Exceptions",
.../eotot/possible-causes-of-orchestrator-exceptions.html). So:

- a refusal (ErpRejected, with JDE's words as its reason; never retried, never counted by
  the breaker): a reply whose jde__status is ERROR; HTTP 400, 409, 422 and any other 4xx not
  named below; HTTP 500 whose body is a ServiceErrorResponse with a non-blank
  userDefinedErrorText (a step stopped the orchestration on purpose), or with a message that
  names no failure to reach a server (see _UNREACHED: connection, time-out, unavailable,
  socket, JDENET, enterprise/HTML server ...);
- an outage (retried with capped, jittered backoff where safe, counted by the breaker): no
  connection, a time-out, a dropped connection; HTTP 429, 502, 503, 504 and other 5xx; an HTTP
  500 whose body is not a ServiceErrorResponse (a proxy's page, not JSON, no message) or whose
  message or exception names a server that could not be reached;
- a gateway set up wrong (ErpUnavailable, not retried, not counted, the order waits in the
  outbox until it is fixed): the login refused, HTTP 401/403 (the AIS user may not run the
  orchestration), 404 (no such orchestration), 405/406/415 (the two sides disagree on the call).

An orchestration that refuses for a business reason should therefore stop at a step set to
abort with a User Defined Error Text written for the rep and the customer ("Customer on credit
hold: call Credit Control"): that text is what the order history shows.

Retries of outages (at most max_attempts tries):
- pricing and status always: they change nothing;
- an order only when nothing reached AIS (the connection was refused or never opened, or the
  token request itself failed), or when it carries an idempotency key and
  ECGW_AIS_ORDER_DROPS_DUPLICATES is true. That setting promises that the order orchestration,
  as its first step, inserts the ExternalReference into a custom table with a unique key (and
  finds the sales order whose SHVR02 holds it): a repeated reference fails that insert, and the
  orchestration returns the first order with Duplicate true instead of making a second.
  Without that promise a timed-out order is not retried here: the outbox sends it again later,
  and the message says to check JDE first.

Circuit breaker: after failure_threshold outages in a row calls fail at once with
ErpUnavailable for reset_after seconds; then one trial call decides whether it closes again.
Any answer that is not an outage (a refusal included) counts as a success: AIS is up.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from ecgateway.config import Settings
from ecgateway.erp.base import (
    ErpError,
    ErpRejected,
    ErpUnavailable,
    OrderReceipt,
    OrderStatus,
    OrderSubmission,
    PricedLine,
    PriceRequest,
    PriceResult,
)
from ecgateway.erp.breaker import CircuitBreaker, CircuitOpen
from ecgateway.erp.references import SalesOrderReference, external_reference, sales_order_status

log = logging.getLogger(__name__)

TOKEN_PATH = "/jderest/v2/tokenrequest"
LOGOUT_PATH = "/jderest/v2/tokenrequest/logout"
ORCHESTRATOR_PATH = "/jderest/v3/orchestrator/"
AUTH_HEADER = "jde-AIS-Auth"
DEVICE_HEADER = "jde-AIS-Auth-Device"
TOKEN_INVALID = 444
ACCEPTED = "accepted"
# 4xx that say the gateway is set up wrong (login, grants, orchestration name, the call's form),
# not that this request is refused.
SETUP_STATUSES = frozenset({401, 403, 404, 405, 406, 415})
# Words of a ServiceErrorResponse that report a server not reached rather than a refusal.
_UNREACHED = re.compile(
    r"connect|timed?\s*out|timeout|unavailable|unreachable|(?:cannot|could not|can't|not) be reached|not reachable"
    r"|no route|socket|jdenet|enterprise ?server|html ?server|jas ?server|server is down|shutting down"
    r"|service temporarily|too many sessions|try again later", re.IGNORECASE)


class _Transient(Exception):
    """A failure worth another try: no answer, a dropped connection, HTTP 5xx."""

    def __init__(self, message: str, *, sent: bool):
        super().__init__(message)
        self.sent = sent  # False: the request never left, so even an order may be sent again


class AisErp:
    """The Erp interface over JDE AIS. Keep one per process: it holds the token and the breaker.

    Options beyond the settings (tests and benchmarks tune them): max_attempts (tries per
    retryable call), backoff_base/backoff_cap (seconds), failure_threshold/reset_after
    (the breaker), transport (an httpx transport), sleep, clock and jitter (0..1 source).
    """

    def __init__(self, settings: Settings, *, max_attempts: int = 3, backoff_base: float = 0.2,
                 backoff_cap: float = 2.0, failure_threshold: int = 5, reset_after: float = 30.0,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, jitter: Callable[[], float] = random.random):
        missing = [name for name, value in (("ECGW_AIS_URL", settings.ais_url), ("ECGW_AIS_USERNAME", settings.ais_username),
                                            ("ECGW_AIS_PASSWORD", settings.ais_password)) if not value]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise ValueError(f"ECGW_ERP_MODE is ais but {', '.join(missing)} {verb} not set: set them, or use ECGW_ERP_MODE=local")
        self.settings = settings
        self.url = settings.ais_url.rstrip("/")
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.breaker = CircuitBreaker(failure_threshold=failure_threshold, reset_after=reset_after, clock=clock)
        self._sleep = sleep
        self._jitter = jitter
        seconds = settings.ais_timeout_seconds
        self._http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(seconds, connect=min(seconds, 5.0)),
                                  headers={"Accept": "application/json"}, transport=transport)
        self.device = (settings.ais_device_name or "").strip()
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self.token_requests = 0

    # --- the interface -----------------------------------------------------------------

    def price(self, request: PriceRequest) -> PriceResult:
        """Price the whole cart in one orchestration call."""
        for line in request.lines:
            if line.quantity <= 0:
                raise ErpRejected(f"line for item {line.item!r} has quantity {line.quantity}: quantities must be at least 1")
        name = self.settings.ais_price_orchestration
        body = standard_input(
            {"SoldTo": request.sold_to, "ShipTo": request.ship_to, "Company": request.company,
             "BranchPlant": request.branch, "Currency": request.currency or ""},
            [{"ItemNumber": line.item, "Quantity": line.quantity, "UnitOfMeasure": line.uom or ""}
             for line in request.lines],
        )
        reply = self._orchestrate(name, body, retry_safe=True)
        return self._read_prices(name, request, reply)

    def submit_order(self, order: OrderSubmission) -> OrderReceipt:
        """Send the order in one orchestration call; retried only as the module docstring says."""
        if not order.lines:
            raise ErpRejected("the order has no lines: add items to the cart before ordering")
        keyed = bool(order.erp_key.strip())
        name = self.settings.ais_order_orchestration
        body = standard_input(
            {"SoldTo": order.sold_to, "ShipTo": order.ship_to, "Parent": order.parent, "Company": order.company,
             "BranchPlant": order.branch, "Currency": order.currency, "CustomerPO": order.customer_po,
             "PlacedBy": order.placed_by,
             "ExternalReference": external_reference(order.erp_key) if keyed else ""},
            [{"ItemNumber": line.item, "Quantity": line.quantity, "UnitOfMeasure": line.uom,
              "UnitPrice": line.unit_price} for line in order.lines],
        )
        retry_safe = keyed and self.settings.ais_order_drops_duplicates
        reply = self._orchestrate(name, body, retry_safe=retry_safe,
                                  unsent_hint=f"customer PO {order.customer_po!r} for sold-to {order.sold_to}")
        number = str(reply.get("OrderNumber", "")).strip()
        if not number.isdigit():
            raise ErpUnavailable(f"orchestration {name} answered without an OrderNumber: check that it returns"
                                 " OrderNumber, OrderType and OrderCompany (erp/ais.py describes the contract)")
        reference = SalesOrderReference(company=str(reply.get("OrderCompany") or order.company).strip(),
                                        doc_type=str(reply.get("OrderType") or "SO").strip(), number=int(number))
        if str(reply.get("Duplicate", "")).lower() == "true":
            log.info("AIS returned the first order %s for external reference of key %s", reference, order.erp_key)
        return OrderReceipt(erp_reference=str(reference), status=ACCEPTED)

    def order_status(self, erp_reference: str) -> OrderStatus:
        """Where the sales order stands, from its F4211 next status."""
        ref = SalesOrderReference.parse(erp_reference)
        name = self.settings.ais_status_orchestration
        body = standard_input({"OrderNumber": ref.number, "OrderType": ref.doc_type, "OrderCompany": ref.company}, [])
        reply = self._orchestrate(name, body, retry_safe=True)
        next_status = str(reply.get("NextStatus", "")).strip()
        detail = str(reply.get("Description") or f"next status {next_status}, last {reply.get('LastStatus', '')}")
        return OrderStatus(erp_reference=erp_reference, status=sales_order_status(next_status), detail=detail)

    def close(self) -> None:
        """Log the token out (so it does not hold a licensed session) and close the connections."""
        with self._token_lock:
            token, self._token = self._token, None
        if token is not None:
            body = {"token": token, **({"deviceName": self.device} if self.device else {})}
            try:
                response = self._post(LOGOUT_PATH, body, token)
            except _Transient as exc:
                log.warning("logging out of JDE AIS at %s failed (%s); the session ends when it times out", self.url, exc)
            else:
                if response.status_code != 200:
                    log.warning("JDE AIS at %s refused the logout (HTTP %s: %s); the session ends when it times out",
                                self.url, response.status_code, _message(response))
        self._http.close()

    # --- calls -------------------------------------------------------------------------

    def _orchestrate(self, name: str, body: dict, *, retry_safe: bool, unsent_hint: str = "") -> dict:
        last: _Transient | None = None
        for attempt in range(self.max_attempts):
            if attempt:
                self._sleep(self._backoff(attempt))
            try:
                self.breaker.before_call()
            except CircuitOpen as exc:
                raise ErpUnavailable(
                    f"JDE AIS at {self.url} failed {exc.failures} times in a row, so the gateway stops calling it for"
                    f" {exc.retry_in:.0f}s more; orders wait in the outbox and prices return when it answers again"
                ) from (last or exc)
            try:
                reply = self._call(name, body)
            except _Transient as exc:
                self.breaker.record_failure()
                last = exc
                if retry_safe or not exc.sent:
                    log.warning("AIS %s attempt %d of %d failed: %s", name, attempt + 1, self.max_attempts, exc)
                    continue
                raise ErpUnavailable(
                    f"JDE AIS at {self.url} gave no complete answer to {name} ({exc}); whether it created the order"
                    f" ({unsent_hint}) is unknown and it is not sent twice automatically: check JDE for it before"
                    " sending it again"
                ) from exc
            except ErpError:
                self.breaker.record_success()  # AIS answered (a refusal, a setup error): it is up
                raise
            except BaseException:
                self.breaker.record_failure()
                raise
            self.breaker.record_success()
            return reply
        raise ErpUnavailable(f"JDE AIS at {self.url} did not answer {name} after {self.max_attempts} tries ({last}):"
                             " try again later; orders wait in the outbox") from last

    def _call(self, name: str, body: dict) -> dict:
        path = ORCHESTRATOR_PATH + quote(name, safe="")
        token = self._session(self._current_token)
        response = self._post(path, body, token)
        if _token_refused(response):
            log.info("AIS refused the token (HTTP %s: %s); requesting a new one", response.status_code,
                     _message(response))
            token = self._session(lambda: self._renew_token(token))
            response = self._post(path, body, token)
            if _token_refused(response):
                raise ErpUnavailable(f"JDE AIS at {self.url} refused a token it had just issued for {name}"
                                     f" ({_message(response)}): check that ECGW_AIS_DEVICE_NAME is stable and"
                                     " that the AIS server's session time-out is not shorter than a call")
        return self._read(name, response)

    def _session(self, get_token: Callable[[], str]) -> str:
        """A token; a token request that failed in transit sent no order, so it may be tried again."""
        try:
            return get_token()
        except _Transient as exc:
            raise _Transient(f"token request: {exc}", sent=False) from exc

    def _post(self, path: str, body: dict, token: str | None) -> httpx.Response:
        headers = {}
        if token:
            headers[AUTH_HEADER] = token
            if self.device:  # a token requested with a device name is valid only with it
                headers[DEVICE_HEADER] = self.device
        try:
            response = self._http.post(path, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _Transient(f"could not connect: {type(exc).__name__} {exc}".strip(), sent=False) from exc
        except httpx.TimeoutException as exc:
            raise _Transient(f"no answer within {self.settings.ais_timeout_seconds}s", sent=True) from exc
        except httpx.TransportError as exc:
            raise _Transient(f"connection dropped: {type(exc).__name__} {exc}".strip(), sent=True) from exc
        status = response.status_code
        if status == 429 or (status >= 500 and not (status == 500 and refusal_reason(response))):
            raise _Transient(f"HTTP {status}: {_message(response)}", sent=True)
        return response

    def _read(self, name: str, response: httpx.Response) -> dict:
        status = response.status_code
        if status in (401, 403):
            raise ErpUnavailable(f"AIS user {self.settings.ais_username} may not run orchestration {name} (HTTP {status}:"
                                 f" {_message(response)}): ask the JDE security administrator to grant it")
        if status == 404:
            raise ErpUnavailable(f"JDE AIS at {self.url} has no orchestration {name} (HTTP 404): check the"
                                 " ECGW_AIS_*_ORCHESTRATION settings")
        if status in SETUP_STATUSES or 300 <= status < 400:
            raise ErpUnavailable(f"JDE AIS answered {name} with HTTP {status} ({_message(response)}):"
                                 " the gateway and the AIS server disagree on the call; see erp/ais.py")
        if status == 400:
            reason = _message(response)
            raise ErpRejected(f"JDE refused {name} as a bad request: {reason}", reason=reason)
        if status >= 400:  # 4xx naming this request, or a 500 that refusal_reason() read as a refusal
            reason = refusal_reason(response) or _message(response)
            raise ErpRejected(f"JDE refused {name} (HTTP {status}): {reason}", reason=reason)
        try:
            reply = response.json()
        except ValueError as exc:
            raise ErpUnavailable(f"JDE AIS answered {name} with something other than JSON: check ECGW_AIS_URL points"
                                 " at the AIS server") from exc
        if not isinstance(reply, dict):
            raise ErpUnavailable(f"JDE AIS answered {name} with JSON that is not an object: check the orchestration's outputs")
        if str(reply.get("jde__status", "")).upper() == "ERROR":
            reason = str(reply.get("jde__simpleMessage") or reply.get("userDefinedErrorText") or reply.get("message")
                         or "no reason given").strip()
            raise ErpRejected(f"JDE refused {name}: {reason}", reason=reason)
        return reply

    # --- the token ---------------------------------------------------------------------

    def _current_token(self) -> str:
        with self._token_lock:
            if self._token is None:
                self._token = self._login()
            return self._token

    def _renew_token(self, stale: str) -> str:
        with self._token_lock:
            if self._token in (stale, None):  # another thread may have renewed it already
                self._token = self._login()
            return self._token

    def _login(self) -> str:
        s = self.settings
        body = {"username": s.ais_username, "password": s.ais_password.get_secret_value(),
                "deviceName": s.ais_device_name, "environment": s.ais_environment, "role": s.ais_role}
        self.token_requests += 1
        response = self._post(TOKEN_PATH, body, None)
        if response.status_code in (401, 403):
            raise ErpUnavailable(f"JDE AIS at {self.url} refused the login of {s.ais_username} to {s.ais_environment}"
                                 f" as role {s.ais_role} (HTTP {response.status_code}: {_message(response)}): check"
                                 " ECGW_AIS_USERNAME, ECGW_AIS_PASSWORD, ECGW_AIS_ENVIRONMENT and ECGW_AIS_ROLE")
        token = None
        if response.status_code == 200:
            try:
                token = response.json().get("userInfo", {}).get("token")
            except (ValueError, AttributeError):
                token = None
        if not token:
            raise ErpUnavailable(f"JDE AIS at {self.url} answered the token request with HTTP {response.status_code}"
                                 f" and no userInfo.token ({_message(response)}): check ECGW_AIS_URL")
        log.info("requested a JDE AIS token as %s (device %s)", s.ais_username, s.ais_device_name)
        return token

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self._jitter() * ceiling / 2

    # --- replies -----------------------------------------------------------------------

    def _read_prices(self, name: str, request: PriceRequest, reply: Mapping[str, Any]) -> PriceResult:
        rows = reply.get("Lines")
        if not isinstance(rows, list) or len(rows) != len(request.lines):
            got = len(rows) if isinstance(rows, list) else "no"
            raise ErpUnavailable(f"orchestration {name} returned {got} price lines for {len(request.lines)} requested:"
                                 " it must return one Lines row per GridData row (see erp/ais.py)")
        decimals = self.settings.decimals
        unit_places = Decimal(1).scaleb(-decimals["UPRC"])
        amount_places = Decimal(1).scaleb(-decimals["AEXP"])
        currency = str(reply.get("Currency") or request.currency or "").strip()
        lines = []
        for asked, row in zip(request.lines, rows, strict=True):
            uom = str(row.get("UnitOfMeasure") or asked.uom or "").strip()
            description = str(row.get("Description") or "").strip()
            error = str(row.get("Error") or "").strip()
            unit = _decimal(row.get("UnitPrice"))
            if error or unit is None:
                lines.append(PricedLine(item=asked.item, description=description, quantity=asked.quantity, uom=uom,
                                        unit_price=Decimal(0), extended=Decimal(0), currency=currency,
                                        source=f"JDE: {error or 'no price returned'}", available=False))
                continue
            unit = unit.quantize(unit_places, rounding=ROUND_HALF_UP)
            extended = _decimal(row.get("ExtendedPrice"))
            if extended is None:
                extended = unit * asked.quantity
            lines.append(PricedLine(item=asked.item, description=description, quantity=asked.quantity, uom=uom,
                                    unit_price=unit, extended=extended.quantize(amount_places, rounding=ROUND_HALF_UP),
                                    currency=currency, source=f"JDE {name}: {row.get('PriceSource') or 'price'}"))
        total = sum((line.extended for line in lines if line.available), Decimal(0).quantize(amount_places))
        return PriceResult(lines=tuple(lines), currency=currency, total=total)


def standard_input(inputs: Mapping[str, Any], grid: list[Mapping[str, Any]]) -> dict:
    """JDE's standard orchestration input: named inputs plus a GridData of repeating rows."""
    body: dict[str, Any] = {"inputs": [{"name": k, "value": _text(v)} for k, v in inputs.items()]}
    if grid:
        body["detailInputs"] = [{"name": "GridData", "repeatingInputs": [
            {"inputs": [{"name": k, "value": _text(v)} for k, v in row.items()]} for row in grid]}]
    return body


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    text = str(value if value is not None else "").replace(",", "").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def refusal_reason(response: httpx.Response) -> str | None:
    """JDE's words when an HTTP 500 is a business refusal; None when it is an outage (module docstring)."""
    try:
        body = response.json()
    except ValueError:
        return None  # a proxy's or servlet container's page: not AIS answering
    if not isinstance(body, dict):
        return None
    defined = str(body.get("userDefinedErrorText") or "").strip()
    if defined:
        return defined
    message = str(body.get("message") or "").strip()
    if not message or _UNREACHED.search(f"{message} {body.get('exception') or ''}"):
        return None
    return message


def _token_refused(response: httpx.Response) -> bool:
    if response.status_code == TOKEN_INVALID:
        return True
    return response.status_code == 403 and "token" in _message(response).lower()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("userDefinedErrorText") or body.get("message") or body.get("jde__simpleMessage")
                   or body.get("exception") or body)[:300]
    return str(body)[:300]
