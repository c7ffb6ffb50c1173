"""Point-in-range lookup of address keys, set-based.

``asof_sql`` uses DuckDB's ASOF join (fast: one merge over sorted keys). ``window_sql`` is the
same lookup with plain window functions only, for engines without ASOF (Spark): range starts and
addresses are sorted together and each address takes the last range that started at or before
it (a running max of the range ordinal). Both keep only ranges that also *end* at or after the
address, so gaps in the range table give NULL. Tests check the two agree.
"""
from __future__ import annotations


def asof_sql(points: str, ranges: str, cols: list[str]) -> str:
    """``points(family, ip_key, ...)`` joined to ``ranges(family, start_key, end_key, cols...)``.

    Returns ``ip_key, family`` plus ``cols`` (NULL outside every range) for each distinct point.
    Ranges must not overlap (builders guarantee it).
    """
    picked = ", ".join(f"CASE WHEN p.ip_key <= r.end_key THEN r.{c} END AS {c}" for c in cols)
    return (
        f"SELECT p.family, p.ip_key, {picked} FROM (SELECT DISTINCT family, ip_key FROM {points} "
        f"WHERE ip_key IS NOT NULL) p ASOF LEFT JOIN {ranges} r "
        f"ON p.family = r.family AND p.ip_key >= r.start_key"
    )


def window_sql(points: str, ranges: str, cols: list[str]) -> str:
    """The same result as :func:`asof_sql`, written with window functions only."""
    # CTE names carry the range table's name: two lookups can sit in one statement (sqlglot's Spark
    # output hoists nested CTEs into one WITH)
    q = "".join(ch for ch in ranges if ch.isalnum() or ch == "_")
    picked = ", ".join(f"CASE WHEN m.ip_key <= r.end_key THEN r.{c} END AS {c}" for c in cols)
    return f"""
WITH {q}_r AS (
  SELECT family, start_key, end_key, {", ".join(cols)},
         ROW_NUMBER() OVER (PARTITION BY family ORDER BY start_key, end_key) AS ordinal
  FROM {ranges}
), {q}_p AS (
  SELECT DISTINCT family, ip_key FROM {points} WHERE ip_key IS NOT NULL
), {q}_merged AS (
  SELECT family, ip_key, kind,
         MAX(ordinal) OVER (PARTITION BY family ORDER BY ip_key, kind, ordinal
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ordinal
  FROM (SELECT family, start_key AS ip_key, 0 AS kind, ordinal FROM {q}_r
        UNION ALL SELECT family, ip_key, 1 AS kind, CAST(NULL AS BIGINT) AS ordinal FROM {q}_p) u
), {q}_m AS (SELECT family, ip_key, ordinal FROM {q}_merged WHERE kind = 1)
SELECT m.family, m.ip_key, {picked}
FROM {q}_m m LEFT JOIN {q}_r r ON r.family = m.family AND r.ordinal = m.ordinal"""
