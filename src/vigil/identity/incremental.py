"""The identity stage over what is new: the events without an identity yet, and the accounts they touch.

A full run (:mod:`vigil.identity.resolve`) reads every event; this update reads the new ones and a few tables the
size of the directory. It keeps, beside the identity tables, what the full run computes on the way (schema
``vigil_state``, a cache: dropped, or out of step with ``event_identities``, it is rebuilt by the next full run):

* ``identity_observations``: the observations (an account seen with a name in one hour; directory snapshots and
  audit records), so a new event in an hour already seen merges into its observation as the full run's fold would;
* ``identity_runs``: the alias runs (gaps-and-islands over each account's observations of one kind, numbered in
  time order) with their first observation's position;
* ``identity_event_stats``: per identity (and whether its events were resolved by name only), the events'
  count, first and last time and latest user type, which merge by sum, min and max.

Per account and kind that new observations touch, the runs are recomputed from the run holding the last
observation before the earliest new one (``k``): runs before it cannot change (their observations and the next
run's start are as they were), so a new day costs that day's observations plus each account's last run, not its
history. A directory or audit change, or an account's creation or deletion, touches its keys the same way.
Events without an account id are resolved again only when an alias period of their name changed (a rename, a new
account claiming a name); their old and new identities' statistics are then recounted. Links and persons are
recomputed from the alias table (the size of the directory); ``event_identities.person_id`` is re-written only
for the identities whose person changed. tests/identity/test_incremental.py checks each case against a full run.
"""
from __future__ import annotations

from vigil.identity import resolve
from vigil.store import Store

SCHEMA = "vigil_state"
OBS = f"{SCHEMA}.identity_observations"
RUNS = f"{SCHEMA}.identity_runs"
STATS = f"{SCHEMA}.identity_event_stats"
META = f"{SCHEMA}.identity_meta"
#: bump when the state's shape or meaning changes: a store with another version gets a full run
VERSION = "1"

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {OBS} (identity_id VARCHAR, provider VARCHAR, account_id VARCHAR, kind VARCHAR,
  alias VARCHAR, t TIMESTAMP, t_last TIMESTAMP, n BIGINT, ord INTEGER, learned_from VARCHAR, evidence VARCHAR,
  hour TIMESTAMP);
CREATE TABLE IF NOT EXISTS {RUNS} (identity_id VARCHAR, kind VARCHAR, alias VARCHAR, run BIGINT, provider VARCHAR,
  seen_from TIMESTAMP, last_seen TIMESTAMP, observations BIGINT, learned_from VARCHAR, evidence VARCHAR,
  first_ord INTEGER, account_id VARCHAR, valid_from TIMESTAMP, valid_to TIMESTAMP);
CREATE TABLE IF NOT EXISTS {STATS} (identity_id VARCHAR, by_name BOOLEAN, events BIGINT, first_ev TIMESTAMP,
  last_ev TIMESTAMP, latest_time TIMESTAMP, latest_event VARCHAR, user_type VARCHAR, min_event VARCHAR,
  min_table VARCHAR, min_kind VARCHAR, min_alias VARCHAR, provider VARCHAR);
