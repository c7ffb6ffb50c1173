"""``vigil analyze`` (every batch stage over the store) and ``vigil demo`` (the whole pipeline on a
simulated tenant, then the web UI)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.panel import Panel
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, err_console, print_json, settings_from, store_from
from vigil.cli._table import Col, show
from vigil.errors import InputError

if TYPE_CHECKING:
    from vigil.settings import Settings
    from vigil.store import Store

#: vigil.pipeline's stage names, for the help text without importing every stage (tests/cli/test_startup.py
#: checks they match)
STAGE_NAMES = ("identity", "enrich", "sessions", "ueba", "detections", "risk", "incidents", "cae")


def analyze(
    only: Annotated[list[str] | None, typer.Option(
        "--stage", help=f"run only these stages ({', '.join(STAGE_NAMES)})")] = None,
    engine: Annotated[str, typer.Option(help="duckdb (the store) or spark (the lake: --lake DIR)")] = "duckdb",
    lake: Annotated[Path | None, typer.Option(
        help="with --engine spark: the lake to analyse and write results to (`vigil export --lake`)")] = None,
    master: Annotated[str, typer.Option(
        help="with --engine spark: the Spark master URL (local[N], spark://host:7077, k8s://..., yarn)")] = "local[2]",
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Enrich, stitch sessions, judge travel, build UEBA, run detections, score risk, raise incidents.

    The last stage derives CAE state; --stage runs only the stages named, in pipeline order."""
    from vigil.pipeline import stage_names

    settings = settings_from(db, config)
    unknown = set(only or []) - set(stage_names())
    if unknown:
        raise InputError(f"unknown stage(s) {', '.join(sorted(unknown))}; stages: {', '.join(stage_names())}")
    if engine not in ("duckdb", "spark"):
        raise InputError(f"--engine must be duckdb or spark, not {engine!r}")
    if (engine == "spark") != (lake is not None):
        raise InputError("--engine spark analyses a lake: give --lake DIR (and only with --engine spark)")
    if lake is not None:
        _analyze_on_spark(str(lake), settings, only, master, as_json)
        return
    with store_from(settings) as store:
        results = _run_with_progress(store, settings, only, quiet=as_json)
        summary = summarize(store)
    if as_json:
        print_json({"stages": results, "summary": summary})
        return
    _print_stages(results)
    print_summary(summary)


def _analyze_on_spark(lake: str, settings: Settings, only: list[str] | None, master: str, as_json: bool) -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise InputError("--engine spark needs pyspark and Java 17: pip install 'vigil[spark]' "
                         "(scripts/setup.sh installs both)") from None
    from vigil.pipeline import analyze_lake

    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("starting Spark", total=None)
        results = analyze_lake(lake, settings, only, master=master,
                               on_stage=lambda name: progress.update(task, description=f"spark: {name}"))
    if as_json:
        print_json({"engine": "spark", "lake": lake, "stages": results})
        return
    _print_stages(results)
    console.print(f"results written to the lake {lake}; `vigil load --lake {lake}` puts them in a store for the "
                  "web UI, API and hunting")


def _run_with_progress(store: Store, settings: Settings, only: list[str] | None, quiet: bool) -> dict[str, Any]:
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=quiet) as progress:
        from vigil.pipeline import run_stages

        task = progress.add_task("analyze", total=None)
        return run_stages(store, settings, only, on_stage=lambda name: progress.update(task, description=name))


def _print_stages(results: dict[str, Any]) -> None:
    rows = [{"stage": name, "seconds": round(res.get("seconds", 0), 2),
             "what it did": ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                                      for k, v in res.items() if k != "seconds" and not isinstance(v, (dict, list)))}
            for name, res in results.items()]
    show(rows, [Col("stage"), Col("seconds"), Col("what it did")], title="stages")


def _q(store: Store, sql: str) -> list[dict[str, Any]]:
    return store.query(sql).to_pylist()


