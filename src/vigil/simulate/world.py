"""The output side of a simulation: day-bucketed, streamed NDJSON writers, labels and scenario notes.

Records are serialised as soon as they are made and held only until their day can no longer receive
events (generation for day *d* never writes before day *d*), so memory is bounded by about two days of
one tenant's records. Files are sorted by time within the run; gzip output has a zero mtime so the
bytes depend on the seed alone.
"""
from __future__ import annotations

import gzip
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson

from vigil.simulate import records as rec
from vigil.simulate.catalog import App
from vigil.simulate.geography import IpRange
from vigil.simulate.rand import guid, uti
from vigil.simulate.records import Access, CaModel, Net, TokenIds
from vigil.simulate.tenant import Device, Tenant, User

SIGNIN, NONINTERACTIVE, O365, AUDIT, OKTA = range(5)
FILES = ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "OfficeActivity_ManagementAPI.json",
         "AuditLogs.json", "OktaSystemLog.json")
DAY_US = 86_400_000_000


@dataclass
class SessionState:
    session_id: str
    device: Device
    started_day: int
    mfa: bool
    last_ip: str = ""
    access: dict[str, Access] = field(default_factory=dict)


@dataclass
class Trip:
    """A business trip: flight out in the evening, a few days working from a hotel abroad."""
    tz: str
    hotel: IpRange
    hotel_offset: int
    depart_us: int
    arrive_us: int
    depart_day: int
    arrive_day: int
    return_day: int
    flight_hours: float


@dataclass
class UserState:
    sessions: dict[str, SessionState] = field(default_factory=dict)
    trip: Trip | None = None
    trips_taken: int = 0
    last_interactive: tuple[int, str] | None = None  # (time, ip) of the last interactive sign-in
    seen: bool = False


def _open(path: Path, compress: bool) -> BinaryIO:
    raw = open(path, "wb")  # noqa: SIM115 - closed in World.close
    if compress:
        return cast(BinaryIO, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1))
    return cast(BinaryIO, io.BufferedWriter(raw, buffer_size=1 << 20))


class World:
    """Holds the tenant, the writers and every user's session state while a simulation runs."""

    def __init__(self, tenant: Tenant, out_dir: Path, *, start_us: int, compress: bool) -> None:
        self.t = tenant
        self.ca = CaModel(tenant)
        self.start_us = start_us
        self.out_dir = out_dir
        suffix = ".gz" if compress else ""
        self.paths = [out_dir / (name + suffix) for name in FILES]
        self.files = [_open(p, compress) for p in self.paths]
        self.buckets: dict[int, list[tuple[int, int, int, bytes]]] = defaultdict(list)
        self.flushed_before = 0
        self.seq = 0
        self.counts = [0] * len(FILES)
        self.labels: list[dict[str, Any]] = []
        self.scenarios: list[dict[str, Any]] = []
        self.state: dict[int, UserState] = defaultdict(UserState)
        self.compressed = compress

    # low level ------------------------------------------------------------------------------------
    def put(self, file: int, us: int, record: dict[str, Any]) -> None:
        day = (us - self.start_us) // DAY_US
        if day < self.flushed_before:
            raise RuntimeError(f"simulator bug: event at day {day} after day {self.flushed_before - 1} was written")
        self.seq += 1
        # "+ newline" copies into an exact-size bytes: orjson's own buffer keeps ~4x the record's size
        self.buckets[day].append((us, self.seq, file, orjson.dumps(record) + b"\n"))

    def flush_until(self, day: int) -> None:
        """Write every bucket before ``day`` (time order) and forget it."""
        for d in sorted(k for k in self.buckets if k < day):
            rows = self.buckets.pop(d)
            rows.sort()
            chunks: list[list[bytes]] = [[] for _ in FILES]
            for _, _, f, data in rows:
                chunks[f].append(data)
            for f, chunk in enumerate(chunks):
                if chunk:
                    self.files[f].write(b"".join(chunk))
                    self.counts[f] += len(chunk)
        self.flushed_before = max(self.flushed_before, day)

    def close(self) -> None:
        self.flush_until(1 << 40)
        for f in self.files:
            f.close()
        self.labels.sort(key=lambda x: (x["time"], x.get("record_id") or "", x["kind"]))
        self.scenarios.sort(key=lambda x: (x.get("time") or "", x["scenario"], x.get("user") or ""))
        for name, rows in (("labels.jsonl", self.labels), ("scenarios.jsonl", self.scenarios)):
            with open(self.out_dir / name, "wb") as fh:
                fh.writelines(orjson.dumps(row) + b"\n" for row in rows)

    # emitters ------------------------------------------------------------------------------------
    def signin(self, rng: random.Random, *, us: int, user: User, interactive: bool, app: App, net: Net,
               device: Device | None, ua: str, result: str, auth: str, session_id: str,
               correlation_id: str | None = None, original_request_id: str | None = None,
               **kw: Any) -> tuple[dict[str, Any], TokenIds]:
        request_id = guid(rng)
        ids = TokenIds(request_id, correlation_id or guid(rng), original_request_id or request_id, session_id,
                       uti(rng))
        row = rec.signin(self.t, self.ca, us=us, user=user, interactive=interactive, app=app, net=net,
                         device=device, user_agent=ua, result=result, ids=ids, auth=auth, **kw)
        self.put(SIGNIN if interactive else NONINTERACTIVE, us, row)
        if interactive and result == "0":
            self.state[user.idx].last_interactive = (us, net.ip)
        return row, ids

    def activity(self, rng: random.Random, *, us: int, user: User, operation: str, record_type: int,
                 workload: str, ip: str, access: Access | None, object_id: str, ua: str | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
        row = rec.activity(self.t, us=us, record_id=guid(rng), user=user, operation=operation,
                           record_type=record_type, workload=workload, ip=ip, access=access,
                           object_id=object_id, user_agent=ua, extra=extra)
        self.put(O365, us, row)
        return row

    def audit(self, rng: random.Random, *, us: int, **kw: Any) -> dict[str, Any]:
        corr = guid(rng)
        record_id = f"Directory_{corr}_{rng.getrandbits(40):010X}_{rng.randrange(1 << 30)}"
        row = rec.audit(self.t, us=us, record_id=record_id, correlation_id=corr, **kw)
        self.put(AUDIT, us, row)
        return row

    # ground truth --------------------------------------------------------------------------------
    def label(self, file: int, row: dict[str, Any], *, campaign_id: str, campaign_type: str,
              technique: str | None, malicious: bool, user: User) -> None:
        self.labels.append({
            "kind": "event", "source_file": FILES[file], "record_id": row["Id"],
            "time": row.get("TimeGenerated") or row["CreationTime"] + "Z", "campaign_id": campaign_id,
            "campaign_type": campaign_type, "technique": technique, "malicious": malicious,
            "user": user.upn, "user_id": user.id})

    def compromised(self, user: User, start_us: int, end_us: int | None, *, campaign_id: str,
                    campaign_type: str) -> None:
        self.labels.append({
            "kind": "compromise", "user": user.upn, "user_id": user.id, "time": rec.iso_us(start_us),
            "start": rec.iso_us(start_us), "end": rec.iso_us(end_us) if end_us is not None else None,
            "campaign_id": campaign_id, "campaign_type": campaign_type})

    def scenario(self, name: str, user: User | None, us: int | None, **fields: Any) -> None:
        self.scenarios.append({"scenario": name, "user": user.upn if user else None,
                               "time": rec.iso_us(us) if us is not None else None, **fields})
