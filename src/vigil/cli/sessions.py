"""Session commands: `vigil sessions`, `vigil session show KEY`, `vigil travel`, `vigil hijacks`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli._common import (
    ConfigOpt,
    DbOpt,
    JsonOpt,
    print_arrow,
    print_json,
    settings_from,
    store_from,
)
from vigil.cli._table import Col, plural, show_record
from vigil.errors import InputError

if TYPE_CHECKING:
    from vigil.store import Store

session_app = typer.Typer(help="One session: root authentication, events, hops, travel, hijack findings.",
                          no_args_is_help=True)

UserOpt = Annotated[str | None, typer.Option("--user", help="user principal name or object id")]
LimitOpt = Annotated[int, typer.Option("--limit", help="rows to print")]
# columns in the order they print, ranked (lower first) for a narrow terminal
SESSION_COLS = [Col("session_key", "session", 0), Col("user_principal_name", "user", 1),
                Col("first_time", "first", 2), Col("last_time", "last", 6), Col("root_time", "root auth", 9),
                Col("root_country", "country", 3), Col("root_ip", "root ip", 5), Col("root_device_id", "device", 12),
                Col("root_mfa", "mfa", 7), Col("root_ip_class", "ip class", 8), Col("event_count", "events", 4),
                Col("hop_count", "hops", 10), Col("countries", "countries", 11), Col("stitch_method", "stitched", 13)]
TRAVEL_COLS = [Col("user_principal_name", "user", 0), Col("from_time", "from", 5), Col("to_time", "to", 1),
               Col("from_country", "from", 2), Col("to_country", "to", 3), Col("km", "km", 6),
               Col("kmh", "km/h", 7), Col("to_failed", "failed", 8), Col("verdict", "verdict", 4),
               Col("reason", "reason", 9)]
HIJACK_COLS = [Col("finding_id", "finding", 7), Col("user_principal_name", "user", 0),
               Col("detected_time", "detected", 1), Col("kind", "kind", 2), Col("severity", "severity", 3),
               Col("session_key", "session", 6), Col("ip", "ip", 4), Col("country", "country", 5),
               Col("reason", "reason", 8), Col("evidence_event_ids", "evidence events", 9)]
EVENT_COLS = [Col("event_time", "time", 0), Col("event_table", "table", 6), Col("link_method", "linked by", 7),
              Col("event_id", "event", 5), Col("ip", "ip", 1), Col("country", "country", 2), Col("app", "app", 3),
              Col("device_id", "device", 8), Col("user_agent", "user agent", 4)]


def HOP_COLS(names: list[str]) -> list[Col]:  # noqa: N802 -- a column list, like the others
    first = ("hop_time", "hop_kind", "from_value", "to_value", "reason")
    return [Col(n, priority=first.index(n) if n in first else len(first) + i) for i, n in enumerate(names)]


VERDICTS = ("same_location", "egress_change", "plausible", "improbable", "impossible")


def _need(store: Store, table: str) -> None:
    if not store.exists(table):
        raise InputError(f"no {table} table yet; run `vigil analyze` first")


def _user_filter(store: Store, user: str | None, event_col: str) -> tuple[str, list[Any]]:
    """Rows of the person any of whose names, account ids or identity ids ``user`` is (docs/identity.md),
    or whose rows carry ``user`` as UPN or object id."""
    from vigil.identity import actions as identity

    if not user:
        return "", []
    own = "(user_principal_name = lower(?) OR user_id = ?)"
    if not {"identities", "identity_aliases", "event_identities"} <= store.relations():
        return own, [user, user]
    ids = identity.find(store, user)
    persons = sorted({str(r[0]) for r in store.rows(
        f"SELECT person_id FROM identities WHERE identity_id IN {store.dialect.in_list(ids)}")}) if ids else []
    return (f"({own} OR {event_col} IN (SELECT event_id FROM event_identities WHERE person_id = ANY(?)))",
            [user, user, persons])


def sessions(user: UserOpt = None, inferred: Annotated[bool | None, typer.Option(
        "--inferred/--native", help="only inferred / only vendor sessions")] = None,
             limit: LimitOpt = 100, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Sessions with their root authentication, newest first."""
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        _need(store, "sessions")
        where, params = _user_filter(store, user, "root_event_id")
        conds = [c for c in (where, "" if inferred is None else f"inferred = {bool(inferred)}") if c]
        table = store.query(
            "SELECT session_key, user_principal_name, first_time, last_time, root_time, root_country, root_ip, "
            "root_device_id, root_mfa, root_ip_class, event_count, hop_count, countries, stitch_method FROM sessions "
            + (("WHERE " + " AND ".join(conds)) if conds else "")
            + f" ORDER BY first_time DESC, session_key LIMIT {int(limit)}", params or None)
    print_arrow(table, as_json=as_json, title=plural(table.num_rows, "session"), cols=SESSION_COLS)


