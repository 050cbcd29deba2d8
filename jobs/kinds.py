"""What each kind of item other than images brings to the pipeline, in one table.

A kind brings its readers and feature kernels and its candidate stages; the
pipeline (jobs/pipeline.py) calls them through a `Kind` and reuses everything
downstream of the scored pairs (decisions, clusters, keep policy, manifest,
pairs, summary, publish, the corpus store). Images are the pipeline's own
stages (pHash families, embeddings, the pixel attachment), so `get("image")` is
None and the pipeline runs those.

| kind  | contents            | features                          | candidate stages             |
|-------|---------------------|-----------------------------------|------------------------------|
| text  | bytes or inline text| normalised text, shingles, MinHash| text_exact, text_minhash     |
| video | bytes               | sampled frames' pHash, mirror     | video_frames (aligned)       |
| audio | bytes               | spectral-peak triplet hashes      | audio_peaks (aligned)        |
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from pyspark.sql import DataFrame, SparkSession

from jobs import audio_kind, features, text_kind, text_store, video_kind
from jobs.config import CacheConfig, FetchConfig, InputConfig, JobConfig
from jobs.store import StoreState
from udfs.audio_adapters import FEATURE_COLUMNS as AUDIO_FEATURE_COLUMNS, PRINT_TYPES
from udfs.video_adapters import FEATURE_COLUMNS as VIDEO_FEATURE_COLUMNS, SIGNATURE_TYPES


@dataclass(frozen=True)
class Kind:
    """The functions one kind provides; each takes the whole JobConfig and reads its own section."""

    name: str
    input_config: Callable[[JobConfig], InputConfig]               # extensions, size limit of its files
    hash_items: Callable[[DataFrame, InputConfig, FetchConfig], DataFrame]  # items -> contents (sha256)
    feature_fingerprint: Callable[[JobConfig], str]                # cache key of its features
    # (spark, contents, store state, input config, config, cache, fingerprint, fetch) -> (reused, fresh)
    compute_features: Callable[..., tuple[DataFrame | None, DataFrame]]
    candidate_pairs: Callable[[DataFrame, JobConfig, dict], DataFrame]  # features -> scored content pairs
    manifest_features: Callable[[DataFrame], DataFrame]           # features -> manifest / keep-policy columns
    stored_features: Callable[[DataFrame], DataFrame]             # what a corpus store keeps
    thresholds: Callable[[JobConfig], dict]                        # summary.json `thresholds`
    # columns carried on the contents until features: text's inline text, video's precomputed signatures
    inline_columns: tuple[str, ...] = ()


def get(name: str) -> Kind | None:
    """The Kind of `name`; None for images, which run the pipeline's own stages."""
    return KINDS.get(name)


def stored_and_fresh(compute: Callable[..., tuple[DataFrame | None, DataFrame]], columns: tuple[str, ...],
                     spark: SparkSession, contents: DataFrame, prior: StoreState, input_cfg: InputConfig,
                     section, cache: CacheConfig, fingerprint: str,
                     fetch: FetchConfig) -> tuple[DataFrame | None, DataFrame]:
    """Stored (corpus store, same fingerprint) or cached features, and fresh ones for the rest.

    compute: the kind's (spark, distinct, input_cfg, section, cache, fingerprint, fetch) ->
    (cached, fresh); columns: its feature columns; section: its config section."""
    distinct = features.distinct_contents(contents)
    stored = prior.features if prior.feature_fingerprint == fingerprint else None
    if stored is None:
        return compute(spark, distinct, input_cfg, section, cache, fingerprint, fetch)
    stored = stored.select(*columns).join(distinct.select("content_sha256"), "content_sha256", "left_semi")
    todo = distinct.join(stored.select("content_sha256"), "content_sha256", "left_anti")
    cached, fresh = compute(spark, todo, input_cfg, section, cache, fingerprint, fetch)
    return (stored if cached is None else stored.unionByName(cached.select(*columns))), fresh


