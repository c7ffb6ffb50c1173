"""``vigil cae ...`` (revocation state, demo tokens) and ``vigil ssf ...`` (streams, transmitters, delivery).

These work on the CAE journal (SQLite beside the store, safe to use while ``vigil serve`` runs):
a revocation made here is enforced by a running service within ``cae.sync_interval_ms``.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, emit, err_console, print_json, settings_from
from vigil.cli._table import show
from vigil.errors import InputError

if TYPE_CHECKING:
    from vigil.settings import Settings

cae_app = typer.Typer(help="Continuous access evaluation: revoke, inspect, issue demo tokens.", no_args_is_help=True)
ssf_app = typer.Typer(help="Shared Signals (SSF / CAEP): streams to receivers, transmitters we listen to.",
                      no_args_is_help=True)
receivers_app = typer.Typer(help="Receivers we transmit SETs to (SSF streams).", no_args_is_help=True)
transmitters_app = typer.Typer(help="Transmitters whose SETs we accept.", no_args_is_help=True)
ssf_app.add_typer(receivers_app, name="receivers")
ssf_app.add_typer(transmitters_app, name="transmitters")


def register(app: typer.Typer) -> None:
    app.add_typer(cae_app, name="cae")
    app.add_typer(ssf_app, name="ssf")


def _svc(db: str | None, config: str | None) -> Any:
    from vigil.cae.service import CaeService

    return CaeService(settings_from(db, config))


def _ts(v: float | None) -> str:
    return "" if v is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(v))


def _rows(rows: list[dict[str, Any]], cols: list[str], title: str) -> None:
    show([{c: _ts(r[c]) if c.endswith("_at") and isinstance(r.get(c), float) else r.get(c) for c in cols}
          for r in rows], cols, title=title)


# -- vigil cae -----------------------------------------------------------------------------------
@cae_app.command("revoke")
def revoke(
    user: Annotated[str | None, typer.Option("--user", help="user object id or UPN")] = None,
    session: Annotated[str | None, typer.Option("--session", help="session id (sid claim)")] = None,
    device: Annotated[str | None, typer.Option("--device", help="device id (deviceid claim)")] = None,
    upn: Annotated[str | None, typer.Option("--upn", help="the user's UPN, when --user is an object id")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="why (shown in 401 bodies and SETs)")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Revoke every token of a user, session or device issued before now."""
    from vigil.cae.events import event_from_json

    body: dict[str, Any] = {"event_type": "admin_revoke", "reason": reason or "revoked with `vigil cae revoke`"}
    for k, v in (("user", user), ("session", session), ("device", device), ("upn", upn)):
        if v:
            body[k] = v
    ev = event_from_json(body, source="cli", where="options")
    svc = _svc(db, config)
    new, queued = svc.record_and_emit([ev])
    out = {"recorded": len(new), "sets_queued": queued, "revocation": ev.as_dict()}
    svc.close()
    emit(out, as_json=as_json, render=lambda d: console.print(
        f"revoked {ev.scope} [bold]{ev.subject}[/bold]: tokens issued before {_ts(ev.revoked_at)} are no longer "
        f"valid; {queued} SET(s) queued"))


