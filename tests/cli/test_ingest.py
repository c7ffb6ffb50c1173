"""`vigil ingest FOLDER`: a collector's whole output in one command, with an account of every file."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import FIXTURES, sample
from tests.sources.formats.ual_layouts import load_records, write_csv, write_extractor_json
from vigil.cli import app

API = FIXTURES / "sources" / "o365" / "management_api.jsonl"

# Get-RiskyUsers writes the Graph PowerShell objects with Export-Csv: PascalCase headers, local times
RISKY_USERS_CSV = (
    '"Id","IsDeleted","IsProcessing","RiskDetail","RiskLastUpdatedDateTime","RiskLevel","RiskState",'
    '"UserDisplayName","UserPrincipalName","AdditionalProperties"\r\n'
    '"26be570a-1111-5555-b4e2-a37c6808512d","False","False","none","6/30/2021 4:50:12 PM","high","atRisk",'
    '"Test contoso","testaccount1@contoso.com","System.Collections.Generic.Dictionary`2[System.String,System.Object]"\r\n'
)


def _collector_folder(root: Path) -> Path:
    """A Microsoft-Extractor-Suite style output folder, plus what a responder adds by hand."""
    records = load_records(API)
    ual = root / "Output" / "UnifiedAuditLog" / "20260302090000"
    ual.mkdir(parents=True)
    write_csv(ual / "UAL-20260302090000.csv", "export_csv", records[:3], encoding="utf-8-sig")
    write_extractor_json(ual / "UAL-20260302100000.json", [records[2:]])  # overlaps the CSV by one record
    entra = root / "Output" / "EntraID"
    entra.mkdir(parents=True)
    for name in ("InteractiveSignIns_2021-06-30.csv", "AuditLogs_2021-06-30.csv"):
        shutil.copy(FIXTURES / "sources" / "entra_portal" / name, entra / name)
    users = root / "Output" / "UserInfo"
    users.mkdir(parents=True)
    (users / "202106301700-RiskyUsers.csv").write_text(RISKY_USERS_CSV, encoding="utf-8-sig")
    shutil.copy(FIXTURES / "ueba" / "plain_directory.csv", users / "directory.csv")
    shutil.copy(FIXTURES / "policy" / "policies.json", root / "Output" / "ConditionalAccessPolicies.json")
    (root / "Output" / "Logfile.txt").write_text("[INFO] Running Get-UAL\n[INFO] Acquisition complete\n")
    return root / "Output"


def test_a_collector_folder_in_one_command(tmp_path: Path) -> None:
    folder = _collector_folder(tmp_path / "case")
    result = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(tmp_path / "v.duckdb"), "--json"])
    assert result.exit_code == 0, result.output
    rows = {Path(r["path"]).name: r for r in json.loads(result.output)}
    assert {n: (r["taken_as"], r["table"]) for n, r in rows.items() if r["taken_as"]} == {
        "UAL-20260302090000.csv": ("o365_ual_cmdlet", "activities"),
        "UAL-20260302100000.json": ("o365_ual_cmdlet", "activities"),
        "InteractiveSignIns_2021-06-30.csv": ("entra_signin_portal", "signins"),
        "AuditLogs_2021-06-30.csv": ("entra_audit_portal", "directory_events"),
        "202106301700-RiskyUsers.csv": ("Entra ID Protection risk", "riskDetections, riskyUsers"),
        "directory.csv": ("directory (directory_csv)", "IdentityInfo"),
    }
    assert rows["Logfile.txt"]["skipped"] == "no JSON object or CSV row could be read to recognise the format"
    # its policies name locations the folder does not hold: not loaded, and the note says how to take them anyway
    assert "allow-unresolved" in rows["ConditionalAccessPolicies.json"]["skipped"]
    # counts add up per file, and the overlapping UAL record is one duplicate
    for r in rows.values():
        assert r["read"] == r["stored"] + r["duplicate"] + r["quarantined"], r
    assert (rows["UAL-20260302100000.json"]["stored"], rows["UAL-20260302100000.json"]["duplicate"]) == (1, 1)
    assert rows["202106301700-RiskyUsers.csv"]["stored"] == 1


def test_the_human_account_names_every_file(tmp_path: Path) -> None:
    folder = _collector_folder(tmp_path / "case")
    result = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(tmp_path / "v.duckdb")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Logfile.txt: no JSON object or CSV row could be read" in text and "vigil policy load" in text
    assert result.output.count("skipped") == 2 * 2  # one row and one note for each of the two files


def test_a_folder_with_nothing_recognised_fails(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("collected on Monday\n")
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "notes"), "--db", str(tmp_path / "v.duckdb")])
    assert result.exit_code == 4


def test_an_untitled_goose_tool_folder(tmp_path: Path) -> None:
    """Goose writes the UAL as a JSON array of AuditData objects (m365/ual_*.json) and Graph sign-ins and
    directory audits one object per line (entraid/signin_<source>/..., entraid/entraid_audit_logs/...)."""
    out = tmp_path / "output"
    (out / "m365").mkdir(parents=True)
    (out / "m365" / "ual_2026-03-01_2026-03-02.json").write_text(json.dumps(load_records(API)), encoding="utf-8")
    signins = json.loads(sample("microsoft-docs/graph-beta-signin-list-response-example2.json").read_text("utf-8-sig"))
    (out / "entraid" / "signin_rt").mkdir(parents=True)
    (out / "entraid" / "signin_rt" / "rt_signin_log_2021-06-30.json").write_text(
        "".join(json.dumps(x) + "\n" for x in signins["value"]), encoding="utf-8")
    audits = json.loads(sample("graph-api/graph-v1_directoryaudit-list_example1-response.json").read_text("utf-8-sig"))
    (out / "entraid" / "entraid_audit_logs").mkdir(parents=True)
    (out / "entraid" / "entraid_audit_logs" / "entraidauditlog_2021-06-30.json").write_text(
        "".join(json.dumps(x) + "\n" for x in audits["value"]), encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(out), "--db", str(tmp_path / "v.duckdb"), "--json"])
    assert result.exit_code == 0, result.output
    rows = {Path(r["path"]).name: r for r in json.loads(result.output)}
    assert {n: (r["taken_as"], r["stored"]) for n, r in rows.items()} == {
        "ual_2026-03-01_2026-03-02.json": ("o365_management_api", 4),
        "rt_signin_log_2021-06-30.json": ("entra_signin_graph", len(signins["value"])),
        "entraidauditlog_2021-06-30.json": ("entra_audit_graph", len(audits["value"])),
    }


def test_the_simulators_own_folder_is_taken_whole(tmp_path: Path) -> None:
    """Logs, the directory, the policy set with its named locations; the simulator's other files skipped with
    one note each; exit 0 since nothing failed."""
    sim, db = tmp_path / "sim", str(tmp_path / "v.duckdb")
    runner = CliRunner()
    done = runner.invoke(app, ["simulate", "--out", str(sim), "--preset", "small", "--users", "5", "--days", "1"])
    assert done.exit_code == 0, done.output
    result = runner.invoke(app, ["ingest", str(sim), "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    rows = {Path(r["path"]).name: r for r in json.loads(result.output)}
    assert rows["conditionalAccessPolicies.json"]["table"] == "ca_policies"
    assert rows["namedLocations.json"]["table"] == "named_locations"
    assert {rows[n]["table"] for n in ("users.json", "groups.json")} == {"IdentityInfo"}
    assert "vigil evaluate --labels" in rows["labels.jsonl"]["skipped"]
    assert "scenario" in rows["scenarios.jsonl"]["skipped"]
    assert "leaked_credentials_path" in rows["leaked_credentials.txt"]["skipped"]
    assert not [n for n, r in rows.items() if r["error"]]
    policies = runner.invoke(app, ["policy", "check", "--db", db, "--json"])
    assert policies.exit_code == 0 and len(json.loads(policies.output)) == rows["conditionalAccessPolicies.json"][
        "stored"], policies.output


def test_named_locations_load_on_their_own(tmp_path: Path) -> None:
    sim, db = tmp_path / "sim", str(tmp_path / "v.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["simulate", "--out", str(sim), "--preset", "small", "--users", "5",
                               "--days", "1"]).exit_code == 0
    result = runner.invoke(app, ["policy", "load", "--locations", str(sim / "namedLocations.json"), "--db", db,
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"policies": 0, "named_locations": 3}
    # policies loaded later resolve against them; locations loaded again keep the policies
    assert runner.invoke(app, ["policy", "load", "--policies", str(sim / "conditionalAccessPolicies.json"),
                               "--locations", str(sim / "namedLocations.json"), "--db", db]).exit_code == 0
    again = runner.invoke(app, ["policy", "load", "--locations", str(sim / "namedLocations.json"), "--db", db,
                                "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["policies"] > 0, again.output


def test_export_makes_the_folder_it_is_given(tmp_path: Path) -> None:
    db = str(tmp_path / "v.duckdb")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(API), "--db", db]).exit_code == 0
    for target, expected in ((f"{tmp_path}/out/", tmp_path / "out" / "activities.parquet"),
                             (str(tmp_path / "deeper" / "folder"), tmp_path / "deeper" / "folder" / "activities.parquet"),
                             (str(tmp_path / "named.parquet"), tmp_path / "named.parquet")):
        result = runner.invoke(app, ["export", "activities", target, "--db", db, "--json"])
        assert result.exit_code == 0, result.output
        assert Path(json.loads(result.output)["path"]) == expected and expected.is_file()
