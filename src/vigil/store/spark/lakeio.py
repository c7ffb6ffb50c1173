"""The Spark store's tables and the lake: each manifest table read as a DataFrame over its Parquet files,
and the tables a run changed written back, partitioned as the lake says (:mod:`vigil.store.lake`)."""
from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.store.lake import NULL_PARTITION, LakeTable, Manifest
from vigil.store.spark.tables import SparkTable
from vigil.store.transpile import spark_type

if TYPE_CHECKING:
    from pyspark.sql import SparkSession



def read(spark: SparkSession, manifest: Manifest, lake: str | Path) -> list[SparkTable]:
    """Every table of the manifest as a DataFrame over its Parquet files (nothing is read yet)."""
    tables = []
    for t in manifest.tables.values():
        schema = ", ".join(f"`{n}` {spark_type(typ)}" for n, typ in t.columns)
        if list(Path(lake, t.name).glob("**/*.parquet")):
            # the manifest's schema: no job to infer it; partition folders are not columns
            df = (spark.read.schema(schema).option("recursiveFileLookup", "true")
                  .option("pathGlobFilter", "*.parquet").parquet(str(Path(lake, t.name))))
        else:
            df = spark.createDataFrame([], schema)
        tables.append(SparkTable(t.name, df, list(t.columns), list(t.primary_key)))
    return tables


def write(tables: Iterable[SparkTable], manifest: Manifest, lake: str | Path) -> Manifest:
    """Write ``tables`` (temporary ones skipped) to the lake and record them in its manifest."""
    out = Path(lake)
    for t in tables:
        if t.temporary:
            continue
        entry = LakeTable(t.name, t.duck_types, t.key)
        cols = {n for n, _ in t.duck_types}
        entry.time_column = next((n for n, typ in t.duck_types if typ.upper() == "TIMESTAMP"), None)
        if "date" in cols:
            entry.time_column = None
        entry.by_tenant = "tenant_id" in cols and "tenant" not in cols and t.df.select("tenant_id").distinct() \
            .limit(2).count() > 1
        entry.rows = t.df.count()
        df = t.df
        if entry.by_tenant:
            df = df.selectExpr("*", f"coalesce(tenant_id, '{NULL_PARTITION}') AS tenant")
        if entry.time_column:
            df = df.selectExpr("*", f"coalesce(CAST(CAST(`{entry.time_column}` AS DATE) AS STRING), "
                                    f"'{NULL_PARTITION}') AS date")
        staging = out / f".{t.name}.writing"
        shutil.rmtree(staging, ignore_errors=True)
        writer = df.write.mode("overwrite").option("compression", "zstd")
        if entry.partition_by:
            writer = writer.partitionBy(*entry.partition_by)
        writer.parquet(str(staging))
        shutil.rmtree(out / t.name, ignore_errors=True)
        staging.rename(out / t.name)
        manifest.tables[t.name] = entry
    manifest.write(out)
    return manifest
