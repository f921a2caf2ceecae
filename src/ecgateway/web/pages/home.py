"""HTML pages: the home page (the rep's and customer's pages are in rep_pages, sign-in in auth_pages)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ecgateway.web.deps import OptionalAuth

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, auth: OptionalAuth) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, "home.html", {})
