"""Wires the web layer into the app: response middleware, the one set of error handlers, every router.

Every route lives in web/: pages in web/pages/<domain>.py, the JSON API in web/api/<domain>.py.
Each router is included with the documented error answers (web/openapi_errors.py), so a new
route's OpenAPI entry lists them and their JSON shape without anything to add.
"""

from __future__ import annotations

from fastapi import FastAPI

from ecgateway.web import health
from ecgateway.web.api import access as access_api
from ecgateway.web.api import accounts as accounts_api
from ecgateway.web.api import admin as admin_api
from ecgateway.web.api import auth as auth_api
from ecgateway.web.api import commerce as commerce_api
from ecgateway.web.api import desk as desk_api
from ecgateway.web.api import lists as lists_api
from ecgateway.web.api import obo as obo_api
from ecgateway.web.api import registration as registration_api
from ecgateway.web.api import supervisor as supervisor_api
from ecgateway.web.errors import install_error_handlers
from ecgateway.web.openapi_errors import ERROR_RESPONSES
from ecgateway.web.pages import (
    access,
    accounts,
    admin,
    api_docs,
    auth,
    commerce,
    home,
    lists,
    obo,
    registration,
    supervisor,
)
from ecgateway.web.security import ResponseSecurityMiddleware

ROUTERS = (health, home, auth, accounts, obo, auth_api, accounts_api, obo_api, admin, admin_api, supervisor,
           supervisor_api, commerce, commerce_api, desk_api, access, access_api,
           lists, lists_api, api_docs, registration, registration_api)


def install_web(app: FastAPI) -> None:
    app.add_middleware(ResponseSecurityMiddleware, settings=app.state.settings)
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router, responses=ERROR_RESPONSES)
