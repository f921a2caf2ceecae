"""The embedded ERP: prices from the JDE tables, orders queued in JDE's EDI inbound tables.

Orders: one F47011 header and one F47012 row per line, EDI document type 'SO', company
and branch from the order, processed flag (SYEDSP/SZEDSP) blank so that batch R47011
picks them up. The order's idempotency key is the external reference in SYVR02 (25
characters; see references.external_reference): SYVR01 holds the customer's PO number,
as R47011 carries VR01/VR02 into the sales order's SHVR01/SHVR02. SYURRF (15 characters)
is too short for a key and stays blank.

Exactly once: the check for an earlier order with the same reference, the choice of the
next EDI document number and the inserts happen in one transaction that first takes a
lock serialising every writer of F47011 (LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE on
PostgreSQL and Oracle; on SQLite an update matching no row, which takes the database's
write lock). A second submit with the same key, concurrent or later, waits for the first
and returns its receipt. Other databases are not supported for local orders.

Status: 'queued' while SYEDSP is blank; once R47011 has flagged the EDI order, the sales
order it made is found by sold-to (SHAN8), customer PO (SHVR01) and an order date on or
after the EDI date, and named from the lowest F4211 next status of its lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from ecgateway.config import Settings
from ecgateway.erp.base import (
    ErpRejected,
    ErpUnavailable,
    OrderReceipt,
    OrderStatus,
    OrderSubmission,
    PriceRequest,
    PriceResult,
)
from ecgateway.erp.local_pricing import PricingRules, load_items, price_cart
from ecgateway.erp.references import EdiReference, external_reference, sales_order_status
from ecgateway.jde.conventions import to_implied, today_julian
from ecgateway.jde.tables import JdeTables

log = logging.getLogger(__name__)

EDI_DOC_TYPE = "SO"
EDI_BATCH = "ECGATEWAY"
QUEUED = "queued"
LOCKING_DIALECTS = ("postgresql", "oracle")


class LocalErp:
    """The Erp interface over the JDE database itself (the embedded default and the demo)."""

    def __init__(self, engine: sa.Engine, tables: JdeTables, settings: Settings, *,
                 today: Callable[[], int] = today_julian):
        self.engine = engine
        self.tables = tables
        self.decimals = settings.decimals
        self.pricing_rules = PricingRules.from_settings(settings)
        self.today = today

    def price(self, request: PriceRequest) -> PriceResult:
        """Price every line for (sold-to, ship-to) with a fixed number of queries."""
        try:
            with self.engine.connect() as conn:
                return price_cart(conn, self.tables, request, decimals=self.decimals, today=self.today(),
                                  rules=self.pricing_rules)
        except sa.exc.OperationalError as exc:
            raise ErpUnavailable(f"the JDE database did not answer the price query ({_first_line(exc)}):"
                                 " check ECGW_JDE_URL and that the database is up, then try again") from exc

    def submit_order(self, order: OrderSubmission) -> OrderReceipt:
        """Queue the order in F47011/F47012 once; the same idempotency key returns the first receipt."""
        reference = external_reference(order.idempotency_key)
        _check_order(order)
        try:
            with self.engine.begin() as conn:
                _serialise_inbound_writers(conn, self.tables.F47011)
                earlier = _find_by_reference(conn, self.tables, reference)
                if earlier is not None:
                    log.info("order with external reference %s already queued as %s", reference, earlier)
                    return OrderReceipt(erp_reference=str(earlier), status=QUEUED)
                queued = self._insert(conn, order, reference)
        except sa.exc.OperationalError as exc:
            raise ErpUnavailable(f"the JDE database did not take the order ({_first_line(exc)}):"
                                 " it stays in the outbox and is sent again later") from exc
        log.info("order %s queued in F47011 as %s", reference, queued)
        return OrderReceipt(erp_reference=str(queued), status=QUEUED)

    def order_status(self, erp_reference: str) -> OrderStatus:
        """Queued while F47011 waits for R47011; then the sales order's F4211 status."""
        ref = EdiReference.parse(erp_reference)
        h, sh, sd = self.tables.F47011, self.tables.F4201, self.tables.F4211
        with self.engine.connect() as conn:
            header = conn.execute(sa.select(h.c.syedsp, h.c.syan8, h.c.syvr01, h.c.sytrdj).where(
                h.c.syedoc == ref.number, h.c.syedct == ref.doc_type, h.c.syekco == ref.company)).first()
            if header is None:
                raise ErpRejected(f"no EDI order {ref} in F47011: check the reference, or whether the EDI"
                                  " inbound tables were purged")
            if not header.syedsp:
                return OrderStatus(erp_reference=erp_reference, status=QUEUED,
                                   detail="waiting in the EDI inbound tables (F47011) for batch R47011")
            order = conn.execute(
                sa.select(sh.c.shkcoo, sh.c.shdoco, sh.c.shdcto)
                .where(sh.c.shan8 == header.syan8, sh.c.shvr01 == header.syvr01, sh.c.shtrdj >= header.sytrdj)
                .order_by(sh.c.shdoco).limit(1)
            ).first()
            if order is None:
                return OrderStatus(erp_reference=erp_reference, status="processed",
                                   detail="R47011 processed the EDI order; its sales order is not found yet")
            lowest = conn.execute(sa.select(sa.func.min(sd.c.sdnxtr)).where(
                sd.c.sdkcoo == order.shkcoo, sd.c.sddoco == order.shdoco, sd.c.sddcto == order.shdcto)).scalar()
        return OrderStatus(erp_reference=erp_reference, status=sales_order_status(lowest),
                           detail=f"JDE sales order {order.shdcto} {order.shkcoo} {order.shdoco}, next status {lowest}")

    def close(self) -> None:
        """Nothing to release: the engine belongs to the runtime."""

    def _insert(self, conn: sa.Connection, order: OrderSubmission, reference: str) -> EdiReference:
        t = self.tables
        items = load_items(conn, t, {line.item for line in order.lines})
        missing = sorted({line.item for line in order.lines} - set(items))
        if missing:
            raise ErpRejected(f"items {', '.join(missing)} are not in the item master F4101: remove them from the"
                              " cart and order again")
        last = conn.execute(sa.select(sa.func.max(t.F47011.c.syedoc)).where(
            t.F47011.c.syedct == EDI_DOC_TYPE, t.F47011.c.syekco == order.company)).scalar()
        queued = EdiReference(company=order.company, doc_type=EDI_DOC_TYPE, number=int(last or 0) + 1)
        today = self.today()
        amount_places = Decimal(1).scaleb(-self.decimals["AEXP"])
        common = dict(edoc=queued.number, edct=queued.doc_type, ekco=queued.company)
        lines, total = [], Decimal(0)
        for n, line in enumerate(order.lines, start=1):
            extended = (line.unit_price * line.quantity).quantize(amount_places, rounding=ROUND_HALF_UP)
            total += extended
            lines.append(dict(
                szedoc=common["edoc"], szedct=common["edct"], szekco=common["ekco"],
                szedln=self._implied(n, "LNID"), szedsp="", szan8=order.sold_to, szshan=order.ship_to,
                szmcu=order.branch, szitm=items[line.item].itm, szlitm=line.item,
                szuorg=self._implied(line.quantity, "UORG"), szuom=line.uom,
                szuprc=self._implied(line.unit_price, "UPRC"), szaexp=self._implied(extended, "AEXP"),
                szcrcd=order.currency, sztrdj=today,
            ))
        conn.execute(t.F47011.insert().values(
            syedoc=common["edoc"], syedct=common["edct"], syekco=common["ekco"], syedbt=EDI_BATCH, syedsp="",
            syedty="", syan8=order.sold_to, syshan=order.ship_to, symcu=order.branch,
            syvr01=order.customer_po, syvr02=reference, syurrf="", sycrcd=order.currency, sytrdj=today,
            syotot=self._implied(total, "AEXP"),
        ))
        conn.execute(t.F47012.insert(), lines)
        return queued

    def _implied(self, value, item: str) -> int:
        try:
            return to_implied(value, item, self.decimals)
        except ValueError as exc:
            raise ErpRejected(f"order value {value} does not fit JDE column {item}: {exc}") from exc


