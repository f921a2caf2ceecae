"""Errors people see: JSON with a message under /api/, a page (or the sign-in page) elsewhere.

Four handlers, one per kind of error: the framework's own (no route, wrong method, HTTPException),
its request validation, GatewayError, the root of every domain error (ecgateway.errors), and
any other exception (500: JSON under /api/, a page for people elsewhere, never a plain-text
trace). The error says its status, message and JSON body; this module only draws them.

A wrong method answers 405 with an Allow header naming every method of every route at that
path (Starlette names only the first route's), and OPTIONS answers 204 with the same Allow.
The JSON shapes are documented on every API route by web/openapi_errors.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ecgateway.auth.models import AuthSession
from ecgateway.errors import DatabaseBusy, GatewayError
from ecgateway.web.deps import load_auth

# Request fields in the words the pages use for them (a bad one is told as "The search can be at most...").
FIELD_WORDS = {
    "q": "The search", "sort": "The sort order", "cursor": "The page position", "offset": "The page position",
    "limit": "The number of rows", "before_id": "The position in the list of orders", "added": "The item added",
    "ship_to": "The shipping address", "an8": "The account number", "account": "The account number",
    "order": "The order number", "order_id": "The order number", "rep": "The representative's login",
    "action": "The action", "outcome": "The outcome", "date_from": "The first date", "date_to": "The last date",
    "item": "The item number", "quantity": "The quantity", "customer_po": "The customer PO number",
    "billing_an8": "The billing address", "shipping_an8": "The shipping address", "user_id": "The user",
    "rep_id": "The representative", "login": "The login", "password": "The password",
}

log = logging.getLogger(__name__)

TITLES = {400: "Bad request", 401: "Sign in needed", 403: "Not allowed", 404: "Not found", 405: "Not allowed here",
          409: "Not possible now", 422: "Please check the form", 429: "Too many attempts", 500: "Something went wrong",
          503: "Busy just now"}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(sa_exc.OperationalError, _database_busy)  # refused connection, lock, deadlock
    app.add_exception_handler(sa_exc.TimeoutError, _database_busy)  # no pooled connection free in time
    app.add_exception_handler(Exception, _server_error)


SERVER_ERROR = ("Something went wrong on the gateway's side and nothing was changed by this request. "
                "Try again in a moment; if it keeps happening, tell the portal's administrator the time it happened.")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str, headers: dict | None = None,
                   link: tuple[str, str] | None = None, back: str | None = None, *, load_auth: bool = True):
    if is_api(request):
        return JSONResponse({"status": status, "message": message}, status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if load_auth and getattr(request.state, "auth", None) is None:
        _load_auth(request)  # no route matched, so no dependency ran: the page still shows who and for whom
    templates = request.app.state.templates
    back = back or _same_site_referer(request)  # every error page has a way back to where the person was
    return templates.TemplateResponse(request, "error.html", {"status": status, "title": TITLES.get(status, "Error"),
                                                              "message": message, "link": link, "back": back},
                                      status_code=status, headers=headers)


def _load_auth(request: Request) -> None:
    runtime = request.app.state.runtime
    with runtime.portal_sessions() as db:
        load_auth(request, db, runtime)


async def _http_error(request: Request, exc: StarletteHTTPException):
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"There is no page at {request.url.path}. Check the address, or start again from the home page."
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        if request.method == "OPTIONS" and allowed:
            return Response(status_code=204, headers={"Allow": ", ".join(allowed)})
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        if message == "Method Not Allowed":
            message = (f"{request.method} is not accepted at {request.url.path}: it takes {', '.join(allowed)}. "
                       + ("See the API's OpenAPI document (/api/openapi.json)." if is_api(request)
                          else "Use the page's own buttons and forms."))
    return error_response(request, exc.status_code, message, headers)


def _literal_route_methods(request: Request) -> list[str]:
    """The methods of routes whose path is exactly the request's, without parameters (none: [])."""
    methods: set[str] = set()
    for route in _routes(request.app.router.routes):
        if "{" not in route.path and route.path == request.url.path:
            methods |= set(route.methods)
    return _in_order(methods | ({"HEAD"} if "GET" in methods else set()))


def _routes(routes) -> Iterator:
    """Every route with methods, also inside included routers (FastAPI 0.16x keeps each included
    router as one entry; its routes carry their full path, as web/setup.py adds no prefix)."""
    for route in routes:
        if getattr(route, "methods", None) and hasattr(route, "path"):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)


def _in_order(methods: set[str]) -> list[str]:
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return sorted(methods, key=lambda m: order.index(m) if m in order else len(order))


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at the request's path, with HEAD beside GET, and OPTIONS."""
    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    for route in _routes(request.app.router.routes):
        if route.matches(scope)[0] != Match.NONE:
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return _in_order(methods)


