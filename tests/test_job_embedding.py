"""The embedding path end to end with a tiny randomly initialised CLIP saved to disk.

Random weights say nothing about match quality, so these tests check what the
job computes: every stored embedding score equals the model's own cosine for
that pair to within the fp16 transport bound, and the blocked self-join misses
no pair above the candidate threshold (one IVF list here, so it must equal
brute force), not even those that fp16 rounding alone would push below it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jobs.dedup import main
from tests.helpers import read_run
from udfs.decode import decode_image
from udfs.embed import ImageEmbedder
from udfs.io import read_bytes
from udfs.ivf import transport_slack

pytestmark = pytest.mark.spark

CANDIDATE = 0.6


@pytest.fixture(scope="module")
def emb_run(spark, small_corpus, tiny_clip, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("emb") / "out"
    code = main(["run", "--input", str(small_corpus), "--output", str(out), "--run-id", "e",
                 "--set", "embedding.enabled=true", "--set", f"embedding.model={tiny_clip}",
                 "--set", "embedding.device=cpu", "--set", "embedding.threshold=0.999",
                 "--set", f"embedding.candidate_threshold={CANDIDATE}",
                 "--set", "embedding.batch_size=4", "--set", "selfjoin.block_rows=7"])
    assert code == 0
    return out


def _direct_embeddings(manifest, model_dir) -> dict[str, np.ndarray]:
    """Embeddings of each representative item, computed outside Spark with the same model."""
    embedder = ImageEmbedder(model_dir, device="cpu", precision="fp32", batch_size=4)
    ok = manifest[manifest["action"] != "error"].drop_duplicates("content_sha256")
    images = [decode_image(read_bytes(u, 1 << 26), 10**8).image for u in ok["uri"]]
    vecs = embedder.embed(images)
    return dict(zip(ok["content_sha256"], vecs))


def test_embedding_scores_equal_the_model(emb_run, tiny_clip):
    manifest, pairs, _, summary = read_run(emb_run)
    assert summary["model"]["fingerprint"] and summary["stages"]["embedded_contents"] > 10
    emb = pairs[pairs["stage"] == "embedding"]
    assert len(emb) > 0 and emb["hamming"].isna().all()
    sha = manifest.set_index("item_id")["content_sha256"]
    vecs = _direct_embeddings(manifest, tiny_clip)
    direct = np.array([float(vecs[sha[a]] @ vecs[sha[b]]) for a, b in zip(emb["item_a"], emb["item_b"])])
    error = np.abs(emb["similarity"].to_numpy() - direct)
    assert error.max() <= transport_slack("float16")  # vectors travel as fp16 by default
    assert (emb["is_duplicate"] == (emb["similarity"] >= 0.999)).all()


def test_self_join_misses_no_pair_above_the_candidate_threshold(emb_run, tiny_clip):
    manifest, pairs, _, _ = read_run(emb_run)
    vecs = _direct_embeddings(manifest, tiny_clip)
    shas = sorted(vecs)
    mat = np.stack([vecs[s] for s in shas])
    sims = mat @ mat.T.copy()
    expected = {(shas[i], shas[j]) for i in range(len(shas)) for j in range(i + 1, len(shas))
                if sims[i, j] >= CANDIDATE}
    sha = manifest.set_index("item_id")["content_sha256"]
    emb = pairs[pairs["stage"] == "embedding"]
    found = {tuple(sorted((sha[a], sha[b]))) for a, b in zip(emb["item_a"], emb["item_b"])}
    assert expected and expected <= found


def test_embedding_drops_name_their_stage(emb_run):
    manifest = read_run(emb_run)[0]
    near = manifest[manifest["reason"] == "near_duplicate"]
    assert near["matched_by"].str.contains("phash|embedding").all()
