"""A failed run -> one readable line: what ran out, during which stage, which setting to change.

Spark reports running out of memory or time in many shapes: a Py4JJavaError
carrying java.lang.OutOfMemoryError, a Python worker that "exited
unexpectedly", an executor lost, a broadcast that timed out, or, in local
mode, the JVM itself gone (Spark exits with code 52 after an OutOfMemoryError
in a task) so that the next call fails with ConnectionRefusedError. `explain`
reads the exception chain (and the exit code of a JVM this process started)
and returns a Failure; jobs.dedup prints its line last, after the details.

Stages are named by `tag`: jobs.pipeline tags an exception with the stage it
escaped from.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from jobs.config import JobConfig
from jobs.spark import SessionFacts, memory_mib, physical_memory_bytes

SPARK_OOM_EXIT = 52          # SparkExitCode.OOM: an executor (in local mode: the JVM) after OutOfMemoryError
STAGE_ATTRIBUTE = "dedup_stage"


@dataclass(frozen=True)
class Failure:
    what: str      # "the Spark driver ran out of memory (Java heap)"
    advice: str    # "raise spark.driver.memory (now 2g): --driver-memory 4g or --set spark.driver_memory=4g"

    def line(self, stage: str | None) -> str:
        where = f" during stage {stage}" if stage else ""
        return f"dedup: {self.what}{where}; {self.advice}"


def is_resource_failure(exc: BaseException) -> bool:
    """Out of memory or time, or the JVM gone: never to be reported as bad input."""
    return explain(exc, None, None) is not None


def tag(exc: BaseException, stage: str) -> None:
    """Remember the innermost stage an exception escaped from."""
    if getattr(exc, STAGE_ATTRIBUTE, None) is None:
        try:
            setattr(exc, STAGE_ATTRIBUTE, stage)
        except (AttributeError, TypeError):  # exceptions with __slots__
            pass


@contextmanager
def tagged(stage: str) -> Iterator[None]:
    """Tag whatever escapes the block with `stage` (unless an inner block tagged it first)."""
    try:
        yield
    except BaseException as exc:
        tag(exc, stage)
        raise


def stage_of(exc: BaseException) -> str | None:
    for e in _chain(exc):
        found = getattr(e, STAGE_ATTRIBUTE, None)
        if found:
            return found
    return None


def messages(exc: BaseException) -> list[str]:
    """Type and message of every exception in the chain, read once.

    A Py4JJavaError asks the JVM for its message; after an OutOfMemoryError in
    a task the JVM exits moments later, so read this first thing.
    """
    return list(_texts(exc))


def jvm_exiting(exc: BaseException, texts: list[str]) -> bool:
    """Whether the JVM is gone or about to go (Spark exits it after an OOM in a task)."""
    unreadable = "Py4JJavaError" in texts  # its message could not be read: the JVM did not answer
    return unreadable or jvm_unreachable(exc) or _heap_oom("\n".join(texts))


def explain(exc: BaseException, facts: SessionFacts | None, cfg: JobConfig | None,
            jvm_exit: int | None = None, texts: list[str] | None = None) -> Failure | None:
    """The resource that ran out, or None when `exc` is some other error.

    `jvm_exit`: exit code of the JVM this process started (None while it runs
    or when spark-submit started it). `texts`: `messages(exc)` read earlier.
    """
    text = "\n".join(messages(exc) if texts is None else texts)
    local = facts is None or facts.master.startswith("local[") or facts.master == "local"
    gone = jvm_exit is not None or jvm_unreachable(exc)
    if "System memory" in text and "must be at least" in text:
        return Failure("the Spark driver's memory is below Spark's minimum of 450 MiB",
                       _raise_driver(facts, factor=2, at_least_mib=1024))
    if "Could not reserve enough space" in text or "Invalid maximum heap size" in text:
        return Failure("the JVM could not reserve the heap asked for", _lower_driver(facts))
    if "JAVA_GATEWAY_EXITED" in text or "Java gateway process exited" in text:
        return Failure("the Spark JVM did not start (its own error is above)",
                       f"check spark.driver.memory (now {_now(facts)}) fits this machine, and that Java 17+ "
                       f"is installed")
    if gone:
        return _jvm_gone(jvm_exit, text, facts, cfg, local)
    if _heap_oom(text):
        if not local and _in_task(text):
            return Failure("a Spark executor ran out of memory (Java heap)", _raise_executor(facts))
        return Failure(_driver_oom_what(local), _raise_driver(facts))
    if "spark.driver.maxResultSize" in text:
        now = _conf(cfg, "spark.driver.maxResultSize", "1g")
        return Failure("results collected to the driver exceeded spark.driver.maxResultSize",
                       f"raise it (now {now}) with --set spark.conf.spark.driver.maxResultSize={_double(now)}")
    if isinstance(exc, MemoryError) or _python_memory_error(text):
        return _python_oom(text, facts, cfg, local, in_driver=isinstance(exc, MemoryError))
    if _worker_died(text):
        return _worker_death(text, facts, cfg, local)
    if "ExecutorLostFailure" in text or "exceeding memory limits" in text:
        return Failure("a Spark executor was lost (most often killed for using more memory than its "
                       "container allows)", _raise_overhead(facts, cfg))
    if "No space left on device" in text:
        return Failure("a disk ran out of space (Spark's shuffle and spill files go to spark.local.dir, "
                       "default /tmp; the output is written beside --output)",
                       "point spark.local.dir at a larger disk with --set spark.conf.spark.local.dir=DIR, "
                       "or free space")
    timeout = _timeout(text, cfg)
    if timeout:
        return timeout
    return None


# ---------------------------------------------------------------------------- the JVM gone

def _jvm_gone(code: int | None, text: str, facts: SessionFacts | None, cfg: JobConfig | None,
              local: bool) -> Failure:
    if code == SPARK_OOM_EXIT or (code is None and _heap_oom(text)):
        return Failure(_driver_oom_what(local), _raise_driver(facts))
    if code is not None and code in (-9, 137):
        return Failure("the Spark JVM was killed (signal 9: most often the machine ran out of memory, "
                       "heap plus Python workers)",
                       _lower_driver(facts) + f", or lower {_python_knobs(cfg)}")
    if code is not None:
        return Failure(f"the Spark JVM exited with code {code} (its log above says why; a crash leaves "
                       "an hs_err_pid*.log in the working directory)",
                       _raise_driver(facts) + " if the log shows OutOfMemoryError")
    return Failure("the connection to the Spark JVM was lost (it exited: most often out of memory; "
                   "the first error above says why)", _raise_driver(facts))


def _driver_oom_what(local: bool) -> str:
    if local:
        return "the Spark driver ran out of memory (Java heap; in local mode it also runs the tasks)"
    return "the Spark driver ran out of memory (Java heap)"


# ---------------------------------------------------------------------------- Python workers

def _python_oom(text: str, facts: SessionFacts | None, cfg: JobConfig | None, local: bool,
                in_driver: bool) -> Failure:
    if in_driver:
        sample = cfg.selfjoin.train_sample if cfg else 200000
        return Failure("the driver's Python process ran out of memory",
                       f"run on a machine with more memory, or lower selfjoin.train_sample (now {sample}: "
                       f"k-means runs on the driver) with --set selfjoin.train_sample={sample // 2}")
    limit = _conf(cfg, "spark.executor.pyspark.memory", None)
    if limit:
        return Failure("a Python worker ran out of memory (MemoryError)",
                       f"raise spark.executor.pyspark.memory (now {limit}) with "
                       f"--set spark.conf.spark.executor.pyspark.memory={_double(limit)}, or lower {_python_knobs(cfg)}")
    return Failure("a Python worker ran out of memory (MemoryError)", f"lower {_python_knobs(cfg)}")


def _worker_death(text: str, facts: SessionFacts | None, cfg: JobConfig | None, local: bool) -> Failure:
    signal = _signal(text)
    how = f"killed by signal {signal}" if signal else "killed or crashed"
    what = f"a Python worker died ({how}: most often the machine ran out of memory)"
    if local:
        return Failure(what, f"lower {_python_knobs(cfg)}, or lower spark.driver.memory "
                             f"(now {_now(facts)}) to leave the Python workers more of the machine")
    return Failure(what, _raise_overhead(facts, cfg))


def _python_knobs(cfg: JobConfig | None) -> str:
    rows = cfg.spark.arrow_batch_rows if cfg else 256
    size = cfg.selfjoin.max_list_size if cfg else 20000
    return (f"spark.arrow_batch_rows (now {rows}) or selfjoin.max_list_size (now {size}) "
            f"with --set spark.arrow_batch_rows={max(1, rows // 2)}")


# ---------------------------------------------------------------------------- time

def _timeout(text: str, cfg: JobConfig | None) -> Failure | None:
    if "broadcast" in text.lower() and ("TimeoutException" in text or "timed out" in text.lower()):
        now = _conf(cfg, "spark.sql.broadcastTimeout", "300s")
        return Failure("a broadcast ran out of time (spark.sql.broadcastTimeout)",
                       f"raise spark.sql.broadcastTimeout (now {now}) with "
                       f"--set spark.conf.spark.sql.broadcastTimeout=1200")
    if re.search(r"heartbeat timed out|Futures timed out|TimeoutException|RpcTimeoutException", text):
        now = _conf(cfg, "spark.network.timeout", "120s")
        return Failure("a Spark call ran out of time (an executor or the driver stopped answering, "
                       "often during long garbage collection: memory pressure)",
                       f"raise spark.network.timeout (now {now}) with --set spark.conf.spark.network.timeout=600s, "
                       f"or give the JVM more memory (spark.driver.memory / spark.executor.memory)")
    return None


# ---------------------------------------------------------------------------- advice

def _now(facts: SessionFacts | None) -> str:
    return facts.driver_memory if facts else "1g, Spark's default"


def _raise_driver(facts: SessionFacts | None, factor: int = 2, at_least_mib: int = 0) -> str:
    now = facts.driver_memory if facts else "1g"
    shown = now if facts else "1g, Spark's default"
    more = max((memory_mib(now) or 1024) * factor, at_least_mib)
    if facts and facts.driver_memory_origin == "running session":
        return f"start the SparkSession with spark.driver.memory={_size(more)} (now {shown})"
    if facts and facts.submitted:
        return f"raise spark.driver.memory (now {shown}) with spark-submit --driver-memory {_size(more)}"
    most = int(physical_memory_bytes() * 0.75) // 2**30 * 1024  # leave room for Python and the OS
    if (memory_mib(now) or 0) >= most:
        return (f"spark.driver.memory (now {shown}) already takes 3/4 of this machine's memory: "
                f"run on a machine with more memory, or on a cluster with spark-submit")
    more = min(more, most)
    return (f"raise spark.driver.memory (now {shown}) with --driver-memory {_size(more)} "
            f"or --set spark.driver_memory={_size(more)}")


def _lower_driver(facts: SessionFacts | None) -> str:
    now = _now(facts)
    if facts and facts.submitted:
        return f"lower spark.driver.memory (now {now}) with spark-submit --driver-memory"
    return f"lower spark.driver.memory (now {now}) with --driver-memory or --set spark.driver_memory=..."


def _raise_executor(facts: SessionFacts | None) -> str:
    now = (facts.executor_memory if facts else None) or "1g"
    return f"raise spark.executor.memory (now {now}) with spark-submit --executor-memory {_double(now)}"


def _raise_overhead(facts: SessionFacts | None, cfg: JobConfig | None) -> str:
    now = _conf(cfg, "spark.executor.memoryOverhead", None) or "10% of spark.executor.memory, at least 384m"
    return (f"raise spark.executor.memoryOverhead (now {now}; the Python workers live outside the Java heap) "
            f"with spark-submit --conf spark.executor.memoryOverhead=..., or lower {_python_knobs(cfg)}")


def _double(value: str) -> str:
    mib = memory_mib(value)
    return "..." if mib is None else _size(2 * mib)


def _size(mib: int) -> str:
    return f"{mib // 1024}g" if mib % 1024 == 0 else f"{mib}m"


def _conf(cfg: JobConfig | None, key: str, default: str | None) -> str | None:
    return (cfg.spark.conf.get(key) if cfg else None) or default


# ---------------------------------------------------------------------------- reading the chain

def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _texts(exc: BaseException) -> Iterator[str]:
    """Every message in the chain; a Py4JJavaError's Java side when the JVM still answers."""
    for e in _chain(exc):
        try:
            yield f"{type(e).__name__}: {e}"
        except Exception:  # noqa: BLE001 - Py4JJavaError.__str__ calls the (dead) JVM
            yield type(e).__name__
        for attr in ("errmsg", "desc", "stackTrace"):
            value = getattr(e, attr, None)
            if isinstance(value, str):
                yield value


