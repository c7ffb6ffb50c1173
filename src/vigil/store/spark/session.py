"""The SparkSession vigil runs on, and the SQL dialect stages write for it."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
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


#: In local mode the executors' block managers, which hold the table versions the store checkpoints, live
#: in the driver's heap; with pyspark's 1 GB default a 12k-event tenant ran out of heap in detections.
LOCAL_DRIVER_MEMORY = "2g"


def _driver_memory_given(environ: Mapping[str, str]) -> bool:
    """Whether the operator set the driver's heap where Spark reads it (environment, submit arguments,
    spark-defaults.conf): vigil's local default must not override it."""
    if environ.get("SPARK_DRIVER_MEMORY"):
        return True
    submit = environ.get("PYSPARK_SUBMIT_ARGS", "")
    if "--driver-memory" in submit or "spark.driver.memory" in submit:
        return True
    for folder in (environ.get("SPARK_CONF_DIR"), environ.get("SPARK_HOME") and f"{environ['SPARK_HOME']}/conf"):
        defaults = Path(folder, "spark-defaults.conf") if folder else None
        if defaults is None or not defaults.is_file():
            continue
        lines = defaults.read_text(errors="replace").splitlines()
        if any(line.split()[:1] == ["spark.driver.memory"] for line in lines):
            return True
    return False


def session_conf(master: str, conf: dict[str, str] | None = None,
                 environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings :func:`session` builds with (``conf`` overrides any of them)."""
    local = master.startswith("local")
    env = os.environ if environ is None else environ
    return {"spark.sql.session.timeZone": "UTC", "spark.sql.timestampType": "TIMESTAMP_NTZ",
            "spark.sql.ansi.enabled": "false", "spark.ui.showConsoleProgress": "false",
            "spark.sql.caseSensitive": "false",
            "spark.sql.jsonGenerator.ignoreNullFields": "false",
            "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
            **(_LOCAL if local else {}),
            **({"spark.driver.memory": LOCAL_DRIVER_MEMORY} if local and not _driver_memory_given(env) else {}),
            **(conf or {})}


def session(master: str = "local[2]", app: str = "vigil", conf: dict[str, str] | None = None) -> SparkSession:
    """A SparkSession as vigil needs it: UTC, timestamps without time zone, DuckDB's NULL-on-error
    arithmetic (ANSI off), no console progress bar (it would break ``--json``); on a ``local`` master,
    adaptive execution off and a 2 GB driver unless the operator set one (``conf`` overrides any of these)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app)
    settings = session_conf(master, conf)
    for k, v in settings.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    # Spark logs every refused statement with its JVM stack; the store's error names it in one line
    spark.sparkContext.setLogLevel("FATAL")
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark
