"""Bounded whole numbers for the gateway's inputs (path, query, form and JSON fields).

A number that cannot be a JDE address number or a portal row id is refused by validation
(422, with the field named) before it reaches a database, where an out-of-range value
would otherwise be a driver error (a 500 and nothing audited).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query
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
