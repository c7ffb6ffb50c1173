"""The simulator's conditionalAccessPolicies.json and namedLocations.json load and evaluate."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.policy.conftest import ctx
from vigil.cli import app
from vigil.policy.decision import load_policy_set


def test_simulated_tenant_policies_load(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    r = CliRunner().invoke(app, ["simulate", "--out", str(out), "--users", "12", "--days", "1", "--json"])
    assert r.exit_code == 0, r.output
    ps = load_policy_set(out / "conditionalAccessPolicies.json", out / "namedLocations.json")
    assert len(ps) >= 1 and len(ps.locations) >= 1
    trusted = [loc for loc in ps.locations.ip_locations() if loc.is_trusted]
    assert trusted, "the simulator declares trusted office / VPN egress"
    inside = str(trusted[0].ip_ranges[0].network.network_address + 1)
    home = ps.evaluate(ctx(ip="192.0.2.1", country="DE"))
    office = ps.evaluate(ctx(ip=inside, country="DE"))
    assert home.decision == "challenge" and office.decision == "allow"
