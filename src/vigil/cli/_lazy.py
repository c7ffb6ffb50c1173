"""The ``vigil`` group builds a top-level command only when it is used (issue 17: start-up).

Building the whole click tree made typer inspect the signature of every one of ~110 commands and
imported every command module, for a ``vigil --help`` that lists only names. ``LISTING`` names each
top-level command, the module under ``vigil/cli`` whose ``register(app)`` adds it, and the first
paragraph of its help (what ``vigil --help`` prints); ``tests/cli/test_lazy.py`` checks it against the
commands the modules really register, so the two cannot drift.
"""
from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator, Mapping
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

#: (command, module under vigil/cli, first paragraph of its help), in the order ``vigil --help`` lists them
#: (typer's order: each module's plain commands, then its groups, modules in registration order)
LISTING: tuple[tuple[str, str, str], ...] = (
    ("analyze", "analyze", "Enrich, stitch sessions, judge travel, build UEBA, run detections, score risk, raise "
                           "incidents."),
    ("demo", "analyze", "Simulate a small tenant, ingest and analyse it into ./vigil.duckdb, print the summary, serve "
                        "the UI."),
    ("backup", "backup", "Back up the store, the CAE journal, the signing keys and the settings (consistent while "
                         "serving)."),
    ("restore", "backup", "Verify a backup and restore it into a new folder (store, journal, keys, and a vigil.yaml "
                          "naming them)."),
    ("connect", "connect", "Pull logs from a tenant API into the store (see docs/connectors.md)."),
    ("enrich", "enrich", "Run the enrich stage alone (feeds, geo / ASN, user agents, corporate egress, enriched "
                         "views)."),
    ("hunt", "hunt", "Run KQL over the Sentinel-named tables and vigil's own."),
    ("evaluate", "incidents", "Noise figure: vigil's incidents vs naive rules, recall per labelled campaign type."),
    ("ingest", "ingest", "Ingest vendor log exports into the store: nothing lost, duplicates skipped, bad records "
                         "quarantined."),
    ("formats", "ingest", "List the log formats vigil reads (detected from content; force one with --format)."),
    ("serve", "serve", "Serve the REST API (/api/v1, OpenAPI at /api/v1/openapi.json) and the web UI (/) over the "
                       "store."),
    ("sessions", "sessions", "Sessions with their root authentication, newest first."),
    ("travel", "sessions", "Travel between a user's consecutive locations, with verdict and reason."),
    ("hijacks", "sessions", "Session-hijack findings with their reason and evidence events."),
    ("simulate", "simulate", "Simulate a tenant: Entra sign-ins, Office 365 audit, AuditLogs, directory, CA policies "
                             "and labels."),
    ("raw", "store", "Print the raw vendor record behind stored events, exactly as it was read."),
    ("status", "store", "Tables in the store with their row counts, and the last ingest runs."),
    ("query", "store", "Run read-only SQL against the store: one SELECT, no file access (use `vigil hunt` for KQL)."),
    ("export", "store", "Export a table to Parquet or CSV, or the whole store to a lake (--lake DIR)."),
    ("load", "store", "Load a lake's tables into the store (replacing the store's copies), for the web UI, API and "
                      "hunting."),
    ("quarantine", "store", "Show quarantined records: file, line / byte offset, reason and the start of the raw "
                            "text."),
    ("upgrade", "upgrade", "Migrate the store forward to this vigil's schema (back it up first: `vigil backup "
                           "DEST`)."),
    ("cae", "cae", "Continuous access evaluation: revoke, inspect, issue demo tokens."),
    ("ssf", "cae", "Shared Signals (SSF / CAEP): streams to receivers, transmitters we listen to."),
    ("detections", "detections", "Detections as code: the catalogue, and running them over the store."),
    ("geo", "enrich", "Geolocation databases: install DB-IP Lite, use your own, look an IP up."),
    ("feeds", "enrich", "IP-class and threat-intel feeds (plain files)."),
    ("egress", "enrich", "Corporate egress points: list, accept, reject."),
    ("watchlist", "hunt", "Watchlists: named CSV lists hunts read with _GetWatchlist('alias')."),
    ("identity", "identity", "Identities: current and former names, accounts at each identity provider, links."),
    ("incidents", "incidents", "The incidents queue (ranked), exports and the webhook."),
    ("incident", "incidents", "One incident: its story, status and comments."),
    ("policy", "policy", "Conditional access: check Graph policies, what-if a sign-in, replay history."),
    ("risk", "risk", "User and sign-in risk, admin risk actions, Entra ID Protection import."),
    ("token", "serve", "API tokens of `vigil serve` (stored hashed; a token is shown once)."),
    ("session", "sessions", "One session: root authentication, events, hops, travel, hijack findings."),
    ("directory", "ueba", "Directory users and groups -> IdentityInfo (Graph JSON, IdentityInfo / AADUserInfo CSV "
                          "exports, plain CSV)."),
    ("ueba", "ueba", "UEBA: UserPeerAnalytics, BehaviorAnalytics and InvestigationPriority."),
)

