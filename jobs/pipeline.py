"""Stage order, staged intermediate results, progress logging and the run summary.

ingest -> read + sha256 -> distinct contents -> decode once: pHash + embedding
       -> candidate edges (pHash multi-index join, IVF blocked self-join)
       -> thresholds -> clusters + keep policy (driver) -> manifest, pairs, clusters
Text, video and audio bring their own contents, features and candidate stages (jobs/kinds.py:
MinHash LSH; frame-hash bands + temporal alignment; peak-hash inverted index + alignment) and
share everything from the thresholds on.
Intermediate results are written under the staging folder's `_work/` and read
back, so no stage is computed twice; `_work/` is removed before publishing.
"""
from __future__ import annotations

import logging
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import candidates, decisions, failures, features, hashkeys, ingest, kinds, manifest, publish, store
from jobs import schemas as S
from jobs.config import PHASH_KEYS, CacheConfig
from jobs.spark import arrow_batch_rows
from udfs import adapters
from udfs.adapters import EmbedSpec
from udfs.metrics import STAGE_PIXEL

VECTOR_BATCH_ROWS = 2048  # Arrow batch rows while precomputed vectors are normalised, hashed and packed

log = logging.getLogger("dedup")


@dataclass
class RunContext:
    """Everything one run needs besides the data: paths, ids, config, counters."""

    spark: SparkSession
    cfg: JobConfig
    source: str
    output: str
    run_id: str
    overwrite: bool = False
    corpus: str | None = None      # the corpus store of incremental runs
    stats: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @property
    def staging(self) -> str:
        return publish.staging_path(self.output, self.run_id)

    def work(self, name: str) -> str:
        return f"{self.staging}/_work/{name}"


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


@contextmanager
def stage(ctx: RunContext, name: str) -> Iterator[None]:
    log.info("[%s] started", name)
    start = time.perf_counter()
    with failures.tagged(name):
        yield
    ctx.timings[name] = round(time.perf_counter() - start, 3)
    log.info("[%s] done in %.1f s", name, ctx.timings[name])


def materialize(ctx: RunContext, df: DataFrame, name: str) -> DataFrame:
    """Write `df` under _work/ and read it back: later stages reuse it without recomputing."""
    path = ctx.work(name)
    df.write.mode("overwrite").parquet(path)
    return ctx.spark.read.parquet(path)


