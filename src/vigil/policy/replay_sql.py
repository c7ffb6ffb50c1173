"""SQL of the history replay: which inputs exist, the user directory, the grouped combinations.

Only the attributes some policy can look at become grouping keys, so a set without location
conditions never splits sign-ins by IP, one without device filters by device id, and so on.
"""
from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from vigil.policy.evaluate import PolicySet
from vigil.locations.named import CountryNamedLocation
from vigil.store import Store

_OPTIONAL = ("signins_enriched", "IdentityInfo", "directory_memberships", "directory_groups", "signinRisk",
             "riskyUsers")
_RISK = "CASE WHEN lower({x}) IN ('low', 'medium', 'high', 'hidden') THEN lower({x}) ELSE 'none' END"
#: AADSTS codes of a failed first factor: conditional access is evaluated after it, so never reached
FIRST_FACTOR_FAILURES = ("50126", "50053", "50034", "50055", "50056", "50057", "50144", "50128", "50059")
_RANK = "CASE lower(riskLevel) WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"


def inputs_available(store: Store) -> dict[str, bool]:
    names = store.relations()
    out = {name: name in names for name in _OPTIONAL}
    out["signins"] = "signins" in names and store.count("signins") > 0
    return out


def _json_list(value: Any) -> list[str]:
    if value is None:
        return []
    data = orjson.loads(value) if isinstance(value, str) else value
    return [str(x) for x in data] if isinstance(data, list) else []


def users_directory(store: Store, avail: dict[str, bool]) -> tuple[pa.Table | None, str]:
    """Per user (object id and UPN, lower-cased): group ids and names, role names or ids, user type.

    One row per directory user, assembled in Python (directory sizes, not sign-in volumes)."""
    if not (avail["IdentityInfo"] or avail["directory_memberships"]):
        return None, ("none: no IdentityInfo or directory tables, so group and role conditions never match "
                      "(run `vigil directory` to load users and groups)")
    con = store.con
    name_to_ids: dict[str, set[str]] = {}
    if avail["directory_groups"]:
        for gid, gname in con.execute("select group_id, group_name from directory_groups").fetchall():
            if gname:
                name_to_ids.setdefault(str(gname).casefold(), set()).add(str(gid))
    users: dict[str, dict[str, Any]] = {}

    def entry(key: str) -> dict[str, Any]:
        return users.setdefault(key.lower(), {"groups": set(), "roles": set(), "user_type": None})

    used = []
    if avail["IdentityInfo"]:
        used.append("IdentityInfo.GroupMembership/AssignedRoles/UserType")
        rows = con.execute('select "AccountObjectId", "AccountUPN", "GroupMembership", "AssignedRoles", "UserType" '
                           'from "IdentityInfo"').fetchall()
        for oid, upn, groups, roles, utype in rows:
            names = _json_list(groups)
            ids = {i for n in names for i in name_to_ids.get(n.casefold(), ())}
            for key in (oid, upn):
                if key:
                    e = entry(str(key))
                    e["groups"].update(names, ids)
                    e["roles"].update(_json_list(roles))
                    e["user_type"] = e["user_type"] or utype
    if avail["directory_memberships"]:
        used.append("directory_memberships (group and role ids)")
        for gid, gname, kind, member in con.execute(
                "select group_id, group_name, kind, member_key from directory_memberships").fetchall():
            e = entry(str(member))
            target = e["roles"] if kind == "role" else e["groups"]
            target.update(x for x in (gid, gname) if x)
    if name_to_ids:
        used.append("directory_groups (group names -> ids)")
    elif not avail["directory_memberships"]:
        used.append("group NAMES only: policies name groups by id, so group conditions cannot match "
                    "without directory_groups or directory_memberships")
    keys = sorted(users)
    table = pa.table({
        "k": pa.array(keys, pa.string()),
        "groups": pa.array([orjson.dumps(sorted(users[k]["groups"])).decode() for k in keys], pa.string()),
        "roles": pa.array([orjson.dumps(sorted(users[k]["roles"])).decode() for k in keys], pa.string()),
        "dir_user_type": pa.array([users[k]["user_type"] for k in keys], pa.string()),
    })
    return table, " + ".join(used)


