"""Assign Customers to Representatives: preview = the rep's real list, history and revert, point-and-click."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin.admin_support import context_of, make_user
from ecgateway.accounts import count_accounts, list_accounts, rep_scope
from ecgateway.admin import restrictions as r
from ecgateway.admin.users import AdminError
from ecgateway.audit.models import AuditEntry
from ecgateway.portal.models import User


@pytest.fixture(scope="module")
def admin(admin_env):
    return make_user(admin_env, "Admin")


def _rep_list(env, rep_id: int) -> list[int]:
    """The rep's own list, exactly as the rep's pages get it (rep_scope on every request)."""
    with env.portal() as s, env.jde_engine.connect() as jde:
        rep = s.get(User, rep_id)
        scope = rep_scope(s, rep=rep, wwa=env.wwa)
        page = list_accounts(jde, wwa=env.wwa, scope=scope, limit=200)
        assert count_accounts(jde, wwa=env.wwa, scope=scope) == len(page.items)
        return [a.an8 for a in page.items]


@pytest.mark.parametrize(
    ("text", "ok", "line", "col"),
    [
        ("", True, None, None),
        ("ABAN8 IN ('4242','1003')", True, None, None),
        ("ABAC01 = 'NTH' AND NOT ABAC03 IN ('GOV')", True, None, None),
        ("ABAN8 IN (SELECT ABAN8 FROM F0101)", False, 1, None),
        ("ABAC01 = 'NTH'\n  AND PASSWORD = 'x'", False, 2, None),
        ("ABAN8 = ", False, 1, None),
    ],
)
def test_check_filter_gives_the_position(text, ok, line, col):
    check = r.check_filter(text)
    assert check.ok is ok, check
    if not ok:
        assert check.line == line and check.col and check.message, check
        assert check.as_dict()["line"] == line


def test_preview_count_equals_the_reps_real_list_after_saving(admin_env, admin):
    rep = make_user(admin_env, "Internal_SalesRep")
    picked = admin_env.an8s[2:7]
    text = r.an8_filter("", picked)
    assert text == "ABAN8 IN (" + ", ".join(f"'{n}'" for n in picked) + ")"
    with admin_env.jde_engine.connect() as jde:
        preview = r.preview(jde, wwa=admin_env.wwa, filter_text=text, limit=3)
    assert preview.check.ok and preview.count == 5 and [a.an8 for a in preview.accounts] == picked[:3]
    with admin_env.portal() as s:
        change = r.save_restriction(s, ctx=context_of(admin), rep=s.get(User, rep.id), filter_text=text)
        s.commit()
        assert change.old_filter is None and change.new_filter == text and change.changed_by == admin.login
    assert _rep_list(admin_env, rep.id) == picked
    # a category filter: the preview count is the count of the rep's list, whatever the data
    with admin_env.jde_engine.connect() as jde:
        preview = r.preview(jde, wwa=admin_env.wwa, filter_text="ABAC01 IN ('NTH','EST')")
    with admin_env.portal() as s:
        r.save_restriction(s, ctx=context_of(admin), rep=s.get(User, rep.id), filter_text="ABAC01 IN ('NTH','EST')")
        s.commit()
    assert preview.count == len(_rep_list(admin_env, rep.id)) > 0


def test_refused_filter_is_not_saved_and_says_where(admin_env, admin):
    rep = make_user(admin_env, "Internal_AR")
    with admin_env.portal() as s:
        with pytest.raises(AdminError, match=r"not saved: .*line 1, col") as info:
            r.save_restriction(s, ctx=context_of(admin), rep=s.get(User, rep.id),
                               filter_text="ABAN8 IN ('1') OR 1=1 --")
        assert info.value.status == 422
        s.rollback()
        assert r.history(s, rep_id=rep.id) == []
    with admin_env.jde_engine.connect() as jde:
        bad = r.preview(jde, wwa=admin_env.wwa, filter_text="ABAN8 IN ('1') OR 1=1 --")
    assert not bad.check.ok and bad.count is None and bad.check.line == 1


def test_history_and_revert(admin_env, admin):
    rep = make_user(admin_env, "Internal_CustomerService")
    first, second = r.an8_filter("", admin_env.an8s[:2]), r.an8_filter("", admin_env.an8s[:1])
    with admin_env.portal() as s:
        ctx = context_of(admin)
        r.save_restriction(s, ctx=ctx, rep=s.get(User, rep.id), filter_text=first)
        s.commit()
        assert r.save_restriction(s, ctx=ctx, rep=s.get(User, rep.id), filter_text=first) is None, "unchanged"
        narrowed = r.save_restriction(s, ctx=ctx, rep=s.get(User, rep.id), filter_text=second)
        s.commit()
    assert _rep_list(admin_env, rep.id) == admin_env.an8s[:1]
    with admin_env.portal() as s:
        back = r.revert(s, ctx=context_of(admin), change_id=narrowed.id)
        s.commit()
        assert (back.old_filter, back.new_filter, back.source) == (second, first, f"revert of change {narrowed.id}")
        entries = r.history(s, rep_id=rep.id)
        assert [(c.old_filter, c.new_filter) for c in entries] == [(second, first), (first, second), (None, first)]
        assert all(c.changed_by == admin.login and c.changed_at is not None for c in entries)
        with pytest.raises(AdminError, match="already is what change"):
            r.revert(s, ctx=context_of(admin), change_id=narrowed.id)
        # reverting the first change removes the row again: the default applies
        r.revert(s, ctx=context_of(admin), change_id=entries[-1].id)
        s.commit()
        audit = s.scalars(select(AuditEntry.action).where(AuditEntry.object == f"restriction of {rep.login}")).all()
        assert audit == ["admin.restriction_set"] * 3 + ["admin.restriction_clear"]
    assert _rep_list(admin_env, rep.id) == admin_env.an8s, "no row: the default (allow) gives every account"
    with admin_env.portal() as s, pytest.raises(AdminError, match="no restriction change 999999"):
        r.revert(s, ctx=context_of(admin), change_id=999999)


@pytest.mark.parametrize(
    ("current", "an8s", "mode", "expected"),
    [
        ("", [1003, 1001, 1003], "add", "ABAN8 IN ('1003', '1001')"),
        ("ABAN8 IN ('1001')", [1002], "add", "ABAN8 IN ('1001', '1002')"),
        ("abaN8 in ('1001', 1002)", [1002, 1004], "add", "ABAN8 IN ('1001', '1002', '1004')"),
        ("(ABAN8 IN ('1001'))", [1005], "add", "ABAN8 IN ('1001', '1005')"),
        ("ABAC01 = 'NTH'", [1002], "add", "(ABAC01 = 'NTH') OR ABAN8 IN ('1002')"),
        ("ABAN8 NOT IN ('1001')", [1002], "add", "(ABAN8 NOT IN ('1001')) OR ABAN8 IN ('1002')"),
        ("ABAC01 = 'NTH'", [1002], "replace", "ABAN8 IN ('1002')"),
    ],
)
def test_point_and_click_writes_or_extends_the_an8_list(current, an8s, mode, expected):
    assert r.an8_filter(current, an8s, mode=mode) == expected
    assert r.check_filter(expected).ok


def test_point_and_click_needs_a_ticked_account():
    with pytest.raises(AdminError, match="tick at least one"):
        r.an8_filter("", [])


def test_list_reps_shows_filter_and_count(admin_env, admin):
    rep = make_user(admin_env, "Internal_AR")
    make_user(admin_env, "Customer", account_an8=admin_env.an8s[0])
    with admin_env.portal() as s:
        r.save_restriction(s, ctx=context_of(admin), rep=s.get(User, rep.id),
                           filter_text=r.an8_filter("", admin_env.an8s[:4]))
        s.commit()
    with admin_env.portal() as s, admin_env.jde_engine.connect() as jde:
        rows = r.list_reps(s, jde, wwa=admin_env.wwa)
        mine = next(row for row in rows if row.rep.id == rep.id)
        assert mine.count == 4 and mine.kind == "filter" and mine.changed_by == admin.login
        assert all(row.rep.is_internal for row in rows), "only the three internal types"
        unrestricted = [row for row in rows if row.filter_text is None and row.rep.active]
        assert all(row.count == len(admin_env.an8s) for row in unrestricted)
        with pytest.raises(AdminError, match="only Internal_AR"):
            r.get_rep(s, rep_id=admin.id)
