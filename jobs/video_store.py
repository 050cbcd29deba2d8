"""`dedup query` on a video corpus store: is this video already in the corpus?

The run side needs nothing of its own: a video store keeps the items and the
stored contents' video features (STORE/state-*/features/, with the video feature
fingerprint in kind.json), and an incremental run (`--corpus`) reuses them
through jobs/kinds.py, decoding only contents the store does not hold.

Query side (no Spark): the file is decoded and sampled with udfs/video.py as the
job does; stored videos sharing a frame-hash band value with it (hash with hash,
or with its mirror hash) and at least video.min_votes voting frames on both sides
are aligned with it (udfs/video.align_pair). Matches from video.candidate_threshold
are listed with their segment; `duplicate` applies video.threshold and
video.min_coverage as the job does (video.excerpts included).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from jobs import video_kind
from jobs.config import ConfigError, JobConfig, VideoConfig
from udfs.hashing import band_values, sha256_hex
from udfs.io import read_bytes
from udfs.metrics import STAGE_EXACT, STAGE_VIDEO_FRAMES
from udfs.video import align_pair, video_features
from udfs.video_adapters import HASH_VARIANTS

SEGMENT = ("start_a", "end_a", "start_b", "end_b", "coverage_a", "coverage_b", "time_scale")


@dataclass(frozen=True)
class VideoIndex:
    """A video store's contents, loaded once: frame arrays per stored content and a band-value index."""

    items: pd.DataFrame      # item_id, uri, content_sha256, action, cluster_id
    videos: list[dict]       # per stored content: sha, times, hashes, flips, informative, duration
    bands: pd.DataFrame      # value key (band, value) -> video row, frame: informative frames' hash bands

    @classmethod
    def open(cls, state: Path, fingerprint: str | None, cfg: VideoConfig) -> "VideoIndex":
        if fingerprint is not None and fingerprint != video_kind.feature_fingerprint(cfg):
            raise ConfigError("the store's video features were computed with other video sampling settings "
                              "(sample_fps, limits, min_information, min_quality); query with the settings of "
                              "the runs that built it")
        items = ds.dataset(state / "items", format="parquet").to_table(
            columns=["item_id", "uri", "content_sha256", "action", "cluster_id"]).to_pandas()
        feats = ds.dataset(state / "features", format="parquet").to_table(
            columns=["content_sha256", "duration_s", "frame_times", *HASH_VARIANTS, "informative"]).to_pandas()
        videos = [{"sha": f.content_sha256, **_arrays(f._asdict())} for f in feats.itertuples(index=False)]
        rows = [_band_frame(v, k) for k, v in enumerate(videos)]
        bands = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
            columns=["band", "value", "video", "frame", "variant"])
        return cls(items, videos, bands)


KEYS = ("hashes", "flips", "crops", "centres")  # the video dict's names of HASH_VARIANTS, in order
# (query variant, stored variant) pairs that vote, as in jobs/video_kind.voted_pairs (both directions)
VOTING = {(0, 0), (0, 1), (1, 0), (0, 2), (2, 0), (3, 3)}


def _arrays(f: dict) -> dict:
    return {"times": np.asarray(f["frame_times"], np.float64), "informative": np.asarray(f["informative"], bool),
            "duration": float(f["duration_s"]),
            **{k: np.asarray(f[c], np.int64) for k, c in zip(KEYS, HASH_VARIANTS)}}


def _band_frame(v: dict, video: int) -> pd.DataFrame:
    """(band, value, video, frame, variant) of the informative frames' hash bands, every hash variant."""
    keep = np.flatnonzero(v["informative"])
    parts = []
    for variant, key in enumerate(KEYS):
        bv = band_values(v[key][keep], video_kind.BANDS)
        parts.append(pd.DataFrame({"band": np.tile(np.arange(video_kind.BANDS), len(keep)), "value": bv.reshape(-1),
                                   "video": video, "frame": np.repeat(keep, video_kind.BANDS), "variant": variant}))
    return pd.concat(parts, ignore_index=True)


