"""The text kind's part of the corpus store: incremental runs and `dedup query` for text.

Run side: the stored contents' text features (STORE/state-*/features/, written
with the text feature fingerprint in kind.json) are reused as they are; only
contents the store does not hold are read and featurised (jobs/text_kind.py).

Query side (no Spark): a document is read and normalised with udfs/text.py,
then matched against the store's contents: identical bytes (`exact`), the same
normalised text (`text_exact`), and MinHash band keys shared with a stored
signature (`text_minhash`), each candidate verified on the exact Jaccard of the
shingle sets. Matches from text.candidate_threshold are listed; `duplicate`
says whether one reaches text.threshold, as in the job.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import text_kind
from jobs.config import CacheConfig, ConfigError, FetchConfig, InputConfig, JobConfig, TextConfig
from jobs.store import StoreState
from udfs import text as T
from udfs.io import read_bytes
from udfs.metrics import STAGE_EXACT, STAGE_TEXT_EXACT, STAGE_TEXT_MINHASH

TEXT_STAGE_ORDER = (STAGE_EXACT, STAGE_TEXT_EXACT, STAGE_TEXT_MINHASH)  # strongest first
FEATURE_COLUMNS = ("content_sha256", "chars", "words", "text_sha256", "minhash", "shingles", "decode_error")


# ---------------------------------------------------------------------------- incremental runs

def compute_features(spark: SparkSession, contents: DataFrame, prior: StoreState, input_cfg: InputConfig,
                     cfg: TextConfig, cache: CacheConfig, fingerprint: str,
                     fetch: FetchConfig = FetchConfig()) -> tuple[DataFrame | None, DataFrame]:
    """(stored or cached features, fresh features) of every distinct content; the store's own features
    are taken as they are when they were computed with this fingerprint, the rest as in a plain run."""
    distinct = text_kind.distinct_contents(contents)
    stored = prior.features if prior.feature_fingerprint == fingerprint else None
    if stored is None:
        return text_kind.compute_features(spark, distinct, input_cfg, cfg, cache, fingerprint, fetch)
    stored = stored.select(*FEATURE_COLUMNS).join(distinct.select("content_sha256"), "content_sha256", "left_semi")
    todo = distinct.join(stored.select("content_sha256"), "content_sha256", "left_anti")
    cached, fresh = text_kind.compute_features(spark, todo, input_cfg, cfg, cache, fingerprint, fetch)
    return (stored if cached is None else stored.unionByName(cached.select(*FEATURE_COLUMNS))), fresh


def stored_features(feats: DataFrame) -> DataFrame:
    """The features a text store keeps: those of the contents that were read and featurised."""
    return feats.where(F.col("decode_error").isNull()).select(*FEATURE_COLUMNS)


# ---------------------------------------------------------------------------- dedup query

@dataclass(frozen=True)
class TextIndex:
    """A text store's contents, loaded once: signatures, band keys and shingles per stored content."""

    items: pd.DataFrame          # item_id, uri, content_sha256, action, cluster_id
    features: pd.DataFrame       # content_sha256, text_sha256, shingles
    signatures: np.ndarray       # (n, num_perm) uint32, rows as `features`
    keys: np.ndarray             # (n, bands) int64 band keys
    fingerprint: str | None

    @classmethod
    def open(cls, state: Path, fingerprint: str | None, cfg: TextConfig) -> "TextIndex":
        if fingerprint is not None and fingerprint != text_kind.feature_fingerprint(cfg):
            raise ConfigError("the store's text features were computed with other text.shingle_words, num_perm "
                              "or seed settings; query with the settings of the runs that built it")
        items = ds.dataset(state / "items", format="parquet").to_table(
            columns=["item_id", "uri", "content_sha256", "action", "cluster_id"]).to_pandas()
        feats = ds.dataset(state / "features", format="parquet").to_table(
            columns=["content_sha256", "text_sha256", "minhash", "shingles"]).to_pandas()
        feats = feats.dropna(subset=["minhash"]).reset_index(drop=True)
        sigs = np.frombuffer(b"".join(feats["minhash"]), dtype="<u4").reshape(len(feats), cfg.num_perm) \
            if len(feats) else np.empty((0, cfg.num_perm), np.uint32)
        keys = T.band_keys(sigs, cfg.bands, cfg.rows)
        return cls(items, feats.drop(columns=["minhash"]), sigs, keys, fingerprint)


def query_text(index: TextIndex, path: str, cfg: JobConfig, top: int = 5) -> dict:
    """Matches of one document: same bytes, same normalised text, verified MinHash candidates."""
    tc = cfg.text
    data = read_bytes(path, cfg.input.max_file_bytes, cfg.fetch.options())
    sha = hashlib.sha256(data).hexdigest()
    text, error = T.decode_text(data, path)
    if error is not None:
        raise ValueError(f"cannot read the text: {error}")
    text_sha, shingles, _, _ = T.text_features(text, tc.shingle_words)
    if not len(shingles):
        raise ValueError("cannot read the text: empty_text")
    sig = T.minhash_signatures([shingles], T.permutations(tc.num_perm, tc.seed))[0]
    keys = T.band_keys(sig[None, :], tc.bands, tc.rows)[0]
    feats = index.features
    matches = [{"content_sha256": sha, "stage": STAGE_EXACT, "similarity": 1.0, "hamming": 0}] \
        if (index.items["content_sha256"] == sha).any() else []
    same = (feats["text_sha256"] == text_sha).to_numpy()
    matches += [{"content_sha256": c, "stage": STAGE_TEXT_EXACT, "similarity": 1.0, "hamming": 0}
                for c in feats["content_sha256"][same]]
    for i in np.flatnonzero((index.keys == keys[None, :]).any(axis=1) & ~same):
        j = T.jaccard(shingles, T.unpack_u64(feats.at[i, "shingles"]))
        if j >= tc.candidate_threshold:
            matches.append({"content_sha256": feats.at[i, "content_sha256"], "stage": STAGE_TEXT_MINHASH,
                            "similarity": float(j), "hamming": int((index.signatures[i] != sig).sum())})
    listed = _to_items(index.items, matches, top, tc.threshold)
    return {"document": path, "content_sha256": sha, "text_sha256": text_sha,
            "duplicate": any(m["similarity"] >= tc.threshold for m in matches), "matches": listed}


def _to_items(items: pd.DataFrame, matches: list[dict], top: int, threshold: float) -> list[dict]:
    """Best match per stored item, most similar first, each marked a duplicate at text.threshold or not."""
    if not matches:
        return []
    m = pd.DataFrame(matches).merge(items, on="content_sha256")
    m["_stage"] = m["stage"].map(TEXT_STAGE_ORDER.index)
    m = m.sort_values(["similarity", "_stage", "item_id"], ascending=[False, True, True]).drop_duplicates("item_id")
    m["duplicate"] = m["similarity"] >= threshold
    cols = ["item_id", "uri", "stage", "similarity", "hamming", "duplicate", "action", "cluster_id"]
    return json.loads(m[cols].head(top).to_json(orient="records", double_precision=15))


def format_table(results: list[dict]) -> str:
    """The query's table for documents: one head line per document, one line per match."""
    lines = []
    for r in results:
        lines.append(f"{r['document']}: {'DUPLICATE' if r['duplicate'] else 'new'}")
        for m in r["matches"]:
            verdict = "duplicate" if m["duplicate"] else "below threshold"
            lines.append(f"  {m['item_id']:<48} {m['stage']:<12} {m['similarity']:.3f}  ({m['action']}, {verdict})"
                         f"  {m['uri'] or ''}")
    return "\n".join(lines)
