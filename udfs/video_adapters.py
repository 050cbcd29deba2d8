"""pandas adapters of the video kind (mapInPandas), thin wrappers over udfs/video.py.

Like udfs/adapters.py: pandas in, pandas out, failures as "reason: message"
values in `decode_error`, testable without a SparkSession.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from udfs.adapters import ContentChanged, _error
from udfs.packing import hash_partition, packed_by_partition, ragged_arange
from udfs.video import SEGMENT_COLUMNS

#: Per distinct content: container facts and the sampled frames (udfs/video.VideoFeatures);
#: frame_times in seconds from the first frame; frame_hashes, flip_hashes, crop_hashes, centre_hashes:
#: signed 64-bit pHashes of each frame's content box, its mirror, its centre 90% and centre 60%.
VIDEO_FEATURE_DDL = ("content_sha256 string, duration_s double, fps double, width int, height int, bitrate long, "
                     "codec string, frames_sampled int, frame_times array<double>, frame_hashes array<long>, "
                     "flip_hashes array<long>, crop_hashes array<long>, centre_hashes array<long>, "
                     "informative array<boolean>, decode_error string")
FEATURE_COLUMNS = tuple(c.split()[0] for c in VIDEO_FEATURE_DDL.split(", "))
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


# ---------------------------------------------------------------------------- candidate buckets (mapInArrow)

#: The bucket rows of a batch of videos bound for one partition (frame_bucket_rows), packed in arrays:
#: one element per informative frame, hash variant and bucket key; `keys` the bucket (the key's
#: index in its top byte, the band value below: BUCKET_BAND_SHIFT), `vids` the video's 64-bit id,
#: `fvs` frame * 4 + variant (HASH_VARIANTS index); `part` the label of the partition (hash_partition).
BUCKET_ROW_DDL = "part int, keys array<long>, vids array<long>, fvs array<int>"
BUCKET_BAND_SHIFT = 56  # band values are < 2^48 (pairs of 16-bit bands): the key's index fits above them
#: Per video pair met in one partition of buckets: the distinct frames of each video that met the
#: other (va < vb, fa of va, fb of vb); one row per partition with va null carries `capped`, its
#: buckets of more than max_bucket videos.
BUCKET_VOTES_DDL = "va long, vb long, fa array<int>, fb array<int>, capped long"
#: (x variant, y variant) of the bucket meetings that vote (udfs.video.KEY_VARIANTS): hash with hash,
#: a hash with the other's mirror or centre-90% hash (either way round), centre-60% with centre-60%
VOTING_VARIANTS = ((0, 0), (0, 1), (0, 2), (3, 3))


def _lists(arr) -> tuple[np.ndarray, np.ndarray]:
    """(values of the non-null lists of a pyarrow ListArray in order, (n,) lengths with 0 for a null list)."""
    import pyarrow.compute as pc

    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return arr.flatten().to_numpy(zero_copy_only=False), lengths


def bucket_rows(vid: np.ndarray, lengths: np.ndarray, informative: np.ndarray,
                variants: list[tuple[np.ndarray, np.ndarray]], bands: int = 4,
                pairs: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key, vid, fv) rows (BUCKET_ROW_DDL) of a batch of videos, vectorised: vid (n,), lengths (n,)
    their frames, informative the concatenated flags; variants[v] = (the concatenated hashes of
    HASH_VARIANTS[v], (n,) their lengths: a video whose length differs from its frames' (a null list:
    a signature without that variant) emits nothing for it)."""
    lengths = np.asarray(lengths, np.int64)
    row = np.repeat(np.arange(len(lengths)), lengths)
    frame = np.arange(len(row)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    keys, vids, fvs = [], [], []
    for v, (values, vlen) in enumerate(variants):
        vlen = np.asarray(vlen, np.int64)
        present = vlen == lengths
        if not present.any():
            continue
        values = np.asarray(values, np.int64)[present[np.repeat(np.arange(len(vlen)), np.maximum(vlen, 0))]]
        sel = present[row]
        ok = np.asarray(informative, bool)[sel]
        k = band_keys(values[ok], bands, pairs)  # (m, K)
        keys.append(((np.arange(k.shape[1], dtype=np.int64) << np.int64(BUCKET_BAND_SHIFT)) | k).reshape(-1))
        vids.append(np.repeat(np.asarray(vid, np.int64)[row[sel][ok]], k.shape[1]))
        fvs.append(np.repeat((frame[sel][ok] * 4 + v).astype(np.int32), k.shape[1]))
    if not keys:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32)
    return np.concatenate(keys), np.concatenate(vids), np.concatenate(fvs)


