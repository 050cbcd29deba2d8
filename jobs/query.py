"""`dedup query --corpus STORE IMAGE...`: is this image already in the corpus?

Answered from the store without Spark: exact content hash, pHash Hamming distance
over the stored hashes, and (when the store holds embeddings and the config turns
them on) cosine similarity over only the IVF lists the image probes.
Reads local stores (a path or file: URI).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from jobs.config import JobConfig
from jobs.store import CURRENT
from udfs.decode import decode_image
from udfs.hashing import hamming, phash64, sha256_hex
from udfs.io import read_bytes
from udfs.metrics import STAGE_EMBEDDING, STAGE_EXACT, STAGE_PHASH, stage_priority


@dataclass(frozen=True)
class Store:
    """A published store state, opened for reading."""

    root: Path
    state: Path
    items: pd.DataFrame           # item_id, content_sha256, action, cluster_id
    centroids: np.ndarray | None

    @classmethod
    def open(cls, location: str) -> "Store":
        root = Path(location.removeprefix("file://").removeprefix("file:"))
        pointer = root / CURRENT
        if not pointer.is_file():
            raise FileNotFoundError(f"{location} is not a corpus store (no {CURRENT}); "
                                    "create one with `dedup run --corpus STORE`")
        state = root / pointer.read_text().strip()
        items = ds.dataset(state / "items", format="parquet").to_table(
            columns=["item_id", "content_sha256", "action", "cluster_id"]).to_pandas()
        cpath = state / "centroids.json"
        cents = np.asarray(json.loads(cpath.read_text())["centroids"], np.float32) if cpath.exists() else None
        return cls(root, state, items, cents)

    def index(self, columns: list[str], lists: list[int] | None = None) -> pd.DataFrame:
        """Index rows, only from the given IVF lists when `lists` is set."""
        data = ds.dataset(self.state / "index", format="parquet", partitioning="hive")
        flt = ds.field("list").isin(lists) if lists is not None else None
        return data.to_table(columns=columns, filter=flt).to_pandas()


def query(store: Store, image: str, cfg: JobConfig, embedder=None, top: int = 5) -> dict:
    """Matches of one image: exact, pHash within max_hamming, embedding above threshold."""
    data = read_bytes(image, cfg.input.max_file_bytes, cfg.fetch.options())
    sha = sha256_hex(data)
    decoded = decode_image(data, cfg.decode.max_pixels)
    matches = [{"content_sha256": sha, "stage": STAGE_EXACT, "similarity": 1.0, "hamming": 0}] \
        if (store.items["content_sha256"] == sha).any() else []
    if cfg.phash.enabled:
        matches += _phash_matches(store, phash64(decoded.image), cfg.phash.max_hamming)
    lists_read = None
    if embedder is not None and store.centroids is not None:
        vec = embedder.embed([decoded.image])[0]
        lists_read = _probe(store.centroids, vec, cfg.selfjoin.nprobe)
        matches += _embedding_matches(store, vec, lists_read, cfg.embedding.threshold)
    return {"image": image, "content_sha256": sha, "duplicate": bool(matches),
            "matches": _to_items(store, matches, top), "lists_read": lists_read}


def _phash_matches(store: Store, h: int, max_hamming: int) -> list[dict]:
    rows = store.index(["content_sha256", "phash"]).dropna(subset=["phash"])
    d = hamming(rows["phash"].to_numpy(np.int64), np.full(len(rows), h, np.int64))
    hit = rows[d <= max_hamming].assign(hamming=d[d <= max_hamming])
    return [{"content_sha256": r.content_sha256, "stage": STAGE_PHASH,
             "similarity": 1 - r.hamming / 64, "hamming": int(r.hamming)} for r in hit.itertuples()]


def _probe(centroids: np.ndarray, vec: np.ndarray, nprobe: int) -> list[int]:
    sims = centroids @ vec
    return [int(i) for i in np.argsort(-sims, kind="stable")[:nprobe]]


def _embedding_matches(store: Store, vec: np.ndarray, lists: list[int], threshold: float) -> list[dict]:
    rows = store.index(["content_sha256", "embedding"], lists).dropna(subset=["embedding"])
    if rows.empty:
        return []
    sims = np.stack(rows["embedding"].to_numpy()).astype(np.float32) @ vec
    keep = sims >= threshold
    return [{"content_sha256": c, "stage": STAGE_EMBEDDING, "similarity": float(s), "hamming": None}
            for c, s in zip(rows["content_sha256"][keep], sims[keep])]


def _to_items(store: Store, matches: list[dict], top: int) -> list[dict]:
    """Best match per stored item, most similar first."""
    if not matches:
        return []
    m = pd.DataFrame(matches).merge(store.items, on="content_sha256")
    m["_stage"] = m["stage"].map(stage_priority)
    m = m.sort_values(["similarity", "_stage", "item_id"], ascending=[False, True, True]).drop_duplicates("item_id")
    cols = ["item_id", "stage", "similarity", "hamming", "action", "cluster_id"]
    return json.loads(m[cols].head(top).to_json(orient="records"))


def format_table(results: list[dict]) -> str:
    lines = []
    for r in results:
        head = "DUPLICATE" if r["duplicate"] else "new"
        lines.append(f"{r['image']}: {head}")
        for m in r["matches"]:
            lines.append(f"  {m['item_id']:<48} {m['stage']:<10} {m['similarity']:.3f}  ({m['action']})")
    return "\n".join(lines)
