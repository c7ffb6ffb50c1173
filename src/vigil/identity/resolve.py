"""Identity resolution: accounts, their names over time, and the identity of every event.

An account is known by its provider's own user id: the Entra object id (``userId``; Office 365 and
Defender records only when their key is shaped like one, as Exchange's ``UserKey`` is a PUID), Okta's
``actor.id``, Google's ``profileId``, AWS's ``principalId``. Every record that carries both the id and a
name is an *observation* of that name at that time; so are directory snapshots (UPN and mail), Entra
``Update user`` audit records whose modified properties change ``UserPrincipalName`` (old name until
then, new name from then) and Okta ``user.account.update_profile`` records (the target's login).

Names become aliases with validity periods by gaps-and-islands over each account's observations in
time order: a run of one name is one period. A name is valid until the next name is first seen, and the
next name from the last sighting of the one before (the rename happened in between; an audit record
dates it exactly, as both sightings are then the same instant). The first period starts at the account's
creation when known (else it is open), the last ends at its deletion.

A record with a name and no id (an Office 365 audit record) takes the account whose alias of that name
was valid at its time; when two accounts claim it (a UPN reused after a deletion), the one that had
been *seen* with it by then wins, the most recent first. A name no account ever carried becomes an
identity of its own, ``provider:name``. Everything here is set-based SQL; the only DuckDB-specific
parts are the JSON functions reading audit records (docs/architecture.md lists them).
"""
from __future__ import annotations

from vigil.store import Store

#: provider of a record, from the adapter that read it
PROVIDER = ("CASE WHEN {f} LIKE 'okta%' THEN 'okta' WHEN {f} LIKE 'gws%' THEN 'google' "
            "WHEN {f} LIKE 'cloudtrail%' THEN 'aws' ELSE 'entra' END")
GUID_SHAPE = "'________-____-____-____-____________'"

# {signins} / {activities}: a condition on each table's rows (TRUE: every event)
_EVENTS_SELECT = """
WITH e AS (
  SELECT event_id, 'signins' AS event_table, event_time, source_format, user_id, user_principal_name,
         user_display_name, user_type FROM signins WHERE {signins}
  UNION ALL
  SELECT event_id, 'activities', event_time, source_format, user_id, user_principal_name, user_display_name,
         user_type FROM activities WHERE {activities}
),
p AS (
  SELECT e.*, {provider} AS provider, nullif(lower(trim(user_principal_name)), '') AS name,
    CASE WHEN nullif(trim(user_id), '') IS NULL THEN NULL
         WHEN (source_format LIKE 'o365%' OR source_format LIKE 'defender%')
              AND NOT lower(trim(user_id)) LIKE {guid} THEN NULL
         ELSE trim(user_id) END AS account
  FROM e
)
SELECT event_id, event_table, event_time, provider, account, user_display_name, user_type,
  CASE WHEN account IS NULL THEN NULL WHEN provider = 'entra' THEN lower(account)
       ELSE provider || ':' || account END AS strong_id,
  CASE WHEN provider = 'aws' AND name LIKE 'arn:%/%@%' THEN 'federated'
       WHEN provider = 'entra' THEN 'upn' WHEN provider = 'google' THEN 'email' ELSE 'login' END AS kind,
  CASE WHEN provider = 'aws' AND name LIKE 'arn:%/%' THEN regexp_extract(name, '([^/]+)$', 1)
       ELSE name END AS alias
FROM p
"""

# Observations: (identity, provider, account, kind, alias, first time, last time, count, order at the same
# time, where learned, evidence). Events are folded per hour first: a name's run is what matters.
_OBS_EVENTS = """
CREATE OR REPLACE TEMP TABLE {obs} AS
SELECT strong_id AS identity_id, provider, account AS account_id, kind, alias,
  min(event_time) AS t, max(event_time) AS t_last, count(*) AS n, 1 AS ord,
  CASE WHEN min(event_table) = 'signins' THEN 'signin' ELSE 'activity' END AS learned_from,
  min(event_id) AS evidence
FROM {ev} WHERE strong_id IS NOT NULL AND alias IS NOT NULL
GROUP BY strong_id, provider, account, kind, alias, date_trunc('hour', event_time)
UNION ALL
SELECT strong_id, provider, account, 'display_name', trim(user_display_name), min(event_time), max(event_time),
  count(*), 1, CASE WHEN min(event_table) = 'signins' THEN 'signin' ELSE 'activity' END, min(event_id)
FROM {ev} WHERE strong_id IS NOT NULL AND nullif(trim(user_display_name), '') IS NOT NULL
GROUP BY strong_id, provider, account, trim(user_display_name), date_trunc('hour', event_time)
"""

