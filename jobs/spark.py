"""SparkSession for the job: local mode by default, the submitter's settings under spark-submit.

Local mode (`dedup run`, `python -m jobs.dedup`): this process starts the JVM,
so the driver's heap is set here, before it starts: `spark.driver_memory`
(default auto: half the machine's memory, see `auto_driver_memory`) unless the
user set `spark.driver.memory` some other way. Under spark-submit the JVM is
already running with the submitter's master, memory and properties file; they
are read from it and never overridden.
"""
from __future__ import annotations

import logging
import os
import re
import shlex
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

from jobs.config import SparkConfig

log = logging.getLogger("dedup")

_PACKAGES = ("jobs", "udfs")
_SHIPPED: set[str] = set()

# Native thread pools of the Python workers (OpenBLAS under numpy, OpenMP under faiss, MKL,
# torch): one thread per task. Spark already runs one task per core, so the libraries'
# default of one thread per core oversubscribes the machine (2 workers x 2 threads on 2
# cores ran the self-join's GEMMs 2x slower, bench/RESULTS.md "cli_scale"). Only set
# where the user did not set spark.executorEnv.<VAR>; the driver's own pools are untouched.
WORKER_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

DRIVER_MEMORY_FRACTION = 0.5      # of physical memory (or the cgroup limit), for the local JVM heap
DRIVER_MEMORY_MIN_MIB = 1024
DRIVER_MEMORY_MAX_MIB = 31 * 1024  # above ~32g the JVM loses compressed pointers


@dataclass(frozen=True)
class SessionFacts:
    """How the session was started: what failure messages quote (jobs.failures)."""

    master: str
    submitted: bool               # under spark-submit (or a JVM this process did not start)
    driver_memory: str            # the heap setting in force, e.g. "11g" (Spark's default: 1g)
    driver_memory_origin: str     # auto | spark.driver_memory | spark.conf | environment | spark-submit | running session
    executor_memory: str | None   # spark.executor.memory when set


_FACTS: SessionFacts | None = None


def session_facts() -> SessionFacts | None:
    """Facts of the last session get_session made in this process (None before)."""
    return _FACTS


def get_session(cfg: SparkConfig) -> SparkSession:
    """Create or reuse the session.

    Under spark-submit the master and resources come from the command line and
    `spark-defaults.conf`; `cfg.master` and our defaults only fill in what was
    not given there.
    """
    global _FACTS
    # Python workers start with $PYSPARK_PYTHON (default: whatever `python3` is on PATH),
    # not with spark.pyspark.python, in local mode; point them at this interpreter so
    # `.venv/bin/dedup` works without an activated virtual environment.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    jvm_running = SparkContext._jvm is not None
    if not jvm_running and os.environ.get("PYSPARK_GATEWAY_PORT"):
        # spark-submit started the JVM and this process; connect first, so that SparkConf()
        # reads the submitted properties instead of coming back empty (which let our
        # defaults, master included, replace the submitter's)
        SparkContext._ensure_initialized()
        jvm_running = True
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
    task_cpus = submitted.get("spark.task.cpus", cfg.conf.get("spark.task.cpus", "1"))
    settings.update({f"spark.executorEnv.{var}": str(task_cpus) for var in WORKER_THREAD_VARS})
    memory, origin = _driver_memory(cfg, submitted, jvm_running)
    if not jvm_running and origin in ("auto", "spark.driver_memory"):
        settings["spark.driver.memory"] = memory  # read by the launcher: sets the JVM's -Xmx
    elif jvm_running and cfg.driver_memory != "auto" and cfg.driver_memory != memory:
        log.warning("spark.driver_memory=%s has no effect: the JVM is already running with %s "
                    "(under spark-submit, pass --driver-memory to spark-submit)", cfg.driver_memory, memory)
    settings.update(cfg.conf)
    for key, value in settings.items():
        if not submitted.contains(key):
            builder = builder.config(key, value)
    _FACTS = SessionFacts(master=submitted.get("spark.master", cfg.master), submitted=jvm_running,
                          driver_memory=memory, driver_memory_origin=origin,
                          executor_memory=submitted.get("spark.executor.memory", None))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("DEDUP_SPARK_LOG_LEVEL", "WARN"))
    conf = spark.sparkContext.getConf()
    _FACTS = SessionFacts(master=spark.sparkContext.master, submitted=jvm_running,
                          driver_memory=memory, driver_memory_origin=origin,
                          executor_memory=conf.get("spark.executor.memory", None))
    log.info("Spark master %s, driver memory %s (%s)", _FACTS.master, memory,
             "auto: half of this machine's memory; --driver-memory to change" if origin == "auto" else origin)
    if cfg.ship_code:
        ship_packages(spark)
    return spark


