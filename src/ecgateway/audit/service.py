"""Write audit entries into the caller's transaction, and verify the hash chain.

Each entry's hash covers its content and the previous entry's hash, so changing, removing
or inserting a row breaks the chain at that point. Writers take the chain head's row lock
(an UPDATE, before reading anything), so concurrent transactions append one after the other
on PostgreSQL; SQLite serialises writers by its database lock, taken by the same UPDATE.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ecgateway.audit.actions import ACTIONS
from ecgateway.audit.models import GENESIS_HASH, AuditChainHead, AuditEntry
from ecgateway.clock import utcnow
from ecgateway.obo.context import Actor

OUTCOMES: tuple[str, ...] = ("ok", "refused", "error")
HEAD_ID = 1

# Keys that must never reach the log (security bar: no passwords, session ids, card data).
_SECRET_KEYS = re.compile(
    r"pass(word|wd)?|secret|session|cookie|csrf|token|card|^pan$|cvv|cvc|security.?code|pin$",
    re.IGNORECASE,
)
# Keys that name a processor's token are allowed: a payment token is what PCI DSS lets us keep.
_ALLOWED_KEYS = frozenset({"payment_token", "idempotency_key"})
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


class AuditError(ValueError):
    """An entry could not be written as asked; the message says which argument and why.

    Not a GatewayError: it is a fault of the calling code, not a refusal written for a person,
    so a request that meets one ends as a plain 500 (and its transaction is rolled back)."""


def record(
    session: Session,
    *,
    actor: Actor | None,
    subject_an8: int | None,
    action: str,
    object: str,  # noqa: A002 - the audit vocabulary's word for what was acted on
    outcome: str,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in session's transaction; if it fails, the caller's action must fail too."""
    if outcome not in OUTCOMES:
        raise AuditError(f"audit outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    _canonical_detail(detail or {})  # a secret-looking key is refused first, whatever the action
    known = ACTIONS.get(action)
    if known is None:
        raise AuditError(f"audit action {action!r} is not in ecgateway.audit.actions; add it there (with its detail "
                         "keys and its words for the transaction log) before recording it")
    unlisted = sorted(set(detail or {}) - known.detail_keys)
    if unlisted:
        raise AuditError(f"audit action {action!r} has no detail key {', '.join(map(repr, unlisted))}; "
                         "add the key to its entry in ecgateway.audit.actions")
    return _append(session, actor=actor, subject_an8=subject_an8, action=action, object=object, outcome=outcome,
                   detail=detail)


def _append(session: Session, *, actor: Actor | None, subject_an8: int | None, action: str, object: str,  # noqa: A002
            outcome: str, detail: Mapping[str, Any] | None) -> AuditEntry:
    """Write the entry at the head of the chain (record() has checked the action)."""
    if not action or len(action) > 64:
        raise AuditError(f"audit action {action!r} must be 1 to 64 characters")
    detail_text = _canonical_detail(detail or {})
    seq, prev_hash = _lock_head(session)
    entry = AuditEntry(
        seq=seq,
        at=utcnow(),
        actor_user_id=actor.user_id if actor else None,
        actor_login=actor.login if actor else "",
        subject_an8=subject_an8,
        action=action,
        object=(object or "")[:200],
        outcome=outcome,
        detail=detail_text,
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(last_hash=entry.hash),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return entry


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 over the entry's content and the previous entry's hash (seq excluded: the chain orders)."""
    payload = json.dumps(
        [
            _utc_text(entry.at), entry.actor_user_id, entry.actor_login or "", entry.subject_an8,
            entry.action, entry.object or "", entry.outcome, entry.detail or "{}", entry.prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # entries read
    kind: Literal["altered", "inserted", "removed"] | None = None
    seq: int | None = None  # the first entry where the chain breaks
    message: str = ""


def verify(session: Session) -> VerifyResult:
    """Walk the chain in order: OK, or the first entry that was altered, inserted or removed."""
    prev_hash = GENESIS_HASH
    hash_before_prev: str | None = None
    expected = 1
    checked = 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)).scalars()
    for entry in rows:
        checked += 1
        if entry.seq > expected:
            missing = f"{expected}" if entry.seq == expected + 1 else f"{expected} to {entry.seq - 1}"
            return VerifyResult(False, checked, "removed", expected, f"entry {missing} was removed (the chain jumps from {expected - 1} to {entry.seq})")
        if entry_hash(entry) != entry.hash:
            return VerifyResult(False, checked, "altered", entry.seq, f"entry {entry.seq} was altered: its content no longer matches its hash")
        if entry.prev_hash != prev_hash:
            if hash_before_prev is not None and entry.prev_hash == hash_before_prev:
                return VerifyResult(False, checked, "inserted", entry.seq - 1, f"entry {entry.seq - 1} was inserted: entry {entry.seq} follows the entry before it")
            return VerifyResult(False, checked, "altered", entry.seq - 1, f"entry {entry.seq - 1} was altered or replaced: entry {entry.seq} does not follow it")
        hash_before_prev, prev_hash = prev_hash, entry.hash
        expected = entry.seq + 1
    head = session.get(AuditChainHead, HEAD_ID)
    last = expected - 1
    if head is None:
        if checked:
            return VerifyResult(False, checked, "removed", None, "the chain head row is missing")
        return VerifyResult(True, 0, message="OK: the audit log is empty")
    if head.seq > last:
        return VerifyResult(False, checked, "removed", last + 1, f"entries {last + 1} to {head.seq} were removed from the end")
    if head.seq < last:
        return VerifyResult(False, checked, "inserted", head.seq + 1, f"entry {head.seq + 1} was inserted after the last entry written")
    if head.last_hash != prev_hash:
        return VerifyResult(False, checked, "altered", last, f"entry {last} was altered or replaced: the chain head recorded another hash")
    return VerifyResult(True, checked, message=f"OK: {checked} entries, chain intact")


def _lock_head(session: Session) -> tuple[int, str]:
    """Take the head's lock by bumping its number; returns (this entry's seq, previous hash)."""
    stmt = (
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(seq=AuditChainHead.seq + 1)
        .returning(AuditChainHead.seq, AuditChainHead.last_hash)
    )
    row = session.execute(stmt, execution_options={"synchronize_session": False}).one_or_none()
    if row is None:  # a database made without the migration: start the chain
        session.execute(insert(AuditChainHead).values(id=HEAD_ID, seq=0, last_hash=GENESIS_HASH))
        row = session.execute(stmt, execution_options={"synchronize_session": False}).one()
    return row[0], row[1]


def _canonical_detail(detail: Mapping[str, Any]) -> str:
    cleaned = _clean(detail, "detail")
    return json.dumps(cleaned, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _clean(value: Any, where: str) -> Any:
    if isinstance(value, Mapping):
        out = {}
        for key, inner in value.items():
            key = str(key)
            if key not in _ALLOWED_KEYS and _SECRET_KEYS.search(key):
                raise AuditError(f"audit {where} key {key!r} looks like a secret; audit entries never hold passwords, session ids or card data")
            out[key] = _clean(inner, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_clean(v, where) for v in value]
    if isinstance(value, str):
        return _DIGIT_RUN.sub(_mask_card_like, value)
    return value


def looks_like_card_number(text: str) -> bool:
    """True when text holds a 13-19 digit run (spaces or dashes allowed) that passes the Luhn
    check: the one definition of card-shaped text (the audit log masks it, orders refuse it)."""
    return any(_luhn_ok(re.sub(r"\D", "", m.group(0))) for m in _DIGIT_RUN.finditer(text or ""))


def _mask_card_like(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if not _luhn_ok(digits):
        return match.group(0)
    return "*" * (len(digits) - 4) + digits[-4:]


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _utc_text(at: dt.datetime) -> str:
    if at.tzinfo is None:  # SQLite gives back the UTC wall time without a zone
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
