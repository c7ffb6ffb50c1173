from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from vigil.errors import InputError
from vigil.simulate import DEFAULT_CAMPAIGNS, parse_rates, simulate_tenant
from vigil.simulate.attacks import CAMPAIGNS


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = simulate_tenant(tmp_path / "a", users=12, days=3, seed=11)
    b = simulate_tenant(tmp_path / "b", users=12, days=3, seed=11)
    c = simulate_tenant(tmp_path / "c", users=12, days=3, seed=12)
    da, db, dc = _digest(Path(a.out_dir)), _digest(Path(b.out_dir)), _digest(Path(c.out_dir))
    assert da == db
    assert len(da) == 12
    assert da["SigninLogs.json"] != dc["SigninLogs.json"]


def test_gzip_output_is_deterministic_and_matches_plain(tmp_path: Path) -> None:
    simulate_tenant(tmp_path / "plain", users=8, days=2, seed=3)
    simulate_tenant(tmp_path / "gz1", users=8, days=2, seed=3, compress=True)
    simulate_tenant(tmp_path / "gz2", users=8, days=2, seed=3, compress=True)
    for name in ("SigninLogs.json", "OfficeActivity_ManagementAPI.json"):
        g1 = (tmp_path / "gz1" / f"{name}.gz").read_bytes()
        assert g1 == (tmp_path / "gz2" / f"{name}.gz").read_bytes()
        assert gzip.decompress(g1) == (tmp_path / "plain" / name).read_bytes()


def test_files_are_in_time_order(demo) -> None:  # type: ignore[no-untyped-def]
    out, _ = demo
    for name, key in (("SigninLogs.json", b'"TimeGenerated":"'), ("AuditLogs.json", b'"TimeGenerated":"')):
        times = [line.split(key, 1)[1][:27] for line in (out / name).read_bytes().splitlines()]
        assert times == sorted(times)


def test_summary_counts_match_files(demo) -> None:  # type: ignore[no-untyped-def]
    out, summary = demo
    for name, n in summary.files.items():
        assert sum(1 for _ in (out / name).open("rb")) == n
    assert {c["type"] for c in summary.campaigns} == set(CAMPAIGNS)
    assert summary.compromised_users


def test_rates_parse_and_reject_unknown_names() -> None:
    assert parse_rates(["vpn_failover=0.5", "mfa_fatigue=2"]) == {"vpn_failover": 0.5, "mfa_fatigue": 2.0}
    with pytest.raises(InputError, match="nope"):
        parse_rates(["nope=1"])
    with pytest.raises(InputError, match="not a number"):
        parse_rates(["vpn_failover=x"])


def test_campaign_counts_are_tunable(tmp_path: Path) -> None:
    rates = {name: 0.0 for name in DEFAULT_CAMPAIGNS} | {"brute_force": 2.0}
    s = simulate_tenant(tmp_path, users=10, days=3, seed=5, rates=rates)
    assert [c["type"] for c in s.campaigns] == ["brute_force", "brute_force"]


def test_too_small_tenant_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--users"):
        simulate_tenant(tmp_path, users=2, days=1)


def test_output_does_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    code = ("import sys; from vigil.simulate import simulate_tenant; "
            "simulate_tenant(sys.argv[1], users=8, days=2, seed=21)")
    for h in ("1", "2"):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / h)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": h})
    assert _digest(tmp_path / "1") == _digest(tmp_path / "2")


def test_canonical_cli_path(tmp_path: Path) -> None:
    import orjson
    from typer.testing import CliRunner

    from vigil.cli import app

    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--users", "10", "--days", "1",
                                      "--canonical-parquet", "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.output)
    assert data["files"]["signins.parquet"] > 0 and (tmp_path / "signins.parquet").exists()