@cae_app.command("record")
def record(
    file: Annotated[Path, typer.Argument(help="JSON: one critical event, or {\"events\": [...]}")],
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Record critical events from a JSON file (same body as POST /api/v1/cae/events)."""
    from vigil.cae.events import event_from_json

    try:
        body = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InputError(f"cannot read JSON ({exc})", path=str(file)) from None
    items = body["events"] if isinstance(body, dict) and "events" in body else [body]
    if not isinstance(items, list):
        raise InputError("$.events: expected an array", path=str(file))
    events = [event_from_json(e, source="cli", where=f"{file}:$.events[{i}]") for i, e in enumerate(items)]
    svc = _svc(db, config)
    with err_console.status(f"recording {len(events)} critical event(s) and signing their SETs"):
        new, queued = svc.record_and_emit(events)
    svc.close()
    out = {"received": len(events), "recorded": len(new), "duplicates": len(events) - len(new), "sets_queued": queued}
    emit(out, as_json=as_json, render=lambda d: console.print(
        f"{d['recorded']} recorded, {d['duplicates']} already known, {d['sets_queued']} SET(s) queued"))


@cae_app.command("status")
def status(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Counts: revocations by source, streams, outbox states, transmitters."""
    svc = _svc(db, config)
    out = svc.status()
    svc.close()

    def render(d: dict[str, Any]) -> None:
        for k, v in d.items():
            console.print(f"[bold]{k}[/bold]: {v}")

    emit(out, as_json=as_json, render=render)


@cae_app.command("events")
def events(
    subject: Annotated[str | None, typer.Option("--subject", help="only this user / session / device")] = None,
    limit: Annotated[int, typer.Option("--limit", help="newest N")] = 50,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """The revocation journal, newest first, with the reason and evidence of each entry."""
    svc = _svc(db, config)
    rows = svc.journal.revocation_rows(limit=limit, subject=subject)
    svc.close()
    emit(rows, as_json=as_json, render=lambda r: _rows(
        r, ["seq", "revoked_at", "event_type", "scope", "subject", "subject_alt", "source", "reason"], "revocations"))


@cae_app.command("token")
def token(
    user: Annotated[str, typer.Option("--user", help="user object id (oid / sub)")],
    upn: Annotated[str | None, typer.Option("--upn", help="upn claim")] = None,
    session: Annotated[str | None, typer.Option("--session", help="sid claim")] = None,
    device: Annotated[str | None, typer.Option("--device", help="deviceid claim")] = None,
    cp1: Annotated[bool, typer.Option("--cp1/--no-cp1", help="client declares the cp1 capability (xms_cc)")] = True,
    lifetime: Annotated[int | None, typer.Option(
        "--lifetime", help="seconds (default: 28 h cp1, 1 h otherwise)")] = None,
    nbf: Annotated[int | None, typer.Option("--nbf", help="not-before, answering a claims challenge")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Issue a demo access token signed with vigil's key (what CAEMiddleware validates by default)."""
    from vigil.cae.keys import load_or_create_signing_keys
    from vigil.cae.service import keys_path
    from vigil.cae.tokens import issue_token

    s = settings_from(db, config)
    c = s.cae
    life = lifetime or (c.cp1_token_lifetime_s if cp1 else c.token_lifetime_s)
    if not cp1 and life > c.token_lifetime_s:
        raise InputError(f"--lifetime {life}: clients without cp1 get at most cae.token_lifetime_s "
                         f"({c.token_lifetime_s} s) -- revocation reaches them only at expiry")
    try:
        tok, claims = issue_token(load_or_create_signing_keys(keys_path(s)), issuer=c.issuer, audience=c.audience,
                                  user_id=user, upn=upn, session_id=session, device_id=device, cp1=cp1,
                                  lifetime_s=life, not_before=nbf)
    except ValueError as exc:
        raise InputError(f"--lifetime: {exc}") from None
    if as_json:
        print_json({"access_token": tok, "claims": claims})
    else:
        typer.echo(tok)


@cae_app.command("check")
def check(
    token: Annotated[str, typer.Argument(help="access token (JWT)")],
    ip: Annotated[str | None, typer.Option("--ip", help="caller IP, for strict-location mode")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """What CAEMiddleware would answer for this token right now, and why."""
    svc = _svc(db, config)
    d = svc.enforcer().decide(f"Bearer {token}", ip)
    svc.close()
    out = {"allowed": d.allowed, "check": d.check, "reason": d.reason, "www_authenticate": d.www_authenticate}
    emit(out, as_json=as_json, render=lambda o: console.print(
        ("[green]allowed[/green]" if o["allowed"] else f"[red]denied[/red] ({o['check']})") + f": {o['reason']}"
        + (f"\nWWW-Authenticate: {o['www_authenticate']}" if o["www_authenticate"] else "")))


@cae_app.command("jwks")
def jwks(db: DbOpt = None, config: ConfigOpt = None) -> None:
    """Print vigil's public JWKS (give it to SSF receivers and to resource servers)."""
    svc = _svc(db, config)
    print_json(svc.jwks())
    svc.close()


@cae_app.command("demo")
def demo(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8766,
    db: DbOpt = None, config: ConfigOpt = None,
) -> None:
    """Serve a protected demo API (/resource/hello) with the CAE/SSF endpoints (/api/v1/...)."""
    import uvicorn

    from vigil.api.cae_demo import create_demo_app

    s: Settings = settings_from(db, config)
    console.print(f"protected resource: http://{host}:{port}/resource/hello  (token: vigil cae token --user U)")
    uvicorn.run(create_demo_app(s, public_url=s.service.url(host=host, port=port)), host=host, port=port,
                log_level="info")


# -- vigil ssf -----------------------------------------------------------------------------------
@receivers_app.command("add")
def receivers_add(
    push: Annotated[str | None, typer.Option("--push", help="receiver URL for push delivery (RFC 8935)")] = None,
    poll: Annotated[bool, typer.Option("--poll", help="poll delivery (RFC 8936): the receiver polls us")] = False,
    auth: Annotated[str | None, typer.Option("--auth", help="Authorization header value sent with pushes")] = None,
    aud: Annotated[str | None, typer.Option("--aud", help="audience of the SETs (the receiver's id)")] = None,
    event: Annotated[list[str] | None, typer.Option("--event", help="event-type URI or short name; repeat")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="public URL of /api/v1 (poll endpoint)")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Create a stream to a receiver; a poll stream's bearer token is printed once."""
    from vigil.cae.sets import CAEP
    from vigil.cae.transmitter import POLL, PUSH

    if bool(push) == poll:
        raise InputError("give exactly one of --push URL or --poll")
    s = settings_from(db, config)
    body: dict[str, Any] = {"delivery": {"method": PUSH, "endpoint_url": push, "authorization_header": auth}
                            if push else {"method": POLL}}
    if aud:
        body["aud"] = aud
    if event:
        body["events_requested"] = [e if "://" in e else CAEP + e for e in event]
    svc = _svc(db, config)
    cfg = svc.transmitter.create_stream(body, base_url=base_url or f"{s.service.url()}/api/v1")
    svc.close()
    emit(cfg, as_json=as_json, render=lambda c: console.print(
        f"stream [bold]{c['stream_id']}[/bold] ({c['delivery']['method']}) to {c['delivery']['endpoint_url']}, "
        f"aud {c['aud']}" + (f"\npoll token (shown once): {c['poll_token']}" if c.get("poll_token") else "")))


@receivers_app.command("list")
def receivers_list(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Streams with their delivery and outbox counts."""
    svc = _svc(db, config)
    streams = svc.transmitter.list_streams()
    svc.close()
    flat = [{"stream_id": s["stream_id"], "method": s["delivery"]["method"], "endpoint": s["delivery"]["endpoint_url"],
             "aud": s["aud"], "events": len(s["events_delivered"]), **s["outbox"]} for s in streams]
    emit(streams, as_json=as_json, render=lambda _: _rows(
        flat, ["stream_id", "method", "endpoint", "aud", "events", "pending", "delivered", "acked", "failed"],
        "SSF receivers"))


@receivers_app.command("remove")
def receivers_remove(stream_id: str, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Delete a stream and its undelivered SETs."""
    svc = _svc(db, config)
    ok = svc.transmitter.delete_stream(stream_id)
    svc.close()
    if not ok:
        raise InputError(f"stream {stream_id!r}: no such stream")
    emit({"removed": stream_id}, as_json=as_json, render=lambda d: console.print(f"removed stream {stream_id}"))


@transmitters_app.command("add")
def transmitters_add(
    issuer: Annotated[str, typer.Option("--issuer", help="the transmitter's iss")],
    jwks_file: Annotated[Path, typer.Option("--jwks", help="file with the transmitter's public JWKS")],
    audience: Annotated[str, typer.Option("--audience", help="aud its SETs carry for us")],
    poll_url: Annotated[str | None, typer.Option("--poll-url", help="its poll endpoint, if we poll")] = None,
    poll_token: Annotated[str | None, typer.Option("--poll-token", help="bearer token for its poll endpoint")] = None,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """Accept SETs from a transmitter; prints the bearer token it must push with (shown once)."""
    from vigil.cae.keys import load_jwks

    load_jwks(jwks_file)
    svc = _svc(db, config)
    reg = svc.receiver.register(issuer=issuer, jwks=orjson.loads(jwks_file.read_bytes()), audience=audience,
                                poll_url=poll_url, poll_token=poll_token)
    svc.close()
    emit(reg, as_json=as_json, render=lambda r: console.print(
        f"transmitter [bold]{r['transmitter_id']}[/bold]: push to <service>/api/v1{r['push_endpoint_path']} with "
        f"Authorization: {r['authorization_header']} (shown once)"))


@transmitters_app.command("list")
def transmitters_list(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Registered transmitters and how many SETs each sent."""
    svc = _svc(db, config)
    rows = svc.receiver.transmitters()
    svc.close()
    emit(rows, as_json=as_json, render=lambda r: _rows(
        r, ["transmitter_id", "issuer", "audience", "poll_url", "received", "created_at"], "SSF transmitters"))


@transmitters_app.command("remove")
def transmitters_remove(transmitter_id: str, db: DbOpt = None, config: ConfigOpt = None,
                        as_json: JsonOpt = False) -> None:
    svc = _svc(db, config)
    ok = svc.receiver.remove(transmitter_id)
    svc.close()
    if not ok:
        raise InputError(f"transmitter {transmitter_id!r}: not registered")
    emit({"removed": transmitter_id}, as_json=as_json, render=lambda d: console.print(f"removed {transmitter_id}"))


@ssf_app.command("deliver")
def deliver(db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Push every due SET once (a running `vigil serve` does this continuously)."""
    import httpx

    svc = _svc(db, config)
    with httpx.Client() as client, err_console.status("pushing due SETs"):
        r = svc.transmitter.push_due(client)
    svc.close()
    out = {"attempted": r.attempted, "delivered": r.delivered, "retrying": r.retrying, "failed": r.failed}
    emit(out, as_json=as_json, render=lambda d: console.print(", ".join(f"{k} {v}" for k, v in d.items())))


@ssf_app.command("poll")
def poll(transmitter_id: str, db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Poll a registered transmitter until it has nothing more, applying and acknowledging its SETs."""
    import httpx

    svc = _svc(db, config)
    with httpx.Client(timeout=30) as client, err_console.status(f"polling transmitter {transmitter_id}"):
        totals = svc.receiver.poll_all(transmitter_id, client)
    svc.close()
    emit(totals, as_json=as_json, render=lambda d: console.print(", ".join(f"{k} {v}" for k, v in d.items())))


@ssf_app.command("outbox")
def outbox(
    state: Annotated[str | None, typer.Option("--state", help="pending | delivered | acked | failed")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    db: DbOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
) -> None:
    """SETs waiting for, or done with, delivery (newest first)."""
    svc = _svc(db, config)
    rows = svc.transmitter.outbox(state=state, limit=limit)
    svc.close()
    emit(rows, as_json=as_json, render=lambda r: _rows(
        r, ["seq", "stream_id", "jti", "event_type", "state", "attempts", "last_error", "created_at"], "SSF outbox"))
