"""The pages read JDE through an engine that refuses writes; only the ERP's engine writes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecgateway.config import Settings
from ecgateway.runtime import Runtime


def test_the_reader_refuses_writes_and_the_writer_still_writes(jde_db, tmp_path):
    settings = Settings(data_dir=tmp_path, jde_url=jde_db.url, jde_schema=jde_db.schema,
                        portal_url=f"sqlite:///{tmp_path / 'portal.sqlite'}")
    runtime = Runtime.from_settings(settings)
    f0101 = runtime.jde.F0101
    try:
        assert runtime.jde_reader is not runtime.jde_engine
        with runtime.jde_reader.connect() as conn:
            count = conn.scalar(sa.select(sa.func.count()).select_from(f0101))
            assert count > 0
            if conn.dialect.name == "postgresql":  # page queries never wait for JIT compilation
                assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
            with pytest.raises(sa.exc.DBAPIError) as refused:
                conn.execute(sa.update(f0101).where(f0101.c.aban8 == -1).values(abalph="X"))
            assert "read" in str(refused.value).lower()  # "attempt to write a readonly database" / "read-only transaction"
            conn.rollback()
        with runtime.jde_engine.begin() as conn:  # the writer: an update of no row is accepted
            assert conn.execute(sa.update(f0101).where(f0101.c.aban8 == -1).values(abalph="X")).rowcount == 0
    finally:
        runtime.dispose()


def test_a_reader_login_can_be_configured(jde_db, tmp_path):
    settings = Settings(data_dir=tmp_path, jde_url=jde_db.url, jde_read_url=jde_db.url, jde_schema=jde_db.schema,
                        portal_url=f"sqlite:///{tmp_path / 'portal.sqlite'}")
    runtime = Runtime.from_settings(settings)
    try:
        assert runtime.jde_reader.url.render_as_string(hide_password=False).endswith(
            sa.engine.make_url(jde_db.url).database)
        with runtime.jde_reader.connect() as conn, pytest.raises(sa.exc.DBAPIError):
            conn.execute(sa.delete(runtime.jde.F0101).where(runtime.jde.F0101.c.aban8 == -1))
    finally:
        runtime.dispose()