def jvm_unreachable(exc: BaseException) -> bool:
    """True when some call in the chain could not reach the JVM (it exited or is exiting)."""
    for e in _chain(exc):
        name = type(e).__name__
        if name in ("ConnectionRefusedError", "Py4JNetworkError", "BrokenPipeError", "ConnectionResetError"):
            return True
        try:
            message = str(e)
        except Exception:  # noqa: BLE001
            continue
        if "Answer from Java side is empty" in message or "Error while sending or receiving" in message:
            return True
        # py4j's own names missing ("py4j.reflection.TypeUtil", or "py4j" itself): the gateway answered
        # from a JVM that is shutting down (seen when pyspark converts the error of a task that ran the
        # driver out of memory, e.g. while inferring a JSON table's schema)
        if re.search(r"\bpy4j(\.[\w.$]+)? does not exist in the JVM", message):
            return True
    return False


def _heap_oom(text: str) -> bool:
    return bool(re.search(r"OutOfMemoryError|Java heap space|GC overhead limit exceeded", text))


def _in_task(text: str) -> bool:
    return bool(re.search(r"Lost task|in stage \d+\.\d+ failed|executor \d+", text))


def _python_memory_error(text: str) -> bool:
    return "PythonException" in text and "MemoryError" in text


def _worker_died(text: str) -> bool:
    return bool(re.search(r"Python worker exited unexpectedly|worker crashed|Python worker .*(killed|crashed)"
                          r"|PYTHON_WORKER_EXITED|Worker exited unexpectedly", text, re.IGNORECASE))


