"""The portal database: migrations on SQLite and PostgreSQL, users, restrictions."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ecgateway.auth.passwords import verify_password
from ecgateway.auth.users import UserError, create_user, get_by_login
from ecgateway.db import make_engine
from ecgateway.portal.migrate import upgrade
from ecgateway.portal.models import ImpersonateRestriction


@pytest.fixture(scope="module")
def portal(portal_url):
    engine = make_engine(portal_url)
    yield engine
    engine.dispose()


def test_migrations_create_the_tables_and_are_repeatable(portal, portal_url):
    upgrade(portal_url)  # a second run changes nothing and does not fail
    names = set(sa.inspect(portal).get_table_names())
    assert {"users", "ec_impersonate_restrictions", "alembic_version"} <= names


def test_user_with_argon2id_password(portal):
    with Session(portal) as s, s.begin():
        create_user(s, login="rep1", name="Rep One", user_type="Internal_SalesRep", password="s3cret-pass")
    with Session(portal) as s:
        user = get_by_login(s, "rep1")
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "s3cret-pass")
        assert not verify_password(user.password_hash, "wrong")
        assert user.is_internal and user.active


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"login": "c1", "user_type": "Customer"}, "needs a JDE account number"),
        ({"login": "s1", "user_type": "Internal_AR", "account_an8": 1001}, "only a Customer has one"),
        ({"login": "x1", "user_type": "Superuser"}, "is not one of"),
        ({"login": "  ", "user_type": "Admin"}, "must not be empty"),
        ({"login": "rep1", "user_type": "Admin"}, "already taken"),
    ],
)
def test_bad_users_are_refused_with_a_reason(portal, kwargs, message):
    with Session(portal) as s, pytest.raises(UserError, match=message):
        create_user(s, name="X", **kwargs)


def test_database_refuses_customer_without_account(portal):
    """The check constraint holds even for writes that bypass the service."""
    with portal.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(sa.text("INSERT INTO users (login, name, email, user_type, active) VALUES ('raw', 'Raw', '', 'Customer', true)"))


def test_restriction_row_per_rep(portal):
    with Session(portal) as s, s.begin():
        rep = create_user(s, login="rep2", name="Rep Two", user_type="Internal_AR")
        s.add(ImpersonateRestriction(rep_id=rep.id, filter_text="ABAN8 in ('4242','1003')", changed_by="admin"))
    with Session(portal) as s:
        rep = get_by_login(s, "rep2")
        assert rep.restriction.filter_text == "ABAN8 in ('4242','1003')"
        assert rep.restriction.changed_at is not None
        s.add(ImpersonateRestriction(rep_id=rep.id, filter_text="ABAC01 = 'NTH'", changed_by="admin"))
        with pytest.raises(sa.exc.IntegrityError):
            s.flush()


def test_one_head_and_databases_at_the_old_heads_move_onto_it(backend, tmp_path):
    from alembic import command
    from alembic.script import ScriptDirectory

    from databases import fresh_database
    from ecgateway.portal.migrate import alembic_config

    with fresh_database(backend, tmp_path, "heads") as url:
        cfg = alembic_config(url)
        heads = ScriptDirectory.from_config(cfg).get_heads()
        assert len(heads) == 1, f"the migrations must have one head, not {heads}"
        for old_head in ("0003_sessions_audit", "0004_commerce", "0005_admin"):  # as databases made before 0006
            command.upgrade(cfg, old_head)
        engine = make_engine(url)
        try:
            def versions() -> list[str]:
                with engine.connect() as conn:
                    return sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())

            assert versions() == ["0003_sessions_audit", "0004_commerce", "0005_admin"]
            upgrade(url)
            assert versions() == heads
            command.downgrade(cfg, "base")  # every migration can be taken back
            assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
            command.upgrade(cfg, "head")
            assert versions() == heads and "auth_sessions" in sa.inspect(engine).get_table_names()
        finally:
            engine.dispose()
