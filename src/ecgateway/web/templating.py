"""Jinja2 templates from the project's templates/ folder."""

from __future__ import annotations

from fastapi.templating import Jinja2Templates

from ecgateway.config import Settings


def make_templates(settings: Settings) -> Jinja2Templates:
    return Jinja2Templates(directory=str(settings.resource("templates")))
