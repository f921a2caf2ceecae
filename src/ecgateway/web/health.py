"""GET /healthz: both databases answer."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ecgateway.web.deps import RuntimeDep

router = APIRouter()


@router.get("/healthz", tags=["health"])
def healthz(runtime: RuntimeDep) -> JSONResponse:
    """200 when the JDE and portal databases both answer a query, else 503 naming the one that did not."""
    checks: dict[str, str] = {}
    for name, engine in (("jde", runtime.jde_engine), ("portal", runtime.portal_engine)):
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1" if engine.dialect.name != "oracle" else "SELECT 1 FROM dual"))
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
            checks[name] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "error", **checks}, status_code=200 if ok else 503)
