"""What gets audited is a table (ecgateway.audit.actions): record() refuses anything else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ecgateway.audit import AuditError, record
from ecgateway.audit.actions import ACTIONS, words
from ecgateway.db import make_engine
from ecgateway.obo.context import Actor
from ecgateway.portal.migrate import upgrade

SRC = Path(__file__).resolve().parents[2] / "src" / "ecgateway"
REP = Actor(user_id=1, login="ana", name="Ana", email="", user_type="Internal_AR")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('actions') / 'portal.sqlite'}"
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def test_record_refuses_an_action_not_listed(engine):
    with Session(engine) as s, pytest.raises(AuditError, match="'widget.frob' is not in ecgateway.audit.actions"):
        record(s, actor=REP, subject_an8=1, action="widget.frob", object="x", outcome="ok")


def test_record_refuses_a_detail_key_not_listed_for_the_action(engine):
    with Session(engine) as s, pytest.raises(AuditError, match="'obo.start' has no detail key 'colour'"):
        record(s, actor=REP, subject_an8=1, action="obo.start", object="account 1", outcome="ok",
               detail={"billing_an8": 2, "colour": "blue"})


def test_every_action_the_code_records_is_listed_with_its_words():
    """Every literal action=... given to record() in src/ is in the table (the table is the whole list)."""
    named: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "record":
                for kw in node.keywords:
                    if kw.arg == "action":
                        named |= {c.value for c in ast.walk(kw.value)
                                  if isinstance(c, ast.Constant) and isinstance(c.value, str) and "." in c.value}
    assert named, "the scan found no record() calls"
    assert named <= set(ACTIONS), f"recorded but not listed: {sorted(named - set(ACTIONS))}"
    for action in ACTIONS:
        text = words(action, "ok", rep="ana", account=4242, obj="thing 1", detail={})
        assert text and "{" not in text and "}" not in text, (action, text)
