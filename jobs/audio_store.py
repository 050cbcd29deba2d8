"""`dedup query` on an audio corpus store: is this recording already in the corpus?

The run side needs nothing of its own: an audio store keeps the items and the
stored contents' audio features (STORE/state-*/features/: stream facts, hashes
and their anchor times, with the audio feature fingerprint in kind.json), and an
incremental run (`--corpus`) reuses them through jobs/kinds.py, decoding only
contents the store does not hold.

Query side (no Spark): the file is decoded and fingerprinted with udfs/audio.py as
the job does; stored recordings sharing hash values with it (values held more than
audio.max_bucket times in the store skipped) vote per offset as in
jobs/audio_kind.voted_pairs, and those with audio.min_votes equal hashes on one
offset are aligned with it. Matches from audio.candidate_min_score aligned anchors
are listed with their span (a = the queried file, b = the stored one); `duplicate`
applies the job's rule (audio_kind.is_duplicate).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from jobs import audio_kind
from jobs.config import AudioConfig, ConfigError, JobConfig
from udfs.audio_adapters import audio_features, pair_alignment
from udfs.hashing import sha256_hex
from udfs.io import read_bytes
from udfs.metrics import STAGE_AUDIO_PEAKS, STAGE_EXACT

SEGMENT = ("start_a", "end_a", "start_b", "end_b", "coverage_a", "coverage_b", "time_scale")


@dataclass(frozen=True)
class AudioIndex:
    """An audio store's contents, loaded once: fingerprints per stored content and a sorted hash index."""

    items: pd.DataFrame        # item_id, uri, content_sha256, action, cluster_id
    shas: list[str]            # stored contents
    prints: list[tuple[np.ndarray, np.ndarray]]  # per content: (hashes int64, times float32)
    hashes: np.ndarray         # (m,) int64, sorted: every stored hash
    owner: np.ndarray          # (m,) int32: the content of each
    times: np.ndarray          # (m,) float32: its anchor time

    @classmethod
    def open(cls, state: Path, fingerprint: str | None, cfg: AudioConfig) -> "AudioIndex":
        if fingerprint is not None and fingerprint != audio_kind.feature_fingerprint(cfg):
            raise ConfigError("the store's audio features were computed with other audio settings (decode limits, "
                              "fingerprint parameters); query with the settings of the runs that built it")
        items = ds.dataset(state / "items", format="parquet").to_table(
            columns=["item_id", "uri", "content_sha256", "action", "cluster_id"]).to_pandas()
        feats = ds.dataset(state / "features", format="parquet").to_table(
            columns=["content_sha256", "hashes", "times"]).to_pandas()
        prints = [(np.asarray(h, np.int64), np.asarray(t, np.float32)) for h, t in zip(feats["hashes"], feats["times"])]
        h = np.concatenate([p[0] for p in prints]) if prints else np.zeros(0, np.int64)
        t = np.concatenate([p[1] for p in prints]) if prints else np.zeros(0, np.float32)
        owner = np.repeat(np.arange(len(prints), dtype=np.int32), [p[0].size for p in prints])
        order = np.argsort(h, kind="stable")
        return cls(items, list(feats["content_sha256"]), prints, h[order], owner[order], t[order])


def voted(index: AudioIndex, fp: tuple[np.ndarray, np.ndarray], cfg: AudioConfig) -> list[int]:
    """Stored contents with >= cfg.min_votes equal hashes on one offset (two neighbouring
    audio_kind.VOTE_BIN_S bins); hash values held more than cfg.max_bucket times (store and
    query together) are skipped, as in the job."""
    qh, qt = fp
    values, q_count = np.unique(qh, return_counts=True)
    lo, hi = np.searchsorted(index.hashes, values, "left"), np.searchsorted(index.hashes, values, "right")
    ok = (hi > lo) & (hi - lo + q_count <= cfg.max_bucket)
    keys = []
    for v, a, b in zip(values[ok], lo[ok], hi[ok]):
        tq = qt[qh == v]
        off = np.floor((tq[:, None] - index.times[a:b][None, :]) / audio_kind.VOTE_BIN_S).astype(np.int64)
        keys.append((index.owner[a:b][None, :].astype(np.int64) << 32) + (off + 2**20))
    if not keys:
        return []
    k, n = np.unique(np.concatenate([x.ravel() for x in keys]), return_counts=True)
    nxt = np.searchsorted(k, k + 1)
    has = (nxt < k.size) & (k[np.minimum(nxt, k.size - 1)] == k + 1)
    votes = n + np.where(has, n[np.minimum(nxt, k.size - 1)], 0)
    return sorted({int(c) for c in (k >> 32)[votes >= cfg.min_votes]})


