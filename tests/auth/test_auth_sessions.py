"""Sessions, cookies, CSRF, Origin, throttling, timeouts, sign-out, deny by default."""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from fastapi.testclient import TestClient

from ecgateway.app import create_app
from ecgateway.audit.models import AuditEntry
from ecgateway.auth.models import AuthSession
from ecgateway.auth.throttle import MAX_PER_LOGIN
from ecgateway.auth.users import create_user
from ecgateway.portal.models import User
from web.web_env import BASE_URL, PASSWORD, api_client, session_cookie


def audit_rows(gw, **where) -> list[AuditEntry]:
    with gw.portal() as db:
        stmt = sa.select(AuditEntry).order_by(AuditEntry.seq)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return db.scalars(stmt).all()


def stale_client(gw, cookie: str) -> TestClient:
    client = TestClient(gw.app, base_url=BASE_URL, follow_redirects=False)
    client.cookies.set("ecgw_session", cookie)
    return client


def shift_session(gw, cookie: str, **minutes_back) -> None:
    """Move a session's timestamps into the past, as if time had passed."""
    with gw.portal() as db:
        row = db.scalar(sa.select(AuthSession).where(AuthSession.token_hash == hashlib.sha256(cookie.encode()).hexdigest()))
        now = dt.datetime.now(dt.UTC)
        for column, minutes in minutes_back.items():
            setattr(row, column, now - dt.timedelta(minutes=minutes))
        db.commit()


def test_sign_in_rotates_the_session_id_and_the_old_one_is_rejected(gw):
    client = gw.client("ar1")
    first = session_cookie(client)
    r = client.post("/login", data={"login": "sales1", "password": PASSWORD})  # signing in again, as someone else
    assert r.status_code == 303
    second = session_cookie(client)
    assert first and second and first != second
    assert stale_client(gw, first).get("/api/v1/session").status_code == 401
    me = stale_client(gw, second).get("/api/v1/session")
    assert me.status_code == 200 and me.json()["user"]["login"] == "sales1"


def test_sign_in_is_audited_without_secrets(gw):
    before = len(audit_rows(gw, action="auth.sign_in", outcome="ok", actor_user_id=gw.users["cs1"]))
    client = gw.client("cs1")
    entries = audit_rows(gw, action="auth.sign_in", outcome="ok", actor_user_id=gw.users["cs1"])
    assert len(entries) == before + 1
    last = entries[-1]
    assert last.actor_login == "cs1" and last.object == "login cs1"
    cookie = session_cookie(client)
    assert cookie not in last.detail and PASSWORD not in last.detail


def test_database_holds_a_hash_of_the_session_id_never_the_id(gw):
    client = gw.client("ar1")
    cookie = session_cookie(client)
    with gw.portal() as db:
        rows = db.scalars(sa.select(AuthSession)).all()
    assert any(r.token_hash == hashlib.sha256(cookie.encode()).hexdigest() for r in rows)
    for row in rows:
        assert cookie not in (row.token_hash, row.csrf_token)


def test_cookie_flags_plain_http_and_behind_https(gw):
    r = gw.client().post("/login", data={"login": "ar1", "password": PASSWORD})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("ecgw_session=")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
    assert "max-age" not in lowered and "expires" not in lowered  # a browser-session cookie: closing the browser ends it
    secure_app = create_app(gw.settings.model_copy(update={"cookie_secure": True}), gw.runtime)
    r = TestClient(secure_app, base_url="https://testserver", follow_redirects=False).post(
        "/login", data={"login": "ar1", "password": PASSWORD})
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-ecgw_session=") and "secure" in cookie.lower() and "domain" not in cookie.lower()


