"""The front check alone: what it refuses, what it lets through, and that the message names the construct."""
from __future__ import annotations

import pytest

from vigil.errors import RefusedQuery
from vigil.hunt.guard import check_kql, check_sql


@pytest.mark.parametrize(("kql", "named"), [
    (".set-or-replace incidents <| incidents | where 1 == 0", ".set-or-replace"),
    (".set-or-append api_tokens <| datatable(a:string)['x']", ".set-or-append"),
    (".set incidents <| incidents", ".set"),
    (".append incidents <| incidents", ".append"),
    ('.create database x persist (@"/tmp/x")', ".create"),
    (".create-or-alter function f() { 1 }", ".create-or-alter"),
    (".drop table incidents", ".drop"),
    (".alter table incidents (a:string)", ".alter"),
    ('.attach database o from @"/etc/shadow"', ".attach"),
    (".detach database main", ".detach"),
    ('.ingest into table incidents (@"/etc/passwd")', ".ingest"),
    (".show databases", ".show"),
    (".show tables", ".show"),
    ("// a comment first\n  .set-or-replace t <| t", ".set-or-replace"),
    ("let x = 1;\n.drop table incidents", ".drop"),
    ('print x = read_text("/etc/passwd")', "read_text()"),
    ('print x = ["read_text"]("/etc/passwd")', "read_text()"),
    ("SigninLogs | extend e = getenv('HOME')", "getenv()"),
    ('externaldata (a:string) [@"/etc/passwd"]', "externaldata()"),
    ('database("other").api_tokens', "database()"),
    ('cluster("c").database("d").T', "cluster()"),
])
def test_kql_refusals(kql: str, named: str) -> None:
    with pytest.raises(RefusedQuery, match="read-only|cannot read") as refused:
        check_kql(kql)
    assert named in str(refused.value)


@pytest.mark.parametrize("kql", [
    "SigninLogs | where UserPrincipalName == '.set-or-replace' | take 1",
    'SigninLogs | where Location == ".attach read_text(x)"',
    "SigninLogs // .drop table incidents\n| take 1",
    "SigninLogs\n| where ResultType == 0\n| summarize count() by Location",
    "let t = SigninLogs | take 5;\nt | project d = dynamic({'a': 1}) | extend b = d.a",
    "print s = @'C:\\read_text(x)'",
    "print s = ```\n.set-or-replace x <| y\n```",
])
def test_kql_that_only_mentions_them_in_strings_or_comments_passes(kql: str) -> None:
    check_kql(kql)


@pytest.mark.parametrize(("sql", "named"), [
    ("COPY incidents TO '/tmp/x.csv'", "COPY"),
    ("ATTACH '/tmp/o.duckdb' AS o", "ATTACH"),
    ("DETACH o", "DETACH"),
    ("INSTALL httpfs", "INSTALL"),
    ("LOAD httpfs", "LOAD"),
    ("EXPORT DATABASE '/tmp/d'", "EXPORT"),
    ("IMPORT DATABASE '/tmp/d'", "IMPORT"),
    ("PRAGMA version", "PRAGMA"),
    ("SET threads = 1", "SET"),
    ("RESET threads", "RESET"),
    ("CALL checkpoint()", "CALL"),
    ("CHECKPOINT", "CHECKPOINT"),
    ("CREATE TABLE x AS SELECT 1", "CREATE"),
    ("DROP TABLE incidents", "DROP"),
    ("ALTER TABLE incidents ADD COLUMN x INT", "ALTER"),
    ("INSERT INTO api_tokens VALUES (1)", "INSERT"),
    ("UPDATE api_tokens SET role = 'admin'", "UPDATE"),
    ("DELETE FROM incidents", "DELETE"),
    ("  -- comment\n  delete from incidents", "DELETE"),
    ("/* x */ COPY incidents TO 'y'", "COPY"),
    ("SELECT 1; DELETE FROM incidents", "one statement"),
    ("WITH d AS (DELETE FROM incidents RETURNING *) SELECT * FROM d", "DELETE"),
    ("SELECT * FROM read_text('/etc/passwd')", "read_text()"),
    ("SELECT * FROM READ_CSV_AUTO('/etc/passwd')", "read_csv_auto()"),
    ('SELECT * FROM "read_text"(\'/etc/passwd\')', "read_text()"),
    ("SELECT * FROM glob('/etc/*')", "glob()"),
    ("SELECT getenv('HOME')", "getenv()"),
    ("SELECT * FROM sniff_csv('/etc/passwd')", "sniff_csv()"),
    ("SELECT * FROM parquet_metadata('x.parquet')", "parquet_metadata()"),
    ("SELECT * FROM query_table('api_tokens')", "query_table()"),
    ("SELECT * FROM query('SELECT 1')", "query()"),
    ("SELECT * FROM sqlite_scan('x.db', 't')", "sqlite_scan()"),
    ("SELECT * FROM checkpoint()", "checkpoint()"),
    ("SELECT * FROM duckdb_secrets()", "duckdb_secrets()"),
    ("", "empty"),
])
def test_sql_refusals(sql: str, named: str) -> None:
    with pytest.raises(RefusedQuery) as refused:
        check_sql(sql)
    assert named in str(refused.value)


@pytest.mark.parametrize("sql", [
    "SELECT count(*) FROM incidents",
    "select replace(title, 'a', 'b') AS t FROM incidents -- then COPY it",
    "SELECT 'COPY incidents TO x; DELETE' AS s",
    "SELECT $$ATTACH$$ AS s",
    'SELECT "set", "load" FROM t',
    "WITH x AS (SELECT 1 AS a) SELECT * FROM x;",
    "FROM incidents LIMIT 1",
    "DESCRIBE incidents",
    "SUMMARIZE incidents",
    "VALUES (1, 2)",
    "(SELECT 1) UNION ALL (SELECT 2)",
    "SELECT created_at, last_update, deleted FROM t",
])
def test_read_only_sql_passes(sql: str) -> None:
    check_sql(sql)


def test_a_column_named_like_a_command_is_written_quoted() -> None:
    with pytest.raises(RefusedQuery, match='written "set"'):
        check_sql("SELECT set FROM t")


@pytest.mark.parametrize(("check", "text"), [
    (check_kql, "api_tokens | project token_hash"),
    (check_kql, "union incidents, ['api_tokens']"),
    (check_sql, "SELECT * FROM api_tokens"),
    (check_sql, 'SELECT token_hash FROM main."API_TOKENS"'),
])
def test_credential_tables_are_not_hunted(check, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RefusedQuery, match="api_tokens: it holds credentials"):
        check(text)


def test_the_word_only_in_a_string_passes() -> None:
    check_sql("SELECT 'api_tokens' AS s")
    check_kql('print s = "api_tokens"')
