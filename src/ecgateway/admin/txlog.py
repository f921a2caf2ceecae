"""The transaction log: audit entries for people. Filter, sort, word each entry, export CSV.

Reads ecgateway.audit.models.AuditEntry only; entries are never changed here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ecgateway.admin.users import AdminError
from ecgateway.audit.actions import words
from ecgateway.audit.models import AuditEntry
from ecgateway.csvout import csv_chunks as write_csv_chunks
from ecgateway.db import in_values
from ecgateway.portal.models import User

SORTS = {
    "date": (AuditEntry.seq,),
    "rep": (AuditEntry.actor_login, AuditEntry.seq),
    "account": (AuditEntry.subject_an8, AuditEntry.seq),
    "action": (AuditEntry.action, AuditEntry.seq),
}
DIRECTIONS = ("asc", "desc")
MAX_PAGE = 500
CSV_HEADER = ("seq", "at_utc", "csr", "csr_name", "account", "action", "outcome", "object", "description",
              "detail", "hash")
_ORDER_OBJECT = re.compile(r"^order (\d+)$")


@dataclass(frozen=True)
class LogFilter:
    """What to show; every field optional. action "obo" matches obo.start, obo.end, ..."""

    rep: str | None = None  # the CSR: actor login, exact, any case
    account: int | None = None  # subject AN8
    action: str | None = None
    outcome: str | None = None
    date_from: dt.date | None = None  # UTC days, inclusive
    date_to: dt.date | None = None
    order_id: int | None = None  # the entries of one portal order
    reason: str | None = None  # words of an on-behalf-of session's reason or ticket (obo_reason), any case

    def query_args(self) -> dict[str, str]:
        """The filter as URL query parameters (for links and the CSV export of the same view)."""
        pairs = {"rep": self.rep, "account": self.account, "action": self.action, "outcome": self.outcome,
                 "date_from": self.date_from, "date_to": self.date_to, "order": self.order_id, "reason": self.reason}
        return {k: str(v) for k, v in pairs.items() if v not in (None, "")}


@dataclass(frozen=True)
class LogLine:
    seq: int
    at: dt.datetime
    rep_login: str
    rep_name: str
    account: int | None
    action: str
    outcome: str
    object: str
    detail: dict
    description: str
    order_id: int | None
    hash: str


@dataclass(frozen=True)
class LogPage:
    lines: list[LogLine]
    total: int
    limit: int
    offset: int


def query_log(portal: Session, *, flt: LogFilter, sort: str = "date", direction: str = "desc",
              limit: int = 50, offset: int = 0) -> LogPage:
    """One page of entries matching flt, in the asked order, with the total count."""
    stmt = _filtered(flt)
    total = portal.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    limit = max(1, min(limit, MAX_PAGE))
    stmt = _ordered(stmt, sort, direction).limit(limit).offset(max(0, offset))
    return LogPage(lines=_lines(portal, stmt), total=total, limit=limit, offset=max(0, offset))


def iter_log(portal: Session, *, flt: LogFilter, sort: str = "date", direction: str = "asc",
             batch: int = 1000) -> Iterator[LogLine]:
    """Every matching entry in order, read in batches (for the CSV export)."""
    stmt = _ordered(_filtered(flt), sort, direction)
    offset = 0
    while True:
        lines = _lines(portal, stmt.limit(batch).offset(offset))
        yield from lines
        if len(lines) < batch:
            return
        offset += batch


def csv_chunks(portal: Session, *, flt: LogFilter, sort: str = "date", direction: str = "asc") -> Iterator[str]:
    """The CSV export, as text chunks to stream; cells are guarded against spreadsheet formulas."""
    rows = ((line.seq, _iso(line.at), line.rep_login, line.rep_name, line.account, line.action, line.outcome,
             line.object, line.description, json.dumps(line.detail, sort_keys=True, ensure_ascii=False), line.hash)
            for line in iter_log(portal, flt=flt, sort=sort, direction=direction))
    yield from write_csv_chunks(CSV_HEADER, rows)


def actions(portal: Session) -> list[str]:
    """The actions present in the log, for the filter's choice list."""
    return list(portal.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def describe(action: str, outcome: str, rep: str, account: int | None, obj: str, detail: dict) -> str:
    """One sentence for people: the action's words in ecgateway.audit.actions."""
    return words(action, outcome, rep=rep, account=account, obj=obj, detail=detail)


def parse_date(value: str | None, *, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise AdminError(f"{field} {value!r} is not a date; write it as YYYY-MM-DD", field=field) from None


# -- helpers -------------------------------------------------------------------------------

def _filtered(flt: LogFilter) -> Select:
    stmt = select(AuditEntry, User.name).outerjoin(User, User.id == AuditEntry.actor_user_id)
    if flt.rep:
        stmt = stmt.where(func.lower(AuditEntry.actor_login) == flt.rep.strip().lower())
    if flt.account is not None:
        stmt = stmt.where(AuditEntry.subject_an8 == flt.account)
    if flt.action:
        action = flt.action.strip()
        stmt = stmt.where(AuditEntry.action == action if "." in action
                          else or_(AuditEntry.action == action, AuditEntry.action.startswith(action + ".")))
    if flt.outcome:
        stmt = stmt.where(AuditEntry.outcome == flt.outcome)
    if flt.date_from is not None:
        stmt = stmt.where(AuditEntry.at >= _day_start(flt.date_from))
    if flt.date_to is not None:
        stmt = stmt.where(AuditEntry.at < _day_start(flt.date_to + dt.timedelta(days=1)))
    if flt.order_id is not None:
        stmt = stmt.where(AuditEntry.object == f"order {flt.order_id}")
    if flt.reason and flt.reason.strip():
        stmt = stmt.where(_reason_matches(flt.reason.strip()))
    return stmt


# The entries that carry an on-behalf-of session's reason: its start (or change), and its end.
REASON_ACTIONS = ("obo.start", "obo.change", "obo.end")


def _reason_matches(words: str):
    """Entries whose obo_reason contains words (any case). The detail is canonical JSON text
    (sorted keys, no spaces, ensure_ascii off): the words are looked for as JSON string content
    right after the key, with LIKE's wildcards escaped."""
    inner = json.dumps(words.lower(), ensure_ascii=False)[1:-1]
    escaped = inner.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = '%"obo_reason":"%' + escaped + '%'
    return in_values(AuditEntry.action, REASON_ACTIONS) & func.lower(AuditEntry.detail).like(pattern, escape="\\")


def _ordered(stmt: Select, sort: str, direction: str) -> Select:
    if sort not in SORTS:
        raise AdminError(f"sort {sort!r} is not one of {', '.join(SORTS)}", field="sort")
    if direction not in DIRECTIONS:
        raise AdminError(f"direction {direction!r} is not one of asc, desc", field="direction")
    columns = SORTS[sort]
    return stmt.order_by(*(c.desc() if direction == "desc" else c.asc() for c in columns))


def _lines(portal: Session, stmt: Select) -> list[LogLine]:
    out = []
    for entry, name in portal.execute(stmt).all():
        try:
            detail = json.loads(entry.detail or "{}")
        except ValueError:
            detail = {}
        match = _ORDER_OBJECT.match(entry.object or "")
        out.append(LogLine(
            seq=entry.seq, at=_aware(entry.at), rep_login=entry.actor_login or "", rep_name=name or "",
            account=entry.subject_an8, action=entry.action, outcome=entry.outcome, object=entry.object or "",
            detail=detail if isinstance(detail, dict) else {},
            description=describe(entry.action, entry.outcome, entry.actor_login or "", entry.subject_an8,
                                 entry.object or "", detail if isinstance(detail, dict) else {}),
            order_id=int(match.group(1)) if match else None, hash=entry.hash,
        ))
    return out


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _iso(value: dt.datetime) -> str:
    return _aware(value).astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

