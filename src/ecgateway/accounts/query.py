"""The Work-with-Accounts query: the base SQL, loaded and checked once, and its one composer.

This module is the one place where SQL is put together from parts: the trusted base
query (sql/work_with_accounts.sql) and a compiled, bound restriction, plus the search,
keyset and paging conditions the listing needs. It works on sqlglot trees, never on
strings, and renders once per shape; values are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from ecgateway.accounts.policy import Policy, load_policy
from ecgateway.accounts.restrictions import CompiledFilter, compile_filter, render, sqlglot_dialect
from ecgateway.config import Settings
from ecgateway.jde.conventions import date_to_julian, pad, today_julian
from ecgateway.jde.tables import jde_tables
from ecgateway.jde.types import JdeChar

BASE_SQL = ("sql", "work_with_accounts.sql")
POLICY = ("restrictions", "policy.toml")
# Output columns the gateway itself reads, besides the ones filters may use.
LIST_COLUMNS = ("ABAN8", "ABALPH", "ALCTY1", "ALADDS", "ALADDZ", "ALCTR", "PHONE", "EMAIL")
# Sort keys a caller may ask for, and the output columns each orders by (ABAN8 breaks ties).
# The city sort breaks ties on ALAN8 (= ABAN8) so that the F0116 index (ALCTY1, ALAN8) gives the order.
SORT_KEYS: dict[str, tuple[str, ...]] = {"number": ("ABAN8",), "name": ("ABALPH", "ABAN8"), "city": ("ALCTY1", "ALAN8")}
MAX_AN8_DIGITS = 8
AN8_MAX = 10**MAX_AN8_DIGITS - 1  # JDE address numbers are NUMBER(8): 99,999,999
# Databases that compare row values, (a, b) > (x, y), and start an index scan at them.
# Oracle and SQL Server do not: they get a >= b AND (a > x OR b > y).
ROW_VALUE_DIALECTS = ("postgres", "sqlite")
_BASE_PARAMS = {"wwa_today", "wwa_company"}
# Shapes that output every column of the base query (the search index stores them all).
INDEX_PURPOSES = ("index", "index-in")
# Shapes of candidates by number, ABAN8 IN (:c0, ..): "index-in" re-reads changed accounts for the index
# (every column), "decide" decides a search's candidates and outputs only what the page and the match
# check read (DECIDE_COLUMNS): 55 columns a row made the decision 3x slower than the first page of the
# same rows (issue 19).
IN_PURPOSES = ("index-in", "decide")
DECIDE_COLUMNS = (*LIST_COLUMNS, "ABALKY", "ABDC")


class BaseQueryError(RuntimeError):
    """sql/work_with_accounts.sql or the policy does not fit together; start-up stops.

    Not a GatewayError: an installation fault found at start-up, never a refusal for a person."""


@dataclass(frozen=True)
class Shape:
    """What varies between the queries built on the base: one rendered SQL per shape."""

    purpose: str  # "list", "count", "one"; for the search index: "index" (pages by number), "index-in" and
    # "decide" (ABAN8 IN, see IN_PURPOSES)
    search: str | None = None  # None, "text", "name-only" or "number:<digits>"
    sort: str = "number"
    # Rows to fetch (a page and one more), written into the SQL: bound, PostgreSQL's generic
    # plans guess the LIMIT and choose plans made for many rows.
    rows: int = 51


@dataclass(eq=False)
class WorkWithAccounts:
    """The loaded base query for one database dialect, with the policy filters are held to."""

    dialect: str  # sqlglot dialect name
    policy: Policy
    base: exp.Select  # schema-qualified
    columns: dict[str, exp.Expression]  # output name -> the expression that computes it
    company: str
    restriction_default: str = "allow"  # what a rep without a restriction row sees: allow (all) or deny
    zone: dt.tzinfo | None = None  # JDE's business day (ECGW_JDE_TIMEZONE); None: this machine's
    # Per object, never copied by dataclasses.replace: the rendered statements and their lock.
    _cache: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, settings: Settings, *, dialect: str) -> WorkWithAccounts:
        """Read, check and schema-qualify the base query; BaseQueryError says what is wrong."""
        policy = load_policy(settings.resource(*POLICY))
        base = _load_base(settings.resource(*BASE_SQL))
        columns = _output_columns(base)
        _check_base(base, columns, policy, settings)
        if settings.jde_schema:
            for table in base.find_all(exp.Table):
                table.set("db", exp.to_identifier(settings.jde_schema.upper()))
        return cls(dialect=sqlglot_dialect(dialect), policy=policy, base=base, columns=columns,
                   company=pad(settings.company, 5), restriction_default=settings.restriction_default,
                   zone=settings.jde_zone)

    def compile(self, text: str) -> CompiledFilter:
        """The rep's filter for this database (cached by text and dialect)."""
        return compile_filter(text, dialect=self.dialect, policy=self.policy)

    def base_params(self, today: dt.date | None = None) -> dict[str, object]:
        """Values of the base query's own binds (a new dict), for today on JDE's clock unless told."""
        julian = today_julian(self.zone) if today is None else date_to_julian(today)
        return {"wwa_today": julian, "wwa_company": self.company}

    def statement(self, restriction: CompiledFilter | None, shape: Shape) -> sa.TextClause:
        """The executable statement for a shape, rendered once and cached."""
        key = (restriction.text if restriction else None, shape)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        statement = sa.text(render(self.compose(restriction, shape), self.dialect))
        with self._lock:
            self._cache[key] = statement
            while len(self._cache) > 1024:
                self._cache.popitem(last=False)
        return statement

    def compose(self, restriction: CompiledFilter | None, shape: Shape) -> exp.Select:
        """The base query with the restriction ANDed in parentheses, plus the shape's parts."""
        query = self.base.copy()
        if restriction is not None:
            # The search index's candidates (index-in): the restriction's account numbers as values
            # (ABAN8 + 0), so the short candidate list is the only key the F0101 index is walked
            # by. PostgreSQL used both IN lists as index keys, 1,000 values of a rep's list for
            # 51 candidates (issue 19); the restriction still decides, row by row.
            as_value = {"ABAN8"} if shape.purpose in IN_PURPOSES else set()
            query = query.where(self._over_base(restriction.condition, as_value), append=True, copy=False)
        if shape.search:
            query = query.where(self._search(shape.search), append=True, copy=False)
        if shape.purpose == "one":
            query = query.where(exp.EQ(this=self._col("ABAN8"), expression=exp.Placeholder(this="an8")),
                                append=True, copy=False)
        if shape.purpose in IN_PURPOSES:  # the accounts the search index proposes: ABAN8 IN (:c0, ..)
            binds = [exp.Placeholder(this=f"c{i}") for i in range(int(shape.rows))]
            query = query.where(exp.In(this=self._col("ABAN8"), expressions=binds), append=True, copy=False)
        if shape.purpose == "count":
            query.set("expressions", [exp.Count(this=exp.Star())])
            query.set("order", None)
            return query
        names = (self.columns if shape.purpose in INDEX_PURPOSES  # ABALKY, ABDC only where the base has them:
                 else [n for n in DECIDE_COLUMNS if n in self.columns] if shape.purpose == "decide"  # the recheck
                 else LIST_COLUMNS)  # reads them with .get, as the rows of "index-in" did
        query.set("expressions", [self._output(name) for name in names])
        query.set("order", None)
        if shape.purpose in ("list", "index"):
            keys = SORT_KEYS[shape.sort]
            # every page, the first too, starts after a key: one plan, walking the sort's index
            query = query.where(self._after(keys), append=True, copy=False)
            if keys == ("ABAN8",):
                self._bound_joined_numbers(query)
            nulls_first = _nulls_first_ascending(self.dialect)
            query = query.order_by(*[exp.Ordered(this=self._col(k), desc=False, nulls_first=nulls_first) for k in keys],
                                   copy=False)
            query = query.limit(exp.Literal.number(int(shape.rows)), copy=False)
        return query

    # -- parts ------------------------------------------------------------------------------

    def _col(self, name: str) -> exp.Expression:
        return self.columns[name].copy()

    def _output(self, name: str) -> exp.Expression:
        if isinstance(self.columns[name], exp.Column):
            return self._col(name)
        return exp.Alias(this=self._col(name), alias=exp.to_identifier(name))

    def _over_base(self, condition: exp.Expression, as_value: set[str] = frozenset()) -> exp.Expression:
        """The filter's bare column names replaced by the base query's expressions for them
        (the number columns named in as_value written `expression + 0`: no index walks them)."""
        def column(node: exp.Expression) -> exp.Expression:
            if not isinstance(node, exp.Column):
                return node
            name = node.name.upper()
            if name in as_value:
                return exp.Paren(this=exp.Add(this=self._col(name), expression=exp.Literal.number(0)))
            return self._col(name)

        return condition.transform(column)

    def _search(self, search: str) -> exp.Expression:
        if search.startswith("number:"):
            digits = int(search.split(":", 1)[1])
            an8 = self._col("ABAN8")
            parts: list[exp.Expression] = [exp.EQ(this=an8, expression=exp.Placeholder(this="q_an8"))]
            for extra in range(1, MAX_AN8_DIGITS - digits + 1):
                parts.append(exp.Between(this=an8.copy(), low=exp.Placeholder(this=f"q_lo{extra}"),
                                         high=exp.Placeholder(this=f"q_hi{extra}")))
            return exp.Paren(this=exp.or_(*parts, wrap=False))
        city = exp.Like(this=exp.Upper(this=self._col("ALCTY1")), expression=exp.Placeholder(this="q_city"))
        if search == "name-only":
            return city
        name = exp.Like(this=self._col("ABDC"), expression=exp.Placeholder(this="q_name"))
        return exp.Paren(this=exp.or_(name, city, wrap=False))

    def _bound_joined_numbers(self, query: exp.Select) -> None:
        """Repeat ABAN8 > :k_an8 inside the EXISTS checks, on the columns equated with ABAN8.

        The bound follows from the equalities, but PostgreSQL does not infer it, and without
        it a semi or anti merge join reads an F0150 or F0116 index from its start on every deep page.
        Only there: each repeated bound also lowers PostgreSQL's row estimate, and with it
        everywhere a deep page was estimated at 9 rows and sorted the rest of the table.
        The base writes its correlations as `inner column = outer column`: the inner one is bounded.
        """
        anchor = self.columns["ABAN8"]
        equal = {anchor}
        pairs = [eq for eq in query.find_all(exp.EQ)
                 if isinstance(eq.this, exp.Column) and isinstance(eq.expression, exp.Column)]
        grew = True
        while grew:
            grew = False
            for eq in pairs:
                if (eq.this in equal) != (eq.expression in equal):
                    equal.update((eq.this, eq.expression))
                    grew = True
        for eq in pairs:
            if eq.this in equal and eq.this != anchor and eq.find_ancestor(exp.Exists) is not None:
                bound = exp.GT(this=eq.this.copy(), expression=exp.Placeholder(this="k_an8"))
                eq.replace(exp.Paren(this=exp.and_(eq.copy(), bound, wrap=False)))

    def _after(self, keys: tuple[str, ...]) -> exp.Expression:
        """Rows after the cursor's (sort value, account number); the >= lets an index start at the key."""
        if len(keys) == 1:
            return exp.GT(this=self._col(keys[0]), expression=exp.Placeholder(this="k_an8"))
        sort, tie = keys
        if self.dialect in ROW_VALUE_DIALECTS:  # (a, b) > (:x, :y): one exact index range
            return exp.GT(this=exp.Tuple(expressions=[self._col(sort), self._col(tie)]),
                          expression=exp.Tuple(expressions=[exp.Placeholder(this="k_sort"),
                                                            exp.Placeholder(this="k_an8")]))
        value = exp.Placeholder(this="k_sort")
        later = exp.or_(exp.GT(this=self._col(sort), expression=value.copy()),
                        exp.GT(this=self._col(tie), expression=exp.Placeholder(this="k_an8")), wrap=False)
        return exp.and_(exp.GTE(this=self._col(sort), expression=value), exp.Paren(this=later), wrap=False)