def query_audio(index: AudioIndex, path: str, cfg: JobConfig, top: int = 5) -> dict:
    """Matches of one recording: same bytes, and aligned stored recordings with their spans
    (a = the queried file, b = the stored one)."""
    ac = cfg.audio
    data = read_bytes(path, ac.max_file_bytes, cfg.fetch.options())
    sha = sha256_hex(data)
    try:
        f = audio_features(data, audio_kind.limits(ac))
    except Exception as exc:  # noqa: BLE001 - one line for the caller's per-file error row
        raise ValueError(f"cannot read the audio: {exc}") from None
    matches = [{"content_sha256": sha, "stage": STAGE_EXACT, "similarity": 1.0, "aligned_anchors": None,
                "_dup": True}] if (index.items["content_sha256"] == sha).any() else []
    fp = (f.hashes, f.times)
    for k in voted(index, fp, ac):
        if index.shas[k] == sha:
            continue
        found = pair_alignment(fp, index.prints[k])
        if found["aligned_anchors"] < ac.candidate_min_score:
            continue
        matches.append({"content_sha256": index.shas[k], "stage": STAGE_AUDIO_PEAKS,
                        "similarity": float(found["similarity"]), "aligned_anchors": found["aligned_anchors"],
                        **{c: float(found[c]) for c in SEGMENT},
                        "_dup": audio_kind.is_duplicate(found["aligned_anchors"], found["coverage_a"],
                                                        found["coverage_b"], ac, found["similarity"])})
    return {"audio": path, "content_sha256": sha, "duration_s": f.duration_s,
            "duplicate": any(m["_dup"] for m in matches), "matches": _to_items(index.items, matches, top)}


def _to_items(items: pd.DataFrame, matches: list[dict], top: int) -> list[dict]:
    """Best match per stored item, exact first, then the duplicates, then by aligned anchors."""
    if not matches:
        return []
    m = pd.DataFrame(matches).rename(columns={"_dup": "duplicate"}).merge(items, on="content_sha256")
    m["_exact"] = m["stage"] == STAGE_EXACT
    m["_score"] = pd.to_numeric(m["aligned_anchors"], errors="coerce").fillna(np.inf)
    m = m.sort_values(["_exact", "duplicate", "_score", "item_id"], ascending=[False, False, False, True])
    m = m.drop_duplicates("item_id")
    cols = ["item_id", "uri", "stage", "similarity", "aligned_anchors", "duplicate", "action", "cluster_id",
            *[c for c in SEGMENT if c in m.columns]]
    return json.loads(m[cols].head(top).to_json(orient="records", double_precision=15))


def format_table(results: list[dict]) -> str:
    """The query's table for recordings: one head line per file, one line per match with its span."""
    lines = []
    for r in results:
        lines.append(f"{r['audio']}: {'DUPLICATE' if r['duplicate'] else 'new'}")
        for m in r["matches"]:
            verdict = "duplicate" if m["duplicate"] else "below threshold"
            span = "" if m.get("start_a") is None else (
                f"  [{m['start_a']:.1f}-{m['end_a']:.1f} s ~ {m['start_b']:.1f}-{m['end_b']:.1f} s, "
                f"{m['aligned_anchors']} anchors, coverage {m['coverage_a']:.2f}/{m['coverage_b']:.2f}, "
                f"scale {m['time_scale']:.3f}]")
            lines.append(f"  {m['item_id']:<48} {m['stage']:<12} {m['similarity']:.3f}  ({m['action']}, {verdict})"
                         f"{span}")
    return "\n".join(lines)
