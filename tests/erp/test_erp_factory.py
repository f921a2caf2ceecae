"""make_erp builds the implementation ECGW_ERP_MODE names."""

from __future__ import annotations

import pytest

from ecgateway.config import Settings
from ecgateway.erp import make_erp
from ecgateway.erp.ais import AisErp
from ecgateway.erp.local import LocalErp
from ecgateway.runtime import Runtime


def test_local_is_the_default(tmp_path):
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path))
    erp = make_erp(runtime)
    assert isinstance(erp, LocalErp) and erp.engine is runtime.jde_engine
    erp.close()
    runtime.dispose()


def test_ais_from_settings(tmp_path):
    settings = Settings(data_dir=tmp_path, erp_mode="ais", ais_url="http://127.0.0.1:9", ais_username="U",
                        ais_password="P")
    runtime = Runtime.from_settings(settings)
    erp = make_erp(runtime)
    assert isinstance(erp, AisErp)
    erp.close()  # no token was requested: nothing to log out, no call made
    runtime.dispose()


def test_ais_without_its_settings_says_which_are_missing(tmp_path):
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path, erp_mode="ais", ais_url="http://127.0.0.1:9"))
    with pytest.raises(ValueError, match="ECGW_AIS_USERNAME, ECGW_AIS_PASSWORD are not set"):
        make_erp(runtime)
    runtime.dispose()