def run(ctx: RunContext, embed: EmbedSpec | None, model_fingerprint: str | None) -> dict:
    """Run every stage and publish; returns the summary written to summary.json."""
    cfg, spark = ctx.cfg, ctx.spark
    storage = publish.Storage(spark, ctx.output)
    ctx.output = storage.base
    publish.check_output(storage, ctx.output, ctx.overwrite)
    started = time.perf_counter()
    order = cfg.keep_order()
    kind = kinds.get(cfg.input.kind)  # text, video: their readers, features and stages; None: images
    prior = store.load_state(spark, ctx.corpus) if ctx.corpus else store.StoreState(None, None, None)
    if prior.items is not None and prior.kind != cfg.input.kind:
        raise ingest.InputError(store.kind_mismatch(ctx.corpus, prior.kind, cfg.input.kind))
    cache = CacheConfig(dir=ctx.corpus) if ctx.corpus else cfg.cache
    if prior.items is not None and not cfg.cluster.reelect:
        order = [("prior_keep", "desc"), *order]  # earlier keepers stay keepers

    with stage(ctx, "ingest"):
        input_cfg = kind.input_config(cfg) if kind else cfg.input
        source = ingest.detect_source(ctx.source, input_cfg)
        items = ingest.read_items(spark, source, input_cfg, scratch=ctx.work("input"), text_column=cfg.text.column)
        vectors = "embedding" in items.columns
        if vectors and ctx.corpus:
            raise ingest.InputError("precomputed embeddings cannot be combined with --corpus yet")
        if ("frame_hashes" in items.columns or "hashes" in items.columns) and ctx.corpus:
            raise ingest.InputError("precomputed frame signatures or audio fingerprints cannot be combined with "
                                    "--corpus yet")
        retry = store.retry_items(prior.pending, items.select("item_id"))
        if retry is not None:
            items = items.unionByName(retry, allowMissingColumns=True)
        if vectors:  # precomputed embeddings: the vector is the content
            with arrow_batch_rows(spark, VECTOR_BATCH_ROWS):  # 256 rows of 2 KiB: the batch overhead outweighed the work
                with_vectors = materialize(ctx, features.vector_items(items, cfg.selfjoin.transport_dtype), "vectors")
            contents = with_vectors.drop("embedding")
        elif kind:  # text: inline text stays on the contents until its features are computed
            contents = materialize(ctx, kind.hash_items(items, input_cfg, cfg.fetch), "contents")
        else:
            contents = materialize(ctx, features.hash_items(items, cfg.input, cfg.fetch), "contents")
        new_ids = contents.select("item_id")
        counts = contents.agg(F.count("*").alias("items"),
                              F.sum(F.col("input_error").isNotNull().cast("int")).alias("input_errors"),
                              F.sum(F.col("read_error").isNotNull().cast("int")).alias("read_errors"),
                              F.countDistinct("content_sha256").alias("contents")).first()
        ctx.stats.update({k: int(counts[k] or 0) for k in ("items", "input_errors", "read_errors", "contents")})
        log.info("[ingest] %d items read from %s (%s), %d distinct contents, %d unreadable",
                 ctx.stats["items"], ctx.source, source.format, ctx.stats["contents"],
                 ctx.stats["input_errors"] + ctx.stats["read_errors"])
        contents = contents.withColumn("prior_keep", F.lit(0))
        if prior.items is not None:
            stored = store.prior_contents(prior.items, new_ids)
            for c in (kind.inline_columns if kind else ()):  # stored contents keep their features: no text
                if c in contents.columns:
                    stored = stored.withColumn(c, F.lit(None).cast(contents.schema[c].dataType))
            contents = contents.unionByName(stored)
            log.info("[ingest] compared against the corpus store %s", ctx.corpus)

    with stage(ctx, "features"):
        keys = adapters.robust_keys(cfg.phash.keys) if cfg.phash.enabled else ()
        fp = kind.feature_fingerprint(cfg) if kind else features.feature_fingerprint(cfg.decode, model_fingerprint,
                                                                                      keys)
        if vectors:
            cached, fresh = None, materialize(ctx, features.vector_features(with_vectors), "features_new")
        elif kind:
            cached, fresh = kind.compute_features(spark, contents, prior, input_cfg, cfg, cache, fp, cfg.fetch)
            fresh = materialize(ctx, fresh, "features_new")
            contents = contents.drop(*[c for c in kind.inline_columns if c in contents.columns])
        else:
            distinct = features.distinct_contents(contents)
            cached, fresh = features.compute_features(spark, distinct, cfg.input, cfg.decode, embed, cache, fp,
                                                        cfg.fetch, keys)
            fresh = materialize(ctx, fresh, "features_new")
        feats = fresh if cached is None else cached.unionByName(fresh)
        n_new = fresh.count()
        n_contents = feats.count()
        decode_errors = fresh.where(F.col("decode_error").isNotNull()).count()
        ctx.stats.update({"contents_decoded": n_new - decode_errors, "decode_errors": decode_errors,
                          "contents_from_cache": n_contents - n_new,
                          "feature_fingerprint": fp})
        log.info("[features] decoded %d new contents (%d failed), %d taken from the cache%s",
                 n_new, decode_errors, ctx.stats["contents_from_cache"],
                 ", embeddings on" if embed else "")

    with stage(ctx, "candidates"):
        parts = []
        if kind:
            parts.append(kind.candidate_pairs(feats, cfg, ctx.stats))
        elif cfg.phash.enabled:
            hashable = hashkeys.hashable(feats, cfg.phash)
            full = candidates.phash_pairs(hashable, cfg.phash)
            if cfg.phash.keys:  # two framed pictures: phash_framed pairs (or none, with far_verify off)
                full = hashkeys.framed_phash_pairs(full, hashable, keep=cfg.phash.far_verify != -1)
            hash_pairs = _union(spark, [full, hashkeys.key_pairs(hashable, cfg.phash)])
            parts.append(hashkeys.verify_pairs(hash_pairs, hashable))
        ctx.stats["embedding_stage"] = embed is not None or vectors
        if ctx.stats["embedding_stage"]:
            parts.append(candidates.embedding_pairs(spark, feats, cfg.embedding, cfg.selfjoin, ctx.stats,
                                                   prior.centroids))
        content_pairs = _union(spark, parts)
        content_pairs = materialize(ctx, candidates.decide(content_pairs, cfg.phash, cfg.embedding, cfg.text,
                                                           cfg.video, cfg.audio), "content_pairs")
        by_stage = {r["stage"]: (int(r["n"]), int(r["dup"])) for r in content_pairs.groupBy("stage").agg(
            F.count("*").alias("n"), F.sum(F.col("is_duplicate").cast("int")).alias("dup")).collect()}
        ctx.stats["candidate_pairs"] = {s: n for s, (n, _) in by_stage.items()}
        ctx.stats["duplicate_pairs"] = {s: d for s, (_, d) in by_stage.items()}
        log.info("[candidates] %s", ", ".join(f"{s}: {n} candidate pairs, {d} above threshold"
                                              for s, (n, d) in sorted(by_stage.items())) or "no pairs")

    with stage(ctx, "clusters"):
        kind_feats = kind.manifest_features(feats) if kind else _with_compared(feats, cfg, ctx.stats).drop("embedding")
        table = materialize(ctx, manifest.item_table(contents, kind_feats, order), "items")
        decided, links, cstats = decisions.decide_contents(spark, content_pairs, manifest.representatives(table),
                                                           order, cfg.cluster)
        if cfg.phash.enabled and cfg.cluster.attach_verify != -1 and not vectors and not kind:
            decided, links, attached_pairs, n_attached = decisions.attach_lone_keepers(
                decided, links, content_pairs, feats, cfg.cluster.attach_verify)
            if n_attached:
                content_pairs = materialize(ctx, content_pairs.unionByName(attached_pairs, allowMissingColumns=True),
                                            "content_pairs_attached")
                ctx.stats["duplicate_pairs"][STAGE_PIXEL] = n_attached
            cstats = {**cstats, "attached_on_pixels": n_attached,
                      "chain_guard_keeps": cstats["chain_guard_keeps"] - n_attached}
        ctx.stats.update(cstats)
        log.info("[clusters] %d duplicate edges between distinct contents (clustered on the %s), %d clusters "
                 "(each a keeper and the items it matches directly), %d kept by the chain guard, largest "
                 "linked component %d contents%s", cstats["duplicate_edges"], cstats["cluster_path"],
                 cstats["clusters"], cstats["chain_guard_keeps"], cstats["largest_component"],
                 f", {cstats['attached_on_pixels']} copies attached to a keeper on their pixels"
                 if cstats.get("attached_on_pixels") else "")

    with stage(ctx, "manifest"):
        pairs = materialize(ctx, manifest.item_pairs(content_pairs, table), "pairs")
        every = materialize(ctx, manifest.build_manifest(table, decided, pairs, ctx.run_id, cfg.fingerprint()),
                            "manifest_all")
        rows = every.join(new_ids, "item_id", "left_semi") if ctx.corpus else every
        _write(rows.repartition(1, "action").sortWithinPartitions("item_id"),
               f"{ctx.staging}/manifest", partition="action")
        written = spark.read.parquet(f"{ctx.staging}/manifest")
        if ctx.corpus:  # this run's view: pairs and clusters that involve its items
            pairs = pairs.join(new_ids.withColumnRenamed("item_id", "item_a"), "item_a", "left_semi").unionByName(
                pairs.join(new_ids.withColumnRenamed("item_id", "item_b"), "item_b", "left_semi")).distinct()
        _write(pairs.repartition(1).sortWithinPartitions("item_a", "item_b", "stage"), f"{ctx.staging}/pairs")
        clusters = manifest.build_clusters(every, links)
        if ctx.corpus:
            clusters = clusters.join(written.select("cluster_id").distinct(), "cluster_id", "left_semi")
        _write(clusters.repartition(1).sortWithinPartitions("cluster_id"), f"{ctx.staging}/clusters")
        ctx.stats["largest_cluster"] = int(spark.read.parquet(f"{ctx.staging}/clusters")
                                           .agg(F.max("size")).first()[0] or 0)
        actions = {r["action"]: int(r["n"]) for r in written.groupBy("action").agg(F.count("*").alias("n")).collect()}
        reasons = {r["reason"]: int(r["n"]) for r in written.groupBy("reason").agg(F.count("*").alias("n")).collect()}
        _check_conservation(ctx.stats["items"], actions)
        log.info("[manifest] keep %d, drop %d, error %d (of %d items)", actions.get(S.KEEP, 0),
                 actions.get(S.DROP, 0), actions.get(S.ERROR, 0), ctx.stats["items"])

    with failures.tagged("publish"):
        if not vectors:
            features.append_cache(fresh, cache, fp)
        summary = _summary(ctx, actions, reasons, model_fingerprint, time.perf_counter() - started)
        publish.write_json(storage, f"{ctx.staging}/summary.json", summary)
        if ctx.corpus:  # the store moves on only after the run's output is complete
            _save_store(ctx, every, prior, feats)
        storage.delete(f"{ctx.staging}/_work")
        publish.publish(storage, ctx.staging, ctx.output, ctx.overwrite, ctx.run_id)
    log.info("published %s", ctx.output)
    return summary