def _video_features(spark: SparkSession, contents: DataFrame, prior: StoreState, input_cfg: InputConfig,
                    cfg: JobConfig, cache: CacheConfig, fingerprint: str,
                    fetch: FetchConfig) -> tuple[DataFrame | None, DataFrame]:
    """Precomputed signatures as they are; else stored, cached and fresh features (stored_and_fresh)."""
    if "frame_hashes" in contents.columns:  # precomputed signatures: nothing to read or decode
        return None, video_kind.signature_features(contents, cfg.video)
    return stored_and_fresh(video_kind.compute_features, VIDEO_FEATURE_COLUMNS, spark, contents, prior, input_cfg,
                            cfg.video, cache, fingerprint, fetch)


def _audio_features(spark: SparkSession, contents: DataFrame, prior: StoreState, input_cfg: InputConfig,
                    cfg: JobConfig, cache: CacheConfig, fingerprint: str,
                    fetch: FetchConfig) -> tuple[DataFrame | None, DataFrame]:
    """Precomputed fingerprints as they are; else stored, cached and fresh features (stored_and_fresh)."""
    if "hashes" in contents.columns:  # precomputed fingerprints: nothing to read or decode
        return None, audio_kind.print_features(contents)
    return stored_and_fresh(audio_kind.compute_features, AUDIO_FEATURE_COLUMNS, spark, contents, prior, input_cfg,
                            cfg.audio, cache, fingerprint, fetch)


def _text_thresholds(cfg: JobConfig) -> dict:
    t = cfg.text
    return {"text_threshold": t.threshold, "text_candidate_threshold": t.candidate_threshold,
            "text_shingle_words": t.shingle_words, "text_num_perm": t.num_perm,
            "text_bands": t.bands, "text_rows": t.rows, "text_max_bucket": t.max_bucket}


KINDS: dict[str, Kind] = {
    "text": Kind(
        name="text",
        input_config=lambda cfg: replace(cfg.input, extensions=cfg.text.extensions),
        hash_items=text_kind.hash_items,
        feature_fingerprint=lambda cfg: text_kind.feature_fingerprint(cfg.text),
        compute_features=lambda spark, contents, prior, input_cfg, cfg, cache, fp, fetch: text_store.compute_features(
            spark, contents, prior, input_cfg, cfg.text, cache, fp, fetch),
        candidate_pairs=lambda feats, cfg, stats: text_kind.candidate_pairs(feats, cfg.text, stats),
        manifest_features=text_kind.manifest_features,
        stored_features=text_store.stored_features,
        thresholds=_text_thresholds,
        inline_columns=("text",)),
    "video": Kind(
        name="video",
        input_config=lambda cfg: video_kind.input_config(cfg.input, cfg.video),
        hash_items=video_kind.hash_items,  # bytes and sha256 as for images, or precomputed signatures
        feature_fingerprint=lambda cfg: video_kind.feature_fingerprint(cfg.video),
        compute_features=_video_features,
        candidate_pairs=lambda feats, cfg, stats: video_kind.candidate_pairs(feats, cfg.video, stats),
        manifest_features=video_kind.manifest_features,
        stored_features=video_kind.stored_features,
        thresholds=lambda cfg: video_kind.thresholds(cfg.video),
        inline_columns=tuple(SIGNATURE_TYPES)),
    "audio": Kind(
        name="audio",
        input_config=lambda cfg: audio_kind.input_config(cfg.input, cfg.audio),
        hash_items=audio_kind.hash_items,  # bytes and sha256 as for images, or precomputed fingerprints
        feature_fingerprint=lambda cfg: audio_kind.feature_fingerprint(cfg.audio),
        compute_features=_audio_features,
        candidate_pairs=lambda feats, cfg, stats: audio_kind.candidate_pairs(feats, cfg.audio, stats),
        manifest_features=audio_kind.manifest_features,
        stored_features=audio_kind.stored_features,
        thresholds=lambda cfg: audio_kind.thresholds(cfg.audio),
        inline_columns=tuple(PRINT_TYPES)),
}
