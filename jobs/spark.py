"""SparkSession for the job: local mode by default, the submitter's settings under spark-submit."""
from __future__ import annotations

import logging
import os
import sys
import tempfile
import zipfile
from pathlib import Path

from pyspark import SparkConf
from pyspark.sql import SparkSession

from jobs.config import SparkConfig

log = logging.getLogger("dedup")

_PACKAGES = ("jobs", "udfs")
_SHIPPED: set[str] = set()


def get_session(cfg: SparkConfig) -> SparkSession:
    """Create or reuse the session.

    Under spark-submit the master and resources come from the command line and
    `spark-defaults.conf`; `cfg.master` only applies when none was given.
    """
    # Python workers start with $PYSPARK_PYTHON (default: whatever `python3` is on PATH),
    # not with spark.pyspark.python, in local mode; point them at this interpreter so
    # `.venv/bin/dedup` works without an activated virtual environment.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    submitted = SparkConf()
    builder = SparkSession.builder.appName(cfg.app_name)
    if not submitted.contains("spark.master"):
        builder = builder.master(cfg.master)
    settings = {
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(cfg.arrow_batch_rows),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
        "spark.pyspark.python": os.environ.get("PYSPARK_PYTHON", sys.executable),
    }
    settings.update(cfg.conf)
    for key, value in settings.items():
        if not submitted.contains(key):
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("DEDUP_SPARK_LOG_LEVEL", "WARN"))
    if cfg.ship_code:
        ship_packages(spark)
    return spark


def ship_packages(spark: SparkSession) -> None:
    """Zip this installation's `jobs` and `udfs` packages and add them to the executors.

    On a cluster whose executors do not have the package installed, this is what
    makes `import udfs...` work inside the pandas UDFs.
    """
    key = spark.sparkContext.applicationId
    if key in _SHIPPED:  # once per application: Spark refuses a second file of the same name
        return
    _SHIPPED.add(key)
    root = Path(__file__).resolve().parent.parent
    target = Path(tempfile.mkdtemp(prefix="dedup-code-")) / "dedup_code.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for package in _PACKAGES:
            for path in sorted((root / package).rglob("*.py")):
                zf.write(path, path.relative_to(root).as_posix())
    spark.sparkContext.addPyFile(str(target))
    log.debug("shipped %s to executors", target)
