"""Links between one person's accounts at different identity providers, and the persons they form.

Automatic links: two accounts at different providers carrying the same name (an address with a domain:
UPN, login, email, or the session name of an AWS federated role) at overlapping times. The method says
what the name was on each side: ``federation`` (an AWS role session named after the user by the
identity provider), ``verified_email`` (the directory's mail attribute), else ``same_login``. Each
account links to at most one account per other provider: when several claim the name (a UPN reused
by a re-created account while Okta kept the login), only the pair that is each other's best candidate
(most recent common sighting) is linked; the others are recorded as ``ambiguous`` and not linked, so
two people never merge through a third account.

Manual actions (``vigil identity link|unlink``) are kept in ``identity_link_actions`` and applied over
the automatic links on every run: the latest action on a pair wins (``link`` accepts it as ``manual``,
``unlink`` rejects it). Persons are the connected components of accepted links, found by label
propagation in a few set-based passes (Spark: the same loop in the driver); a person's id is its Entra
identity's when it has one (the directory object id), else its smallest identity id.
"""
from __future__ import annotations

from vigil.store import Store

MAX_PASSES = 64  # components deeper than this are not a person: the loop stops and says so

_CANDIDATES = """
CREATE OR REPLACE TEMP TABLE _id_cand AS
WITH pairs AS (
  SELECT least(a.identity_id, b.identity_id) AS ia, greatest(a.identity_id, b.identity_id) AS ib,
    CASE WHEN a.identity_id < b.identity_id THEN a.provider ELSE b.provider END AS pa,
    CASE WHEN a.identity_id < b.identity_id THEN b.provider ELSE a.provider END AS pb,
    a.alias,
    CASE WHEN a.kind = 'federated' OR b.kind = 'federated' THEN 0
         WHEN (a.kind = 'email' AND a.learned_from = 'directory') OR (b.kind = 'email' AND b.learned_from = 'directory')
         THEN 1 ELSE 2 END AS strength,
    a.identity_id AS id1, a.kind AS kind1, a.learned_from AS src1, a.evidence AS ev1,
    b.identity_id AS id2, b.kind AS kind2, b.learned_from AS src2, b.evidence AS ev2,
    least(a.last_seen, b.last_seen) AS common_seen
  FROM _id_alias a JOIN _id_alias b ON a.alias = b.alias AND a.provider < b.provider
  WHERE a.kind <> 'display_name' AND b.kind <> 'display_name' AND a.alias LIKE '%_@_%._%'
    AND (a.valid_from IS NULL OR b.valid_to IS NULL OR a.valid_from < b.valid_to)
    AND (b.valid_from IS NULL OR a.valid_to IS NULL OR b.valid_from < a.valid_to)
),
best AS (  -- the strongest shared name of each pair
  SELECT *, row_number() OVER (PARTITION BY ia, ib ORDER BY strength, common_seen DESC, alias) AS rn FROM pairs
),
one AS (SELECT * FROM best WHERE rn = 1),
ranked AS (
  SELECT one.*,
    row_number() OVER (PARTITION BY ia, pb ORDER BY strength, common_seen DESC, ib) AS rank_a,
    row_number() OVER (PARTITION BY ib, pa ORDER BY strength, common_seen DESC, ia) AS rank_b
  FROM one
)
SELECT ia, ib,
  CASE strength WHEN 0 THEN 'federation' WHEN 1 THEN 'verified_email' ELSE 'same_login' END AS method,
  CASE WHEN rank_a = 1 AND rank_b = 1 THEN 'accepted' ELSE 'ambiguous' END AS status,
  alias,
  json_object('alias', alias, 'common_last_seen', common_seen,
    'sides', json_array(json_object('identity_id', id1, 'kind', kind1, 'learned_from', src1, 'evidence', ev1),
                        json_object('identity_id', id2, 'kind', kind2, 'learned_from', src2, 'evidence', ev2)))
    AS evidence,
  CASE WHEN rank_a = 1 AND rank_b = 1
       THEN pa || ' and ' || pb || ' accounts both named ' || alias || ' at the same time ('
            || CASE strength WHEN 0 THEN 'federated role session' WHEN 1 THEN 'directory mail'
                             ELSE 'same sign-in name' END || ')'
       ELSE 'not linked: another ' || CASE WHEN rank_a > 1 THEN pb ELSE pa END
            || ' account also carried ' || alias || ' (a reused name); link by hand if they are one person' END
    AS reason
FROM ranked
"""

