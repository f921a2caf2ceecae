"""The running gateway's shared parts: settings, both engines, the JDE tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ecgateway.accounts.query import WorkWithAccounts
from ecgateway.config import Settings
from ecgateway.db import make_engine
from ecgateway.jde.tables import JdeTables, jde_tables


@dataclass
class Runtime:
    settings: Settings
    jde_engine: Engine
    portal_engine: Engine
    jde: JdeTables
    portal_sessions: sessionmaker[Session] = field(init=False)
    accounts: WorkWithAccounts = field(init=False)  # the base query, loaded and checked once

    def __post_init__(self) -> None:
        self.portal_sessions = sessionmaker(self.portal_engine, expire_on_commit=False)
        self.accounts = WorkWithAccounts.load(self.settings, dialect=self.jde_engine.dialect.name)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            jde_engine=make_engine(settings.jde_database_url, jde=True),
            portal_engine=make_engine(settings.portal_database_url),
            jde=jde_tables(settings.jde_schema),
        )

    def dispose(self) -> None:
        self.jde_engine.dispose()
        self.portal_engine.dispose()
