"""The audio kind's executor adapters and config, without Spark: error reasons of broken files,
the lossless bitrate used by the keep policy, the pairs' time-scale convention, config checks.
Signals are synthesised (jobs/audio_example.melody) and encoded with PyAV; a few seconds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs import audio_example as E
from jobs import audio_kind
from jobs.config import AudioConfig, ConfigError, load_config
from udfs import audio_adapters as AA
from udfs.errors import ItemError

RATE = E.RATE


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("audio-adapters")
    x = E.melody(5, seconds=12.0)
    return {"flac": E.write_audio(root / "a.flac", x, out_rate=2 * RATE),
            "wav22": E.write_audio(root / "a.wav", x, codec="pcm_s16le"),
            "mp3": E.write_audio(root / "a.mp3", x, codec="libmp3lame", bit_rate=64_000),
            "fast": E.write_audio(root / "fast.flac", E.speed_up(x, 1.03)),
            "excerpt": E.write_audio(root / "ex.flac", x[3 * RATE: 9 * RATE]),
            "broken": root}


def test_broken_files_get_their_reason(files):
    root = files["broken"]
    E.write_broken(root / "broken", files["flac"])
    for name, reason in E.BROKEN.items():
        with pytest.raises(ItemError) as err:
            AA.audio_features((root / "broken" / name).read_bytes())
        assert err.value.reason == reason, name
    assert AA.looks_like_audio(files["mp3"].read_bytes()) and not AA.looks_like_audio(b"hello, world")


def test_stream_facts_and_lossless_bitrate(files):
    flac, wav, mp3 = (AA.audio_features(files[k].read_bytes()) for k in ("flac", "wav22", "mp3"))
    assert (flac.sample_rate, flac.channels, flac.codec, flac.lossless) == (2 * RATE, 1, "flac", True)
    assert wav.lossless and wav.codec.startswith("pcm_") and not mp3.lossless
    assert flac.bitrate == 2 * RATE * 16 and wav.bitrate == RATE * 16  # decoded rates: 44.1 kHz ranks first
    assert 50_000 <= mp3.bitrate <= 80_000
    assert flac.duration_s == pytest.approx(12.0, abs=0.1) and flac.hashes.size == flac.times.size > 100


def test_audible_length_ignores_silence_padding(files):
    """The keep order's length: a copy padded with silence (any pad, here not a whole number of the
    analysis rate's samples at 44.1 kHz) has the original's audible_s, only its duration_s grows."""
    x = E.melody(5, seconds=12.0)
    root = files["broken"]
    for head, tail in ((2.0, 3.0), (0.37, 1.113)):
        pad = lambda s: np.zeros(int(s * RATE), np.float32)  # noqa: E731
        padded = E.write_audio(root / f"pad-{head}.flac", np.concatenate([pad(head), x, pad(tail)]), out_rate=44_100)
        orig = E.write_audio(root / "orig44.flac", x, out_rate=44_100)
        p, o = (AA.audio_features(f.read_bytes()) for f in (padded, orig))
        assert p.duration_s == pytest.approx(o.duration_s + head + tail, abs=0.05)
        assert p.audible_s == o.audible_s and 11.0 <= o.audible_s <= o.duration_s
    trimmed = AA.audio_features(files["excerpt"].read_bytes())
    assert trimmed.audible_s == pytest.approx(6.0, abs=0.5)
    from udfs import audio as K
    assert K.audible_span(np.zeros(8000, np.float32)) == 0.0
    assert K.audible_span(np.r_[np.zeros(800), np.ones(9000), np.zeros(3200)].astype(np.float32)) == 1.0


def test_pair_alignment_uses_the_pairs_time_scale(files):
    orig, fast, ex = (AA.audio_features(files[k].read_bytes()) for k in ("flac", "fast", "excerpt"))
    r = AA.pair_alignment((orig.hashes, orig.times), (fast.hashes, fast.times))
    assert r["time_scale"] == pytest.approx(1 / 1.03, abs=0.006)  # t_b = s * t_a: b plays 3% faster
    e = AA.pair_alignment((orig.hashes, orig.times), (ex.hashes, ex.times))
    assert e["start_a"] - e["start_b"] == pytest.approx(3.0, abs=0.3) and e["coverage_b"] > 0.6
    assert 0.2 < e["coverage_a"] < e["coverage_b"] and 0 < e["similarity"] <= 1 and e["aligned_anchors"] >= 6


def test_align_pairs_keeps_pairs_from_the_candidate_score(files):
    orig, ex = (AA.audio_features(files[k].read_bytes()) for k in ("flac", "excerpt"))
    other = AA.audio_features(E.write_audio(files["broken"] / "other.flac", E.melody(9, 12.0)).read_bytes())
    pdf = pd.DataFrame({"sha_a": ["o", "o"], "sha_b": ["e", "x"], "hashes_a": [orig.hashes] * 2,
                        "times_a": [orig.times] * 2, "hashes_b": [ex.hashes, other.hashes],
                        "times_b": [ex.times, other.times]})
    out = pd.concat(AA.align_pairs(iter([pdf]), min_score=3))
    assert list(out["sha_b"]) == ["e"] and out["aligned_anchors"].dtype == np.int32


def test_config_checks_and_fingerprint():
    cfg = load_config(overrides=["input.kind=audio"])
    assert cfg.keep_order()[0] == ("lossless", "desc") and cfg.audio.min_score == 6
    with pytest.raises(ConfigError, match="audio.candidate_min_score"):
        load_config(overrides=["audio.candidate_min_score=9"])
    with pytest.raises(ConfigError, match="audio.excerpts"):
        load_config(overrides=["audio.excerpts=maybe"])
    with pytest.raises(ConfigError, match="audio.keep_order"):
        load_config(overrides=["audio.keep_order=pixels desc"])
    base = audio_kind.feature_fingerprint(AudioConfig())
    assert base == audio_kind.feature_fingerprint(AudioConfig(min_score=9))  # a decision, not a feature
    assert base != audio_kind.feature_fingerprint(AudioConfig(max_duration_s=60.0))
    image = load_config()
    assert image.fingerprint() == load_config(overrides=["audio.min_score=9"]).fingerprint()
    assert cfg.fingerprint() != load_config(overrides=["input.kind=audio", "audio.min_score=9"]).fingerprint()
