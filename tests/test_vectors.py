"""Precomputed embeddings as input: no decoding, straight to the self-join and clusters."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jobs.dedup import main
from tests.helpers import read_run
from udfs.ivf import exact_pairs, transport_slack

pytestmark = pytest.mark.spark


def _vectors(n: int = 400, d: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, d))
    x = centres[rng.integers(0, 20, n)] + 0.6 * rng.normal(size=(n, d))
    x[1::10] = x[0::10] + 0.05 * rng.normal(size=(n // 10, d))  # planted near-duplicates
    x[390:] = x[389]                                             # a slice of identical vectors
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("max_list_size", [50, 10_000])  # lists split into parts / whole ('b' rows)
def test_parquet_embeddings_run_the_self_join(spark, tmp_path, max_list_size):
    x = _vectors()
    table = pd.DataFrame({"id": [f"v{i:04d}" for i in range(len(x))], "embedding": list(x)})
    table.loc[len(table)] = ["bad", np.zeros(x.shape[1], np.float32)]
    table.loc[len(table)] = ["short", np.ones(3, np.float32)]
    table.to_parquet(tmp_path / "vectors.parquet")
    out = tmp_path / "out"
    assert main(["run", "--input", str(tmp_path / "vectors.parquet"), "--output", str(out),
                 "--set", "selfjoin.nlist=4", "--set", "selfjoin.nprobe=4", "--set", "selfjoin.probe_margin=2",
                 "--set", f"selfjoin.max_list_size={max_list_size}"]) == 0
    manifest, pairs, _, summary = read_run(out)
    assert summary["counts"]["items"] == len(table) == len(manifest)
    by_id = manifest.set_index("item_id")
    assert by_id.loc[["bad", "short"], "reason"].tolist() == ["bad_embedding", "bad_embedding"]
    assert summary["thresholds"]["embedding_threshold"] == 0.9
    stages = summary["stages"]
    assert stages["ivf_lists"] == 4 and stages["ivf_avg_probes"] == 4.0  # a margin of 2 probes every list
    assert (stages["ivf_split_lists"] > 0) == (max_list_size < 390 / 4)
    assert stages["ivf_train_sample"] == 160  # train_per_list (40) x nlist, of 390 distinct vectors
    # every exact pair at cosine >= the candidate threshold between distinct vectors is found (all
    # lists probed), even those that fp16 transport rounds below it: the search runs transport_slack lower
    candidate = summary["thresholds"]["embedding_candidate_threshold"]
    uniq = x[:390]  # v0389..v0399 are one content
    a, b, sim = exact_pairs(uniq, candidate)
    truth = {(f"v{i:04d}", f"v{j:04d}") for i, j in zip(a, b)}
    emb = pairs[pairs["stage"] == "embedding"]
    assert truth <= set(zip(emb["item_a"], emb["item_b"]))
    assert emb["similarity"].min() >= candidate - transport_slack("float16")
    exact = {(f"v{i:04d}", f"v{j:04d}"): v for i, j, v in zip(a, b, sim)}
    got = emb.set_index(["item_a", "item_b"])["similarity"]
    assert max(abs(got[k] - v) for k, v in exact.items()) <= transport_slack("float16")
    # identical vectors are exact duplicates of one kept item
    same = by_id.loc[[f"v{i:04d}" for i in range(389, 400)]]
    assert (same["action"] == "keep").sum() == 1 and same["cluster_id"].nunique() == 1
    for row in manifest[manifest["action"] == "drop"].itertuples():
        assert by_id.at[row.keeper_id, "action"] == "keep"
