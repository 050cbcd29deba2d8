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
from udfs.packing import hash_partition, packed_by_partition, ragged_arange

#: Per distinct content: stream facts and the fingerprint (udfs/audio.fingerprint); hashes: int64
#: triplet hashes (< 2^26), times: the anchor time of each hash, seconds (float32), sorted.
#: lossless: the codec keeps every sample (PCM, FLAC, ALAC, ...); bitrate: bits/s, for lossless codecs
#: the decoded rate (sample rate x channels x sample bits, so a 44.1 kHz FLAC ranks above a 22 kHz WAV),
#: for lossy ones as the stream or container reports it; null if unknown. audible_s: the duration without
#: leading and trailing silence (udfs/audio.audible_span; the keep order's length: padding does not count).
#: noise_floor_db: how far the recording's quiet level lies below its loud level, per frequency, in dB (<= 0,
#: 3 dB steps; lower = cleaner: added noise raises it, a gain, an EQ or silence padding does not move it;
#: udfs/audio.noise_floor); null when too little of the recording is above silence.
AUDIO_FEATURE_DDL = ("content_sha256 string, duration_s double, audible_s double, sample_rate int, channels int, "
                     "codec string, bitrate long, lossless boolean, noise_floor_db double, hashes array<long>, "
                     "times array<float>, decode_error string")
FEATURE_COLUMNS = tuple(c.split()[0] for c in AUDIO_FEATURE_DDL.split(", "))
#: Precomputed fingerprints a table may carry instead of audio files (`hashes` required: udfs/audio.fingerprint's
#: hashes, `times` their anchor times in seconds), with their Spark types; see jobs/audio_kind.print_features
#: for the defaults of the others.
PRINT_TYPES = {"hashes": "array<bigint>", "times": "array<float>", "duration_s": "double", "audible_s": "double",
               "sample_rate": "int", "channels": "int", "codec": "string", "bitrate": "bigint", "lossless": "boolean",
               "noise_floor_db": "double"}
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
    audible_s: float  # without leading and trailing silence (udfs/audio.audible_span)
    sample_rate: int
    channels: int
    codec: str
    bitrate: int | None
    lossless: bool
    noise_floor_db: float | None  # quiet level below loud level, dB, <= 0 (udfs/audio.noise_floor)
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
    hashes, times, floor = A.fingerprint_and_floor(d.samples, d.rate)
    lossless = is_lossless(d.codec)
    pcm = d.source_rate * d.channels * d.sample_bits
    return AudioFeatures(d.duration_s, A.audible_span(d.samples, d.rate), d.source_rate, d.channels, d.codec,
                         (pcm if lossless and pcm else d.bit_rate) or None, lossless, floor, hashes, times)


def features_frame(shas, results) -> pd.DataFrame:
    """(sha, AudioFeatures or exception) pairs -> AUDIO_FEATURE_DDL columns."""
    rows = {c: [] for c in FEATURE_COLUMNS}
    for sha, result in zip(shas, results):
        failed = isinstance(result, Exception)
        rows["content_sha256"].append(sha)
        for c in ("duration_s", "audible_s", "sample_rate", "channels", "codec", "bitrate", "lossless",
                  "noise_floor_db"):
            rows[c].append(None if failed else getattr(result, c))
        rows["hashes"].append(None if failed else result.hashes.tolist())
        rows["times"].append(None if failed else result.times.tolist())
        rows["decode_error"].append(_error(result) if failed else None)
    return pd.DataFrame({
        **{c: rows[c] for c in ("content_sha256", "codec", "hashes", "times", "decode_error")},
        "duration_s": pd.array(rows["duration_s"], dtype="Float64"),
        "audible_s": pd.array(rows["audible_s"], dtype="Float64"),
        "sample_rate": pd.array(rows["sample_rate"], dtype="Int32"),
        "channels": pd.array(rows["channels"], dtype="Int32"),
        "bitrate": pd.array(rows["bitrate"], dtype="Int64"),
        "lossless": pd.array(rows["lossless"], dtype="boolean"),
        "noise_floor_db": pd.array(rows["noise_floor_db"], dtype="Float64")})[list(FEATURE_COLUMNS)]


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


# ---------------------------------------------------------------------------- candidate votes (mapInArrow)

