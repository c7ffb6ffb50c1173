"""What-if over history: replay stored sign-ins through a (proposed) policy set.

Set-based: DuckDB groups the sign-ins by every attribute the policy set can look at (only
those: a set without location conditions does not split by IP), each distinct combination is
evaluated once in Python, and the outcomes are joined back in DuckDB to count sign-ins, users
and labelled attack events per policy and in total.

Inputs (each optional one is used when present and reported in ``inputs``):

* ``signins`` (required) — user, resource (``resource_id`` else ``app_id``), IP, client app,
  device, auth protocol, MFA and the vendor risk fields;
* ``signins_enriched`` — ``geo_country`` (else the vendor ``country``);
* ``IdentityInfo`` — ``GroupMembership`` / ``AssignedRoles`` names and ``UserType``;
  ``directory_memberships`` / ``directory_groups`` — group ids (policies name groups by id);
* ``signinRisk`` — vigil's sign-in risk (else the vendor ``risk_level_during_signin``);
* ``riskyUsers`` — user risk for sign-ins after ``riskLastUpdatedDateTime`` while at risk
  (no vendor field carries user risk per sign-in; without the table user risk is ``none``).

What counts as a prompt: MFA is prompted when a policy requires it and the sign-in did not
already carry an MFA claim (``mfa_satisfied`` with the method "Previously satisfied");
password change / risk remediation are never already satisfied; ``blocked`` is a block
control or a control the sign-in cannot satisfy (e.g. compliant device on an unmanaged one).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from vigil.errors import InputError
from vigil.policy.context import SignInContext, normalize_client_app, normalize_platform, transfer_method
from vigil.policy.devicefilter import normalize_trust_type
from vigil.policy.evaluate import PolicySet
from vigil.policy.replay_sql import combos_sql, inputs_available, users_directory
from vigil.settings import Settings
from vigil.store import Store

PROMPTS = ("mfa", "password_change", "risk_remediation", "blocked")
SIGN_IN_RISK_SOURCES = ("stored", "realtime", "vendor")


@dataclass
class ReplayReport:
    inputs: dict[str, str]
    signins: int
    users: int
    combinations: int
    seconds: float
    policies: list[dict[str, Any]]
    total: dict[str, Any]
    labels: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "signins": self.signins, "users": self.users,
                "combinations": self.combinations, "seconds": self.seconds, "policies": self.policies,
                "total": self.total, "labels": self.labels, "notes": self.notes}


def load_labels(path: str | Path) -> pa.Table:
    """Event labels (JSON lines): ``kind`` "event" rows with ``record_id`` (vendor record id) or
    ``event_id``, and ``malicious`` true/false. Other kinds (e.g. "compromise") are skipped."""
    p = Path(path)
    try:
        lines = p.read_bytes().splitlines()
    except OSError as exc:
        raise InputError(f"cannot read labels ({exc.strerror})", path=str(p)) from None
    ids, events, flags = [], [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"line {n}: not JSON ({exc})", path=str(p)) from None
        if not isinstance(row, dict) or row.get("kind", "event") != "event":
            continue
        rid, eid = row.get("record_id"), row.get("event_id")
        if (rid is None and eid is None) or not isinstance(row.get("malicious"), bool):
            raise InputError(f"line {n}: an event label needs record_id or event_id and malicious true/false",
                             path=str(p))
        ids.append(rid)
        events.append(eid)
        flags.append(row["malicious"])
    return pa.table({"record_id": pa.array(ids, pa.string()), "event_id": pa.array(events, pa.string()),
                     "malicious": pa.array(flags, pa.bool_())})


def _context(row: dict[str, Any], policies: PolicySet) -> SignInContext:
    device: dict[str, Any] = {}
    if row["registered"]:
        device = {"deviceId": row["device_id"] or "registered", "displayName": row["device_name"],
                  "operatingSystem": row["device_os"], "trustType": normalize_trust_type(row["device_trust_type"]),
                  "isCompliant": None if row["device_compliant"] is None else str(bool(row["device_compliant"]))}
    return SignInContext(
        user_id=row["user_id"], user_principal_name=row["user_principal_name"],
        user_type=row["user_type_resolved"] or "Member",
        groups=frozenset(row["groups"] or ()), roles=frozenset(row["roles"] or ()),
        application_id=row["app_id"], application_name=row["app_name"], ip=row["ip"], resource_ip=row["resource_ip"],
        country=row["country"],
        platform=normalize_platform(row["device_os"]), client_app_type=normalize_client_app(row["client_app_type"]),
        device=device, authentication_flow=transfer_method(row["auth_protocol"]), sign_in_risk=row["sign_in_risk"],
        user_risk=row["user_risk"], mfa_satisfied=bool(row["mfa_claim"]),
    )


def _outcomes(rows: list[dict[str, Any]], policies: PolicySet, respect_report_only: bool,
              progress: Callable[[int], None] | None) -> tuple[pa.Table, pa.Table]:
    """Evaluate each combination; return (combination outcomes, per-policy outcomes)."""
    total: dict[str, list[Any]] = {"combo_id": [], "decision": [], **{k: [] for k in PROMPTS}}
    per: dict[str, list[Any]] = {"combo_id": [], "policy_id": [], "applies": [], **{k: [] for k in PROMPTS}}
    for i, row in enumerate(rows):
        if not row["reached_ca"]:  # failed first factor: conditional access never runs
            total["combo_id"].append(row["combo_id"])
            total["decision"].append("notEvaluated")
            for k in PROMPTS:
                total[k].append(False)
            continue
        d = policies.evaluate(_context(row, policies), enforce_report_only=not respect_report_only)
        req = {r.split(":", 1)[0] for r in d.required_controls}
        total["combo_id"].append(row["combo_id"])
        total["decision"].append(d.decision)
        total["mfa"].append(d.decision == "challenge" and bool(req & {"mfa", "authenticationStrength"}))
        total["password_change"].append(d.decision == "challenge" and "passwordChange" in req)
        total["risk_remediation"].append(d.decision == "challenge" and "riskRemediation" in req)
        total["blocked"].append(d.decision == "block")
        for r in d.policies:
            if not r.applies:
                continue
            unmet = {u.split(":", 1)[0] for u in (r.grant.unmet if r.grant and not r.grant.satisfied else ())}
            hard = r.grant is not None and not r.grant.satisfied and not r.grant.actionable
            per["combo_id"].append(row["combo_id"])
            per["policy_id"].append(r.id)
            per["applies"].append(True)
            per["mfa"].append(not hard and bool(unmet & {"mfa", "authenticationStrength"}))
            per["password_change"].append(not hard and "passwordChange" in unmet)
            per["risk_remediation"].append(not hard and "riskRemediation" in unmet)
            per["blocked"].append(hard)
        if progress is not None and i % 256 == 0:
            progress(i)
    return pa.table(total), pa.table({k: v for k, v in per.items()}, schema=pa.schema(
        [("combo_id", pa.int64()), ("policy_id", pa.string()), ("applies", pa.bool_())]
        + [(k, pa.bool_()) for k in PROMPTS]))


def _agg_cols(prefix: str, with_labels: bool) -> str:
    cols = []
    for k in PROMPTS:
        cols.append(f"sum(case when {prefix}.{k} then c.n else 0 end) as {k}_signins")
        cols.append(f"count(distinct case when {prefix}.{k} then c.user_key end) as {k}_users")
        if with_labels:
            cols.append(f"sum(case when {prefix}.{k} then c.attack_n else 0 end) as {k}_attack_events")
    return ",\n  ".join(cols)


def replay(store: Store, policies: PolicySet, *, labels: str | Path | None = None,
           respect_report_only: bool = False, progress: Callable[[int, int], None] | None = None,
           sign_in_risk: str = "stored", settings: Settings | None = None) -> ReplayReport:
    """Replay every stored sign-in through ``policies`` (report-only policies count as enforced
    unless ``respect_report_only``: a replay judges a proposal).

    ``sign_in_risk``: ``stored`` (vigil's signinRisk, the vendor's value where vigil has none),
    ``realtime`` (vigil's real-time scorer replayed over history — the decision point's own rules;
    needs ``settings``) or ``vendor`` (the logged vendor value only)."""
    if sign_in_risk not in SIGN_IN_RISK_SOURCES:
        raise InputError(f"sign-in risk source {sign_in_risk!r} is not one of {', '.join(SIGN_IN_RISK_SOURCES)}")
    started = time.perf_counter()
    avail = inputs_available(store)
    if not avail["signins"]:
        raise InputError("no sign-ins in the store to replay (run `vigil ingest` or `vigil simulate` first)",
                         path=store.path)
    con = store.con
    notes: list[str] = []
    label_table = load_labels(labels) if labels else None
    if label_table is not None:
        con.register("_ca_labels", label_table)
    ip_loc = _ip_locations(store, policies)
    if ip_loc is not None:
        con.register("_ca_ip_loc", ip_loc)
    users_t, users_used = users_directory(store, avail)
    if users_t is not None:
        con.register("_ca_users", users_t)
    if sign_in_risk == "realtime":
        from vigil.risk.history import replay_scores
        from vigil.settings import load_settings

        scored = replay_scores(store, settings or load_settings(overrides={"store.path": store.path}, environ={}))
        con.register("_ca_rt_risk", scored.table())
        notes.append(f"real-time scorer replayed over {scored.events} events in {scored.seconds} s")
    sql, inputs = combos_sql(policies, avail, with_labels=label_table is not None,
                             with_ip_locations=ip_loc is not None, with_users=users_t is not None,
                             sign_in_risk_source=sign_in_risk)
    inputs["groups_and_roles"] = users_used
    if labels:
        inputs["labels"] = str(labels)
    con.execute("CREATE OR REPLACE TEMP TABLE _ca_combos AS " + sql)
    try:
        rows = con.sql("select * from _ca_combos order by combo_id").to_arrow_table().to_pylist()
        for row in rows:
            for key in ("groups", "roles"):
                row[key] = orjson.loads(row[key]) if isinstance(row[key], str) else row[key]
        tick = (lambda i: progress(i, len(rows))) if progress else None
        total_t, per_t = _outcomes(rows, policies, respect_report_only, tick)
        con.register("_ca_total", total_t)
        con.register("_ca_per", per_t)
        with_labels = label_table is not None
        attack = ", sum(c.attack_n) as attack_events" if with_labels else ""
        pol_rows = con.sql(f"""
            select p.policy_id, sum(c.n) as applies_signins, count(distinct c.user_key) as applies_users{attack},
              {_agg_cols('p', with_labels)}
            from _ca_per p join _ca_combos c using (combo_id) group by p.policy_id""").to_arrow_table().to_pylist()
        tot = con.sql(f"""
            select sum(c.n) as signins, count(distinct c.user_key) as users{attack},
              sum(case when t.decision = 'challenge' then c.n else 0 end) as challenge_signins,
              sum(case when t.decision = 'notEvaluated' then c.n else 0 end) as failed_first_factor_signins,
              {"sum(case when t.decision = 'notEvaluated' then c.attack_n else 0 end) as attack_failed_first_factor,"
               if with_labels else ""}
              {_agg_cols('t', with_labels)}
            from _ca_total t join _ca_combos c using (combo_id)""").to_arrow_table().to_pylist()[0]
        label_summary = None
        if with_labels:
            label_summary = _label_summary(con)
            tot["attack_events_stopped"] = int(tot.get("blocked_attack_events") or 0) + sum(
                int(tot.get(f"{k}_attack_events") or 0) for k in ("mfa", "password_change", "risk_remediation"))
    finally:
        for name in ("_ca_labels", "_ca_ip_loc", "_ca_total", "_ca_per", "_ca_users", "_ca_rt_risk"):
            try:
                con.unregister(name)
            except Exception:  # noqa: BLE001 - a view that was never registered
                pass
        con.execute("DROP TABLE IF EXISTS _ca_combos")
    by_id = {r["policy_id"]: r for r in pol_rows}
    out_pols = []
    for p in policies.policies:
        r = by_id.get(p.id, {})
        entry: dict[str, Any] = {"id": p.id, "displayName": p.display_name, "state": p.state,
                                 "applies_signins": int(r.get("applies_signins") or 0),
                                 "applies_users": int(r.get("applies_users") or 0)}
        for k in PROMPTS:
            entry[f"{k}_signins"] = int(r.get(f"{k}_signins") or 0)
            entry[f"{k}_users"] = int(r.get(f"{k}_users") or 0)
            if label_table is not None:
                entry[f"{k}_attack_events"] = int(r.get(f"{k}_attack_events") or 0)
        if label_table is not None:
            entry["attack_events"] = int(r.get("attack_events") or 0)
        if p.state == "disabled":
            entry["note"] = "disabled: not evaluated"
        out_pols.append(entry)
    if policies.unresolved:
        notes.append("policies name named locations that are not loaded; those never match")
    total = {k: (int(v) if v is not None else 0) for k, v in tot.items()}
    return ReplayReport(inputs, total.get("signins", 0), total.get("users", 0), len(rows),
                        round(time.perf_counter() - started, 3), out_pols, total, label_summary, notes)


def _label_summary(con: Any) -> dict[str, Any]:
    labels, malicious = con.execute("select count(*), count(*) filter (where malicious) from _ca_labels").fetchone()
    in_store = con.execute("select coalesce(sum(attack_n), 0) from _ca_combos").fetchone()[0]
    return {"labels": int(labels), "malicious_labels": int(malicious), "malicious_signins_in_store": int(in_store),
            "note": "labels match sign-ins by event_id or by vendor record id (source_record_id / request_id); "
                    "malicious labels of activities or audit records have no sign-in to stop"}


def _ip_locations(store: Store, policies: PolicySet) -> pa.Table | None:
    """Distinct IP -> the exact set of IP named locations (and MFA trusted IPs) containing it."""
    if not any(p.conditions.locations is not None for p in policies.policies):
        return None
    ip_locs = policies.locations.ip_locations() + ([policies.mfa_trusted] if policies.mfa_trusted else [])
    ips = [r[0] for r in store.con.execute("select distinct ip from signins where ip is not null").fetchall()]
    keys = []
    for ip in ips:
        keys.append(",".join(sorted(loc.id for loc in ip_locs if loc.contains_ip(ip))))
    return pa.table({"ip": pa.array(ips, pa.string()), "loc_key": pa.array(keys, pa.string())})
