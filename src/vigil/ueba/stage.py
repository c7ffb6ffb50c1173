"""The ``ueba`` pipeline stage: IdentityInfo, UserPeerAnalytics, BehaviorAnalytics, Sentinel views."""
from __future__ import annotations

from typing import Any

from vigil.settings import Settings
from vigil.store import Store
from vigil.ueba.behavior import analyze
from vigil.ueba.directory import build_identity_info
from vigil.ueba.events import event_sources
from vigil.ueba.peers import build_peers
from vigil.ueba.tables import UEBA_TABLES
from vigil.ueba.views import create_views


def run(store: Store, settings: Settings, *, full: bool = False) -> dict[str, Any]:
    """Rebuild IdentityInfo and peers, bring BehaviorAnalytics up to date (incrementally unless
    ``full``), and (re)create the Sentinel-named views. Idempotent."""
    store.ensure(UEBA_TABLES)
    identities = build_identity_info(store)
    src = event_sources(store)
    peers = build_peers(store, settings.ueba, src, full=full)
    behavior = analyze(store, settings.ueba, src, full=full)
    # hunting's views: built where hunting runs (a Spark run's tables get them from `vigil load`)
    views = create_views(store) if store.dialect.hunting else []
    return dict(
        identities=identities,
        inputs="enriched views" if src.enriched else "vendor columns",
        **peers,
        behavior_mode=behavior["mode"],
        behavior_rows_written=behavior["rows_written"],
        behavior_rows=behavior["rows_total"],
        high_priority_rows=store.scalar("SELECT count(*) FROM ueba_behavior WHERE InvestigationPriority >= 7"),
        views=views,
    )
