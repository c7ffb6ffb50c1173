"""``vigil directory`` (users and groups -> IdentityInfo) and ``vigil ueba`` (peers, BehaviorAnalytics)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, emit, print_arrow, settings_from, store_from
from vigil.cli._table import Col, plural, show
from vigil.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa


def _render_ingest(summary: dict[str, Any]) -> None:
    show([{**f, "format": f["format"] or f"error: {f.get('error')}"} for f in summary["files"]],
         [Col("file", priority=0), Col("format", priority=1), Col("users", priority=2), Col("groups", priority=3),
          Col("memberships", priority=5), Col("quarantined", priority=4)],
         title=f"{plural(summary['identities'], 'identity', 'identities')} in IdentityInfo")
    if summary["quarantined"]:
        console.print(f"[yellow]{summary['quarantined']} record(s) quarantined; see the quarantine table[/yellow]")


def _read(db: str | None, config: str | None, table: str, missing: str, sql: str,
          params: list[Any]) -> pa.Table:
    """Run ``sql`` on a read-only store, or fail with ``missing`` when ``table`` is not there yet."""
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        if not store.exists(table):
            raise InputError(missing)
        return store.query(sql, params)


_NO_UEBA = "no {} yet; run `vigil analyze` or `vigil ueba run`"


def register(app: typer.Typer) -> None:
    directory = typer.Typer(help="Directory users and groups -> IdentityInfo (Graph JSON, IdentityInfo / "
                            "AADUserInfo CSV exports, plain CSV).", no_args_is_help=True)
    app.add_typer(directory, name="directory")
    ueba = typer.Typer(help="UEBA: UserPeerAnalytics, BehaviorAnalytics and InvestigationPriority.",
                       no_args_is_help=True)
    app.add_typer(ueba, name="ueba")

    @directory.command("ingest")
    def ingest(
        paths: Annotated[list[str], typer.Argument(help="directory files (JSON or CSV)")],
        group: Annotated[str | None, typer.Option("--group", help="group id for a groups/{id}/members page")] = None,
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Read users, groups and members into the store and rebuild IdentityInfo."""
        from vigil.ueba.directory import ingest_directory

        settings = settings_from(db, config)
        with store_from(settings) as store:
            with console.status("reading directory files"):
                summary = ingest_directory(store, paths, group_id=group)
        emit(summary, as_json=json, render=_render_ingest)
        if summary["failed_files"] and len(summary["failed_files"]) == len(paths):
            raise InputError(f"no directory file could be read: {summary['files'][0].get('error')}")

    @directory.command("show")
    def show(
        user: Annotated[str | None, typer.Argument(help="UPN or object id (default: all)")] = None,
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """IdentityInfo rows (one user, or everyone)."""
        settings = settings_from(db, config)
        with store_from(settings, read_only=True) as store:
            if not store.exists("IdentityInfo"):
                raise InputError("no directory ingested yet; run `vigil directory ingest PATH`")
            where, params = ("", None) if user is None else (
                "WHERE AccountUPN = lower(?) OR AccountObjectId = ?", [user, user])
            table = store.query(
                "SELECT AccountUPN, AccountObjectId, AccountDisplayName, Department, JobTitle, Manager, "
                "GroupMembership, AssignedRoles, IsAccountEnabled, BlastRadius, BlastRadiusReason, ChangeSource "
                f"FROM IdentityInfo {where} ORDER BY AccountUPN", params)
        print_arrow(table, as_json=json, title="IdentityInfo", limit=200)

    @ueba.command("run")
    def run(
        full: Annotated[bool, typer.Option("--full", help="recompute all history, not only new days")] = False,
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Rebuild peers and bring BehaviorAnalytics up to date (`vigil analyze` does this too)."""
        from vigil.ueba import stage

        settings = settings_from(db, config)
        with store_from(settings) as store:
            with console.status("UEBA: peers, baselines, BehaviorAnalytics"):
                summary = stage.run(store, settings, full=full)
        emit(summary, as_json=json, render=lambda s: console.print_json(data=s))

    @ueba.command("top")
    def top(
        minimum: Annotated[int, typer.Option("--min", help="lowest InvestigationPriority shown")] = 5,
        limit: Annotated[int, typer.Option("--limit", help="rows")] = 50,
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """The most anomalous BehaviorAnalytics rows, each with its explanation."""
        table = _read(
            db, config, "BehaviorAnalytics", _NO_UEBA.format("BehaviorAnalytics"),
            "SELECT TimeGenerated, UserPrincipalName, ActivityType, ActionType, SourceIPAddress, SourceIPLocation, "
            "InvestigationPriority, InvestigationPriorityReason, SourceRecordId FROM BehaviorAnalytics "
            "WHERE InvestigationPriority >= ? ORDER BY InvestigationPriority DESC, TimeGenerated DESC, "
            "SourceRecordId LIMIT ?", [minimum, limit])
        print_arrow(table, as_json=json, title=f"BehaviorAnalytics, InvestigationPriority >= {minimum}")

    @ueba.command("peers")
    def peers(
        user: Annotated[str, typer.Argument(help="UPN or object id")],
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """A user's ranked peers (UserPeerAnalytics) and where they came from."""
        table = _read(
            db, config, "UserPeerAnalytics", _NO_UEBA.format("UserPeerAnalytics"),
            "SELECT Rank, PeerUserPrincipalName, PeerUserName, PeerSource, round(PeerScore, 3) AS PeerScore "
            "FROM UserPeerAnalytics WHERE user_key = lower(?) OR UserId = ? ORDER BY Rank", [user, user])
        if table.num_rows == 0:
            raise InputError(f"no peers for {user!r} (unknown user, or no shared groups / apps)")
        print_arrow(table, as_json=json, title=f"peers of {user}")
