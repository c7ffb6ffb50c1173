from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from tests.builders import insert, row
from tests.ueba import tenant
from tests.ueba.conftest import build_tenant
from vigil.settings import load_settings
from vigil.store import Store
from vigil.ueba import stage

NOW = datetime(2026, 1, 20, 12, 0)


def _extra(store: Store) -> None:
    """Rows the UEBA tenant lacks: SharePoint activity, an audit event, coordinates, a non-interactive sign-in."""
    t = tenant.START + timedelta(days=19, hours=9)
    insert(store, "activities", [
        row("activities", event_time=t + timedelta(minutes=i), source_format="o365", user_principal_name=u,
            workload="SharePoint", operation=op, object_id=f"https://contoso.sharepoint.com/sites/fin/doc{i}.xlsx",
            ip="10.0.0.5", user_agent="Mozilla/5.0", parameters=[{"Name": "Shared", "Value": "True"}])
        for i, (u, op) in enumerate([("sales1@contoso.com", "FileDownloaded"), ("sales1@contoso.com", "FileDownloaded"),
                                     ("eng1@contoso.com", "FileAccessed"), ("hr1@contoso.com", "SharingSet")])])
    insert(store, "directory_events", [
        row("directory_events", event_time=t, source_format="entra_audit", event_type="password_reset",
            operation="Reset user password", category="UserManagement", result="success",
            actor_upn="hr0@contoso.com", target_user_id="00000000-0000-0000-0000-000000000002",
            target_upn="sales1@contoso.com", ip="203.0.113.10",
            modified_properties=[{"displayName": "PasswordProfile", "oldValue": None, "newValue": "***"}])])
    victim = next(u for u in tenant.users() if u["upn"] == "victim@contoso.com")
    insert(store, "signins", [
        dict(tenant.signin(victim, datetime(2026, 1, 19, 22, 0, tzinfo=timezone.utc), ip="192.168.1.20"),
             latitude=48.8566, longitude=2.3522, city="Paris", is_interactive=False,
             source_table="AADNonInteractiveUserSignInLogs"),
        dict(tenant.signin(victim, datetime(2026, 1, 19, 23, 0, tzinfo=timezone.utc), ip="172.16.5.4"),
             latitude=51.5074, longitude=-0.1278, city="London", is_interactive=False,
             source_table="AADNonInteractiveUserSignInLogs"),
    ])


@pytest.fixture(scope="package")
def hunt_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("hunt") / "vigil.duckdb"
    store = build_tenant(path, days=20)
    _extra(store)
    stage.run(store, load_settings(overrides={"store.path": str(path)}, environ={}))
    yield store
    store.close()
