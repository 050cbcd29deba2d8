"""The audio harness' truth (bench/audio_corpus.same_recordings): originals that share material by waveform
(one cut out of, or continued from, the other) are one recording; unrelated originals never are."""
from __future__ import annotations

import csv

import numpy as np

from bench import audio_corpus as C

R = 16000


def _sound(seed: int, seconds: float) -> np.ndarray:
    """Noise bursts under a wandering tone: broadband, like an effect."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * R)) / R
    f0, phase = rng.uniform(200, 800), rng.uniform(0, 2 * np.pi)
    tone = np.sin(2 * np.pi * np.cumsum(f0 + 200 * rng.random(t.size).cumsum() / t.size) / R)
    bursts = np.sin(2 * np.pi * rng.uniform(2, 4) * t + phase) > 0
    return (0.3 * tone + 0.2 * rng.standard_normal(t.size) * bursts).astype(np.float32)


def test_shared_seconds_finds_a_cut_and_its_offset():
    x = C.mono_at(_sound(0, 10.0)[None], R)
    cut = C.mono_at(0.5 * _sound(0, 10.0)[None, 3 * R: 8 * R], R)  # 5 s cut from 3 s, quieter
    secs, offset = C.shared_seconds(cut, x)
    assert secs >= 4.5 and offset == 3.0
    assert C.shared_seconds(C.mono_at(_sound(1, 10.0)[None], R), x)[0] == 0.0  # unrelated: not one window


def test_same_recordings_joins_variants_and_keeps_groups(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    long = _sound(0, 12.0)
    variant = np.concatenate([long[: 3 * R], _sound(2, 5.0)])  # the same 3 s opening, then another ending
    sounds = {"a": long, "b": variant, "c": _sound(3, 8.0)}
    rows = []
    for gid, x in sounds.items():
        C.write_audio(files / f"{gid}.flac", x[None], R)
        rows.append(dict(id=gid, path=f"files/{gid}.flac", group=gid, edit="original", duration_s=len(x) / R))
        rows.append(dict(id=f"{gid}-trim", path="", group=gid, edit="trim", duration_s=1.0))
    rows.append(dict(id="a-neg_other_section", path="", group="a-neg_other_section", edit="neg_other_section",
                     duration_s=1.0))
    out, found = C.same_recordings(rows, tmp_path)
    assert [(f["a"], f["b"]) for f in found] == [("a", "b")] and found[0]["shared_s"] >= 2.5
    assert {r["id"]: r["recording"] for r in out} == {"a": "a", "a-trim": "a", "b": "a", "b-trim": "a", "c": "c",
                                                     "c-trim": "c", "a-neg_other_section": "a-neg_other_section"}
    assert [r["group"] for r in out] == [r["group"] for r in rows]  # the groups (own originals) stay
    C.write_truth(tmp_path / "truth.csv", out)
    with open(tmp_path / "truth.csv") as fh:
        back = list(csv.DictReader(fh))
    from bench import audio_probe as P

    index = {r["id"]: i for i, r in enumerate(back)}
    cross, own, other = (index["a-trim"], index["b-trim"]), (index["a"], index["a-trim"]), (index["a"], index["c"])
    try:
        truth = P.truth_pairs(back)  # default: a pair of two sharing originals is neither true nor false
        assert own in truth and cross not in truth and other not in truth and P.ignored(back, *cross)
        assert P.score(back, {cross, own}, truth)["precision"] == 1.0
        P.TRUTH_KEY = "recording-all"
        assert cross in P.truth_pairs(back) and not P.ignored(back, *cross)
        P.TRUTH_KEY = "group"  # the truth before the column: a false pair
        assert cross not in P.truth_pairs(back) and P.score(back, {cross, own}, P.truth_pairs(back))["precision"] == 0.5
    finally:
        P.TRUTH_KEY = "recording"
