"""The gateway's garbage-collector thresholds (ecgateway/app.py GC_THRESHOLDS, issue 18's 366-day
view: its p95 went from 334 to 241 ms on SQLite with them) are set by create_app, the factory
`ecgateway serve` gives uvicorn, so every worker has them; a stricter setting is left alone.
In a fresh interpreter: the test process's own collector may already have been tuned."""

from __future__ import annotations

import json
import subprocess
import sys

from ecgateway.app import GC_THRESHOLDS

PROBE = """
import gc, json, sys, tempfile
gc.set_threshold(*json.loads(sys.argv[1]))
from ecgateway.app import create_app
from ecgateway.config import Settings
create_app(Settings(data_dir=tempfile.mkdtemp()))
print(json.dumps(gc.get_threshold()))
"""


def _after_create_app(before: tuple[int, int, int]) -> tuple[int, ...]:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(before)], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return tuple(json.loads(out.strip().splitlines()[-1]))


def test_create_app_sets_the_gateways_thresholds():
    assert _after_create_app((700, 10, 10)) == GC_THRESHOLDS  # Python's defaults


def test_a_rarer_collection_already_set_is_kept():
    rarer = (GC_THRESHOLDS[0] * 5, 50, 50)
    assert _after_create_app(rarer) == rarer
