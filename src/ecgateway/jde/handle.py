"""The request's handle on JDE: the read-only connection, the table definitions, the company
the portal sells from and the implied decimals. Services of the JDE read model take it whole,
so a route never unpacks the runtime (web.deps.JdeDep builds one per request)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from ecgateway.config import DEFAULT_DECIMALS
from ecgateway.jde.tables import JdeTables

DEFAULT_COMPANY = "00000"  # F03012's company for every account; the selling company's row wins when it exists


@dataclass(frozen=True)
class Jde:
    conn: sa.Connection
    tables: JdeTables
    company: str = DEFAULT_COMPANY
    decimals: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DECIMALS))
