"""Attacks on sessions, CSRF, Origin checks and on-behalf-of, through the real app (TestClient).

The known failures of other impersonation features (docs/security.md) are replayed here:
impersonation started by a GET or a cross-site POST, fixation of a session id, staff
acting for staff or non-customer parties, a session flag trusted without re-checking the
right, and an on-behalf-of session that outlives the right or the sign-out.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Route

from ecgateway.accounts.restrictions import compile_filter
from ecgateway.audit.models import AuditEntry
from ecgateway.auth.models import AuthSession
from ecgateway.auth.sessions import hash_token
from ecgateway.auth.users import create_user
from ecgateway.jde.addresses import billing_addresses, shipping_addresses
from ecgateway.jde.conventions import pad
from ecgateway.jde.handle import Jde
from ecgateway.portal.models import ImpersonateRestriction, User
from web.web_env import BASE_URL, PASSWORD, csrf_of, session_cookie

# --- helpers ------------------------------------------------------------------------------

def raw_client(gw, cookie: str | None = None) -> TestClient:
    client = TestClient(gw.app, base_url=BASE_URL, follow_redirects=False, raise_server_exceptions=False)
    if cookie:
        client.cookies.set("ecgw_session", cookie)
    return client


def signed_in(gw, login: str) -> TestClient:
    client = raw_client(gw)
    r = client.post("/login", data={"login": login, "password": PASSWORD})
    assert r.status_code == 303, r.text[:300]
    return client


def issued_cookie(response) -> str | None:
    """The session id a response sets (the client may also hold an older, planted one)."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "ecgw_session":
            return rest.split(";")[0] or None
    return None


def obo_state(client: TestClient) -> dict:
    r = client.get("/api/v1/obo")
    assert r.status_code == 200, r.text
    state = r.json()
    box = state.get("time_box")
    if isinstance(box, dict):  # the time box's seconds left tick by themselves; its limit and extension do not
        state["time_box"] = {k: v for k, v in box.items() if "left" not in k and "seconds" not in k}
    return state


def new_rep(gw, login: str, *, user_type: str = "Internal_SalesRep", filter_text: str | None = None) -> int:
    with gw.portal() as db:
        user = create_user(db, login=login, name=login.title(), user_type=user_type, password=PASSWORD,
                           email=f"{login}@example.com")
        db.commit()
        gw.users[login] = user.id
    if filter_text is not None:
        gw.restrict(login, filter_text)
    return gw.users[login]


def start(client: TestClient, an8: int):
    return client.post("/obo", data={"an8": an8, "csrf_token": csrf_of(client)})


def refused_starts(gw, login: str) -> list[AuditEntry]:
    with gw.portal() as db:
        return db.scalars(sa.select(AuditEntry).where(AuditEntry.actor_login == login, AuditEntry.action == "obo.start",
                                                      AuditEntry.outcome == "refused").order_by(AuditEntry.seq)).all()


def non_customer_parties(gw) -> dict[str, int]:
    """One number of each kind of party that is never a customer account."""
    t = gw.runtime.jde
    with gw.runtime.jde_engine.connect() as jde:
        kinds = {k.strip(): v for k, v in
                 jde.execute(sa.select(t.F0101.c.abat1, sa.func.min(t.F0101.c.aban8)).group_by(t.F0101.c.abat1))}
        parents = set(jde.scalars(sa.select(t.F0150.c.mapa8)))
        supplier_parent = jde.scalar(sa.select(sa.func.min(t.F0101.c.aban8)).where(
            t.F0101.c.abat1 == pad("V", 3), t.F0101.c.aban8.in_(parents)))
        billing = billing_addresses(Jde(jde, t, gw.settings.company), account_an8=gw.accounts[0])
        shipping = shipping_addresses(Jde(jde, t, gw.settings.company), billing_an8=billing[0].an8)
        top = jde.scalar(sa.select(sa.func.max(t.F0101.c.aban8)))
    found = {
        "employee": kinds["E"], "supplier": kinds["V"], "supplier with children": supplier_parent,
        "prospect": kinds["P"], "billing address": billing[0].an8,
        "shipping address": next(s.an8 for s in shipping if s.an8 != billing[0].an8),
        "unknown number": top + 1,
    }
    assert all(v is not None for v in found.values()), found
    return found


# --- a GET never starts, changes or ends anything ---------------------------------------------