def _save_store(ctx: RunContext, every: DataFrame, prior: store.StoreState, feats: DataFrame) -> None:
    """Write the corpus's new state: all items and decisions, the index, pending retries."""
    items = S.conform(every, S.MANIFEST)
    new_ids = every.select("item_id")
    if prior.items is not None:
        items = items.unionByName(S.conform(store.prior_failures(prior.items, new_ids), S.MANIFEST,
                                            missing_as_null=S.LATER_MANIFEST_COLUMNS))
    transient = every.where((F.col("action") == S.ERROR) & features.is_transient(F.col("error")))
    kind = kinds.get(ctx.cfg.input.kind)
    if kind:  # the kind's features instead of an index: no IVF lists or centroids
        name = store.save_state(ctx.spark, ctx.corpus, ctx.run_id, items, None, None,
                                transient.select("item_id", "uri"), kind.name, kind.stored_features(feats),
                                ctx.stats["feature_fingerprint"])
        log.info("corpus store %s now at %s", ctx.corpus, name)
        return
    centroids = ctx.stats.get("_centroids")
    index = candidates.home_lists(ctx.spark, feats, centroids)
    name = store.save_state(ctx.spark, ctx.corpus, ctx.run_id, items, index, centroids,
                            transient.select("item_id", "uri"))
    log.info("corpus store %s now at %s", ctx.corpus, name)