_OBS_DIRECTORY = """
INSERT INTO {obs}
SELECT lower(object_id), 'entra', object_id, k.kind, k.alias, observed_at, observed_at, 1, 1, 'directory',
  source_file
FROM (
  SELECT object_id, observed_at, source_file, 'upn' AS kind, lower(trim(upn)) AS alias FROM directory_users
  UNION ALL SELECT object_id, observed_at, source_file, 'email', lower(trim(mail)) FROM directory_users
  UNION ALL SELECT object_id, observed_at, source_file, 'display_name', trim(display_name) FROM directory_users
) k
WHERE nullif(trim(object_id), '') IS NOT NULL AND nullif(k.alias, '') IS NOT NULL
"""

# Entra "Update user" with a UserPrincipalName change: the old name up to that moment, the new from it.
_RENAMES = """
CREATE OR REPLACE TEMP TABLE _id_renames AS
SELECT event_id, event_time, lower(target_user_id) AS identity_id, target_user_id,
  lower(trim(regexp_replace(json_extract_string(p, '$.oldValue'), '[\\[\\]"]', '', 'g'))) AS old_name,
  lower(trim(regexp_replace(json_extract_string(p, '$.newValue'), '[\\[\\]"]', '', 'g'))) AS new_name
FROM (
  SELECT event_id, event_time, target_user_id,
    unnest(json_extract(modified_properties, '$[*][*]')) AS p
  FROM directory_events
  WHERE target_user_id IS NOT NULL AND modified_properties IS NOT NULL
    AND lower(coalesce(operation, '')) LIKE 'update user%' AND coalesce(result, 'success') = 'success'
) x
WHERE lower(json_extract_string(p, '$.displayName')) = 'userprincipalname'
"""

_OBS_AUDIT = """
INSERT INTO {obs}
SELECT identity_id, 'entra', target_user_id, 'upn', old_name, event_time, event_time, 1, 0, 'audit', event_id
FROM _id_renames WHERE nullif(old_name, '') IS NOT NULL
UNION ALL
SELECT identity_id, 'entra', target_user_id, 'upn', new_name, event_time, event_time, 1, 1, 'audit', event_id
FROM _id_renames WHERE nullif(new_name, '') IS NOT NULL
UNION ALL  -- any other audit record names its target user as it was then
SELECT lower(target_user_id), 'entra', target_user_id, 'upn', lower(trim(target_upn)), event_time, event_time, 1, 1,
  'audit', event_id
FROM directory_events
WHERE target_user_id IS NOT NULL AND nullif(trim(target_upn), '') IS NOT NULL
  AND event_id NOT IN (SELECT event_id FROM _id_renames)
  AND lower(target_user_id) LIKE {guid}
UNION ALL  -- Okta profile updates name the target user's login as it is from then on
SELECT 'okta:' || json_extract_string(parameters, '$[0].id'), 'okta', json_extract_string(parameters, '$[0].id'),
  'login', lower(trim(json_extract_string(parameters, '$[0].alternateId'))), event_time, event_time, 1, 1,
  'audit', event_id
FROM activities
WHERE source_format LIKE 'okta%' AND operation = 'user.account.update_profile'
  AND json_extract_string(parameters, '$[0].id') IS NOT NULL
  AND nullif(trim(json_extract_string(parameters, '$[0].alternateId')), '') IS NOT NULL
"""

# Creation and deletion bound an account's first and last alias periods.
_LIFE_DIRECTORY = """
SELECT lower(object_id) AS identity_id, created, CAST(NULL AS TIMESTAMP) AS deleted FROM directory_users
WHERE object_id IS NOT NULL AND created IS NOT NULL"""
_LIFE_AUDIT = """
SELECT lower(target_user_id) AS identity_id, CASE WHEN lower(operation) LIKE 'add user%' THEN event_time END AS created,
  CASE WHEN event_type = 'user_deleted' THEN event_time END AS deleted
FROM directory_events
WHERE target_user_id IS NOT NULL AND coalesce(result, 'success') = 'success'
  AND (event_type = 'user_deleted' OR lower(operation) LIKE 'add user%')"""


#: the columns of an alias run (``_id_alias`` before name-derived aliases join it), in order
RUN_COLUMNS = ("identity_id", "kind", "alias", "run", "provider", "seen_from", "last_seen", "observations",
               "learned_from", "evidence", "first_ord", "account_id", "valid_from", "valid_to")


