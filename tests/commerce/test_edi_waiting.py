"""Orders sent to the EDI inbound tables that batch R47011 has not taken in time are reported as waiting."""

from __future__ import annotations

import subprocess

import sqlalchemy as sa
from commerce_procs import ECGATEWAY, place_orders, relay_env

from ecgateway.commerce.models import Order
from ecgateway.erp.local import WAITING
from ecgateway.erp.references import external_reference


def _age_by_a_day(shop, references: list[str]) -> None:
    """As if the rows had been written yesterday: R47011 has not run since."""
    h = shop.tables.F47011
    with shop.jde_engine.begin() as conn:
        conn.execute(sa.update(h).where(h.c.syvr02.in_(references)).values(syupmj=h.c.syupmj - 1))


def test_outbox_status_and_order_status_name_the_orders_r47011_left(clean):
    shop = clean
    placed = place_orders(shop, 2, prefix="r47011")
    once = subprocess.run([str(ECGATEWAY), "outbox", "run", "--once"], env=relay_env(shop), capture_output=True, text=True)
    assert once.returncode == 0 and "sent 2" in once.stdout, once.stderr
    status = subprocess.run([str(ECGATEWAY), "outbox", "status"], env=relay_env(shop), capture_output=True, text=True)
    assert status.returncode == 0, status.stderr
    assert "waiting for R47011 over 60 min: 0" in status.stdout

    references = [external_reference(o.erp_key) for o in placed]
    _age_by_a_day(shop, references[:1])
    status = subprocess.run([str(ECGATEWAY), "outbox", "status"], env=relay_env(shop), capture_output=True, text=True)
    assert "waiting for R47011 over 60 min: 1, the oldest for 14" in status.stdout  # 24 h = 1440 min
    assert "run R47011" in status.stdout

    with shop.session() as s:
        sent = {o.erp_key: o.erp_reference for o in s.scalars(sa.select(Order)).all()}
    late, fresh = sent[placed[0].erp_key], sent[placed[1].erp_key]
    assert shop.erp.order_status(late).status == WAITING
    assert shop.erp.order_status(fresh).status == "queued"
    assert shop.erp.waiting_among([late, fresh, "SO 00200 5001"]) == {late}
