"""Fixtures: one running gateway (app + seeded JDE + migrated portal + users) per backend and module."""

from web.web_env import gw  # noqa: F401  the fixture
