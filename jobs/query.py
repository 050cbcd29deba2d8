"""`dedup query --corpus STORE IMAGE...`: is this image already in the corpus?

Answered from the store without Spark: exact content hash, the full-image pHash and
the key families of jobs/hashkeys.py (same thresholds, information gate and pixel
check as the job) over the stored hashes, and (when the store holds embeddings and the config turns them on)
cosine similarity over only the IVF lists the image probes.
Reads local stores (a path or file: URI). Text stores are answered by jobs/text_store.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from jobs.config import JobConfig, PhashConfig
from jobs.hashkeys import KEY_PAIRS
from jobs.store import CURRENT, KIND_FILE
from udfs import robust, verify
from udfs.adapters import robust_keys
from udfs.decode import decode_image
from udfs.hashing import hamming, sha256_hex
from udfs.io import read_bytes
from udfs.metrics import STAGE_EMBEDDING, STAGE_EXACT, STAGE_PHASH, STAGE_PHASH_FRAMED, stage_priority


@dataclass(frozen=True)
class Store:
    """A published store state, opened for reading."""

    root: Path
    state: Path
    items: pd.DataFrame           # item_id, content_sha256, action, cluster_id
    centroids: np.ndarray | None
    kind: str = "image"                     # which kind of items the store holds
    feature_fingerprint: str | None = None  # text stores: the text feature fingerprint

    @classmethod
    def open(cls, location: str) -> "Store":
        root = Path(location.removeprefix("file://").removeprefix("file:"))
        pointer = root / CURRENT
        if not pointer.is_file():
            raise FileNotFoundError(f"{location} is not a corpus store (no {CURRENT}); "
                                    "create one with `dedup run --corpus STORE`")
        state = root / pointer.read_text().strip()
        meta = json.loads((state / KIND_FILE).read_text()) if (state / KIND_FILE).exists() else {}
        if meta.get("kind", "image") != "image":
            return cls(root, state, pd.DataFrame(), None, meta["kind"], meta.get("feature_fingerprint"))
        items = ds.dataset(state / "items", format="parquet").to_table(
            columns=["item_id", "content_sha256", "action", "cluster_id"]).to_pandas()
        cpath = state / "centroids.json"
        cents = np.asarray(json.loads(cpath.read_text())["centroids"], np.float32) if cpath.exists() else None
        return cls(root, state, items, cents)

    def index_columns(self) -> list[str]:
        return ds.dataset(self.state / "index", format="parquet", partitioning="hive").schema.names

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
        matches += _hash_matches(store, decoded.image, cfg.phash)
    lists_read = None
    if embedder is not None and store.centroids is not None:
        vec = embedder.embed([decoded.image])[0]
        lists_read = _probe(store.centroids, vec, cfg.selfjoin.nprobe)
        matches += _embedding_matches(store, vec, lists_read, cfg.embedding.threshold)
    return {"image": image, "content_sha256": sha, "duplicate": bool(matches),
            "matches": _to_items(store, matches, top), "lists_read": lists_read}


def _hash_matches(store: Store, image, cfg: PhashConfig) -> list[dict]:
    """Stored contents matching the image by the full-image pHash or a key family.

    The job's rules: no hash match for images flatter than min_quality or with less
    information than min_information (either side), a full-image pHash match between
    two framed images (unless both frames are thin) only as ``phash_framed`` on a strong pixel
    check of the whole pictures (far_verify), each family compares one key of either image with
    another key of the other (the trim family from the framed side only), and every match passes
    the pixel check. A store written without the keys answers by pHash alone, one
    without thumbnails without the pixel check.
    """
    keys = robust_keys(cfg.keys)
    keyed = robust.key_features(image, robust.RobustConfig(keys=(robust.KEY_PHASH, *keys)))
    if keyed.quality < cfg.min_quality or keyed.information < cfg.min_information:
        return []
    mine = keyed.hashes
    present = set(store.index_columns())
    extra = ("quality", "information", *keys, "thumb", "thumb_full", "thumb_whole", "sparse", "chroma", "place")
    rows = store.index(["content_sha256", "phash", *[c for c in extra if c in present]]) \
        .dropna(subset=["phash"]).reset_index(drop=True)
    if "quality" in rows:
        rows = rows[rows["quality"].fillna(0.0) >= cfg.min_quality].reset_index(drop=True)
    if "information" in rows:
        rows = rows[rows["information"].fillna(0.0) >= cfg.min_information].reset_index(drop=True)
    n = len(rows)

    def dist(column: str, value: int | None) -> np.ndarray:
        if value is None or column not in rows:
            return np.full(n, 99)
        col = rows[column]
        d = hamming(col.fillna(0).to_numpy(np.int64), np.full(n, value, np.int64))
        return np.where(col.notna().to_numpy(), d, 99)

    mine_framed = robust.KEY_TRIM in mine and mine[robust.KEY_TRIM] != mine[robust.KEY_PHASH]
    stored_framed = (rows["phash_trim"].notna() & (rows["phash_trim"] != rows["phash"])).to_numpy() \
        if "phash_trim" in rows else np.zeros(n, bool)
    best: dict[str, np.ndarray] = {}
    full = dist("phash", mine[robust.KEY_PHASH])
    mine_thin = keyed.thumb_full is not None
    stored_thin = rows["thumb_full"].notna().to_numpy() if "thumb_full" in rows else np.zeros(n, bool)
    both_framed = mine_framed & stored_framed & ~(mine_thin & stored_thin)
    best[STAGE_PHASH] = np.where(both_framed, 99, full)
    if cfg.keys and cfg.far_verify != -1:  # two framed pictures: on a strong check of the whole pictures
        best[STAGE_PHASH_FRAMED] = np.where(both_framed, full, 99)
    for probe, index, family in KEY_PAIRS:
        if family not in cfg.keys:
            continue
        mine_probe = dist(index, mine.get(probe))            # my probe key ~ their indexed key
        their_probe = dist(probe, mine.get(index))           # their probe key ~ my indexed key
        if family == "trim":  # from the framed side only (unframed: trim == phash, compared above)
            mine_probe = mine_probe if mine_framed else np.full(n, 99)
            their_probe = np.where(stored_framed, their_probe, 99)
        stage = f"phash_{family}"
        d = np.minimum(mine_probe, their_probe)
        best[stage] = np.minimum(best.get(stage, np.full(n, 99)), d)
    out = []
    for stage, d in best.items():
        limit = (cfg.max_hamming if stage == STAGE_PHASH else -1 if stage == STAGE_PHASH_FRAMED
                 else cfg.key_hamming(stage[len("phash_"):]))
        far = cfg.candidate_hamming if stage in (STAGE_PHASH, STAGE_PHASH_FRAMED) and cfg.far_verify != -1 else limit
        for i in np.flatnonzero(d <= far):
            if d[i] <= limit:
                if "thumb" in rows and not _pixels_agree(keyed, rows.loc[i], stage, int(d[i]), cfg):
                    continue
            elif "thumb" not in rows or not _pixel_score(keyed, rows.loc[i], stage) >= cfg.far_verify:
                continue  # beyond max_hamming: only on a strong pixel check, as the job decides
            out.append({"content_sha256": rows.at[i, "content_sha256"], "stage": stage,
                        "similarity": 1 - int(d[i]) / 64, "hamming": int(d[i])})
    return out


def _pixels_agree(mine: robust.KeyFeatures, row: pd.Series, stage: str, hamming: int, cfg: PhashConfig) -> bool:
    """The job's pixel check (candidates.decide) for one hash match against a stored content."""
    sparse = bool(mine.sparse) or bool(row.get("sparse") or False)
    bar = cfg.verify_bar(sparse, stage, hamming)
    if bar <= -1:
        return True
    return bool(_pixel_score(mine, row, stage) >= bar)


def _pixel_score(mine: robust.KeyFeatures, row: pd.Series, stage: str) -> float:
    """udfs/verify.score_pairs of one image against one stored content under ``stage``'s alignment."""
    sparse = bool(mine.sparse) or bool(row.get("sparse") or False)
    chroma, place = row.get("chroma"), row.get("place")
    return float(verify.score_pairs([mine.thumb], [row["thumb"]], [stage], [sparse], [mine.chroma],
                                    [None if chroma is None else list(chroma)], [mine.place],
                                    [None if place is None else list(place)], [mine.thumb_full],
                                    [row.get("thumb_full")], [mine.thumb_whole], [row.get("thumb_whole")])[0])


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
