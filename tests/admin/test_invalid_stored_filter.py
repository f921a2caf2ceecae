"""A filter stored in EC_Impersonate_Restrictions that no longer compiles (the table predates
the gateway; the parser got stricter) fails closed for that rep, is shown as invalid on the
Assign page with its error and can be corrected there, and breaks no page for other reps."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ecgateway.auth.users import create_user
from ecgateway.portal.models import ImpersonateRestriction, User
from web.web_env import PASSWORD, csrf_of

STORED = {
    "huge1": "ABAN8 IN ('4242', " + "9" * 4301 + ")",  # over Python's int() limit: a 500 for everyone before
    "nonascii1": "aıco = '00000'",                      # read as AICO by the old parser
}


@pytest.fixture(scope="module")
def broken(gw):
    """Two reps whose stored rows no longer compile, written straight into the table as other tools do."""
    ids = {}
    with gw.portal() as db:
        for login, text in STORED.items():
            rep = create_user(db, login=login, name=login.title(), user_type="Internal_SalesRep", password=PASSWORD)
            db.add(ImpersonateRestriction(rep_id=rep.id, filter_text=text, changed_by="legacy tool"))
            ids[login] = rep.id
        db.commit()
    return ids


def _token(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


@pytest.mark.parametrize("login", list(STORED))
def test_the_rep_sees_no_account_and_is_told_where_it_is_corrected(gw, broken, login):
    rep = gw.client(login)
    page = rep.get("/accounts")
    assert page.status_code == 200, page.text[:300]
    assert "your restriction can no longer be used" in page.text
    assert "Assign Customers to Representatives" in page.text and f"/admin/restrictions/{broken[login]}" in page.text
    api = rep.get("/api/v1/accounts")
    assert api.status_code == 200 and api.json()["items"] == []
    assert "Assign Customers to Representatives" in api.json()["notice"]
    started = rep.post("/api/v1/obo", json={"an8": gw.accounts[0]}, headers={"X-CSRF-Token": csrf_of(rep)})
    assert started.status_code in (403, 404), started.text[:300]


def test_other_reps_lists_are_untouched(gw, broken):
    rep = gw.client("sales1")
    api = rep.get("/api/v1/accounts", params={"limit": 200})
    assert api.status_code == 200 and [a["an8"] for a in api.json()["items"]] == gw.allowed_for("sales1")
    assert rep.get("/accounts").status_code == 200


def test_the_assign_page_and_the_api_show_it_as_invalid_and_count_the_others(gw, broken):
    admin = gw.client("admin1")
    for params in ({}, {"counts": "true"}):
        page = admin.get("/admin/restrictions", params=params)
        assert page.status_code == 200, page.text[:300]
        assert page.text.count("data-invalid") == 2
        assert "ABAN8 has at most 8 digits" in page.text and "is not allowed outside quotes" in page.text
        assert f'href="/admin/restrictions/{broken["huge1"]}" aria-label="Correct the filter of huge1"' in page.text
    rows = {r["login"]: r for r in admin.get("/api/v1/admin/restrictions").json()}
    assert rows["huge1"]["valid"] is False and rows["huge1"]["account_count"] == 0
    assert rows["nonascii1"]["valid"] is False and "(line 1, col 2)" in rows["nonascii1"]["reason"]
    assert rows["sales1"]["valid"] is True and rows["sales1"]["account_count"] == len(gw.allowed_for("sales1"))
    one = admin.get(f"/api/v1/admin/restrictions/{broken['huge1']}")
    assert one.status_code == 200 and one.json()["valid"] is False
    assert admin.get("/api/v1/admin/restrictions/export").status_code == 200


def test_the_editor_opens_it_with_the_error_and_saves_the_correction(gw, broken):
    admin = gw.client("admin1")
    rep_id = broken["huge1"]
    page = admin.get(f"/admin/restrictions/{rep_id}")
    assert page.status_code == 200, page.text[:300]
    assert "The saved filter no longer compiles" in page.text and "ABAN8 has at most 8 digits" in page.text
    assert "9" * 4301 in page.text, "the stored text is in the editor, to be corrected"
    token = _token(page.text)
    picked = admin.post(f"/admin/restrictions/{rep_id}/pick", data={
        "csrf_token": token, "filter_text": STORED["huge1"], "an8": [gw.accounts[0]], "mode": "add"})
    assert picked.status_code == 200, picked.text[:300]  # the invalid text is ORed, never merged as numbers
    fixed = admin.post(f"/admin/restrictions/{rep_id}", data={
        "csrf_token": token, "source": "editor", "filter_text": f"ABAN8 IN ('{gw.accounts[0]}')"})
    assert fixed.status_code == 200 and "Saved." in fixed.text
    api = gw.client("huge1").get("/api/v1/accounts")
    assert [a["an8"] for a in api.json()["items"]] == [gw.accounts[0]] and api.json()["notice"] is None
    with gw.portal() as db:
        assert db.scalar(sa.select(User.login).where(User.id == rep_id)) == "huge1"


HOSTILE = ["ABAN8 IN ('4242', " + "9" * 4301 + ")", "ABAN8\x0b= 4242", "ABAN8(+) = 4242", "UCASE(ABALPH) = 'A'"]


def test_every_admin_route_that_takes_a_filter_refuses_with_the_position(gw, broken):
    """The 9 admin routes that take filter text: a refusal naming line and column (the account search
    only carries the text along), never a 500."""
    admin = gw.client("admin1")
    rep_id = gw.users["cs1"]
    page_token = _token(admin.get(f"/admin/restrictions/{rep_id}").text)
    api = {"X-CSRF-Token": csrf_of(admin)}
    for text in HOSTILE:
        answers = {
            "validate": admin.post("/api/v1/admin/restrictions/validate", json={"filter_text": text}, headers=api),
            "preview": admin.post("/api/v1/admin/restrictions/preview", json={"filter_text": text}, headers=api),
            "compose": admin.post("/api/v1/admin/restrictions/compose", json={"current": text, "an8": [gw.accounts[0]]},
                                  headers=api),
            "save": admin.put(f"/api/v1/admin/restrictions/{rep_id}", json={"filter_text": text}, headers=api),
            "import": admin.post("/api/v1/admin/restrictions/import", content=f'rep_login,filter_text\ncs1,"{text}"\n',
                                 headers={**api, "Content-Type": "text/csv"}),
        }
        for form_route in ("preview", "search", "pick", ""):
            path = f"/admin/restrictions/{rep_id}" + (f"/{form_route}" if form_route else "")
            answers[f"page {form_route or 'save'}"] = admin.post(path, data={
                "csrf_token": page_token, "filter_text": text, "source": "editor", "an8": [gw.accounts[0]]})
        for name, r in answers.items():
            assert r.status_code in (200, 422), (name, text[:30], r.status_code, r.text[:300])
            if name == "page search":  # an account search: the filter text is carried along, not checked
                continue
            assert re.search(r"line 1, col(umn)? \d+|\"line\": ?1|Line 1, column \d+", r.text), (name, text[:30], r.text[:400])
    with gw.portal() as db:
        assert db.scalar(sa.select(ImpersonateRestriction.filter_text)
                         .where(ImpersonateRestriction.rep_id == rep_id)) is None, "nothing was saved"
