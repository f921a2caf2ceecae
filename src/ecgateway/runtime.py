"""The running gateway's shared parts: settings, both engines, the JDE tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from ecgateway.accounts.query import WorkWithAccounts
from ecgateway.accounts.search import SearchIndex
from ecgateway.config import Settings
from ecgateway.db import is_in_memory, make_engine
from ecgateway.jde.handle import Jde
from ecgateway.jde.tables import JdeTables, jde_tables


@dataclass
class Runtime:
    settings: Settings
    jde_engine: Engine
    portal_engine: Engine
    jde: JdeTables
    portal_sessions: sessionmaker[Session] = field(init=False)
    accounts: WorkWithAccounts = field(init=False)  # the base query, loaded and checked once
    search: SearchIndex = field(init=False)  # the accounts search index, in the portal database
    # Pages and the API read JDE through this one: it refuses writes. jde_engine (orders into
    # F47011/F47012 with the local ERP) is the only writer.
    jde_reader: Engine | None = None

    def __post_init__(self) -> None:
        self.portal_sessions = sessionmaker(self.portal_engine, expire_on_commit=False)
        self.accounts = WorkWithAccounts.load(self.settings, dialect=self.jde_engine.dialect.name)
        self.search = SearchIndex(self.portal_engine)
        if self.jde_reader is None:
            if self.settings.jde_read_url:
                self.jde_reader = make_engine(self.settings.jde_read_url, jde=True, read_only=True,
                                              **pool_options(self.settings, self.settings.jde_read_url))
            elif is_in_memory(self.jde_engine):
                self.jde_reader = self.jde_engine
            else:
                url = self.jde_engine.url.render_as_string(hide_password=False)
                self.jde_reader = make_engine(url, jde=True, read_only=True, **pool_options(self.settings, url))

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            jde_engine=make_engine(settings.jde_database_url, jde=True,
                                   **pool_options(settings, settings.jde_database_url)),
            portal_engine=make_engine(settings.portal_database_url,
                                      **pool_options(settings, settings.portal_database_url)),
            jde=jde_tables(settings.jde_schema, control_schema=settings.jde_control_schema,
                           timezone=settings.jde_timezone),
        )

    @contextmanager
    def reading_jde(self) -> Iterator[Jde]:
        """A JDE handle on the read-only engine, for one request or one command."""
        with self.jde_reader.connect() as conn:
            yield Jde(conn=conn, tables=self.jde, company=self.settings.company, decimals=self.settings.decimals)

    def refresh_search(self, *, fresh_within: float | None = None):
        """One incremental refresh of the search index from JDE's update stamps (None: not built);
        skipped when another process refreshed within fresh_within seconds."""
        with self.jde_reader.connect() as conn:
            return self.search.refresh(conn, wwa=self.accounts, tables=self.jde, fresh_within=fresh_within)

    def dispose(self) -> None:
        if self.jde_reader is not None and self.jde_reader is not self.jde_engine:
            self.jde_reader.dispose()
        self.jde_engine.dispose()
        self.portal_engine.dispose()


def pool_options(settings: Settings, url: str) -> dict[str, object]:
    """The connection pool of one engine of a serving process (ECGW_DB_POOL_SIZE, _MAX_OVERFLOW,
    _POOL_TIMEOUT); none for a SQLite database in memory, which lives in one connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return {}
    return {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout}

