"""The sessions stage of ``vigil analyze``: stitch, hops, travel, hijacks (needs the enrich stage's views).

Idempotent: every table it writes is replaced. All set-based SQL over the enriched views.
"""
from __future__ import annotations

from typing import Any

from vigil.errors import StoreError
from vigil.sessions import events, hijack, stitch, travel
from vigil.sessions.tables import SESSION_TABLES
from vigil.settings import Settings
from vigil.store import Store


def run(store: Store, settings: Settings) -> dict[str, Any]:
    missing = {"signins_enriched", "activities_enriched"} - store.relations()
    if missing:
        raise StoreError(f"views {', '.join(sorted(missing))} are missing; run `vigil analyze --only enrich` first",
                         path=store.path)
    store.ensure(SESSION_TABLES)
    summary: dict[str, Any] = {"events": events.build_events(store, "_ev")}
    summary["links"] = stitch.link(store, settings.sessions, "_ev")
    summary["session_hops"] = stitch.hops(store, "_ev")
    summary["sessions"] = stitch.sessions(store, "_ev")
    summary["travel"] = travel.travel(store, settings.travel, "_ev")
    summary["session_hijacks"] = hijack.hijacks(store, settings.sessions, "_ev")
    store.con.execute("DROP TABLE IF EXISTS _ev")
    return summary
