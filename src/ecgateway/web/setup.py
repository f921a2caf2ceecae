"""Wires the web layer into the app: response middleware, error handlers, the routers."""

from __future__ import annotations

from fastapi import FastAPI

from ecgateway.web import api_v1, auth_pages, rep_pages
from ecgateway.web.errors import install_error_handlers
from ecgateway.web.security import ResponseSecurityMiddleware


def install_web(app: FastAPI) -> None:
    app.add_middleware(ResponseSecurityMiddleware, settings=app.state.settings)
    install_error_handlers(app)
    for module in (auth_pages, rep_pages, api_v1):
        app.include_router(module.router)