def _check_order(order: OrderSubmission) -> None:
    if not order.lines:
        raise ErpRejected("the order has no lines: add items to the cart before ordering")
    for line in order.lines:
        if line.quantity <= 0:
            raise ErpRejected(f"line for item {line.item} has quantity {line.quantity}: quantities must be at least 1")
        if line.unit_price < 0:
            raise ErpRejected(f"line for item {line.item} has a negative price {line.unit_price}: reprice the cart")
    if len(order.customer_po) > 25:
        raise ErpRejected(f"customer PO number {order.customer_po!r} is longer than JDE's 25 characters: shorten it")


def _find_by_reference(conn: sa.Connection, tables: JdeTables, reference: str) -> EdiReference | None:
    h = tables.F47011
    row = conn.execute(sa.select(h.c.syekco, h.c.syedct, h.c.syedoc).where(h.c.syvr02 == reference)
                       .order_by(h.c.syedoc).limit(1)).first()
    return None if row is None else EdiReference(company=row.syekco, doc_type=row.syedct, number=row.syedoc)


class LockTable(Executable, ClauseElement):
    """LOCK TABLE <table> IN <mode> MODE (PostgreSQL and Oracle), held until the transaction ends."""

    inherit_cache = False

    def __init__(self, table: sa.Table, mode: str):
        self.table = table
        self.mode = mode


@compiles(LockTable)
def _compile_lock_table(element: LockTable, compiler, **_kw) -> str:
    return "LOCK TABLE " + compiler.preparer.format_table(element.table) + " IN " + element.mode + " MODE"


def _serialise_inbound_writers(conn: sa.Connection, header: sa.Table) -> None:
    """Make this transaction the only writer of F47011 until it ends."""
    dialect = conn.dialect.name
    if dialect in LOCKING_DIALECTS:
        conn.execute(LockTable(header, "SHARE ROW EXCLUSIVE"))
    elif dialect == "sqlite":
        # the first write of a transaction takes SQLite's one write lock, even when it changes no row
        conn.execute(sa.update(header).where(header.c.syedoc < 0).values(syedsp=header.c.syedsp))
    else:
        raise ErpUnavailable(f"the local ERP queues orders on SQLite, PostgreSQL or Oracle, not {dialect}:"
                             " use ECGW_ERP_MODE=ais for this JDE database")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