def frame_bucket_rows(batches, bands: int = 4, pairs: bool = False, key: str = "vid",
                      labels: tuple[int, ...] = (0,)):
    """mapInArrow: (key, *HASH_VARIANTS, informative) -> BUCKET_ROW_DDL: a batch's bucket rows
    (bucket_rows) cut by partition (hash_partition over len(labels) partitions), one output row per
    partition holding its rows in arrays, labelled labels[partition] (a value the job's repartition
    sends to that partition). Shuffling a few rows of long arrays costs Spark far less than one row
    per frame and key. Uninformative frames emit nothing."""
    for batch in batches:
        if batch.num_rows == 0:
            continue
        vid = batch.column(key).to_numpy(zero_copy_only=False).astype(np.int64)
        info, lengths = _lists(batch.column("informative"))
        variants = [_lists(batch.column(c)) for c in HASH_VARIANTS]
        for c, (_, vlen) in zip(HASH_VARIANTS, variants):
            vlen[~batch.column(c).is_valid().to_numpy(zero_copy_only=False)] = -1  # absent, not empty
        k, v, fv = bucket_rows(vid, lengths, info.astype(bool), variants, bands, pairs)
        if not len(k):
            continue
        yield packed_by_partition(labels, hash_partition(k, len(labels)), ["keys", "vids", "fvs"],
                                  [k, v, fv.astype(np.int32)])


def bucket_meetings(key: np.ndarray, vid: np.ndarray, fv: np.ndarray, max_bucket: int,
                    chunk: int = 2_000_000) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int]:
    """The votes of the bucket rows of whole buckets (every row of a key present).

    Returns ((va, vb, code) of each distinct (video pair, side, frame) met: code = side << 32 | frame,
    side 0 the frame of va < vb, 1 of vb; sorted), and how many buckets hold more than max_bucket
    videos (skipped, as are buckets of one video). Two videos meet when a row of one (variant x) and
    a row of the other (variant y) share a key with (x, y) in VOTING_VARIANTS. Memory: rows of the
    buckets of 2..max_bucket videos, and `chunk` (row group, partner group) candidates at a time."""
    empty = (np.empty(0, np.int64),) * 3
    if len(key) == 0:
        return empty, 0
    variant, frame = (fv & 3).astype(np.int8), (fv >> 2).astype(np.int64)
    order = np.lexsort((frame, variant, vid, key))
    key, vid, variant, frame = key[order], vid[order], variant[order], frame[order]
    n = len(key)
    new_bucket = np.ones(n, bool)
    new_bucket[1:] = key[1:] != key[:-1]
    new_vid = new_bucket.copy()
    new_vid[1:] |= vid[1:] != vid[:-1]
    bucket = np.cumsum(new_bucket) - 1
    videos = np.bincount(bucket, weights=new_vid).astype(np.int64)
    capped = int((videos > max_bucket).sum())
    keep = ((videos >= 2) & (videos <= max_bucket))[bucket]
    if not keep.any():
        return empty, capped
    key, vid, variant, frame, new_vid = key[keep], vid[keep], variant[keep], frame[keep], new_vid[keep]
    n = len(key)
    # groups: the rows of one (bucket, video, variant), their frames in order
    new_group = new_vid.copy()
    new_group[0] = True
    new_group[1:] |= (variant[1:] != variant[:-1]) | (key[1:] != key[:-1])
    gstart = np.flatnonzero(new_group)
    glen = np.diff(np.append(gstart, n))
    gkey, gvid, gvar = key[gstart], vid[gstart], variant[gstart]
    g_new_bucket = np.ones(len(gstart), bool)
    g_new_bucket[1:] = gkey[1:] != gkey[:-1]
    gbucket = np.cumsum(g_new_bucket) - 1
    bstart = np.flatnonzero(g_new_bucket)
    bsize = np.diff(np.append(bstart, len(gstart)))
    xs = np.flatnonzero((gvar == 0) | (gvar == 3))  # the x side of VOTING_VARIANTS
    partners = bsize[gbucket[xs]]
    reach = np.concatenate([[0], np.cumsum(partners)])
    out_a, out_b, out_code = [], [], []
    held, last = 0, chunk
    lo = 0
    while lo < len(xs):
        hi = max(lo + 1, int(np.searchsorted(reach, reach[lo] + chunk, "right")) - 1)
        x = np.repeat(xs[lo:hi], partners[lo:hi])
        y = ragged_arange(bstart[gbucket[xs[lo:hi]]], partners[lo:hi])
        lo = hi
        vx, vy, sx, sy = gvar[x], gvar[y], gvid[x], gvid[y]
        met = ((((vx == 0) & (vy == 0)) | ((vx == 3) & (vy == 3))) & (sx < sy)) | \
              ((vx == 0) & ((vy == 1) | (vy == 2)) & (sx != sy))
        x, y, sx, sy = x[met], y[met], sx[met], sy[met]
        if not len(x):
            continue
        va, vb = np.minimum(sx, sy), np.maximum(sx, sy)
        side_x = (sx > sy).astype(np.int64)
        for g, side in ((x, side_x), (y, 1 - side_x)):
            rows = ragged_arange(gstart[g], glen[g])
            out_a.append(np.repeat(va, glen[g]))
            out_b.append(np.repeat(vb, glen[g]))
            out_code.append((np.repeat(side, glen[g]) << np.int64(32)) | frame[rows])
            held += len(rows)
        if held > 2 * last:  # a pair meets in many buckets of a partition: keep the distinct ones
            a, b, c = _distinct(out_a, out_b, out_code)
            out_a, out_b, out_code = [a], [b], [c]
            held, last = len(a), max(len(a), chunk)
    if not out_a:
        return empty, capped
    return _distinct(out_a, out_b, out_code), capped


