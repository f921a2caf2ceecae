"""After checkouts (one of them with a card number typed as the PO), no card-shaped number is
stored anywhere in the portal database or written to the logs."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from ecgateway.commerce import carts, orders
from ecgateway.commerce.errors import Invalid, NotFound
from ecgateway.commerce.outbox import OutboxSettings, Relay
from ecgateway.jde.handle import Jde
from ecgateway.portal.all_models import models

CARD = "4111 1111 1111 1111"
DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
HEX_DIGEST = re.compile(r"[0-9a-f]{32,}")


def card_shaped(text: str) -> list[str]:
    """Luhn-valid runs of 13 to 19 digits (spaces or dashes between them allowed) in text."""
    if HEX_DIGEST.fullmatch(text):  # hashes and random tokens: hex by construction, not data
        return []
    runs = (re.sub(r"\D", "", m.group(0)) for m in DIGIT_RUN.finditer(text))
    return [run for run in runs if luhn(run)]


def luhn(digits: str) -> bool:
    """The Luhn check, written here again so that the sweep does not trust the code it checks."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_the_sweep_finds_a_card_when_there_is_one():
    assert card_shaped(f"note: {CARD} x") and card_shaped("4111111111111111")
    assert not card_shaped("PO-2026-0001 order 5001 total 1234.50")


def test_no_card_number_in_the_portal_database_or_logs_after_checkout(clean, caplog):
    shop = clean
    caplog.set_level(logging.DEBUG)
    with shop.session() as s, shop.jde_engine.connect() as jde:
        carts.add_item(s, Jde(jde, shop.tables), ctx=shop.ctx("rep"), item=shop.items[0], quantity=3)
        s.commit()
        with pytest.raises(NotFound):  # a card typed into the item field is not kept
            carts.add_item(s, Jde(jde, shop.tables), ctx=shop.ctx("rep"), item=CARD.replace(" ", ""), quantity=1)
        s.rollback()
        with pytest.raises(Invalid, match="looks like a card number"):
            orders.place_order(s, Jde(jde, shop.tables, "00000"), shop.erp, ctx=shop.ctx("rep"),
                               idempotency_key="card-1", ship_to=shop.ships[0].an8, customer_po=CARD)
        orders.place_order(s, Jde(jde, shop.tables, "00000"), shop.erp, ctx=shop.ctx("rep"),
                           idempotency_key="card-2", ship_to=shop.ships[0].an8, customer_po="PO-55501")
    Relay(sessions=shop.sessions, erp=shop.erp, settings=OutboxSettings()).run_until_idle()

    hits = []
    with shop.portal_engine.connect() as conn:
        for table in models.Base.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for column, value in row._mapping.items():
                    if value is not None and card_shaped(str(value)):
                        hits.append(f"{table.name}.{column}")
    log_text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert hits == []
    assert card_shaped(log_text) == []
    assert caplog.records, "the sweep must have seen the relay's log lines"