def test_get_head_and_other_methods_never_start_on_behalf_of(gw):
    client = signed_in(gw, "sales1")
    before = session_cookie(client)
    an8 = gw.allowed_for("sales1")[0]
    for method in ("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"):
        r = client.request(method, f"/obo?an8={an8}&csrf_token={csrf_of(client)}")
        # OPTIONS answers which methods there are (204 with Allow, issue 14): it acts no more than the others
        assert r.status_code == (204 if method == "OPTIONS" else 405), (method, r.status_code)
        assert "POST" in r.headers.get("allow", ""), (method, r.headers)
    for path in (f"/obo/end?an8={an8}", f"/obo/billing?billing_an8={an8}", f"/logout?an8={an8}"):
        assert client.get(path).status_code == 405, path
    assert client.get(f"/api/v1/obo?an8={an8}").json()["acting"] is False
    assert session_cookie(client) == before


def test_every_get_route_leaves_the_session_and_the_acting_context_alone(gw):
    client = signed_in(gw, "sales1")
    a, b = gw.allowed_for("sales1")[:2]
    assert start(client, a).status_code == 303
    cookie, state = session_cookie(client), obo_state(client)
    gets = sorted({rc.path for rc in iter_route_contexts(gw.app.routes)
                   if isinstance(rc.original_route, Route) and "GET" in (rc.methods or ())})
    assert len(gets) > 5
    for path in gets:
        url = (path.replace("{an8}", str(b)).replace("{rep_id}", "1").replace("{user_id}", "1")
               .replace("{change_id}", "1").replace("{order_id}", "1").replace("{token}", "x" * 20))
        if "{" in url:
            url = url.split("{")[0]
        client.get(url, params={"an8": b, "billing_an8": b, "shipping_an8": b, "next": "//evil.com"})
        assert session_cookie(client) == cookie, url
        assert obo_state(client) == state, url


# --- CSRF: the session's token, nothing else ------------------------------------------------

