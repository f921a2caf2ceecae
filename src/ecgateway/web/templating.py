"""Jinja2 templates from the project's templates/ folder, with the signed-in user in every page,
the header's cart count, and the number filters: amount (the currency's decimals),
unit_price (JDE's implied decimals of UPRC, always all of them) and unpriced (a missing price
in a rep's words)."""

from __future__ import annotations

import logging
from decimal import Decimal

from fastapi import Request
from fastapi.templating import Jinja2Templates

from ecgateway.commerce.carts import MAX_QUANTITY, line_count
from ecgateway.config import Settings
from ecgateway.obo.service import time_box
from ecgateway.web.banner import banner_for
from ecgateway.web.idle import idle_for

log = logging.getLogger(__name__)

# Minor units of ISO 4217 (the decimals JDE's F0013 CVCDEC holds for them); every other currency has 2.
CURRENCY_DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def make_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(settings.resource("templates")), context_processors=[_auth_context])
    price_places = int(settings.decimals.get("UPRC", 4))
    templates.env.filters["amount"] = amount
    templates.env.filters["unit_price"] = lambda value: "" if value is None else f"{Decimal(value):,.{price_places}f}"
    templates.env.filters["unpriced"] = unpriced
    templates.env.globals["max_quantity"] = MAX_QUANTITY
    # The on-behalf-of session's time box, for templates/_obo_timebox.html (None unless acting).
    templates.env.globals["obo_time_box"] = lambda auth: time_box(auth.session, settings) if auth and auth.on_behalf else None
    templates.env.globals["obo_reason_setting"] = lambda: settings.obo_reason  # read per page: tests change it
    return templates


def amount(value: Decimal | None, currency: str | None = None) -> str:
    """An amount with its currency's decimals: 1974.089 USD -> '1,974.09', 1974 JPY -> '1,974'."""
    if value is None:
        return ""
    places = CURRENCY_DECIMALS.get((currency or "").strip().upper(), 2)
    return f"{Decimal(value):,.{places}f}"


def unpriced(source: str | None) -> str:
    """Why a line has no price, in a rep's words; the ERP's technical reason goes to the log."""
    reason = (source or "").strip()
    if reason:
        log.info("line without a price: %s", reason)
    if reason.startswith("not priced"):
        return "not priced just now"
    if reason.lower().startswith("no f4106 price"):
        return ("No price is set up in JD Edwards for this item for this customer today, so it cannot be ordered. "
                "Ask the pricing team to add one.")
    return ("JD Edwards cannot price this item for this customer, so it cannot be ordered just now. "
            "The pricing team can see the reason in the gateway's log.")


def _auth_context(request: Request) -> dict:
    """base.html draws the top navigation and the on-behalf-of banner from these, on every page."""
    auth = getattr(request.state, "auth", None)
    return {"auth": auth, "banner": banner_for(request, auth), "idle": idle_for(request, auth),
            "cart_count": lambda: _cart_count(request, auth)}


def _cart_count(request: Request, auth) -> int | None:
    """Lines in the acting context's own cart, read only when the header draws it; None without an account."""
    ctx = getattr(auth, "context", None)
    if ctx is None or ctx.subject_an8 is None:
        return None
    from ecgateway.web.deps import request_session

    with request_session(request) as db:
        return line_count(db, ctx=ctx)
