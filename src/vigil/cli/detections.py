"""``vigil detections``: the detection catalogue, and running detections alone."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, emit, settings_from, store_from


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Detections as code: the catalogue, and running them over the store.",
                        no_args_is_help=True)
    app.add_typer(group, name="detections")

    @group.command("list")
    def list_(
        json: JsonOpt = False,
        config: ConfigOpt = None,
    ) -> None:
        """Every detection with its Entra name, MITRE technique, levels, timing and parameters."""
        from vigil.detections import registry

        settings = settings_from(None, config)
        disabled = set(settings.detections.disabled)
        rows = []
        for det in registry.all_detections():
            row = det.catalogue()
            row["enabled"] = det.id not in disabled
            row["params"] = det.with_params(settings.detections.params.get(det.id)).as_dict()
            rows.append(row)

        def render(rows: list[dict[str, Any]]) -> None:
            from vigil.cli._table import Col, plural, show

            show([{**r, "levels": "/".join(r["levels"]),
                   "params": ", ".join(f"{k}={v}" for k, v in r["params"].items() if not isinstance(v, list))}
                  for r in rows],
                 [Col("id", priority=0), Col("riskEventType", priority=1), Col("mitre", "MITRE", 3),
                  Col("levels", priority=4), Col("timing", priority=5), Col("enabled", "on", 2),
                  Col("params", "parameters", 6)], title=plural(len(rows), "detection"))

        emit(rows, as_json=json, render=render)

    @group.command("run")
    def run(
        only: Annotated[list[str] | None, typer.Option("--only", help="run only this detection (repeatable)")] = None,
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Run detections now (replacing vigil's riskDetections); `vigil analyze` runs them too."""
        from vigil.detections import engine, registry

        settings = settings_from(db, config)
        for name in only or []:
            registry.get(name)
        with store_from(settings) as store, console.status("running detections"):
            result = engine.run(store, settings, only=only or None)
        summary = engine.summary(result)

        def render(s: dict[str, Any]) -> None:
            for det_id, n in result.counts.items():
                console.print(f"{det_id:32} {n:>8}")
            for det_id, why in result.skipped.items():
                console.print(f"[yellow]{det_id:32} skipped: {why}[/yellow]")
            console.print(f"[bold]{result.total} riskDetections[/bold]")

        emit(summary, as_json=json, render=render)

    @group.command("import-sentinel")
    def import_sentinel(
        files: Annotated[list[Path], typer.Argument(help="Sentinel scheduled analytic rule(s), YAML as published")],
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Load Microsoft Sentinel scheduled analytic rules as detections: each KQL query is translated by the
        hunting engine, run once to check it, and stored so `vigil analyze` runs it (queryPeriod, trigger,
        severity, tactics and entity mappings kept) and its findings feed incidents. Importing a rule again
        replaces it."""
        from vigil.detections.sentinel import import_rule

        settings = settings_from(db, config)
        with store_from(settings) as store, console.status("translating Sentinel rules"):
            rules = [import_rule(store, f).to_dict() for f in files]

        def render(rows: list[dict[str, Any]]) -> None:
            for r in rows:
                console.print(f"loaded [bold]{r['id']}[/bold] {r['name']!r}: level {r['level']}, user from "
                              f"{r['user']}, MITRE {', '.join(r['mitre']) or '-'}; `vigil analyze` runs it")

        emit(rules, as_json=json, render=render)

    @group.command("import-sigma")
    def import_sigma(
        folder: Annotated[Path, typer.Argument(help="folder of Sigma rules (*.yml, searched recursively)")],
        db: DbOpt = None,
        config: ConfigOpt = None,
        json: JsonOpt = False,
    ) -> None:
        """Load Sigma rules (pySigma) as detections: each is translated onto vigil's tables, run once to check
        it, and stored so `vigil analyze` runs it with its level and ATT&CK tags; every rule left out says why.
        Importing again replaces the previously imported Sigma rules."""
        from vigil.detections import imported
        from vigil.detections.sigma.load import check_runs, import_dir

        settings = settings_from(db, config)
        with store_from(settings) as store, console.status("translating Sigma rules"):
            result = import_dir(folder)
            matches = check_runs(store, result)
            imported.replace(store, "sigma", result.rules)
        out = {"rules": len(result.outcomes), "loaded": result.loaded, "ran": len(matches),
               "matched_now": {k: v for k, v in matches.items() if v},
               "outcomes": [o.__dict__ for o in result.outcomes]}

        def render(o: dict[str, Any]) -> None:
            for x in result.outcomes:
                if not x.loaded:
                    console.print(f"[yellow]not loaded[/yellow] {x.path}: {x.reason}")
                elif x.reason:
                    console.print(f"loaded {x.path}: {x.reason}")
            console.print(f"[bold]{o['loaded']} of {o['rules']} Sigma rules loaded[/bold], {o['ran']} ran over the "
                          f"store ({len(o['matched_now'])} of them match events now); `vigil analyze` runs them")

        emit(out, as_json=json, render=render)
