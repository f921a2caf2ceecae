"""The one CSV writer of every export: text cells guarded against spreadsheet formulas.

Spreadsheets (Excel, LibreOffice, Google Sheets) run a cell that starts with = + - @, a tab
or a carriage return as a formula (OWASP, "CSV Injection": prefix such cells with a single
quote). Every export goes through `rows_to_csv` or `csv_chunks`, so no export can forget it.

Numbers, dates and None are written as they are (a number is never a formula; a negative
number stays a number). Text cells that start with a quote are guarded too, so that `unguard`
undoes `guard` exactly: the restrictions export is read back by the import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence

# OWASP's list of cell starts a spreadsheet reads as a formula, and the quote of the guard itself.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_GUARDED_STARTS = (*FORMULA_STARTS, "'")
CHUNK_ROWS = 500


def guard(value: object) -> object:
    """A cell as written: text starting like a formula (or with a quote) gets a leading quote."""
    if isinstance(value, str) and value[:1] in _GUARDED_STARTS:
        return "'" + value
    return value


def unguard(text: str) -> str:
    """The text a guarded cell held (for reading an export back); other text is returned as is."""
    if len(text) >= 2 and text[0] == "'" and text[1] in _GUARDED_STARTS:
        return text[1:]
    return text


def rows_to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The whole CSV text of header and rows (for small exports)."""
    return "".join(csv_chunks(header, rows))


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]], *,
               chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """The CSV as text chunks of about chunk_rows rows each, to stream a large export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([guard(h) for h in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([_cell(v) for v in row])
        if n % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return guard(value)
