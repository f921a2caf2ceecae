"""Dependencies shared by routers: the runtime, a portal session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ecgateway.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_portal_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    with runtime.portal_sessions() as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
PortalSessionDep = Annotated[Session, Depends(get_portal_session)]
