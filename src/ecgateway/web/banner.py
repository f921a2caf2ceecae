"""The on-behalf-of banner's text: drawn by base.html on every page while a rep acts."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ecgateway.jde.addresses import Address, postal_addresses


@dataclass(frozen=True)
class Banner:
    account_an8: int
    account_name: str
    billing: Address | None
    shipping: Address | None


def banner_for(request: Request, auth) -> Banner | None:
    if auth is None or not auth.on_behalf:
        return None
    cached = getattr(request.state, "banner", None)
    if cached is not None:
        return cached
    ctx = auth.context
    runtime = request.app.state.runtime
    numbers = [n for n in (ctx.subject_an8, ctx.billing_an8, ctx.shipping_an8) if n is not None]
    with runtime.reading_jde() as jde:
        found = postal_addresses(jde, an8s=numbers)
    account = found.get(ctx.subject_an8)
    banner = Banner(
        account_an8=ctx.subject_an8,
        account_name=account.name if account else f"account {ctx.subject_an8}",
        billing=found.get(ctx.billing_an8) if ctx.billing_an8 else None,
        shipping=found.get(ctx.shipping_an8) if ctx.shipping_an8 else None,
    )
    request.state.banner = banner
    return banner
