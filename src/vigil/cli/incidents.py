"""``vigil incidents`` / ``vigil incident`` / ``vigil evaluate``: the queue, one story, the noise figure."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, emit, settings_from, store_from
from vigil.cli._table import Col, cell_text, plural, show
from vigil.errors import InputError

ByOpt = Annotated[str, typer.Option("--by", help="who (recorded with the change)")]


QUEUE_COLS = [Col("incident_id", "id", 0), Col("severity", "sev", 3), Col("priority", "score", 5),
              Col("status", "status", 4), Col("who", "who", 2, ident=True),
              Col("title", "what happened", 1, min_width=24), Col("last_activity", "last activity", 6)]


def _queue(rows: list[dict[str, Any]]) -> None:
    show([{**r, "who": r["user_principal_name"] or plural(len(r["accounts"]), "account")} for r in rows],
         QUEUE_COLS, title=f"{plural(len(rows), 'incident')}, most urgent first", empty="no incidents")


def _story(s: dict[str, Any]) -> None:
    inc = s["incident"]
    console.print(f"[bold]{inc['incident_id']}[/bold]  {inc['title']}")
    console.print(f"severity [bold]{inc['severity']}[/bold]  status {inc['status']}"
                  f"{'  (' + inc['classification'] + ')' if inc['classification'] else ''}  score "
                  f"{inc['priority']:g}  {str(inc['first_activity'])[:19]} .. {str(inc['last_activity'])[:19]}")
    if inc["accounts"] and not inc["user_principal_name"]:
        console.print(f"accounts: {', '.join(inc['accounts'][:20])}{' …' if len(inc['accounts']) > 20 else ''}")
    console.print(f"\n[bold]Why raised[/bold]: {inc['reason']}")
    console.print(f"[bold]Recommended action[/bold]: {inc['recommended_action']}")
    if s["root_authentications"]:
        console.print("\n[bold]Root authentication[/bold]")
        for r in s["root_authentications"]:
            console.print(f"  {str(r['root_time'])[:19]}  session {r['session_key']}: {r['root_ip']} "
                          f"({r['root_city'] or '?'}, {r['root_country'] or '?'}, {r['root_ip_class'] or '?'}) "
                          f"MFA {'yes' if r['root_mfa'] else 'no'}  {r['root_browser'] or ''} {r['root_os'] or ''}"
                          f"  — {r['event_count']} events, {r['hop_count']} hops, countries {r['countries']}")
    console.print("\n[bold]Timeline[/bold]")
    for e in s["timeline"]:
        style = {"detection": "red", "root": "bold", "behavior": "yellow"}.get(e["kind"], "dim")
        console.print(f"  {str(e['time'])[:19]}  [{style}]{e['kind']:9}[/{style}] {e['text']}")
    if s["timeline_truncated"]:
        console.print("  [dim]… timeline truncated (use --json)[/dim]")
    console.print("\n[bold]What each detection saw[/bold]")
    for d in s["detections"]:
        console.print(f"  [red]{d['riskEventType']}[/red] {d['riskLevel']} ({d['riskState']}) "
                      f"{str(d['activityDateTime'])[:19]} {d['ipAddress'] or ''} {d['country'] or ''}")
        console.print(f"    {d['reason']}")
        console.print(Text(f"    evidence: {cell_text(d['evidence'])}", style="dim"))
    for c in s["comments"]:
        console.print(f"\n  [cyan]{str(c['created_at'])[:19]} {c['author']}[/cyan]: {c['text']}")


def _eval(r: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(title="noise and recall over labelled campaigns", header_style="bold")
    for col in ("campaign type", "campaigns", "vigil recall", "naive recall"):
        t.add_column(col)
    for b in r["by_type"]:
        t.add_row(b["campaign_type"], str(b["campaigns"]), f"{b['vigil_covered']}/{b['campaigns']}",
                  f"{b['naive_covered']}/{b['campaigns']}")
    t.add_row("[bold]all[/bold]", str(r["campaigns"]), f"{r['vigil_recall']:.0%}", f"{r['naive_recall']:.0%}")
    console.print(t)
    red = r["reduction"]
    console.print(f"naive rules: {r['naive_alerts']} alerts {r['naive_by_rule']}")
    console.print(f"vigil: {r['vigil_incidents']} incidents"
                  + (f" — {red:.1%} fewer than the naive rules" if red is not None else ""))
    if r["incidents_on_no_labelled_campaign"]:
        console.print(f"incidents on no labelled campaign: {', '.join(r['incidents_on_no_labelled_campaign'])}")
    else:
        console.print("every incident is on a labelled campaign")
    f = r["vpn_failover"]
    console.print(f"VPN egress failover ({f['users']} users): vigil {f['vigil_incidents']} incidents, naive "
                  f"{f['naive_alerts_on_failover_events']} alerts on those events")
    if r.get("benign_scenarios"):
        console.print("benign scenarios (users: incidents on no labelled campaign): " + ", ".join(
            f"{b['scenario']} {b['users']}: {b['incidents_on_no_labelled_campaign']}" for b in r["benign_scenarios"]))
    for m in r["missed"]:
        console.print(f"[red]missed[/red] {m['campaign_type']} {m['campaign_id']} ({m['user']}): "
                      f"{m['resolved_events']}/{m['labelled_events']} labelled events in the store")
    if r.get("per_detection"):
        console.print("detections: " + ", ".join(
            f"{d['riskEventType']} {d['on_malicious_events']}/{d['findings']}" for d in r["per_detection"])
            + " (on labelled malicious events / all)")
    for k, ok in r["targets"].items():
        console.print(f"{'[green]met[/green]' if ok else '[red]NOT met[/red]'}  {k}")


def register(app: typer.Typer) -> None:
    queue = typer.Typer(help="The incidents queue (ranked), exports and the webhook.",
                        invoke_without_command=True)
    app.add_typer(queue, name="incidents")

    @queue.callback()
    def incidents(ctx: typer.Context,
                  status: Annotated[list[str] | None, typer.Option("--status", help="only these statuses")] = None,
                  db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """List incidents, most urgent first."""
        if ctx.invoked_subcommand is not None:
            return
        from vigil.incidents import output

        settings = settings_from(db, config)
        with store_from(settings, read_only=True) as store:
            rows = output.incident_rows(store, "status = any(?)", [status]) if status else \
                output.incident_rows(store)
        emit(rows, as_json=json, render=_queue)

    @queue.command("export")
    def export(jsonl: Annotated[bool, typer.Option("--jsonl", help="JSON lines (the only format)")] = True,
               detections: Annotated[bool, typer.Option("--detections", help="riskDetections instead")] = False,
               out: Annotated[Path | None, typer.Option("--out", help="file (default stdout)")] = None,
               db: DbOpt = None, config: ConfigOpt = None) -> None:
        """Incidents (or riskDetections) as JSON lines, for a SIEM."""
        from vigil.incidents import output

        settings = settings_from(db, config)
        with store_from(settings, read_only=True) as store:
            rows = list(output.detection_rows(store)) if detections else output.incident_rows(store)
        if out is None:
            output.write_jsonl(rows, sys.stdout.buffer)
            sys.stdout.flush()
        else:
            with out.open("wb") as fh:
                n = output.write_jsonl(rows, fh)
            console.print(f"{n} {'detections' if detections else 'incidents'} -> {out}", style="dim")

    @queue.command("webhook")
    def webhook(url: Annotated[str | None, typer.Option("--url", help="default incidents.webhook_url")] = None,
                secret: Annotated[str | None, typer.Option(
                    "--secret", help="HMAC key (default incidents.webhook_secret)")] = None,
                db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """POST new or updated incidents to a webhook, signed (HMAC-SHA256), with retries."""
        from vigil.incidents import output

        settings = settings_from(db, config)
        with store_from(settings) as store, console.status("delivering incidents"):
            result = output.send(store, settings.incidents, url=url, secret=secret)

        def render(r: dict[str, Any]) -> None:
            console.print(f"{r['sent']} delivered to {r['url']}, {r['failed']} failed")
            for f in r["failures"]:
                console.print(f"  [red]{f['incident_id']}[/red] after {f['attempts']} attempts: {f['error']}")

        emit(result, as_json=json, render=render)
        if result["failed"]:
            raise typer.Exit(9)

    one = typer.Typer(help="One incident: its story, status and comments.", no_args_is_help=True)
    app.add_typer(one, name="incident")

    @one.command("show")
    def show(incident_id: str, db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """The story: root authentication, hops on a time line, each detection's evidence, why raised."""
        from vigil.incidents import story

        settings = settings_from(db, config)
        with store_from(settings, read_only=True) as store:
            data = story.story(store, incident_id)
        emit(data, as_json=json, render=_story)

    @one.command("set-status")
    def set_status(incident_id: str, status: Annotated[str, typer.Argument(help="new | active | closed")],
                   classification: Annotated[str | None, typer.Option(
                       "--classification", help="truePositive | benignPositive | falsePositive | undetermined")
                   ] = None,
                   by: ByOpt = "cli", db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """Set an incident's status (kept across re-analysis)."""
        from vigil.incidents import actions

        settings = settings_from(db, config)
        with store_from(settings) as store:
            out = actions.set_status(store, incident_id, status=status, classification=classification, actor=by)
        emit(out, as_json=json, render=lambda o: console.print(f"{o['incident_id']}: {o['status']}"))

    @one.command("comment")
    def comment(incident_id: str, text: str, by: ByOpt = "cli", db: DbOpt = None, config: ConfigOpt = None,
                json: JsonOpt = False) -> None:
        """Add a comment to an incident."""
        from vigil.incidents import actions

        settings = settings_from(db, config)
        with store_from(settings) as store:
            out = actions.add_comment(store, incident_id, text=text, author=by)
        emit(out, as_json=json, render=lambda o: console.print(f"{o['incident_id']}: comment added"))

    @app.command("evaluate")
    def evaluate_(labels: Annotated[Path | None, typer.Option(
                      "--labels", help="labels.jsonl from `vigil simulate` (not with --inject)")] = None,
                  scenarios: Annotated[Path | None, typer.Option(
                      "--scenarios", help="scenarios.jsonl (default: beside the labels)")] = None,
                  inject: Annotated[Path | None, typer.Option(
                      "--inject", help="copy the store to this new file, inject labelled campaigns on its own "
                                       "users, analyse the copy and measure there (the store is not changed)")] = None,
                  seed: Annotated[int, typer.Option(help="--inject: seed for victims and times")] = 1,
                  db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """Noise figure: vigil's incidents vs naive rules, recall per labelled campaign type."""
        from vigil.incidents import evaluate

        settings = settings_from(db, config)
        if inject is not None:
            result = _evaluate_injected(settings, inject, seed)
        elif labels is None:
            raise InputError("--labels FILE (from `vigil simulate`) or --inject COPY is needed")
        else:
            with store_from(settings) as store:
                result = evaluate.evaluate(store, labels, scenarios)
        emit(result, as_json=json, render=_eval)


def _evaluate_injected(settings: Any, copy: Path, seed: int) -> dict[str, Any]:
    """``vigil evaluate --inject COPY``: snapshot the store, inject campaigns on its users, analyse, measure."""
    from vigil.incidents import evaluate
    from vigil.pipeline import run_stages
    from vigil.simulate.inject import inject
    from vigil.store import open_store
    from vigil.store.snapshot import snapshot_file

    if copy.exists():
        raise InputError("already exists: --inject writes a new copy of the store", path=str(copy))
    snapshot_file(settings.store.path, copy)
    copied = settings.model_copy(update={"store": settings.store.model_copy(update={"path": str(copy)})})
    labels = copy.with_name(copy.name + ".labels.jsonl")
    try:
        with open_store(copy) as store, console.status("injecting campaigns and analysing the copy"):
            injected = inject(store, labels, seed=seed)
            run_stages(store, copied, None)
            result = evaluate.evaluate(store, labels, None)
    except BaseException:  # a half-made copy is not a measurement: remove it (the store itself is untouched)
        for leftover in (copy, labels, copy.with_name(copy.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    result["injected"] = injected
    return result
