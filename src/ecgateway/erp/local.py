"""The embedded ERP: prices from the JDE tables, orders queued in JDE's EDI inbound tables.

Orders: one F47011 header and one F47012 row per line, written as R47011 (Inbound
Edit/Update for customer orders) reads them. Every one of the 211/267 real columns is
written, as JDE never stores NULL: blank text, 0 numbers and Julian dates, and for the five
DateTime columns (SYEXDT0..2, SYPOHU01..02) ECGW_EDI_BLANK_DATETIME (default 1900-01-01
00:00:00; copy what your site's own rows hold). On top of that blank row:

- what R47011 requires (https://docs.oracle.com/en/applications/jd-edwards/supply-chain-
  manufacturing/9.2/eoadi/mapping-guidelines.html): EDOC/EDCT/EKCO (the key: number, 'SO',
  the company), EDST '850' (customer orders are transaction set 850, .../eoadi/understanding-
  inbound-customer-orders.html), EDER 'R' (received), TPUR '00' on the header (transaction
  set purpose, UDC 47/PU after ANSI X12 element 353: 00 = original; .../eoads/transaction-set-
  purpose.html, https://stedi.com/edi/x12-003040/element/353), AN8 (sold-to) and SHAN
  (ship-to), MCU (branch, right-justified in 12); per line EDLN (line number, 3 implied
  decimals), the short and 2nd item numbers (ITM, LITM) and UORG;
- EDSP blank: R47011 sets it to 'Y' for the documents it processed (.../eoadi/receiving-
  customer-orders.html);
- the customer's PO in VR01, and the gateway's own reference (the order's idempotency key,
  see references.external_reference) in VR02, header and lines: R47011 carries VR01/VR02 to
  the sales order's SHVR01/SHVR02, where order_status finds it. PA8 is the account (parent);
  TRDJ and EDDT the Julian date of writing on JDE's clock; EDDL the number of lines; UPRC/
  AEXP/OTOT the gateway's prices, which R47011 keeps as entered prices;
- audit columns USER, PID, JOBN, TORG from ECGW_JDE_USER/_PROGRAM_ID/_JOB_NUMBER, UPMJ and
  TDAY the date and time of writing (ECGW_JDE_TIMEZONE).
EDTY, EDSQ and LNID are not in Oracle's R47011 list: EDTY stays blank, EDSQ 0, and SZLNID
repeats EDLN.

Document numbers (SYEDOC) come from ECGW_EDI_NUMBERS:
- `next-numbers` (default): JDE's next numbers, F0002 row NNSY = ECGW_EDI_NEXT_NUMBER_SYSTEM
  (47), line ECGW_EDI_NEXT_NUMBER_LINE (NNN001..NNN010). The line is incremented by an UPDATE
  in the order's own transaction and read back: the row lock that UPDATE takes makes any other
  writer that takes numbers the same way (JDE's next-number function, another gateway) wait
  until this order commits, so no two get the same number; a rolled-back order returns its
  number with it.
- `sequence`: a database sequence on the JDE side (ECGW_EDI_SEQUENCE, PostgreSQL or Oracle),
  for sites that reserve EDI numbers for the gateway apart from JDE's own; gaps are possible,
  duplicates are not.
Never MAX(EDOC)+1: that is only safe among writers that take one lock, and JDE's do not.

Exactly once: the number, the check for an earlier order with the same reference and the
inserts happen in one transaction (a repeat rolls its number back) that takes, after the number,
a lock serialising the gateway's writers of F47011
(LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE on PostgreSQL and Oracle; on SQLite an update
matching no row, which takes the database's write lock). A second submit with the same key,
concurrent or later, waits for the first and returns its receipt. Other databases are not
supported for local orders.

Status: 'queued' while SYEDSP is blank, and 'waiting for R47011' once it has stayed blank
longer than ECGW_EDI_WAIT_MINUTES (run R47011, or check its version's data selection); once
R47011 has flagged it, the sales order is the F4201 row with the reference in SHVR02 for the
same sold-to, named from the lowest F4211 next status of its lines.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from ecgateway.config import Settings
from ecgateway.db import in_values
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
from ecgateway.jde.conventions import (
    date_to_julian,
    jde_now,
    julian_to_date,
    time_of_day,
    to_implied,
)
from ecgateway.jde.layouts import blank_row
from ecgateway.jde.tables import JdeTables

log = logging.getLogger(__name__)

EDI_DOC_TYPE = "SO"
EDI_BATCH = "ECGATEWAY"
CUSTOMER_ORDER = "850"  # EDST: the transaction set of inbound customer orders
RECEIVED = "R"  # EDER: a document received, to be processed inbound
ORIGINAL = "00"  # TPUR: an original order, not a change or cancellation
PROCESSED = "Y"  # EDSP after R47011
QUEUED = "queued"
WAITING = "waiting for R47011"
LOCKING_DIALECTS = ("postgresql", "oracle")
SEQUENCE_DIALECTS = ("postgresql", "oracle")


class LocalErp:
    """The Erp interface over the JDE database itself (the embedded default and the demo)."""

    def __init__(self, engine: sa.Engine, tables: JdeTables, settings: Settings, *,
                 today: Callable[[], int] | None = None, now: Callable[[], dt.datetime] | None = None):
        self.engine = engine
        self.tables = tables
        self.settings = settings
        self.decimals = settings.decimals
        self.now = now or (lambda: jde_now(tables.zone))
        self.today = today or (lambda: date_to_julian(self.now().date()))
        self.numbers = document_numbers(settings, tables)
        self.pricing_rules = PricingRules.from_settings(settings)

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
        reference = external_reference(order.erp_key)
        _check_order(order)
        try:
            with self.engine.begin() as conn:
                # The number first, then F47011: the lock order of a writer that takes its next number and
                # then inserts, so the two cannot deadlock. Anything that stops the order rolls the number back.
                number = self.numbers.take(conn)
                _serialise_inbound_writers(conn, self.tables.F47011)
                earlier = _find_by_reference(conn, self.tables, reference)
                if earlier is not None:
                    raise _AlreadyQueued(earlier)
                queued = self._insert(conn, order, reference, number)
        except _AlreadyQueued as already:
            log.info("order with external reference %s already queued as %s", reference, already.reference)
            return OrderReceipt(erp_reference=str(already.reference), status=QUEUED)
        except sa.exc.OperationalError as exc:
            raise ErpUnavailable(f"the JDE database did not take the order ({_first_line(exc)}):"
                                 " it stays in the outbox and is sent again later") from exc
        log.info("order %s queued in F47011 as %s", reference, queued)
        return OrderReceipt(erp_reference=str(queued), status=QUEUED)

    def order_status(self, erp_reference: str) -> OrderStatus:
        """Queued (then waiting for R47011) while F47011 is unprocessed; then the sales order's F4211 status."""
        ref = EdiReference.parse(erp_reference)
        h, sh, sd = self.tables.F47011, self.tables.F4201, self.tables.F4211
        with self.engine.connect() as conn:
            header = conn.execute(sa.select(h.c.syedsp, h.c.syan8, h.c.syvr02, h.c.syupmj, h.c.sytday).where(
                h.c.syedoc == ref.number, h.c.syedct == ref.doc_type, h.c.syekco == ref.company)).first()
            if header is None:
                raise ErpRejected(f"no EDI order {ref} in F47011: check the reference, or whether the EDI"
                                  " inbound tables were purged")
            if header.syedsp != PROCESSED:
                waited = self._waited(header.syupmj, header.sytday)
                if waited is not None and waited >= dt.timedelta(minutes=self.settings.edi_wait_minutes):
                    return OrderStatus(erp_reference=erp_reference, status=WAITING,
                                       detail=f"unprocessed in F47011 for {_minutes(waited)}: batch R47011 has not"
                                       " taken it yet; ask JDE operations to run it")
                return OrderStatus(erp_reference=erp_reference, status=QUEUED,
                                   detail="waiting in the EDI inbound tables (F47011) for batch R47011")
            order = conn.execute(
                sa.select(sh.c.shkcoo, sh.c.shdoco, sh.c.shdcto)
                .where(sh.c.shvr02 == header.syvr02, sh.c.shan8 == header.syan8)
                .order_by(sh.c.shdoco).limit(1)
            ).first()
            if order is None:
                return OrderStatus(erp_reference=erp_reference, status="processed",
                                   detail="R47011 processed the EDI order; no sales order carries its reference"
                                   f" {header.syvr02} in SHVR02 yet")
            lowest = conn.execute(sa.select(sa.func.min(sd.c.sdnxtr)).where(
                sd.c.sdkcoo == order.shkcoo, sd.c.sddoco == order.shdoco, sd.c.sddcto == order.shdcto)).scalar()
        return OrderStatus(erp_reference=erp_reference, status=sales_order_status(lowest),
                           detail=f"JDE sales order {order.shdcto} {order.shkcoo} {order.shdoco}, next status {lowest}")

    def waiting_for_r47011(self) -> WaitingOrders:
        """The gateway's EDI orders still unprocessed longer than ECGW_EDI_WAIT_MINUTES, and the oldest's age."""
        h = self.tables.F47011
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(h.c.syedoc, h.c.syupmj, h.c.sytday).where(
                h.c.syedsp != PROCESSED, h.c.syedbt == EDI_BATCH, h.c.syedct == EDI_DOC_TYPE)).all()
        limit = dt.timedelta(minutes=self.settings.edi_wait_minutes)
        ages = [w for w in (self._waited(r.syupmj, r.sytday) for r in rows) if w is not None and w >= limit]
        return WaitingOrders(count=len(ages), oldest=max(ages, default=None), unprocessed=len(rows))

    def waiting_among(self, erp_references: list[str]) -> set[str]:
        """Those of the given EDI references R47011 has left unprocessed past ECGW_EDI_WAIT_MINUTES (one query)."""
        refs = {}
        for text in erp_references:
            try:
                refs[text] = EdiReference.parse(text)
            except ErpRejected:
                continue  # not a local ERP reference (e.g. an order sent through AIS before a switch)
        if not refs:
            return set()
        h = self.tables.F47011
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(h.c.syekco, h.c.syedct, h.c.syedoc, h.c.syupmj, h.c.sytday).where(
                    in_values(h.c.syedoc, sorted({r.number for r in refs.values()})), h.c.syedsp != PROCESSED)).all()
        except sa.exc.OperationalError as exc:
            raise ErpUnavailable(f"the JDE database did not answer ({_first_line(exc)})") from exc
        limit = dt.timedelta(minutes=self.settings.edi_wait_minutes)
        late = {str(EdiReference(company=r.syekco, doc_type=r.syedct, number=r.syedoc)) for r in rows
                if (self._waited(r.syupmj, r.sytday) or dt.timedelta(0)) >= limit}
        return {text for text, ref in refs.items() if str(ref) in late}

    def _waited(self, upmj: int, tday: int) -> dt.timedelta | None:
        """How long ago a row was written, from its UPMJ/TDAY on JDE's clock; None if they hold no date."""
        day = julian_to_date(upmj) if upmj else None
        if day is None:
            return None
        now = self.now()
        written = dt.datetime(day.year, day.month, day.day, tday // 10000 % 24, tday // 100 % 100, tday % 100,
                              tzinfo=now.tzinfo)
        return max(now - written, dt.timedelta(0))

    def close(self) -> None:
        """Nothing to release: the engine belongs to the runtime."""

    def _insert(self, conn: sa.Connection, order: OrderSubmission, reference: str, number: int) -> EdiReference:
        t, cfg = self.tables, self.settings
        items = load_items(conn, t, {line.item for line in order.lines})
        missing = sorted({line.item for line in order.lines} - set(items))
        if missing:
            raise ErpRejected(f"items {', '.join(missing)} are not in the item master F4101: remove them from the"
                              " cart and order again")
        queued = EdiReference(company=order.company, doc_type=EDI_DOC_TYPE, number=number)
        now = self.now()
        today = self.today()
        amount_places = Decimal(1).scaleb(-self.decimals["AEXP"])

        def common(prefix: str) -> dict[str, object]:
            """What header and lines share, under the table's column prefix."""
            values = dict(
                ekco=queued.company, edoc=queued.number, edct=queued.doc_type, edst=CUSTOMER_ORDER, eder=RECEIVED,
                eddt=today, edsp=" ", edbt=EDI_BATCH, mcu=order.branch, an8=order.sold_to, shan=order.ship_to,
                pa8=order.parent, trdj=today, vr01=order.customer_po, vr02=reference, crcd=order.currency,
                torg=cfg.jde_user, user=cfg.jde_user, pid=cfg.jde_program_id, jobn=cfg.jde_job_number,
                upmj=date_to_julian(now.date()), tday=time_of_day(now),
            )
            return {prefix + name: value for name, value in values.items()}

        lines, total = [], Decimal(0)
        for n, line in enumerate(order.lines, start=1):
            extended = (line.unit_price * line.quantity).quantize(amount_places, rounding=ROUND_HALF_UP)
            total += extended
            row = blank_row(t.F47012, blank_datetime=cfg.edi_blank_datetime)
            row.update(common("sz"))
            row.update(
                szedln=self._implied(n, "LNID"), szlnid=self._implied(n, "LNID"), szitm=items[line.item].itm,
                szlitm=line.item, szuorg=self._implied(line.quantity, "UORG"), szuom=line.uom,
                szuprc=self._implied(line.unit_price, "UPRC"), szaexp=self._implied(extended, "AEXP"),
            )
            lines.append(row)
        header = blank_row(t.F47011, blank_datetime=cfg.edi_blank_datetime)
        header.update(common("sy"))
        header.update(sytpur=ORIGINAL, syeddl=len(lines), syotot=self._implied(total, "AEXP"))
        conn.execute(t.F47011.insert(), [header])
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


