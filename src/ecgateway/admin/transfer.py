"""Import and export of rep restrictions as CSV.

Export writes one row per EC_Impersonate_Restrictions row: rep_login, filter_text,
changed_by, changed_at. Import reads that, and also CSV exported from an existing
EC_Impersonate_Restrictions table, whose headers differ by installation: the rep column
may be called login, user, user id, CSR...; the filter column filter, restriction,
where clause... (see REP_HEADERS and FILTER_HEADERS). Every row is checked first; if any
row fails nothing is saved, unless the caller asks to save the valid rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecgateway.accounts import RestrictionError, validate_filter
from ecgateway.admin.restrictions import own_restriction_reason, save_restriction
from ecgateway.audit import record
from ecgateway.auth.roles import is_rep
from ecgateway.config import INTERNAL_TYPES
from ecgateway.csvout import rows_to_csv, unguard
from ecgateway.errors import GatewayError
from ecgateway.obo.context import ActingContext
from ecgateway.portal.models import ImpersonateRestriction, User

EXPORT_HEADER = ("rep_login", "filter_text", "changed_by", "changed_at")
# Header names, compared lower-case without spaces, dashes or underscores.
REP_HEADERS = ("replogin", "rep", "login", "userlogin", "user", "username", "userid", "repid", "csr",
               "ecuser", "representative")
FILTER_HEADERS = ("filtertext", "filter", "restriction", "restrictionfilter", "whereclause", "where",
                  "criteria", "condition", "filtersql", "sql")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowFailure:
    row: int  # as a spreadsheet numbers it: the header is row 1
    rep: str
    reason: str

    def describe(self) -> str:
        return f"row {self.row} (rep {self.rep or '?'}): {self.reason}"


@dataclass
class ImportReport:
    rows: int = 0
    failures: list[RowFailure] = field(default_factory=list)
    saved: int = 0
    unchanged: int = 0
    saved_anything: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class _Row:
    row: int
    rep: User
    filter_text: str


class ImportFileError(GatewayError, ValueError):
    """The file as a whole cannot be read (no header, unknown columns); the message says what to fix."""

    status = 422


def export_rows(portal: Session) -> list[tuple[str, str, str, str]]:
    """Every restriction as (rep_login, filter_text, changed_by, changed_at ISO UTC), by login."""
    stmt = (select(User.login, ImpersonateRestriction.filter_text, ImpersonateRestriction.changed_by,
                   ImpersonateRestriction.changed_at)
            .join(User, User.id == ImpersonateRestriction.rep_id).order_by(User.login))
    out = []
    for login, text, by, at in portal.execute(stmt).all():
        out.append((login, text, by, _iso(at)))
    return out


def export_csv(portal: Session) -> str:
    """The export's CSV text, through the one guarded writer (a login or filter never runs as a formula)."""
    return rows_to_csv(EXPORT_HEADER, export_rows(portal))


def import_restrictions(portal: Session, *, ctx: ActingContext, text: str, name: str = "file",
                        save_valid: bool = False) -> ImportReport:
    """Check every row of CSV text; save them all when all pass (or the valid ones if save_valid).

    Saved rows go through save_restriction (history and audit for each); the caller commits.
    """
    report = ImportReport()
    rows = list(_read(text))
    report.rows = len(rows)
    valid: list[_Row] = []
    seen: dict[int, int] = {}
    for number, rep_value, filter_text in rows:
        reason, rep = _check_row(portal, rep_value, filter_text)
        if reason is None and rep is not None:
            reason = own_restriction_reason(portal, ctx=ctx, rep=rep)
        if rep is not None and reason is None and rep.id in seen:
            reason = f"{rep.login} already appears in row {seen[rep.id]}; keep one row per rep"
        if reason is not None:
            report.failures.append(RowFailure(number, rep_value, reason))
            continue
        seen[rep.id] = number
        valid.append(_Row(number, rep, filter_text.strip()))
    if report.failures and not save_valid:
        return report
    for row in valid:
        change = save_restriction(portal, ctx=ctx, rep=row.rep, filter_text=row.filter_text,
                                  source=f"import {name} row {row.row}")
        if change is None:
            report.unchanged += 1
        else:
            report.saved += 1
    report.saved_anything = report.saved > 0
    record(portal, actor=ctx.actor, subject_an8=None, action="admin.restriction_import",
           object=f"import {name}"[:200], outcome="ok" if report.ok else "error",
           detail={"rows": report.rows, "saved": report.saved, "unchanged": report.unchanged,
                   "failed": len(report.failures), "save_valid": save_valid})
    return report


# -- helpers -------------------------------------------------------------------------------

def _read(text: str) -> Iterable[tuple[int, str, str]]:
    """(row number, rep, filter) for each data row; raises ImportFileError for an unusable file."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ImportFileError("the file is empty; export restrictions with `ecgateway restrictions export` to see the format")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader)
    keys = [re.sub(r"[\s_\-]", "", h).lower() for h in header]
    # Our own export guarded cells that look like formulas; a file from elsewhere is read as it is.
    ours = tuple(keys) == tuple(h.replace("_", "") for h in EXPORT_HEADER)
    read = unguard if ours else (lambda cell: cell)
    rep_at = _column(keys, REP_HEADERS)
    filter_at = _column(keys, FILTER_HEADERS)
    if rep_at is None or filter_at is None:
        missing = " and ".join(what for what, at in (("rep", rep_at), ("filter", filter_at)) if at is None)
        raise ImportFileError(
            f"row 1 (the header) has no {missing} column: found {', '.join(header) or 'nothing'}. "
            f"Name the rep column one of rep_login, login, user_id, csr and the filter column one of "
            f"filter_text, filter, restriction, where_clause")
    for index, cells in enumerate(reader, start=2):
        if index > MAX_ROWS + 1:
            raise ImportFileError(f"the file has more than {MAX_ROWS} rows; split it")
        if not any(c.strip() for c in cells):
            continue
        rep = read(cells[rep_at]).strip() if rep_at < len(cells) else ""
        text_value = read(cells[filter_at]) if filter_at < len(cells) else ""
        yield index, rep, text_value


def _column(keys: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:  # the first name in the list wins when a file has several
        if name in keys:
            return keys.index(name)
    return None


def _check_row(portal: Session, rep_value: str, filter_text: str) -> tuple[str | None, User | None]:
    if not rep_value:
        return "the rep is empty; give the rep's login", None
    rep = portal.scalar(select(User).where(User.login == rep_value))
    if rep is None and rep_value.isdigit():
        rep = portal.get(User, int(rep_value))
    if rep is None:
        return (f"there is no user with login {rep_value!r}; add the user first (`ecgateway users add`) "
                "or correct the login"), None
    if not is_rep(rep):
        return (f"{rep.login} is {rep.user_type}; only {', '.join(INTERNAL_TYPES)} users have restrictions"), rep
    if not filter_text.strip():
        return ("the filter is empty; write the filter, e.g. ABAN8 IN ('4242','1003'), or leave the rep out "
                "of the file"), rep
    try:
        validate_filter(filter_text)
    except RestrictionError as exc:
        return f"the filter is refused: {exc}", rep
    return None, rep


def _iso(value) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
