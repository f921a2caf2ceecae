"""The real JDE column lists: read back as the notes give them, and tables built from them refuse NULLs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecgateway.jde.layouts import layout, layouts, real_table

# (table, columns, first column, key columns) as ../shared/docs/jde-columns.md counts them
CASES = [
    ("F47011", 211, "SYEDTY", ("SYEKCO", "SYEDOC", "SYEDCT")),
    ("F47012", 267, "SZEDTY", ("SZEKCO", "SZEDOC", "SZEDCT", "SZEDLN")),
    ("F40941", 12, "IKPRGR", ("IKPRGR",) + tuple(f"IKIGP{i}" for i in range(1, 11))),
]


@pytest.mark.parametrize(("table", "count", "first", "keys"), CASES)
def test_layout_as_documented(table, count, first, keys):
    cols = layout(table)
    assert len(cols) == count
    assert cols[0].name == first
    assert {c.name for c in cols if c.primary_key} == set(keys)


def test_every_table_of_the_notes_is_there():
    assert len(layouts()) == 22  # the notes' 21 and F0015 (exchange rates, JDEQuery F0015Model.cs)
    with pytest.raises(KeyError, match="F0002"):
        layout("F0002")


def test_real_table_refuses_a_missing_column(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    md = sa.MetaData()
    t = real_table(md, "F40941")
    md.create_all(engine)
    full = {c.name: (" " if c.name != "ikigid" else 7) for c in t.c}
    with engine.begin() as conn:
        conn.execute(t.insert().values(full))
        partial = dict(full, ikprgr="OTHER")
        del partial["ikigid"]
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(t.insert().values(partial))
