"""Store commands: status, query (SQL), export (a table, or the lake), load (from the lake), quarantine."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, print_arrow, print_json, settings_from, store_from
from vigil.cli._table import Col, plural
from vigil.errors import InputError

if TYPE_CHECKING:
    # the settings' models and DuckDB load where a command uses them, not for `vigil --help`
    from vigil.settings import Settings
    from vigil.store import Store


def status(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Tables in the store with their row counts, and the last ingest runs."""
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        counts = {t: store.count(t) for t in store.tables()}
        runs = store.query(
            "select source_file, source_format, status, records_read, records_stored, records_duplicate, "
            "records_quarantined, finished_at from ingest_runs order by started_at desc limit 10"
        )
        from vigil.connectors import status as connector_status

        conns = connector_status(store)
        from vigil.stream.tables import status_rows as stream_status

        kafka = stream_status(store)
    if as_json:
        print_json({"store": settings.store.path, "tables": counts, "recent_ingests": runs.to_pylist(),
                    "connectors": conns, "stream": kafka})
        return
    console.print(f"[bold]{settings.store.path}[/bold]")
    for t, n in counts.items():
        console.print(f"  {t:<34} {n:>12,}")
    print_arrow(runs, as_json=False, title="recent ingests", cols=[
        Col("source_file", "file", 0, fmt=lambda v: Path(v).name if v else ""), Col("source_format", "format", 2),
        Col("status", "status", 1), Col("records_read", "read", 4), Col("records_stored", "stored", 3),
        Col("records_duplicate", "duplicate", 6), Col("records_quarantined", "quarantined", 5),
        Col("finished_at", "finished", 7)])
    if conns:
        from vigil.cli.connect import render_status

        render_status(conns)
    if kafka["partitions"]:
        from vigil.cli._table import show

        show(kafka["partitions"], [
            Col("group_id", "group", 0), Col("topic", "topic", 1), Col("partition", "partition", 2),
            Col("committed_offset", "committed", 4), Col("high_watermark", "high watermark", 5),
            Col("lag", "lag", 3), Col("messages", "messages", 6), Col("quarantined", "quarantined", 7),
            Col("assigned", "assigned", 8)],
            title=f"kafka stream ({kafka['pending_batches']} micro-batches awaiting analysis)")


def query(
    sql: Annotated[str, typer.Argument(help="one SELECT over the store (DuckDB dialect); read-only")],
    limit: Annotated[int, typer.Option(help="rows to print in table form")] = 50,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Run read-only SQL against the store: one SELECT, no file access (use `vigil hunt` for KQL)."""
    from vigil.hunt import run_sql
    from vigil.hunt.guard import check_sql

    check_sql(sql)  # refused before the store is even opened
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        table = run_sql(store, sql, timeout_s=settings.hunt.timeout_s)
    print_arrow(table, as_json=as_json, limit=None if as_json else limit, title=plural(table.num_rows, "row"),
                ranked=False)


def export(
    table: Annotated[str | None, typer.Argument(help="table to export (see `vigil status`)")] = None,
    out: Annotated[Path | None, typer.Argument(help="output file or folder")] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    lake: Annotated[Path | None, typer.Option(
        "--lake", help="write the store's tables (or TABLE) to this lake folder: Parquet partitioned by "
                       "tenant and date, with a manifest (docs/scale.md)")] = None,
    archive: Annotated[bool, typer.Option(help="with --lake: also the raw text blocks")] = False,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Export a table to Parquet or CSV, or the whole store to a lake (--lake DIR)."""
    settings = settings_from(db, config)
    if lake is not None:
        if out is not None:
            raise InputError("--lake writes to its folder; give no output path")
        from vigil.store.lake import export_lake

        with store_from(settings, read_only=True) as store:
            manifest = export_lake(store, lake, [table] if table else None, archive=archive)
        written = {n: t.rows for n, t in manifest.tables.items() if table in (None, n)}
        if as_json:
            print_json({"lake": str(lake), "tables": written})
        else:
            console.print(f"wrote {len(written)} tables ({sum(written.values()):,} rows) to the lake {lake}")
        return
    if table is None or out is None:
        raise InputError("give TABLE and OUT, or --lake DIR")
    with store_from(settings, read_only=True) as store:
        path = store.export(table, out, fmt)
        n = store.count(table)
    if as_json:
        print_json({"table": table, "rows": n, "path": str(path)})
    else:
        console.print(f"exported {n:,} rows of {table} to {path}")


def load(
    lake: Annotated[Path, typer.Option("--lake", help="lake folder written by `vigil export --lake` or "
                                                     "`vigil analyze --engine spark`")],
    tables: Annotated[list[str] | None, typer.Argument(help="tables to load (default: every table)")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Load a lake's tables into the store (replacing the store's copies), for the web UI, API and hunting."""
    from vigil.store.lake import load_lake

    settings = settings_from(db, config)
    with store_from(settings) as store:
        loaded = load_lake(store, lake, tables)
        views = _derived_views(store, settings)
    if as_json:
        print_json({"lake": str(lake), "tables": loaded, "views": views})
    else:
        console.print(f"loaded {len(loaded)} tables ({sum(loaded.values()):,} rows) from {lake}"
                      + (f"; views {', '.join(views)}" if views else ""))


def _derived_views(store: Store, settings: Settings) -> list[str]:
    """The views the stages make over their tables (a lake holds tables only): the enriched events, and
    hunting's Sentinel-named views, once the tables they read are there."""
    from vigil.enrich.egress import effective_statuses
    from vigil.enrich.views import create_views as enriched_views
    from vigil.ueba.views import create_views as sentinel_views

    have = store.relations()
    made: list[str] = []
    if {"ip_enrichment", "ua_enrichment", "asn_classes", "asn_names", "egress_points"} <= have:
        enriched_views(store, settings.enrich, effective_statuses(settings.enrich))
        made += ["signins_enriched", "activities_enriched"]
    if "IdentityInfo" in have:
        made += sentinel_views(store)
    return made


def quarantine(
    file: Annotated[str | None, typer.Option(help="only records from this file (substring match)")] = None,
    limit: Annotated[int, typer.Option(help="rows to print")] = 50,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Show quarantined records: file, line / byte offset, reason and the start of the raw text."""
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        where = "where source_file like ?" if file else ""
        params = [f"%{file}%"] if file else None
        table = store.query(
            f"select source_file, line, byte_offset, reason, left(raw, 120) as raw_start from quarantine {where} "
            f"order by quarantined_at, source_file, line limit {int(limit)}", params)
    print_arrow(table, as_json=as_json)


def raw(
    event_ids: Annotated[list[str], typer.Argument(help="event ids (signins / activities / directory_events)")],
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Print the raw vendor record behind stored events, exactly as it was read."""
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        found = store.raw(event_ids)
    missing = [e for e in event_ids if e not in found]
    if as_json:
        print_json({"records": found, "missing": missing})
    else:
        for e in event_ids:
            if e in found:
                console.print(f"[bold]{e}[/bold]")
                console.print(found[e], markup=False, highlight=False, soft_wrap=True)
    if missing:
        raise InputError(f"no stored record with event id {', '.join(missing)}")


def register(app: typer.Typer) -> None:
    app.command("raw")(raw)
    app.command("status")(status)
    app.command("query")(query)
    app.command("export")(export)
    app.command("load")(load)
    app.command("quarantine")(quarantine)