def _signal(text: str) -> int | None:
    m = re.search(r"signal[: ]+(\d+)|exit code -(\d+)", text, re.IGNORECASE)
    return int(m.group(1) or m.group(2)) if m else None


# ---------------------------------------------------------------------------- details for the log

def summary(texts: list[str], max_lines: int = 12) -> list[str]:
    """A few lines from `messages(exc)`: first lines, and the Java side's exception and causes."""
    lines: list[str] = []
    for text in texts:
        rows = [r.strip() for r in text.splitlines() if r.strip() and not r.lstrip().startswith("at ")]
        if rows:
            lines.append(rows[0][:300])
        lines.extend(r[:300] for r in rows[1:] if r.startswith(("Caused by:", ": org.", ": java.")))
    return list(dict.fromkeys(lines))[:max_lines]


def write_details(exc: BaseException) -> str:
    """The full traceback (Python and, when readable, Java) in a file under the temp folder."""
    path = os.path.join(tempfile.gettempdir(), f"dedup-failure-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log")
    try:
        text = "".join(traceback.format_exception(exc))
    except Exception:  # noqa: BLE001 - a Py4J __str__ may fail while formatting
        text = f"{type(exc).__name__} (traceback not readable)\n"
    with open(path, "w") as out:
        out.write(text)
    return path
