"""Shared helpers for the benchmarks: memory sampling from /proc, a pinned local
SparkSession, Spark stage metrics from the UI's REST API, child processes with a
wall-clock cap, and markdown tables.

No third-party imports beyond what the project already installs (no psutil).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------------------- machine

def machine() -> str:
    """One line: cores, memory, CPU model, date (the benchmark machine is shared: load too)."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PHYS_PAGES") * PAGE / 2**30
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, "
            f"load avg {load:.1f} at start, {today()}")


def today() -> str:
    return _dt.date.today().isoformat()


# ---------------------------------------------------------------------------- memory

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, int, str, int]]:
    """pid -> (ppid, rss bytes, short command, cpu ticks user+system) for every readable process."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            # comm may hold spaces/parens: split after the last ')'
            fields = stat[stat.rindex(")") + 2:].split()
            ppid, rss_pages = int(fields[1]), int(fields[21])
            ticks = int(fields[11]) + int(fields[12])
            cmd = Path(f"/proc/{entry.name}/cmdline").read_bytes()[:300].replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        out[int(entry.name)] = (ppid, rss_pages * PAGE, cmd, ticks)
    return out


def _descendants(table: dict, root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


class MemorySampler:
    """Peak RSS and CPU time of this process and its descendants, sampled every `interval` s.

    Categories: `driver` (this Python process), `jvm` (java children: in local
    mode the Spark driver + executor), `workers` (Python processes under the
    JVM: pyspark.daemon and its UDF workers, i.e. the executor-side Python).
    Reports peak of the sum per category and the peak single worker.
    Sampling can miss spikes shorter than `interval`.

    `cpu_s()`: user + system CPU seconds used by the whole tree while sampling
    (processes that exit lose their last < interval of CPU). On a shared,
    oversubscribed machine CPU seconds measure the work done far more stably
    than wall time, so the benchmarks report ratios on both.
    """

    def __init__(self, interval: float = 0.2, root: int | None = None) -> None:
        self.interval = interval
        self.root = root or os.getpid()
        self.peak = {"driver": 0, "jvm": 0, "workers": 0, "worker_max": 0}
        self._cpu0: dict[int, int] = {}
        self._cpu: dict[int, tuple[str, int]] = {}
        self._started = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        table = _proc_table()
        cur = {"driver": table.get(self.root, (0, 0, "", 0))[1], "jvm": 0, "workers": 0, "worker_max": 0}
        tree = [self.root] + _descendants(table, self.root)
        for pid in tree:
            if pid not in table:
                continue
            _, rss, cmd, ticks = table[pid]
            kind = "driver" if pid == self.root else "jvm" if "java" in cmd.split(" ", 1)[0] else "workers"
            if not self._started:
                self._cpu0[pid] = ticks
            self._cpu[pid] = (kind, ticks)
            if pid == self.root:
                continue
            if kind == "jvm":
                cur["jvm"] += rss
            elif "python" in cmd:
                cur["workers"] += rss
                cur["worker_max"] = max(cur["worker_max"], rss)
        self._started = True
        for key, value in cur.items():
            self.peak[key] = max(self.peak[key], value)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "MemorySampler":
        self.sample()  # CPU baseline of the processes that exist already
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds per category and "total" since __enter__."""
        out = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
        for pid, (kind, ticks) in self._cpu.items():
            out[kind] += (ticks - self._cpu0.get(pid, 0)) / CLK_TCK
        out["total"] = sum(out.values())
        return {k: round(v, 1) for k, v in out.items()}

    def mib(self) -> dict[str, float]:
        return {k: round(v / 2**20, 1) for k, v in self.peak.items()}


def rss_mib(pid: int | None = None) -> float:
    """Current RSS of a process in MiB."""
    for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------------------- spark

