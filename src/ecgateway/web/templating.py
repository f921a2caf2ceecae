"""Jinja2 templates from the project's templates/ folder, with the signed-in user in every page,
and the money filter."""

from __future__ import annotations

from decimal import Decimal

from fastapi import Request
from fastapi.templating import Jinja2Templates

from ecgateway.config import Settings
from ecgateway.obo.service import time_box
from ecgateway.web.banner import banner_for
from ecgateway.web.idle import idle_for


def make_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(settings.resource("templates")), context_processors=[_auth_context])
    templates.env.filters["money"] = money
    # The on-behalf-of session's time box, for templates/_obo_timebox.html (None unless acting).
    templates.env.globals["obo_time_box"] = lambda auth: time_box(auth.session, settings) if auth and auth.on_behalf else None
    templates.env.globals["obo_reason_setting"] = lambda: settings.obo_reason  # read per page: tests change it
    return templates


def money(value: Decimal | None, places: int = 2) -> str:
    """1234.5 -> '1,234.50'; unit prices keep up to 4 places when they have them."""
    if value is None:
        return ""
    value = Decimal(value)
    shown = max(places, min(4, -value.normalize().as_tuple().exponent))
    return f"{value:,.{shown}f}"


def _auth_context(request: Request) -> dict:
    """base.html draws the top navigation and the on-behalf-of banner from these, on every page."""
    auth = getattr(request.state, "auth", None)
    return {"auth": auth, "banner": banner_for(request, auth), "idle": idle_for(request, auth)}