def summarize(store: Store) -> dict[str, Any]:
    """What a SOC analyst wants first: volumes, the travel picture, what fired, and the incidents."""
    have = store.relations()
    out: dict[str, Any] = {
        "signins": store.count("signins"), "activities": store.count("activities"),
        "directory_events": store.count("directory_events"), "quarantined": store.count("quarantine"),
        "users": store.scalar("select count(distinct user_principal_name) from signins"),
    }
    if "identities" in have:  # a renamed account is one account; linked accounts are one person
        out["users"] = store.scalar("select count(*) from identities where events > 0")
        out["persons"] = store.scalar("select count(distinct person_id) from identities where events > 0")
    if "sessions" in have:
        out["sessions"] = store.count("sessions")
    if "travel" in have:
        out["travel_verdicts"] = {r["verdict"]: r["n"] for r in _q(
            store, "select verdict, count(*) n from travel group by 1 order by 2 desc")}
    if "session_hijacks" in have:
        out["session_hijacks"] = store.count("session_hijacks")
    if "riskDetections" in have:
        out["detections"] = {r["riskEventType"]: r["n"] for r in _q(
            store, 'select "riskEventType", count(*) n from "riskDetections" where source = \'vigil\' '
                   "group by 1 order by 2 desc, 1")}
    if "riskyUsers" in have:
        out["risky_users"] = {r["riskLevel"]: r["n"] for r in _q(
            store, 'select "riskLevel", count(*) n from "riskyUsers" where "riskState" = \'atRisk\' group by 1')}
    if "incidents" in have:
        out["incidents"] = _q(store, "select incident_id, severity, status, user_principal_name, title, "
                                     "recommended_action from incidents order by priority desc, last_activity desc "
                                     "limit 10")
        out["incident_count"] = store.count("incidents")
    return out


def print_summary(s: dict[str, Any]) -> None:
    lines = [f"[bold]{s['signins']:,}[/bold] sign-ins, [bold]{s['activities']:,}[/bold] app activities, "
             f"[bold]{s['directory_events']:,}[/bold] directory changes from {s['users'] or 0:,} accounts"
             + (f" ({s['persons']:,} people)" if s.get("persons") not in (None, s["users"]) else "")
             + (f"; [yellow]{s['quarantined']:,} records quarantined[/yellow] (`vigil quarantine`)"
                if s["quarantined"] else "; nothing quarantined")]
    if "sessions" in s:
        lines.append(f"{s['sessions']:,} sessions stitched back to their root authentication")
    tv = s.get("travel_verdicts") or {}
    if tv:
        lines.append("location jumps: " + ", ".join(f"{v:,} {k}" for k, v in tv.items())
                     + " — egress changes are corporate VPN hops, not alerts")
    if "session_hijacks" in s:
        lines.append(f"[bold]{s['session_hijacks']:,}[/bold] session / token hijack findings")
    if s.get("detections"):
        lines.append("detections: " + ", ".join(f"{k} {v}" for k, v in s["detections"].items()))
    if s.get("risky_users"):
        lines.append("users at risk: " + ", ".join(f"{v} {k}" for k, v in s["risky_users"].items()))
    console.print(Panel("\n".join(lines), title="vigil summary", expand=False))
    if s.get("incidents"):
        show([{**i, "who": i["user_principal_name"] or "(many accounts)"} for i in s["incidents"]],
             [Col("incident_id", "id", 0), Col("severity", "severity", 2), Col("who", "who", 3, ident=True),
              Col("title", "what happened", 1)],
             title=f"top incidents ({s['incident_count']} in all; `vigil incident show ID` for the story)")
        top = s["incidents"][0]
        if top.get("recommended_action"):
            console.print(f"[bold]top incident {top['incident_id']}[/bold]: {top['recommended_action']}")


