"""pandas adapters of the video kind (mapInPandas), thin wrappers over udfs/video.py.

Like udfs/adapters.py: pandas in, pandas out, failures as "reason: message"
values in `decode_error`, testable without a SparkSession.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from udfs.adapters import ContentChanged, _error
from udfs.video import SEGMENT_COLUMNS

#: Per distinct content: container facts and the sampled frames (udfs/video.VideoFeatures);
#: frame_times in seconds from the first frame; frame_hashes, flip_hashes, crop_hashes, centre_hashes:
#: signed 64-bit pHashes of each frame's content box, its mirror, its centre 90% and centre 60%.
VIDEO_FEATURE_DDL = ("content_sha256 string, duration_s double, fps double, width int, height int, bitrate long, "
                     "codec string, frames_sampled int, frame_times array<double>, frame_hashes array<long>, "
                     "flip_hashes array<long>, crop_hashes array<long>, centre_hashes array<long>, "
                     "informative array<boolean>, decode_error string")
FEATURE_COLUMNS = tuple(c.split()[0] for c in VIDEO_FEATURE_DDL.split(", "))
#: One row per informative frame, hash variant and band (HASH_VARIANTS: 0 the frame's hash, 1 its
#: mirror's, 2 its centre 90%'s, 3 its centre 60%'s).
FRAME_BAND_DDL = "content_sha256 string, frame int, band int, value long, variant int"


def frame_band_ddl(key: str = "content_sha256 string") -> str:
    """FRAME_BAND_DDL with another key column (the candidate stage keys rows by a 64-bit id)."""
    return FRAME_BAND_DDL.replace("content_sha256 string", key)


HASH_VARIANTS = ("frame_hashes", "flip_hashes", "crop_hashes", "centre_hashes")
#: Precomputed frame signatures a table may carry instead of video files (`frame_hashes` required),
#: with their Spark types; see jobs/video_kind.signature_features for the defaults of the others.
SIGNATURE_TYPES = {"frame_hashes": "array<bigint>", "frame_times": "array<double>", "flip_hashes": "array<bigint>",
                   "crop_hashes": "array<bigint>", "centre_hashes": "array<bigint>", "informative": "array<boolean>",
                   "duration_s": "double"}
ALIGNED_DDL = ("sha_a string, sha_b string, similarity double, hamming int, start_a double, end_a double, "
               "start_b double, end_b double, coverage_a double, coverage_b double, time_scale double, "
               "keys string")


def video_features(batches: Iterator[pd.DataFrame], max_bytes: int, limits, fetch=None,
                   workers: int = 1) -> Iterator[pd.DataFrame]:
    """(content_sha256, uri) -> VIDEO_FEATURE_DDL: read, check the sha256, decode and sample once.

    `limits`: udfs.video.DecodeLimits. One bad file is one error value, never a
    failed task. Memory: `workers` files (and their decoders) at a time.
    """
    from udfs.hashing import sha256_hex
    from udfs.io import read_many
    from udfs.video import video_features as decode

    def features_of(data: bytes):
        return sha256_hex(data), decode(data, limits)

    for pdf in batches:
        rows = {c: [] for c in FEATURE_COLUMNS}
        results = read_many(list(pdf["uri"]), max_bytes, fetch, workers, transform=features_of)
        for sha, result in zip(pdf["content_sha256"], results):
            if not isinstance(result, Exception) and result[0] != sha:
                result = ContentChanged(sha, result[0])
            failed = isinstance(result, Exception)
            f = None if failed else result[1]
            rows["content_sha256"].append(sha)
            for c, v in (("duration_s", "duration_s"), ("fps", "fps"), ("width", "width"), ("height", "height"),
                         ("bitrate", "bitrate"), ("codec", "codec")):
                rows[c].append(None if failed else getattr(f, v))
            rows["frames_sampled"].append(None if failed else len(f.times))
            rows["frame_times"].append(None if failed else f.times.tolist())
            rows["frame_hashes"].append(None if failed else f.hashes.tolist())
            rows["flip_hashes"].append(None if failed else f.flips.tolist())
            rows["crop_hashes"].append(None if failed else f.crops.tolist())
            rows["centre_hashes"].append(None if failed else f.centres.tolist())
            rows["informative"].append(None if failed else f.informative.tolist())
            rows["decode_error"].append(_error(result) if failed else None)
        yield pd.DataFrame({
            **{c: rows[c] for c in ("content_sha256", "codec", "frame_times", *HASH_VARIANTS, "informative",
                                    "decode_error")},
            "duration_s": pd.array(rows["duration_s"], dtype="Float64"),
            "fps": pd.array(rows["fps"], dtype="Float64"),
            "width": pd.array(rows["width"], dtype="Int32"), "height": pd.array(rows["height"], dtype="Int32"),
            "bitrate": pd.array(rows["bitrate"], dtype="Int64"),
            "frames_sampled": pd.array(rows["frames_sampled"], dtype="Int32")})[list(FEATURE_COLUMNS)]


def band_keys(hashes: np.ndarray, bands: int = 4, pairs: bool = False) -> np.ndarray:
    """Bucket keys of 64-bit hashes (n,) -> (n, k) int64.

    Single: the `bands` band values (udfs.hashing.band_values, 4 x 16 bits; k = 4).
    Pairs: every two bands joined into one 32-bit key (k = 6 for 4 bands): far fewer
    unrelated frames share a key in a large corpus, but two frames must agree on
    two whole bands, so frames a few bits apart meet less often."""
    from udfs.hashing import band_values

    bv = band_values(np.asarray(hashes, np.int64), bands)
    if not pairs:
        return bv
    i, j = np.triu_indices(bands, 1)
    return (bv[:, i] << np.int64(32)) | bv[:, j]


def frame_band_rows(batches: Iterator[pd.DataFrame], bands: int = 4, pairs: bool = False,
                    key: str = "content_sha256") -> Iterator[pd.DataFrame]:
    """(key, *HASH_VARIANTS, informative) -> FRAME_BAND_DDL (its first column named `key`).

    Each informative frame's hashes, cut into bucket keys (`band_keys`; `band` is the
    key's index): two frames whose keys agree meet in that bucket. Uninformative
    frames emit nothing."""
    for pdf in batches:
        parts = []
        for sha, info, *arrays in zip(pdf[key], pdf["informative"], *[pdf[c] for c in HASH_VARIANTS]):
            keep = np.flatnonzero(np.asarray(info, bool))
            if not len(keep):
                continue
            for variant, values in enumerate(arrays):
                if values is None:  # a precomputed signature without this hash variant
                    continue
                keys = band_keys(np.asarray(values, np.int64)[keep], bands, pairs)  # (n, k)
                k = keys.shape[1]
                parts.append(pd.DataFrame({
                    key: sha, "frame": np.repeat(keep.astype(np.int32), k),
                    "band": np.tile(np.arange(k, dtype=np.int32), len(keep)),
                    "value": keys.reshape(-1), "variant": np.int32(variant)}))
        if parts:
            yield pd.concat(parts, ignore_index=True)


def align_pairs(batches: Iterator[pd.DataFrame], params, min_similarity: float) -> Iterator[pd.DataFrame]:
    """Candidate pairs joined with both videos' frames -> ALIGNED_DDL (pairs from min_similarity).

    Input columns: sha_a, sha_b and, for x in (a, b): times_x, hashes_x, flips_x, crops_x,
    centres_x, informative_x, duration_x. `params`: udfs.video.AlignParams. Memory: one pair's
    Hamming block (udfs.video.ROW_BLOCK x frames of b) at a time."""
    from udfs.video import align_pair

    for pdf in batches:
        out = []
        for row in pdf.itertuples(index=False):
            a, b = ({k: getattr(row, f"{k}_{x}") for k in ("times", "hashes", "flips", "crops", "centres",
                                                            "informative", "duration")} for x in ("a", "b"))
            found = align_pair(a, b, params)
            if found is None or found.similarity < min_similarity:
                continue
            out.append({"sha_a": row.sha_a, "sha_b": row.sha_b, "similarity": found.similarity,
                        "hamming": found.hamming, **{c: getattr(found, c) for c in SEGMENT_COLUMNS},
                        "keys": found.keys})
        if out:
            frame = pd.DataFrame(out)
            frame["hamming"] = frame["hamming"].astype(np.int32)
            yield frame