def jvm_exit_code(wait_s: float = 0) -> int | None:
    """Exit code of the JVM this process started (None while it runs, or under spark-submit).

    After an OutOfMemoryError in a task, Spark exits the JVM with code 52; a
    call can fail on the closed connection before the process is gone, hence
    `wait_s`.
    """
    proc = getattr(SparkContext._gateway, "proc", None)
    if proc is None:
        return None
    try:
        return proc.wait(timeout=wait_s) if wait_s else proc.poll()
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: still running
        return None


def stop_session(wait_s: float = 30) -> None:
    """Stop the session after a failure; a JVM this process started is waited for, then killed.

    The JVM writes to the same stderr as we do; once it has exited, nothing it
    says can come after our last line.
    """
    proc = getattr(SparkContext._gateway, "proc", None)
    active = SparkContext._active_spark_context
    if active is not None and proc is not None and proc.poll() is None:
        try:
            active.stop()
        except Exception:  # noqa: BLE001 - the JVM may be half gone
            pass
    if proc is not None and proc.poll() is None:
        try:
            proc.stdin.close()  # the launcher's signal to exit
            proc.wait(timeout=wait_s)
        except Exception:  # noqa: BLE001
            proc.kill()
            proc.wait(timeout=wait_s)


def _driver_memory(cfg: SparkConfig, submitted: SparkConf, jvm_running: bool) -> tuple[str, str]:
    """(heap setting, where it comes from) for the driver JVM."""
    if jvm_running:  # spark-submit's JVM, or a session this process (a notebook, tests) made before
        where = "spark-submit" if os.environ.get("PYSPARK_GATEWAY_PORT") else "running session"
        return submitted.get("spark.driver.memory", None) or "1g", where
    if "spark.driver.memory" in cfg.conf:
        return cfg.conf["spark.driver.memory"], "spark.conf"
    if cfg.driver_memory != "auto":
        return cfg.driver_memory, "spark.driver_memory"
    from_env = _driver_memory_from_environment()
    if from_env:
        return from_env, "environment"
    return auto_driver_memory(), "auto"


def _driver_memory_from_environment() -> str | None:
    """--driver-memory in PYSPARK_SUBMIT_ARGS, or SPARK_DRIVER_MEMORY: the user's choice, kept."""
    args = shlex.split(os.environ.get("PYSPARK_SUBMIT_ARGS", ""))
    for i, arg in enumerate(args):
        if arg == "--driver-memory" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("spark.driver.memory="):
            return arg.split("=", 1)[1]
    return os.environ.get("SPARK_DRIVER_MEMORY") or None


def physical_memory_bytes() -> int:
    """The machine's memory, or the container's limit when that is lower (cgroup v2 or v1)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(path).read_text().strip()
        except OSError:
            continue
        if raw.isdigit():
            total = min(total, int(raw))
    return total


def auto_driver_memory(total_bytes: int | None = None) -> str:
    """DRIVER_MEMORY_FRACTION of the machine's memory as a JVM size, within [1g, 31g].

    In local mode the driver JVM is also the executor: it reads the input,
    shuffles and caches. The other half is left to the Python workers, this
    Python process and the OS. Whole GiB from 4g up, else MiB.
    """
    total = physical_memory_bytes() if total_bytes is None else total_bytes
    mib = int(total * DRIVER_MEMORY_FRACTION) // 2**20
    mib = max(DRIVER_MEMORY_MIN_MIB, min(DRIVER_MEMORY_MAX_MIB, mib))
    return f"{mib // 1024}g" if mib >= 4096 else f"{mib}m"


def memory_mib(value: str) -> int | None:
    """A JVM size string ("512m", "4g", "1t", "2048k") in MiB; None if not one."""
    m = re.fullmatch(r"(\d+)([kmgt]?)b?", value.strip().lower())
    if not m:
        return None
    scale = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024 ** 2}[m.group(2)]
    return int(int(m.group(1)) * scale)


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


@contextmanager
def arrow_batch_rows(spark: SparkSession, rows: int) -> Iterator[None]:
    """spark.sql.execution.arrow.maxRecordsPerBatch at least `rows` for the eager work inside, then as it was."""
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key, None)
    if before is not None and int(before) >= rows:
        yield
        return
    spark.conf.set(key, str(rows))
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)
