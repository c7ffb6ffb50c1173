"""``vigil ingest`` and ``vigil formats``."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table as RichTable

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, err_console, print_json, settings_from, store_from
from vigil.errors import InputError, VigilError
from vigil.sources import registry
from vigil.sources.ingest import IngestResult, expand_paths, ingest_paths

EXIT_QUARANTINED = 9


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders to ingest (JSON, NDJSON, CSV, .gz)")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="force a format (see `vigil formats`)")] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="YAML column mapping for --format mapping")] = None,
    strict: Annotated[bool, typer.Option("--strict", help=f"exit {EXIT_QUARANTINED} if any record was quarantined")] = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest vendor log exports into the store: nothing lost, duplicates skipped, bad records quarantined.

    Exit codes: 0 done; 3 a file could not be read (others are still ingested); 4 format not recognised;
    6 store error; 9 (with --strict) some records were quarantined.
    """
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
    results: list[IngestResult] = []
    with store_from(settings) as store:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                      TimeRemainingColumn(), console=err_console, transient=True, disable=as_json) as progress:
            task = progress.add_task("ingesting", total=total)
            done = 0
            for f in files:
                progress.update(task, description=f.name[:40])

                def cb(_p: Path, n: int, base: int = done) -> None:
                    progress.update(task, completed=base + n)

                if spec is not None:
                    from vigil.sources.ingest import Ingestor

                    try:
                        def file_cb(n: int, f: Path = f) -> None:
                            cb(f, n)

                        results.append(Ingestor(store, settings).ingest_file(f, None, file_cb, spec))
                    except VigilError as exc:
                        results.append(IngestResult(str(f), spec.name, error=str(exc)))
                else:
                    results.extend(ingest_paths(store, [f], settings, None, cb))
                done += f.stat().st_size if f.is_file() else 0
                progress.update(task, completed=done)
    _report(results, as_json)
    errors = [r for r in results if r.error]
    if errors:
        unknown = all("no adapter recognises" in (r.error or "") or "could be read to recognise" in (r.error or "")
                      for r in errors)
        raise typer.Exit(4 if unknown else 3)
    if strict and any(r.quarantined for r in results):
        raise typer.Exit(EXIT_QUARANTINED)


def _report(results: list[IngestResult], as_json: bool) -> None:
    if as_json:
        print_json([r.as_dict() for r in results])
        return
    t = RichTable(title="ingest", header_style="bold")
    for col in ("file", "format", "read", "stored", "duplicate", "quarantined", "MB/s"):
        t.add_column(col, justify="right" if col not in ("file", "format") else "left")
    for r in results:
        rate = f"{r.bytes / 1e6 / r.seconds:.1f}" if r.seconds > 0 else ""
        t.add_row(Path(r.path).name, r.source_format or "?", f"{r.read:,}", f"{r.stored:,}", f"{r.duplicate:,}",
                  f"[yellow]{r.quarantined:,}[/yellow]" if r.quarantined else "0", rate)
    tot = IngestResult("", None)
    for r in results:
        tot.read += r.read
        tot.stored += r.stored
        tot.duplicate += r.duplicate
        tot.quarantined += r.quarantined
    t.add_row("[bold]total", "", f"{tot.read:,}", f"{tot.stored:,}", f"{tot.duplicate:,}", f"{tot.quarantined:,}", "")
    console.print(t)
    for r in results:
        for reason, n in sorted(r.reasons.items(), key=lambda kv: -kv[1]):
            console.print(f"[yellow]quarantined[/yellow] {n:,} from {r.path}: {reason}")
        if r.error:
            err_console.print(f"[red]vigil: error:[/red] {r.error}")
    if any(r.reasons for r in results):
        console.print("[dim]see them with `vigil quarantine`[/dim]")


def formats(as_json: JsonOpt = False) -> None:
    """List the log formats vigil reads (detected from content; force one with --format)."""
    rows = [{"name": s.name, "table": s.target, "title": s.title} for s in registry.all_sources()]
    rows.append({"name": "mapping", "table": "(from the YAML)", "title": "any CSV / JSON through a YAML column mapping"})
    if as_json:
        print_json(rows)
        return
    t = RichTable(header_style="bold")
    for c in ("name", "table", "title"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["name"], r["table"], r["title"])
    console.print(t)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("formats")(formats)
