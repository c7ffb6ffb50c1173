"""The SparkSession vigil runs on, and the SQL dialect stages write for it."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from vigil.store.dialect import Dialect

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkSourceDialect(Dialect):
    """What a stage writes for the Spark store: DuckDB text (transpiled by the store), without ASOF."""

    name = "spark"
    asof = False
    hunting = False

    def row_key(self) -> str:
        return "monotonically_increasing_id()"


SPARK = SparkSourceDialect()

#: In local mode, adaptive execution runs each shuffle stage of a statement as a job of its own and
#: re-plans between them: 1,946 jobs for the parity tenant's 259 statements, 449 without it (768 s vs 218 s
#: in one run whose load fell meanwhile; docs/benchmarks.md, "Issue 16, third session"). Its gains (skew
#: splitting, partition coalescing) need data spread over many executors; a cluster keeps Spark's default.
_LOCAL = {"spark.sql.adaptive.enabled": "false"}


def session(master: str = "local[2]", app: str = "vigil", conf: dict[str, str] | None = None) -> SparkSession:
    """A SparkSession as vigil needs it: UTC, timestamps without time zone, DuckDB's NULL-on-error
    arithmetic (ANSI off), no console progress bar (it would break ``--json``); on a ``local`` master,
    adaptive execution off (``conf`` overrides any of these)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app)
    settings = {"spark.sql.session.timeZone": "UTC", "spark.sql.timestampType": "TIMESTAMP_NTZ",
                "spark.sql.ansi.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.caseSensitive": "false",
                "spark.sql.jsonGenerator.ignoreNullFields": "false",
                "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
                **(_LOCAL if master.startswith("local") else {}),
                **(conf or {})}
    for k, v in settings.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    # Spark logs every refused statement with its JVM stack; the store's error names it in one line
    spark.sparkContext.setLogLevel("FATAL")
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark
