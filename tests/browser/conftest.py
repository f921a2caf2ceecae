"""Browser tests: the gateway served by a real uvicorn on a loopback port, driven by Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from browser.browser_support import SlowApi, serving
from databases import CHROMIUM, CHROMIUM_ARGS, require_chromium
from web.web_env import Gateway, build_gateway

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"


@pytest.fixture(scope="module")
def backend() -> str:
    """The browser journey runs on SQLite; the same HTTP behaviour is tested on both backends in tests/web."""
    return "sqlite"


@pytest.fixture(scope="module")
def served(jde_db, portal_url, tmp_path_factory) -> tuple[Gateway, str]:
    """The gateway under uvicorn on 127.0.0.1:<free port>; yields it and its base URL."""
    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("browser"))
    with serving(gateway) as base:
        yield gateway, base
    gateway.runtime.dispose()


@pytest.fixture(scope="module")
def slow_served(jde_db, portal_url, tmp_path_factory):
    """The gateway behind SlowApi: (gateway, base URL, the SlowApi whose delays a test sets)."""
    gateway = build_gateway(jde_db, portal_url, tmp_path_factory.mktemp("slow"))
    slow = SlowApi(gateway.app)
    with serving(gateway, slow) as base:
        yield gateway, base, slow
    gateway.runtime.dispose()


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def shots(request):
    """shots("01-sign-in", page) saves a full-page screenshot under test-artefacts/browser/<test>/."""
    folder = ARTEFACTS / request.node.name.replace("[", "-").replace("]", "")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)

    def save(name: str, page) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    save.folder = folder
    return save
