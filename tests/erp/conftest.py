"""Fixtures of the ERP client tests: one fake AIS server per module, a fresh fake per test."""

from __future__ import annotations

import pytest

from ecgateway.config import Settings
from ecgateway.erp.ais import AisErp
from erp.fake_ais import PASSWORD, PRICE, USERNAME, FakeAis, serve

DEVICE = "ecgw-test-1"


class Switch:
    """One server per module; each test plugs in a fresh fake."""

    app: FakeAis | None = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def server():
    switch = Switch()
    with serve(switch) as url:
        yield switch, url


@pytest.fixture
def fake(server) -> FakeAis:
    switch, _url = server
    switch.app = FakeAis()
    return switch.app


@pytest.fixture
def make_client(server, tmp_path):
    _switch, url = server
    made: list[AisErp] = []

    def make(*, base_url: str = url, timeout: float = 2.0, password: str = PASSWORD, drops_duplicates: bool = True,
             price_orchestration: str = PRICE, sleeps: list | None = None, device: str = DEVICE,
             **options) -> AisErp:
        settings = Settings(data_dir=tmp_path, erp_mode="ais", ais_url=base_url, ais_username=USERNAME,
                            ais_password=password, ais_device_name=device, ais_timeout_seconds=timeout,
                            ais_order_drops_duplicates=drops_duplicates, ais_price_orchestration=price_orchestration)
        record = sleeps if sleeps is not None else []
        client = AisErp(settings, sleep=record.append, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
