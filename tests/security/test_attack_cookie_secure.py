"""Behind HTTPS (cookie_secure): the session cookie is __Host-, Secure, HttpOnly, SameSite; the
plain name is then ignored, so a cookie planted over HTTP or from a sibling host is never used."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ecgateway.app import create_app
from ecgateway.config import Settings
from ecgateway.runtime import Runtime
from web.web_env import PASSWORD


def https_client(gw, tmp_path) -> tuple[TestClient, Runtime]:
    settings = Settings(data_dir=tmp_path, jde_url=gw.settings.jde_database_url, jde_schema=gw.settings.jde_schema,
                        portal_url=gw.settings.portal_database_url, secret_key="t" * 48, cookie_secure=True)
    runtime = Runtime.from_settings(settings)
    app = create_app(settings, runtime)
    return TestClient(app, base_url="https://testserver", follow_redirects=False), runtime


def test_secure_cookie_has_the_host_prefix_and_every_flag(gw, tmp_path):
    client, runtime = https_client(gw, tmp_path)
    try:
        r = client.post("/login", data={"login": "sales1", "password": PASSWORD})
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        name = cookie.split("=", 1)[0]
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert name == "__Host-ecgw_session"
        assert {"httponly", "secure", "path=/"} <= flags and "samesite=lax" in flags
        assert not any(f.startswith("domain") for f in flags)  # __Host- forbids a Domain attribute
        sid = client.cookies.get("__Host-ecgw_session")
        assert client.get("/api/v1/session").json()["user"]["login"] == "sales1"
        # the same id under the plain name (as a sibling host or plain HTTP could plant it) is not read
        plain = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
        plain.cookies.set("ecgw_session", sid)
        assert plain.get("/api/v1/session").status_code == 401
        # the Origin check follows the scheme: an http:// page of the same host is another site
        token = client.get("/api/v1/session").json()["csrf_token"]
        r = client.post("/api/v1/obo", json={"an8": gw.allowed_for("sales1")[0]},
                        headers={"X-CSRF-Token": token, "Origin": "http://testserver"})
        assert r.status_code == 403
    finally:
        runtime.dispose()
