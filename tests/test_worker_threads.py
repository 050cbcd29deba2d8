"""Python workers of a `dedup` session run native thread pools with one thread per task (issue 11)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import os
from jobs.config import SparkConfig
from jobs.spark import WORKER_THREAD_VARS, get_session
spark = get_session(SparkConfig(conf={"spark.executorEnv.MKL_NUM_THREADS": "3"}))
def env(batches):
    import pandas as pd
    for _ in batches:
        yield pd.DataFrame({"v": [",".join(os.environ.get(v, "-") for v in WORKER_THREAD_VARS)]})
print("WORKER", spark.range(2).mapInPandas(env, "v string").distinct().collect()[0]["v"])
print("DRIVER", ",".join(os.environ.get(v, "-") for v in WORKER_THREAD_VARS))
spark.stop()
"""


def test_worker_thread_pools_one_per_task_user_setting_wins():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(Path.home())}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.startswith(("WORKER", "DRIVER")))
    assert lines["WORKER"] == "1,1,3"  # OMP, OpenBLAS from the default; MKL as the user set it
    assert lines["DRIVER"] == "-,-,-"  # the driver's own pools (k-means) keep their threads
