from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.cae.conftest import cae_settings
from tests.conftest import FIXTURES
from vigil.cae.middleware import CAEMiddleware
from vigil.cae.service import CaeService, keys_path, state_path
from vigil.cae.tokens import issue_token
from vigil.errors import ConfigError
from vigil.settings import load_settings

LOCATIONS = str(FIXTURES / "cae" / "named_locations.json")


async def _ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def test_paths_in_the_state_folder_beside_the_store(tmp_path: Path) -> None:
    s = cae_settings(tmp_path)
    assert state_path(s) == str(tmp_path / ".vigil" / "vigil.cae.sqlite")
    assert keys_path(s) == str(tmp_path / ".vigil" / "vigil.cae-keys.json")
    assert (tmp_path / ".vigil").stat().st_mode & 0o777 == 0o700
    # a store that already has them beside it (vigil before the state folder) keeps using them
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "vigil.cae-keys.json").write_text("{}")
    old = cae_settings(tmp_path / "old")
    assert keys_path(old) == str(tmp_path / "old" / "vigil.cae-keys.json")
    assert state_path(old) == str(tmp_path / "old" / ".vigil" / "vigil.cae.sqlite")
    with pytest.raises(ConfigError, match="in memory"):
        state_path(load_settings(overrides={"store.path": ":memory:"}, environ={}))


def test_middleware_from_settings_with_strict_location(tmp_path: Path) -> None:
    s = load_settings(overrides={"store.path": str(tmp_path / "v.duckdb"), "enrich.named_locations": LOCATIONS,
                                 "cae.strict_location": True, "cae.allowed_locations": ["Corporate egress"],
                                 "cae.trust_forwarded_for": True}, environ={})
    svc = CaeService(s)
    app = Starlette(routes=[Route("/", _ok)])
    app.add_middleware(CAEMiddleware, **svc.middleware_options())
    tok = issue_token(svc.keys, issuer=s.cae.issuer, audience=s.cae.audience, user_id="u", cp1=True, lifetime_s=600)[0]
    with TestClient(app) as c:
        assert c.get("/", headers={"Authorization": f"Bearer {tok}", "X-Forwarded-For": "198.51.100.1"}).text == "ok"
        r = c.get("/", headers={"Authorization": f"Bearer {tok}", "X-Forwarded-For": "192.0.2.1"})
        assert r.status_code == 401 and "Corporate egress" in r.json()["reason"]
    svc.close()


@pytest.mark.parametrize("overrides, match", [
    ({"cae.allowed_locations": ["Mars base"]}, "no IP named location 'Mars base'"),
    ({"cae.allowed_locations": ["Home countries"]}, "no IP named location"),  # a country location cannot be used
    ({"enrich.named_locations": None}, "needs enrich.named_locations"),
])
def test_allowed_locations_misconfigured(tmp_path: Path, overrides: dict, match: str) -> None:
    base = {"store.path": str(tmp_path / "v.duckdb"), "enrich.named_locations": LOCATIONS,
            "cae.strict_location": True, "cae.allowed_locations": ["Corporate egress"]}
    base.update(overrides)
    if base["enrich.named_locations"] is None:
        del base["enrich.named_locations"]
    svc = CaeService(load_settings(overrides=base, environ={}))
    with pytest.raises(ConfigError, match=match):
        svc.enforcer()
    svc.close()
