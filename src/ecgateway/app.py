"""The FastAPI application factory."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from ecgateway import __version__
from ecgateway.config import Settings, get_settings
from ecgateway.runtime import Runtime
from ecgateway.web import wiring
from ecgateway.web.deps import SignedInAuth
from ecgateway.web.security import request_guard
from ecgateway.web.setup import install_web
from ecgateway.web.templating import make_templates


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the gateway for settings (or the environment's), reusing runtime when given."""
    settings = settings or (runtime.settings if runtime else get_settings())
    runtime = runtime or Runtime.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        with wiring.running(_app):  # the outbox relay runs while the server does
            yield
        runtime.dispose()

    # request_guard runs before every route: deny by default, Origin check, CSRF (web/security.py).
    # No docs pages: FastAPI's load their scripts from a CDN, and FastAPI's own routes would skip
    # the guard. The schema is served below, to signed-in users only.
    app = FastAPI(title="ecgateway", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=[Depends(request_guard)])
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.templates = make_templates(settings)
    wiring.install(app, runtime)
    app.mount("/static", StaticFiles(directory=str(settings.resource("static"))), name="static")
    install_web(app)  # security headers, error handlers, every page and /api/v1 route (web/pages, web/api)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_schema(_auth: SignedInAuth) -> JSONResponse:
        """The API's OpenAPI schema, for signed-in users (it lists every route and field)."""
        return JSONResponse(app.openapi())

    return app