#: The fingerprint hash rows of a batch of recordings bound for one partition (print_hash_rows), packed in
#: arrays: one element per hash, `ids` the recording's 64-bit id (ordered as its content sha256), `times` the
#: anchor time; `part` the label of the partition the hash values go to (hash_partition).
HASH_ROW_DDL = "part int, hashes array<long>, ids array<long>, times array<float>"
#: Per partition of hash buckets, for a partition of recording pairs: equal-hash pairs counted per (pair,
#: offset bin), a < b; `capped` / `met` (the buckets over max_bucket, the equal-hash pairs of two
#: recordings) are carried on one row of each bucket partition, 0 on the others.
PAIR_BIN_DDL = "part int, a array<long>, b array<long>, bins array<int>, n array<int>, capped long, met long"
#: A voted pair (va < vb, votes); one row per partition with va null carries the summed capped / met.
VOTES_DDL = "va long, vb long, votes int, capped long, met long"

def print_hash_rows(batches, labels: tuple[int, ...]):
    """mapInArrow: (vid, hashes, times) -> HASH_ROW_DDL: every hash of a batch of recordings, cut by the
    partition of its value (hash_partition over len(labels)), one output row per partition."""
    import pyarrow.compute as pc

    for batch in batches:
        if batch.num_rows == 0:
            continue
        lengths = pc.fill_null(pc.list_value_length(batch.column("hashes")), 0).to_numpy(
            zero_copy_only=False).astype(np.int64)
        if lengths.sum() == 0:
            continue
        h = batch.column("hashes").flatten().to_numpy(zero_copy_only=False).astype(np.int64)
        t = batch.column("times").flatten().to_numpy(zero_copy_only=False).astype(np.float32)
        v = np.repeat(batch.column("vid").to_numpy(zero_copy_only=False).astype(np.int64), lengths)
        yield packed_by_partition(labels, hash_partition(h, len(labels)), ["hashes", "ids", "times"], [h, v, t])


def _count_runs(a: np.ndarray, b: np.ndarray, bins: np.ndarray, n: np.ndarray):
    """(a, b, bin) with their n summed, sorted by a, b, bin."""
    order = np.lexsort((bins, b, a))
    a, b, bins, n = a[order], b[order], bins[order], n[order]
    new = np.ones(len(a), bool)
    new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1]) | (bins[1:] != bins[:-1])
    starts = np.flatnonzero(new)
    return a[starts], b[starts], bins[starts], np.add.reduceat(n, starts) if len(starts) else n[:0]


def bucket_bins(h: np.ndarray, vid: np.ndarray, t: np.ndarray, max_bucket: int, bin_s: float,
                chunk: int = 4_000_000) -> tuple[tuple[np.ndarray, ...], int, int]:
    """The equal-hash pairs of whole hash buckets (every row of a value present), counted per recording
    pair and offset bin: ((a, b, bin, n) with a < b and bin = floor((t_a - t_b) / bin_s), t in float32 as
    Spark subtracts them), the buckets of more than max_bucket rows (skipped, as are buckets of one row),
    and the equal-hash pairs of two recordings. Memory: the partition's rows and `chunk` pairs at a time."""
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int64))
    if len(h) == 0:
        return empty, 0, 0
    order = np.argsort(h, kind="stable")
    h, vid, t = h[order], vid[order], t[order]
    n = len(h)
    new = np.ones(n, bool)
    new[1:] = h[1:] != h[:-1]
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, n))
    capped = int((sizes > max_bucket).sum())
    ok = (sizes >= 2) & (sizes <= max_bucket)
    rows = ragged_arange(starts[ok], sizes[ok])  # rows of the kept buckets, bucket by bucket
    ends = np.repeat(starts[ok] + sizes[ok], sizes[ok])
    partners = ends - rows - 1  # the later rows of its bucket
    reach = np.concatenate([[0], np.cumsum(partners)])
    parts, met, held = [], 0, 0
    lo = 0
    while lo < len(rows):
        hi = max(lo + 1, int(np.searchsorted(reach, reach[lo] + chunk, "right")) - 1)
        x = np.repeat(rows[lo:hi], partners[lo:hi])
        y = ragged_arange(rows[lo:hi] + 1, partners[lo:hi])
        lo = hi
        keep = vid[x] != vid[y]
        x, y = x[keep], y[keep]
        if not len(x):
            continue
        met += len(x)
        swap = vid[x] > vid[y]
        xa, yb = np.where(swap, y, x), np.where(swap, x, y)
        diff = (t[xa] - t[yb]).astype(np.float64)  # float32 subtraction, as Spark's float columns
        bins = np.floor(diff / bin_s).astype(np.int32)
        parts.append(_count_runs(vid[xa], vid[yb], bins, np.ones(len(xa), np.int64)))
        held += len(parts[-1][0])
        if len(parts) > 1 and held > 2 * chunk:
            parts = [_count_runs(*[np.concatenate(c) for c in zip(*parts)])]
            held = len(parts[0][0])
    if not parts:
        return empty, capped, met
    return _count_runs(*[np.concatenate(c) for c in zip(*parts)]), capped, met


