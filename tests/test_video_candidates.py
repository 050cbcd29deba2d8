"""The video candidate stage (jobs/video_kind.voted_pairs) against a brute-force reference.

The reference buckets every informative frame's keys in a dict, skips buckets of one video or of
more than max_bucket videos, and lets two videos meet on the variant pairs of
udfs.video.KEY_VARIANTS (hash with hash, a hash with the other's mirror or centre-90% hash,
centre 60% with centre 60%); a pair's votes are the fewer of its two videos' distinct frames that
met the other. Videos: synthetic signatures (bench/video_scale.py) with planted copies of every
edit, two groups sharing a channel intro (one above the cap), a reordered copy and a video without
mirror and crop hashes.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from bench import video_scale as vs
from udfs import video_adapters as A

MAX_BUCKET = 5
FAMILY_OF = dict(zip(A.HASH_VARIANTS, vs.FAMILIES))


def _videos(seed: int = 7) -> dict[str, dict]:
    rng = np.random.default_rng(seed)
    base = [vs.original(rng, int(n)) for n in rng.integers(20, 60, size=14)]
    videos = list(base)
    for k, edit in enumerate(vs.EDITS):
        videos.append(vs.copy_of(rng, base[k % 6], edit))
    videos.append(vs.reordered(rng, base[6]))
    for size in (MAX_BUCKET + 3, 3):  # a channel intro shared above and below the cap
        intro = vs.Video({f: vs.drift(rng, np.zeros(1, np.int64), 6) for f in vs.FAMILIES}, np.ones(6, bool))
        for i in range(size):
            videos.append(vs.with_intro(intro, vs.original(rng, 25), rng))
    out = {}
    for i, v in enumerate(videos):
        d = {c: v.hashes[FAMILY_OF[c]] for c in A.HASH_VARIANTS}
        d["informative"] = v.informative
        out[f"{i:064x}"] = d
    last = f"{len(videos) - 1:064x}"
    out[last]["flip_hashes"] = out[last]["crop_hashes"] = None  # a signature without them
    return out


def reference(videos: dict[str, dict], pairs: bool, max_bucket: int, min_votes: int):
    buckets: dict[tuple[int, int], set] = defaultdict(set)
    for sha, v in videos.items():
        for variant, col in enumerate(A.HASH_VARIANTS):
            if v[col] is None:
                continue
            for f in np.flatnonzero(v["informative"]):
                for band, value in enumerate(A.band_keys(np.asarray(v[col][f:f + 1], np.int64), 4, pairs)[0]):
                    buckets[(band, int(value))].add((sha, variant, int(f)))
    met: dict[tuple[str, str], tuple[set, set]] = defaultdict(lambda: (set(), set()))
    capped = 0
    for members in buckets.values():
        shas = {m[0] for m in members}
        if len(shas) > max_bucket:
            capped += 1
            continue
        for s1, v1, f1 in members:
            for s2, v2, f2 in members:
                if s1 != s2 and (v1, v2) in A.VOTING_VARIANTS:
                    key, (fa, fb) = (s1, s2) if s1 < s2 else (s2, s1), (f1, f2) if s1 < s2 else (f2, f1)
                    met[key][0].add(fa)
                    met[key][1].add(fb)
    voted = {(a, b, min(len(x), len(y))) for (a, b), (x, y) in met.items() if min(len(x), len(y)) >= min_votes}
    return voted, capped


def _rows(videos: dict[str, dict], pairs: bool):
    shas = list(videos)
    lengths = np.array([len(videos[s]["informative"]) for s in shas])
    variants = []
    for c in A.HASH_VARIANTS:
        present = [videos[s][c] is not None for s in shas]
        values = np.concatenate([videos[s][c] for s, p in zip(shas, present) if p])
        variants.append((values, np.where(present, lengths, -1)))
    info = np.concatenate([videos[s]["informative"] for s in shas])
    return shas, A.bucket_rows(np.arange(len(shas)) * 7 + 3, lengths, info, variants, 4, pairs)


@pytest.mark.parametrize("pairs", [False, True])
def test_bucket_meetings_equal_the_reference_in_any_chunking(pairs):
    videos = _videos()
    want, want_capped = reference(videos, pairs, MAX_BUCKET, min_votes=1)
    shas, (key, vid, fv) = _rows(videos, pairs)
    assert len(want) >= 20 and want_capped > 0
    results = []
    for chunk in (3, 50, 10_000_000):
        perm = np.random.default_rng(chunk).permutation(len(key))  # rows arrive in any order
        (va, vb, code), capped = A.bucket_meetings(key[perm], vid[perm], fv[perm].astype(np.int64), MAX_BUCKET,
                                                   chunk=chunk)
        got = defaultdict(lambda: (set(), set()))
        for a, b, c in zip(va.tolist(), vb.tolist(), code.tolist()):
            got[(a, b)][c >> 32].add(c & 0xFFFFFFFF)
        name = {i * 7 + 3: s for i, s in enumerate(shas)}
        as_sha = {(*sorted((name[a], name[b])), min(len(x), len(y))) for (a, b), (x, y) in got.items()}
        assert as_sha == want and capped == want_capped
        results.append((va, vb, code))
    assert all(np.array_equal(x, y) for r in results[1:] for x, y in zip(r, results[0]))


@pytest.mark.spark
@pytest.mark.parametrize("band_keys", ["single", "pairs"])
def test_voted_pairs_equal_the_reference(spark, band_keys):
    from jobs.config import VideoConfig
    from jobs.video_kind import voted_pairs

    videos = _videos()
    rows = [(sha, None, len(v["informative"]), *[None if v[c] is None else [int(x) for x in v[c]]
                                                    for c in A.HASH_VARIANTS],
             [bool(x) for x in v["informative"]]) for sha, v in videos.items()]
    rows.append(("f" * 64, "decode_error: broken", None, None, None, None, None, None))
    feats = spark.createDataFrame(rows, "content_sha256 string, decode_error string, frames_sampled int, "
                                        "frame_hashes array<long>, flip_hashes array<long>, crop_hashes array<long>, "
                                        "centre_hashes array<long>, informative array<boolean>")
    cfg = VideoConfig(max_bucket=MAX_BUCKET, band_keys=band_keys)
    stats: dict = {}
    got = {tuple(r) for r in voted_pairs(feats.repartition(3), cfg, stats).collect()}
    want, capped = reference(videos, band_keys == "pairs", MAX_BUCKET, cfg.min_votes)
    assert got == want and stats["video_capped_buckets"] == capped
    assert len(want) >= 12 and capped > 0 and stats["video_voted_pairs"] == len(want)