def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(
        "--out", help="folder for the simulated tenant's logs and config")] = Path("demo"),
    users: Annotated[int, typer.Option(help="simulated users")] = 40,
    days: Annotated[int, typer.Option(help="simulated days")] = 7,
    seed: Annotated[int, typer.Option(help="simulation seed")] = 7,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="serve the web UI after the summary")] = True,
    port: Annotated[int, typer.Option(help="web UI port")] = 8765,
    db: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Simulate a small tenant, ingest and analyse it into ./vigil.duckdb, print the summary, serve the UI."""
    import yaml

    from vigil.pipeline import run_stages
    from vigil.settings import load_settings
    from vigil.simulate import simulate_tenant
    from vigil.sources.ingest import ingest_paths
    from vigil.ueba.directory import ingest_directory

    started = time.perf_counter()
    tenant = out / "tenant"
    config_path = out / "vigil.yaml"
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=as_json) as progress:
        task = progress.add_task("simulating the tenant", total=None)
        sim = simulate_tenant(tenant, users=users, days=days, seed=seed)
        config = {
            "store": {"path": db or "vigil.duckdb"},
            "enrich": {"named_locations": str(tenant / "namedLocations.json")},
            "policy": {"policies": str(tenant / "conditionalAccessPolicies.json")},
            "detections": {"leaked_credentials_path": str(tenant / "leaked_credentials.txt")},
            # a week of history: shorten UEBA's learning period so users are scored, not only learned
            "ueba": {"learning_days": 2},
        }
        config_path.write_text("# written by `vigil demo`; use it with --config " + str(config_path) + "\n"
                               + yaml.safe_dump(config, sort_keys=False))
        settings = load_settings(config_path)
        with store_from(settings) as store:
            progress.update(task, description="ingesting the logs")
            logs: list[str | Path] = [tenant / n for n in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json",
                                         "OfficeActivity_ManagementAPI.json", "AuditLogs.json",
                                         "OktaSystemLog.json")]
            ingested = ingest_paths(store, logs, settings)
            progress.update(task, description="reading the directory")
            ingest_directory(store, [tenant / "users.json", tenant / "groups.json"])
            # the tenant's policy set in the store too: `vigil policy whatif` and replay work without --config
            from vigil.policy import tables as policy_tables
            from vigil.policy.decision import load_policy_set

            policy_tables.save(store, load_policy_set(tenant / "conditionalAccessPolicies.json",
                                                      tenant / "namedLocations.json"))
            results = run_stages(store, settings, None,
                                 on_stage=lambda name: progress.update(task, description=f"analyze: {name}"))
            summary = summarize(store)
            evaluation = _evaluate(store, tenant)
    errors = [r.error for r in ingested if r.error]
    if errors:
        raise InputError("; ".join(e for e in errors if e))
    if as_json:
        print_json({"tenant": str(tenant), "config": str(config_path), "simulation": _plain(sim),
                    "ingest": [r.as_dict() for r in ingested], "stages": results, "summary": summary,
                    "evaluation": evaluation, "seconds": round(time.perf_counter() - started, 2)})
    else:
        console.print(f"simulated [bold]{users}[/bold] users x [bold]{days}[/bold] days into {tenant} "
                      f"(seed {seed}); store [bold]{settings.store.path}[/bold]; config {config_path}")
        print_summary(summary)
        if evaluation:
            console.print(f"against the simulator's labels: {evaluation}")
        console.print(f"[dim]pipeline ran in {time.perf_counter() - started:.1f} s. Next: vigil incidents, "
                      f"vigil incident show ID, vigil hunt 'KQL', vigil policy whatif ... (on {settings.store.path}; "
                      f"{config_path} holds the demo's settings for a re-analysis)[/dim]")
    if serve and not as_json:
        from vigil.cli.serve import serve as serve_cmd

        serve_cmd(ctx, db=None, config=str(config_path), host="127.0.0.1", port=port)


def _evaluate(store: Store, tenant: Path) -> str | None:
    labels = tenant / "labels.jsonl"
    if not labels.exists():
        return None
    from vigil.incidents.evaluate import evaluate

    res = evaluate(store, labels, tenant / "scenarios.jsonl")
    recall = res.get("vigil_recall")
    reduction = res.get("reduction")
    failover = res.get("vpn_failover") or {}
    missed = ", ".join(str(m.get("campaign_type")) for m in res.get("missed") or [])
    return (f"{res['vigil_incidents']} incidents vs {res['naive_alerts']} naive-rule alerts"
            + (f" ({reduction:.0%} fewer)" if isinstance(reduction, float) else "")
            + (f"; {recall:.0%} of {res['campaigns']} labelled campaigns covered" if isinstance(recall, float) else "")
            + (f" (missed: {missed})" if missed else "")
            + f"; {failover.get('vigil_incidents', 0)} incidents on VPN egress failovers")


def _plain(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(obj)
    return str(obj)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    app.command("demo")(demo)
