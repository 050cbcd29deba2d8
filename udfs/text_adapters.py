"""pandas adapters of the text kind (mapInPandas), thin wrappers over udfs/text.py.

Like udfs/adapters.py: pandas in, pandas out, failures as "reason: message"
values in the `*_error` columns, testable without a SparkSession.
"""
from __future__ import annotations

import hashlib
from typing import Iterator

import numpy as np
import pandas as pd

from udfs.adapters import CONTENT_DDL, ContentChanged, _error

TEXT_CONTENT_DDL = CONTENT_DDL + ", text string"
#: chars / words: of the normalised text; text_sha256: sha256 of the normalised text (the exact stage);
#: minhash: num_perm uint32 (little-endian); shingles: sorted unique uint64 shingle hashes (little-endian).
TEXT_FEATURE_DDL = ("content_sha256 string, chars long, words long, text_sha256 string, minhash binary, "
                    "shingles binary, decode_error string")
#: tid: a 64-bit id per distinct normalised text (jobs/text_kind.py), ordered as its text_sha256.
BAND_KEY_DDL = "tid long, band int, key long"
BUCKET_PAIR_DDL = "ta long, tb long, capped int"
VERIFIED_DDL = "ta string, tb string, similarity double, hamming int"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def text_contents(batches: Iterator[pd.DataFrame], max_bytes: int, fetch=None,
                  workers: int = 1) -> Iterator[pd.DataFrame]:
    """(item_id, uri, input_error, text) -> TEXT_CONTENT_DDL.

    Inline text (a table's text column): content_sha256 and bytes of its UTF-8
    form, the text carried on. Files: read once for their sha256 and size (text
    null). Memory: `workers` files at a time.
    """
    from udfs.io import read_many

    for pdf in batches:
        n = len(pdf)
        shas, sizes, errors = [None] * n, [None] * n, [None] * n
        texts = pdf["text"].tolist() if "text" in pdf.columns else [None] * n
        files = []
        for i, (err, text) in enumerate(zip(pdf["input_error"], texts)):
            if not _missing(err):
                texts[i] = None
            elif not _missing(text):
                data = text.encode("utf-8")
                sizes[i] = len(data)
                if len(data) > max_bytes:
                    errors[i], texts[i] = f"too_large: {len(data)} bytes of text > {max_bytes}", None
                else:
                    shas[i] = hashlib.sha256(data).hexdigest()
            else:
                texts[i] = None
                files.append(i)
        results = read_many([pdf["uri"].iat[i] for i in files], max_bytes, fetch, workers,
                            transform=lambda data: (hashlib.sha256(data).hexdigest(), len(data)))
        for i, result in zip(files, results):
            if isinstance(result, Exception):
                errors[i] = _error(result)
            else:
                shas[i], sizes[i] = result
        yield pd.DataFrame({"item_id": pdf["item_id"], "uri": pdf["uri"], "input_error": pdf["input_error"],
                            "content_sha256": shas, "bytes": pd.array(sizes, dtype="Int64"),
                            "read_error": errors, "text": texts})


def text_features(batches: Iterator[pd.DataFrame], max_bytes: int, shingle_words: int, num_perm: int,
                  seed: int, fetch=None, workers: int = 1) -> Iterator[pd.DataFrame]:
    """(content_sha256, uri, text) -> TEXT_FEATURE_DDL: decode once, normalise, shingle, MinHash.

    A row with `text` uses it; otherwise the file is read again and must still
    hash to content_sha256 (`changed` error if not). Signatures are computed for
    the whole batch at once (udfs.text.minhash_signatures). Memory: one Arrow
    batch of texts and their shingle hashes.
    """
    from udfs import text as T
    from udfs.io import read_many

    perms = T.permutations(num_perm, seed)
    for pdf in batches:
        n = len(pdf)
        texts = pdf["text"].tolist() if "text" in pdf.columns else [None] * n
        uris = pdf["uri"].tolist()
        decoded: list = [None] * n
        errors: list = [None] * n
        files = [i for i in range(n) if _missing(texts[i])]
        for i in range(n):
            if not _missing(texts[i]):
                decoded[i], errors[i] = T.decode_inline(texts[i], uris[i] or "")
        results = read_many([uris[i] for i in files], max_bytes, fetch, workers)
        for i, result in zip(files, results):
            if isinstance(result, Exception):
                errors[i] = _error(result)
                continue
            sha, (text, err) = hashlib.sha256(result).hexdigest(), T.decode_text(result, uris[i])
            if sha != pdf["content_sha256"].iat[i]:
                errors[i] = _error(ContentChanged(pdf["content_sha256"].iat[i], sha))
            else:
                decoded[i], errors[i] = text, err
        yield _feature_frame(pdf["content_sha256"].tolist(), decoded, errors, shingle_words, perms)


