"""``vigil risk``: user and sign-in risk, admin actions, and Entra ID Protection's own risk."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, emit, print_arrow, settings_from, store_from

UserArg = Annotated[list[str], typer.Argument(help="UPN(s) or object id(s)")]
ByOpt = Annotated[str, typer.Option("--by", help="who is taking the action (recorded)")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="why (recorded)")]
SourceOpt = Annotated[str | None, typer.Option("--source", help="vigil or IdentityProtection (default both)")]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="User and sign-in risk, admin risk actions, Entra ID Protection import.",
                        no_args_is_help=True)
    app.add_typer(group, name="risk")

    @group.command("users")
    def users(source: SourceOpt = None, all_: Annotated[bool, typer.Option(
                  "--all", help="include users no longer at risk")] = False,
              db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """Risky users (Graph riskyUser), highest risk first, vigil's and Entra's side by side."""
        settings = settings_from(db, config)
        where = ["true"]
        params: list[object] = []
        if source:
            where.append("source = ?")
            params.append(source)
        if not all_:
            where.append("riskState in ('atRisk', 'confirmedCompromised')")
        with store_from(settings, read_only=True) as store:
            table = store.query(
                'select userPrincipalName, riskLevel, riskState, riskDetail, riskLastUpdatedDateTime, source, '
                f'reason, id from "riskyUsers" where {" and ".join(where)} order by '
                "case riskLevel when 'high' then 3 when 'medium' then 2 when 'low' then 1 else 0 end desc, "
                "riskLastUpdatedDateTime desc, userPrincipalName, source", params or None)
        print_arrow(table, as_json=json, title="risky users")

    @group.command("detections")
    def detections(user: Annotated[str | None, typer.Option("--user", help="only this UPN")] = None,
                   source: SourceOpt = None, db: DbOpt = None, config: ConfigOpt = None,
                   json: JsonOpt = False) -> None:
        """Risk detections (Graph riskDetection) from vigil and Entra ID Protection, newest first."""
        settings = settings_from(db, config)
        where, params = ["true"], []
        if user:
            where.append("userPrincipalName = lower(?)")
            params.append(user)
        if source:
            where.append("source = ?")
            params.append(source)
        with store_from(settings, read_only=True) as store:
            table = store.query(
                "select activityDateTime, userPrincipalName, riskEventType, riskLevel, riskState, ipAddress, "
                f'source, reason, id from "riskDetections" where {" and ".join(where)} '
                "order by activityDateTime desc, id", params or None)
        print_arrow(table, as_json=json, title="risk detections", limit=None if json else 200)

    @group.command("import")
    def import_(paths: Annotated[list[Path], typer.Argument(help="Graph JSON / diagnostic / Log Analytics files")],
                db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """Import Entra ID Protection riskDetections and riskyUsers (source IdentityProtection)."""
        settings = settings_from(db, config)
        with store_from(settings) as store:
            from vigil.risk import vendor

            results = [vendor.import_file(store, p) for p in paths]
        data = [r.__dict__ for r in results]

        def render(rows: list[dict[str, Any]]) -> None:
            for r in rows:
                console.print(f"{r['path']}: {r['detections']} detections, {r['users']} users, "
                              f"{r['quarantined']} quarantined")
                for why in r["reasons"]:
                    console.print(f"  [yellow]quarantined[/yellow] {why}")

        emit(data, as_json=json, render=render)

    def _action(name: str, action: str, help_: str) -> None:
        @group.command(name, help=help_)
        def cmd(users: UserArg, by: ByOpt, reason: ReasonOpt = None, db: DbOpt = None,
                config: ConfigOpt = None, json: JsonOpt = False) -> None:
            from vigil.risk import actions

            settings = settings_from(db, config)
            with store_from(settings) as store:
                out = getattr(actions, action)(store, users, actor=by, reason=reason, settings=settings.risk)

            def render(o: dict[str, Any]) -> None:
                for u in o["users"]:
                    console.print(f"{u['userPrincipalName']}: {u['riskLevel']} / {u['riskState']} "
                                  f"({u['riskDetail']}) — recorded by {o['actor']} at {o['at']}")

            emit(out, as_json=json, render=render)

    _action("confirm-compromised", "confirm_compromised",
            "Confirm users compromised: user risk high, confirmedCompromised (recorded with --by).")
    _action("confirm-safe", "confirm_safe",
            "Confirm users safe: all their past risk closed as confirmedSafe (recorded with --by).")
    _action("dismiss", "dismiss",
            "Dismiss users' risk: all past risk closed as dismissed (recorded with --by).")
