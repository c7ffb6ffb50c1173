"""``vigil simulate``: write a simulated tenant's logs (vendor formats) or canonical Parquet, with labels."""
from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vigil.cli._common import JsonOpt, console, print_json
from vigil.errors import InputError


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate(
        out: Annotated[str, typer.Option("--out", help="output folder (created if missing)")],
        users: Annotated[int | None, typer.Option("--users", help="number of users (default: preset's)")] = None,
        days: Annotated[int | None, typer.Option("--days", help="number of days (default: preset's)")] = None,
        seed: Annotated[int | None, typer.Option("--seed", help="random seed; same seed, same bytes")] = None,
        start: Annotated[str | None, typer.Option("--start", help="first day, YYYY-MM-DD (default 2026-01-05)")]
        = None,
        preset: Annotated[str, typer.Option("--preset", help="demo | small | standard")] = "demo",
        rate: Annotated[list[str] | None, typer.Option(
            "--rate", help="override a scenario rate or campaign count, NAME=NUMBER (repeatable)")] = None,
        compress: Annotated[bool, typer.Option("--gzip", help="gzip the NDJSON log files")] = False,
        canonical: Annotated[bool, typer.Option(
            "--canonical-parquet", help="fast path: write vigil's canonical tables as Parquet (no vendor JSON)")]
        = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Simulate a tenant: Entra sign-ins, Office 365 audit, AuditLogs, directory, CA policies and labels."""
        from vigil.simulate import PRESETS, parse_rates, simulate_tenant

        if preset not in PRESETS:
            raise InputError(f"--preset {preset!r}: choose one of {', '.join(PRESETS)}")
        p = PRESETS[preset]
        n_users = users if users is not None else int(p["users"])
        n_days = days if days is not None else int(p["days"])
        n_seed = seed if seed is not None else int(p["seed"])
        try:
            first = date.fromisoformat(start) if start else None
        except ValueError:
            raise InputError(f"--start {start!r}: expected YYYY-MM-DD") from None
        rates = parse_rates(rate or [])
        with Progress(TextColumn("[bold]simulate[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True, disable=as_json) as progress:
            task = progress.add_task("days", total=n_days)

            def on_day(done: int, total: int) -> None:
                progress.update(task, completed=done)

            if canonical:
                from vigil.simulate.canonical import write_canonical

                summary = write_canonical(out, users=n_users, days=n_days, seed=n_seed, start=first, on_day=on_day)
                data = summary.to_dict()
            else:
                data = simulate_tenant(out, users=n_users, days=n_days, seed=n_seed, start=first, rates=rates,
                                       compress=compress, on_day=on_day).to_dict()
        if as_json:
            print_json(data)
            return
        console.print(f"[bold]Simulated[/bold] {data['users']} users x {data['days']} days (seed {data['seed']}) "
                      f"into {data['out_dir']} in {data['seconds']} s")
        for name, n in data["files"].items():
            console.print(f"  {name:45} {n:>12,} records")
        for c in data.get("campaigns", []):
            who = c.get("victim") or ", ".join(c.get("valid", [])) or c.get("hit", "")
            console.print(f"  campaign {c['type']:30} {c['technique']:10} day {c['day']}  {who}")
        if data.get("scenarios"):
            console.print("  scenarios: " + ", ".join(f"{k} {v}" for k, v in sorted(data["scenarios"].items())))
