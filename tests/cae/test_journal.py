from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vigil.cae.events import new_event
from vigil.cae.journal import Journal


def test_append_is_idempotent_by_event_key(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite")
    ev = new_event("password_reset", subject="u1", source="cli", event_key="cli:k1", evidence={"a": 1})
    assert [e.event_key for _, e in j.append([ev, ev])] == ["cli:k1"]
    assert j.append([ev]) == []
    rows = j.revocation_rows()
    assert len(rows) == 1 and rows[0]["evidence"] == {"a": 1} and rows[0]["subject"] == "u1"


def test_survives_reopen_and_tails_by_seq(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    j = Journal(path)
    j.append([new_event("user_disabled", subject=f"u{i}", source="cli") for i in range(5)])
    j.close()
    j2 = Journal(path)
    assert [e.subject for _, e in j2.since(0)] == [f"u{i}" for i in range(5)]
    assert [e.subject for _, e in j2.since(3)] == ["u3", "u4"]


_WRITER = """
import sys
from vigil.cae.journal import Journal
from vigil.cae.events import new_event
j = Journal(sys.argv[1])
for i in range(int(sys.argv[3])):
    j.append([new_event("password_reset", subject=f"{sys.argv[2]}-{i}", source="cli")])
"""


def test_concurrent_writer_processes_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "j.sqlite")
    Journal(path).close()
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, path, f"p{n}", "150"]) for n in range(3)]
    j = Journal(path)
    j.append([new_event("user_deleted", subject=f"main-{i}", source="api") for i in range(150)])
    assert all(p.wait(timeout=60) == 0 for p in procs)
    rows = j.since(0)
    assert len(rows) == 600
    assert len({e.subject for _, e in rows}) == 600
    seqs = [s for s, _ in rows]
    assert seqs == sorted(seqs) and len(set(seqs)) == 600


def test_a_new_journal_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """It holds receivers' push Authorization values and the tokens vigil polls with."""
    j = Journal(tmp_path / "j.sqlite")
    j.append([new_event("password_reset", subject="u1", source="cli")])
    for name in ("j.sqlite", "j.sqlite-wal", "j.sqlite-shm"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    j.close()
