"""Between DuckDB, Spark and Arrow: column types, and Spark's errors as one line."""
from __future__ import annotations

import re

import pyarrow as pa
from sqlglot import exp

#: Spark types back to the DuckDB types a lake manifest records (for tables a stage made with CTAS)
DUCK_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT",
              "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN", "date": "DATE",
              "timestamp_ntz": "TIMESTAMP", "timestamp": "TIMESTAMP WITH TIME ZONE", "binary": "BLOB"}


def duck_sql(kind: exp.Expr) -> str:
    """A column definition's type as DuckDB writes it."""
    text = kind.sql("duckdb")
    return "TIMESTAMP" if text.upper() in ("TIMESTAMP", "TIMESTAMPNTZ") else text


def duck_type(spark_simple: str) -> str:
    """A Spark type (``simpleString``) as the DuckDB type a lake manifest records."""
    if spark_simple.startswith("array<"):
        return duck_type(spark_simple[6:-1]) + "[]"
    if spark_simple.startswith("decimal"):
        return spark_simple.upper()
    return DUCK_TYPES.get(spark_simple, "VARCHAR")


def arrow_spark(t: pa.DataType) -> str:
    """An Arrow type as Spark DDL (for an empty Arrow table, which Spark cannot infer a schema from)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "STRING"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP_NTZ" if t.tz is None else "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"ARRAY<{arrow_spark(t.value_type)}>"
    names = {pa.int64(): "BIGINT", pa.int32(): "INT", pa.int16(): "SMALLINT", pa.int8(): "TINYINT",
             pa.float64(): "DOUBLE", pa.float32(): "FLOAT", pa.bool_(): "BOOLEAN", pa.date32(): "DATE",
             pa.binary(): "BINARY"}
    return names.get(t, "STRING")


def first_line(exc: BaseException) -> str:
    """Spark's reason without the JVM stack."""
    text = str(exc).strip()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("\tat ", "An error occurred"))]
    return (lines[0] if lines else type(exc).__name__)[:300]


def mentions(text: str, name: str) -> bool:
    """Whether SQL ``text`` names ``name`` as a word (an over-approximation of reading it: never a miss)."""
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", text, re.IGNORECASE) is not None
