"""What ``now()`` and ``ago()`` mean, the same in the CLI, the API, the web UI and the notebook.

``hunt.now`` in the settings (``--now`` on `vigil hunt`, ``now`` in an API request or the UI's form
override it for one query):

* ``auto`` (default): the wall clock while the store is live; once its newest sign-in or activity is
  more than a day old (exported, historic or simulated logs), that newest event, so ``ago(7d)`` means
  the last week of the data rather than an empty result;
* ``wall``: always the wall clock; ``latest``: always the newest event;
* an ISO date and time: that moment.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vigil.errors import ConfigError
from vigil.store import Store

#: ``auto`` anchors to the data when its newest event is older than this
STALE = timedelta(days=1)


def latest_event(store: Store) -> datetime | None:
    """The newest sign-in or activity in the store (naive UTC)."""
    have = store.relations()
    parts = [f"select max(event_time) as t from {t}" for t in ("signins", "activities") if t in have]
    if not parts:
        return None
    value = store.con.execute(f"select max(t) from ({' union all '.join(parts)})").fetchall()[0][0]
    return value if isinstance(value, datetime) else None


def parse_now(value: str, where: str = "hunt.now") -> datetime:
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{value!r} is not auto, wall, latest or an ISO date and time", path=where) from None
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def resolve_now(store: Store, setting: str = "auto", wall: datetime | None = None) -> tuple[datetime | None, str]:
    """The moment ``now()`` stands for (None: the wall clock) and a few words saying why."""
    mode = (setting or "auto").strip().lower()
    if mode == "wall":
        return None, "the wall clock (hunt.now: wall)"
    if mode not in ("auto", "latest"):
        return parse_now(setting), "hunt.now"
    latest = latest_event(store)
    if latest is None:
        return None, "the wall clock (no events in the store)"
    if mode == "latest":
        return latest, "the newest event in the store (hunt.now: latest)"
    clock = wall or datetime.now(UTC).replace(tzinfo=None)
    if clock - latest > STALE:
        return latest, "the newest event in the store: its logs are historic (hunt.now: auto)"
    return None, "the wall clock (hunt.now: auto, the store is live)"
