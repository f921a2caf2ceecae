"""The restriction history is written by the service that changes a restriction, not by a hook
that exists only once ecgateway.admin has been imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from ecgateway.portal.migrate import upgrade


def test_setting_a_restriction_without_the_admin_package_writes_its_history(tmp_path):
    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    upgrade(url)
    script = textwrap.dedent("""
        import sys
        from sqlalchemy import select
        from sqlalchemy.orm import Session
        from ecgateway.accounts import clear_restriction, set_restriction
        from ecgateway.db import make_engine
        from ecgateway.portal.models import RestrictionChange, User
        engine = make_engine(sys.argv[1])
        with Session(engine) as s:
            rep = User(login="rep9", name="Rep", email="", user_type="Internal_AR", active=True)
            s.add(rep)
            s.flush()
            set_restriction(s, rep=rep, filter_text="ABAC01 = 'NTH'", changed_by="script")
            clear_restriction(s, rep=rep, changed_by="script")
            s.commit()
            rows = s.execute(select(RestrictionChange.old_filter, RestrictionChange.new_filter,
                                    RestrictionChange.changed_by).order_by(RestrictionChange.id)).all()
        assert "ecgateway.admin" not in sys.modules, "the test must run without the admin package"
        print([tuple(r) for r in rows])
    """)
    out = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == repr([(None, "ABAC01 = 'NTH'", "script"), ("ABAC01 = 'NTH'", None, "script")])
