"""Settings: ECGW_* variables, defaults under the data folder, a secret key never in code."""

import stat

from ecgateway.config import Settings


def test_defaults_are_sqlite_files_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGW_DATA_DIR", str(tmp_path))
    s = Settings()
    assert s.jde_database_url == f"sqlite:///{tmp_path / 'jde.sqlite'}"
    assert s.portal_database_url == f"sqlite:///{tmp_path / 'portal.sqlite'}"
    assert s.erp_mode == "local" and s.jde_schema is None


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("ECGW_JDE_URL", "oracle+oracledb://reader@jde:1521/?service_name=JDEPROD")
    monkeypatch.setenv("ECGW_JDE_SCHEMA", "PRODDTA")
    monkeypatch.setenv("ECGW_DECIMALS", '{"UPRC": 2, "AEXP": 2, "LNID": 3, "FVTR": 4}')
    s = Settings()
    assert s.jde_schema == "PRODDTA"
    assert s.jde_database_url.startswith("oracle+oracledb://")
    assert s.decimals["UPRC"] == 2


def test_secret_key_generated_once_private(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECGW_SECRET_KEY", raising=False)
    first = Settings().secret
    path = tmp_path / "secret_key"
    assert len(first) >= 48
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings().secret == first, "the key is stable across restarts"
    other = tmp_path / "other"
    monkeypatch.setenv("ECGW_DATA_DIR", str(other))
    assert Settings().secret != first, "each installation makes its own"


def test_secret_key_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ECGW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ECGW_SECRET_KEY", "k" * 50)
    assert Settings().secret == "k" * 50
    assert not (tmp_path / "secret_key").exists()
