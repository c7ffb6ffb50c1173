"""Fast path: vigil's canonical tables straight to Parquet, vectorised with numpy and Arrow.

For benchmark-size tenants (10,000+ users, 10M+ events) the vendor-format path (a Python object per
record) is too slow. This path draws whole days at once: per-user arrays (home ISP, office egress, VPN
gateway, devices, sessions) from the same tenant and geography as the vendor path, then per-event
arrays by ``np.repeat`` over Poisson counts. Sign-ins, workload activity and directory events are written
with exactly the columns of ``vigil.store.schema`` (``event_id`` = md5(source_format|record id)[:16],
computed by DuckDB over the batch, as the ingest adapters compute it). A low-and-slow password spray is
injected and labelled in ``labels.parquet`` so detection benchmarks have something to find.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vigil.errors import InputError
from vigil.simulate import catalog as cat
from vigil.simulate.engine import DEFAULT_RATES, DEFAULT_START
from vigil.simulate.geography import load_geography
from vigil.simulate.tenant import build_tenant
from vigil.store import connect, ident
from vigil.store.schema import ACTIVITIES, DIRECTORY_EVENTS, SIGNINS, Table

DAY_US = 86_400_000_000
H_US = 3_600_000_000
_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
_B64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
#: office country -> UTC offset (hours) used for working hours in this approximate path
_UTC_OFFSET = {"GB": 0.0, "BG": 2.0, "BR": -3.0, "US": -5.0, "DE": 1.0, "IN": 5.5}
_ARROW = {"VARCHAR": pa.string(), "BOOLEAN": pa.bool_(), "DOUBLE": pa.float64(), "INTEGER": pa.int32(),
          "BIGINT": pa.int64(), "TIMESTAMP": pa.timestamp("us"), "JSON": pa.string()}


@dataclass
class CanonicalSummary:
    out_dir: str
    users: int
    days: int
    seed: int
    start: str
    files: dict[str, int]
    events: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.type.replace(" NOT NULL", "")], "NOT NULL" not in c.type)
                      for c in table.columns])


def guids(rng: np.random.Generator, n: int) -> pa.Array:
    """n random version-4 GUID strings, vectorised (hex lookup + dash columns)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = _HEX[raw].view(np.uint8).reshape(n, 32)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for dst, src in ((slice(0, 8), slice(0, 8)), (slice(9, 13), slice(8, 12)), (slice(14, 18), slice(12, 16)),
                     (slice(19, 23), slice(16, 20)), (slice(24, 36), slice(20, 32))):
        out[:, dst] = hexed[:, src]
    return pa.array(out.view("S36").ravel()).cast(pa.string())


def utis(rng: np.random.Generator, n: int) -> pa.Array:
    """n UniqueTokenIdentifier-like strings: 22 base64url characters of random bits."""
    sextets = rng.integers(0, 64, size=(n, 22), dtype=np.uint8)
    return pa.array(_B64[sextets].view("S22").ravel()).cast(pa.string())


def ipv4_strings(ints: np.ndarray) -> pa.Array:
    parts = [pa.array(((ints >> s) & 255).astype(np.int64)).cast(pa.string()) for s in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*parts, ".")


