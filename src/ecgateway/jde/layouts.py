"""JDE 9.2's real column lists for the tables the gateway touches, read from `columns.tsv`.

`columns.tsv` is a copy of the project notes' `jde-columns.tsv` (table, column, kind, primary
key, position). Its source: the public JDE 9.2 model set JDEQuery
(github.com/LongJohnBlackbeard/JDEQuery, `JDE.Models/<table>Model.cs` at commit dab104f), keys as
its models mark them. F0015 (exchange rates) was added later from the same repository's
`JDE.Models/F0015Model.cs` at commit d1f2d35. It gives names, kinds and keys, not widths, implied decimals or
nullability: widths and decimals are the data dictionary's (see jde/tables.py and
ECGW_DECIMALS).

Writers of JDE tables use it to set every column (JDE stores no NULL: blank text, 0 numbers
and dates); tests use it to create tables in JDE's real shape (`real_table`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    MetaData,
    PrimaryKeyConstraint,
    Table,
)
from sqlalchemy.sql.schema import SchemaItem
from sqlalchemy.types import TypeEngine

from ecgateway.jde.types import JdeChar

TEXT, NUMBER, DATE = "text", "number", "date"


@dataclass(frozen=True)
class LayoutColumn:
    table: str  # e.g. "F47011"
    name: str  # upper case, with the table's prefix, e.g. "SYEDOC"
    kind: str  # text, number (Julian dates included) or date (a DateTime column)
    primary_key: bool
    position: int


@cache
def layouts() -> dict[str, tuple[LayoutColumn, ...]]:
    """Every table of columns.tsv, its columns in the model's order."""
    text = resources.files("ecgateway.jde").joinpath("columns.tsv").read_text(encoding="utf-8")
    tables: dict[str, list[LayoutColumn]] = {}
    for row in csv.DictReader(text.splitlines(), delimiter="\t"):
        column = LayoutColumn(table=row["table"], name=row["column"], kind=row["kind"],
                              primary_key=row["primary_key"] == "y", position=int(row["position"]))
        tables.setdefault(column.table, []).append(column)
    return {name: tuple(sorted(cols, key=lambda c: c.position)) for name, cols in tables.items()}


def layout(table: str) -> tuple[LayoutColumn, ...]:
    """The real columns of one JDE table; KeyError names a table the file does not hold."""
    try:
        return layouts()[table.upper()]
    except KeyError:
        raise KeyError(f"no JDE column list for {table} in ecgateway/jde/columns.tsv") from None


def real_table(metadata: MetaData, table: str, *extra: SchemaItem, widths: dict[str, int] | None = None,
               text_width: int = 40, types: dict[str, TypeEngine] | None = None, defaults: bool = False) -> Table:
    """The table as JDE lays it out: every real column NOT NULL, with no default unless asked.

    Without defaults a column an INSERT leaves out fails the insert, as it would leave a NULL
    that JDE's own programs never write (what the gateway writes is made this way). Tables the
    gateway only reads take defaults=True: blank text and 0 numbers, so that the generator and
    tests may name just the columns that matter. Text columns are fixed-width (padded) with the
    width given in `widths` (lower-case column name -> characters), else `text_width`; `types`
    overrides the type of named columns (e.g. a business unit, right-justified). `extra` takes
    indexes and constraints.
    """
    widths, types = widths or {}, types or {}
    columns = []
    for col in layout(table):
        name = col.name.lower()
        if name in types:
            type_ = types[name]
        elif col.kind == TEXT:
            type_ = JdeChar(widths.get(name, text_width))
        elif col.kind == DATE:
            type_ = DateTime()
        else:
            type_ = BigInteger()
        default = None
        if defaults and col.kind != DATE:
            default = " " if col.kind == TEXT else 0
        columns.append(Column(name, type_, nullable=False, default=default))
    keys = [c.name.lower() for c in layout(table) if c.primary_key]
    return Table(table.lower(), metadata, *columns, PrimaryKeyConstraint(*keys), *extra)


def blank_row(table: Table, *, blank_datetime) -> dict[str, object]:
    """A value for every column of a real_table as JDE writes "nothing": blank text, 0 numbers
    and Julian dates, and blank_datetime for DateTime columns (which take no NULL either)."""
    row: dict[str, object] = {}
    for column in table.c:
        if isinstance(column.type, DateTime):
            row[column.name] = blank_datetime
        elif isinstance(column.type, BigInteger):
            row[column.name] = 0
        else:
            row[column.name] = " "
    return row
