"""The FastAPI application factory."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ecgateway import __version__
from ecgateway.config import Settings, get_settings
from ecgateway.runtime import Runtime
from ecgateway.web import health, pages
from ecgateway.web.templating import make_templates


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the gateway for settings (or the environment's), reusing runtime when given."""
    settings = settings or (runtime.settings if runtime else get_settings())
    runtime = runtime or Runtime.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        runtime.dispose()

    app = FastAPI(title="ecgateway", version=__version__, lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.templates = make_templates(settings)
    app.mount("/static", StaticFiles(directory=str(settings.resource("static"))), name="static")
    app.include_router(health.router)
    app.include_router(pages.router)
    return app