class _Tables:
    """Per-range and per-user lookup arrays the day generator indexes into."""

    def __init__(self, users: int, days: int, seed: int, start: datetime) -> None:
        geo = load_geography()
        rates = dict(DEFAULT_RATES, ipv6_home=0.0)  # this path does IPv4 arithmetic
        t = build_tenant(geo, users=users, days=days, seed=seed, start=start, rates=rates)
        self.tenant = t
        people = [u for u in t.users if u.kind != "service"]
        ranges = [r for r in geo.ranges if r.network.version == 4]
        index = {r.cidr: i for i, r in enumerate(ranges)}
        self.r_first = np.array([r.first_int for r in ranges], dtype=np.int64)
        self.r_size = np.array([min(r.size - 2, 2**31) for r in ranges], dtype=np.int64)
        self.r_country = pa.array([r.country for r in ranges])
        self.r_state = pa.array([r.city.state for r in ranges])
        self.r_city = pa.array([r.city.name for r in ranges])
        self.r_lat = np.array([r.city.latitude for r in ranges])
        self.r_lon = np.array([r.city.longitude for r in ranges])
        self.r_asn = np.array([r.asn.number for r in ranges], dtype=np.int32)
        self.hosting = np.array([i for i, r in enumerate(ranges) if r.asn.type in ("hosting", "vpn")])
        self.n = len(people)
        self.user_id = pa.array([u.id for u in people])
        self.upn = pa.array([u.upn for u in people])
        self.name = pa.array([u.display_name for u in people])
        self.country = [u.country for u in people]
        self.offset_h = np.array([_UTC_OFFSET.get(u.country, 0.0) for u in people])
        self.office = np.array([index[t.offices[u.country].cidr] for u in people])
        gw = {cc: index[r.cidr] for cc, r in t.gateways.items()}
        self.gateway = np.array([gw.get(u.vpn_gateway, -1) for u in people])
        self.home = np.array([index[u.home.cidr] if u.home else 0 for u in people])
        self.home_ip = np.array([int(ipaddress_int(u.home_ip)) for u in people], dtype=np.int64)
        self.mobile = np.array([index[u.mobile.cidr] if u.mobile else -1 for u in people])
        self.has_phone = np.array([u.phone is not None for u in people])
        self.laptop_id = pa.array([u.laptop.device_id for u in people])
        self.laptop_name = pa.array([u.laptop.name for u in people])
        self.laptop_ua = pa.array([u.laptop.user_agent for u in people])
        self.phone_id = pa.array([(u.phone or u.laptop).device_id for u in people])
        self.phone_ua = pa.array([(u.phone or u.laptop).user_agent for u in people])


