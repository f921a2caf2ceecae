"""A stand-in for JDE's batch Inbound Edit/Update (R47011) for customer orders, as Oracle documents it.

- It reads unprocessed documents (EDSP not 'Y') of F47011/F47012 and refuses one whose required
  fields are not filled: header EDOC, EDCT, EKCO, EDST, EDER = 'R', TPUR, AN8 or SHAN, MCU; line
  EDOC, EDCT, EKCO, EDST, EDLN, EDER = 'R', AN8 or SHAN, one of ITM/LITM/AITM/CITM, UORG
  (https://docs.oracle.com/en/applications/jd-edwards/supply-chain-manufacturing/9.2/eoadi/mapping-guidelines.html).
  Customer orders are transaction set 850 (.../eoadi/understanding-inbound-customer-orders.html).
- A refused document stays unprocessed and its errors are reported (R47011 writes them to the
  Employee Work Center); a processed one becomes a sales order (F4201/F4211) and every inbound row
  of it gets EDSP = 'Y', never to be processed again (.../eoadi/receiving-customer-orders.html).
- VR01/VR02 go to the order's SHVR01/SHVR02 (the P4210 version's defaults otherwise); new lines
  start at next status 520, as an SO order-activity rule does after entry.
"""

from __future__ import annotations

import sqlalchemy as sa

from ecgateway.jde.tables import JdeTables

ENTERED_NEXT_STATUS = "520"
ENTERED_LAST_STATUS = "500"


def run_r47011(conn: sa.Connection, tables: JdeTables, *, first_order: int = 70_000) -> dict[int, list[str]]:
    """Process every unprocessed 850; returns the refused documents' numbers and what was wrong with them."""
    h, d = tables.F47011, tables.F47012
    sh, sd = tables.F4201, tables.F4211
    refused: dict[int, list[str]] = {}
    next_order = max(first_order, (conn.scalar(sa.select(sa.func.max(sh.c.shdoco))) or 0) + 1)
    for header in conn.execute(sa.select(h).where(h.c.syedsp != "Y").order_by(h.c.syedoc)).mappings().all():
        key = (header["syedoc"], header["syedct"], header["syekco"])
        lines = conn.execute(sa.select(d).where(d.c.szedoc == key[0], d.c.szedct == key[1], d.c.szekco == key[2])
                             .order_by(d.c.szedln)).mappings().all()
        errors = _header_errors(header) + [e for line in lines for e in _line_errors(line)]
        if not lines:
            errors.append("no detail lines in F47012")
        if errors:
            refused[header["syedoc"]] = errors
            continue
        company = header["syekco"]
        conn.execute(sh.insert().values(
            shkcoo=company, shdoco=next_order, shdcto="SO", shan8=header["syan8"] or header["syshan"],
            shshan=header["syshan"] or header["syan8"], shpa8=header["sypa8"], shmcu=header["symcu"],
            shtrdj=header["sytrdj"], shvr01=header["syvr01"], shvr02=header["syvr02"], shcrcd=header["sycrcd"],
            shotot=header["syotot"]))
        conn.execute(sd.insert(), [dict(
            sdkcoo=company, sddoco=next_order, sddcto="SO", sdlnid=line["szedln"], sdan8=line["szan8"],
            sdshan=line["szshan"], sdpa8=line["szpa8"], sdmcu=line["szmcu"], sditm=line["szitm"],
            sdlitm=line["szlitm"], sduorg=line["szuorg"], sduprc=line["szuprc"], sdaexp=line["szaexp"],
            sdcrcd=line["szcrcd"], sdnxtr=ENTERED_NEXT_STATUS, sdlttr=ENTERED_LAST_STATUS, sdtrdj=line["sztrdj"],
            sdvr01=line["szvr01"]) for line in lines])
        where_h = sa.and_(h.c.syedoc == key[0], h.c.syedct == key[1], h.c.syekco == key[2])
        where_d = sa.and_(d.c.szedoc == key[0], d.c.szedct == key[1], d.c.szekco == key[2])
        conn.execute(sa.update(h).where(where_h).values(syedsp="Y"))
        conn.execute(sa.update(d).where(where_d).values(szedsp="Y"))
        next_order += 1
    return refused


def _header_errors(row) -> list[str]:
    errors = []
    for column in ("syedoc", "syedct", "syekco", "syedst", "sytpur", "symcu"):
        if not row[column]:
            errors.append(f"F47011 {column.upper()} is blank")
    if row["syedst"] and row["syedst"] != "850":
        errors.append(f"F47011 SYEDST {row['syedst']!r} is not a customer order (850)")
    if row["syeder"] != "R":
        errors.append("F47011 SYEDER is not R (received)")
    if not (row["syan8"] or row["syshan"]):
        errors.append("F47011 has neither SYAN8 nor SYSHAN")
    return errors


def _line_errors(row) -> list[str]:
    line = row["szedln"]
    errors = [f"F47012 line {line}: {c.upper()} is blank" for c in ("szedoc", "szedct", "szekco", "szedst", "szedln")
              if not row[c]]
    if row["szeder"] != "R":
        errors.append(f"F47012 line {line}: SZEDER is not R (received)")
    if not (row["szan8"] or row["szshan"]):
        errors.append(f"F47012 line {line}: neither SZAN8 nor SZSHAN")
    if not (row["szitm"] or row["szlitm"] or row["szaitm"] or row["szcitm"]):
        errors.append(f"F47012 line {line}: no item number (ITM, LITM, AITM or CITM)")
    if not row["szuorg"]:
        errors.append(f"F47012 line {line}: SZUORG is 0")
    return errors
