"""Bounded whole numbers for the gateway's inputs (path, query, form and JSON fields).

A number that cannot be a JDE address number or a portal row id is refused by validation
(422, with the field named) before it reaches a database, where an out-of-range value
would otherwise be a driver error (a 500 and nothing audited). Every list's `limit` and
`offset` is declared here too (tests/web/test_paging_bounds.py checks that no route takes
one unbounded): the API answers 422 naming the field; a page asked for an offset past any
list is sent to the list's first page.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, HTTPException, Path, Query, Request
from pydantic import Field

from ecgateway.accounts.query import AN8_MAX

ROW_ID_MAX = 2_147_483_647  # portal ids are 32-bit integers on every database

AccountNumber = Annotated[int, Field(ge=1, le=AN8_MAX)]
AccountNumberForm = Annotated[int, Form(ge=1, le=AN8_MAX)]
OptionalAccountNumberForm = Annotated[int | None, Form(ge=1, le=AN8_MAX)]
OptionalAccountNumberQuery = Annotated[int | None, Query(ge=1, le=AN8_MAX)]
AccountNumberPath = Annotated[int, Path(ge=1, le=AN8_MAX)]
RowIdPath = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
OptionalRowIdQuery = Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)]

# No list holds more rows than a 32-bit id can number; 2^63 and more is a driver error on every database.
OFFSET_MAX = ROW_ID_MAX
PAGING_NAMES = ("limit", "offset", "page", "per_page", "page_size")  # what the bounds test looks for


def limit_query(most: int):
    """A list's page size: 1 to most."""
    return Query(ge=1, le=most, description=f"how many to return, 1 to {most:,}")


Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX, description=f"how many to skip, 0 to {OFFSET_MAX:,}")]


def _page_offset(request: Request, offset: Annotated[str, Query(max_length=100_000)] = "0") -> int:
    """A page's offset; one that is not a place in any list (past 2^31, negative, not a number:
    an edited address) sends the person to the list's first page (303)."""
    text = offset.strip()
    if text.isascii() and text.isdigit() and len(text) <= len(str(OFFSET_MAX)) and int(text) <= OFFSET_MAX:
        return int(text)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    target = request.url.path + ("?" + urlencode(kept) if kept else "")
    raise HTTPException(303, "This list has no page at that offset; here is its first page.",
                        headers={"Location": target})


PageOffset = Annotated[int, Depends(_page_offset)]