def combos_sql(policies: PolicySet, avail: dict[str, bool], *, with_labels: bool,
               with_ip_locations: bool, with_users: bool, sign_in_risk_source: str = "stored"
               ) -> tuple[str, dict[str, str]]:
    """The SELECT building one row per distinct decision-relevant combination, and the inputs used."""
    ps = policies.policies
    cond = [p.conditions for p in ps if p.state != "disabled"]
    inputs: dict[str, str] = {"signins": "signins"}
    joins: list[str] = []
    need_country = with_ip_locations and any(isinstance(loc, CountryNamedLocation) for loc in policies.locations)
    if need_country and avail["signins_enriched"]:
        country = "coalesce(e.geo_country, s.country)"
        joins.append("LEFT JOIN signins_enriched e ON e.event_id = s.event_id")
        inputs["country"] = "signins_enriched.geo_country (vendor country where missing)"
    elif need_country:
        country = "s.country"
        inputs["country"] = "signins.country (vendor; no signins_enriched view)"
    else:
        country = "CAST(NULL AS VARCHAR)"
        inputs["country"] = "not needed (no country named location)"
    if need_country and any(isinstance(loc, CountryNamedLocation) and loc.country_lookup_method == "authenticatorAppGps"
                            for loc in policies.locations):
        inputs["gps_country"] = ("sign-in logs carry no Authenticator GPS location: GPS-based country locations "
                                 "see an unknown country in a replay")
    if with_ip_locations:
        joins.append("LEFT JOIN _ca_ip_loc l ON l.ip = s.ip")
        loc_key, ip = "l.loc_key", "s.ip"
        inputs["ip"] = "signins.ip against the named locations"
    else:
        loc_key, ip = "CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)"
        inputs["ip"] = "not needed (no location condition)"
    if any(c.sign_in_risk_levels for c in cond):
        if sign_in_risk_source == "realtime":  # _ca_rt_risk: vigil.risk.history over the same store
            sign_in_risk = _RISK.format(x="rt.realtime_level")
            joins.append("LEFT JOIN _ca_rt_risk rt ON rt.event_id = s.event_id")
            inputs["sign_in_risk"] = ("vigil's real-time scorer replayed over history (each sign-in scored against "
                                      "the events before it, as the decision point would have)")
        elif sign_in_risk_source == "vendor":
            sign_in_risk = _RISK.format(x="s.risk_level_during_signin")
            inputs["sign_in_risk"] = "signins.risk_level_during_signin (the vendor's, as logged)"
        elif avail["signinRisk"]:
            sign_in_risk = _RISK.format(x="coalesce(r.riskLevelDuringSignIn, s.risk_level_during_signin)")
            # one row per event and source; the vendor's own fields are on the sign-in already
            joins.append('LEFT JOIN (SELECT event_id, "riskLevelDuringSignIn" FROM "signinRisk" '
                         "WHERE source = 'vigil') r ON r.event_id = s.event_id")
            inputs["sign_in_risk"] = "signinRisk.riskLevelDuringSignIn (vigil; vendor value where vigil has no row)"
        else:
            sign_in_risk = _RISK.format(x="s.risk_level_during_signin")
            inputs["sign_in_risk"] = "signins.risk_level_during_signin (vendor; no signinRisk table)"
    else:
        sign_in_risk = "'none'"
        inputs["sign_in_risk"] = "not needed (no sign-in risk condition)"
    ctes = []
    if any(c.user_risk_levels for c in cond):
        if avail["riskyUsers"]:
            ctes.append(f"""ru AS (
  SELECT upn, risk, since FROM (
    SELECT lower("userPrincipalName") AS upn, lower("riskLevel") AS risk, "riskLastUpdatedDateTime" AS since,
      row_number() OVER (PARTITION BY lower("userPrincipalName")
                         ORDER BY {_RANK} DESC, "riskLastUpdatedDateTime" DESC, id) AS rn
    FROM "riskyUsers" WHERE "riskState" IN ('atRisk', 'confirmedCompromised')) WHERE rn = 1)""")
            joins.append("LEFT JOIN ru ON ru.upn = s.user_principal_name AND ru.since <= s.event_time")
            user_risk = _RISK.format(x="ru.risk")
            inputs["user_risk"] = ("riskyUsers (highest level over sources vigil/IdentityProtection of at-risk "
                                   "users, from riskLastUpdatedDateTime on; the table holds current state, so "
                                   "risk later remediated is not replayed)")
        else:
            user_risk = "'none'"
            inputs["user_risk"] = "unavailable: no riskyUsers table (sign-in logs carry no user risk); user risk none"
    else:
        user_risk = "'none'"
        inputs["user_risk"] = "not needed (no user risk condition)"
    attrs: set[str] = set()
    for c in cond:
        if c.devices is not None and c.devices.device_filter is not None:
            attrs |= c.devices.device_filter.attributes
    device_id = "s.device_id" if "deviceId" in attrs else "CAST(NULL AS VARCHAR)"
    device_name = "s.device_name" if "displayName" in attrs else "CAST(NULL AS VARCHAR)"
    absent = sorted(attrs - {"deviceId", "displayName", "isCompliant", "trustType", "operatingSystem"})
    if attrs:
        missing = f"; {', '.join(absent)} not in sign-in logs, evaluated as null" if absent else ""
        inputs["device_filter"] = "deviceId/displayName/isCompliant/trustType/operatingSystem from signins" + missing
    flows = "s.auth_protocol" if any(c.transfer_methods for c in cond) else "CAST(NULL AS VARCHAR)"
    strict = any(p.session_controls is not None and p.session_controls.continuous_access_evaluation == "strictLocation"
                 for p in ps if p.state != "disabled")
    resource_ip = "s.resource_ip" if strict else "CAST(NULL AS VARCHAR)"
    if strict:
        inputs["resource_ip"] = "signins.resource_ip (IP seen by the resource) for CAE strict location enforcement"
    if with_labels:
        ctes.append("""lab AS (
  SELECT k, bool_or(malicious) AS m FROM (
    SELECT record_id AS k, malicious FROM _ca_labels WHERE record_id IS NOT NULL
    UNION ALL SELECT event_id AS k, malicious FROM _ca_labels WHERE event_id IS NOT NULL) x GROUP BY k)""")
        joins += ["LEFT JOIN lab l1 ON l1.k = s.event_id", "LEFT JOIN lab l2 ON l2.k = s.source_record_id",
                  "LEFT JOIN lab l3 ON l3.k = s.request_id"]
        attack = "CASE WHEN coalesce(l1.m, l2.m, l3.m, false) THEN 1 ELSE 0 END"
    else:
        attack = "0"
    keys = ["user_key", "user_id", "user_principal_name", "user_type", "app_id", "app_name", "loc_key", "country",
            "device_os", "client_app_type", "registered", "device_id", "device_name", "device_compliant",
            "device_trust_type", "auth_protocol", "sign_in_risk", "user_risk", "mfa_claim", "reached_ca",
            "resource_ip"]
    with_clause = "WITH " + ",\n".join(ctes) + "\n" if ctes else ""
    first_factor = ", ".join(f"'{c}'" for c in FIRST_FACTOR_FAILURES)
    base = f"""{with_clause}SELECT
  coalesce(s.user_id, s.user_principal_name) AS user_key, s.user_id, s.user_principal_name, s.user_type,
  coalesce(s.resource_id, s.app_id) AS app_id, coalesce(s.resource_name, s.app_name) AS app_name,
  {loc_key} AS loc_key, {ip} AS ip, {country} AS country, s.device_os, s.client_app_type,
  s.device_id IS NOT NULL AS registered, {device_id} AS device_id, {device_name} AS device_name,
  s.device_compliant, s.device_trust_type, {flows} AS auth_protocol, {resource_ip} AS resource_ip,
  {sign_in_risk} AS sign_in_risk, {user_risk} AS user_risk,
  (coalesce(s.mfa_satisfied, false)
   AND coalesce(CAST(s.auth_methods AS VARCHAR) LIKE '%Previously satisfied%', false)) AS mfa_claim,
  NOT (coalesce(s.result, '') = 'failure' AND coalesce(s.result_code, '') IN ({first_factor})) AS reached_ca,
  {attack} AS attack
FROM signins s
{chr(10).join(joins)}"""
    inputs["first_factor"] = ("sign-ins failed at the first factor (result_code " + ", ".join(FIRST_FACTOR_FAILURES)
                              + ") never reach conditional access and are counted apart")
    key_list = ", ".join(keys)
    user_cols = ("coalesce(u1.groups, u2.groups) AS groups, coalesce(u1.roles, u2.roles) AS roles, "
                 "coalesce(g.user_type, u1.dir_user_type, u2.dir_user_type) AS user_type_resolved"
                 if with_users else "NULL AS groups, NULL AS roles, g.user_type AS user_type_resolved")
    user_joins = ("LEFT JOIN _ca_users u1 ON u1.k = lower(g.user_id) "
                  "LEFT JOIN _ca_users u2 ON u2.k = lower(g.user_principal_name)" if with_users else "")
    sql = f"""SELECT row_number() OVER (ORDER BY {key_list}) AS combo_id, g.*, {user_cols}
FROM (SELECT {key_list}, min(ip) AS ip, count(*) AS n, sum(attack) AS attack_n
      FROM ({base}) b GROUP BY {key_list}) g
{user_joins}"""
    return sql, inputs
