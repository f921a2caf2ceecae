"""The FastAPI application factory."""

from __future__ import annotations

import gc
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

# The cyclic garbage collector's youngest generation is collected every 700 allocations by default, and
# every tenth of those collections takes the next generation too: a page that reads tens of thousands of
# rows (the supervisor's 366-day view: the accounts figure sums some 68,700 roll-up rows) pays for several
# such collections, up to a full one over everything the process holds, and they showed as its p95.
# Measured at 1,000,000 audit entries on an idle machine, 20 requests each: the 366-day view's p95 went
# from 334 to 241 ms on SQLite and from 427 to 220 ms on PostgreSQL (bench/RESULTS-supervisor.md, runs 7
# and 8). Most objects are freed by reference counting at once; only cycles wait for the collector.
GC_THRESHOLDS = (20_000, 20, 100)


def tune_gc() -> None:
    """Collect the youngest generation less often (GC_THRESHOLDS), unless it is already rarer."""
    if gc.get_threshold()[0] < GC_THRESHOLDS[0]:
        gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the gateway for settings (or the environment's), reusing runtime when given."""
    tune_gc()
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
