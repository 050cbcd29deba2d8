"""Running out of memory or time ends a run with ONE readable line, a non-zero exit, no output.

The end-to-end case starts the real command line with a driver heap far too
small for its input (a JSONL line larger than the whole heap), so the JVM runs
out of memory while Spark reads it and exits (Spark's code 52). The other
shapes (Python worker death, executor loss, the JVM killed, timeouts) are the
exception texts Spark produces, captured from real runs, fed to
jobs.failures.explain without Spark.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs import failures
from jobs.config import ConfigError, load_config
from jobs.spark import SessionFacts, auto_driver_memory, memory_mib

ROOT = Path(__file__).resolve().parent.parent

LOCAL = SessionFacts(master="local[*]", submitted=False, driver_memory="2g", driver_memory_origin="auto",
                     executor_memory=None)
CLUSTER = SessionFacts(master="yarn", submitted=True, driver_memory="4g", driver_memory_origin="spark-submit",
                       executor_memory="8g")
NOTEBOOK = SessionFacts(master="local[4]", submitted=True, driver_memory="2g", driver_memory_origin="running session",
                       executor_memory=None)
CFG = load_config()

# what Spark 4 says, from real runs (jobs/failures.py reads these)
TASK_OOM = ("An error occurred while calling o92.json.\n: org.apache.spark.SparkException: Job aborted due to "
            "stage failure: Task 0 in stage 0.0 failed 1 times, most recent failure: Lost task 0.0 in stage 0.0 "
            "(TID 0) (192.0.2.2 executor driver): java.lang.OutOfMemoryError: Java heap space")
EXECUTOR_OOM = TASK_OOM.replace("executor driver", "executor 3")
WORKER_CRASH = ("An error occurred while calling o102.collectToPython.\n: org.apache.spark.SparkException: Job "
                "aborted due to stage failure: Lost task 0.0 in stage 0.0 (TID 0) (192.0.2.2 executor driver): "
                "org.apache.spark.SparkException: Python worker exited unexpectedly (crashed). Consider setting "
                "'spark.sql.execution.pyspark.udf.faulthandler.enabled'\nCaused by: java.io.EOFException")
WORKER_MEMORY = ("org.apache.spark.api.python.PythonException: [PYTHON_EXCEPTION] An exception was thrown from "
                 "the Python worker: Traceback (most recent call last):\npyarrow.lib.ArrowMemoryError: realloc "
                 "of size 262144 failed")


def _line(exc: BaseException, facts=LOCAL, jvm_exit=None, stage="features") -> str:
    failure = failures.explain(exc, facts, CFG, jvm_exit)
    assert failure is not None, exc
    return failure.line(stage)


@pytest.mark.parametrize("exc, facts, jvm_exit, words", [
    (RuntimeError(TASK_OOM), LOCAL, None,
     ["driver ran out of memory (Java heap", "during stage features", "spark.driver.memory (now 2g)",
      "--driver-memory 4g", "--set spark.driver_memory=4g"]),
    (RuntimeError(TASK_OOM), NOTEBOOK, None, ["start the SparkSession with spark.driver.memory=4g (now 2g)"]),
    (RuntimeError(EXECUTOR_OOM), CLUSTER, None,
     ["executor ran out of memory", "spark.executor.memory (now 8g)", "--executor-memory 16g"]),
    (ConnectionRefusedError(111, "Connection refused"), LOCAL, 52,
     ["driver ran out of memory (Java heap", "spark.driver.memory (now 2g)"]),
    (ConnectionRefusedError(111, "Connection refused"), CLUSTER, None,
     ["connection to the Spark JVM was lost", "spark-submit --driver-memory 8g"]),
    (RuntimeError("py4j.reflection.TypeUtil does not exist in the JVM"), LOCAL, 52,  # the JVM going down
     ["driver ran out of memory (Java heap", "spark.driver.memory (now 2g)"]),
    (RuntimeError("py4j does not exist in the JVM"), LOCAL, 52,  # ... reading a table's schema
     ["driver ran out of memory (Java heap", "spark.driver.memory (now 2g)"]),
    (ConnectionRefusedError(111, "Connection refused"), LOCAL, -9,
     ["JVM was killed (signal 9", "lower spark.driver.memory (now 2g)"]),
    (RuntimeError(WORKER_CRASH), LOCAL, None,
     ["Python worker died", "spark.arrow_batch_rows (now 256)", "selfjoin.max_list_size (now 20000)"]),
    (RuntimeError(WORKER_CRASH), CLUSTER, None, ["Python worker died", "spark.executor.memoryOverhead"]),
    (RuntimeError(WORKER_MEMORY), LOCAL, None, ["Python worker ran out of memory", "spark.arrow_batch_rows"]),
    (MemoryError(), LOCAL, None, ["driver's Python process ran out of memory", "selfjoin.train_sample"]),
    (RuntimeError("Total size of serialized results of 9 tasks (1030.4 MiB) is bigger than "
                  "spark.driver.maxResultSize (1024.0 MiB)"), LOCAL, None,
     ["spark.driver.maxResultSize", "--set spark.conf.spark.driver.maxResultSize=2g"]),
    (RuntimeError("ExecutorLostFailure (executor 7 exited caused by one of the running tasks) Reason: Container "
                  "killed by YARN for exceeding memory limits"), CLUSTER, None,
     ["executor was lost", "spark.executor.memoryOverhead"]),
    (RuntimeError("Could not execute broadcast in 300 secs. java.util.concurrent.TimeoutException"), LOCAL, None,
     ["broadcast ran out of time", "spark.sql.broadcastTimeout"]),
    (RuntimeError("org.apache.spark.rpc.RpcTimeoutException: Futures timed out after [120 seconds]"), LOCAL, None,
     ["ran out of time", "spark.network.timeout (now 120s)"]),
    (OSError("java.io.IOException: No space left on device"), LOCAL, None, ["disk ran out of space", "spark.local.dir"]),
])
def test_each_shape_gets_one_line_naming_the_setting(exc, facts, jvm_exit, words):
    line = _line(exc, facts, jvm_exit)
    assert line.startswith("dedup: ") and "\n" not in line
    for word in words:
        assert word in line, (word, line)


def test_a_jvm_without_py4j_is_a_resource_failure_but_a_missing_user_class_is_not():
    # ingest reports bad tables as input errors unless the failure is a resource one: a JVM going
    # down after an OutOfMemoryError answers that even py4j's names do not exist
    assert failures.is_resource_failure(RuntimeError("py4j does not exist in the JVM"))
    assert failures.is_resource_failure(RuntimeError("py4j.reflection.TypeUtil does not exist in the JVM"))
    assert not failures.is_resource_failure(RuntimeError("org.example.MyReader does not exist in the JVM"))


def test_the_cause_is_found_down_the_chain_and_the_stage_is_the_innermost():
    try:
        with failures.tagged("ingest"):
            try:
                with failures.tagged("candidates"):
                    raise RuntimeError(TASK_OOM)
            except RuntimeError as inner:  # what Py4J does when the JVM is gone on the next call
                raise ConnectionRefusedError(111, "Connection refused") from inner
    except ConnectionRefusedError as exc:
        assert failures.stage_of(exc) == "ingest"  # where the last exception escaped
        assert failures.stage_of(exc.__cause__) == "candidates"
        assert "ran out of memory (Java heap" in _line(exc, LOCAL, None, failures.stage_of(exc))


def test_other_errors_are_not_resource_failures():
    assert failures.explain(ValueError("bad column"), LOCAL, CFG) is None
    assert not failures.is_resource_failure(ValueError("bad column"))


def test_the_suggestion_never_exceeds_the_machine(monkeypatch):
    monkeypatch.setattr(failures, "physical_memory_bytes", lambda: 16 * 2**30)
    big = SessionFacts("local[*]", False, "8g", "auto", None)
    assert "--driver-memory 12g" in _line(RuntimeError(TASK_OOM), big)  # 3/4 of 16g, not 16g
    huge = SessionFacts("local[*]", False, "12g", "spark.driver_memory", None)
    assert "machine with more memory" in _line(RuntimeError(TASK_OOM), huge)


def test_auto_driver_memory_is_half_the_machine_within_bounds():
    assert auto_driver_memory(24 * 2**30) == "12g"
    assert auto_driver_memory(3 * 2**30) == "1536m"
    assert auto_driver_memory(1 * 2**30) == "1024m"     # Spark's default is the floor
    assert auto_driver_memory(512 * 2**30) == "31g"     # compressed pointers end at 32g
    assert memory_mib("512m") == 512 and memory_mib("4g") == 4096 and memory_mib("lots") is None


def test_driver_memory_setting_is_validated():
    assert load_config([], ["spark.driver_memory=6g"]).spark.driver_memory == "6g"
    with pytest.raises(ConfigError, match="spark.driver_memory"):
        load_config([], ["spark.driver_memory=4096"])  # no unit: the JVM would read bytes


def _dedup(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_SUBMIT_ARGS", "SPARK_DRIVER_MEMORY")}
    env["PYSPARK_PYTHON"] = sys.executable
    return subprocess.run([sys.executable, "-m", "jobs.dedup", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.spark
def test_too_small_driver_memory_ends_with_one_line_and_publishes_nothing(tmp_path):
    """512m of heap and a 560 MiB JSONL line: no heap setting that small can hold the line."""
    table = tmp_path / "paths.jsonl"
    with open(table, "w") as f:
        f.write('{"image": "a.jpg"}\n{"image": "')
        chunk = "x" * 2**20
        for _ in range(560):
            f.write(chunk)
        f.write('"}\n')
    out = tmp_path / "out"
    done = _dedup("run", "--input", str(table), "--output", str(out), "--driver-memory", "512m",
                  "--set", "spark.master=local[1]")
    table.unlink()
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1, done.stderr[-3000:]
    assert last.startswith("dedup: the Spark driver ran out of memory (Java heap"), done.stderr[-3000:]
    assert "during stage ingest" in last and "spark.driver.memory (now 512m)" in last
    assert "--driver-memory 1g" in last
    assert "Traceback" not in last and "py4j" not in last.lower()
    assert not out.exists(), "a failed run must not publish"
    assert "full traceback in" in done.stderr  # the details are above the line, and in a file


@pytest.mark.spark
def test_spark_submit_keeps_the_submitters_master_and_memory(tmp_path):
    """Under spark-submit the job reads the submitted settings instead of replacing them."""
    submit = Path(sys.executable).parent / "spark-submit"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    done = subprocess.run([str(submit), "--master", "local[1]", "--driver-memory", "700m",
                           str(ROOT / "jobs" / "dedup.py"), "run", "--input", str(tmp_path / "nothing-here"),
                           "--output", str(tmp_path / "out")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    both = done.stdout + done.stderr
    assert done.returncode == 2, both[-3000:]
    assert "Spark master local[1], driver memory 700m (spark-submit)" in both, both[-3000:]
