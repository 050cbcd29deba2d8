"""Thin adapters between Spark's pandas batches and the pure kernels.

Each function takes and yields pandas DataFrames, so it runs under
`DataFrame.mapInPandas` / `groupBy(...).applyInPandas` on the executors and
equally in a unit test without a SparkSession. Failures become values in the
`*_error` columns ("reason: message"), never exceptions that kill the task.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd

from udfs.errors import ItemError

log = logging.getLogger("udfs.adapters")

# Spark DDL of each adapter's output, next to the code that produces it.
CONTENT_DDL = "item_id string, uri string, input_error string, content_sha256 string, bytes long, read_error string"
#: The weight-free keys of udfs/robust.py kept per content (null when not computed or,
#: for crop/rotation keys, when the region is flat); `quality`: how flat the content box is
#: (robust.KeyFeatures.quality; the whole picture's robust.quality() when it has no box).
ROBUST_KEY_COLUMNS = ("phash_trim", "phash_flip", "phash_c90", "phash_c80", "phash_c60", "phash_ccw5", "phash_cw5",
                      "phash_w90", "phash_w80", "phash_w60")
FEATURE_DDL = ("content_sha256 string, width int, height int, phash long, quality float, information float, "
               + ", ".join(f"{c} long" for c in ROBUST_KEY_COLUMNS)
               + ", thumb binary, thumb_full binary, thumb_whole binary, sparse boolean, chroma array<float>, place array<float>, "
               "content_area float, lossless boolean, embedding array<float>, decode_error string")
#: `thumb`: the content box's 64x64 greyscale thumbnail (udfs/verify.py), for the pixel check of
#: hash edges; `thumb_full`: the whole picture's, only when a thin frame was taken off
#: (robust.is_thin_frame: a full-image pHash pair is also checked on the pixels that hash saw);
#: `thumb_whole`: the whole picture's when a thicker frame or backdrop was taken off (what the
#: whole-picture crop keys phash_w* saw; their pairs are checked on it); `sparse`: a small object or stars on a black or white background (robust.object_box);
#: `information`: robust.information() of the content box's hash coefficients; `chroma`: its
#: robust.mean_chroma() (2 floats); `place`: a sparse picture's robust.object_place() (2 floats,
#: null when not sparse); `content_area`: the share of the picture inside its content box
#: (robust.box_area; 1.0 without a box); `lossless`: the file keeps its pixels without loss
#: (decode.is_lossless). The last two feed the keep policy (jobs/manifest.py).
FEATURE_COLUMNS = ("content_sha256", "width", "height", "phash", "quality", "information", *ROBUST_KEY_COLUMNS,
                   "thumb", "thumb_full", "thumb_whole", "sparse", "chroma", "place", "content_area", "lossless",
                   "embedding", "decode_error")
#: Which robust keys each key family (config phash.keys) needs.
FAMILY_KEYS = {"trim": ("phash_trim",), "flip": ("phash_trim", "phash_flip"),
               "crop": ("phash_trim", "phash_c90", "phash_c80", "phash_c60"),
               "rotate": ("phash_c60", "phash_ccw5", "phash_cw5"),
               "wcrop": ("phash_w90", "phash_w80", "phash_w60")}


def robust_keys(families) -> tuple[str, ...]:
    """The robust key columns the given key families need, in ROBUST_KEY_COLUMNS order."""
    wanted = {k for f in families for k in FAMILY_KEYS[f]}
    return tuple(k for k in ROBUST_KEY_COLUMNS if k in wanted)
BAND_DDL = "phash long, band int, value long, probe boolean"
PAIR_DDL = "sha_a string, sha_b string, similarity double"


class ContentChanged(ItemError):
    """The bytes read for decoding differ from those hashed earlier in the run."""

    def __init__(self, was: str, now: str) -> None:
        super().__init__("changed", f"content sha256 is now {now}, was {was} when the item was hashed")


def read_checked(uris: list[str], shas: list[str], max_bytes: int, fetch, workers: int, decode) -> list:
    """Read each uri, check its bytes still hash to the sha256 found at ingest, and decode them:
    one result per uri, `decode(bytes)` or the exception (a ReadError, ContentChanged, whatever
    decode raised). Memory: `workers` files and their decodes at once (udfs.io.read_many)."""
    from udfs.hashing import sha256_hex
    from udfs.io import read_many

    def checked(data: bytes):
        return sha256_hex(data), decode(data)

    out = []
    for sha, result in zip(shas, read_many(uris, max_bytes, fetch, workers, transform=checked)):
        if not isinstance(result, Exception):
            result = ContentChanged(sha, result[0]) if result[0] != sha else result[1]
        out.append(result)
    return out


def _error(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or "internal_error"
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    return f"{reason}: {message}"


FAULT_ENV = "DEDUP_FAIL_ONCE_DIR"


def _fault_injection_point(name: str) -> None:
    """Fail the first task that gets here, once per marker directory (for retry tests).

    Active only when the DEDUP_FAIL_ONCE_DIR environment variable names a
    directory; the marker file makes the retried attempt pass.
    """
    import os

    folder = os.environ.get(FAULT_ENV)
    if not folder:
        return
    try:
        fd = os.open(os.path.join(folder, f"{name}.failed"), os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return
    os.close(fd)
    raise RuntimeError(f"injected failure at {name} ({FAULT_ENV} is set)")


# ---------------------------------------------------------------------------- read + sha256

def hash_contents(batches: Iterator[pd.DataFrame], max_bytes: int, fetch=None,
                  workers: int = 1) -> Iterator[pd.DataFrame]:
    """(item_id, uri, input_error) -> + content_sha256, bytes, read_error.

    Reads each file once and keeps only its digest and size: decoding happens
    later, once per distinct content. `fetch`: udfs.io.FetchOptions for URLs;
    `workers` reads overlap (URLs, object stores). Memory: `workers` files at a time.
    """
    from udfs.hashing import sha256_hex
    from udfs.io import read_many

    for pdf in batches:
        todo = [i for i, e in enumerate(pdf["input_error"]) if e is None or pd.isna(e)]
        results = read_many([pdf["uri"].iat[i] for i in todo], max_bytes, fetch, workers,
                            transform=lambda data: (sha256_hex(data), len(data)))
        shas, sizes, errors = [None] * len(pdf), [None] * len(pdf), [None] * len(pdf)
        for i, result in zip(todo, results):
            if isinstance(result, Exception):  # every failure becomes a row
                errors[i] = _error(result)
            else:
                shas[i], sizes[i] = result
        yield pdf.assign(content_sha256=shas, bytes=pd.array(sizes, dtype="Int64"), read_error=errors)


# ---------------------------------------------------------------------------- precomputed embeddings

VECTOR_DDL = CONTENT_DDL + ", embedding array<float>"
VECTOR_PACKED_DDL = CONTENT_DDL + ", embedding binary"


def _vector_rows(embeddings: list, input_errors: list, dim: int) -> tuple[list, list, list]:
    """vector_contents' per-row work: (sha, error, unit float32 vector) for each row.

    Rows without an input error whose embedding has `dim` finite components are
    done together (one stack, one division); the result is bit for bit what the
    per-row rule gives (norm = sqrt of the float32 dot product, then v / norm),
    so content ids do not depend on the batch. Other rows take the per-row rule.
    """
    import hashlib

    n = len(embeddings)
    shas, errors, vectors = [None] * n, [None] * n, [None] * n
    fast, slow = [], []
    for i, (vec, input_error) in enumerate(zip(embeddings, input_errors)):
        if input_error is not None and not pd.isna(input_error):
            continue
        (fast if isinstance(vec, np.ndarray) and vec.shape == (dim,) else slow).append(i)
    if fast:
        x = np.stack([embeddings[i] for i in fast]).astype(np.float32, copy=False)
        finite = np.isfinite(x).all(axis=1)
        # np.linalg.norm of a 1-D float32 row is sqrt(row.dot(row)) in float32
        norms = np.sqrt(np.array([row.dot(row) for row in x], dtype=np.float32))
        ok = finite & np.isfinite(norms) & (norms != 0)
        units = x / np.where(ok, norms, np.float32(1))[:, None]
        for j, i in enumerate(fast):
            if ok[j]:
                vectors[i] = units[j]
                shas[i] = hashlib.sha256(units[j].tobytes()).hexdigest()
            else:
                errors[i] = "bad_embedding: contains NaN/inf or is all zeros"
    for i in slow:
        v = np.asarray(embeddings[i], dtype=np.float32)
        norm = float(np.linalg.norm(v)) if v.ndim == 1 and np.isfinite(v).all() else float("nan")
        if v.shape != (dim,):
            errors[i] = f"bad_embedding: length {v.size}, expected {dim}"
        elif not np.isfinite(norm) or norm == 0.0:
            errors[i] = "bad_embedding: contains NaN/inf or is all zeros"
        else:
            vectors[i] = v / norm
            shas[i] = hashlib.sha256(vectors[i].tobytes()).hexdigest()
    return shas, errors, vectors


def vector_contents(batches: Iterator[pd.DataFrame], dim: int, dtype: str | None = None) -> Iterator[pd.DataFrame]:
    """(item_id, uri, input_error, embedding) -> CONTENT_DDL + the L2-normalised embedding.

    With precomputed embeddings the content is the vector: content_sha256 is the
    SHA-256 of its float32 bytes, so identical vectors are exact duplicates.
    A vector of the wrong length, with NaN/inf, or all zeros becomes a read_error.
    `dtype` (e.g. "float16"): the embedding leaves packed as udfs.ivf.pack_rows
    bytes (VECTOR_PACKED_DDL), the self-join's transport form, instead of array<float>.
    """
    import hashlib

    from udfs.ivf import pack_rows

    for pdf in batches:
        shas, errors, vectors = _vector_rows(pdf["embedding"].tolist(), pdf["input_error"].tolist(), dim)
        if dtype:
            ok = [i for i, v in enumerate(vectors) if v is not None]
            packed = pack_rows(np.stack([vectors[i] for i in ok]), dtype) if ok else []
            vectors = [None] * len(vectors)
            for i, blob in zip(ok, packed):
                vectors[i] = blob
        yield pdf.drop(columns="embedding").assign(
            content_sha256=shas, bytes=pd.array([None] * len(pdf), dtype="Int64"),
            read_error=errors, embedding=vectors)


# ---------------------------------------------------------------------------- decode + features

@dataclass(frozen=True)
class EmbedSpec:
    """What the executors need to load the embedding model (no config objects cross over)."""

    model_path: str
    device: str = "auto"
    precision: str = "auto"
    batch_size: int = 32
    num_threads: int | None = None


def compute_features(batches: Iterator[pd.DataFrame], max_bytes: int, max_pixels: int,
                     embed: EmbedSpec | None, fetch=None, workers: int = 1,
                     keys: tuple[str, ...] = ()) -> Iterator[pd.DataFrame]:
    """(content_sha256, uri) -> FEATURE_DDL: decode once, then hashes and the embedding.

    Per content: pHash, quality (flatness score of the content box) and the robust key columns named
    in `keys` (see robust_keys; the others stay null). Read, sha256 check, decode and
    hashing run in `workers` threads. Bytes that no longer hash to content_sha256
    (the file or URL changed since it was hashed) become a `changed` error. Memory:
    with an embedding model, one Arrow batch of decoded images
    (spark.arrow_batch_rows), embedded in chunks of `embed.batch_size`; without
    one, only the hashes are kept.
    """
    from udfs.decode import decode_image
    from udfs import robust
    from udfs.hashing import sha256_hex
    from udfs.io import read_many

    embedder = _load_embedder(embed) if embed else None
    settings = robust.RobustConfig(keys=(robust.KEY_PHASH, *keys))

    def features_of(data: bytes) -> tuple:
        decoded = decode_image(data, max_pixels)
        image = decoded.image if embedder else None  # keep pixels only for the model
        keyed = robust.key_features(decoded.image, settings)
        hashes = {**keyed.hashes, "quality": keyed.quality, "thumb": keyed.thumb, "thumb_full": keyed.thumb_full,
                  "thumb_whole": keyed.thumb_whole,
                  "sparse": keyed.sparse, "information": keyed.information, "chroma": list(keyed.chroma),
                  "place": None if keyed.place is None else list(keyed.place),
                  "content_area": keyed.area, "lossless": decoded.lossless}
        return sha256_hex(data), decoded.width, decoded.height, hashes, image

    hash_columns = ("phash", *ROBUST_KEY_COLUMNS)
    for pdf in batches:
        _fault_injection_point("features")
        per_content = ("quality", "information", *hash_columns, "thumb", "thumb_full", "thumb_whole", "sparse",
                       "chroma", "place", "content_area", "lossless")
        columns: dict[str, list] = {c: [] for c in ("content_sha256", "width", "height", *per_content, "decode_error")}
        images = []
        results = read_many(list(pdf["uri"]), max_bytes, fetch, workers, transform=features_of)
        for sha, result in zip(pdf["content_sha256"], results):
            if not isinstance(result, Exception) and result[0] != sha:
                result = ContentChanged(sha, result[0])
            failed = isinstance(result, Exception)
            hashes = {} if failed else result[3]
            columns["content_sha256"].append(sha)
            columns["width"].append(None if failed else result[1])
            columns["height"].append(None if failed else result[2])
            for c in per_content:
                columns[c].append(hashes.get(c))
            columns["decode_error"].append(_error(result) if failed else None)
            images.append(None if failed else result[4])
        # Each column with its own dtype: a frame built from rows would pass the 64-bit
        # hashes through float64 (53-bit mantissa) wherever a row is None.
        out = pd.DataFrame({
            "content_sha256": columns["content_sha256"],
            "width": pd.array(columns["width"], dtype="Int32"),
            "height": pd.array(columns["height"], dtype="Int32"),
            "quality": pd.array(columns["quality"], dtype="Float32"),
            "information": pd.array(columns["information"], dtype="Float32"),
            **{c: pd.array(columns[c], dtype="Int64") for c in hash_columns},
            "thumb": columns["thumb"],
            "thumb_full": columns["thumb_full"],
            "thumb_whole": columns["thumb_whole"],
            "sparse": pd.array(columns["sparse"], dtype="boolean"),
            "chroma": columns["chroma"],
            "place": columns["place"],
            "content_area": pd.array(columns["content_area"], dtype="Float32"),
            "lossless": pd.array(columns["lossless"], dtype="boolean"),
            "decode_error": columns["decode_error"]})
        out["embedding"] = _embed_column(embedder, images) if embedder else None
        yield out[list(FEATURE_COLUMNS)]


def _load_embedder(spec: EmbedSpec):
    from udfs.embed import get_embedder
    return get_embedder(spec.model_path, spec.device, spec.precision, spec.batch_size, spec.num_threads)


def _embed_column(embedder, images: list) -> list:
    """Embeddings for the decoded images, None where decoding failed."""
    ok = [i for i, im in enumerate(images) if im is not None]
    column: list = [None] * len(images)
    if ok:
        vectors = embedder.embed([images[i] for i in ok])
        for i, vec in zip(ok, vectors):
            column[i] = vec.astype(np.float32)
    return column


# ---------------------------------------------------------------------------- phash bands

def phash_bands(batches: Iterator[pd.DataFrame], bands: int, radius: int) -> Iterator[pd.DataFrame]:
    """Distinct pHash values -> multi-index hashing keys.

    Each hash emits its `bands` exact band values (probe=False) and every value
    within `radius` bits of them (probe=True). Joining probes to exact values
    finds every pair within bands * (radius + 1) - 1 bits (pigeonhole; see
    udfs.hashing.band_radius). Rows per hash: bands * sum_{r<=radius} C(bits, r).
    """
    from udfs.hashing import band_layout, band_values, band_variants

    for pdf in batches:
        hashes = pdf["phash"].to_numpy(dtype=np.int64)
        values = band_values(hashes, bands)
        widths = [width for _, width in band_layout(bands)]
        parts = []
        for b, bits in enumerate(widths):
            col = values[:, b]
            parts.append(pd.DataFrame({"phash": hashes, "band": b, "value": col, "probe": False}))
            if radius > 0:
                variants = [band_variants(int(v), bits, radius) for v in col]
                counts = np.array([len(v) for v in variants])
                parts.append(pd.DataFrame({
                    "phash": np.repeat(hashes, counts), "band": b,
                    "value": np.concatenate(variants) if variants else np.empty(0, np.int64),
                    "probe": True}))
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["phash", "band", "value", "probe"])
        out["band"] = out["band"].astype(np.int32)
        yield out


# ---------------------------------------------------------------------------- IVF block search

PACKED_DDL = "content_sha256 string, embedding binary"


def pack_vectors(batches: Iterator[pd.DataFrame], dtype: str) -> Iterator[pd.DataFrame]:
    """(content_sha256, embedding array<float>) -> PACKED_DDL: each vector as `dtype` bytes.

    Packed once before the self-join, so the shuffles and caches carry
    d * itemsize bytes per vector and the kernels read them back with one
    frombuffer per batch (udfs.ivf.unpack_rows).
    """
    from udfs.ivf import pack_rows

    for pdf in batches:
        if pdf.empty:
            continue
        x = np.stack(pdf["embedding"].to_numpy())
        yield pd.DataFrame({"content_sha256": pdf["content_sha256"].to_numpy(), "embedding": pack_rows(x, dtype)})


def search_group(pdf: pd.DataFrame, threshold: float, max_neighbors: int, block_rows: int,
                 dtype: str) -> pd.DataFrame:
    """One (list, part) group -> pairs (sha_a < sha_b, similarity).

    Rows with role 'm' are the part's members, role 'q' the vectors probing this
    list, role 'b' both (a member of an unsplit list, which probes its home);
    `embedding` holds rows packed as `dtype` (pack_vectors). Memory: the group's
    vectors plus one block_rows x block_rows block.
    """
    from udfs.ivf import search_block, unpack_rows

    role = pdf["role"].to_numpy()
    is_member, is_query = role != "q", role != "m"
    if not is_member.any() or not is_query.any():
        return pd.DataFrame({"sha_a": pd.Series(dtype=str), "sha_b": pd.Series(dtype=str),
                             "similarity": pd.Series(dtype=np.float64)})
    x = unpack_rows(pdf["embedding"], dtype)  # once: 'b' rows are members and queries
    qi, mi, sim = search_block(x[is_query], x[is_member], threshold, max_neighbors, block_rows)  # self counts
    ids = pdf["content_sha256"].to_numpy()
    q_ids = ids[is_query][qi]
    m_ids = ids[is_member][mi]
    keep = q_ids != m_ids
    a = np.where(q_ids < m_ids, q_ids, m_ids)[keep]
    b = np.where(q_ids < m_ids, m_ids, q_ids)[keep]
    return pd.DataFrame({"sha_a": a, "sha_b": b, "similarity": sim[keep].astype(np.float64)})


VERIFIED_DDL = ("sha_a string, sha_b string, stage string, similarity double, hamming int, verify_score double, "
                "sparse boolean")


def verify_hash_pairs(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """(sha_a, sha_b, stage, similarity, hamming, thumb_a, thumb_b, sparse_a, sparse_b, chroma_a, chroma_b)
    -> VERIFIED_DDL.

    verify_score: udfs.verify.score of the two thumbnails aligned by the stage's key
    family (the detail correlation when either is sparse, then `sparse` is true);
    NaN (null) when a thumbnail is missing. ~0.2-1 ms per pair.
    """
    from udfs import verify

    for pdf in batches:
        sparse = (pdf["sparse_a"].fillna(False).astype(bool) | pdf["sparse_b"].fillna(False).astype(bool)).tolist()
        scores = verify.score_pairs(pdf["thumb_a"].tolist(), pdf["thumb_b"].tolist(), pdf["stage"].tolist(), sparse,
                                    pdf["chroma_a"].tolist(), pdf["chroma_b"].tolist(),
                                    pdf["place_a"].tolist(), pdf["place_b"].tolist(),
                                    pdf["thumb_full_a"].tolist(), pdf["thumb_full_b"].tolist(),
                                    pdf["thumb_whole_a"].tolist(), pdf["thumb_whole_b"].tolist())
        yield pdf.drop(columns=["thumb_a", "thumb_b", "thumb_full_a", "thumb_full_b", "thumb_whole_a", "thumb_whole_b",
                                "sparse_a", "sparse_b",
                                "chroma_a", "chroma_b", "place_a", "place_b"]).assign(
            verify_score=scores,
                                                                                     sparse=sparse)