def _feature_frame(shas: list, decoded: list, errors: list, k: int, perms) -> pd.DataFrame:
    """Per content: normalised-text sha, shingles and signature of the decoded texts (nulls on errors).

    Shingles and signatures are computed for the batch at once (udfs.text.shingle_hashes_batch,
    minhash_signatures_flat): the same values as udfs.text.text_features one text at a time.
    """
    from udfs import text as T

    n = len(shas)
    ok = [i for i, t in enumerate(decoded) if t is not None and errors[i] is None]
    norms = [T.normalise(decoded[i]) for i in ok]
    tokens = [T.words(x) for x in norms]
    values, lengths = T.shingle_hashes_batch(tokens, k)
    sigs = T.minhash_signatures_flat(values, lengths, perms).astype("<u4")
    packed = values.astype("<u8").tobytes()
    ends = np.cumsum(lengths) * 8
    text_sha, chars, nwords = [None] * n, [None] * n, [None] * n
    minhash, shingles = [None] * n, [None] * n
    for row, i in enumerate(ok):
        text_sha[i], chars[i], nwords[i] = T.text_sha256(norms[row]), len(norms[row]), len(tokens[row])
        minhash[i], shingles[i] = sigs[row].tobytes(), packed[ends[row] - lengths[row] * 8:ends[row]]
    okset = set(ok)
    return pd.DataFrame({
        "content_sha256": shas,
        "chars": pd.array(chars, dtype="Int64"),
        "words": pd.array(nwords, dtype="Int64"),
        "text_sha256": text_sha,
        "minhash": minhash, "shingles": shingles,
        "decode_error": [errors[i] if i not in okset else None for i in range(n)]})


def band_rows(batches: Iterator[pd.DataFrame], bands: int, rows: int) -> Iterator[pd.DataFrame]:
    """(tid, minhash) -> BAND_KEY_DDL: one row per document and band (tid: the text's 64-bit id)."""
    from udfs import text as T

    for pdf in batches:
        if pdf.empty:
            continue
        sigs = np.frombuffer(b"".join(pdf["minhash"]), dtype="<u4").reshape(len(pdf), -1)
        keys = T.band_keys(sigs, bands, rows)
        yield pd.DataFrame({"tid": np.repeat(pdf["tid"].to_numpy(np.int64), bands),
                            "band": np.tile(np.arange(bands, dtype=np.int32), len(pdf)),
                            "key": keys.reshape(-1)})


def bucket_pairs(batches: Iterator[pd.DataFrame], max_bucket: int) -> Iterator[pd.DataFrame]:
    """(tid, band, key) rows of a whole partition, every bucket (band, key) in one partition -> BUCKET_PAIR_DDL.

    Repeated rows (a text of several contents) count once. Texts sharing a bucket are candidates: all pairs (ta < tb) of a bucket of up to
    `max_bucket` texts, a star around its smallest tid beyond (plus one row
    ta = tb = null, capped = 1, per such bucket). Pairs repeated across the
    partition's buckets are emitted once. Memory: the partition's rows (3 x 8
    bytes each) and its pairs.
    """
    frames = [pdf for pdf in batches if not pdf.empty]
    if not frames:
        return
    pdf = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    ta, tb, capped = bucket_pair_arrays(pdf["tid"].to_numpy(np.int64), pdf["band"].to_numpy(np.int64),
                                        pdf["key"].to_numpy(np.int64), max_bucket)
    out = pd.DataFrame({"ta": pd.array(ta, dtype="Int64"), "tb": pd.array(tb, dtype="Int64"),
                        "capped": np.zeros(len(ta), dtype=np.int32)})
    if capped:
        out = pd.concat([out, pd.DataFrame({"ta": pd.array([None] * capped, dtype="Int64"),
                                            "tb": pd.array([None] * capped, dtype="Int64"),
                                            "capped": np.ones(capped, dtype=np.int32)})], ignore_index=True)
    for start in range(0, max(len(out), 1), 1 << 20):
        yield out.iloc[start:start + (1 << 20)]


