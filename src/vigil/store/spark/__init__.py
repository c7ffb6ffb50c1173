"""The Spark implementation of :class:`vigil.store.Database`: the stages' DuckDB SQL, run on Apache Spark.

A :class:`SparkStore` is opened on a lake (:mod:`vigil.store.lake`): every table of the manifest becomes
a Spark temporary view over its Parquet files (:mod:`.lakeio`). Stages then run unchanged: each statement
is parsed as DuckDB SQL, rewritten by :mod:`vigil.store.transpile` and run as Spark SQL (:mod:`.store`).
Plain Spark tables are immutable, so the statements that change a table are carried out on DataFrames
with DuckDB's meaning (:mod:`.statements`); ``BEGIN`` / ``COMMIT`` / ``ROLLBACK`` and
:meth:`SparkStore.transaction` keep the previous DataFrames, so a rollback puts them back.

Each new version of a table is materialised (``localCheckpoint``) so plans stay short. Views stay
views (re-created from their Spark text when a table under them changes). :meth:`SparkStore.save`
writes the tables a run changed back to the lake, partitioned as the lake says. The session vigil needs
is :func:`session` (:mod:`.session`); ``store.con`` is :mod:`.connection`.
"""
from __future__ import annotations

from vigil.store.lake import table_files
from vigil.store.spark.connection import SparkConnection
from vigil.store.spark.session import SPARK, SparkSourceDialect, session
from vigil.store.spark.store import SparkStore, open_spark_store

__all__ = ["SPARK", "SparkConnection", "SparkSourceDialect", "SparkStore", "open_spark_store", "session",
           "table_files"]
