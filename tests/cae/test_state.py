from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from vigil.cae.events import new_event
from vigil.cae.journal import Journal
from vigil.cae.state import RevocationState


def test_tokens_issued_before_the_event_are_revoked(tmp_path: Path) -> None:
    st = RevocationState(Journal(tmp_path / "j.sqlite"))
    st.record([new_event("password_reset", subject="U1", subject_alt="a@x.com", source="cli", revoked_at=1000.5)])
    assert st.check(issued_at=1000.0, users=["u1"]) is not None
    assert st.check(issued_at=1000.0, users=["A@X.com"]) is not None  # UPN alias, any case
    assert st.check(issued_at=1001.0, users=["u1"]) is None  # issued after: fine
    assert st.check(issued_at=10.0, users=["u2"]) is None


def test_latest_revocation_wins_and_scopes_are_separate(tmp_path: Path) -> None:
    st = RevocationState(Journal(tmp_path / "j.sqlite"))
    st.record([new_event("session_revoked", scope="session", subject="s1", source="cli", revoked_at=2000),
               new_event("password_reset", subject="u1", source="cli", revoked_at=1500),
               new_event("password_reset", subject="u1", source="cli", revoked_at=1200)])
    hit = st.check(issued_at=1100, users=["u1"], session="s1")
    assert hit is not None and hit.scope == "session" and hit.revoked_at == 2000
    assert st.lookup("user", "u1").revoked_at == 1500  # type: ignore[union-attr]
    assert st.check(issued_at=1600, users=["u1"]) is None
    assert st.check(issued_at=1600, users=["s1"]) is None  # a session id is not a user


def test_other_processes_writes_are_picked_up_by_sync(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    reader = RevocationState(Journal(path), sync_interval_s=0.0)
    writer = Journal(path)  # stands for the CLI / another worker
    writer.append([new_event("user_disabled", subject="u9", source="cli", revoked_at=time.time())])
    assert reader.check(issued_at=time.time() - 60, users=["u9"]) is not None


def test_state_rebuilt_from_journal_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    RevocationState(Journal(path)).record([new_event("user_deleted", subject="gone", source="api", revoked_at=50)])
    again = RevocationState(Journal(path))
    assert again.check(issued_at=10, users=["gone"]) is not None and again.size() == 1


def test_own_writes_do_not_hide_earlier_writes_of_other_processes(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    service = RevocationState(Journal(path), sync_interval_s=3600)
    cli = Journal(path)
    cli.append([new_event("user_disabled", subject="from-cli", source="cli", revoked_at=100)])  # seq 1
    service.record([new_event("password_reset", subject="from-api", source="api", revoked_at=100)])  # seq 2
    service.sync()
    assert service.lookup("user", "from-cli") is not None and service.lookup("user", "from-api") is not None


_subjects = st.sampled_from(["a", "b", "c"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(st.tuples(st.sampled_from(["user", "session", "device"]), _subjects,
                                 st.floats(min_value=1, max_value=1000)), max_size=25),
       probes=st.lists(st.tuples(_subjects, _subjects, _subjects, st.floats(min_value=0, max_value=1001)),
                       min_size=1, max_size=10))
def test_check_matches_brute_force(tmp_path: Path, events: list, probes: list) -> None:
    import uuid

    st_ = RevocationState(Journal(tmp_path / f"{uuid.uuid4().hex}.sqlite"))
    st_.record([new_event("admin_revoke", scope=sc, subject=sub, source="cli", revoked_at=t) for sc, sub, t in events])
    for user, sess, dev, issued in probes:
        expected = max((t for sc, sub, t in events
                        if (sc, sub) in {("user", user), ("session", sess), ("device", dev)} and t > issued),
                       default=None)
        hit = st_.check(issued_at=issued, users=[user], session=sess, device=dev)
        assert (hit.revoked_at if hit else None) == expected


def test_concurrent_records_keep_the_latest_revocation(tmp_path: Path) -> None:
    import threading

    state = RevocationState(Journal(tmp_path / "j.sqlite"), sync_interval_s=3600)
    times = [float(t) for t in range(1, 401)]

    def writer(chunk: list[float]) -> None:
        for t in chunk:
            state.record([new_event("admin_revoke", subject="same-user", source="api", revoked_at=t)])

    threads = [threading.Thread(target=writer, args=(times[i::4][::-1],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state.lookup("user", "same-user").revoked_at == 400.0  # type: ignore[union-attr]
