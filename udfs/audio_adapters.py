"""pandas adapters of the audio kind (mapInPandas), thin wrappers over udfs/audio.py.

Like udfs/video_adapters.py: pandas in, pandas out, failures as "reason: message"
values in `decode_error`, testable without a SparkSession.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np
import pandas as pd

from udfs.adapters import _error, read_checked
from udfs.errors import ItemError

#: Per distinct content: stream facts and the fingerprint (udfs/audio.fingerprint); hashes: int64
#: triplet hashes (< 2^26), times: the anchor time of each hash, seconds (float32), sorted.
#: lossless: the codec keeps every sample (PCM, FLAC, ALAC, ...); bitrate: bits/s, for lossless codecs
#: the decoded rate (sample rate x channels x sample bits, so a 44.1 kHz FLAC ranks above a 22 kHz WAV),
#: for lossy ones as the stream or container reports it; null if unknown.
AUDIO_FEATURE_DDL = ("content_sha256 string, duration_s double, sample_rate int, channels int, codec string, "
                     "bitrate long, lossless boolean, hashes array<long>, times array<float>, decode_error string")
FEATURE_COLUMNS = tuple(c.split()[0] for c in AUDIO_FEATURE_DDL.split(", "))
ALIGNED_DDL = ("sha_a string, sha_b string, similarity double, aligned_anchors int, start_a double, end_a double, "
               "start_b double, end_b double, coverage_a double, coverage_b double, time_scale double")

LOSSLESS_CODECS = ("flac", "alac", "wavpack", "ape", "tta", "tak", "mlp", "truehd", "shorten", "als", "wmalossless")
# container signatures: a file starting so is audio that may be damaged (truncated), not another file
_SIGNATURES = (b"fLaC", b"OggS", b"ID3", b"RIFF", b"FORM", b"\x1aE\xdf\xa3", b"\x30\x26\xb2\x75", b"ADIF",
               b".snd", b"caff", b"wvpk", b"MAC ", b"#!AMR", b"\x0b\x77", b"TTA1", b"tBaK")


class AudioLimits(NamedTuple):
    max_duration_s: float = 14_400.0
    max_decode_seconds: float = 300.0


class AudioFeatures(NamedTuple):
    duration_s: float
    sample_rate: int
    channels: int
    codec: str
    bitrate: int | None
    lossless: bool
    hashes: np.ndarray  # (m,) int64
    times: np.ndarray   # (m,) float32 seconds


def looks_like_audio(data: bytes) -> bool:
    """True when `data` starts like an audio container or stream (MPEG frames and MP4 boxes included)."""
    head = bytes(data[:16])
    if head.startswith(_SIGNATURES) or head[4:8] == b"ftyp":
        return True
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0  # MPEG audio / ADTS frame sync


def is_lossless(codec: str) -> bool:
    return codec.startswith("pcm_") or codec in LOSSLESS_CODECS


def audio_features(data: bytes, limits: AudioLimits = AudioLimits()) -> AudioFeatures:
    """Bytes -> AudioFeatures. Raises ItemError: `empty_file` (0 bytes), `not_audio` (no container
    opens and no audio signature), `truncated` (an audio container that cannot be opened or stops
    with an error), and udfs.audio's `no_audio_stream`, `empty_audio`, `too_long`, `decode_timeout`.
    A file cut where its format has no index (WAV, MP3) decodes up to the cut: it is the shorter audio."""
    from udfs import audio as A

    if len(data) == 0:
        raise ItemError("empty_file", "0 bytes")
    try:
        d = A.decode_audio(data, max_duration_s=limits.max_duration_s, max_decode_s=limits.max_decode_seconds)
    except A.AudioError as exc:
        if exc.reason != "decode_error":
            raise
        if looks_like_audio(data):
            raise ItemError("truncated", f"{exc.message} ({len(data)} bytes)") from None
        raise ItemError("not_audio", f"unrecognised audio format ({len(data)} bytes)") from None
    hashes, times = A.fingerprint(d.samples, d.rate)
    lossless = is_lossless(d.codec)
    pcm = d.source_rate * d.channels * d.sample_bits
    return AudioFeatures(d.duration_s, d.source_rate, d.channels, d.codec,
                         (pcm if lossless and pcm else d.bit_rate) or None, lossless, hashes, times)


def features_frame(shas, results) -> pd.DataFrame:
    """(sha, AudioFeatures or exception) pairs -> AUDIO_FEATURE_DDL columns."""
    rows = {c: [] for c in FEATURE_COLUMNS}
    for sha, result in zip(shas, results):
        failed = isinstance(result, Exception)
        rows["content_sha256"].append(sha)
        for c in ("duration_s", "sample_rate", "channels", "codec", "bitrate", "lossless"):
            rows[c].append(None if failed else getattr(result, c))
        rows["hashes"].append(None if failed else result.hashes.tolist())
        rows["times"].append(None if failed else result.times.tolist())
        rows["decode_error"].append(_error(result) if failed else None)
    return pd.DataFrame({
        **{c: rows[c] for c in ("content_sha256", "codec", "hashes", "times", "decode_error")},
        "duration_s": pd.array(rows["duration_s"], dtype="Float64"),
        "sample_rate": pd.array(rows["sample_rate"], dtype="Int32"),
        "channels": pd.array(rows["channels"], dtype="Int32"),
        "bitrate": pd.array(rows["bitrate"], dtype="Int64"),
        "lossless": pd.array(rows["lossless"], dtype="boolean")})[list(FEATURE_COLUMNS)]


def audio_features_batches(batches: Iterator[pd.DataFrame], max_bytes: int, limits: AudioLimits, fetch=None,
                           workers: int = 1) -> Iterator[pd.DataFrame]:
    """(content_sha256, uri) -> AUDIO_FEATURE_DDL: read, check the sha256, decode and fingerprint once.

    One bad file is one error value, never a failed task. Memory: `workers` files and their
    decoded samples (8 kHz float32: 115 MiB an hour) at a time."""
    for pdf in batches:
        shas = list(pdf["content_sha256"])
        results = read_checked(list(pdf["uri"]), shas, max_bytes, fetch, workers,
                               lambda data: audio_features(data, limits))
        yield features_frame(shas, results)


def pair_alignment(fp_a: tuple[np.ndarray, np.ndarray], fp_b: tuple[np.ndarray, np.ndarray]) -> dict:
    """udfs.audio.align in the pairs' terms: t_b = time_scale * t_a + o on the segment, `aligned_anchors`
    (the kernel's score) and `similarity`: the share of b's distinct anchor times inside the matched
    span of b that are aligned (0-1)."""
    from udfs import audio as A

    r = A.align(fp_a, fp_b)  # t_a = s * t_b + o
    tb = fp_b[1]
    inside = np.unique(tb[(tb >= r["start_b"] - 1e-6) & (tb <= r["end_b"] + 1e-6)]).size
    return {"aligned_anchors": int(r["score"]), "similarity": min(1.0, r["score"] / inside) if inside else 0.0,
            "time_scale": 1.0 / r["time_scale"] if r["time_scale"] else None,
            **{c: r[c] for c in ("start_a", "end_a", "start_b", "end_b", "coverage_a", "coverage_b")}}


def align_pairs(batches: Iterator[pd.DataFrame], min_score: int) -> Iterator[pd.DataFrame]:
    """Candidate pairs joined with both files' fingerprints -> ALIGNED_DDL (pairs from min_score).

    Input columns: sha_a, sha_b, hashes_a, times_a, hashes_b, times_b. Memory: one pair's
    equal-hash index pairs at a time (at most udfs.audio.MAX_PER_HASH^2 per hash value)."""
    for pdf in batches:
        out = []
        for row in pdf.itertuples(index=False):
            fp = [(np.asarray(getattr(row, f"hashes_{x}"), np.int64),
                   np.asarray(getattr(row, f"times_{x}"), np.float32)) for x in ("a", "b")]
            found = pair_alignment(*fp)
            if found["aligned_anchors"] >= min_score:
                out.append({"sha_a": row.sha_a, "sha_b": row.sha_b, **found})
        if out:
            frame = pd.DataFrame(out)
            frame["aligned_anchors"] = frame["aligned_anchors"].astype(np.int32)
            yield frame[[c.split()[0] for c in ALIGNED_DDL.split(", ")]]
