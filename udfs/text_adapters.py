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
BAND_KEY_DDL = "text_sha256 string, band int, key long"
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
    """Per content: normalised-text sha, shingles and signature of the decoded texts (nulls on errors)."""
    from udfs import text as T

    n = len(shas)
    feats = [T.text_features(t, k) if t is not None and errors[i] is None else None for i, t in enumerate(decoded)]
    ok = [i for i in range(n) if feats[i] is not None]
    sigs = T.minhash_signatures([feats[i][1] for i in ok], perms) if ok else np.empty((0, len(perms[0])))
    minhash, shingles = [None] * n, [None] * n
    for row, i in enumerate(ok):
        minhash[i], shingles[i] = T.pack_u32(sigs[row]), T.pack_u64(feats[i][1])
    return pd.DataFrame({
        "content_sha256": shas,
        "chars": pd.array([f[2] if f else None for f in feats], dtype="Int64"),
        "words": pd.array([f[3] if f else None for f in feats], dtype="Int64"),
        "text_sha256": [f[0] if f else None for f in feats],
        "minhash": minhash, "shingles": shingles,
        "decode_error": [errors[i] if feats[i] is None else None for i in range(n)]})


def band_rows(batches: Iterator[pd.DataFrame], bands: int, rows: int) -> Iterator[pd.DataFrame]:
    """(text_sha256, minhash) -> BAND_KEY_DDL: one row per document and band."""
    from udfs import text as T

    for pdf in batches:
        if pdf.empty:
            continue
        sigs = np.stack([T.unpack_u32(b) for b in pdf["minhash"]])
        keys = T.band_keys(sigs, bands, rows)
        yield pd.DataFrame({"text_sha256": np.repeat(pdf["text_sha256"].to_numpy(), bands),
                            "band": np.tile(np.arange(bands, dtype=np.int32), len(pdf)),
                            "key": keys.reshape(-1)})


def verify_pairs(batches: Iterator[pd.DataFrame], min_jaccard: float) -> Iterator[pd.DataFrame]:
    """(ta, tb, minhash_a, minhash_b, shingles_a, shingles_b) -> VERIFIED_DDL.

    similarity: the exact Jaccard similarity of the two shingle sets; hamming: the
    signature slots that differ (the MinHash estimate is 1 - hamming / num_perm).
    Pairs below `min_jaccard` are dropped. ~10 us per pair of 1,000-shingle documents.
    """
    from udfs import text as T

    for pdf in batches:
        sims, hams = [], []
        for ma, mb, sa, sb in zip(pdf["minhash_a"], pdf["minhash_b"], pdf["shingles_a"], pdf["shingles_b"]):
            sims.append(T.jaccard(T.unpack_u64(sa), T.unpack_u64(sb)))
            hams.append(int(np.count_nonzero(T.unpack_u32(ma) != T.unpack_u32(mb))))
        out = pd.DataFrame({"ta": pdf["ta"], "tb": pdf["tb"], "similarity": np.asarray(sims, dtype=np.float64),
                            "hamming": np.asarray(hams, dtype=np.int32)})
        yield out[out["similarity"] >= min_jaccard]
