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

from collections.abc import Iterator
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ecgateway.errors import GatewayError
from ecgateway.web.deps import get_auth

TITLES = {400: "Bad request", 401: "Sign in needed", 403: "Not allowed", 404: "Not found", 405: "Not allowed here",
          409: "Not possible now", 422: "Please check the form", 429: "Too many attempts", 500: "Something went wrong"}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(Exception, _server_error)


SERVER_ERROR = ("Something went wrong on the gateway's side and nothing was changed by this request. "
                "Try again in a moment; if it keeps happening, tell the portal's administrator the time it happened.")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str, headers: dict | None = None,
                   link: tuple[str, str] | None = None):
    if is_api(request):
        return JSONResponse({"status": status, "message": message}, status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if getattr(request.state, "auth", None) is None:
        _load_auth(request)  # no route matched, so no dependency ran: the page still shows who and for whom
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html", {"status": status, "title": TITLES.get(status, "Error"),
                                                              "message": message, "link": link},
                                      status_code=status, headers=headers)


def _load_auth(request: Request) -> None:
    runtime = request.app.state.runtime
    with runtime.portal_sessions() as db:
        get_auth(request, db, runtime)


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
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form"))
        problems.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    message = "The request has fields that are missing or not valid: " + "; ".join(problems) + ". Correct them and send it again."
    return error_response(request, 422, message)


async def _server_error(request: Request, exc: Exception):
    """Any exception no other handler took: logged by the server, answered in the page's words."""
    if is_api(request):
        return JSONResponse({"status": 500, "message": SERVER_ERROR}, status_code=500)
    try:
        return error_response(request, 500, SERVER_ERROR)
    except Exception:  # noqa: BLE001 - e.g. the portal database is what failed: a page without the signed-in name
        return HTMLResponse(f"<!doctype html><html lang='en'><title>Error · ecgateway</title><h1>Something went wrong</h1>"
                            f"<p role='alert'>{SERVER_ERROR}</p><p><a href='/'>Home</a></p></html>", status_code=500)


async def _gateway_error(request: Request, exc: GatewayError):
    if is_api(request):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())
    return error_response(request, exc.status, exc.message, exc.headers(), link=exc.link(api=False))
