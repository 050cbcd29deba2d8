"""Shared fixtures: one pinned local SparkSession, small planted corpora, a tiny CLIP model."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def spark():
    """local[2], one attempt per task, Arrow on, quiet logs: failures surface at once."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("dedup-tests")
               .config("spark.task.maxFailures", "1")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """5 real photographs, pHash-robust edits plus a flip, one exact copy, 4 broken files."""
    from jobs.corpus import build_corpus

    root = tmp_path_factory.mktemp("corpus")
    build_corpus(root, originals=["astronaut", "coffee", "camera", "rocket", "text"],
                 edits=["resize_50", "jpeg_q30", "grayscale", "brighten_30", "png", "flip_h"],
                 exact_copies=1, corrupt=True, seed=0)
    return root


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> Path:
    from tests.models import save_tiny_clip
    return save_tiny_clip(tmp_path_factory.mktemp("tiny-clip"), seed=0)
