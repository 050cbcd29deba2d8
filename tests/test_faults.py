"""Faults: a run killed in the middle never leaves a half-written output behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from jobs.dedup import main
from tests.helpers import read_run

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.spark


def _start(corpus: Path, out: Path, run_id: str) -> subprocess.Popen:
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    return subprocess.Popen([sys.executable, "-m", "jobs.dedup", "run", "--input", str(corpus),
                             "--output", str(out), "--run-id", run_id, "--set", "spark.master=local[1]"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait_for_stage(proc: subprocess.Popen, marker: str, limit: float = 240) -> str:
    seen, start = [], time.time()
    while time.time() - start < limit:
        line = proc.stdout.readline().decode(errors="replace")
        seen.append(line)
        if marker in line:
            return "".join(seen)
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"never saw {marker!r}:\n{''.join(seen)[-2000:]}")


@pytest.mark.parametrize("marker", ["[features] started", "[manifest] started"])
def test_killed_run_publishes_nothing_and_a_rerun_is_complete(spark, small_corpus, tmp_path, marker):
    out = tmp_path / "out"
    proc = _start(small_corpus, out, "killed")
    try:
        _wait_for_stage(proc, marker)
        time.sleep(1.0)  # let it write part of that stage
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert not out.exists(), "a killed run must not publish"
    assert main(["run", "--input", str(small_corpus), "--output", str(out), "--run-id", "fixed"]) == 0
    reference = tmp_path / "reference"
    assert main(["run", "--input", str(small_corpus), "--output", str(reference), "--run-id", "fixed"]) == 0
    for got, want in zip(read_run(out)[:3], read_run(reference)[:3]):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    # the killed run's staging folder is left for inspection; it is never mistaken for output
    assert [p.name for p in tmp_path.glob("out.staging-*")] == ["out.staging-killed"]


def test_task_failing_once_is_retried_with_identical_output(small_corpus, tmp_path):
    """Spark retries the failed task (local[1,2]: two attempts); the output equals a clean run."""
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "DEDUP_FAIL_ONCE_DIR": str(markers)}
    out = tmp_path / "retried"
    done = subprocess.run([sys.executable, "-m", "jobs.dedup", "run", "--input", str(small_corpus),
                           "--output", str(out), "--run-id", "fixed", "--set", "spark.master=local[1,2]"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (markers / "features.failed").exists(), "the fault was never injected"
    assert "injected failure" in done.stderr
    clean = tmp_path / "clean"
    env.pop("DEDUP_FAIL_ONCE_DIR")
    done = subprocess.run([sys.executable, "-m", "jobs.dedup", "run", "--input", str(small_corpus),
                           "--output", str(clean), "--run-id", "fixed", "--set", "spark.master=local[1]"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for got, want in zip(read_run(out)[:3], read_run(clean)[:3]):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
