"""The front check: hunting's second layer (docs/hunting.md, "Hunting is read-only").

Before anything is translated or run, the text a caller wrote is tokenised (comments and string literals
set aside, so a word inside a string never counts and a quoted identifier still does) and refused when it
holds a management command or an SQL escape. The first layer (:mod:`vigil.store.readonly`: one SELECT in a
read-only transaction on an instance without file access) refuses the same things on its own; this one
gives the caller a clear message naming the construct, and holds should the first ever be weakened.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from vigil.errors import RefusedQuery

#: words that only occur in statements that change the store or the session or reach outside it (DuckDB);
#: refused anywhere outside quotes and strings (a column of that name is written quoted)
SQL_COMMANDS = frozenset({
    "alter", "attach", "begin", "call", "checkpoint", "commit", "copy", "create", "delete", "detach", "drop",
    "export", "grant", "import", "insert", "install", "load", "merge", "pragma", "reset", "revoke", "rollback",
    "set", "truncate", "update", "use", "vacuum",
})
#: how a read-only SQL statement may begin
SQL_STARTS = frozenset({"select", "with", "from", "values", "describe", "summarize", "table", "pivot", "unpivot",
                        "("})
#: table and scalar functions that read files, the environment, other databases or run text as SQL
FUNCTIONS = re.compile(
    r"read_\w*|glob|getenv|sniff_csv|parquet_\w+|query|query_table|\w+_scan|\w+_attach|iceberg_\w+|delta_\w+"
    r"|checkpoint|force_checkpoint|duckdb_secrets|which_secret|load_aws_credentials|json_execute_serialized_sql"
    r"|http_\w+|write_\w+|externaldata|external_table|\w+_extensions?|cluster|database",
    re.IGNORECASE)
#: tables that hold credentials (API token hashes): no hunt reads them, whichever layer it goes through
SECRET_TABLES = frozenset({"api_tokens"})

# One alternation per token kind, tried in order: comments, string literals, identifiers, symbols.
_SQL_TOKENS = re.compile(r"""
    (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>[eE]?'(?:[^']|'')*(?:'|\Z)|\$(?P<tag>\w*)\$.*?(?:\$(?P=tag)\$|\Z))
  | "(?P<quoted>(?:[^"]|"")*)(?:"|\Z)
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_KQL_TOKENS = re.compile(r"""
    (?P<comment>//[^\n]*)
  | (?P<string>```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|[hH]?@"(?:[^"]|"")*(?:"|\Z)|[hH]?@'(?:[^']|'')*(?:'|\Z)
             |[hH]?"(?:[^"\\\n]|\\.)*(?:"|\Z)|[hH]?'(?:[^'\\\n]|\\.)*(?:'|\Z))
  | \[\s*(?P<quoted>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\]
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class Token:
    kind: str  # word | quoted (identifier) | symbol
    text: str


def _tokens(pattern: re.Pattern[str], text: str) -> list[Token]:
    out: list[Token] = []
    for m in pattern.finditer(text):
        if m.group("word") is not None:
            out.append(Token("word", m.group("word").lower()))
        elif m.group("quoted") is not None:
            name = m.group("quoted").strip("\"'") if pattern is _KQL_TOKENS else m.group("quoted")
            out.append(Token("quoted", name.replace('""', '"').lower()))
        elif m.group("other") is not None:
            out.append(Token("symbol", m.group("other")))
    return out


def _statements(tokens: list[Token]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    for t in tokens:
        if t == Token("symbol", ";"):
            parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def _check_calls(tokens: list[Token], what: str) -> None:
    for i, t in enumerate(tokens[:-1]):
        if t.kind != "symbol" and tokens[i + 1] == Token("symbol", "(") and FUNCTIONS.fullmatch(t.text):
            raise RefusedQuery(f"{what} may not call {t.text}(): hunting cannot read files, the environment "
                               "or other databases")


def _check_secrets(tokens: list[Token], what: str) -> None:
    for t in tokens:
        if t.kind != "symbol" and t.text in SECRET_TABLES:
            raise RefusedQuery(f"{what} may not read {t.text}: it holds credentials (see `vigil token list`)")


def check_sql(sql: str) -> None:
    """Refuse SQL that is not one read-only query (vigil query, vigil.sql)."""
    statements = _statements(_tokens(_SQL_TOKENS, sql))
    if not statements:
        raise RefusedQuery("empty SQL query")
    if len(statements) > 1:
        raise RefusedQuery(f"read-only SQL is one statement, not {len(statements)} (remove the ';')")
    tokens = statements[0]
    if tokens[0].text not in SQL_STARTS:
        raise RefusedQuery(f"{tokens[0].text.upper()} is not allowed: hunting is read-only; a query starts with "
                           "SELECT, WITH, FROM, VALUES, DESCRIBE or SUMMARIZE")
    _check_calls(tokens, "SQL")
    _check_secrets(tokens, "SQL")
    for t in tokens:
        if t.kind == "word" and t.text in SQL_COMMANDS:
            raise RefusedQuery(f"{t.text.upper()} is not allowed: hunting is read-only "
                               f"(a column named {t.text!r} is written \"{t.text}\")")


def check_kql(kql: str) -> None:
    """Refuse management commands and escapes in KQL (the API, the UI form, vigil hunt, vigil.kql)."""
    for tokens in _statements(_tokens(_KQL_TOKENS, kql)):
        if tokens[0] == Token("symbol", "."):
            words = tokens[1:2]
            while len(tokens) > len(words) + 2 and tokens[len(words) + 1].text == "-":
                words += tokens[len(words) + 1:len(words) + 3]  # .set-or-replace is three words
            name = "".join(t.text for t in words)
            raise RefusedQuery(f"management command .{name} is not allowed: hunting is read-only "
                               "(no .set, .append, .create, .drop, .alter, .attach, .detach, .ingest or .show)")
    _check_calls(_tokens(_KQL_TOKENS, kql), "KQL")
    _check_secrets(_tokens(_KQL_TOKENS, kql), "KQL")