def _nulls_first_ascending(dialect: str) -> bool:
    """The dialect's own NULL placement, so that no NULLS FIRST/LAST or CASE is rendered.

    The sort columns are never NULL (JDE stores blanks), so the native placement is right
    and keeps the ORDER BY answerable from an index.
    """
    ordering = Dialect.get_or_raise(dialect).NULL_ORDERING
    return ordering in ("nulls_are_small", "nulls_are_first")


def _load_base(path: Path) -> exp.Select:
    try:
        statements = sqlglot.parse(path.read_text(), read="oracle")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, OSError) as exc:
        raise BaseQueryError(f"{path}: cannot be read as SQL: {exc}") from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        raise BaseQueryError(f"{path}: must hold exactly one query (one select statement, nothing else)")
    base = statements[0]
    for node in base.walk():  # the file's comments are for people; rendered, they would look like binds
        node.comments = None
    return base


def _output_columns(base: exp.Select) -> dict[str, exp.Expression]:
    return {projection.alias_or_name.upper(): projection.unalias() for projection in base.expressions}


def _check_base(base: exp.Select, columns: dict[str, exp.Expression], policy: Policy, settings: Settings) -> None:
    where = settings.resource(*BASE_SQL)
    sort_columns = [name for keys in SORT_KEYS.values() for name in keys]
    missing = [name for name in dict.fromkeys((*LIST_COLUMNS, *sort_columns, *policy.columns)) if name not in columns]
    if missing:
        raise BaseQueryError(f"{where}: the query does not output {', '.join(missing)} "
                             "(the gateway and restrictions/policy.toml need them)")
    binds = {p.name for p in base.find_all(exp.Placeholder)}
    if binds != _BASE_PARAMS:
        raise BaseQueryError(f"{where}: binds must be exactly {', '.join(sorted(_BASE_PARAMS))}; "
                             f"found {', '.join(sorted(binds)) or 'none'}")
    known = {t.name.upper(): t for t in jde_tables(None).all()}
    for table in base.find_all(exp.Table):
        if table.name.upper() not in known or table.db:
            raise BaseQueryError(f"{where}: table {table.sql()} is not a JDE table the gateway knows "
                                 "(write F0101 etc. without a schema: the schema is configuration)")
    # Each text column's width in the policy must be JDE's, or padded values would not match.
    for name, rule in policy.columns.items():
        source = columns[name]
        if not isinstance(source, exp.Column):
            raise BaseQueryError(f"{where}: filter column {name} must be a plain column of a JDE table")
        alias = source.table.upper()
        table = next((t for t in base.find_all(exp.Table) if t.alias_or_name.upper() == alias), None)
        jde_column = known[table.name.upper()].c.get(name.lower()) if table is not None else None
        if jde_column is None:
            raise BaseQueryError(f"{where}: {name} does not come from a known JDE table column")
        width = getattr(jde_column.type, "width", None)
        if rule.is_text != isinstance(jde_column.type, JdeChar) or (rule.is_text and width != rule.width):
            jde_type = f"char({width})" if isinstance(jde_column.type, JdeChar) else "a number"
            raise BaseQueryError(f"{policy.source}: {name} is {rule.type}({rule.width}) but JDE has "
                                 f"{jde_type}; make the policy match the table")