def test_post_without_csrf_token_changes_nothing(gw):
    client, token = api_client(gw, "sales1")
    an8 = gw.accounts[0]
    starts_before = len(audit_rows(gw, action="obo.start"))
    attempts = [
        client.post("/obo", data={"an8": an8}),  # form without the token
        client.post("/obo", data={"an8": an8, "csrf_token": "forged"}),  # wrong token
        client.post("/api/v1/obo", json={"an8": an8}),  # JSON without the header
        client.post("/api/v1/obo", json={"an8": an8}, headers={"X-CSRF-Token": token[:-2] + "xx"}),
        client.delete("/api/v1/session"),  # sign-out needs it too
    ]
    for r in attempts:
        assert r.status_code == 403, r.text
    assert "security token" in attempts[0].text
    assert attempts[2].json()["message"].startswith("The security token")
    state = client.get("/api/v1/obo").json()
    assert state["acting"] is False and state["csrf_token"] == token  # still signed in, nothing rotated
    assert len(audit_rows(gw, action="obo.start")) == starts_before
    ok = client.post("/api/v1/obo", json={"an8": an8}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["acting"] is True


def test_cross_site_origin_is_refused_even_with_the_token(gw):
    client, token = api_client(gw, "sales1")
    an8 = gw.accounts[0]
    r = client.post("/api/v1/obo", json={"an8": an8}, headers={"X-CSRF-Token": token, "Origin": "https://evil.example"})
    assert r.status_code == 403 and "another site" in r.json()["message"]
    r = client.post("/obo", data={"an8": an8, "csrf_token": token}, headers={"Referer": "https://evil.example/page"})
    assert r.status_code == 403
    r = gw.client().post("/login", data={"login": "ar1", "password": PASSWORD}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403  # login CSRF: the sign-in form checks Origin too
    r = client.post("/api/v1/obo", json={"an8": an8}, headers={"X-CSRF-Token": token, "Origin": BASE_URL})
    assert r.status_code == 200


def test_get_never_starts_on_behalf_of(gw):
    client = gw.client("sales1")
    an8 = gw.accounts[0]
    assert client.get(f"/obo?an8={an8}").status_code == 405
    assert client.get(f"/obo/end?an8={an8}").status_code == 405
    assert client.get(f"/api/v1/obo?an8={an8}").json()["acting"] is False
    page = client.get(f"/accounts/{an8}")
    assert page.status_code == 200 and "Acting on behalf of" not in page.text
    assert client.get("/api/v1/obo").json()["acting"] is False


def test_failed_sign_ins_are_throttled_and_audited(gw):
    with gw.portal() as db:
        create_user(db, login="throttle1", name="Throttle", user_type="Internal_AR", password=PASSWORD)
        db.commit()
    client = gw.client()
    for _ in range(MAX_PER_LOGIN):
        r = client.post("/login", data={"login": "throttle1", "password": "Hunter2-guess"})
        assert r.status_code == 401 and "login or password is not right" in r.text
    r = client.post("/api/v1/session", json={"login": "throttle1", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in r.json()["message"]
    refused = audit_rows(gw, action="auth.sign_in", outcome="refused", object="login throttle1")
    assert len(refused) == MAX_PER_LOGIN + 1
    assert "Hunter2" not in "".join(e.detail + e.object for e in refused)  # no password in the log
    other = gw.client("ar1")  # other logins are not affected
    assert other.get("/api/v1/session").status_code == 200


def test_unknown_login_and_wrong_password_get_the_same_answer(gw):
    a = gw.client().post("/api/v1/session", json={"login": "nobody-here", "password": "x"})
    b = gw.client().post("/api/v1/session", json={"login": "cs1", "password": "x"})
    assert a.status_code == b.status_code == 401
    assert a.json()["message"] == b.json()["message"]


def test_idle_timeout_ends_the_session(gw):
    client = gw.client("ar1")
    shift_session(gw, session_cookie(client), last_seen_at=gw.settings.session_idle_minutes + 1)
    r = client.get("/api/v1/session")
    assert r.status_code == 401
    assert "without activity" in r.headers["x-ecgw-notice"]
    assert client.get("/api/v1/session").status_code == 401  # the expired row is gone, not revived


def test_acting_on_behalf_never_extends_the_absolute_timeout(gw):
    client, token = api_client(gw, "sales1")
    limit = gw.settings.session_absolute_minutes
    shift_session(gw, session_cookie(client), created_at=limit - 1)
    with gw.portal() as db:
        started = db.scalar(sa.select(AuthSession.created_at).where(
            AuthSession.token_hash == hashlib.sha256(session_cookie(client).encode()).hexdigest()))
    r = client.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200
    with gw.portal() as db:
        row = db.scalar(sa.select(AuthSession).where(
            AuthSession.token_hash == hashlib.sha256(session_cookie(client).encode()).hexdigest()))
        assert row.created_at == started  # the new id keeps the sign-in time
    shift_session(gw, session_cookie(client), created_at=limit + 1)
    assert client.get("/api/v1/obo").status_code == 401
    page = client.get("/account")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_sign_out_ends_the_session_and_on_behalf_of(gw):
    client, token = api_client(gw, "cs1")
    r = client.post("/api/v1/obo", json={"an8": gw.accounts[2]}, headers={"X-CSRF-Token": token})
    token = r.json()["csrf_token"]
    cookie = session_cookie(client)
    r = client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert 'ecgw_session=""' in r.headers["set-cookie"] or "max-age=0" in r.headers["set-cookie"].lower()
    assert stale_client(gw, cookie).get("/api/v1/obo").status_code == 401
    cs1 = gw.users["cs1"]
    ends = [e for e in audit_rows(gw, action="obo.end", actor_user_id=cs1) if '"sign-out"' in e.detail]
    assert ends and ends[-1].subject_an8 == gw.accounts[2]
    assert audit_rows(gw, action="auth.sign_out", actor_user_id=cs1)


def test_api_sign_out(gw):
    client, token = api_client(gw, "ar1")
    r = client.delete("/api/v1/session", headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json() == {"signed_out": True}
    assert client.get("/api/v1/session").status_code == 401


def test_deactivated_user_is_signed_out_on_the_next_request(gw):
    with gw.portal() as db:
        create_user(db, login="leaver1", name="Leaver", user_type="Internal_SalesRep", password=PASSWORD)
        db.commit()
    client, _ = api_client(gw, "leaver1")
    with gw.portal() as db:
        db.scalar(sa.select(User).where(User.login == "leaver1")).active = False
        db.commit()
    r = client.get("/api/v1/session")
    assert r.status_code == 401


def test_sign_in_redirects_only_within_the_site(gw):
    for target, expected in (("/account", "/account"), ("//evil.example/x", "/accounts"),
                             ("https://evil.example/", "/accounts"), ("/\\evil.example", "/accounts")):
        r = gw.client().post("/login", data={"login": "ar1", "password": PASSWORD, "next": target})
        assert r.headers["location"] == expected, target


def test_route_without_an_access_rule_is_refused(gw):
    app = create_app(gw.settings, gw.runtime)

    @app.get("/forgotten")
    def forgotten() -> dict:
        return {"secret": "data"}

    r = TestClient(app, base_url=BASE_URL).get("/forgotten")
    assert r.status_code == 403 and "deny by default" in r.text


def test_errors_are_json_with_a_message_under_the_api(gw):
    client, _ = api_client(gw, "ar1")
    r = client.get("/api/v1/accounts?sort=colour")
    assert r.status_code == 422 and "sort 'colour' is not one of" in r.json()["message"]
    r = client.get("/api/v1/accounts?cursor=garbage")
    assert r.status_code == 422 and r.json()["message"]
    r = gw.client().get("/api/v1/accounts")
    assert r.status_code == 401 and r.json() == {"status": 401, "message": r.json()["message"]}
    r = client.post("/api/v1/obo", json={"an8": "abc"}, headers={"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]})
    assert r.status_code == 422 and "an8" in r.json()["message"]


def test_security_headers(gw):
    r = gw.client("ar1").get("/accounts")
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_abandoned_sessions_are_purged_at_the_next_sign_in(gw):
    abandoned = session_cookie(gw.client("ar1"))
    shift_session(gw, abandoned, last_seen_at=gw.settings.session_idle_minutes + 5)
    gw.client("sales1")
    with gw.portal() as db:
        left = db.scalar(sa.select(sa.func.count()).select_from(AuthSession).where(
            AuthSession.token_hash == hashlib.sha256(abandoned.encode()).hexdigest()))
    assert left == 0


def _obo_ends(gw, login: str, reason: str) -> list[AuditEntry]:
    return [e for e in audit_rows(gw, action="obo.end", actor_user_id=gw.users[login]) if f'"{reason}"' in e.detail]


def _acting(gw, login: str, an8: int):
    client, token = api_client(gw, login)
    r = client.post("/api/v1/obo", json={"an8": an8}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["acting"] is True
    return client


def test_every_way_a_session_ends_audits_the_end_of_on_behalf_of(gw):
    """An on-behalf-of session never ends silently: timeouts, purge, a new sign-in in the same
    browser and deactivation each write obo.end with the account and why."""
    an8 = gw.accounts[3]
    # idle timeout, noticed on the next request
    before = len(_obo_ends(gw, "sales1", "idle timeout"))
    client = _acting(gw, "sales1", an8)
    shift_session(gw, session_cookie(client), last_seen_at=gw.settings.session_idle_minutes + 1)
    assert client.get("/api/v1/obo").status_code == 401
    ends = _obo_ends(gw, "sales1", "idle timeout")
    assert len(ends) == before + 1 and ends[-1].subject_an8 == an8
    # absolute limit
    before = len(_obo_ends(gw, "sales1", "session limit"))
    client = _acting(gw, "sales1", an8)
    shift_session(gw, session_cookie(client), created_at=gw.settings.session_absolute_minutes + 1)
    assert client.get("/api/v1/obo").status_code == 401
    assert len(_obo_ends(gw, "sales1", "session limit")) == before + 1
    # abandoned (the browser never comes back): purged at someone's next sign-in
    before = len(_obo_ends(gw, "cs1", "session expired"))
    client = _acting(gw, "cs1", an8)
    shift_session(gw, session_cookie(client), last_seen_at=gw.settings.session_idle_minutes + 5)
    gw.client("ar1")
    ends = _obo_ends(gw, "cs1", "session expired")
    assert len(ends) == before + 1 and ends[-1].subject_an8 == an8
    # signing in again in the same browser ends the session it had
    before = len(_obo_ends(gw, "sales1", "signed in again"))
    client = _acting(gw, "sales1", an8)
    assert client.post("/login", data={"login": "ar1", "password": PASSWORD}).status_code == 303
    assert len(_obo_ends(gw, "sales1", "signed in again")) == before + 1


def test_deactivation_audits_the_end_of_on_behalf_of(gw):
    with gw.portal() as db:
        user = create_user(db, login="leaver2", name="Leaver Two", user_type="Internal_SalesRep", password=PASSWORD)
        db.commit()
        gw.users["leaver2"] = user.id
    client = _acting(gw, "leaver2", gw.accounts[1])
    with gw.portal() as db:
        db.scalar(sa.select(User).where(User.login == "leaver2")).active = False
        db.commit()
    assert client.get("/api/v1/session").status_code == 401
    ends = _obo_ends(gw, "leaver2", "user deactivated")
    assert len(ends) == 1 and ends[0].subject_an8 == gw.accounts[1]


def test_configured_public_url_is_the_only_origin_accepted(gw):
    """Behind a proxy the Host header is whatever the client sent: with ECGW_PUBLIC_URL set, a form
    posted from a site that also forged Host is refused, and the real address is accepted."""
    app = create_app(gw.settings.model_copy(update={"public_url": "https://portal.example.com"}), gw.runtime)
    client = TestClient(app, base_url="http://evil.example", follow_redirects=False)
    forged = client.post("/login", data={"login": "ar1", "password": PASSWORD},
                         headers={"Origin": "http://evil.example", "Host": "evil.example"})
    assert forged.status_code == 403 and "another site" in forged.text
    real = client.post("/login", data={"login": "ar1", "password": PASSWORD},
                       headers={"Origin": "https://PORTAL.example.com"})
    assert real.status_code == 303


def test_https_deployment_sends_strict_transport_security(gw):
    plain = gw.client("ar1").get("/accounts")
    assert "strict-transport-security" not in plain.headers
    secure_app = create_app(gw.settings.model_copy(update={"cookie_secure": True}), gw.runtime)
    r = TestClient(secure_app, base_url="https://testserver", follow_redirects=False).get("/login")
    assert r.status_code == 200 and r.headers["strict-transport-security"] == "max-age=31536000"


def test_serve_warns_before_exposing_plain_cookies_or_a_trusted_host(gw):
    from ecgateway.cli import exposure_warnings

    assert exposure_warnings(gw.settings, "127.0.0.1") == []
    warned = exposure_warnings(gw.settings, "0.0.0.0")
    assert len(warned) == 2 and "ECGW_COOKIE_SECURE" in warned[0] and "ECGW_PUBLIC_URL" in warned[1]
    ready = gw.settings.model_copy(update={"cookie_secure": True, "public_url": "https://portal.example.com"})
    assert exposure_warnings(ready, "0.0.0.0") == []


def test_a_burst_of_concurrent_guesses_gets_no_more_tries_than_the_limit(gw):
    """Each attempt is noted (and committed) before its password is checked, so attempts that
    arrive together count each other: at most MAX_PER_LOGIN passwords are ever checked."""
    import threading

    with gw.portal() as db:
        create_user(db, login="burst1", name="Burst", user_type="Internal_AR", password=PASSWORD)
        db.commit()
    guesses = 16
    barrier = threading.Barrier(guesses)
    statuses: list[int] = []

    def guess(n: int) -> None:
        client = gw.client()
        barrier.wait()
        statuses.append(client.post("/api/v1/session", json={"login": "burst1", "password": f"guess-{n}"}).status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(statuses) == guesses and set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= MAX_PER_LOGIN, statuses
    checked = [e for e in audit_rows(gw, action="auth.sign_in", outcome="refused", object="login burst1")
               if '"throttled"' not in e.detail]
    assert len(checked) == statuses.count(401)
