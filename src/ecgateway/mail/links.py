"""Single-purpose, expiring signed links, for e-mails (open a list, choose a password, ...).

A token is `<payload>.<signature>`: the payload (base64url JSON) holds the purpose, the subject
(e.g. "list:12" or a user id) and the expiry; the signature is an HMAC-SHA256 under a key derived
from the gateway's secret and the purpose, so a token made for one purpose never passes as
another's, and any change to it is refused. Tokens carry no session id and no password; a link
that must work once only is also recorded by its caller (e.g. admin's set-password tokens).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re

from ecgateway.clock import utcnow
from ecgateway.errors import GatewayError

_PURPOSE = re.compile(r"[a-z][a-z0-9_.-]{0,39}")


class LinkInvalid(GatewayError):
    """A link that was altered, made for something else, or has expired."""

    status = 400


def sign_link(secret: str, *, purpose: str, subject: str, expires_in: dt.timedelta) -> str:
    """A token for `subject` that `check_link` accepts for `purpose` until now + expires_in."""
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"link purpose {purpose!r}: lower-case letters, digits, . _ -")
    expires = int((utcnow() + expires_in).timestamp())
    payload = _b64(json.dumps({"p": purpose, "s": subject, "e": expires}, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, purpose, payload)}"


def check_link(secret: str, token: str, *, purpose: str) -> str:
    """The subject of a token signed for `purpose` and not expired; LinkInvalid otherwise."""
    payload, _, signature = (token or "").partition(".")
    if not payload or not signature or len(token) > 600:
        raise LinkInvalid("This link is not complete. Open it again from the e-mail, or sign in and go to the page.")
    if not hmac.compare_digest(signature, _signature(secret, purpose, payload)):
        raise LinkInvalid("This link is not valid here. Open it again from the e-mail, or sign in and go to the page.")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if data.get("p") != purpose:  # cannot happen with a good signature; kept as a second lock
        raise LinkInvalid("This link is for something else.")
    if utcnow().timestamp() >= int(data["e"]):
        raise LinkInvalid("This link has expired. Sign in and go to the page, or ask for a new e-mail.", status=410)
    return str(data["s"])


def _signature(secret: str, purpose: str, payload: str) -> str:
    key = hmac.new(secret.encode(), f"ecgw-link:{purpose}".encode(), hashlib.sha256).digest()
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def link_url(path: str, token: str, *, public_url: str | None, request_base: str | None = None) -> str:
    """The absolute address an e-mail carries: ECGW_PUBLIC_URL (else the request's own base) + path?t=token."""
    base = (public_url or request_base or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/{path.lstrip('/')}?t={token}"