def aliases_sql(store: Store, obs: str = "_id_obs", target: str = "_id_alias", *, restart: bool = False) -> str:
    """Alias runs (gaps-and-islands over each account's observations of one kind, in time order) into ``target``.
    ``restart``: ``obs`` holds, per (identity, kind), the observations from the first one of run ``k`` on (its
    columns ``k`` and ``prev_last``, the last sighting of run ``k - 1``): runs are numbered from ``k``."""
    first = store.dialect.first_ordered
    offset = "k - 1 + " if restart else ""
    carry = ", min(k) AS k, min(prev_last) AS prev_last" if restart else ""
    at_k = "WHEN run = runs.k THEN runs.prev_last " if restart else ""
    cols = ", ".join(f"runs.{c}" for c in RUN_COLUMNS[:-2])
    return f"""
CREATE OR REPLACE TEMP TABLE {target} AS
WITH o AS (
  SELECT *, lag(alias) OVER (PARTITION BY identity_id, kind ORDER BY t, ord, evidence) AS prev FROM {obs}
),
r AS (
  SELECT *, {offset}sum(CASE WHEN prev IS NULL OR prev <> alias THEN 1 ELSE 0 END) OVER (
      PARTITION BY identity_id, kind ORDER BY t, ord, evidence ROWS UNBOUNDED PRECEDING) AS run
  FROM o
),
runs AS (
  SELECT identity_id, kind, alias, run, min(provider) AS provider, min(t) AS seen_from, max(t_last) AS last_seen,
    sum(n) AS observations, {first('learned_from', 't, ord, evidence')} AS learned_from,
    {first('evidence', 't, ord, evidence')} AS evidence, {first('ord', 't, ord, evidence')} AS first_ord,
    min(account_id) AS account_id{carry}
  FROM r GROUP BY identity_id, kind, alias, run
)
SELECT {cols},
  CASE WHEN run = 1 THEN l.created_time {at_k}
       ELSE lag(last_seen) OVER (PARTITION BY runs.identity_id, kind ORDER BY run) END AS valid_from,
  coalesce(lead(seen_from) OVER (PARTITION BY runs.identity_id, kind ORDER BY run), l.deleted_time) AS valid_to
FROM runs LEFT JOIN _id_life l ON l.identity_id = runs.identity_id
"""


# A record with only a name takes the account holding that name at its time (see the module docstring).
WEAK = """
CREATE OR REPLACE TEMP TABLE _id_weak AS
WITH m AS (
  SELECT e.event_id, e.event_table, a.identity_id,
    row_number() OVER (PARTITION BY e.event_table, e.event_id ORDER BY
      CASE WHEN a.kind = e.kind THEN 0 ELSE 1 END, CASE WHEN a.seen_from <= e.event_time THEN 0 ELSE 1 END,
      a.seen_from DESC, a.identity_id) AS rn
  FROM _id_ev e JOIN _id_alias a
    ON a.alias = e.alias AND a.provider = e.provider AND a.kind IN ('upn', 'login', 'email', 'federated')
   AND (a.valid_from IS NULL OR a.valid_from <= e.event_time) AND (a.valid_to IS NULL OR e.event_time < a.valid_to)
  WHERE e.strong_id IS NULL AND e.alias IS NOT NULL
)
SELECT event_id, event_table, identity_id FROM m WHERE rn = 1
"""

EVENT_MAP = """
CREATE OR REPLACE TEMP TABLE _id_event_map AS
SELECT e.event_id, e.event_table,
  coalesce(e.strong_id, w.identity_id, e.provider || ':' || e.alias) AS identity_id,
  CASE WHEN e.strong_id IS NOT NULL THEN 'account_id' WHEN w.identity_id IS NOT NULL THEN 'alias'
       ELSE 'name' END AS resolved_by,
  e.provider, e.alias, e.kind, e.event_time, e.user_display_name, e.user_type
FROM _id_ev e LEFT JOIN _id_weak w ON w.event_id = e.event_id AND w.event_table = e.event_table
WHERE e.strong_id IS NOT NULL OR e.alias IS NOT NULL
"""

# Name-derived identities carry their one name as an alias valid always.
_DERIVED_ALIASES = """
INSERT INTO _id_alias (identity_id, kind, alias, run, provider, seen_from, last_seen, observations, learned_from,
                       evidence, valid_from, valid_to)
SELECT identity_id, min(kind), min(alias), 1, min(provider), min(event_time), max(event_time), count(*),
  CASE WHEN min(event_table) = 'signins' THEN 'signin' ELSE 'activity' END, min(event_id), NULL, NULL
FROM _id_event_map WHERE resolved_by = 'name' GROUP BY identity_id
"""