def _with_compared(feats: DataFrame, cfg, stats: dict) -> DataFrame:
    """Images: + `compared`, false for a decoded content that no enabled near-duplicate stage
    could compare (too flat or too little structure for the hash stages, and no embedding):
    its manifest reason is `low_information` rather than `unique`."""
    if stats.get("embedding_stage"):
        return feats.withColumn("compared", F.col("embedding").isNotNull() | hashkeys.is_hashable(cfg.phash)
                                if cfg.phash.enabled else F.col("embedding").isNotNull())
    if not cfg.phash.enabled:
        return feats
    return feats.withColumn("compared", F.coalesce(hashkeys.is_hashable(cfg.phash), F.lit(False)))


def _union(spark: SparkSession, parts: list[DataFrame]) -> DataFrame:
    """Scored pairs of several stages in one frame; `verify_score`, `sparse` null where a stage has none.
    Video pairs' segment columns (S.SEGMENT_COLUMNS) are carried when a part has them, null elsewhere."""
    cols = ["sha_a", "sha_b", "stage", "similarity", "hamming", "verify_score", "sparse"]
    if not parts:
        return spark.createDataFrame([], "sha_a string, sha_b string, stage string, similarity double, hamming int, "
                                         "verify_score double, sparse boolean")
    if any("coverage_a" in p.columns for p in parts):
        cols += list(S.SEGMENT_COLUMNS)
    if any("aligned_anchors" in p.columns for p in parts):
        cols += list(S.ANCHOR_COLUMNS)
    filled = []
    for p in parts:
        missing = {"verify_score": "double", "sparse": "boolean", **{c: "double" for c in S.SEGMENT_COLUMNS},
                   **{c: "int" for c in S.ANCHOR_COLUMNS}}
        filled.append(p.select("*", *[F.lit(None).cast(t).alias(c) for c, t in missing.items()
                                      if c in cols and c not in p.columns]))
    out = filled[0].select(*cols)
    for p in filled[1:]:
        out = out.unionByName(p.select(*cols))
    return out