def _columns(batches, names: list[str], scalars: tuple[str, ...] = ()):
    cols: dict[str, list] = {c: [] for c in names}
    sums = dict.fromkeys(scalars, 0)
    for batch in batches:
        for c in names:
            cols[c].append(batch.column(c).flatten().to_numpy(zero_copy_only=False))
        for c in scalars:
            sums[c] += int(batch.column(c).to_numpy(zero_copy_only=False).sum())
    return {c: np.concatenate(v) if v else np.empty(0) for c, v in cols.items()}, sums


def hash_bucket_bins(batches, max_bucket: int, bin_s: float, labels: tuple[int, ...]):
    """mapInArrow over a partition of HASH_ROW_DDL rows holding whole hash buckets -> PAIR_BIN_DDL: its
    equal-hash pairs counted per (pair, offset bin) (bucket_bins), cut by the partition of the pair."""
    cols, _ = _columns(batches, ["hashes", "ids", "times"])
    (a, b, bins, n), capped, met = bucket_bins(cols["hashes"].astype(np.int64), cols["ids"].astype(np.int64),
                                               cols["times"].astype(np.float32), max_bucket, bin_s)
    part = hash_partition(a ^ (b * np.int64(31)), len(labels), salt=0x5BD1E995)
    yield packed_by_partition(labels, part, ["a", "b", "bins", "n"], [a, b, bins, n.astype(np.int32)],
                  {"capped": capped, "met": met})


def pair_votes_of(a: np.ndarray, b: np.ndarray, bins: np.ndarray, n: np.ndarray, min_votes: int):
    """(va, vb, votes) of the pairs whose best two neighbouring offset bins hold >= min_votes equal-hash pairs."""
    if len(a) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    a, b, bins, n = _count_runs(a, b, bins.astype(np.int64), n.astype(np.int64))
    votes = n.copy()
    nxt = (a[1:] == a[:-1]) & (b[1:] == b[:-1]) & (bins[1:] == bins[:-1] + 1)
    votes[:-1] += np.where(nxt, n[1:], 0)
    new = np.ones(len(a), bool)
    new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(new)
    best = np.maximum.reduceat(votes, starts)
    keep = best >= min_votes
    return a[starts][keep], b[starts][keep], best[keep]


def pair_votes(batches, min_votes: int):
    """mapInArrow over a partition of PAIR_BIN_DDL rows holding whole pairs -> VOTES_DDL: the voted pairs
    (pair_votes_of) and one row (va null) with the summed capped / met."""
    import pyarrow as pa

    cols, sums = _columns(batches, ["a", "b", "bins", "n"], ("capped", "met"))
    va, vb, votes = pair_votes_of(cols["a"].astype(np.int64), cols["b"].astype(np.int64), cols["bins"],
                                  cols["n"], min_votes)
    names = ["va", "vb", "votes", "capped", "met"]
    yield pa.RecordBatch.from_arrays([pa.array([None], pa.int64()), pa.array([None], pa.int64()),
                                      pa.array([None], pa.int32()), pa.array([sums["capped"]], pa.int64()),
                                      pa.array([sums["met"]], pa.int64())], names)
    if len(va):
        yield pa.RecordBatch.from_arrays([pa.array(va), pa.array(vb), pa.array(votes.astype(np.int32)),
                                          pa.nulls(len(va), pa.int64()), pa.nulls(len(va), pa.int64())], names)