# The latest manual action on each pair wins over what was found automatically.
_MANUAL = """
CREATE OR REPLACE TEMP TABLE _id_links AS
WITH act AS (
  SELECT *, row_number() OVER (PARTITION BY identity_a, identity_b ORDER BY created_at DESC, action_id) AS rn
  FROM identity_link_actions
),
last AS (SELECT * FROM act WHERE rn = 1)
SELECT c.ia AS identity_a, c.ib AS identity_b, c.method, c.status, c.alias, c.evidence, c.reason
FROM _id_cand c LEFT JOIN last ON last.identity_a = c.ia AND last.identity_b = c.ib
WHERE last.action_id IS NULL
UNION ALL
SELECT last.identity_a, last.identity_b,
  CASE WHEN last.action = 'link' THEN 'manual' ELSE coalesce(c.method, 'manual') END,
  CASE WHEN last.action = 'link' THEN 'accepted' ELSE 'rejected' END, c.alias,
  json_object('action_id', last.action_id, 'actor', last.actor, 'at', last.created_at, 'reason', last.reason,
              'automatic', c.evidence),
  CASE WHEN last.action = 'link' THEN 'linked by hand by ' ELSE 'unlinked by hand by ' END || last.actor
    || coalesce(': ' || last.reason, '')
FROM last LEFT JOIN _id_cand c ON c.ia = last.identity_a AND c.ib = last.identity_b
"""


def link_and_group(store: Store) -> int:
    """Fill ``_id_links`` and ``_id_person`` (identity_id -> person_id); returns the passes taken."""
    con = store.con
    con.execute(_CANDIDATES)
    con.execute(_MANUAL)
    con.execute("""CREATE OR REPLACE TEMP TABLE _id_edges AS
      SELECT identity_a AS a, identity_b AS b FROM _id_links WHERE status = 'accepted'
      UNION ALL SELECT identity_b, identity_a FROM _id_links WHERE status = 'accepted'""")
    con.execute("CREATE OR REPLACE TEMP TABLE _id_lbl AS SELECT identity_id, identity_id AS lbl FROM _id_identities")
    passes = 0
    while passes < MAX_PASSES:
        passes += 1
        con.execute("""CREATE OR REPLACE TEMP TABLE _id_lbl_next AS
          SELECT l.identity_id, least(l.lbl, coalesce(min(n.lbl), l.lbl)) AS lbl
          FROM _id_lbl l LEFT JOIN _id_edges e ON e.a = l.identity_id LEFT JOIN _id_lbl n ON n.identity_id = e.b
          GROUP BY l.identity_id, l.lbl""")
        changed = store.scalar("""SELECT count(*) FROM _id_lbl_next x JOIN _id_lbl l ON l.identity_id = x.identity_id
                                  WHERE x.lbl <> l.lbl""")
        con.execute("CREATE OR REPLACE TEMP TABLE _id_lbl AS SELECT * FROM _id_lbl_next")
        if not changed:
            break
    first = store.dialect.first_ordered
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_person AS
      WITH rep AS (
        SELECT l.lbl, {first('i.identity_id', "CASE i.provider WHEN 'entra' THEN 0 ELSE 1 END, "
                                              "CASE WHEN i.account_id IS NULL THEN 1 ELSE 0 END, "
                                              "i.last_seen DESC, i.identity_id")} AS person_id
        FROM _id_lbl l JOIN _id_identities i ON i.identity_id = l.identity_id GROUP BY l.lbl
      )
      SELECT l.identity_id, rep.person_id FROM _id_lbl l JOIN rep ON rep.lbl = l.lbl""")
    return passes
