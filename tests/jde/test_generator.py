"""The JDE data generator: deterministic, hierarchical, padded as JDE stores text."""

import sqlalchemy as sa

from databases import SEED, SEED_ACCOUNTS, fresh_database
from ecgateway.db import make_engine
from ecgateway.jde.generator import seed_database
from ecgateway.jde.tables import jde_tables


def _snapshot(engine, tables):
    """Every row of every table, trimmed, in key order."""
    out = {}
    with engine.connect() as conn:
        for table in tables.all():
            stmt = sa.select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(stmt)]
    return out


def test_same_seed_same_data_on_every_database(jde_db, tmp_path):
    """The module's database (SQLite or PostgreSQL) equals a fresh SQLite one from the same seed."""
    other_engine = make_engine(f"sqlite:///{tmp_path / 'again.sqlite'}")
    other = jde_tables(None)
    seed_database(other_engine, other, accounts=SEED_ACCOUNTS, seed=SEED)
    assert _snapshot(jde_db.engine, jde_db.tables) == _snapshot(other_engine, other)


def test_another_seed_other_data(tmp_path):
    a = make_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    b = make_engine(f"sqlite:///{tmp_path / 'b.sqlite'}")
    seed_database(a, jde_tables(None), accounts=5, seed=1)
    seed_database(b, jde_tables(None), accounts=5, seed=2)
    assert _snapshot(a, jde_tables(None))["f0101"] != _snapshot(b, jde_tables(None))["f0101"]


def test_every_account_has_billing_and_every_billing_has_shipping(jde_db):
    t = jde_db.tables
    with jde_db.engine.connect() as conn:
        links = conn.execute(sa.select(t.F0150.c.mapa8, t.F0150.c.maan8).where(t.F0150.c.maostp == "")).all()
        kinds = dict(conn.execute(sa.select(t.F0101.c.aban8, t.F0101.c.abat1)).all())
        badt = dict(conn.execute(sa.select(t.F03012.c.aian8, t.F03012.c.aibadt).where(t.F03012.c.aico == "00000")).all())
    children: dict[int, list[int]] = {}
    for parent, child in links:
        children.setdefault(parent, []).append(child)
    child_set = {c for _, c in links}
    accounts = [p for p in children if p not in child_set and kinds[p] == "C"]
    assert len(accounts) == SEED_ACCOUNTS
    for account in accounts:
        billing = [c for c in children[account] if badt.get(c) in ("B", "X")]
        assert billing, f"account {account} has no billing address"
        for bill in billing:
            shipping = [c for c in children.get(bill, []) if badt.get(c) in ("S", "X")]
            if badt[bill] == "X":
                shipping.append(bill)
            assert shipping, f"billing address {bill} has no shipping address"


def test_non_customers_are_mixed_in(jde_db):
    t = jde_db.tables
    with jde_db.engine.connect() as conn:
        types = dict(conn.execute(sa.select(t.F0101.c.abat1, sa.func.count()).group_by(t.F0101.c.abat1)).all())
        supplier_parents = conn.scalar(
            sa.select(sa.func.count()).select_from(t.F0150.join(t.F0101, t.F0101.c.aban8 == t.F0150.c.mapa8))
            .where(t.F0101.c.abat1 == "V"))
    assert {"C", "E", "V", "P"} <= set(types)
    assert supplier_parents > 0, "some suppliers must be F0150 parents so a search-type filter matters"


def test_effective_dated_addresses_and_company_rows(jde_db):
    t = jde_db.tables
    with jde_db.engine.connect() as conn:
        multi = conn.scalar(sa.select(sa.func.count()).select_from(
            sa.select(t.F0116.c.alan8).group_by(t.F0116.c.alan8).having(sa.func.count() > 1).subquery()))
        companies = set(conn.scalars(sa.select(t.F03012.c.aico).distinct()))
    assert multi > 0
    assert {"00000", "00200"} <= companies


def test_padded_text_reads_back_trimmed(jde_db):
    t = jde_db.tables
    with jde_db.engine.connect() as conn:
        an8, name, branch = conn.execute(
            sa.select(t.F0101.c.aban8, t.F0101.c.abalph, t.F0101.c.abmcu).order_by(t.F0101.c.aban8).limit(1)).one()
        stored = conn.execute(
            sa.select(sa.cast(t.F0101.c.abmcu, sa.String), sa.func.length(t.F0101.c.abalph).label("n"))
            .where(t.F0101.c.aban8 == an8)).one()
        found = conn.scalar(sa.select(t.F0101.c.aban8).where(t.F0101.c.abalph == name, t.F0101.c.aban8 == an8))
        by_branch = conn.scalar(sa.select(sa.func.count()).where(t.F0101.c.abmcu == branch))
    assert name == name.strip() and name
    assert branch == branch.strip() and branch in ("10", "30", "M30")
    assert found == an8, "an unpadded literal must find the padded value"
    assert by_branch > 0, "a business unit compares right-justified"
    if jde_db.backend == "sqlite":
        assert stored[1] == 40, "SQLite keeps the padding JDE has"


def test_refuses_to_seed_twice(jde_db):
    import pytest

    with pytest.raises(ValueError, match="already holds F0101 rows"):
        seed_database(jde_db.engine, jde_db.tables, accounts=1, seed=SEED)


def test_schema_qualified_on_postgresql(tmp_path):
    from databases import require_postgres

    require_postgres()
    with fresh_database("postgresql", tmp_path, "schema") as url:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA crpdta"))
        seed_database(engine, jde_tables("CRPDTA"), accounts=3, seed=1)
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM crpdta.f0101")).scalar()
            width = conn.execute(sa.text("SELECT octet_length(abalph::text), character_length(abalph) FROM crpdta.f0101 LIMIT 1")).one()
        engine.dispose()
    assert n > 3
    assert width[1] == 40, "char(40) keeps JDE's fixed width on PostgreSQL"