#: every command module, registered in this (alphabetical) order (tests/cli/test_areas.py checks none is missing)
AREAS: tuple[str, ...] = tuple(sorted({module for _, module, _ in LISTING}))

_MODULE = {name: module for name, module, _ in LISTING}


def register_all(app: typer.Typer) -> None:
    """Every area's commands on ``app`` (the whole tree at once, as before; for tests and tools)."""
    for area in AREAS:
        importlib.import_module(f"vigil.cli.{area}").register(app)


def load(name: str) -> Any:
    """The click command ``name`` as the eager tree would hold it, built from its module alone."""
    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    importlib.import_module(f"vigil.cli.{_MODULE[name]}").register(sub)
    sub.registered_commands = [c for c in sub.registered_commands
                               if (c.name or typer.main.get_command_name(c.callback.__name__  # type: ignore[union-attr]
                                                                        )) == name]
    sub.registered_groups = [g for g in sub.registered_groups if g.name == name]
    cmd = typer.main.get_group(sub).commands[name]
    finish(cmd)
    return cmd


def finish(root: Any) -> None:
    """A bare ``vigil cae`` is a usage error (one line, exit 2, docs/sources.md), not a screenful of help,
    so ``no_args_is_help`` is switched off everywhere; ``--wide`` goes beside every ``--json``."""
    todo = [root]
    while todo:
        cmd = todo.pop()
        cmd.no_args_is_help = False
        _add_wide(cmd)
        commands = getattr(cmd, "commands", {})
        if not isinstance(commands, _Commands):  # a lazy group finishes each command as it loads it
            todo.extend(commands.values())


def _set_wide(ctx: Any, param: Any, value: bool) -> None:
    from vigil.cli._table import WIDE

    if value:
        WIDE.set(True)


def _add_wide(cmd: Any) -> None:
    """``--wide`` beside every ``--json``: tables with every column at full width (cli/_table.py)."""
    json_opt = next((p for p in cmd.params if "--json" in getattr(p, "opts", ())), None)
    if json_opt is None or any("--wide" in getattr(p, "opts", ()) for p in cmd.params):
        return
    wide = copy.copy(json_opt)  # the same kind of flag, so help and parsing treat it alike
    wide.name, wide.opts, wide.secondary_opts = "wide", ["--wide"], []
    wide.expose_value, wide.callback = False, _set_wide
    wide.help = "tables with every column at full width, nothing cut (wider than the terminal)"
    cmd.params.insert(cmd.params.index(json_opt), wide)


class _Commands(Mapping[str, Any]):
    """The names come from ``LISTING``; a command is built the first time it is looked up."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in _MODULE:
            raise KeyError(name)
        if name not in self._built:
            self._built[name] = load(name)
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULE)

    def __len__(self) -> int:
        return len(_MODULE)


class LazyGroup(TyperGroup):
    """The top-level group: ``vigil --help`` lists ``LISTING`` without building any command, and running
    a command builds that one only. Walking ``commands.items()`` builds them all (what tests do)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()  # type: ignore[assignment]
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if self._listing and cmd_name in _MODULE:
            return TyperCommand(name=cmd_name, help=_HELP[cmd_name])
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


_HELP = {name: text for name, _, text in LISTING}
