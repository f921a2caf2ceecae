"""Alembic, driven from code: the migrations ship inside the package."""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "ecgateway.portal:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the portal database at url up to the newest migration."""
    command.upgrade(alembic_config(url), revision)
