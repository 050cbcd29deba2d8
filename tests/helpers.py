"""Reading a run's outputs in tests."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from jobs.show import read_manifest


def read_run(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """(manifest, pairs, clusters, summary) of a published run folder."""
    pairs = pd.read_parquet(out / "pairs")
    clusters = pd.read_parquet(out / "clusters")
    summary = json.loads((out / "summary.json").read_text())
    return read_manifest(str(out)), pairs, clusters, summary
