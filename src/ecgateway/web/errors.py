"""Errors people see: JSON with a message under /api/, a page (or the sign-in page) elsewhere.

Three handlers, one per kind of error: the framework's own (no route, wrong method, HTTPException),
its request validation, and GatewayError, the root of every domain error (ecgateway.errors):
the error says its status, message and JSON body; this module only draws them.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ecgateway.errors import GatewayError
from ecgateway.web.deps import get_auth

TITLES = {400: "Bad request", 401: "Sign in needed", 403: "Not allowed", 404: "Not found", 405: "Not allowed here",
          409: "Not possible now", 422: "Please check the form", 429: "Too many attempts"}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(GatewayError, _gateway_error)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str, headers: dict | None = None):
    if is_api(request):
        return JSONResponse({"status": status, "message": message}, status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if getattr(request.state, "auth", None) is None:
        _load_auth(request)  # no route matched, so no dependency ran: the page still shows who and for whom
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html", {"status": status, "title": TITLES.get(status, "Error"),
                                                              "message": message}, status_code=status, headers=headers)


def _load_auth(request: Request) -> None:
    runtime = request.app.state.runtime
    with runtime.portal_sessions() as db:
        get_auth(request, db, runtime)


async def _http_error(request: Request, exc: StarletteHTTPException):
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"There is no page at {request.url.path}. Check the address, or start again from the home page."
    if exc.status_code == 405 and message == "Method Not Allowed":
        message = f"{request.method} is not accepted at {request.url.path}. Use the page's own buttons and forms."
    return error_response(request, exc.status_code, message, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: RequestValidationError):
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form"))
        problems.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    message = "The request has fields that are missing or not valid: " + "; ".join(problems) + ". Correct them and send it again."
    return error_response(request, 422, message)


async def _gateway_error(request: Request, exc: GatewayError):
    if is_api(request):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())
    return error_response(request, exc.status, exc.message, exc.headers())
