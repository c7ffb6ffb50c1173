"""The settings vigil's SparkSession is built with (no JVM needed)."""
from __future__ import annotations

from pathlib import Path

from vigil.store.spark.session import LOCAL_DRIVER_MEMORY, session_conf


def test_a_local_master_gets_a_driver_heap_the_store_fits_in() -> None:
    conf = session_conf("local[2]", environ={})
    assert conf["spark.driver.memory"] == LOCAL_DRIVER_MEMORY
    assert conf["spark.sql.adaptive.enabled"] == "false"


def test_a_cluster_keeps_sparks_defaults() -> None:
    conf = session_conf("spark://head:7077", environ={})
    assert "spark.driver.memory" not in conf and "spark.sql.adaptive.enabled" not in conf


def test_the_operators_driver_memory_wins(tmp_path: Path) -> None:
    assert "spark.driver.memory" not in session_conf("local[2]", environ={"SPARK_DRIVER_MEMORY": "6g"})
    submit = {"PYSPARK_SUBMIT_ARGS": "--driver-memory 8g pyspark-shell"}
    assert "spark.driver.memory" not in session_conf("local[2]", environ=submit)
    (tmp_path / "spark-defaults.conf").write_text("# ours\nspark.driver.memory   12g\n")
    assert "spark.driver.memory" not in session_conf("local[2]", environ={"SPARK_CONF_DIR": str(tmp_path)})
    # a file that sets something else leaves vigil's default in place
    (tmp_path / "spark-defaults.conf").write_text("spark.executor.memory 4g\n")
    assert session_conf("local[2]", environ={"SPARK_CONF_DIR": str(tmp_path)})["spark.driver.memory"] == "2g"
    # what the caller passes overrides everything
    assert session_conf("local[2]", {"spark.driver.memory": "1g"}, environ={})["spark.driver.memory"] == "1g"
