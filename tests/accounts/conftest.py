"""Fixtures for the accounts tests: the loaded base query and a Python model of its answer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from ecgateway.accounts import WorkWithAccounts
from ecgateway.config import Settings
from ecgateway.jde.conventions import today_julian


@dataclass(frozen=True)
class Reference:
    """The accounts the base query must return, computed in Python from the raw tables."""

    accounts: dict[int, dict[str, object]]  # an8 -> output column (upper case) -> trimmed value
    others: frozenset[int]  # every other F0101 number: employees, suppliers, billing and shipping addresses


@pytest.fixture(scope="module")
def wwa(jde_db, tmp_path_factory) -> WorkWithAccounts:
    settings = Settings(data_dir=tmp_path_factory.mktemp("wwa"), jde_url=jde_db.url, jde_schema=jde_db.schema)
    return WorkWithAccounts.load(settings, dialect=jde_db.engine.dialect.name)


@pytest.fixture(scope="module")
def reference(jde_db) -> Reference:
    return build_reference(jde_db.engine, jde_db.tables, company="00000")


def build_reference(engine: sa.Engine, tables, *, company: str) -> Reference:
    """Parents in the default F0150 structure, search type C, not children; current F0116; F03012 by company."""
    today = today_julian()
    with engine.connect() as conn:
        f0101 = {r.aban8: r._asdict() for r in conn.execute(sa.select(tables.F0101))}
        links = [r for r in conn.execute(sa.select(tables.F0150)) if r.maostp == ""]
        addresses: dict[int, dict] = {}
        for r in conn.execute(sa.select(tables.F0116).order_by(tables.F0116.c.aleftb)):
            if r.aleftb <= today:
                addresses[r.alan8] = r._asdict()  # the latest on or before today wins
        customer: dict[int, dict] = {}
        for r in conn.execute(sa.select(tables.F03012)):
            if r.aico in (company, "00000") and (r.aian8 not in customer or r.aico == company):
                customer[r.aian8] = r._asdict()
        phones: dict[int, list[str]] = {}
        for r in conn.execute(sa.select(tables.F0115)):
            if r.wpidln == 0 and r.wpphtp == "":
                phones.setdefault(r.wpan8, []).append(f"{r.wpar1} {r.wpph1}")
        emails: dict[int, list[str]] = {}
        for r in conn.execute(sa.select(tables.F01151)):
            if r.eaidln == 0 and r.eaetp == "E":
                emails.setdefault(r.eaan8, []).append(r.eaemal)
    parents = {link.mapa8 for link in links}
    children = {link.maan8 for link in links}
    accounts: dict[int, dict[str, object]] = {}
    for an8 in sorted(parents - children):
        ab = f0101.get(an8)
        if ab is None or ab["abat1"] != "C" or an8 not in addresses:
            continue
        al, ai = addresses[an8], customer.get(an8, {})
        row = {key.upper(): value for key, value in ab.items()}
        row.update({key.upper(): al[key] for key in ("alcty1", "aladds", "aladdz", "alctr")})
        row.update({key.upper(): ai.get(key) for key in ("aico", "aicrcd", "aicpgp")})
        row["PHONE"] = min(phones.get(an8, [""]))
        row["EMAIL"] = min(emails.get(an8, [""]))
        accounts[an8] = row
    return Reference(accounts=accounts, others=frozenset(set(f0101) - set(accounts)))
