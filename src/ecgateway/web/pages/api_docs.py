"""The API documentation page (/api/docs), drawn by the gateway itself from its OpenAPI document.

FastAPI's Swagger UI and ReDoc pages load their scripts and fonts from a CDN; this page needs no
script and serves nothing from outside. Signed-in users only, as /api/openapi.json.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ecgateway import __version__
from ecgateway.web.deps import SignedInAuth
from ecgateway.web.responses import render

router = APIRouter(include_in_schema=False)

METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request, _auth: SignedInAuth):
    doc = request.app.openapi()
    schemas = doc.get("components", {}).get("schemas", {})
    tags: dict[str, list[dict]] = {}
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            tags.setdefault((op.get("tags") or ["other"])[0], []).append(_operation(method, path, op, schemas))
    return render(request, "api_docs.html", {
        "version": doc.get("info", {}).get("version", __version__),
        "tags": [{"name": name, "id": _slug(name), "ops": ops} for name, ops in tags.items()],
    })


def _operation(method: str, path: str, op: dict, schemas: dict) -> dict:
    body_ref = (op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref"))
    body = body_ref.rsplit("/", 1)[-1] if body_ref else None
    return {
        "id": _slug(f"{method}-{path}"), "method": method.upper(), "path": path,
        "summary": op.get("summary", ""), "description": op.get("description", ""),
        "params": [{"name": p["name"], "where": p.get("in", ""), "required": p.get("required", False),
                    "type": _type(p.get("schema", {})), "description": p.get("description", "")}
                   for p in op.get("parameters", [])],
        "body": body, "body_fields": list(schemas.get(body, {}).get("properties", {})) if body else [],
        "responses": [(code, r.get("description", "")) for code, r in op.get("responses", {}).items()],
    }


def _type(schema: dict) -> str:
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    return schema.get("type", "")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