async def _validation_error(request: Request, exc: RequestValidationError):
    literal = _literal_route_methods(request) if any(e.get("loc", ())[:1] == ("path",) for e in exc.errors()) else []
    if literal:
        # GET /api/v1/admin/restrictions/validate reached GET .../{rep_id} and failed as a number, but
        # the address is the POST-only route's: the method is what is wrong.
        allowed = [*literal, "OPTIONS"]
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ", ".join(allowed)})
        return error_response(request, 405, f"{request.method} is not accepted at {request.url.path}: it takes "
                              f"{', '.join(allowed)}.", {"Allow": ", ".join(allowed)})
    if is_api(request):
        problems, fields = [], []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form"))
            problems.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
            if where and where not in fields:
                fields.append(where)
        message = ("The request has fields that are missing or not valid: " + "; ".join(problems)
                   + ". Correct them and send it again.")
        body = {"status": 422, "message": message}
        if len(fields) == 1:
            body["field"] = fields[0]  # as a GatewayError names its field: one field at fault
        return JSONResponse(body, status_code=422)
    errors = exc.errors()
    message = " ".join(_in_words(err) for err in errors)
    bad_query = {str(err["loc"][1]) for err in errors if len(err.get("loc", ())) > 1 and err["loc"][0] == "query"}
    if request.method == "GET" and bad_query and all(err.get("loc", ("",))[0] == "query" for err in errors):
        return _back_with_message(request, request.url.path, drop=bad_query, message=message)
    if request.method == "POST":
        back = _same_site_referer(request)
        if back:
            return _back_with_message(request, back, drop=set(), message=message + " Nothing was changed.")
    return error_response(request, 422, message, back=_way_back(request))


async def _server_error(request: Request, exc: Exception):
    """Any exception no other handler took: logged by the server, answered in the page's words."""
    return _drawn(request, 500, SERVER_ERROR)


async def _database_busy(request: Request, exc: Exception):
    """503 with Retry-After, in the page's words; the cause goes to the log, not to the person. The page
    does not look up who is signed in: that needs the database that is busy."""
    log.warning("database busy or not answering on %s %s: %s", request.method, request.url.path,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    busy = DatabaseBusy()
    return _drawn(request, busy.status, busy.message, busy.headers(), load_auth=False)


def _drawn(request: Request, status: int, message: str, headers: dict | None = None, *, load_auth: bool = True):
    """error_response, or, when the error page itself cannot be drawn (e.g. the portal database is what
    failed), the same words on a plain page without the signed-in name."""
    try:
        return error_response(request, status, message, headers, load_auth=load_auth)
    except Exception:  # noqa: BLE001 - the last answer there is: never a plain-text trace
        title = TITLES.get(status, "Error")
        return HTMLResponse(f"<!doctype html><html lang='en'><title>{title} · ecgateway</title><h1>{title}</h1>"
                            f"<p role='alert'>{message}</p><p><a href='/'>Home</a></p></html>",
                            status_code=status, headers=headers)


async def _gateway_error(request: Request, exc: GatewayError):
    if is_api(request):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())
    field = exc.field
    if request.method == "GET" and exc.status in (400, 422) and field and field in request.query_params:
        return _back_with_message(request, request.url.path, drop={field}, message=_sentence(exc.message))
    return error_response(request, exc.status, exc.message, exc.headers(), link=exc.link(api=False))


# --- pages: a bad parameter sends the person back, with the reason in the page's words -----------

def _in_words(err: dict) -> str:
    """One pydantic error as a sentence with the page's name of the field."""
    loc = err.get("loc", ())
    name = str(loc[-1]) if loc else ""
    field = FIELD_WORDS.get(name, f"The field {name!r}" if name else "The request")
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    given = err.get("input")
    if kind == "string_too_long":
        return (f"{field} can be at most {ctx.get('max_length')} characters"
                + (f" (it had {len(given)})" if isinstance(given, str) else "") + ".")
    if kind == "string_too_short":
        return f"{field} needs at least {ctx.get('min_length')} characters."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{field} must be a whole number" + (f", not {str(given)[:20]!r}" if given not in (None, "") else "") + "."
    if kind in ("greater_than_equal", "greater_than"):
        return f"{field} must be {ctx.get('ge', ctx.get('gt'))} or more" + (f", not {str(given)[:20]}" if given is not None else "") + "."
    if kind in ("less_than_equal", "less_than"):
        return f"{field} must be {ctx.get('le', ctx.get('lt'))} or less" + (f", not {str(given)[:20]}" if given is not None else "") + "."
    if kind == "missing":
        return f"{field} is missing."
    return f"{field} is not valid."


def _back_with_message(request: Request, path: str, *, drop: set[str], message: str):
    """303 to path without the bad parameters; the message is shown once on the page it lands on."""
    parts = urlsplit(path)
    query = request.url.query if parts.path == request.url.path and not parts.query else parts.query
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in drop]
    target = parts.path + (f"?{urlencode(kept)}" if kept else "")
    if not _flash(request, message):
        return error_response(request, 422, message, back=target)
    return RedirectResponse(target, status_code=303)


def back_with_message(request: Request, path: str, message: str):
    """For a page route whose form lives on another page: back there with the message, shown once."""
    return _back_with_message(request, path, drop=set(), message=message)


def _flash(request: Request, message: str) -> bool:
    """Keep message on the signed-in session, shown once on the next page; False when nobody is signed in."""
    auth = getattr(request.state, "auth", None)
    if auth is None:
        _load_auth(request)
        auth = getattr(request.state, "auth", None)
    session_id = getattr(getattr(auth, "session", None), "id", None)
    if session_id is None:
        return False
    with request.app.state.runtime.portal_sessions() as db:
        row = db.get(AuthSession, session_id)
        if row is None:
            return False
        row.notice = " ".join(p for p in (row.notice, message) if p)[:2000]
        db.commit()
    return True


def _same_site_referer(request: Request) -> str | None:
    """The path of the page a form came from, when it is this site's (never another host)."""
    referer = request.headers.get("referer") or ""
    parts = urlsplit(referer)
    if not referer or parts.netloc != request.url.netloc or not parts.path.startswith("/"):
        return None
    if parts.path == request.url.path:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _way_back(request: Request) -> str | None:
    """The page above this one (/orders for /orders/abc), the way back from an address that cannot be read."""
    return request.url.path.rsplit("/", 1)[0] or None  # the home page is linked on every error page anyway


def _sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
