"""``vigil ingest`` and ``vigil formats``."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.markup import escape

from vigil.cli._routes import Routed, route_all
from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, err_console, print_json, settings_from, store_from
from vigil.cli._table import Col, show
from vigil.errors import InputError, VigilError
from vigil.sources import registry

if TYPE_CHECKING:
    from vigil.sources.ingest import IngestResult
    from vigil.store import Store

EXIT_QUARANTINED = 9


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders to ingest (JSON, NDJSON, CSV, .gz)")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="force a format (see `vigil formats`)")] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="YAML column mapping for --format mapping")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help=f"exit {EXIT_QUARANTINED} if any record was quarantined")] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest vendor log exports into the store: nothing lost, duplicates skipped, bad records quarantined.

    Exit codes: 0 done; 3 a file could not be read (others are still ingested); 4 format not recognised;
    6 store error; 9 (with --strict) some records were quarantined.
    """
    from vigil.sources.ingest import expand_paths, ingest_paths

    settings = settings_from(db, config)
    files = expand_paths(list(paths))
    if not files:
        raise InputError("no files to ingest", path=", ".join(map(str, paths)))
    spec = None
    if fmt == "mapping" or mapping is not None:
        if mapping is None:
            raise InputError("--format mapping needs --mapping FILE.yaml")
        from vigil.sources.mapping import load_mapping

        spec = load_mapping(mapping)
    elif fmt:
        spec = registry.get(fmt)
    total = sum(f.stat().st_size for f in files if f.is_file())
    with store_from(settings) as store:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                      TimeRemainingColumn(), console=err_console, transient=True, disable=as_json) as progress:
            task = progress.add_task("ingesting", total=total)
            base, done = {}, 0
            for f in files:  # where each file starts on the bar (files are stored in this order)
                base[f] = done
                done += f.stat().st_size if f.is_file() else 0

            def cb(f: Path, n: int) -> None:
                progress.update(task, description=f.name[:40], completed=base[f] + n)

            # all files at once: worker threads map the next files while this one is stored (ingest.map_workers)
            results = ingest_paths(store, list(files), settings, None, cb, spec=spec,
                                   errors=(VigilError,) if spec is not None else (InputError,))
            progress.update(task, completed=done)
        named = {p.resolve() for p in paths if p.is_file()}
        routed = _route_unknown(store, settings, results, named) if spec is None else {}
    _report(results, routed, as_json)
    errors = [r for r in results if r.error and r.path not in routed]
    if errors:
        raise typer.Exit(4 if all(_unknown(r) for r in errors) else 3)
    if results and all(r.path in routed and routed[r.path].skipped for r in results):
        err_console.print("[red]vigil: error:[/red] no file was recognised (see the reasons above)")
        raise typer.Exit(4)
    if strict and any(r.quarantined or (r.path in routed and routed[r.path].quarantined) for r in results):
        raise typer.Exit(EXIT_QUARANTINED)


def _unknown(r: IngestResult) -> bool:
    return "no adapter recognises" in (r.error or "") or "could be read to recognise" in (r.error or "")


def _route_unknown(store: Store, settings: Any, results: list[IngestResult], named: set[Path]) -> dict[str, Routed]:
    """Files no log format took: other readers (directory, risk, policies, named locations) take theirs; the rest
    found in a folder are skipped with a note, while a file named on the command line that nothing reads stays
    an error."""
    unknown = [r for r in results if r.error and _unknown(r)]
    routed = route_all(store, settings, [(Path(r.path), (r.error or "").split(": ", 1)[-1]) for r in unknown])
    return {r.path: routed[Path(r.path)] for r in unknown
            if routed[Path(r.path)].taken_as or Path(r.path).resolve() not in named}


def _account(r: IngestResult, routed: Routed | None) -> dict[str, Any]:
    """One file's account: what it was taken as (format and table) or why it was skipped."""
    row = r.as_dict()
    if routed is None:
        spec = registry.get(r.source_format) if r.source_format in registry.names() else None
        row.update(taken_as=r.source_format if not r.error else None, table=spec.target if spec else None,
                   skipped=None)
    else:
        row.update(taken_as=routed.taken_as, table=routed.table, skipped=routed.skipped, error=None)
        if routed.taken_as:
            row.update(read=routed.stored + routed.quarantined, stored=routed.stored, quarantined=routed.quarantined)
    return row


def _report(results: list[IngestResult], routed: dict[str, Routed], as_json: bool) -> None:
    rows = [_account(r, routed.get(r.path)) for r in results]
    if as_json:
        print_json(rows)
        return
    lines = [{**row, "name": Path(r.path).name,
              "taken": row["taken_as"] or ("skipped" if row["skipped"] else "?"),
              "rate": round(r.bytes / 1e6 / r.seconds, 1) if r.seconds > 0 else None}
             for r, row in zip(results, rows, strict=True)]
    lines.append({"name": "total", **{k: sum(row[k] for row in rows)
                                      for k in ("read", "stored", "duplicate", "quarantined")}})
    show(lines, [Col("name", "file", 0), Col("taken", "taken as", 1), Col("table", "table", 3),
                 Col("read", "read", 4), Col("stored", "stored", 2), Col("duplicate", "duplicate", 6),
                 Col("quarantined", "quarantined", 5), Col("rate", "MB/s", 7)], title="ingest")
    for r, row in zip(results, rows, strict=True):  # one line each (soft_wrap); names and reasons are not markup
        for reason, n in sorted(r.reasons.items(), key=lambda kv: -kv[1]):
            console.print(f"[yellow]quarantined[/yellow] {n:,} from {escape(r.path)}: {escape(reason)}",
                          soft_wrap=True)
        if row["skipped"]:
            console.print(f"[dim]skipped[/dim] {escape(r.path)}: {escape(row['skipped'])}", soft_wrap=True)
        if row["error"]:
            err_console.print(f"[red]vigil: error:[/red] {escape(r.error or '')}", soft_wrap=True)
    if any(r.reasons for r in results):
        console.print("[dim]see them with `vigil quarantine`[/dim]")


def formats(as_json: JsonOpt = False) -> None:
    """List the log formats vigil reads (detected from content; force one with --format)."""
    rows = [{"name": s.name, "table": s.target, "title": s.title} for s in registry.all_sources()]
    rows.append({"name": "mapping", "table": "(from the YAML)",
                 "title": "any CSV / JSON through a YAML column mapping"})
    if as_json:
        print_json(rows)
        return
    show(rows, ["name", "table", "title"])


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("formats")(formats)
