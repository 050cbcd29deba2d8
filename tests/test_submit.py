"""The job under spark-submit with executors in separate processes (local-cluster)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.submit


def _submit(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    submit = shutil.which("spark-submit", path=str(Path(sys.executable).parent)) or shutil.which("spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    cmd = [submit, "--master", "local-cluster[2,1,1024]", "--conf", "spark.task.maxFailures=1",
           str(ROOT / "jobs" / "dedup.py"), *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_spark_submit_local_cluster(small_corpus, tmp_path):
    out = tmp_path / "out"
    done = _submit("run", "--input", str(small_corpus), "--output", str(out),
                   "--conf", str(ROOT / "conf" / "local.yaml"))
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    files = [p for p in small_corpus.rglob("*") if p.is_file() and p.suffix != ".csv"]
    assert summary["counts"]["items"] == len(files)
    assert summary["counts"]["drop"] > 10 and summary["counts"]["error"] == 4
    # Spark's PythonRunner merges the driver's stderr into stdout
    assert "[manifest] keep" in done.stdout + done.stderr  # progress in the user's terms


def test_spark_submit_bad_input_exits_non_zero(tmp_path):
    done = _submit("run", "--input", str(tmp_path / "nothing-here"), "--output", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "cannot list input" in done.stdout + done.stderr


def test_console_script_works_without_an_activated_venv(small_corpus, tmp_path):
    """A newcomer runs .venv/bin/dedup with no PYSPARK_PYTHON and a system python3 on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "VIRTUAL_ENV")}
    env["PATH"] = "/usr/bin:/bin"
    done = subprocess.run([sys.executable, "-m", "jobs.dedup", "run", "--input", str(small_corpus / "originals"),
                           "--output", str(tmp_path / "out"), "--set", "spark.master=local[1]"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["counts"]["keep"] == 5