def bucket_pair_arrays(tid: np.ndarray, band: np.ndarray, key: np.ndarray,
                       max_bucket: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Candidate pairs (ta < tb, unique) of the buckets (band, key) and the number of buckets over max_bucket."""
    order = np.lexsort((tid, key, band))
    tid, band, key = tid[order], band[order], key[order]
    first_row = np.ones(len(tid), dtype=bool)  # a text repeats when several contents share it
    first_row[1:] = (tid[1:] != tid[:-1]) | (band[1:] != band[:-1]) | (key[1:] != key[:-1])
    tid, band, key = tid[first_row], band[first_row], key[first_row]
    n = len(tid)
    new = np.ones(n, dtype=bool)
    new[1:] = (band[1:] != band[:-1]) | (key[1:] != key[:-1])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, n))
    parts_a, parts_b = [], []
    small = (sizes > 1) & (sizes <= max_bucket)
    for size in np.unique(sizes[small]):
        first = starts[small & (sizes == size)]
        i, j = np.triu_indices(int(size), 1)
        parts_a.append(tid[(first[:, None] + i[None, :]).reshape(-1)])
        parts_b.append(tid[(first[:, None] + j[None, :]).reshape(-1)])
    big = sizes > max_bucket
    for first, size in zip(starts[big], sizes[big]):  # a star around the bucket's smallest tid
        parts_a.append(np.full(size - 1, tid[first], dtype=np.int64))
        parts_b.append(tid[first + 1:first + size])
    if not parts_a:
        return np.empty(0, np.int64), np.empty(0, np.int64), int(big.sum())
    a, b = np.concatenate(parts_a), np.concatenate(parts_b)
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    keep = np.ones(len(a), dtype=bool)
    keep[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[keep], b[keep], int(big.sum())


def verify_pairs(batches: Iterator[pd.DataFrame], min_jaccard: float) -> Iterator[pd.DataFrame]:
    """(ta, tb, minhash_a, minhash_b, shingles_a, shingles_b) -> VERIFIED_DDL.

    similarity: the exact Jaccard similarity of the two shingle sets; hamming: the
    signature slots that differ (the MinHash estimate is 1 - hamming / num_perm).
    Pairs below `min_jaccard` are dropped. Vectorised over a batch (pair_jaccard).
    """
    for pdf in batches:
        if pdf.empty:
            continue
        sims = pair_jaccard(pdf["shingles_a"].tolist(), pdf["shingles_b"].tolist())
        ma = np.frombuffer(b"".join(pdf["minhash_a"]), dtype="<u4").reshape(len(pdf), -1)
        mb = np.frombuffer(b"".join(pdf["minhash_b"]), dtype="<u4").reshape(len(pdf), -1)
        hams = np.count_nonzero(ma != mb, axis=1).astype(np.int32)
        out = pd.DataFrame({"ta": pdf["ta"], "tb": pdf["tb"], "similarity": sims, "hamming": hams})
        yield out[out["similarity"] >= min_jaccard]


def pair_jaccard(shingles_a: list, shingles_b: list) -> np.ndarray:
    """Exact Jaccard of each pair of packed sorted unique uint64 shingle sets (as udfs.text.jaccard), (n,) float64.

    Both sides of every pair are tagged with the pair's index and sorted together:
    a value seen twice within one pair is in the intersection.
    """
    n = len(shingles_a)
    len_a = np.fromiter((len(x) // 8 if x else 0 for x in shingles_a), dtype=np.int64, count=n)
    len_b = np.fromiter((len(x) // 8 if x else 0 for x in shingles_b), dtype=np.int64, count=n)
    values = np.frombuffer(b"".join(x or b"" for x in shingles_a) + b"".join(x or b"" for x in shingles_b),
                           dtype="<u8")
    pair = np.concatenate([np.repeat(np.arange(n), len_a), np.repeat(np.arange(n), len_b)])
    order = np.lexsort((values, pair))
    v, p = values[order], pair[order]
    twice = (v[1:] == v[:-1]) & (p[1:] == p[:-1])
    inter = np.bincount(p[1:][twice], minlength=n).astype(np.int64)
    union = len_a + len_b
    out = np.zeros(n, dtype=np.float64)
    nz = union > 0
    out[nz] = inter[nz] / (union[nz] - inter[nz])
    return out