def ipaddress_int(ip: str) -> int:
    a, b, c, d = (int(x) for x in ip.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _const(value: object, type_: pa.DataType, n: int) -> pa.Array:
    return pa.array([value], type_).take(pa.array(np.zeros(n, dtype=np.int64)))


def _column(values: dict[str, Any], table: Table, n: int) -> pa.Table:
    schema = arrow_schema(table)
    cols = []
    for f in schema:
        v = values.get(f.name)
        if v is None:
            cols.append(pa.nulls(n, f.type))
        elif isinstance(v, (str, bool, int, float)):
            cols.append(_const(v, f.type, n))
        else:
            cols.append(pa.array(v, f.type) if isinstance(v, np.ndarray) else v.cast(f.type))
    return pa.Table.from_arrays([c.cast(f.type) for c, f in zip(cols, schema, strict=True)], schema=schema)


class _Writer:
    """One Parquet file per table; DuckDB computes event_id = md5(format|record id)[:16] per batch."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.con = connect()
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.counts: dict[str, int] = {}

    def write(self, name: str, table: Table, batch: pa.Table) -> None:
        self.con.register("_batch", batch)
        cols = ", ".join(ident(c) for c in batch.column_names if c != "event_id")
        result = self.con.sql(
            "select substr(md5(source_format || '|' || source_record_id), 1, 16) as event_id, " + cols +
            " from _batch").to_arrow_table()
        self.con.unregister("_batch")
        result = result.cast(arrow_schema(table))
        if name not in self.writers:
            self.writers[name] = pq.ParquetWriter(self.out / f"{name}.parquet", result.schema, compression="zstd")
            self.counts[name] = 0
        self.writers[name].write_table(result)
        self.counts[name] += result.num_rows

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
        self.con.close()


def write_canonical(out_dir: str | Path, *, users: int = 10_000, days: int = 30, seed: int = 1,
                    start: date | None = None, on_day: Callable[[int, int], None] | None = None,
                    signins_per_day: float = 15.0, activities_per_day: float = 17.0) -> CanonicalSummary:
    """Write signins.parquet, activities.parquet, directory_events.parquet and labels.parquet."""
    if users < 5 or days < 1:
        raise InputError("--canonical-parquet needs at least 5 users and 1 day")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = start or DEFAULT_START
    start_dt = datetime(start.year, start.month, start.day, tzinfo=UTC)
    start_us = int(start_dt.timestamp()) * 1_000_000
    T = _Tables(users, days, seed, start_dt)
    rng = np.random.default_rng(seed)
    tenant_id = T.tenant.tenant_id
    w = _Writer(out)
    sessions = guids(rng, T.n * (days // 3 + 1))
    labels: list[pa.Table] = []
    try:
        for day in range(days):
            weekday = (start.toordinal() + day) % 7 not in (5, 6)  # ordinal 1 = Monday 0001-01-01
            active = rng.random(T.n) < (1.0 if weekday else 0.15)
            mode = rng.random(T.n)
            at_home = mode < DEFAULT_RATES["home_days"]
            vpn = at_home & (T.gateway >= 0)
            egress_range = np.where(vpn, T.gateway, np.where(at_home, T.home, T.office))
            egress_ip = np.where(at_home & ~vpn, T.home_ip,
                                 T.r_first[egress_range] + 1 + rng.integers(0, 6, T.n))
            day0 = start_us + day * DAY_US + ((8 - T.offset_h) * H_US).astype(np.int64)
            session = np.arange(T.n) * (days // 3 + 1) + day // 3
            # sign-ins: 1 interactive + Poisson non-interactive per active user
            n_non = rng.poisson(signins_per_day - 1.3, T.n) * active
            n_int = (1 + rng.poisson(0.3, T.n)) * active
            counts = n_int + n_non
            u = np.repeat(np.arange(T.n), counts)
            n = len(u)
            first = np.repeat(np.cumsum(counts) - counts, counts)
            k = np.arange(n) - first  # position of the event within its user-day
            interactive = k < np.repeat(n_int, counts)
            when = day0[u] + np.where(interactive, rng.integers(0, H_US, n), rng.integers(0, 9 * H_US, n))
            phone = ~interactive & T.has_phone[u] & (rng.random(n) < 0.25)
            rix = np.where(phone, T.mobile[u], egress_range[u])
            ip = np.where(phone, T.r_first[rix] + 1 + rng.integers(0, 1 << 30, n) % T.r_size[rix], egress_ip[u])
            res = rng.random(n)
            code = np.where(~interactive | (res < 0.97), "0", np.where(res < 0.99, "50126", "50074"))
            apps = [cat.OFFICE_HOME, cat.TEAMS, cat.OUTLOOK, cat.ONEDRIVE, cat.OUTLOOK_MOBILE]
            app_ix = np.where(interactive, 0, np.where(phone, 4, 1 + rng.integers(0, 3, n)))
            app_id = pa.array([a.app_id for a in apps]).take(app_ix)
            uix = pa.array(u)
            rid = guids(rng, n)
            token = utis(rng, n)
            s_tab = {
                "event_time": pa.array(when, pa.timestamp("us")), "source_format": "entra_signin_la",
                "source_table": pc.if_else(pa.array(interactive), "SigninLogs", "AADNonInteractiveUserSignInLogs"),
                "source_file": "canonical-fast-path", "source_record_id": rid, "tenant_id": tenant_id,
                "user_id": T.user_id.take(uix), "user_principal_name": T.upn.take(uix),
                "user_display_name": T.name.take(uix), "user_type": "Member",
                "app_id": app_id, "app_name": pa.array([a.name for a in apps]).take(app_ix),
                "resource_id": pa.array([a.resource[0] for a in apps]).take(app_ix),
                "resource_name": pa.array([a.resource[1] for a in apps]).take(app_ix),
                "client_app_type": pa.array([a.client_app_used for a in apps]).take(app_ix),
                "is_interactive": pa.array(interactive),
                "result": pc.if_else(pa.array(code == "0"), "success",
                                     pc.if_else(pa.array(code == "50074"), "interrupted", "failure")),
                "result_code": pa.array(code),
                "auth_requirement": pc.if_else(pa.array(T.r_asn[rix] == 64500), "singleFactorAuthentication",
                                               "multiFactorAuthentication"),
                "auth_methods": pc.if_else(pa.array(interactive), '["Password","Mobile app notification"]',
                                           '["Previously satisfied"]'),
                "mfa_satisfied": pa.array(T.r_asn[rix] != 64500),
                "auth_protocol": "none",
                "incoming_token_type": pc.if_else(pa.array(interactive), "none", "primaryRefreshToken"),
                "token_issuer_type": "AzureAD", "ip": ipv4_strings(ip),
                "country": T.r_country.take(pa.array(rix)), "state": T.r_state.take(pa.array(rix)),
                "city": T.r_city.take(pa.array(rix)), "latitude": T.r_lat[rix], "longitude": T.r_lon[rix],
                "asn": T.r_asn[rix],
                "device_id": pc.if_else(pa.array(phone), T.phone_id.take(uix), T.laptop_id.take(uix)),
                "device_name": T.laptop_name.take(uix), "device_os": pc.if_else(pa.array(phone), "Ios", "Windows10"),
                "device_managed": True, "device_compliant": True,
                "device_trust_type": "Azure AD joined",
                "user_agent": pc.if_else(pa.array(phone), T.phone_ua.take(uix),
                                         pc.if_else(pa.array(interactive), T.laptop_ua.take(uix), cat.UA_WAM)),
                "session_id": sessions.take(pa.array(session[u])), "unique_token_id": token,
                "correlation_id": guids(rng, n), "original_request_id": rid, "request_id": rid,
                "risk_level_during_signin": "none", "risk_level_aggregated": "none", "risk_state": "none",
                "risk_detail": "none", "risk_event_types": "[]", "ca_status": "notApplied",
            }
            w.write("signins", SIGNINS, _column(s_tab, SIGNINS, n))
            # workload activity riding on a random non-interactive token of the same user-day
            n_act = rng.poisson(activities_per_day, T.n) * active * (n_non > 0)
            au = np.repeat(np.arange(T.n), n_act)
            m = len(au)
            tok_pos = np.repeat(np.cumsum(counts) - counts + n_int, n_act) + \
                (rng.random(m) * np.repeat(np.maximum(n_non, 1), n_act)).astype(np.int64)
            tok_pos = np.minimum(tok_pos, n - 1)
            # the operation follows the token's app: Teams -> MessageSent, Outlook -> mail, OneDrive -> files
            ops = np.array(["MailItemsAccessed", "FileAccessed", "FileModified", "FileDownloaded", "MessageSent",
                            "Send"])
            tok_app = app_ix[tok_pos]
            r = rng.random(m)
            op_ix = np.where(tok_app == 1, 4, np.where((tok_app == 2) | (tok_app == 4), np.where(r < 0.85, 0, 5),
                                                       np.where(r < 0.6, 1, np.where(r < 0.9, 2, 3))))
            workload = np.array(["Exchange", "SharePoint", "SharePoint", "SharePoint", "MicrosoftTeams",
                                 "Exchange"])[op_ix]
            rtype = np.array(["50", "6", "6", "6", "25", "2"])[op_ix]
            tp = pa.array(tok_pos)
            a_tab = {
                "event_time": pa.array(when[tok_pos] + rng.integers(0, 600_000_000, m), pa.timestamp("us")),
                "source_format": "o365_management_api", "source_table": "OfficeActivity",
                "source_file": "canonical-fast-path", "source_record_id": guids(rng, m), "tenant_id": tenant_id,
                "user_id": T.user_id.take(pa.array(au)), "user_principal_name": T.upn.take(pa.array(au)),
                "user_type": "Regular", "workload": pa.array(workload), "record_type": pa.array(rtype),
                "operation": pa.array(ops[op_ix]), "result_status": "Succeeded",
                "ip": s_tab["ip"].take(tp), "user_agent": s_tab["user_agent"].take(tp),
                "client_app_id": app_id.take(tp), "app_name": s_tab["app_name"].take(tp),
                "session_id": s_tab["session_id"].take(tp), "unique_token_id": token.take(tp),
                "correlation_id": s_tab["correlation_id"].take(tp),
                "token_issued_at": s_tab["event_time"].take(tp),
            }
            if m:
                w.write("activities", ACTIVITIES, _column(a_tab, ACTIVITIES, m))
            # directory: self-service password changes
            changed = np.flatnonzero(active & (rng.random(T.n) < DEFAULT_RATES["password_change"]))
            if len(changed):
                cx = pa.array(changed)
                d_tab = {
                    "event_time": pa.array(day0[changed] + rng.integers(0, 8 * H_US, len(changed)),
                                           pa.timestamp("us")),
                    "source_format": "entra_audit_la", "source_table": "AuditLogs",
                    "source_file": "canonical-fast-path", "source_record_id": guids(rng, len(changed)),
                    "tenant_id": tenant_id, "event_type": "password_changed", "operation": "Change user password",
                    "category": "UserManagement", "result": "success", "actor_id": T.user_id.take(cx),
                    "actor_upn": T.upn.take(cx), "target_user_id": T.user_id.take(cx),
                    "target_upn": T.upn.take(cx), "target_display_name": T.name.take(cx),
                    "ip": ipv4_strings(egress_ip[changed]), "modified_properties": "[]",
                }
                w.write("directory_events", DIRECTORY_EVENTS, _column(d_tab, DIRECTORY_EVENTS, len(changed)))
            if day % 7 == 3:
                labels.append(_spray(w, T, rng, start_us + day * DAY_US, tenant_id, day))
            if on_day:
                on_day(day + 1, days)
        if labels:
            pq.write_table(pa.concat_tables(labels), out / "labels.parquet", compression="zstd")
    finally:
        w.close()
    files = {f"{k}.parquet": v for k, v in w.counts.items()}
    return CanonicalSummary(str(out), T.n, days, seed, start.isoformat(), files, sum(files.values()),
                            round(time.perf_counter() - started, 2))


def _spray(w: _Writer, T: _Tables, rng: np.random.Generator, day_us: int, tenant_id: str, day: int) -> pa.Table:
    """A low-and-slow password spray over the whole tenant from rotating hosting/VPN ranges."""
    n = T.n
    u = rng.permutation(n)
    rix = T.hosting[rng.integers(0, len(T.hosting), n)]
    ip = T.r_first[rix] + 1 + rng.integers(0, 1 << 30, n) % T.r_size[rix]
    when = day_us + np.sort(rng.integers(0, 20 * H_US, n))
    hit = rng.random(n) < 0.001
    rid = guids(rng, n)
    uix = pa.array(u)
    values = {
        "event_time": pa.array(when, pa.timestamp("us")), "source_format": "entra_signin_la",
        "source_table": "SigninLogs", "source_file": "canonical-fast-path", "source_record_id": rid,
        "tenant_id": tenant_id, "user_id": T.user_id.take(uix), "user_principal_name": T.upn.take(uix),
        "user_display_name": T.name.take(uix), "user_type": "Member", "app_id": cat.AZURE_CLI.app_id,
        "app_name": cat.AZURE_CLI.name, "resource_id": cat.AZURE_CLI.resource[0],
        "resource_name": cat.AZURE_CLI.resource[1], "client_app_type": cat.MODERN, "is_interactive": True,
        "result": pc.if_else(pa.array(hit), "interrupted", "failure"),
        "result_code": pc.if_else(pa.array(hit), "50076", "50126"), "auth_protocol": "ropc",
        "auth_methods": '["Password"]', "mfa_satisfied": False, "ip": ipv4_strings(ip),
        "country": T.r_country.take(pa.array(rix)), "city": T.r_city.take(pa.array(rix)),
        "latitude": T.r_lat[rix], "longitude": T.r_lon[rix], "asn": T.r_asn[rix], "user_agent": cat.UA_ROPC,
        "request_id": rid, "original_request_id": rid, "correlation_id": guids(rng, n), "ca_status": "notApplied",
    }
    w.write("signins", SIGNINS, _column(values, SIGNINS, n))
    ids = w.con.sql("select substr(md5('entra_signin_la|' || r), 1, 16) as event_id from "
                    "(select unnest(?) as r)", params=[rid.to_pylist()]).to_arrow_table()
    return pa.table({"event_id": ids["event_id"], "source_record_id": rid,
                     "campaign_id": _const(f"spray-day-{day}", pa.string(), n),
                     "campaign_type": _const("password_spray", pa.string(), n),
                     "technique": _const("T1110.003", pa.string(), n),
                     "malicious": pa.array(np.ones(n, dtype=bool)),
                     "user_principal_name": T.upn.take(uix)})