@session_app.command("show")
def session_show(key: Annotated[str, typer.Argument(help="session_key (s:<SessionId> or i:<hash>) or SessionId")],
                 db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Everything about one session."""
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        _need(store, "sessions")
        found = store.query("SELECT * FROM sessions WHERE session_key = ? OR session_id = ?", [key, key]).to_pylist()
        if not found:
            raise InputError(f"no session {key!r}")
        sk = found[0]["session_key"]
        events = store.query("""
SELECT es.event_table, es.link_method, e.event_id, e.event_time, e.ip, e.country, e.app, e.device_id, e.user_agent
FROM event_sessions es JOIN (
  SELECT event_id, event_time, ip, geo_country AS country, app_name AS app, device_id, user_agent FROM signins_enriched
  UNION ALL
  SELECT event_id, event_time, ip, geo_country, coalesce(app_name, operation), device_id, user_agent
  FROM activities_enriched) e ON e.event_id = es.event_id
WHERE es.session_key = ? ORDER BY e.event_time, e.event_id""", [sk])
        hops = store.query("SELECT * FROM session_hops WHERE session_key = ? ORDER BY hop_time, event_id, hop_kind",
                           [sk])
        travel = store.query("SELECT from_time, to_time, from_country, to_country, verdict, reason FROM travel "
                             "WHERE session_key = ? ORDER BY to_time, to_event_id", [sk])
        hijacks = store.query("SELECT kind, severity, detected_time, reason, evidence_event_ids FROM session_hijacks "
                              "WHERE session_key = ? ORDER BY detected_time, kind", [sk])
    if as_json:
        print_json({"session": found[0], "events": events.to_pylist(), "hops": hops.to_pylist(),
                    "travel": travel.to_pylist(), "hijacks": hijacks.to_pylist()})
        return
    show_record(found[0], title=f"session {sk}")
    print_arrow(events, as_json=False, title=plural(events.num_rows, "event"), limit=200, cols=EVENT_COLS)
    print_arrow(hops, as_json=False, title=plural(hops.num_rows, "hop"), limit=200, cols=HOP_COLS(hops.column_names))
    print_arrow(travel, as_json=False, title="travel", cols=TRAVEL_COLS)
    print_arrow(hijacks, as_json=False, title="hijack findings", cols=HIJACK_COLS)


def travel(user: UserOpt = None,
           verdict: Annotated[str | None, typer.Option("--verdict", help=" | ".join(VERDICTS))] = None,
           limit: LimitOpt = 100, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Travel between a user's consecutive locations, with verdict and reason."""
    if verdict and verdict not in VERDICTS:
        raise InputError(f"--verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        _need(store, "travel")
        where, params = _user_filter(store, user, "to_event_id")
        conds = [c for c in (where, "verdict = ?" if verdict else "") if c]
        if verdict:
            params.append(verdict)
        table = store.query(
            "SELECT user_principal_name, from_time, to_time, from_country, to_country, "
            "round(adjusted_distance_km) AS km, round(speed_kmh) AS kmh, to_failed, verdict, reason FROM travel "
            + (("WHERE " + " AND ".join(conds)) if conds else "")
            + f" ORDER BY to_time DESC, to_event_id LIMIT {int(limit)}", params or None)
    print_arrow(table, as_json=as_json, title=f"travel: {plural(table.num_rows, 'move')}", cols=TRAVEL_COLS)


def hijacks(user: UserOpt = None, limit: LimitOpt = 100, db: DbOpt = None, config: ConfigOpt = None,
            as_json: JsonOpt = False) -> None:
    """Session-hijack findings with their reason and evidence events."""
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        _need(store, "session_hijacks")
        where, params = _user_filter(store, user, "root_event_id")
        table = store.query(
            "SELECT finding_id, user_principal_name, detected_time, kind, severity, session_key, ip, country, reason, "
            "evidence_event_ids FROM session_hijacks " + (f"WHERE {where}" if where else "")
            + f" ORDER BY detected_time DESC, finding_id LIMIT {int(limit)}", params or None)
    print_arrow(table, as_json=as_json, title=plural(table.num_rows, "session hijack finding"), cols=HIJACK_COLS)


def register(app: typer.Typer) -> None:
    app.command("sessions")(sessions)
    app.add_typer(session_app, name="session")
    app.command("travel")(travel)
    app.command("hijacks")(hijacks)
