"""The admin console over HTTP: pages and /api/v1/admin with real sessions, CSRF and both databases."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute, iter_route_contexts

from ecgateway.audit.models import AuditEntry
from ecgateway.auth.models import AuthSession
from ecgateway.portal.models import User
from web.web_env import PASSWORD, csrf_of

NON_ADMINS = ("ar1", "sales1", "cs1", "cust1")


def _token(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def _admin_routes(gw) -> list[tuple[str, str]]:
    found = []
    for rc in iter_route_contexts(gw.app.routes):
        if isinstance(rc.original_route, APIRoute) and rc.path.startswith(("/admin", "/api/v1/admin")):
            found.extend((method, rc.path) for method in sorted(rc.methods or ()))
    return found


def _fill(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "1", path)


def test_every_admin_route_refuses_non_admins(gw):
    routes = _admin_routes(gw)
    assert len(routes) >= 30, routes
    anonymous = gw.client()
    for login in NON_ADMINS:
        client = gw.client(login)
        headers = {"X-CSRF-Token": csrf_of(client)}
        for method, path in routes:
            r = client.request(method, _fill(path), headers=headers)
            assert r.status_code == 403, (login, method, path, r.status_code, r.text[:200])
            assert "Only administrators" in r.text
    for method, path in routes:
        r = anonymous.request(method, _fill(path))
        assert r.status_code in (401, 303), (method, path, r.status_code)
    # and an acting rep: still not an admin
    rep = gw.client("sales1")
    token = csrf_of(rep)
    token = rep.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers={"X-CSRF-Token": token}).json()["csrf_token"]
    for method, path in routes:
        assert rep.request(method, _fill(path), headers={"X-CSRF-Token": token}).status_code == 403


def test_admin_posts_need_the_csrf_token(gw):
    admin = gw.client("admin1")
    rep_id = gw.users["ar1"]
    r = admin.post(f"/admin/restrictions/{rep_id}", data={"filter_text": "ABAC01 = 'NTH'", "source": "editor"})
    assert r.status_code == 403 and "security token" in r.text
    r = admin.put(f"/api/v1/admin/restrictions/{rep_id}", json={"filter_text": "ABAC01 = 'NTH'"})
    assert r.status_code == 403
    with gw.portal() as db:
        assert db.scalar(sa.text("SELECT filter_text FROM ec_impersonate_restrictions WHERE rep_id = :r"),
                         {"r": rep_id}) != "ABAC01 = 'NTH'"


def test_filter_saved_through_the_page_is_the_reps_list_and_preview_count_matches(gw):
    admin, rep = gw.client("admin1"), gw.client("ar1")
    rep_id = gw.users["ar1"]
    page = admin.get(f"/admin/restrictions/{rep_id}")
    assert page.status_code == 200 and "Accounts Ar1 Tester may serve" in page.text
    token = _token(page.text)
    wanted = gw.accounts[3:9]
    text = "ABAN8 IN (" + ",".join(f"'{n}'" for n in wanted) + ")"
    preview = admin.post("/api/v1/admin/restrictions/preview", json={"filter_text": text, "limit": 200},
                         headers={"X-CSRF-Token": token})
    assert preview.status_code == 200, preview.text
    assert preview.json()["count"] == len(wanted)
    # a refused filter: the page says where, nothing is saved
    bad = admin.post(f"/admin/restrictions/{rep_id}", data={"filter_text": "ABAN8 IN ('1001',", "source": "editor",
                                                            "csrf_token": token})
    assert bad.status_code == 422 and "Not saved: the filter is refused at line 1, column" in bad.text
    saved = admin.post(f"/admin/restrictions/{rep_id}", data={"filter_text": text, "source": "editor",
                                                              "csrf_token": token})
    assert saved.status_code == 200 and "Saved." in saved.text, saved.text[:500]
    listed = rep.get("/api/v1/accounts", params={"limit": 200}).json()
    assert [a["an8"] for a in listed["items"]] == wanted
    # a category filter: preview count == the rep's real list, whatever the data
    text = "ABAC01 IN ('NTH','STH') OR ABAC03 = 'GOV'"
    count = admin.post("/api/v1/admin/restrictions/preview", json={"filter_text": text},
                       headers={"X-CSRF-Token": token}).json()["count"]
    assert admin.post(f"/admin/restrictions/{rep_id}", data={"filter_text": text, "source": "editor",
                                                             "csrf_token": token}).status_code == 200
    items = rep.get("/api/v1/accounts", params={"limit": 200}).json()["items"]
    assert count == len(items) > 0
    listing = admin.get("/api/v1/admin/restrictions").json()
    assert next(r for r in listing if r["rep_id"] == rep_id)["account_count"] == count


def test_narrowed_filter_ends_a_running_on_behalf_of_session(gw):
    admin, rep = gw.client("admin1"), gw.client("sales1")
    rep_id = gw.users["sales1"]
    allowed = gw.allowed_for("sales1")
    token = csrf_of(rep)
    started = rep.post("/api/v1/obo", json={"an8": allowed[5]}, headers={"X-CSRF-Token": token})
    assert started.status_code == 200 and started.json()["acting"] is True
    narrowed = "ABAN8 IN (" + ",".join(f"'{n}'" for n in allowed[:2]) + ")"
    r = admin.put(f"/api/v1/admin/restrictions/{rep_id}", json={"filter_text": narrowed},
                  headers={"X-CSRF-Token": csrf_of(admin)})
    assert r.status_code == 200 and r.json()["changed"] is True and r.json()["restriction"]["account_count"] == 2
    state = rep.get("/api/v1/obo")  # the rep's very next request
    assert state.status_code == 200
    body = state.json()
    assert body["acting"] is False and "no longer in your list" in body["notice"]
    with gw.portal() as db:
        ended = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "obo.end",
                                                       AuditEntry.actor_user_id == rep_id)
                           .order_by(AuditEntry.seq.desc())).first()
        assert ended is not None and ended.subject_an8 == allowed[5]
    # an account still inside works; the one outside is refused
    token = csrf_of(rep)
    assert rep.post("/api/v1/obo", json={"an8": allowed[5]}, headers={"X-CSRF-Token": token}).status_code in (403, 404)
    # restore for the other tests
    gw.restrict("sales1", "ABAN8 IN (" + ",".join(f"'{n}'" for n in allowed) + ")")


def test_validate_history_and_revert_through_the_api(gw):
    admin = gw.client("admin1")
    headers = {"X-CSRF-Token": csrf_of(admin)}
    check = admin.post("/api/v1/admin/restrictions/validate",
                       json={"filter_text": "ABAC01 = 'NTH'\nAND ABAN8 IN (SELECT 1)"}, headers=headers).json()
    assert check["ok"] is False and check["line"] == 2 and check["col"] >= 1 and check["message"]
    rep_id = gw.users["cs1"]
    first = admin.put(f"/api/v1/admin/restrictions/{rep_id}", json={"filter_text": "ABAC01 = 'NTH'"}, headers=headers)
    second = admin.put(f"/api/v1/admin/restrictions/{rep_id}", json={"filter_text": "ABAC01 = 'EST'"}, headers=headers)
    assert first.status_code == second.status_code == 200
    refused = admin.put(f"/api/v1/admin/restrictions/{rep_id}", json={"filter_text": "ABAC01 = "}, headers=headers)
    assert refused.status_code == 422 and refused.json()["field"] == "filter_text" and "line 1" in refused.json()["message"]
    history = admin.get("/api/v1/admin/restrictions/history", params={"rep_id": rep_id}).json()
    assert [(h["old_filter"], h["new_filter"]) for h in history][:2] == [("ABAC01 = 'NTH'", "ABAC01 = 'EST'"),
                                                                        (None, "ABAC01 = 'NTH'")]
    assert all(h["changed_by"] == "admin1" for h in history)
    # revert through the page, then back to no filter through the API
    page = admin.get(f"/admin/restrictions/{rep_id}")
    assert "ABAC01 = &#39;EST&#39;" in page.text and "Revert" in page.text
    r = admin.post(f"/admin/restrictions/history/{history[0]['id']}/revert", data={"csrf_token": _token(page.text)})
    assert r.status_code == 200 and "Reverted" in r.text
    assert admin.get(f"/api/v1/admin/restrictions/{rep_id}").json()["filter_text"] == "ABAC01 = 'NTH'"
    back = admin.post(f"/api/v1/admin/restrictions/history/{history[1]['id']}/revert", headers=headers)
    assert back.status_code == 200 and back.json()["new_filter"] is None
    assert admin.get(f"/api/v1/admin/restrictions/{rep_id}").json()["kind"] == "all"


def test_point_and_click_through_the_page(gw):
    admin = gw.client("admin1")
    rep_id = gw.users["ar1"]
    token = _token(admin.get(f"/admin/restrictions/{rep_id}").text)
    found = admin.post(f"/admin/restrictions/{rep_id}/search",
                       data={"csrf_token": token, "filter_text": "", "aq": str(gw.accounts[10])})
    assert found.status_code == 200 and f'name="an8" value="{gw.accounts[10]}"' in found.text
    picked = admin.post(f"/admin/restrictions/{rep_id}/pick",
                        data={"csrf_token": token, "filter_text": f"ABAN8 IN ('{gw.accounts[0]}')",
                              "an8": [str(gw.accounts[10]), str(gw.accounts[11])], "mode": "add"})
    assert picked.status_code == 200
    expected = f"ABAN8 IN (&#39;{gw.accounts[0]}&#39;, &#39;{gw.accounts[10]}&#39;, &#39;{gw.accounts[11]}&#39;)"
    assert expected in picked.text and "3 accounts with this filter" in picked.text
    assert 'name="source" value="point-and-click"' in picked.text
    none = admin.post(f"/admin/restrictions/{rep_id}/pick", data={"csrf_token": token, "filter_text": "", "aq": ""})
    assert none.status_code == 400 and "tick at least one account" in none.text
    composed = admin.post("/api/v1/admin/restrictions/compose", json={"current": "ABAC01 = 'NTH'", "an8": [1001]},
                          headers={"X-CSRF-Token": token}).json()
    assert composed == {"filter_text": "(ABAC01 = 'NTH') OR ABAN8 IN ('1001')",
                        "check": {"ok": True, "message": "", "line": None, "col": None, "fragment": ""}}
    accounts = admin.get("/api/v1/admin/accounts", params={"q": str(gw.accounts[10])}).json()
    assert accounts[0]["an8"] == gw.accounts[10]


def test_create_user_link_and_set_password_pages(gw):
    admin = gw.client("admin1")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "admin1" in page.text
    r = admin.post("/admin/users", data={"csrf_token": _token(page.text), "login": "newbie1", "name": "New Bie",
                                         "email": "newbie@example.com", "user_type": "Internal_CustomerService"})
    assert r.status_code == 200, r.text[:500]
    link = re.search(r'id="link" value="([^"]+)"', r.text).group(1)
    assert link.startswith("http://testserver/set-password#"), "the token rides in the fragment: never sent, never logged"
    token = link.split("#", 1)[1]
    visitor = gw.client()
    form = visitor.get("/set-password")
    assert form.status_code == 200 and 'name="token"' in form.text and "admin/set_password.js" in form.text
    short = visitor.post("/set-password", data={"token": token, "password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 12" in short.text
    assert f'value="{token}"' in short.text, "the code stays in the form after a mistake"
    wrong = visitor.post("/set-password", data={"token": "x" + token, "password": "a long new password",
                                                "confirm": "a long new password"})
    assert wrong.status_code == 404 and "not valid" in wrong.text
    done = visitor.post("/set-password", data={"token": token, "password": "a long new password",
                                               "confirm": "a long new password"})
    assert done.status_code == 200 and "Your password is set, newbie1" in done.text
    again = visitor.post("/set-password", data={"token": token, "password": "a long new password",
                                                "confirm": "a long new password"})
    assert again.status_code == 410 and "already used" in again.text
    signed = gw.client()
    assert signed.post("/login", data={"login": "newbie1", "password": "a long new password"}).status_code == 303
    with gw.portal() as db:
        assert db.scalar(sa.select(User.password_hash).where(User.login == "newbie1")).startswith("$argon2id$")


def test_dual_role_is_refused_on_the_page_and_api(gw):
    admin = gw.client("admin1")
    token = _token(admin.get("/admin/users").text)
    data = {"csrf_token": token, "login": "ar1admin", "name": "Other", "email": "ar1@example.com", "user_type": "Admin"}
    for acknowledged in ({}, {"acknowledge_dual_role": "true"}):
        refused = admin.post("/admin/users", data={**data, **acknowledged})
        assert refused.status_code == 409 and "one person may not be both Admin and a rep" in refused.text
        assert "acknowledge_dual_role" not in refused.text, "nothing to click through"
    r = admin.post("/api/v1/admin/users", json={"login": "ar1admin", "email": "AR1@example.com", "user_type": "Admin",
                                                "acknowledge_dual_role": True}, headers={"X-CSRF-Token": token})
    assert r.status_code == 409 and r.json()["conflicts"] == ["ar1"] and r.json()["field"] == "user_type"
    with gw.portal() as db:
        assert db.scalar(sa.select(User.id).where(User.login == "ar1admin")) is None


def test_type_change_and_deactivation_end_sessions_through_the_pages(gw):
    admin = gw.client("admin1")
    with gw.portal() as db:
        from ecgateway.auth.users import create_user

        user = create_user(db, login="shortlived", name="Short Lived", user_type="Internal_AR", password=PASSWORD)
        db.commit()
        user_id = user.id
    victim = gw.client("shortlived")
    assert victim.get("/api/v1/session").status_code == 200
    page = admin.get(f"/admin/users/{user_id}")
    token = _token(page.text)
    r = admin.post(f"/admin/users/{user_id}/type", data={"csrf_token": token, "user_type": "Internal_SalesRep"})
    assert r.status_code == 200 and "their 1 session(s) ended" in r.text
    assert victim.get("/api/v1/session").status_code == 401
    victim = gw.client("shortlived")
    r = admin.post(f"/admin/users/{user_id}/active", data={"csrf_token": token, "active": "false"})
    assert r.status_code == 200 and "deactivated" in r.text
    assert victim.get("/api/v1/session").status_code == 401
    with gw.portal() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(AuthSession).where(AuthSession.user_id == user_id)) == 0
    assert gw.client().post("/login", data={"login": "shortlived", "password": PASSWORD}).status_code == 401
    api = admin.patch(f"/api/v1/admin/users/{user_id}", json={"active": True}, headers={"X-CSRF-Token": token})
    assert api.status_code == 200 and api.json()["user"]["active"] is True


def test_transaction_log_page_api_and_csv(gw):
    admin, rep = gw.client("admin1"), gw.client("ar1")
    gw.restrict("ar1", "ABAN8 IN (" + ",".join(f"'{n}'" for n in gw.allowed_for("ar1")) + ")")
    token = csrf_of(rep)
    an8 = gw.allowed_for("ar1")[0]
    assert rep.post("/api/v1/obo", json={"an8": an8}, headers={"X-CSRF-Token": token}).status_code == 200
    page = admin.get("/admin/audit", params={"rep": "ar1", "action": "obo.start"})
    assert page.status_code == 200
    assert f"Impersonation starts: ar1 starts acting on behalf of account {an8}" in page.text
    assert 'aria-sort="descending"' in page.text
    api = admin.get("/api/v1/admin/audit", params={"account": an8, "sort": "rep", "direction": "asc"}).json()
    assert api["total"] >= 1 and all(i["account"] == an8 for i in api["items"])
    bad = admin.get("/api/v1/admin/audit", params={"date_from": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["message"]
    exported = admin.get("/admin/audit.csv", params={"rep": "ar1"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows and {r["csr"] for r in rows} == {"ar1"}
    assert admin.get("/admin/orders/5/audit").headers["location"] == "/admin/audit?order=5&sort=date&direction=asc"
    assert admin.get("/api/v1/admin/audit.csv").status_code == 200


def test_openapi_documents_the_admin_api(gw):
    spec = gw.client("admin1").get("/api/openapi.json").json()
    paths = {p for p in spec["paths"] if p.startswith("/api/v1/admin/")}
    for expected in ("/api/v1/admin/users", "/api/v1/admin/users/{user_id}", "/api/v1/admin/restrictions",
                     "/api/v1/admin/restrictions/preview", "/api/v1/admin/restrictions/validate",
                     "/api/v1/admin/restrictions/history", "/api/v1/admin/audit", "/api/v1/admin/audit.csv"):
        assert expected in paths
    preview = spec["paths"]["/api/v1/admin/restrictions/preview"]["post"]
    assert preview["tags"] == ["admin"] and "X-CSRF-Token" in preview["description"]
    assert not any(p.startswith("/admin") for p in spec["paths"]), "pages stay out of the API document"


@pytest.mark.parametrize("path", ["/admin", "/admin/users", "/admin/restrictions", "/admin/audit"])
def test_admin_pages_render(gw, path):
    r = gw.client("admin1").get(path)
    assert r.status_code == 200 and 'aria-label="Administration"' in r.text


def test_assign_page_counts_on_the_server_or_after_it_shows(gw):
    admin = gw.client("admin1")
    gw.restrict("sales1", "ABAN8 IN (" + ",".join(f"'{n}'" for n in gw.allowed_for("sales1")) + ")")
    lazy = admin.get("/admin/restrictions")
    assert lazy.status_code == 200 and "data-pending" in lazy.text and "admin/assign.js" in lazy.text
    full = admin.get("/admin/restrictions", params={"counts": "true"})
    row = re.search(r'data-rep="sales1".*?<td class="num" data-count\s*>(\d+)</td>', full.text, re.S)
    assert row and int(row.group(1)) == len(gw.allowed_for("sales1"))
    assert "data-pending" not in full.text
    # what the script fetches for each distinct filter
    one = admin.get(f"/api/v1/admin/restrictions/{gw.users['sales1']}").json()
    assert one["account_count"] == len(gw.allowed_for("sales1")) and one["kind"] == "filter"


def test_a_customer_user_must_belong_to_a_customer_account(gw):
    """A Customer login for an employee, a supplier, a ship-to or a number JDE does not have is
    refused with the field named (page, API and type change); a real account is accepted."""
    f0101 = gw.runtime.jde.F0101
    with gw.runtime.jde_engine.connect() as jde:
        employee = jde.scalar(sa.select(f0101.c.aban8).where(f0101.c.abat1 == "E").limit(1))
        not_accounts = [employee, max(gw.accounts) + 50_000]
        customer = jde.scalar(sa.select(f0101.c.aban8).where(f0101.c.aban8 == gw.accounts[-1]))
    assert employee is not None and customer == gw.accounts[-1]
    admin = gw.client("admin1")
    token = _token(admin.get("/admin/users").text)
    for n, an8 in enumerate(not_accounts):
        page = admin.post("/admin/users", data={"csrf_token": token, "login": f"cust_bad{n}", "name": "Bad",
                                                "user_type": "Customer", "account_an8": str(an8)})
        assert page.status_code == 400 and "is not a customer account in JDE" in page.text
        assert f'value="cust_bad{n}"' in page.text, "what was typed stays in the form"
        api = admin.post("/api/v1/admin/users", json={"login": f"cust_bad{n}", "user_type": "Customer",
                                                      "account_an8": an8}, headers={"X-CSRF-Token": token})
        assert api.status_code == 400 and api.json()["field"] == "account_an8", api.text
    with gw.portal() as db:
        assert not db.scalar(sa.select(sa.func.count()).select_from(User).where(User.login.like("cust_bad%")))
    ok = admin.post("/api/v1/admin/users", json={"login": "cust_good", "user_type": "Customer", "account_an8": customer},
                    headers={"X-CSRF-Token": token})
    assert ok.status_code == 201, ok.text
    user_id = ok.json()["user"]["id"]
    moved = admin.patch(f"/api/v1/admin/users/{user_id}", json={"user_type": "Customer", "account_an8": employee},
                        headers={"X-CSRF-Token": token})
    assert moved.status_code == 400 and "not a customer account" in moved.json()["message"]


def test_the_point_and_click_search_goes_through_the_search_index_once_it_is_built(gw, monkeypatch):
    """Issue 19: the admin's account search (API and editor) used the JDE search that reads every
    account; with the index built it is the picker's: relevance order, accents ignored."""
    from ecgateway.accounts import all_scope, list_accounts

    with gw.runtime.jde_reader.connect() as jde:
        gw.runtime.search.rebuild(jde, wwa=gw.runtime.accounts)
    calls = []
    search = gw.runtime.search.search
    monkeypatch.setattr(gw.runtime.search, "search", lambda *a, **k: calls.append(k["q"]) or search(*a, **k))
    admin = gw.client("admin1")
    found = admin.get("/api/v1/admin/accounts", params={"q": "a", "limit": 25}).json()
    with gw.runtime.jde_reader.connect() as jde:
        want = list_accounts(jde, wwa=gw.runtime.accounts, scope=all_scope(gw.runtime.accounts), q="a", limit=25,
                             index=gw.runtime.search)
    assert [a["an8"] for a in found] == [a.an8 for a in want.items] and found
    page = admin.get("/admin/restrictions")
    rep_id = gw.users["ar1"]
    token = _token(page.text)
    r = admin.post(f"/admin/restrictions/{rep_id}/search", data={"csrf_token": token, "filter_text": "", "aq": "a"})
    assert r.status_code == 200 and f'value="{found[0]["an8"]}"' in r.text
    assert calls == ["a", "a", "a"]  # the API, the reference list above, the editor's search
