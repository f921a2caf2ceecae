"""The request guard (deny by default, Origin check, CSRF) and the response middleware
(session cookie, security headers).

CSRF: a synchronizer token per session (auth_sessions.csrf_token, new at each rotation).
Every POST/PUT/PATCH/DELETE must carry it, as the form field `csrf_token` or the header
`X-CSRF-Token`, except the two sign-in routes (there is no session yet; they get the Origin
check). A request whose Origin (or, without one, Referer) is another site is refused.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from starlette.responses import Response

from ecgateway.auth import sessions
from ecgateway.config import Settings
from ecgateway.web.deps import Auth, access_level_of, guard_auth

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Routes other parts declared without an access level that are public on purpose.
PUBLIC_ROUTES = frozenset({"/healthz"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def csrf_exempt(endpoint):
    """Mark a sign-in endpoint: there is no session yet, so only the Origin check applies."""
    endpoint.csrf_exempt = True
    return endpoint


NUL_MESSAGE = ("The request contains a NUL character (\\0) in {where}, which no field accepts. "
               "Remove it and send the request again.")


async def _refuse_nul(request: Request) -> None:
    """PostgreSQL cannot store a NUL in text (the driver raises) and no JDE field holds one:
    refuse it once, here, in the path, the query string, a form field or a JSON body."""
    if "\x00" in request.scope.get("path", "") or "%00" in request.url.query or "\x00" in request.url.query:
        raise HTTPException(400, NUL_MESSAGE.format(where="the address"))
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()  # parsed once; the route and the CSRF check reuse it
        found = any(isinstance(value, str) and "\x00" in value for _key, value in form.multi_items())
        found = found or any("\x00" in key for key in form.keys())
    else:
        body = await request.body()  # JSON: FastAPI has read it already and keeps it
        found = b"\x00" in body or b"\\u0000" in body
    if found:
        raise HTTPException(400, NUL_MESSAGE.format(where="the form or body"))


async def request_guard(request: Request, auth: Annotated[Auth | None, Depends(guard_auth)]) -> None:
    """App-wide dependency: runs before every route's own dependencies."""
    await _refuse_nul(request)
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    if route is not None and access_level_of(route) is None and path not in PUBLIC_ROUTES:
        raise HTTPException(403, f"{request.method} {path} declares no access rule, so it is refused (deny by default). "
                                 "Developers: give the route an access level (ecgateway.web.deps: SignedInAuth, RepAuth, ...).")
    if request.method in SAFE_METHODS:
        return
    _check_origin(request)
    if getattr(getattr(route, "endpoint", None), "csrf_exempt", False):
        return
    if auth is None or auth.session is None:
        raise HTTPException(401, "You are not signed in, or your session ended. Sign in, then try again.")
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        presented = (await request.form()).get(CSRF_FIELD)
    if not sessions.csrf_matches(auth.session, presented if isinstance(presented, str) else None):
        raise HTTPException(403, "The security token of this request is missing or out of date (the page may be "
                                 "older than your last sign-in or account change). Reload the page and try again; "
                                 "API clients send the X-CSRF-Token header from POST /api/v1/session.")


def _check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return  # not a browser form (browsers send Origin on every POST); the token still applies
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    if origin.lower() != _own_origin(request).lower():
        raise HTTPException(403, f"Refused a request sent from another site ({origin[:100]}). "
                                 "Use the gateway's own pages, or call the API without a browser Origin.")


def _own_origin(request: Request) -> str:
    public_url = request.app.state.settings.public_url
    if public_url:  # configured: a forged Host header cannot make another site's form look like ours
        parts = urlsplit(public_url)
        return f"{parts.scheme}://{parts.netloc}"
    host = request.headers.get("host") or request.url.netloc
    return f"{request.url.scheme}://{host}"


class ResponseSecurityMiddleware:
    """Pure ASGI: sets or clears the session cookie the request asked for, adds security headers."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        path = scope.get("path", "")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                token = state.get("session_cookie")
                if token is not None:
                    headers.extend(self._cookie_headers(token))
                names = {name.lower() for name, _ in headers}
                for name, value in self._security_headers(path, secure=self.settings.cookie_secure):
                    if name not in names:
                        headers.append((name, value))
                notice = getattr(state.get("auth"), "notice", None)
                if notice and path.startswith("/api/"):
                    headers.append((b"x-ecgw-notice", notice.encode("ascii", "replace")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cookie_headers(self, token: str) -> list[tuple[bytes, bytes]]:
        carrier = Response()
        attrs = sessions.cookie_attributes(self.settings)
        if token:
            carrier.set_cookie(value=token, **attrs)
        else:
            carrier.delete_cookie(**attrs)
        return [(k, v) for k, v in carrier.raw_headers if k == b"set-cookie"]

    @staticmethod
    def _security_headers(path: str, *, secure: bool = False) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]
        if not path.startswith("/static/"):
            headers.append((b"cache-control", b"no-store"))
        headers.append((b"content-security-policy",
                        b"default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"))
        if secure:  # served over HTTPS (ECGW_COOKIE_SECURE): browsers keep to HTTPS for a year
            headers.append((b"strict-transport-security", b"max-age=31536000"))
        return headers