def spark_session(app: str, cores: int = 2, driver_memory: str = "4g", conf: dict | None = None):
    """A local[cores] session pinned like tests/conftest.py, plus the UI for stage metrics."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    settings = {
        "spark.driver.memory": driver_memory,
        "spark.sql.shuffle.partitions": str(4 * cores),
        "spark.default.parallelism": str(cores),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "1024",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "true",
        "spark.ui.port": "0",  # any free port: other people run Spark on this machine too
        "spark.ui.showConsoleProgress": "false",
        "spark.task.maxFailures": "1",
    }
    settings.update(conf or {})
    builder = SparkSession.builder.master(f"local[{cores}]").appName(app)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _ui_get(spark, path: str):
    url = spark.sparkContext.uiWebUrl
    app = spark.sparkContext.applicationId
    with urllib.request.urlopen(f"{url}/api/v1/applications/{app}/{path}", timeout=10) as resp:
        return json.load(resp)


def last_stage_id(spark) -> int:
    try:
        return max((s["stageId"] for s in _ui_get(spark, "stages")), default=-1)
    except Exception:  # noqa: BLE001 - metrics are optional
        return -1


def stage_metrics(spark, after: int) -> dict:
    """Completed stages with id > after: totals and the heaviest stages by executor run time.

    Returns {"shuffle_write_mib", "input_mib", "executor_run_s", "stages": [(name, run_s, shuffle_w_mib)]}.
    Executor run time is summed over tasks (2 cores -> up to 2x wall time).
    """
    try:
        stages = [s for s in _ui_get(spark, "stages?status=complete") if s["stageId"] > after]
    except Exception as exc:  # noqa: BLE001
        return {"error": str(exc)}
    by_name: dict[str, list[float]] = {}
    for s in stages:
        fn, _, where = s["name"].partition(" at ")
        name = f"{fn} @{os.path.basename(where)}" if where else fn
        cell = by_name.setdefault(name, [0.0, 0.0, 0])
        cell[0] += s.get("executorRunTime", 0) / 1000
        cell[1] += s.get("shuffleWriteBytes", 0) / 2**20
        cell[2] += 1
    top = sorted(by_name.items(), key=lambda kv: -kv[1][0])[:8]
    return {
        "shuffle_write_mib": round(sum(s.get("shuffleWriteBytes", 0) for s in stages) / 2**20, 1),
        "input_mib": round(sum(s.get("inputBytes", 0) for s in stages) / 2**20, 1),
        "executor_run_s": round(sum(s.get("executorRunTime", 0) for s in stages) / 1000, 1),
        "stages": [(name, round(v[0], 1), round(v[1], 1), v[2]) for name, v in top],
    }


# ---------------------------------------------------------------------------- children

def run_child(argv: list[str], timeout_s: float, log_path: Path) -> tuple[dict | None, float, str]:
    """Run `python argv...` (a child mode of a bench script) with a wall-clock cap.

    The child prints one JSON object as its last stdout line. Returns
    (result or None, wall seconds, status "ok" | "timeout" | "failed rc=N").
    The child's stderr goes to log_path. On timeout the child's process group
    (the child, its JVM and Python workers) is killed.
    """
    start = time.perf_counter()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, stderr=log,
                                cwd=ROOT, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.communicate()
            return None, time.perf_counter() - start, "timeout"
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return None, wall, f"failed rc={proc.returncode} (see {log_path})"
    lines = [ln for ln in out.decode().splitlines() if ln.startswith("{")]
    return (json.loads(lines[-1]) if lines else None), wall, "ok"


# ---------------------------------------------------------------------------- tables

def table(rows: list[dict], columns: list[str]) -> str:
    """Markdown table of rows (missing cells blank; floats to 3 significant digits)."""
    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return str(v)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- synthetic corpora with planted copies

def shuffle_planted(items: list, roles: list[dict], rng) -> tuple[list, list[dict]]:
    """``items`` and their ``roles`` in one random order; a role's ``source`` (the index of the
    item it was made from) follows its item to the new position."""
    import numpy as np

    n = len(items)
    order = rng.permutation(n)
    where = np.empty(n, np.int64)
    where[order] = np.arange(n)
    items = [items[i] for i in order]
    roles = [dict(roles[i]) for i in order]
    for r in roles:
        if "source" in r:
            r["source"] = int(where[r["source"]])
    return items, roles


def planted_pairs(roles: list[dict], names: list[str]) -> list[tuple[str, str, str]]:
    """(original name, copy name, edit) of every planted copy (role ``copy``, its ``source`` and ``edit``)."""
    return [(names[r["source"]], names[i], r["edit"]) for i, r in enumerate(roles) if r["role"] == "copy"]