def identities_sql(store: Store, ids: str | None = None, ev: str | None = None) -> str:
    """``_id_identities`` from the observations and the event map (``ids`` / ``ev``: the same per identity from
    elsewhere, as the incremental update keeps them)."""
    first = store.dialect.first_ordered
    ids = ids or """
  SELECT identity_id, min(provider) AS provider, min(account_id) AS account_id, min(t) AS first_seen,
    max(t_last) AS last_seen FROM _id_obs GROUP BY identity_id
  UNION ALL
  SELECT identity_id, min(provider), NULL, min(event_time), max(event_time) FROM _id_event_map
  WHERE resolved_by = 'name' GROUP BY identity_id"""
    ev = ev or f"""
  SELECT identity_id, count(*) AS events, min(event_time) AS first_ev, max(event_time) AS last_ev,
    {first('user_type', 'event_time DESC, event_id DESC')} AS user_type
  FROM _id_event_map GROUP BY identity_id"""
    return f"""
CREATE OR REPLACE TEMP TABLE _id_identities AS
WITH ids AS ({ids}
),
names AS (
  SELECT identity_id,
    {first('alias', "last_seen DESC, CASE kind WHEN 'upn' THEN 0 WHEN 'login' THEN 1 ELSE 2 END, alias")} AS name
  FROM _id_alias WHERE kind <> 'display_name' GROUP BY identity_id
),
disp AS (
  SELECT identity_id, {first('alias', 'last_seen DESC, alias')} AS display_name
  FROM _id_alias WHERE kind = 'display_name' GROUP BY identity_id
),
ev AS ({ev}
)
SELECT ids.identity_id, ids.provider, ids.account_id, names.name, disp.display_name, ev.user_type,
  l.created_time, l.deleted_time, least(ids.first_seen, coalesce(ev.first_ev, ids.first_seen)) AS first_seen,
  greatest(ids.last_seen, coalesce(ev.last_ev, ids.last_seen)) AS last_seen, coalesce(ev.events, 0) AS events
FROM ids LEFT JOIN names ON names.identity_id = ids.identity_id
LEFT JOIN disp ON disp.identity_id = ids.identity_id
LEFT JOIN ev ON ev.identity_id = ids.identity_id
LEFT JOIN _id_life l ON l.identity_id = ids.identity_id
"""


def events_sql(signins: str = "TRUE", activities: str = "TRUE") -> str:
    """SELECT: the identity fields of the sign-ins and activities meeting each condition."""
    return _EVENTS_SELECT.format(provider=PROVIDER.format(f="source_format"), guid=GUID_SHAPE, signins=signins,
                                 activities=activities)


def event_observations(store: Store, ev: str, obs: str) -> None:
    """Temp table ``obs``: the observations of the events in ``ev`` (an :func:`events_sql` result)."""
    store.con.execute(_OBS_EVENTS.format(ev=ev, obs=obs))


def other_observations(store: Store, obs: str) -> None:
    """Add to ``obs`` the directory snapshots' and audit records' observations."""
    con = store.con
    if "directory_users" in store.relations():
        con.execute(_OBS_DIRECTORY.format(obs=obs))
    con.execute(_RENAMES)
    con.execute(_OBS_AUDIT.format(guid=GUID_SHAPE, obs=obs))


def lifetimes(store: Store) -> None:
    """Temp table ``_id_life``: each account's creation and deletion, when known."""
    life = [_LIFE_AUDIT] + ([_LIFE_DIRECTORY] if "directory_users" in store.relations() else [])
    store.con.execute("CREATE OR REPLACE TEMP TABLE _id_life AS SELECT identity_id, min(created) AS created_time, "
                      f"max(deleted) AS deleted_time FROM ({' UNION ALL '.join(life)}) x GROUP BY identity_id")


def resolve(store: Store) -> None:
    """Fill the temp tables ``_id_identities``, ``_id_alias`` and ``_id_event_map`` from the store (and keep the
    alias runs, before name-derived aliases join them, as ``_id_runs``)."""
    con = store.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE _id_ev AS {events_sql()}")
    event_observations(store, "_id_ev", "_id_obs")
    other_observations(store, "_id_obs")
    lifetimes(store)
    con.execute(aliases_sql(store))
    con.execute("CREATE OR REPLACE TEMP TABLE _id_runs AS SELECT * FROM _id_alias")
    con.execute(WEAK)
    con.execute(EVENT_MAP)
    con.execute(_DERIVED_ALIASES)
    con.execute(identities_sql(store))
