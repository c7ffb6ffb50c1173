"""SQL macros the adapters' mappings use (created per connection, as TEMP macros)."""
from __future__ import annotations

import duckdb

from vigil.store import array

# US-style and other non-ISO timestamps seen in real exports (portal CSVs, ADFS, diag records).
US_FORMATS = [
    "%m/%d/%Y, %I:%M:%S.%g %p", "%m/%d/%Y, %I:%M:%S %p", "%m/%d/%Y %I:%M:%S.%g %p", "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S %p %z", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y, %H:%M:%S",
]

MACROS = [
    # ISO 8601 in any offset -> UTC; then the US forms, read as UTC.
    """CREATE OR REPLACE TEMP MACRO vigil_ts(x) AS (
        CASE WHEN x IS NULL OR trim(x) = '' THEN NULL ELSE coalesce(
            timezone('UTC', try_cast(trim(x) AS TIMESTAMPTZ)),
            try_strptime(trim(x), {formats})
        ) END)""".replace("{formats}", array(US_FORMATS)),
    """CREATE OR REPLACE TEMP MACRO vigil_bool(x) AS (
        CASE lower(trim(CAST(x AS VARCHAR)))
            WHEN 'true' THEN TRUE WHEN '1' THEN TRUE WHEN 'yes' THEN TRUE
            WHEN 'false' THEN FALSE WHEN '0' THEN FALSE WHEN 'no' THEN FALSE
            ELSE NULL END)""",
    # one parse: TRY_CAST validates and converts; text that is not JSON is kept as a JSON string
    """CREATE OR REPLACE TEMP MACRO vigil_json(x) AS (
        CASE WHEN x IS NULL OR trim(x) = '' THEN NULL
             ELSE coalesce(TRY_CAST(x AS JSON), to_json(x)) END)""",
    # JSON text or NULL: lets sub-field extraction tolerate cells that are not JSON
    """CREATE OR REPLACE TEMP MACRO vigil_jtext(x) AS (CASE WHEN json_valid(x) THEN x END)""",
    # Coordinates: (0, 0) is a placeholder, not a place; a latitude outside +-90 with a longitude inside it
    # is a swapped pair (as in some published portal exports), so swap it back.
    """CREATE OR REPLACE TEMP MACRO vigil_lat(a, b) AS (
        CASE WHEN TRY_CAST(a AS DOUBLE) IS NULL OR TRY_CAST(b AS DOUBLE) IS NULL THEN NULL
             WHEN TRY_CAST(a AS DOUBLE) = 0 AND TRY_CAST(b AS DOUBLE) = 0 THEN NULL
             WHEN abs(TRY_CAST(a AS DOUBLE)) > 90 AND abs(TRY_CAST(b AS DOUBLE)) <= 90 THEN TRY_CAST(b AS DOUBLE)
             WHEN abs(TRY_CAST(a AS DOUBLE)) > 90 OR abs(TRY_CAST(b AS DOUBLE)) > 180 THEN NULL
             ELSE TRY_CAST(a AS DOUBLE) END)""",
    """CREATE OR REPLACE TEMP MACRO vigil_lon(a, b) AS (
        CASE WHEN TRY_CAST(a AS DOUBLE) IS NULL OR TRY_CAST(b AS DOUBLE) IS NULL THEN NULL
             WHEN TRY_CAST(a AS DOUBLE) = 0 AND TRY_CAST(b AS DOUBLE) = 0 THEN NULL
             WHEN abs(TRY_CAST(a AS DOUBLE)) > 90 AND abs(TRY_CAST(b AS DOUBLE)) <= 90 THEN TRY_CAST(a AS DOUBLE)
             WHEN abs(TRY_CAST(a AS DOUBLE)) > 90 OR abs(TRY_CAST(b AS DOUBLE)) > 180 THEN NULL
             ELSE TRY_CAST(b AS DOUBLE) END)""",
    # "[2001:db8::1]:443", "1.2.3.4:5678" -> bare address
    """CREATE OR REPLACE TEMP MACRO vigil_ip(x) AS (
        CASE WHEN x IS NULL OR trim(x) = '' THEN NULL
             WHEN trim(x) LIKE '[%]%' THEN regexp_extract(trim(x), '^\\[([^\\]]+)\\]', 1)
             WHEN regexp_matches(trim(x), '^\\d+\\.\\d+\\.\\d+\\.\\d+:\\d+$') THEN split_part(trim(x), ':', 1)
             ELSE trim(x) END)""",
]


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    for sql in MACROS:
        con.execute(sql)


# --- appended by the Okta / GWS / CloudTrail / Defender adapters -------------------------------------------------
from vigil.sources._countries import country_macro  # noqa: E402  (table lives in its own module)

MACROS += [
    # First element of a JSON array whose ``key`` equals ``val``, as JSON text (Okta target[] by type, Google
    # Workspace parameters[] by name, Defender ActivityObjects by role); NULL when absent or not an array.
    """CREATE OR REPLACE TEMP MACRO vigil_json_find(arr, key, val) AS (
        CASE WHEN json_type(vigil_jtext(arr)) = 'ARRAY' THEN
            CAST(list_filter(CAST(json_extract(CAST(arr AS VARCHAR), '$[*]') AS JSON[]),
                             lambda e: json_extract_string(e, '$.' || key) = val)[1] AS VARCHAR) END)""",
    # Country names (Okta writes "United States") or codes -> ISO 3166-1 alpha-2
    country_macro(),
]