def _distinct(a: list, b: list, code: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, code = np.concatenate(a), np.concatenate(b), np.concatenate(code)
    order = np.lexsort((code, b, a))
    a, b, code = a[order], b[order], code[order]
    first = np.ones(len(a), bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1]) | (code[1:] != code[:-1])
    return a[first], b[first], code[first]


def bucket_votes(batches, max_bucket: int):
    """mapInArrow over a partition of BUCKET_ROW_DDL rows holding whole buckets (one `part`, or several
    whose buckets differ) -> BUCKET_VOTES_DDL: per video pair met, the distinct frames of each side
    (bucket_meetings), and one row (va null) with the partition's capped bucket count. Reads the
    whole partition: memory ~60 bytes a bucket row, then the rows of the shared buckets."""
    import pyarrow as pa

    cols: dict[str, list] = {"keys": [], "vids": [], "fvs": []}
    for batch in batches:
        for c in cols:
            cols[c].append(batch.column(c).flatten().to_numpy(zero_copy_only=False))
    arrays = {c: (np.concatenate(v) if v else np.empty(0, np.int64)).astype(np.int64) for c, v in cols.items()}
    (va, vb, code), capped = bucket_meetings(arrays["keys"], arrays["vids"], arrays["fvs"], max_bucket)
    list_type = pa.list_(pa.int32())
    stats = pa.RecordBatch.from_arrays(
        [pa.array([None], pa.int64()), pa.array([None], pa.int64()), pa.array([None], list_type),
         pa.array([None], list_type), pa.array([capped], pa.int64())], ["va", "vb", "fa", "fb", "capped"])
    yield stats
    if not len(va):
        return
    new_pair = np.ones(len(va), bool)
    new_pair[1:] = (va[1:] != va[:-1]) | (vb[1:] != vb[:-1])
    pair = np.cumsum(new_pair) - 1
    starts = np.flatnonzero(new_pair)
    side_b = (code >> 32) == 1
    frames = (code & 0xFFFFFFFF).astype(np.int32)
    pairs = len(starts)

    def lists(mask: np.ndarray) -> pa.Array:
        counts = np.bincount(pair[mask], minlength=pairs)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(frames[mask]))

    step = 1_000_000
    fa, fb = lists(~side_b), lists(side_b)
    for lo in range(0, pairs, step):
        hi = min(lo + step, pairs)
        yield pa.RecordBatch.from_arrays(
            [pa.array(va[starts[lo:hi]]), pa.array(vb[starts[lo:hi]]), fa.slice(lo, hi - lo), fb.slice(lo, hi - lo),
             pa.nulls(hi - lo, pa.int64())], ["va", "vb", "fa", "fb", "capped"])
