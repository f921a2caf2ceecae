"""Admin users: set-password links, type changes and deactivation end sessions, dual-role warning."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from admin.admin_support import context_of, make_user, unique
from ecgateway.admin import users as admin_users
from ecgateway.admin.models import SetPasswordToken
from ecgateway.audit.models import AuditEntry
from ecgateway.auth import sessions
from ecgateway.auth.models import AuthSession
from ecgateway.auth.passwords import verify_password
from ecgateway.portal.models import User


@pytest.fixture(scope="module")
def admin(admin_env):
    return make_user(admin_env, "Admin")


def _sessions_of(env, user_id: int) -> int:
    with env.portal() as s:
        return len(s.scalars(select(AuthSession).where(AuthSession.user_id == user_id)).all())


def _open_session(env, user: User) -> None:
    with env.portal() as s:
        sessions.start_session(s, user=s.get(User, user.id))
        s.commit()


def test_new_user_has_no_password_and_a_single_use_link(admin_env, admin):
    login = unique("newrep")
    with admin_env.portal() as s:
        new = admin_users.create_user(s, ctx=context_of(admin), login=login, name="New Rep",
                                      user_type="Internal_AR", email=f"{login}@example.com")
        s.commit()
        assert new.user.password_hash is None
        stored = s.scalars(select(SetPasswordToken).where(SetPasswordToken.user_id == new.user.id)).all()
        assert [t.token_hash for t in stored] == [hashlib.sha256(new.link.token.encode()).hexdigest()]
        assert new.link.token not in {t.token_hash for t in stored}, "only the hash is stored"
        assert new.link.path() == f"/set-password#{new.link.token}"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "admin.user_create")
                          .order_by(AuditEntry.seq.desc())).first()
        assert entry.object == f"user {login}" and entry.actor_login == admin.login
        assert new.link.token not in entry.detail

    with admin_env.portal() as s:
        with pytest.raises(admin_users.AdminError, match="at least 12"):
            admin_users.set_password_with_link(s, token=new.link.token, password="short", confirm="short")
        with pytest.raises(admin_users.AdminError, match="differ"):
            admin_users.set_password_with_link(s, token=new.link.token, password="long-enough-pass",
                                               confirm="long-enough-pasS")
        admin_users.set_password_with_link(s, token=new.link.token, password="long-enough-pass",
                                           confirm="long-enough-pass")
        s.commit()
    with admin_env.portal() as s:
        assert verify_password(s.get(User, new.user.id).password_hash, "long-enough-pass")
        with pytest.raises(admin_users.AdminError, match="already used") as info:
            admin_users.set_password_with_link(s, token=new.link.token, password="another-password",
                                               confirm="another-password")
        assert info.value.status == 410
        with pytest.raises(admin_users.AdminError, match="not valid"):
            admin_users.user_for_link(s, token="not-a-token")


def test_link_expires_and_a_new_link_replaces_the_old(admin_env, admin):
    with admin_env.portal() as s:
        new = admin_users.create_user(s, ctx=context_of(admin), login=unique("cust"), name="Cust",
                                      user_type="Customer", account_an8=admin_env.an8s[0])
        s.commit()
        later = dt.datetime.now(dt.UTC) + admin_users.SET_PASSWORD_TTL + dt.timedelta(seconds=1)
        with pytest.raises(admin_users.AdminError, match="expired"):
            admin_users.user_for_link(s, token=new.link.token, now=later)
        second = admin_users.issue_set_password_link(s, ctx=context_of(admin), user=new.user)
        s.commit()
        with pytest.raises(admin_users.AdminError, match="not valid"):
            admin_users.user_for_link(s, token=new.link.token)
        assert admin_users.user_for_link(s, token=second.token).id == new.user.id


def test_changing_type_or_deactivating_ends_every_session(admin_env, admin):
    rep = make_user(admin_env, "Internal_SalesRep")
    _open_session(admin_env, rep)
    _open_session(admin_env, rep)
    assert _sessions_of(admin_env, rep.id) == 2
    with admin_env.portal() as s:
        ended = admin_users.change_user_type(s, ctx=context_of(admin), user=s.get(User, rep.id),
                                             user_type="Internal_AR")
        s.commit()
    assert ended == 2 and _sessions_of(admin_env, rep.id) == 0

    _open_session(admin_env, rep)
    with admin_env.portal() as s:
        assert admin_users.set_active(s, ctx=context_of(admin), user=s.get(User, rep.id), active=False) == 1
        s.commit()
        assert _sessions_of(admin_env, rep.id) == 0 and not s.get(User, rep.id).active
        with pytest.raises(admin_users.AdminError, match="already deactivated"):
            admin_users.set_active(s, ctx=context_of(admin), user=s.get(User, rep.id), active=False)
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object == f"user {rep.login}")).all()
        assert {"admin.user_type", "admin.user_deactivate"} <= set(actions)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"user_type": "Superuser"}, "is not one of"),
        ({"user_type": "Customer"}, "needs the JDE account number"),
        ({"user_type": "Internal_AR"}, "already is Internal_AR"),
    ],
)
def test_bad_type_changes_say_why(admin_env, admin, change, message):
    rep = make_user(admin_env, "Internal_AR")
    with admin_env.portal() as s, pytest.raises(admin_users.AdminError, match=message):
        admin_users.change_user_type(s, ctx=context_of(admin), user=s.get(User, rep.id), **change)


def test_admin_cannot_change_or_deactivate_themself(admin_env, admin):
    with admin_env.portal() as s:
        with pytest.raises(admin_users.AdminError, match="your own user type"):
            admin_users.change_user_type(s, ctx=context_of(admin), user=s.get(User, admin.id),
                                         user_type="Internal_AR")
        with pytest.raises(admin_users.AdminError, match="deactivate yourself"):
            admin_users.set_active(s, ctx=context_of(admin), user=s.get(User, admin.id), active=False)


def test_one_person_as_admin_and_rep_is_refused_without_the_setting(admin_env, admin):
    email = f"{unique('pat')}@example.com"
    make_user(admin_env, "Internal_SalesRep", name="Pat Both", email=email)
    with admin_env.portal() as s:
        for acknowledged in (False, True):  # a warning to click through is not enough
            with pytest.raises(admin_users.DualRoleRefused, match="one person may not be both Admin and a rep") as info:
                admin_users.create_user(s, ctx=context_of(admin), login=unique("patadmin"), name="Patricia",
                                        user_type="Admin", email=email.upper(), acknowledge_dual_role=acknowledged)
            assert info.value.status == 409 and info.value.field == "user_type" and info.value.conflicts
            assert "ECGW_ALLOW_DUAL_ROLE" in info.value.message
    # the same person by name: an existing Admin turned into a rep
    other = make_user(admin_env, "Internal_AR", name="Ada Admin-Twin")
    make_user(admin_env, "Admin", name="ada admin-twin")
    with admin_env.portal() as s, pytest.raises(admin_users.DualRoleRefused):
        admin_users.change_user_type(s, ctx=context_of(admin), user=s.get(User, other.id),
                                     user_type="Internal_SalesRep", acknowledge_dual_role=True)
    # and by reactivating the other login of someone who became a rep meanwhile
    old_admin = make_user(admin_env, "Admin", name="Ray Return", email=f"{unique('ray')}@example.com")
    with admin_env.portal() as s:
        admin_users.set_active(s, ctx=context_of(admin), user=s.get(User, old_admin.id), active=False)
        s.commit()
    make_user(admin_env, "Internal_AR", name="Ray Return")
    with admin_env.portal() as s, pytest.raises(admin_users.DualRoleRefused):
        admin_users.set_active(s, ctx=context_of(admin), user=s.get(User, old_admin.id), active=True)


def test_with_the_setting_a_dual_role_is_confirmed_and_cannot_touch_its_own_restriction(admin_env, admin):
    from ecgateway.admin import restrictions as r
    from ecgateway.admin import transfer

    email = f"{unique('dual')}@example.com"
    rep = make_user(admin_env, "Internal_SalesRep", name="Dee Dual", email=email)
    with admin_env.portal() as s:
        with pytest.raises(admin_users.DualRoleWarning, match="widen their own list"):
            admin_users.create_user(s, ctx=context_of(admin), login=unique("deeadmin"), name="Dee",
                                    user_type="Admin", email=email, allow_dual_role=True)
        new = admin_users.create_user(s, ctx=context_of(admin), login=unique("deeadmin"), name="Dee",
                                      user_type="Admin", email=email, allow_dual_role=True, acknowledge_dual_role=True)
        s.commit()
        assert new.warnings
        dee = new.user
    with admin_env.portal() as s:
        mine = s.get(User, rep.id)
        with pytest.raises(admin_users.AdminError, match="nobody may change their own restriction") as info:
            r.save_restriction(s, ctx=context_of(dee), rep=mine, filter_text="ABAC01 = 'NTH'")
        assert info.value.status == 403 and info.value.field == "rep"
        report = transfer.import_restrictions(s, ctx=context_of(dee), text=f"rep_login,filter_text\n{rep.login},ABAC01 = 'NTH'\n")
        assert report.saved == 0 and "is you" in report.failures[0].reason
        # another admin may, and the dual-role admin cannot revert that change either
        change = r.save_restriction(s, ctx=context_of(admin), rep=mine, filter_text="ABAC01 = 'STH'")
        s.commit()
        with pytest.raises(admin_users.AdminError, match="is you"):
            r.revert(s, ctx=context_of(dee), change_id=change.id)


def test_list_and_search_users(admin_env, admin):
    login = unique("findme")
    make_user(admin_env, "Internal_CustomerService", login=login, name="Findable Person")
    with admin_env.portal() as s:
        rows, total = admin_users.list_users(s, q="findable")
        assert login in [u.login for u in rows] and total >= 1
        rows, _ = admin_users.list_users(s, user_type="Internal_CustomerService")
        assert rows and all(u.user_type == "Internal_CustomerService" for u in rows)
        with pytest.raises(admin_users.AdminError, match="is not one of"):
            admin_users.list_users(s, user_type="Nobody")