CREATE TABLE IF NOT EXISTS {META} (key VARCHAR PRIMARY KEY, value VARCHAR);
"""

_OBS_KEY = ("identity_id", "provider", "account_id", "kind", "alias", "hour")
_EVENT_HOUR = "CASE WHEN learned_from IN ('signin', 'activity') THEN date_trunc('hour', t) END"
TEMPS = ("_id_obs_new", "_id_obs_chg", "_id_obs_dir", "_id_touch", "_id_start", "_id_region", "_id_runs_new",
         "_id_c", "_id_ev_old", "_id_moved", "_id_r", "_id_r_events", "_id_r_ev", "_id_stats_new", "_id_person_old",
         "_id_person_chg", "_id_map_new")


def _ensure(store: Store) -> None:
    store.con.execute(_DDL)


#: the user type of the latest event (by time, then event id), null when that event has none: the full run's
#: ``first(user_type ORDER BY event_time DESC, event_id DESC)``, without sorting each identity's events
_LATEST = "arg_max_null(user_type, ({t}, {e}))"


def _stats_sql(store: Store, source: str) -> str:
    """Per (identity, resolved by name only) statistics of the events of an event map."""
    return f"""SELECT identity_id, resolved_by = 'name' AS by_name, count(*) AS events, min(event_time) AS first_ev,
      max(event_time) AS last_ev, max(event_time) AS latest_time,
      arg_max(event_id, (event_time, event_id)) AS latest_event,
      {_LATEST.format(t='event_time', e='event_id')} AS user_type,
      min(event_id) AS min_event, min(event_table) AS min_table, min(kind) AS min_kind, min(alias) AS min_alias,
      min(provider) AS provider
    FROM {source} GROUP BY identity_id, resolved_by = 'name'"""


def usable(store: Store) -> bool:
    """The state exists, has this version and is in step with ``event_identities``."""
    if store.dialect.name != "duckdb" or not store.exists("event_identities"):
        return False
    have = store.scalar(f"SELECT count(*) FROM duckdb_tables() WHERE schema_name = '{SCHEMA}' "
                        "AND table_name = 'identity_meta'")
    if not have:
        return False
    meta = dict(store.rows(f"SELECT key, value FROM {META}"))
    return meta.get("version") == VERSION and meta.get("event_identities") == str(store.count("event_identities"))


def _mark(store: Store) -> None:
    store.con.execute(f"DELETE FROM {META}")
    store.con.execute(f"INSERT INTO {META} VALUES ('version', ?), ('event_identities', ?)",
                      [VERSION, str(store.count("event_identities"))])


def seed(store: Store) -> None:
    """Keep what a full run computed (its temp tables ``_id_obs``, ``_id_runs``, ``_id_event_map``)."""
    if store.dialect.name != "duckdb":
        return
    _ensure(store)
    con = store.con
    with store.transaction():
        for t in (OBS, RUNS, STATS):
            con.execute(f"DELETE FROM {t}")
        con.execute(f"INSERT INTO {OBS} BY NAME SELECT *, {_EVENT_HOUR} AS hour FROM _id_obs")
        con.execute(f"INSERT INTO {RUNS} BY NAME SELECT * FROM _id_runs")
        con.execute(f"INSERT INTO {STATS} BY NAME {_stats_sql(store, '_id_event_map')}")
        _mark(store)


def _not_mapped(table: str) -> str:
    return f"event_id NOT IN (SELECT event_id FROM event_identities WHERE event_table = '{table}')"


def _observe(store: Store) -> None:
    """Merge the new events' observations into the stored ones; ``_id_touch``: (identity, kind, t0) whose
    observations changed from ``t0`` on (t0 null: everything, as when the account's lifetime changed)."""
    con = store.con
    key = " AND ".join(f"o.{c} = n.{c}" for c in _OBS_KEY)
    resolve.event_observations(store, "_id_ev", "_id_obs_new")
    con.execute("ALTER TABLE _id_obs_new ADD COLUMN hour TIMESTAMP")
    con.execute(f"UPDATE _id_obs_new SET hour = {_EVENT_HOUR}")
    # one observation per account, name and hour, as the full run folds them
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_obs_chg AS
      SELECT identity_id, provider, account_id, kind, alias, min(t) AS t, max(t_last) AS t_last, sum(n) AS n,
        min(ord) AS ord, min(learned_from) AS learned_from, min(evidence) AS evidence, hour
      FROM (SELECT o.* FROM {OBS} o SEMI JOIN _id_obs_new n ON {key}
            UNION ALL BY NAME SELECT * FROM _id_obs_new)
      GROUP BY identity_id, provider, account_id, kind, alias, hour""")
    con.execute(f"DELETE FROM {OBS} o USING _id_obs_chg n WHERE {key}")
    con.execute(f"INSERT INTO {OBS} BY NAME SELECT * FROM _id_obs_chg")
    # directory snapshots and audit records: recomputed (tables the size of the directory), the difference touches
    con.execute("CREATE OR REPLACE TEMP TABLE _id_obs_dir AS SELECT * FROM _id_obs_new LIMIT 0")
    con.execute("ALTER TABLE _id_obs_dir DROP COLUMN hour")
    resolve.other_observations(store, "_id_obs_dir")
    cols = "identity_id, provider, account_id, kind, alias, t, t_last, n, ord, learned_from, evidence"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_dir_diff AS
      (SELECT {cols} FROM _id_obs_dir EXCEPT ALL SELECT {cols} FROM {OBS} WHERE hour IS NULL)
      UNION ALL (SELECT {cols} FROM {OBS} WHERE hour IS NULL EXCEPT ALL SELECT {cols} FROM _id_obs_dir)""")
    con.execute(f"DELETE FROM {OBS} WHERE hour IS NULL")
    con.execute(f"INSERT INTO {OBS} BY NAME SELECT *, NULL AS hour FROM _id_obs_dir")
    resolve.lifetimes(store)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_touch AS
      SELECT identity_id, kind, CASE WHEN bool_or(t0 IS NULL) THEN NULL ELSE min(t0) END AS t0,
        bool_and(by_event) AS by_events FROM (
        SELECT identity_id, kind, t AS t0, TRUE AS by_event FROM _id_obs_chg
        UNION ALL SELECT identity_id, kind, t, FALSE FROM _id_dir_diff
        UNION ALL SELECT r.identity_id, r.kind, NULL, FALSE FROM {RUNS} r
          JOIN identities i ON i.identity_id = r.identity_id
          LEFT JOIN _id_life l ON l.identity_id = i.identity_id
          WHERE i.created_time IS DISTINCT FROM l.created_time OR i.deleted_time IS DISTINCT FROM l.deleted_time
      ) x GROUP BY identity_id, kind""")
    con.execute("DROP TABLE IF EXISTS _id_dir_diff")


def _rerun(store: Store) -> tuple[int, int]:
    """Recompute the touched keys' runs from their restart run; ``_id_c``: (provider, alias) of the names whose
    periods changed in what resolving a name-only event reads. Returns the keys recomputed, and of them the ones
    appended to (their last run stood for its observations)."""
    con = store.con
    # k: the run holding the last observation before t0 (none: the whole key), with what restarting there needs
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_start AS
      WITH k AS (
        SELECT r.identity_id, r.kind, max(r.run) FILTER (WHERE r.seen_from < t.t0) AS k, max(r.run) AS last_run
        FROM {RUNS} r JOIN _id_touch t ON t.identity_id = r.identity_id AND t.kind = r.kind
        WHERE t.t0 IS NOT NULL GROUP BY r.identity_id, r.kind)
      SELECT t.identity_id, t.kind, coalesce(k.k, 1) AS k, r.seen_from AS st, r.first_ord AS so, r.evidence AS se,
        p.last_seen AS prev_last, t.by_events AND k.k = k.last_run AS appended, r.alias AS ak, r.last_seen AS lk
      FROM _id_touch t LEFT JOIN k ON k.identity_id = t.identity_id AND k.kind = t.kind
      LEFT JOIN {RUNS} r ON r.identity_id = t.identity_id AND r.kind = t.kind AND r.run = k.k
      LEFT JOIN {RUNS} p ON p.identity_id = t.identity_id AND p.kind = t.kind AND p.run = k.k - 1""")
    # Appended (the usual new day): only new events touched the key, after the start of its last run k, and none
    # would split run k (another name inside its span) or change its first observation (the same name in its first
    # hour). Run k then stands for all its observations: run k as one observation plus the new ones give the
    # runs all of them give. Otherwise the stored observations from run k's first one on, in the full run's order
    # (t, ord, evidence; nulls last).
    con.execute("""UPDATE _id_start s SET appended = FALSE WHERE appended AND EXISTS (
        SELECT 1 FROM _id_obs_new n WHERE n.identity_id = s.identity_id AND n.kind = s.kind
          AND ((n.alias <> s.ak AND n.t <= s.lk) OR (n.alias = s.ak AND n.hour = date_trunc('hour', s.st))))""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_region AS
      SELECT r.identity_id, r.provider, r.account_id, r.kind, r.alias, r.seen_from AS t, r.last_seen AS t_last,
        r.observations AS n, r.first_ord AS ord, r.learned_from, r.evidence, s.k, s.prev_last
      FROM {RUNS} r JOIN _id_start s ON s.identity_id = r.identity_id AND s.kind = r.kind AND r.run = s.k
      WHERE s.appended
      UNION ALL BY NAME
      SELECT n.* EXCLUDE (hour), s.k, s.prev_last FROM _id_obs_new n
      JOIN _id_start s ON s.identity_id = n.identity_id AND s.kind = n.kind WHERE s.appended""")
    if store.scalar("SELECT count(*) FROM _id_start WHERE NOT coalesce(appended, FALSE)"):
        con.execute(f"""INSERT INTO _id_region BY NAME
          SELECT o.* EXCLUDE (hour), s.k, s.prev_last FROM {OBS} o
          JOIN _id_start s ON s.identity_id = o.identity_id AND s.kind = o.kind
          WHERE NOT coalesce(s.appended, FALSE) AND (s.st IS NULL OR o.t > s.st OR (o.t = s.st AND (o.ord > s.so OR
                (o.ord = s.so AND (o.evidence IS NULL OR o.evidence >= s.se)))))""")
    con.execute(resolve.aliases_sql(store, "_id_region", "_id_runs_new", restart=True))
    period = "identity_id, kind, alias, provider, valid_from, valid_to, seen_from"
    old = f"SELECT {period} FROM {RUNS} r SEMI JOIN _id_start s ON s.identity_id = r.identity_id " \
          "AND s.kind = r.kind AND r.run >= s.k"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_c AS SELECT DISTINCT provider, alias FROM (
        ({old} EXCEPT ALL SELECT {period} FROM _id_runs_new)
        UNION ALL (SELECT {period} FROM _id_runs_new EXCEPT ALL {old})) d
      WHERE kind IN ('upn', 'login', 'email', 'federated')""")
    con.execute(f"DELETE FROM {RUNS} r USING _id_start s WHERE s.identity_id = r.identity_id AND s.kind = r.kind "
                "AND r.run >= s.k")
    con.execute(f"INSERT INTO {RUNS} BY NAME SELECT * FROM _id_runs_new")
    return store.count("_id_start"), int(store.scalar("SELECT count(*) FILTER (WHERE appended) FROM _id_start"))


def _map_events(store: Store) -> None:
    """``_id_event_map`` of the new events and of the stored name-only events whose name's periods changed
    (``_id_ev_old``), against every alias run; ``_id_moved``: stored events now resolved otherwise."""
    con = store.con
    con.execute("CREATE OR REPLACE TEMP TABLE _id_ev_old (event_id VARCHAR, event_table VARCHAR)")
    if store.count("_id_c"):
        named = "event_id IN (SELECT event_id FROM event_identities WHERE resolved_by <> 'account_id' " \
                "AND event_table = '{t}')"
        sel = resolve.events_sql(named.format(t="signins"), named.format(t="activities"))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_ev_rows AS SELECT x.* FROM ({sel}) x
                        JOIN _id_c c ON c.provider = x.provider AND c.alias = x.alias WHERE x.strong_id IS NULL""")
        con.execute("INSERT INTO _id_ev SELECT * FROM _id_ev_rows")
        con.execute("INSERT INTO _id_ev_old SELECT event_id, event_table FROM _id_ev_rows")
        con.execute("DROP TABLE _id_ev_rows")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _id_alias AS SELECT * FROM {RUNS}")
    con.execute(resolve.WEAK)
    con.execute(resolve.EVENT_MAP)
    # only stored events can move (the new ones have no row yet): nothing to look up when none was re-resolved
    old = "" if store.count("_id_ev_old") else "AND FALSE"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_moved AS
      SELECT m.event_id, m.event_table, ei.identity_id AS old_id, m.identity_id AS new_id, m.resolved_by
      FROM _id_event_map m JOIN event_identities ei ON ei.event_id = m.event_id AND ei.event_table = m.event_table
      WHERE (ei.identity_id <> m.identity_id OR ei.resolved_by <> m.resolved_by) {old}""")


def _count_events(store: Store) -> None:
    """Bring the event statistics up to date: new events merge in; identities that lost or gained a stored
    event (``_id_moved``) are recounted from their events."""
    con = store.con
    con.execute("""CREATE OR REPLACE TEMP TABLE _id_r AS SELECT old_id AS identity_id FROM _id_moved
                   UNION SELECT new_id FROM _id_moved""")
    # the new events only (a stored event resolved again is counted already, or recounted below if it moved)
    con.execute("""CREATE OR REPLACE TEMP TABLE _id_map_new AS SELECT * FROM _id_event_map m WHERE NOT EXISTS (
                   SELECT 1 FROM _id_ev_old o WHERE o.event_id = m.event_id AND o.event_table = m.event_table)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_stats_new AS {_stats_sql(store, '_id_map_new')}""")
    con.execute("DELETE FROM _id_stats_new WHERE identity_id IN (SELECT identity_id FROM _id_r)")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_stats_chg AS
      SELECT identity_id, by_name, sum(events) AS events, min(first_ev) AS first_ev, max(last_ev) AS last_ev,
        max(latest_time) AS latest_time, arg_max(latest_event, (latest_time, latest_event)) AS latest_event,
        {_LATEST.format(t='latest_time', e='latest_event')} AS user_type, min(min_event) AS min_event,
        min(min_table) AS min_table, min(min_kind) AS min_kind, min(min_alias) AS min_alias, min(provider) AS provider
      FROM (SELECT s.* FROM {STATS} s SEMI JOIN _id_stats_new n ON n.identity_id = s.identity_id
              AND n.by_name = s.by_name
            UNION ALL BY NAME SELECT * FROM _id_stats_new) x GROUP BY identity_id, by_name""")
    if store.count("_id_r"):
        # their events: the stored ones still theirs, and the ones mapped now
        con.execute("""CREATE OR REPLACE TEMP TABLE _id_r_events AS
          SELECT ei.event_id, ei.event_table, ei.identity_id, ei.resolved_by FROM event_identities ei
          WHERE ei.identity_id IN (SELECT identity_id FROM _id_r) AND NOT EXISTS (SELECT 1 FROM _id_event_map m
                WHERE m.event_id = ei.event_id AND m.event_table = ei.event_table)
          UNION ALL SELECT event_id, event_table, identity_id, resolved_by FROM _id_event_map
          WHERE identity_id IN (SELECT identity_id FROM _id_r)""")
        mine = "event_id IN (SELECT event_id FROM _id_r_events WHERE event_table = '{t}')"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_r_ev AS
          SELECT r.identity_id, r.resolved_by, x.event_id, x.event_table, x.event_time, x.user_type, x.kind, x.alias,
            x.provider FROM ({resolve.events_sql(mine.format(t='signins'), mine.format(t='activities'))}) x
          JOIN _id_r_events r ON r.event_id = x.event_id AND r.event_table = x.event_table""")
        con.execute(f"INSERT INTO _id_stats_chg BY NAME {_stats_sql(store, '_id_r_ev')}")
    con.execute(f"""DELETE FROM {STATS} s WHERE s.identity_id IN (SELECT identity_id FROM _id_r) OR EXISTS (
                    SELECT 1 FROM _id_stats_chg c WHERE c.identity_id = s.identity_id AND c.by_name = s.by_name)""")
    con.execute(f"INSERT INTO {STATS} BY NAME SELECT * FROM _id_stats_chg")
    con.execute("DROP TABLE IF EXISTS _id_stats_chg")


def _identities(store: Store) -> None:
    """``_id_alias`` (runs and name-derived aliases) and ``_id_identities`` from the state."""
    store.con.execute(f"""INSERT INTO _id_alias (identity_id, kind, alias, run, provider, seen_from, last_seen,
        observations, learned_from, evidence, valid_from, valid_to)
      SELECT identity_id, min_kind, min_alias, 1, provider, first_ev, last_ev, events,
        CASE WHEN min_table = 'signins' THEN 'signin' ELSE 'activity' END, min_event, NULL, NULL
      FROM {STATS} WHERE by_name""")
    ids = f"""
  SELECT identity_id, min(provider) AS provider, min(account_id) AS account_id, min(seen_from) AS first_seen,
    max(last_seen) AS last_seen FROM {RUNS} GROUP BY identity_id
  UNION ALL
  SELECT identity_id, provider, NULL, first_ev, last_ev FROM {STATS} WHERE by_name"""
    ev = f"""
  SELECT identity_id, sum(events) AS events, min(first_ev) AS first_ev, max(last_ev) AS last_ev,
    {_LATEST.format(t='latest_time', e='latest_event')} AS user_type
  FROM {STATS} GROUP BY identity_id"""
    store.con.execute(resolve.identities_sql(store, ids, ev))


def update(store: Store) -> dict[str, int] | None:
    """Bring the temp tables the stage writes from (``_id_identities``, ``_id_alias``, ``_id_event_map``) and the
    state up to date with the new events; None when a full run is needed (events were deleted)."""
    con = store.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE _id_ev AS "
                f"{resolve.events_sql(_not_mapped('signins'), _not_mapped('activities'))}")
    new = store.count("_id_ev")
    total = store.count("signins") + store.count("activities")
    if store.count("event_identities") + new != total:
        return None  # events left the store (or rows without an event): the full run recounts
    _observe(store)
    keys, appended = _rerun(store)
    _map_events(store)
    _count_events(store)
    _identities(store)
    return {"new_events": new, "alias_keys_recomputed": keys, "alias_keys_appended": appended,
            "names_reresolved": store.count("_id_ev_old"), "events_moved": store.count("_id_moved")}


def replace_tables(store: Store) -> None:
    """Replace ``identities``, ``identity_aliases`` and ``identity_links`` (tables the size of the directory) with
    ``_id_identities`` + ``_id_person``, ``_id_alias`` and ``_id_links``."""
    con = store.con
    con.execute("DELETE FROM identities")
    con.execute("""INSERT INTO identities SELECT i.identity_id, i.provider, i.account_id, i.name, i.display_name,
      i.user_type, i.created_time, i.deleted_time, i.first_seen, i.last_seen, i.events, p.person_id
      FROM _id_identities i JOIN _id_person p ON p.identity_id = i.identity_id""")
    con.execute("DELETE FROM identity_aliases")
    con.execute("""INSERT INTO identity_aliases SELECT identity_id, kind, alias, valid_from, valid_to, seen_from,
      last_seen, observations, learned_from, evidence FROM _id_alias""")
    con.execute("DELETE FROM identity_links")
    con.execute("INSERT INTO identity_links SELECT * FROM _id_links")


def write(store: Store) -> None:
    """Write an :func:`update`'s results (``_id_person`` from the links) into the identity tables and the state
    marker; in the caller's transaction."""
    con = store.con
    con.execute("CREATE OR REPLACE TEMP TABLE _id_person_old AS SELECT identity_id, person_id FROM identities")
    replace_tables(store)
    # stored events: moved to another identity, or their identity's person changed (each a pass over the table:
    # only when there is one)
    if store.count("_id_moved"):
        con.execute("""UPDATE event_identities SET identity_id = m.new_id, resolved_by = m.resolved_by FROM _id_moved m
          WHERE event_identities.event_id = m.event_id AND event_identities.event_table = m.event_table""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _id_person_chg AS
      SELECT p.identity_id, p.person_id FROM _id_person p LEFT JOIN _id_person_old o ON o.identity_id = p.identity_id
      WHERE o.person_id IS DISTINCT FROM p.person_id
      UNION SELECT p.identity_id, p.person_id FROM _id_person p
      WHERE p.identity_id IN (SELECT new_id FROM _id_moved)""")
    if store.count("_id_person_chg"):
        con.execute("""UPDATE event_identities SET person_id = c.person_id FROM _id_person_chg c
                       WHERE event_identities.identity_id = c.identity_id""")
    con.execute("""INSERT INTO event_identities SELECT m.event_id, m.event_table, m.identity_id, p.person_id,
      m.resolved_by FROM _id_map_new m JOIN _id_person p ON p.identity_id = m.identity_id""")
    _mark(store)
    for t in TEMPS:
        con.execute(f"DROP TABLE IF EXISTS {t}")
