"""Liveness, readiness (store + hooks, revealing nothing), version, graceful close."""
from __future__ import annotations

import threading
import time
from typing import Any

from tests.api.conftest import bearer
from vigil.api.health import add_readiness_check
from vigil.store.schema import SCHEMA_VERSION
from vigil.version import version


def test_healthz_and_readyz_are_public_and_terse(service: dict[str, Any]) -> None:
    client = service["client"]
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready", "checks": {"store": "ok"}}
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"  # the service's headers wrap them too


def test_a_failing_check_makes_readyz_503_without_its_reason(service: dict[str, Any], caplog: Any) -> None:
    def connector() -> None:
        raise RuntimeError("okta: 401 from https://example.okta.com with token abc")

    add_readiness_check(service["app"], "connector:okta", connector)
    r = service["client"].get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "not ready", "checks": {"store": "ok", "connector:okta": "failed"}}
    assert "example.okta.com" not in r.text
    assert "connector:okta failed: okta: 401" in caplog.text  # the operator finds the reason in the log


def test_a_broken_store_is_not_ready(service: dict[str, Any]) -> None:
    with service["app"].state.vigil.db.writer() as store:
        store.con.execute("update vigil_meta set value = '0' where key = 'schema_version'")
    r = service["client"].get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["store"] == "failed"


def test_version_needs_a_reader(service: dict[str, Any]) -> None:
    client = service["client"]
    assert client.get("/api/v1/version").status_code == 401
    r = client.get("/api/v1/version", headers=bearer(service["reader"]))
    assert r.json() == {"version": version(), "schema_version": SCHEMA_VERSION,
                        "schema_version_supported": SCHEMA_VERSION}


def test_close_waits_for_the_running_writer_to_commit(service: dict[str, Any]) -> None:
    db = service["app"].state.vigil.db
    started = threading.Event()

    def batch() -> None:
        with db.writer() as store:
            started.set()
            time.sleep(0.3)  # a batch in progress when shutdown starts
            store.con.execute("insert into vigil_meta values ('graceful', 'committed')")

    t = threading.Thread(target=batch)
    t.start()
    started.wait()
    db.close()
    t.join()
    from vigil.store import open_store

    with open_store(db.path, read_only=True) as store:
        assert store.scalar("select value from vigil_meta where key = 'graceful'") == "committed"
