"""bench/video_scale (synthetic frame signatures, the exact frame join) and bench/video_throughput's plan."""
from __future__ import annotations

import numpy as np
import pytest

from bench import video_scale as vs
from bench import video_throughput as vt
from udfs.hashing import hamming


def _bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return hamming(np.asarray(a, np.int64), np.asarray(b, np.int64))


def test_shots_drift_a_few_bits_a_frame():
    v = vs.original(np.random.default_rng(0), 200)
    assert v.shots[0] == 0 and len(v) == 200
    inside = np.setdiff1d(np.arange(1, 200), v.shots)
    ok = v.informative[inside] & v.informative[inside - 1]
    for f in vs.FAMILIES:
        steps = _bits(v.hashes[f][inside][ok], v.hashes[f][inside - 1][ok])
        assert steps.max() <= 3
    cuts = v.shots[1:][v.informative[v.shots[1:]] & v.informative[v.shots[1:] - 1]]
    assert _bits(v.hashes["frame_hashes"][cuts], v.hashes["frame_hashes"][cuts - 1]).mean() > 20


@pytest.mark.parametrize("edit", vs.EDITS)
def test_copies_stay_close_to_their_original(edit):
    rng = np.random.default_rng(1)
    v = vs.original(rng, 120)
    c = vs.copy_of(rng, v, edit)
    n = len(c)
    if edit in ("full", "mirror", "crop", "fps"):
        assert n == len(v) - (edit == "fps")
    elif edit in ("trim_head", "trim_tail"):
        assert 0.65 * len(v) <= n <= 0.92 * len(v)
    elif edit == "excerpt":
        assert 12 <= n <= 0.65 * len(v)
    elif edit == "speed":
        assert 0.85 * len(v) <= n <= 1.15 * len(v)
    if edit in ("full", "trim_tail"):
        ok = c.informative
        assert np.median(_bits(c.hashes["frame_hashes"][ok], v.hashes["frame_hashes"][:n][ok])) <= 4
    if edit == "mirror":
        ok = c.informative
        assert np.median(_bits(c.hashes["frame_hashes"][ok], v.hashes["flip_hashes"][ok])) <= 4
    from udfs.video import align_pair
    got = align_pair(vs.as_aligned(v, 0.5), vs.as_aligned(c, 0.5))
    assert got is not None and got.similarity >= 0.6


def test_corpus_roles_and_table(tmp_path):
    import pyarrow.parquet as pq

    videos, roles = vs.corpus(300, seed=2)
    assert len(videos) == len(roles) == 300
    truth = vs.truth_pairs(roles)
    assert len(truth) == 30 and all(roles[int(s[1:])]["role"] == "original" for s, _, _ in truth)
    paths = vs.write_table(videos, tmp_path, files=2)
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    assert rows == 300
    first = pq.read_table(paths[0]).to_pandas()
    assert list(first.columns) == ["id", *vs.FAMILIES, "informative"]
    assert np.array_equal(first.at[0, "frame_hashes"], videos[0].hashes["frame_hashes"])


def test_exact_join_equals_all_pairs():
    videos, _ = vs.corpus(40, seed=3, copies=0.2)
    index = vs.FrameIndex(videos)
    q = 5
    qi, cj = vs.exact_matches(videos[q], index, 12, block=97, query_block=7)
    got = set(zip(qi.tolist(), cj.tolist()))
    want = set()
    keep = np.flatnonzero(videos[q].informative)
    for qf, cf in vs.EXACT_PAIRS:
        d = _bits(videos[q].hashes[qf][keep][:, None], index.hashes[cf].view(np.int64)[None, :])
        r, c = np.nonzero(d <= 12)
        want |= set(zip(keep[r].tolist(), c.tolist()))
    assert got == want and len(want) > 0


def test_throughput_plan_fills_the_minutes():
    items = vt.plan(6, 6.0, seed=0)
    assert len(items) == 6
    for it in items:
        assert vt.LENGTH_S[0] <= it["seconds"] <= vt.LENGTH_S[1]
        assert sum(s for _, s, _ in it["shots"]) == pytest.approx(it["seconds"], abs=0.01)
        assert all(s <= vt.SHOT_S[1] for _, s, _ in it["shots"])
    assert sum(it["seconds"] for it in items) == pytest.approx(360.0, rel=0.05)
