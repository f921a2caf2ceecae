"""Jinja2 templates from the project's templates/ folder, with the signed-in user in every page."""

from __future__ import annotations

from fastapi import Request
from fastapi.templating import Jinja2Templates

from ecgateway.config import Settings


def make_templates(settings: Settings) -> Jinja2Templates:
    return Jinja2Templates(directory=str(settings.resource("templates")), context_processors=[_auth_context])


def _auth_context(request: Request) -> dict:
    """base.html draws the top navigation and the on-behalf-of banner from these, on every page."""
    from ecgateway.web.banner import banner_for

    auth = getattr(request.state, "auth", None)
    return {"auth": auth, "banner": banner_for(request, auth)}