def query_video(index: VideoIndex, path: str, cfg: JobConfig, top: int = 5) -> dict:
    """Matches of one video: same bytes, and aligned stored videos with their segments
    (a = the queried video, b = the stored one)."""
    vc = cfg.video
    data = read_bytes(path, vc.max_file_bytes, cfg.fetch.options())
    sha = sha256_hex(data)
    try:
        f = video_features(data, video_kind.decode_limits(vc))
    except Exception as exc:  # noqa: BLE001 - one line for the caller's per-file error row
        raise ValueError(f"cannot read the video: {exc}") from None
    q = {"times": f.times, "hashes": f.hashes, "flips": f.flips, "crops": f.crops, "centres": f.centres,
         "informative": f.informative, "duration": f.duration_s}
    matches = [{"content_sha256": sha, "stage": STAGE_EXACT, "similarity": 1.0, "hamming": 0, "_dup": True}] \
        if (index.items["content_sha256"] == sha).any() else []
    params = video_kind.align_params(vc)
    for k in _voted(index, q, vc):
        stored = index.videos[k]
        if stored["sha"] == sha:
            continue
        found = align_pair(q, stored, params)
        if found is None or found.similarity < vc.candidate_threshold:
            continue
        matches.append({"content_sha256": stored["sha"], "stage": STAGE_VIDEO_FRAMES,
                        "similarity": float(found.similarity), "hamming": found.hamming,
                        **{c: float(getattr(found, c)) for c in SEGMENT}, "_dup": _is_duplicate(found, vc)})
    listed = _to_items(index.items, matches, top)
    return {"video": path, "content_sha256": sha, "duration_s": f.duration_s,
            "duplicate": any(m["_dup"] for m in matches), "matches": listed}


def _voted(index: VideoIndex, q: dict, cfg: VideoConfig) -> list[int]:
    """Stored videos sharing band values with the query's frames (the VOTING hash variants), with at
    least cfg.min_votes voting frames on both sides; buckets of more than cfg.max_bucket videos are skipped."""
    probe = _band_frame(q, -1)
    met = probe.merge(index.bands, on=["band", "value"], suffixes=("_q", ""))
    met = met[np.fromiter((pair in VOTING for pair in zip(met["variant_q"], met["variant"])), bool, len(met))]
    sizes = index.bands.groupby(["band", "value"])["video"].nunique()
    common = sizes[sizes > cfg.max_bucket].index
    if len(common):
        met = met[~met.set_index(["band", "value"]).index.isin(common)]
    votes = met.groupby("video").agg(q=("frame_q", "nunique"), s=("frame", "nunique"))
    return sorted(votes[(votes["q"] >= cfg.min_votes) & (votes["s"] >= cfg.min_votes)].index.tolist())


def _is_duplicate(found, cfg: VideoConfig) -> bool:
    covered = (max if cfg.excerpts == "duplicate" else min)(found.coverage_a, found.coverage_b)
    return bool(found.similarity >= cfg.threshold and covered >= cfg.min_coverage)


def _to_items(items: pd.DataFrame, matches: list[dict], top: int) -> list[dict]:
    """Best match per stored item, exact first, then the duplicates, then by similarity."""
    if not matches:
        return []
    m = pd.DataFrame(matches).rename(columns={"_dup": "duplicate"})
    m = m.merge(items, on="content_sha256")
    m["_exact"] = m["stage"] == STAGE_EXACT
    m = m.sort_values(["_exact", "duplicate", "similarity", "item_id"], ascending=[False, False, False, True])
    m = m.drop_duplicates("item_id")
    cols = ["item_id", "uri", "stage", "similarity", "hamming", "duplicate", "action", "cluster_id",
            *[c for c in SEGMENT if c in m.columns]]
    return json.loads(m[cols].head(top).to_json(orient="records", double_precision=15))


def format_table(results: list[dict]) -> str:
    """The query's table for videos: one head line per video, one line per match with its segment."""
    lines = []
    for r in results:
        lines.append(f"{r['video']}: {'DUPLICATE' if r['duplicate'] else 'new'}")
        for m in r["matches"]:
            verdict = "duplicate" if m["duplicate"] else "below threshold"
            segment = "" if m.get("start_a") is None else (
                f"  [{m['start_a']:.1f}-{m['end_a']:.1f} s ~ {m['start_b']:.1f}-{m['end_b']:.1f} s, "
                f"coverage {m['coverage_a']:.2f}/{m['coverage_b']:.2f}, scale {m['time_scale']:.2f}]")
            lines.append(f"  {m['item_id']:<48} {m['stage']:<12} {m['similarity']:.3f}  ({m['action']}, {verdict})"
                         f"{segment}")
    return "\n".join(lines)
