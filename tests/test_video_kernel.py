"""The video kernels without Spark: frame signatures, decoding errors, temporal alignment.

Alignment is tested on a model of sampled frame hashes: each shot has a random
64-bit hash that drifts by one bit every 0.1 s (a camera moving slowly), so two
samples of the same shot taken a little apart differ in a few bits, as real
frames do. Decoding is tested on small clips made with PyAV (jobs/video_example).
"""
from __future__ import annotations

import numpy as np
import pytest

from udfs import video as V
from udfs.errors import ItemError

STEP = 0.5  # 2 fps sampling


def shot_hashes(seed: int, n_shots: int, shot_s: float = 4.0):
    """time (s, in the clip) -> hash of a clip made of n_shots shots of shot_s seconds."""
    rng = np.random.default_rng(seed)
    bases = rng.integers(-2**63, 2**63 - 1, size=n_shots, dtype=np.int64)
    orders = [rng.permutation(64) for _ in range(n_shots)]

    def at(t: float) -> int:
        k = min(int(t // shot_s), n_shots - 1)
        flips = int((t - k * shot_s) / 0.1)  # one bit more every 0.1 s of the shot
        mask = 0
        for bit in orders[k][:min(flips, 63)]:
            mask |= 1 << int(bit)
        return int(np.int64(np.uint64(int(np.uint64(bases[k])) ^ mask)))

    return at


def sampled(content, duration: float, start: float = 0.0, speed: float = 1.0, phase: float = 0.0) -> dict:
    """A video showing content(start + speed * t) for t in [0, duration), sampled every STEP s from `phase`."""
    times = np.arange(phase, duration, STEP)
    hashes = np.array([content(start + speed * t) for t in times], dtype=np.int64)
    return {"times": times, "hashes": hashes, "flips": hashes ^ np.int64(0x0F0F0F0F0F0F0F0F), "informative": np.ones(len(times), bool),
            "duration": duration}


def run(a: dict, b: dict, **kw) -> V.Alignment | None:
    return V.align(a["times"], a["hashes"], a["informative"], a["duration"],
                   b["times"], b["hashes"], b["informative"], b["duration"], V.AlignParams(**kw))


CONTENT = shot_hashes(seed=1, n_shots=5)  # 20 s of five shots


def test_identical_sequences_cover_everything():
    a = sampled(CONTENT, 20.0)
    got = run(a, a)
    assert got is not None
    assert got.coverage_a == pytest.approx(1.0) and got.coverage_b == pytest.approx(1.0)
    assert got.time_scale == pytest.approx(1.0) and got.similarity == pytest.approx(1.0) and got.hamming == 0


def test_trimmed_copy_finds_its_offset():
    a = sampled(CONTENT, 20.0)
    b = sampled(CONTENT, 9.0, start=6.0, phase=0.2)  # seconds 6-15 of a, sampled out of phase
    got = run(a, b)
    assert got is not None
    assert got.start_a == pytest.approx(6.0, abs=STEP) and got.end_a == pytest.approx(15.0, abs=STEP)
    assert got.start_b == pytest.approx(0.2, abs=STEP) and got.end_b == pytest.approx(9.0, abs=STEP)
    assert got.coverage_b >= 0.9 and 0.35 <= got.coverage_a <= 0.55
    assert got.time_scale == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("speed", [1.5, 2.0, 0.75])
def test_sped_up_copy_finds_the_scale(speed):
    a = sampled(CONTENT, 20.0)
    b = sampled(CONTENT, 20.0 / speed, speed=speed)  # t_b = t_a / speed
    got = run(a, b)
    assert got is not None
    assert got.time_scale == pytest.approx(1 / speed, rel=0.1)
    assert got.coverage_a >= 0.8 and got.coverage_b >= 0.8


def test_reordered_shots_cover_one_shot_only():
    a = sampled(CONTENT, 20.0)
    order = [3, 0, 4, 2, 1]  # no two shots in their original succession

    def shuffled(t: float) -> int:
        k = min(int(t // 4.0), 4)
        return CONTENT(order[k] * 4.0 + (t - k * 4.0))

    got = run(a, sampled(shuffled, 20.0))
    assert got is not None  # one shot does line up ...
    assert max(got.coverage_a, got.coverage_b) <= 0.3  # ... but covers a fifth of each


def drifting_shots(seed: int, names: str, bits: int = 4):
    """name -> a shot's content at time t from its start: a slow pan, `bits` more bits every 0.5 s, so a
    frame matches those up to 1.5 s from it (<= 12 bits) and shots differ by ~32 bits."""
    rng = np.random.default_rng(seed)
    shots = {}
    for name in names:
        base, order = int(np.uint64(rng.integers(0, 2**63 - 1))), rng.permutation(64)

        def at(t: float, base=base, order=order) -> int:
            mask = 0
            for bit in order[:min(bits * int(t / 0.5), 63)]:
                mask |= 1 << int(bit)
            return int(np.int64(np.uint64(base ^ mask)))
        shots[name] = at
    return shots


def montage(shots: dict, plan: list[tuple[str, float]]):
    """t -> hash of a clip playing plan's (shot, seconds) in order, each shot from its start."""
    def at(t: float) -> int:
        start = 0.0
        for name, length in plan:
            if t < start + length or (name, length) == plan[-1]:
                return shots[name](t - start)
            start += length
    return at


def test_a_skipped_shot_shown_elsewhere_splits_the_line():
    # blind2's copy-to-reorder duplicates: the reorder plays shots X, Y, Z; the source Y ... X, Z. A line
    # at a wrong time scale (here 0.67 / 1.32, on blind2 0.5 / 2) runs through X and Z of both (a frame
    # of a slow pan matches its neighbours), with Y, which the source shows before X, skipped in
    # between: 2 s of unmatched informative frames, under max_gap_s, so the line covered 10 of the
    # reorder's 12 s (a duplicate at similarity 0.82) before the skipped shot split it.
    shots = drifting_shots(11, "WXYZ")
    source = sampled(montage(shots, [("Y", 2.0), ("W", 2.0), ("X", 4.0), ("Z", 4.0)]), 12.0)
    reorder = sampled(montage(shots, [("X", 4.0), ("Y", 2.0), ("Z", 4.0), ("W", 2.0)]), 12.0)
    for a, b in ((reorder, source), (source, reorder)):
        got = run(a, b)  # at most one shot lines up: no line spans a shot the other video shows elsewhere
        assert got is None or max(got.coverage_a, got.coverage_b) < 0.6, got


def test_a_skipped_shot_that_matches_nothing_does_not_split_a_copy():
    # a copy whose 2 s shot lost its match (hashes unstable on a low-contrast shot) stays covered whole
    shots = drifting_shots(12, "WXYZ")
    plan = [("X", 4.0), ("Y", 2.0), ("Z", 4.0), ("W", 2.0)]
    a = sampled(montage(shots, plan), 12.0)
    noise = drifting_shots(13, "Y")
    b = sampled(montage({**shots, "Y": noise["Y"]}, plan), 12.0)
    got = run(a, b)
    assert got is not None and got.time_scale == pytest.approx(1.0, abs=0.05)
    assert got.coverage_a == pytest.approx(1.0) and got.coverage_b == pytest.approx(1.0)


def test_shared_intro_is_a_small_share_of_both():
    intro = shot_hashes(seed=7, n_shots=1)
    one, two = shot_hashes(seed=8, n_shots=4), shot_hashes(seed=9, n_shots=4)
    a = sampled(lambda t: intro(t) if t < 4 else one(t - 4), 20.0)
    b = sampled(lambda t: intro(t) if t < 4 else two(t - 4), 20.0)
    got = run(a, b)
    assert got is not None and got.end_a <= 4.0 + STEP
    assert max(got.coverage_a, got.coverage_b) < 0.25


def test_static_picture_never_matches():
    still = {"times": np.arange(0, 10, STEP), "hashes": np.full(20, 123456789, np.int64),
             "informative": np.ones(20, bool), "duration": 10.0}
    assert run(still, still) is None
    a = sampled(CONTENT, 20.0)
    b = dict(still, hashes=np.full(20, CONTENT(1.0), np.int64))  # a still of one frame of a
    assert run(a, b) is None


def test_uninformative_frames_never_match():
    a = sampled(CONTENT, 20.0)
    dark = dict(a, informative=np.zeros(len(a["times"]), bool))
    assert run(a, dark) is None
    late = a["times"] >= 8
    other = sampled(shot_hashes(seed=5, n_shots=5), 20.0)["hashes"]
    half = dict(a, informative=~late, hashes=np.where(late, other, a["hashes"]))  # dark after 8 s, other noise
    got = run(a, half)
    assert got is not None and got.end_b <= 8.0 + 1e-9


def test_unrelated_videos_do_not_align():
    a = sampled(CONTENT, 20.0)
    b = sampled(shot_hashes(seed=2, n_shots=5), 20.0)
    assert run(a, b) is None


def test_mirror_is_found_through_the_flip_hashes():
    a = sampled(CONTENT, 20.0)
    b = sampled(CONTENT, 20.0)
    b = dict(b, hashes=b["flips"], flips=b["hashes"])  # b stores the mirror: its flips are a's hashes
    got = V.align_pair(a, b)
    assert got is not None and got.mirrored and got.coverage_a == pytest.approx(1.0)


def test_frame_matches_equal_brute_force():
    rng = np.random.default_rng(3)
    ha = rng.integers(-2**63, 2**63 - 1, size=50, dtype=np.int64)
    hb = np.concatenate([ha[:20] ^ np.int64(7), rng.integers(-2**63, 2**63 - 1, size=30, dtype=np.int64)])
    i, j, d = V.frame_matches(ha, hb, max_bits=12, per_frame=64)
    from udfs.hashing import hamming
    full = hamming(ha[:, None], hb[None, :])
    want = set(zip(*np.nonzero(full <= 12)))
    assert set(zip(i.tolist(), j.tolist())) == {(int(x), int(y)) for x, y in want}
    assert np.array_equal(d, full[i, j])


# ---------------------------------------------------------------------------- decoding

@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    from jobs import video_example as E

    root = tmp_path_factory.mktemp("clips")
    shots = E.panning_shots([11, 12])
    return {
        "moving": E.write_clip(root / "moving.mp4", shots, 4.0),
        "black": E.write_clip(root / "black.mp4", E.constant(np.zeros((E.HEIGHT, E.WIDTH, 3), np.uint8)), 2.0),
        "audio": E.write_audio_only(root / "audio.mp4"),
    }


def test_decoding_samples_at_the_configured_rate(clips):
    f = V.video_features(clips["moving"].read_bytes(), V.DecodeLimits(sample_fps=2.0))
    assert f.duration_s == pytest.approx(4.0, abs=0.1) and f.fps == pytest.approx(24.0)
    assert (f.width, f.height) == (160, 96) and f.codec == "h264" and f.bitrate > 0
    assert len(f.times) == 8 and np.allclose(np.diff(f.times), 0.5, atol=0.05)
    assert f.informative.all()
    assert len(V.video_features(clips["moving"].read_bytes(), V.DecodeLimits(sample_fps=1.0)).times) == 4


def test_black_frames_are_not_informative(clips):
    f = V.video_features(clips["black"].read_bytes())
    assert len(f.times) == 4 and not f.informative.any()


@pytest.mark.parametrize("make, reason", [
    (lambda c: b"", "empty_file"),
    (lambda c: b"just some text, not a video\n" * 4, "not_a_video"),
    (lambda c: c["audio"].read_bytes(), "no_video_stream"),
    (lambda c: c["moving"].read_bytes()[:3000], "truncated"),
])
def test_bad_files_raise_their_reason(clips, make, reason):
    with pytest.raises(ItemError) as err:
        V.video_features(make(clips))
    assert err.value.reason == reason


def test_limits_become_errors(clips):
    data = clips["moving"].read_bytes()
    for limits, reason in [(V.DecodeLimits(max_duration_s=2.0), "too_long"),
                           (V.DecodeLimits(max_frames=3), "too_many_frames"),
                           (V.DecodeLimits(max_pixels=100 * 90), "too_many_pixels"),
                           (V.DecodeLimits(max_decode_seconds=0.0), "decode_timeout")]:
        with pytest.raises(ItemError) as err:
            V.video_features(data, limits)
        assert err.value.reason == reason, limits


def _video(path) -> dict:
    f = V.video_features(path.read_bytes())
    return {"times": f.times, "hashes": f.hashes, "flips": f.flips, "crops": f.crops, "centres": f.centres,
            "informative": f.informative, "duration": f.duration_s}


def test_crops_and_corner_captions_align_on_their_own_keys(tmp_path):
    from jobs import video_example as E

    shots = E.panning_shots([81, 82, 83])
    original = _video(E.write_clip(tmp_path / "o.mp4", shots, 6.0))
    crop = _video(E.write_clip(tmp_path / "c.mp4", E.cropped(shots), 6.0, size=E.cropped_size()))
    caption = _video(E.write_clip(tmp_path / "w.mp4", E.captioned(shots), 6.0))
    for copy, keys in ((crop, {"crop_b"}), (caption, {"centre", "frame"})):
        got = V.align_pair(original, copy)
        assert got is not None and got.keys in keys
        assert got.coverage_a >= 0.9 and got.coverage_b >= 0.9 and got.similarity >= 0.8
    reverse = V.align_pair(crop, original)  # the copy as a: the original's centre matches it
    assert reverse is not None and reverse.keys == "crop_a" and reverse.coverage_a >= 0.9
    other = _video(E.write_clip(tmp_path / "x.mp4", E.panning_shots([84, 85, 86]), 6.0))
    assert V.align_pair(original, other) is None


def test_band_keys_single_and_pairs():
    import pyarrow as pa

    from udfs.video_adapters import BUCKET_BAND_SHIFT, band_keys, frame_bucket_rows

    h = np.array([0x0123456789ABCDEF], dtype=np.int64)
    assert band_keys(h).tolist() == [[0x0123, 0x4567, 0x89AB, 0xCDEF]]
    pairs = band_keys(h, pairs=True)[0].tolist()
    assert len(pairs) == 6 and pairs[0] == (0x0123 << 32) | 0x4567 and pairs[-1] == (0x89AB << 32) | 0xCDEF
    near = h ^ np.int64(1)  # one bit off in the last band: 3 of 4 single keys, 3 of 6 pair keys still shared
    assert (band_keys(h) == band_keys(near)).sum() == 3 and (band_keys(h, pairs=True) == band_keys(near, pairs=True)).sum() == 3
    batch = pa.RecordBatch.from_pydict(
        {"vid": [5], "frame_hashes": [[1, 2, 3]], "flip_hashes": [[4, 5, 6]], "crop_hashes": [None],
         "centre_hashes": [[7, 8, 9]], "informative": [[True, False, True]]},
        pa.schema([("vid", pa.int64()), *[(c, pa.list_(pa.int64())) for c in ("frame_hashes", "flip_hashes",
                                                                             "crop_hashes", "centre_hashes")],
                   ("informative", pa.list_(pa.bool_()))]))
    for pairs_, k in ((False, 4), (True, 6)):
        out = pa.Table.from_batches(list(frame_bucket_rows(iter([batch]), pairs=pairs_, labels=(7, 3, 9))))
        assert set(out.column("part").to_pylist()) <= {7, 3, 9}
        keys, vids, fvs = (np.concatenate(out.column(c).to_pylist()) for c in ("keys", "vids", "fvs"))
        assert len(keys) == 2 * k * 3  # 2 informative frames, k keys, 3 hash variants (crop missing)
        assert set(fvs // 4) == {0, 2} and set(fvs % 4) == {0, 1, 3} and set(vids) == {5}
        assert set(keys >> BUCKET_BAND_SHIFT) == set(range(k))


def test_dark_opening_shot_is_covered_by_a_full_copy_but_not_against_other_footage():
    a = sampled(CONTENT, 20.0)
    a["informative"][a["times"] < 6.0] = False  # a dark or flat first shot and a half: no hashes worth matching
    copy = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in a.items()}
    got = run(a, copy)
    assert got is not None and got.start_a == pytest.approx(0.0) and got.start_b == pytest.approx(0.0)
    assert got.coverage_a == pytest.approx(1.0) and got.coverage_b == pytest.approx(1.0)
    other = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in a.items()}
    other["informative"][:] = True  # b shows informative footage where a is dark: that is not evidence of a copy
    other["hashes"][other["times"] < 6.0] = shot_hashes(seed=99, n_shots=1)(0.0)
    got = run(a, other)
    assert got is not None and got.start_a >= 6.0 - STEP and got.coverage_a < 0.75


def test_skipping_unsampled_frames_changes_nothing(clips, monkeypatch):
    """Packets before the next sampled time are decoded without their non-reference frames: the
    sampled frames, their times and hashes and the duration are those of decoding every frame."""
    data = clips["moving"].read_bytes()
    skipped = []
    frames = V._frames

    def counting(*args):
        for x in frames(*args):
            skipped.extend([x] if isinstance(x, float) else [])
            yield x

    monkeypatch.setattr(V, "_frames", counting)
    fast = V.video_features(data)
    assert skipped  # the clip has packets decoded that way
    monkeypatch.setattr(V, "SKIP_MARGIN_S", float("inf"))  # never skip
    every = V.video_features(data)
    for k in ("times", "hashes", "flips", "crops", "centres", "informative"):
        assert np.array_equal(getattr(fast, k), getattr(every, k)), k
    assert fast.duration_s == every.duration_s