def test_state_changes_without_the_sessions_own_token_change_nothing(gw):
    victim = signed_in(gw, "sales1")
    other = signed_in(gw, "ar1")
    an8 = gw.allowed_for("sales1")[0]
    cookie = session_cookie(victim)
    good = csrf_of(victim)
    bad_tokens = {"none": None, "empty": "", "other session's": csrf_of(other), "wrong": "x" * 43,
                  "good with a space": good + " ", "upper-cased": good.upper() if good.upper() != good else good + "A"}
    for label, token in bad_tokens.items():
        form = {"an8": an8} if token is None else {"an8": an8, "csrf_token": token}
        assert victim.post("/obo", data=form).status_code == 403, label
        headers = {} if token is None else {"X-CSRF-Token": token}
        assert victim.post("/api/v1/obo", json={"an8": an8}, headers=headers).status_code == 403, label
        assert victim.post("/logout", data={k: v for k, v in form.items() if k == "csrf_token"}).status_code == 403, label
        assert victim.delete("/api/v1/session", headers=headers).status_code == 403, label
    # the token in the query string, in a JSON body, or a wrong header over a right form field
    assert victim.post(f"/obo?csrf_token={good}", data={"an8": an8}).status_code == 403
    assert victim.post("/api/v1/obo", json={"an8": an8, "csrf_token": good}).status_code == 403
    assert victim.post("/obo", data={"an8": an8, "csrf_token": good}, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert session_cookie(victim) == cookie and obo_state(victim)["acting"] is False


def test_the_token_of_before_a_rotation_no_longer_works(gw):
    client = signed_in(gw, "sales1")
    a, b = gw.allowed_for("sales1")[:2]
    old = csrf_of(client)
    assert client.post("/obo", data={"an8": a, "csrf_token": old}).status_code == 303
    assert client.post("/obo", data={"an8": b, "csrf_token": old}).status_code == 403
    assert client.post("/api/v1/obo", json={"an8": b}, headers={"X-CSRF-Token": old}).status_code == 403
    assert obo_state(client)["account_an8"] == a


def test_cross_site_origin_or_referer_is_refused_even_with_the_right_token(gw):
    client = signed_in(gw, "sales1")
    an8 = gw.allowed_for("sales1")[0]
    token = csrf_of(client)
    for headers in ({"Origin": "null"}, {"Origin": "http://evil.example"}, {"Origin": "http://testserver.evil.example"},
                    {"Origin": "http://testserver:8080"}, {"Origin": "https://testserver"},
                    {"Origin": "http://testserver@evil.example"},
                    {"Referer": "http://evil.example/page"}, {"Referer": "http://testserver.evil.example/"},
                    {"Referer": "https://testserver/accounts"}):
        assert client.post("/obo", data={"an8": an8, "csrf_token": token}, headers=headers).status_code == 403, headers
        assert client.post("/api/v1/obo", json={"an8": an8}, headers={**headers, "X-CSRF-Token": token}).status_code == 403
    # sign-in (exempt from the token) still gets the Origin check: no login CSRF
    anon = raw_client(gw)
    r = anon.post("/login", data={"login": "sales1", "password": PASSWORD}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and session_cookie(anon) is None
    r = anon.post("/api/v1/session", json={"login": "sales1", "password": PASSWORD}, headers={"Origin": "null"})
    assert r.status_code == 403 and session_cookie(anon) is None
    assert obo_state(client)["acting"] is False


def test_a_form_post_sent_as_text_plain_is_not_read_as_json(gw):
    client = signed_in(gw, "sales1")
    an8 = gw.allowed_for("sales1")[0]
    r = client.post("/api/v1/obo", content=f'{{"an8": {an8}}}', headers={"content-type": "text/plain",
                                                                         "X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 422
    assert obo_state(client)["acting"] is False


# --- session ids: fixation, rotation, where they are accepted -----------------------------------

def test_a_planted_session_id_is_never_adopted_at_sign_in(gw):
    attacker = signed_in(gw, "ar1")
    planted = session_cookie(attacker)
    victim = raw_client(gw, cookie=planted)  # the attacker got their own id into the victim's browser
    r = victim.post("/login", data={"login": "sales1", "password": PASSWORD})
    assert r.status_code == 303
    fresh = issued_cookie(r)
    assert fresh and fresh != planted
    # the planted id is dead (sign-in ended the session the browser had), the new one is the victim's
    assert raw_client(gw, cookie=planted).get("/api/v1/session").status_code == 401
    assert raw_client(gw, cookie=fresh).get("/api/v1/session").json()["user"]["login"] == "sales1"
    # an id the server never issued is not adopted either
    made_up = "A" * 43
    victim2 = raw_client(gw, cookie=made_up)
    r = victim2.post("/login", data={"login": "sales1", "password": PASSWORD})
    assert r.status_code == 303 and issued_cookie(r) not in (None, made_up)


def test_on_behalf_of_start_change_and_end_each_rotate_and_kill_the_old_id(gw):
    client = signed_in(gw, "sales1")
    a, b = gw.allowed_for("sales1")[:2]
    ids = [session_cookie(client)]
    assert start(client, a).status_code == 303
    ids.append(session_cookie(client))
    assert start(client, b).status_code == 303
    ids.append(session_cookie(client))
    assert client.post("/obo/end", data={"csrf_token": csrf_of(client)}).status_code == 303
    ids.append(session_cookie(client))
    assert len(set(ids)) == 4
    for old in ids[:-1]:
        assert raw_client(gw, cookie=old).get("/api/v1/obo").status_code == 401


def test_the_session_id_is_only_accepted_from_the_cookie(gw):
    client = signed_in(gw, "sales1")
    sid = session_cookie(client)
    token = csrf_of(client)
    anon = raw_client(gw)
    for headers in ({"Authorization": f"Bearer {sid}"}, {"X-Session": sid}, {"X-CSRF-Token": token},
                    {"Cookie": f"__Host-ecgw_session={sid}"}):
        assert anon.get("/api/v1/session", headers=headers).status_code == 401, headers
    assert anon.get(f"/api/v1/session?ecgw_session={sid}").status_code == 401
    assert anon.post("/api/v1/obo", json={"an8": gw.allowed_for("sales1")[0]},
                     headers={"Authorization": f"Bearer {sid}", "X-CSRF-Token": token}).status_code == 401


def test_the_database_keeps_only_a_hash_of_the_id_and_the_cookie_is_httponly_and_lax(gw):
    anon = raw_client(gw)
    r = anon.post("/login", data={"login": "sales1", "password": PASSWORD})
    cookie = r.headers["set-cookie"]
    attrs = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite"} <= attrs and "max-age" not in attrs and "expires" not in attrs
    assert "samesite=lax" in cookie.lower() or "samesite=strict" in cookie.lower()
    sid = session_cookie(anon)
    with gw.portal() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(AuthSession).where(AuthSession.token_hash == sid)) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(AuthSession)
                         .where(AuthSession.token_hash == hash_token(sid))) == 1


def test_acting_on_behalf_never_moves_the_sign_in_time(gw):
    client = signed_in(gw, "sales1")
    sid = session_cookie(client)
    with gw.portal() as db:
        created = db.scalar(sa.select(AuthSession.created_at).where(AuthSession.token_hash == hash_token(sid)))
    for an8 in gw.allowed_for("sales1")[:3]:
        assert start(client, an8).status_code == 303
    assert client.post("/obo/end", data={"csrf_token": csrf_of(client)}).status_code == 303
    with gw.portal() as db:
        after = db.scalar(sa.select(AuthSession.created_at)
                          .where(AuthSession.token_hash == hash_token(session_cookie(client))))
    assert after == created


# --- whom a rep may act for -----------------------------------------------------------------

def test_parties_that_are_not_customer_accounts_are_never_a_target_even_for_an_unrestricted_rep(gw):
    client = signed_in(gw, "cs1")  # no restriction row: every customer account
    before = len(refused_starts(gw, "cs1"))
    parties = non_customer_parties(gw)
    for kind, an8 in parties.items():
        r = start(client, an8)
        assert r.status_code == 404, (kind, an8, r.status_code)
        r = client.post("/api/v1/obo", json={"an8": an8}, headers={"X-CSRF-Token": csrf_of(client)})
        assert r.status_code == 404, (kind, an8, r.status_code)
        assert client.get(f"/accounts/{an8}").status_code == 404, kind
        assert client.get(f"/api/v1/accounts/{an8}").status_code == 404, kind
    assert obo_state(client)["acting"] is False
    assert len(refused_starts(gw, "cs1")) == before + 2 * len(parties)
    # numbers that cannot be JDE address numbers are input errors (422, the field named), before any lookup
    for kind, an8 in {"zero": 0, "negative": -1, "nine digits": 100_000_000}.items():
        r = start(client, an8)
        assert r.status_code == 422 and "The account number must be" in r.text, (kind, r.status_code)  # page words
        r = client.post("/api/v1/obo", json={"an8": an8}, headers={"X-CSRF-Token": csrf_of(client)})
        assert r.status_code == 422 and "an8" in r.json()["message"], (kind, r.status_code)
    assert obo_state(client)["acting"] is False


def test_a_restricted_rep_gets_404_for_a_real_account_outside_the_list(gw):
    client = signed_in(gw, "ar1")
    outside = [a for a in gw.accounts if a not in gw.allowed_for("ar1")]
    for an8 in outside[:3] + outside[-2:]:
        assert start(client, an8).status_code == 404
        assert client.get(f"/accounts/{an8}").status_code == 404
        assert client.get(f"/api/v1/accounts/{an8}").status_code == 404
        # a billing address choice cannot smuggle another account in either
    a = gw.allowed_for("ar1")[0]
    r = client.post("/api/v1/obo", json={"an8": a, "billing_an8": outside[0]}, headers={"X-CSRF-Token": csrf_of(client)})
    assert r.status_code == 422 and obo_state(client)["acting"] is False


def test_customers_and_admins_can_never_act_on_behalf_and_the_attempt_is_audited(gw):
    for login in ("cust1", "admin1"):
        client = signed_in(gw, login)
        before = len(refused_starts(gw, login))
        for an8 in (gw.accounts[1], gw.accounts[0]):
            assert start(client, an8).status_code == 403
            r = client.post("/api/v1/obo", json={"an8": an8}, headers={"X-CSRF-Token": csrf_of(client)})
            assert r.status_code == 403
        assert client.get("/api/v1/accounts").status_code == 403
        assert len(refused_starts(gw, login)) == before + 4
        assert obo_state(client)["acting"] is False


def test_a_customer_sees_only_their_own_account_by_url(gw):
    client = signed_in(gw, "cust1")
    own = gw.user("cust1").account_an8
    assert client.get(f"/api/v1/accounts/{own}").status_code == 200
    for an8 in [a for a in gw.accounts if a != own][:5]:
        assert client.get(f"/accounts/{an8}").status_code == 404
        assert client.get(f"/api/v1/accounts/{an8}").status_code == 404


# --- taking the right away takes effect on the next request -----------------------------------

def _acting(gw, login: str, filter_text: str | None = None) -> tuple[TestClient, int]:
    an8 = gw.accounts[5]
    new_rep(gw, login, filter_text=filter_text if filter_text is not None else f"ABAN8 IN ('{an8}', '{gw.accounts[6]}')")
    client = signed_in(gw, login)
    assert start(client, an8).status_code == 303
    assert obo_state(client)["acting"] is True
    return client, an8


def test_a_narrowed_restriction_ends_the_running_session_on_the_next_request(gw):
    client, an8 = _acting(gw, "sec_narrow")
    gw.restrict("sec_narrow", f"ABAN8 = '{gw.accounts[6]}'")
    r = client.get("/api/v1/obo")
    assert r.json()["acting"] is False and r.json()["notice"]
    assert client.get("/cart").status_code in (403, 404)  # no shopper context any more


def test_a_stored_filter_that_no_longer_compiles_fails_closed(gw):
    client, an8 = _acting(gw, "sec_broken")
    with gw.portal() as db:  # as if the policy changed after the filter was saved
        db.execute(sa.update(ImpersonateRestriction).where(ImpersonateRestriction.rep_id == gw.users["sec_broken"])
                   .values(filter_text="ABAN8 = :an8 OR 1 = 1"))
        db.commit()
    assert obo_state(client)["acting"] is False
    r = client.get("/api/v1/accounts")
    assert r.status_code == 200 and r.json()["items"] == []
    assert start(client, an8).status_code == 404


def test_an_or_typed_into_the_stored_filter_never_widens_it(gw):
    client, an8 = _acting(gw, "sec_or", filter_text=f"ABAN8 = '{gw.accounts[5]}' OR ABAT1 <> 'C'")
    listed = {a["an8"] for a in client.get("/api/v1/accounts", params={"limit": 200}).json()["items"]}
    assert listed == {an8}
    for kind, other in non_customer_parties(gw).items():
        assert start(client, other).status_code == 404, kind


def test_a_type_change_or_deactivation_made_directly_in_the_database_is_seen_on_the_next_request(gw):
    for login, change in (("sec_to_admin", {"user_type": "Admin"}), ("sec_to_customer", {"user_type": "Customer",
                                                                                          "account_an8": gw.accounts[5]}),
                          ("sec_to_ar", {"user_type": "Internal_AR"}), ("sec_inactive", {"active": False})):
        client, an8 = _acting(gw, login)
        with gw.portal() as db:  # no end_user_sessions: the per-request check alone must catch it
            db.execute(sa.update(User).where(User.id == gw.users[login]).values(**change))
            db.commit()
        if change.get("active") is False:
            assert client.get("/api/v1/session").status_code == 401, login
            continue
        state = client.get("/api/v1/session").json()["obo"]
        if change["user_type"] == "Internal_AR":  # still a rep, still allowed: the session goes on
            assert state["acting"] is True and state["account_an8"] == an8
        else:
            assert state["acting"] is False, login
            assert start(client, an8).status_code == 403, login


def test_an_account_that_stops_being_a_customer_in_jde_ends_the_session(gw):
    client, an8 = _acting(gw, "sec_jde_change")
    f0101 = gw.runtime.jde.F0101
    with gw.runtime.jde_engine.begin() as jde:
        jde.execute(sa.update(f0101).where(f0101.c.aban8 == an8).values(abat1=pad("V", 3)))
    try:
        assert obo_state(client)["acting"] is False
        assert start(client, an8).status_code == 404
    finally:
        with gw.runtime.jde_engine.begin() as jde:
            jde.execute(sa.update(f0101).where(f0101.c.aban8 == an8).values(abat1=pad("C", 3)))


def test_sign_out_ends_on_behalf_of_and_the_id_dies(gw):
    client, an8 = _acting(gw, "sec_signout")
    sid = session_cookie(client)
    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 303
    assert raw_client(gw, cookie=sid).get("/api/v1/obo").status_code == 401
    with gw.portal() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(AuthSession)
                         .where(AuthSession.user_id == gw.users["sec_signout"], AuthSession.obo_an8.is_not(None))) == 0


def test_forging_the_acting_account_in_the_session_row_is_caught_by_the_recheck(gw):
    """The session row is never trusted on its own: an account put there without start() is re-checked."""
    client, an8 = _acting(gw, "sec_forged")
    outside = next(a for a in gw.accounts if a not in (gw.accounts[5], gw.accounts[6]))
    with gw.portal() as db:
        db.execute(sa.update(AuthSession).where(AuthSession.token_hash == hash_token(session_cookie(client)))
                   .values(obo_an8=outside))
        db.commit()
    state = obo_state(client)
    assert state["acting"] is False and state["account_an8"] is None


# --- redirects and markup -------------------------------------------------------------------

def test_sign_in_never_redirects_off_the_site(gw):
    targets = ["//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example", "http:evil.example",
               "/\t/evil.example", "/\n/evil.example", "/%2F/evil.example", "/ /evil.example", " //evil.example",
               "/.//evil.example", "javascript:alert(1)", "/\x00//evil.example", "//evil.example/%2e%2e",
               "/\u3002evil.example", "///evil.example"]
    for target in targets:
        anon = raw_client(gw)
        r = anon.post("/login", data={"login": "sales1", "password": PASSWORD, "next": target})
        if "\x00" in target:  # refused before anything else: no sign-in, no redirect
            assert r.status_code == 400 and "location" not in r.headers
            continue
        assert r.status_code == 303, target
        location = r.headers["location"]
        assert location.startswith("/") and not location.startswith("//") and "\\" not in location, (target, location)
        assert "\t" not in location and "\n" not in location and "\x00" not in location
        r = anon.get("/login", params={"next": target})  # signed in now: GET /login redirects too
        location = r.headers.get("location", "/")
        assert location.startswith("/") and not location.startswith("//") and "\\" not in location, (target, location)


def test_account_names_and_search_text_are_escaped_everywhere(gw):
    an8 = gw.accounts[0]
    f0101 = gw.runtime.jde.F0101
    evil = "<script>alert(1)</script>O'Brien"
    with gw.runtime.jde_engine.begin() as jde:
        old = jde.scalar(sa.select(f0101.c.abalph).where(f0101.c.aban8 == an8))
        jde.execute(sa.update(f0101).where(f0101.c.aban8 == an8).values(abalph=pad(evil, 40)))
    try:
        client = signed_in(gw, "cs1")
        payload = "\"'><script>alert(2)</script><img src=x onerror=alert(3)>"
        pages = [client.get("/accounts"), client.get(f"/accounts/{an8}"),
                 client.get("/accounts", params={"q": payload}), client.get("/accounts", params={"sort": payload}),
                 client.get("/accounts", params={"cursor": payload}), client.get("/nothing/" + payload)]
        assert start(client, an8).status_code == 303
        pages.append(client.get("/account"))  # the banner carries the name too
        for page in pages:
            assert "<script>alert" not in page.text and "<img src=x" not in page.text, page.url
        assert "O&#39;Brien" in pages[0].text or "O&#x27;Brien" in pages[0].text
        assert "text/html" in pages[0].headers["content-type"]
        assert "default-src 'self'" in pages[0].headers["content-security-policy"]
        anon = raw_client(gw)
        r = anon.post("/login", data={"login": payload, "password": "x"})
        assert "<script>alert" not in r.text
    finally:
        with gw.runtime.jde_engine.begin() as jde:
            jde.execute(sa.update(f0101).where(f0101.c.aban8 == an8).values(abalph=old))


def test_the_json_api_answers_json_with_nosniff(gw):
    client = signed_in(gw, "cs1")
    r = client.get("/api/v1/accounts", params={"q": "<script>alert(1)</script>"})
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"


def test_sort_keys_and_cursors_from_the_request_are_checked(gw):
    client = signed_in(gw, "ar1")
    for sort in ("ABAN8", "name; DROP TABLE users", "name DESC", "1"):
        assert client.get("/api/v1/accounts", params={"sort": sort}).status_code == 422
        page = client.get("/accounts", params={"sort": sort})
        assert page.status_code == 200 and "not offered" in page.text
    assert client.get("/api/v1/accounts", params={"cursor": "not-a-cursor"}).status_code == 422
    listed = {a["an8"] for a in client.get("/api/v1/accounts", params={"q": "%", "limit": 200}).json()["items"]}
    assert listed <= set(gw.allowed_for("ar1"))


def test_compiled_filters_are_never_shared_between_texts(gw):
    """Two reps whose filters differ only in a value never get each other's statement or params."""
    a, b = gw.accounts[10], gw.accounts[11]
    new_rep(gw, "sec_cache_a", filter_text=f"ABAN8 = '{a}'")
    new_rep(gw, "sec_cache_b", filter_text=f"ABAN8 = '{b}'")
    ca, cb = signed_in(gw, "sec_cache_a"), signed_in(gw, "sec_cache_b")
    for _ in range(2):
        assert [x["an8"] for x in ca.get("/api/v1/accounts").json()["items"]] == [a]
        assert [x["an8"] for x in cb.get("/api/v1/accounts").json()["items"]] == [b]
    assert compile_filter(f"ABAN8 = '{a}'", dialect="sqlite").params != compile_filter(f"ABAN8 = '{b}'",
                                                                                      dialect="sqlite").params


# --- timeouts while acting --------------------------------------------------------------------

def _age_session(gw, client: TestClient, **minutes_ago: int) -> None:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    values = {column: now - dt.timedelta(minutes=m) for column, m in minutes_ago.items()}
    with gw.portal() as db:
        db.execute(sa.update(AuthSession).where(AuthSession.token_hash == hash_token(session_cookie(client)))
                   .values(**values))
        db.commit()


def test_idle_and_absolute_timeouts_end_a_session_that_is_acting_on_behalf(gw):
    idle, absolute = gw.settings.session_idle_minutes, gw.settings.session_absolute_minutes
    for login, ages in (("sec_idle", {"last_seen_at": idle + 1}),
                        ("sec_absolute", {"created_at": absolute + 1, "last_seen_at": 0, "rotated_at": 0})):
        client, an8 = _acting(gw, login)
        # a fresh on-behalf-of start just before does not help: the sign-in time decides
        assert start(client, an8).status_code == 303
        sid = session_cookie(client)
        _age_session(gw, client, **ages)
        r = client.get("/api/v1/obo")
        assert r.status_code == 401, (login, r.status_code)
        assert raw_client(gw, cookie=sid).get("/account").status_code in (303, 401)
        with gw.portal() as db:
            assert db.scalar(sa.select(sa.func.count()).select_from(AuthSession)
                             .where(AuthSession.user_id == gw.users[login])) == 0


def test_addresses_of_another_account_can_never_be_chosen(gw):
    """Customer or rep: billing and shipping choices come only from the effective account's own lists."""
    t = gw.runtime.jde
    own = gw.user("cust1").account_an8
    other = next(a for a in gw.accounts if a != own)
    with gw.runtime.jde_engine.connect() as jde:
        other_billing = billing_addresses(Jde(jde, t, gw.settings.company), account_an8=other)[0].an8
        other_ship = shipping_addresses(Jde(jde, t, gw.settings.company), billing_an8=other_billing)[0].an8
    customer = signed_in(gw, "cust1")
    rep = signed_in(gw, "cs1")
    assert start(rep, own).status_code == 303
    for client in (customer, rep):
        before = obo_state(client)
        token = csrf_of(client)
        for body in ({"billing_an8": other_billing}, {"shipping_an8": other_ship}, {"billing_an8": other},
                     {"shipping_an8": other_billing}, {"billing_an8": gw.employee_an8}):
            r = client.post("/api/v1/obo/addresses", json=body, headers={"X-CSRF-Token": token})
            assert r.status_code == 422, (body, r.status_code)
        assert client.post("/obo/billing", data={"billing_an8": other_billing, "csrf_token": token}).status_code == 422
        assert client.post("/obo/shipping", data={"shipping_an8": other_ship, "csrf_token": token}).status_code == 422
        after = obo_state(client)
        assert (after["billing_an8"], after["shipping_an8"], after["account_an8"]) == \
            (before["billing_an8"], before["shipping_an8"], before["account_an8"])


def test_markup_typed_by_anonymous_users_is_escaped_on_the_admin_transaction_log(gw):
    """A failed sign-in writes the typed login into the audit log, which admins read."""
    payload = "<img src=x onerror=alert(1)>"
    anon = raw_client(gw)
    assert anon.post("/login", data={"login": payload, "password": "x"}).status_code == 401
    admin = signed_in(gw, "admin1")
    for params in ({}, {"action": "auth"}, {"rep": payload}):
        page = admin.get("/admin/audit", params=params)
        assert page.status_code == 200, params
        assert "<img src=x" not in page.text, params
    assert "&lt;img src=x" in admin.get("/admin/audit", params={"action": "auth"}).text
    csv = admin.get("/admin/audit.csv", params={"action": "auth"})
    assert csv.status_code == 200 and "text/csv" in csv.headers["content-type"]
    api = admin.get("/api/v1/admin/audit", params={"action": "auth"})
    assert api.headers["content-type"].startswith("application/json")
