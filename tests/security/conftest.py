"""Fixtures of the security review tests: one running gateway per backend and module."""

from __future__ import annotations

import pytest

from web.web_env import Gateway, build_gateway


@pytest.fixture(scope="module")
def gw(jde_db, portal_url, tmp_path_factory) -> Gateway:
    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("secgw"))
    yield gateway
    gateway.runtime.dispose()