class _AlreadyQueued(Exception):
    """An earlier submit with the same reference is in F47011: roll back this one's number, return that one."""

    def __init__(self, reference: EdiReference):
        super().__init__(str(reference))
        self.reference = reference


@dataclass(frozen=True)
class WaitingOrders:
    count: int  # unprocessed longer than ECGW_EDI_WAIT_MINUTES
    oldest: dt.timedelta | None
    unprocessed: int  # every gateway row R47011 has not flagged yet


def document_numbers(settings: Settings, tables: JdeTables) -> NextNumbers | SequenceNumbers:
    """The source of EDI document numbers ECGW_EDI_NUMBERS names."""
    if settings.edi_numbers == "sequence":
        return SequenceNumbers(sa.Sequence(settings.edi_sequence, schema=tables.metadata.schema))
    return NextNumbers(tables.F0002, system=settings.edi_next_number_system, line=settings.edi_next_number_line)


class NextNumbers:
    """EDI document numbers from JDE's next numbers (F0002), taken as JDE's own programs take them.

    UPDATE ... SET line = line + 1 locks the system's row until the caller's transaction ends;
    the value read back in that transaction, less one, is this writer's number. A concurrent
    writer's UPDATE waits on the lock and then sees the incremented value.
    """

    def __init__(self, f0002: sa.Table, *, system: str, line: int):
        self.f0002 = f0002
        self.system = system
        self.column = f0002.c[f"nnn{line:03d}"]

    def take(self, conn: sa.Connection) -> int:
        f0002, column = self.f0002, self.column
        taken = conn.execute(sa.update(f0002).where(f0002.c.nnsy == self.system).values({column: column + 1}))
        if taken.rowcount != 1:
            raise ErpUnavailable(
                f"JDE next numbers (F0002) have no row for system {self.system}: set up next numbers for system"
                f" {self.system} in JDE (P0002), or set ECGW_EDI_NEXT_NUMBER_SYSTEM/ECGW_EDI_NUMBERS; the order"
                " stays in the outbox")
        return int(conn.scalar(sa.select(column).where(f0002.c.nnsy == self.system))) - 1


class SequenceNumbers:
    """EDI document numbers from a database sequence on the JDE side (PostgreSQL, Oracle)."""

    def __init__(self, sequence: sa.Sequence):
        self.sequence = sequence

    def take(self, conn: sa.Connection) -> int:
        if conn.dialect.name not in SEQUENCE_DIALECTS:
            raise ErpUnavailable(f"ECGW_EDI_NUMBERS=sequence needs PostgreSQL or Oracle, not {conn.dialect.name}:"
                                 " use ECGW_EDI_NUMBERS=next-numbers")
        return int(conn.scalar(self.sequence.next_value()))


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


def _minutes(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
