"""The accounts search index (accounts/search.py) on SQLite and PostgreSQL: it proposes, the
rep's compiled query decides.

Property: for random searches, restrictions, sorts and page sizes, paging through the search
gives the base list AND the restriction AND the match computed in Python without the index, in
relevance order (group, sort value, number; the name-prefix group by folded name unless sorted
by city), every account once.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.search_support import add_account
from ecgateway.accounts import CursorError, all_scope, filter_scope, list_accounts
from ecgateway.accounts import search as search_module
from ecgateway.accounts.query import Shape, WorkWithAccounts
from ecgateway.accounts.restrictions import render
from ecgateway.accounts.search import (
    MATCHES,
    SearchIndex,
    accounts_table,
    fold,
    rank_of,
    search_text,
    terms_of,
)
from ecgateway.config import Settings
from ecgateway.db import make_engine

RESTRICTIONS = [
    None,
    "ABAC02 IN ('R01','R02','R03')",
    "ABAC01 = 'NTH'",
    "ALCTY1 = 'Köln' OR ALCTR = 'BR'",
    "ABALPH LIKE 'A%' AND NOT ABAC03 = 'IND'",
    "UPPER(ALCTY1) LIKE '%O%'",
    # one ABAN8 list: the number-prefix group reads its candidates off the list (some are not accounts)
    "ABAN8 IN ('1001','1002','1003','1010','1011','1100','1105','1999','10010','990010','990040','990050','990060','99999999')",
]


@pytest.fixture(scope="module")
def portal_engine(portal_url):
    engine = make_engine(portal_url)
    yield engine
    engine.dispose()


# Accounts with accents in their names and cities, whatever the seed drew.
ACCENTED = [(990010, "Müller Fasteners GmbH", "Köln", "info@mueller.example.de"),
            (990020, "Muller Hardware Inc", "São Paulo", "compras@muller.example.com.br"),
            (990030, "Ørsted Tool Works", "Kö ln", ""),
            # Two letters found nowhere else: "qj" only at the very end of the text (the e-mail is
            # its last part), "xw" only inside it (a trigram starts with it).
            (990040, "Quagga Supply", "Oslo", "buyer@quagga.example.qj"),
            (990050, "Wren Supply", "Oslo", "xwing@wren.example.com"),
            # "vq" only after a Cyrillic letter, which folding keeps: PostgreSQL's trigram regular
            # expression leaves it out, its partial index of non-ASCII texts finds it (migration 0090).
            (990060, "Дvq Trading", "Sofia", "")]


@pytest.fixture(scope="module")
def index(portal_engine, jde_db, wwa) -> SearchIndex:
    for an8, name, city, email in ACCENTED:
        add_account(jde_db.engine, jde_db.tables, an8=an8, name=name, city=city, email=email)
    index = SearchIndex(portal_engine)
    with jde_db.engine.connect() as jde:
        index.rebuild(jde, wwa=wwa)
    return index


@pytest.fixture(scope="module")
def all_rows(jde_db, wwa, index) -> list[dict]:
    """Every account of the base query with the columns the match reads (upper-case names)."""
    with jde_db.engine.connect() as jde:
        stmt = wwa.statement(None, Shape("index", rows=100000))
        params = wwa.base_params()
        params["k_an8"] = 0
        return [{k.upper(): v for k, v in r._mapping.items()} for r in jde.execute(stmt, params)]


def _scope(wwa, text):
    return all_scope(wwa) if text is None else filter_scope(text, wwa=wwa)


def _pages(jde, wwa, index, scope, q, sort, limit):
    items, matches, cursor, pages = [], [], None, 0
    while True:
        page = list_accounts(jde, wwa=wwa, scope=scope, q=q, sort=sort, cursor=cursor, limit=limit, index=index)
        assert len(page.items) <= limit
        items += [a.an8 for a in page.items]
        matches += page.matches
        pages += 1
        cursor = page.next_cursor
        if cursor is None or pages > 200:
            return items, matches


_ALLOWED: dict[tuple, set[int]] = {}


def _expected(jde, wwa, scope, all_rows, q, sort):
    """Base AND restriction (the JDE list without q) AND the Python match, in relevance order."""
    key = (jde.engine.url, scope.filter_text)
    if key not in _ALLOWED:
        allowed, cursor = set(), None
        while True:
            page = list_accounts(jde, wwa=wwa, scope=scope, limit=200, cursor=cursor)
            allowed.update(a.an8 for a in page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        _ALLOWED[key] = allowed
    allowed = _ALLOWED[key]
    terms = terms_of(q)
    found = []
    for row in all_rows:
        an8 = int(row["ABAN8"])
        if an8 not in allowed:
            continue
        rank = rank_of(terms, an8, *search_text(row))
        if rank is None:
            continue
        if MATCHES[rank] == "name-prefix" and sort != "city":  # names starting with q: alphabetical, folded
            key = fold(str(row["ABALPH"]))
        else:
            key = {"number": "", "name": str(row["ABALPH"]).rstrip(), "city": str(row["ALCTY1"]).rstrip()}[sort]
        found.append(((rank, key, an8), an8, MATCHES[rank]))
    found.sort()
    return [an8 for _, an8, _ in found], [m for _, _, m in found]


# --- folding ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "folded"), [
    ("Köln", "koln"), ("KÖLN", "koln"), ("São Paulo", "sao paulo"), ("Müller", "muller"), ("MULLER", "muller"),
    ("Straße", "strasse"), ("Ørsted  Æble", "orsted aeble"), ("  O'Brien ", "o'brien"), ("Łódź", "lodz"),
    ("", ""), (None, ""), ("\u0301", ""),
])
def test_fold(text, folded):
    assert fold(text) == folded


def test_terms_number_ranges_are_ordered():
    terms = terms_of("5168")
    assert terms.number == 5168
    assert terms.ranges[:2] == ((51680, 51689), (516800, 516899))
    assert all(a[1] < b[0] for a, b in zip(terms.ranges, terms.ranges[1:], strict=False))
    assert terms_of("   ") is None and terms_of("\u0301") is None


# --- searching ----------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["koln", "KÖLN", "Koln", "sao", "SÃO PAULO", "muller", "Müller", "MULLER"])
def test_accents_and_case_ignored(jde_db, wwa, index, all_rows, q):
    """Issue 15: "Köln" and "São" find their accounts, "Muller" finds "Müller"."""
    with jde_db.engine.connect() as jde:
        got, _ = _pages(jde, wwa, index, all_scope(wwa), q, "number", 50)
        want, _ = _expected(jde, wwa, all_scope(wwa), all_rows, q, "number")
    assert got == want
    assert got, f"the generated data has no account for {q!r}; choose another seed"


@pytest.mark.parametrize("tail", [(500, 4), (1, 2)])  # texts ending with the word: a few at a time, then a walk
@pytest.mark.parametrize("q", ["qj", "xw", "vq", "o", "a", "ln", "@", "zz", "q x", "om"])
def test_short_words_past_the_first_walk(jde_db, wwa, index, all_rows, monkeypatch, q, tail):
    """One or two letters: after the first SHORT_WALK accounts by number the contains group comes
    from the trigram index (SQLite: its vocabulary, and the texts' last two letters); made to
    happen at once here, the pages must still be the base AND restriction AND match."""
    monkeypatch.setattr(search_module, "SHORT_WALK", 1)
    monkeypatch.setattr(search_module, "SHORT_TAIL", tail[0])
    monkeypatch.setattr(search_module, "SHORT_TAIL_CHUNKS", tail[1])
    with jde_db.engine.connect() as jde:
        for restriction in RESTRICTIONS:
            scope = _scope(wwa, restriction)
            for limit in (2, 50):
                got, got_matches = _pages(jde, wwa, index, scope, q, "number", limit)
                want, want_matches = _expected(jde, wwa, scope, all_rows, q, "number")
                assert (got, got_matches) == (want, want_matches), (q, restriction, limit)
    if q in ("qj", "xw", "vq"):
        assert got == [{"qj": 990040, "xw": 990050, "vq": 990060}[q]]


@pytest.mark.parametrize("walk_on", [3, 40, 10**6])
@pytest.mark.parametrize("q", ["o", "a", "ln", "qj", "xw", "vq", "zz", "q x", "om", "su"])
def test_short_words_walked_on_by_number_then_the_index(jde_db, wwa, index, all_rows, monkeypatch, q, walk_on):
    """PostgreSQL: a pair found often in the first walk is walked on by number for SHORT_WALK_ON more
    accounts before the trigram index takes the rest; the pages are still base AND restriction AND match."""
    monkeypatch.setattr(search_module, "SHORT_WALK", 20)
    monkeypatch.setattr(search_module, "SHORT_DENSE", 1)
    monkeypatch.setattr(search_module, "SHORT_WALK_ON", walk_on)
    with jde_db.engine.connect() as jde:
        for restriction in RESTRICTIONS:
            scope = _scope(wwa, restriction)
            for limit in (2, 50):
                got = _pages(jde, wwa, index, scope, q, "number", limit)
                assert got == _expected(jde, wwa, scope, all_rows, q, "number"), (q, restriction, limit)


def test_the_postgresql_index_is_vacuumed_after_a_rebuild(portal_engine, index):
    """The rebuild VACUUMs the new table on PostgreSQL: the walks by number then read the primary key
    alone (its visibility map set), not each row's heap page."""
    if portal_engine.dialect.name != "postgresql":
        return  # SQLite has no visibility map
    with portal_engine.connect() as conn:
        vacuumed = conn.scalar(sa.text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'ecgw_search_account'"))
        visible, pages = conn.execute(sa.text("SELECT relallvisible, relpages FROM pg_class "
                                              "WHERE relname = 'ecgw_search_account'")).one()
    assert vacuumed is not None
    assert pages > 0 and visible == pages


def test_phone_email_and_number(jde_db, wwa, index, all_rows):
    row = next(r for r in all_rows if r["PHONE"] and r["EMAIL"])
    phone, email, an8 = str(row["PHONE"]).strip(), str(row["EMAIL"]).strip(), int(row["ABAN8"])
    with jde_db.engine.connect() as jde:
        for q in (phone, phone.replace(" ", "").replace("-", ""), email.upper(), str(an8)):
            got, matches = _pages(jde, wwa, index, all_scope(wwa), q, "number", 50)
            assert an8 in got, q
        assert got[0] == an8 and matches[0] == "number"  # the exact number first


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_search_equals_base_and_restriction_and_match(jde_db, wwa, index, all_rows, data):
    names = sorted({str(r["ABALPH"]).strip() for r in all_rows})
    cities = sorted({str(r["ALCTY1"]).strip() for r in all_rows})
    numbers = sorted(str(r["ABAN8"]) for r in all_rows)
    source = data.draw(st.sampled_from(["name", "city", "number", "word", "free"]))
    if source == "name":
        name = data.draw(st.sampled_from(names))
        start = data.draw(st.integers(0, max(0, len(name) - 1)))
        q = name[start:start + data.draw(st.integers(1, 12))]
    elif source == "city":
        q = data.draw(st.sampled_from(cities))[: data.draw(st.integers(1, 8))]
    elif source == "number":
        q = data.draw(st.sampled_from(numbers))[: data.draw(st.integers(1, 4))]
    elif source == "word":
        q = " ".join(data.draw(st.lists(st.sampled_from(["acme", "inc", "supply", "koln", "SÃO", "müller", "co", "zinc",
                                                            "555", "@", "o'b", "%", "_"]), min_size=1, max_size=3)))
    else:
        q = data.draw(st.text(alphabet="aeiouköln SÃ0123%_'", min_size=1, max_size=6))
    if terms_of(q) is None:
        return
    restriction = data.draw(st.sampled_from(RESTRICTIONS))
    sort = data.draw(st.sampled_from(["number", "name", "city"]))
    limit = data.draw(st.sampled_from([2, 7, 50]))
    scope = _scope(wwa, restriction)
    with jde_db.engine.connect() as jde:
        got, got_matches = _pages(jde, wwa, index, scope, q, sort, limit)
        want, want_matches = _expected(jde, wwa, scope, all_rows, q, sort)
    assert got == want, (q, restriction, sort, limit)
    assert got_matches == want_matches
    assert len(set(got)) == len(got)


def test_cursor_of_another_sort_is_refused(jde_db, wwa, index):
    with jde_db.engine.connect() as jde:
        page = list_accounts(jde, wwa=wwa, scope=all_scope(wwa), q="a", limit=2, index=index)
        assert page.next_cursor
        with pytest.raises(CursorError):
            list_accounts(jde, wwa=wwa, scope=all_scope(wwa), q="a", sort="name", cursor=page.next_cursor, index=index)
        with pytest.raises(CursorError):
            list_accounts(jde, wwa=wwa, scope=all_scope(wwa), q="a", cursor="bm9wZQ", index=index)


def test_status_counts_the_index(index, all_rows):
    status = index.status()
    assert status.built and status.rows == len(all_rows) == status.accounts
    with index.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(accounts_table)) == len(all_rows)


# --- what Oracle gets ---------------------------------------------------------------------

def test_oracle_statements_compare_numbers_only(tmp_path):
    """A search sends JDE on Oracle number comparisons only: the folding is done in Python, so no
    NLS setting or accent-insensitive collation is needed there (sessions stay BINARY)."""
    wwa = WorkWithAccounts.load(Settings(data_dir=tmp_path, jde_schema="PRODDTA"), dialect="oracle")
    restriction = wwa.compile("ABAC02 IN ('R01','R02')")
    sql = render(wwa.compose(restriction, Shape("index-in", rows=500)), "oracle")
    assert "AB.ABAN8 IN (:c0, :c1," in sql and ":c499)" in sql
    assert "PRODDTA.F0101" in sql
    assert sql.endswith("AND (AB.ABAC02 IN (:f1, :f2))) AND AB.ABAN8 IN (:c0, :c1, :c2, " + ", ".join(
        f":c{i}" for i in range(3, 500)) + ")")
    assert " LIKE " not in sql and "UPPER(" not in sql and "NLSSORT" not in sql and "COLLATE" not in sql
    one = render(wwa.compose(restriction, Shape("one")), "oracle")
    assert one.endswith("AND (AB.ABAC02 IN (:f1, :f2))) AND AB.ABAN8 = :an8")


@pytest.mark.parametrize("dialect", ["oracle", "postgres", "sqlite"])
def test_candidates_walk_the_number_index_by_the_candidates_only(tmp_path, dialect):
    """Issue 19: with a rep's list of 1,000 numbers, PostgreSQL walked F0101's index by both IN
    lists for 51 candidates; the restriction's numbers are values there (ABAN8 + 0), still tested."""
    wwa = WorkWithAccounts.load(Settings(data_dir=tmp_path, jde_schema="PRODDTA"), dialect=dialect)
    restriction = wwa.compile("ABAN8 IN ('1001','1002') OR ABAC02 = 'R01'")
    sql = render(wwa.compose(restriction, Shape("index-in", rows=10)), dialect)
    assert "((AB.ABAN8 + 0) IN (:f1, :f2) OR AB.ABAC02 = :f3)" in sql
    assert sql.endswith("AB.ABAN8 IN (:c0, :c1, :c2, :c3, :c4, :c5, :c6, :c7, :c8, :c9)")
    listed = render(wwa.compose(restriction, Shape("list")), dialect)  # the list keeps walking by it
    assert "(AB.ABAN8 IN (:f1, :f2) OR AB.ABAC02 = :f3)" in listed


def test_index_query_for_other_portal_databases_uses_folded_like():
    """A portal database other than SQLite or PostgreSQL (e.g. Oracle) gets LIKE on the folded text."""
    from sqlalchemy.dialects import oracle

    index = SearchIndex(sa.create_engine("sqlite://"))
    index.dialect = "oracle"
    (condition,) = index._contains(terms_of("Köln"))
    sql = str(condition.compile(dialect=oracle.dialect(), compile_kwargs={"literal_binds": True}))
    assert sql == "ecgw_search_account.hay LIKE '%koln%' ESCAPE '\\'"


def test_the_non_ascii_predicate_is_the_same_in_the_search_and_its_migration():
    """PostgreSQL uses the partial index only for the very predicate it was made with."""
    import importlib

    migration = importlib.import_module("ecgateway.portal.migrations.versions.0090_search_pairs_postgresql")
    assert migration.NON_ASCII_HAY == search_module.NON_ASCII_HAY
    assert any(ddl.endswith("WHERE " + search_module.NON_ASCII_HAY) for ddl in search_module._PG_INDEX)
    import inspect

    assert "WHERE hay !~ '^[\\\\x01-\\\\x7f]*$'" in inspect.getsource(migration.upgrade)


def test_a_short_words_pattern_is_written_into_the_postgresql_statement():
    """Bound, '%zi%' let a prepared statement's generic plan scan the whole trigram index for it."""
    from sqlalchemy.dialects import postgresql

    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # no connection is made
    index = SearchIndex(engine)
    sql = str(sa.select(accounts_table.c.aban8).where(*index._contains(terms_of("zi acme")))
              .compile(dialect=postgresql.psycopg.dialect(), compile_kwargs={"render_postcompile": True}))
    assert "LIKE '%%zi%%'" in sql  # the two letters: written in (psycopg's %% is one %)
    assert "'%%acme%%'" not in sql and "LIKE %(" in sql  # a longer word stays a bound parameter
    engine.dispose()


@pytest.mark.parametrize("q", ["1", "10", "100", "1001", "99", "9900", "5"])
def test_number_prefixes_for_a_rep_with_one_number_list(jde_db, wwa, index, all_rows, q):
    """The number-prefix group of a rep whose restriction is one ABAN8 list takes its candidates from
    the list itself (numbers that are no account, or not a customer, are dropped by JDE's query)."""
    restriction = RESTRICTIONS[-1]
    assert search_module._number_list(_scope(wwa, restriction).restriction) is not None
    with jde_db.engine.connect() as jde:
        scope = _scope(wwa, restriction)
        for limit in (1, 2, 50):
            got, got_matches = _pages(jde, wwa, index, scope, q, "number", limit)
            want, want_matches = _expected(jde, wwa, scope, all_rows, q, "number")
            assert (got, got_matches) == (want, want_matches), (q, limit)


@pytest.mark.parametrize("path", ["memory", "list walk", "text index"])
@pytest.mark.parametrize("q", ["a", "su", "supply", "koln", "sao", "ln", "qj", "xw", "vq", "mu ko", "1", "99", "zz",
                               "example", "@"])
def test_the_three_ways_of_a_rep_with_one_number_list_agree(jde_db, wwa, index, all_rows, monkeypatch, path, q):
    """A rep whose restriction is one ABAN8 list: its name-prefix and contains groups are matched in
    memory (up to LIST_MEMORY_MAX numbers), by walking the list in the index (up to LIST_WALK_MAX) or
    through the text index (longer lists); each gives the base AND restriction AND match, in order."""
    monkeypatch.setattr(search_module, "LIST_MEMORY_MAX", 2000 if path == "memory" else 0)
    monkeypatch.setattr(search_module, "LIST_WALK_MAX", 0 if path == "text index" else 5000)
    scope = _scope(wwa, RESTRICTIONS[-1])
    with jde_db.engine.connect() as jde:
        want = _expected(jde, wwa, scope, all_rows, q, "number")
        for limit in (1, 2, 50):
            assert _pages(jde, wwa, index, scope, q, "number", limit) == want, (q, limit)


@given(q=st.one_of(st.text(alphabet="aeiouköln SÃ0123%_'@.", min_size=1, max_size=6),
                   st.sampled_from(["acme", "1001", "10", "koln", "müller", "qj", "9900", "supply co"])))
def test_the_recheck_of_jde_rows_is_rank_of(all_rows, q):
    """row_matches (the recheck of JDE's rows, folding lazily) says what rank_of says, for every row."""
    terms = terms_of(q)
    if terms is None:
        return
    for row in all_rows:
        an8 = int(row["ABAN8"])
        assert search_module.row_matches(terms, an8, row) == (rank_of(terms, an8, *search_text(row)) is not None), (q, an8)