def _write(df: DataFrame, path: str, partition: str | None = None) -> None:
    writer = df.write.mode("error")
    if partition:
        writer = writer.partitionBy(partition)
    writer.parquet(path)


def _check_conservation(items: int, actions: dict[str, int]) -> None:
    total = sum(actions.values())
    if total != items:
        raise RuntimeError(f"manifest has {total} rows for {items} input items: refusing to publish")


def _summary(ctx: RunContext, actions: dict, reasons: dict, model_fp: str | None, wall: float) -> dict:
    cfg = ctx.cfg
    emb_on = ctx.stats.get("embedding_stage", False)
    return {
        "run_id": ctx.run_id,
        "input": ctx.source,
        "output": ctx.output,
        "config_fingerprint": cfg.fingerprint(),
        "counts": {"items": ctx.stats["items"], **{a: actions.get(a, 0) for a in (S.KEEP, S.DROP, S.ERROR)}},
        "reasons": reasons,
        "stages": {k: v for k, v in ctx.stats.items() if k != "items" and not k.startswith("_")},
        "corpus": ctx.corpus,
        "thresholds": kinds.get(cfg.input.kind).thresholds(cfg) if kinds.get(cfg.input.kind) else {
            "phash_max_hamming": cfg.phash.max_hamming if cfg.phash.enabled else None,
            "phash_candidate_hamming": cfg.phash.candidate_hamming if cfg.phash.enabled else None,
            **{f"phash_{k}_{kind}_hamming": (cfg.phash.key_hamming(k) if kind == "max" else cfg.phash.key_candidate_hamming(k))
               if cfg.phash.enabled and k in cfg.phash.keys else None
               for k in PHASH_KEYS for kind in ("max", "candidate")},
            "phash_min_information": cfg.phash.min_information if cfg.phash.enabled else None,
            "phash_min_verify": cfg.phash.min_verify if cfg.phash.enabled else None,
            "phash_min_verify_sparse": cfg.phash.min_verify_sparse if cfg.phash.enabled else None,
            "phash_far_verify": cfg.phash.far_verify if cfg.phash.enabled else None,
            "phash_limit_verify": cfg.phash.limit_verify if cfg.phash.enabled else None,
            "embedding_threshold": cfg.embedding.threshold if emb_on else None,
            "embedding_candidate_threshold": cfg.embedding.candidate_threshold if emb_on else None,
        },
        "model": {"name": cfg.embedding.model, "fingerprint": model_fp} if cfg.embedding.enabled else None,
        "timings_s": {**ctx.timings, "total": round(wall, 3)},
        "config": cfg.to_dict(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
