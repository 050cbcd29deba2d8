"""The persistent corpus store used by incremental runs (`--corpus STORE`) and `dedup query`.

Layout (a directory on any Hadoop file system; `dedup query` reads local ones):
  STORE/features-<fingerprint>/   feature cache: content sha256 -> size, pHash, embedding
  STORE/state-<run_id>/items/     every corpus item with its current decision (manifest columns)
  STORE/state-<run_id>/index/     content_sha256, phash, quality, robust keys, embedding, list
                                   (partitioned by IVF home list)
  STORE/state-<run_id>/centroids.json  the IVF centroids the index was built with (absent: no embeddings)
  STORE/state-<run_id>/features/  text stores: content_sha256, chars, words, text_sha256, minhash, shingles
                                   of every readable stored content (no index, no centroids)
  STORE/state-<run_id>/pending/   items that failed for a transient reason: retried by the next run
  STORE/state-<run_id>/kind.json  which kind of items the store holds (absent: image) and, for text,
                                   the text feature fingerprint its features were computed with
  STORE/CURRENT                   the name of the state the last successful run published
A run writes a new state folder and only then replaces CURRENT, so a failed run
leaves the store as it was. Older states are removed after the switch.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.publish import Storage

CURRENT = "CURRENT"
KIND_FILE = "kind.json"


@dataclass(frozen=True)
class StoreState:
    """What a run reads from the store: the previous items and, if any, the IVF centroids
    (images) or the stored text features and their fingerprint (text)."""

    items: DataFrame | None
    pending: DataFrame | None
    centroids: np.ndarray | None
    kind: str = "image"
    features: DataFrame | None = None
    feature_fingerprint: str | None = None


def load_state(spark: SparkSession, store: str) -> StoreState:
    storage = Storage(spark, store)
    name = current_state(storage)
    if name is None:
        return StoreState(None, None, None)
    base = storage.path(name)
    items = spark.read.parquet(f"{base}/items")
    pending = spark.read.parquet(f"{base}/pending") if storage.exists(f"{base}/pending/_SUCCESS") else None
    centroids = None
    if storage.exists(f"{base}/centroids.json"):
        text = spark.sparkContext.wholeTextFiles(f"{base}/centroids.json").first()[1]
        centroids = np.asarray(json.loads(text)["centroids"], dtype=np.float32)
    meta = {}
    if storage.exists(f"{base}/{KIND_FILE}"):
        meta = json.loads(spark.sparkContext.wholeTextFiles(f"{base}/{KIND_FILE}").first()[1])
    feats = spark.read.parquet(f"{base}/features") if storage.exists(f"{base}/features/_SUCCESS") else None
    return StoreState(items, pending, centroids, meta.get("kind", "image"), feats, meta.get("feature_fingerprint"))


def kind_mismatch(store: str, stored: str, wanted: str) -> str:
    """The one-line error for a store of one kind used by a run or query of another."""
    return (f"{store} is a corpus store of {stored} items; it cannot be used with --kind {wanted} "
            f"(use another store, or --kind {stored})")


def current_state(storage: Storage) -> str | None:
    path = storage.path(CURRENT)
    if not storage.exists(path):
        return None
    return storage.spark.sparkContext.wholeTextFiles(path).first()[1].strip()


def save_state(spark: SparkSession, store: str, run_id: str, items: DataFrame, index: DataFrame | None,
               centroids: np.ndarray | None, pending: DataFrame, kind: str = "image",
               features: DataFrame | None = None, feature_fingerprint: str | None = None) -> str:
    """Write a new state and switch CURRENT to it; returns the state's name.

    `features` (text stores): the stored contents' text features, written with
    the fingerprint they were computed with.
    """
    storage = Storage(spark, store)
    old = current_state(storage)
    name = f"state-{run_id}"
    base = storage.path(name)
    items.repartition(1).sortWithinPartitions("item_id").write.mode("overwrite").parquet(f"{base}/items")
    pending.repartition(1).write.mode("overwrite").parquet(f"{base}/pending")
    if index is not None:
        index.repartition("list").write.mode("overwrite").partitionBy("list").parquet(f"{base}/index")
    if centroids is not None:
        storage.write_text(f"{base}/centroids.json", json.dumps({"centroids": centroids.tolist()}))
    if features is not None:
        features.repartition(1).sortWithinPartitions("content_sha256").write.mode("overwrite") \
            .parquet(f"{base}/features")
    meta = {"kind": kind, **({"feature_fingerprint": feature_fingerprint} if feature_fingerprint else {})}
    storage.write_text(f"{base}/{KIND_FILE}", json.dumps(meta))
    tmp = storage.path(CURRENT + ".tmp")
    storage.write_text(tmp, name + "\n")
    storage.delete(storage.path(CURRENT))
    storage.rename(tmp, storage.path(CURRENT))
    if old and old != name:
        storage.delete(storage.path(old))
    return name


def prior_contents(prior_items: DataFrame, new_ids: DataFrame) -> DataFrame:
    """Stored, decoded items not given again in this run, as content rows (no file is read again)."""
    kept = prior_items.join(new_ids, "item_id", "left_anti").where(F.col("action") != "error")
    return kept.select("item_id", "uri", F.lit(None).cast("string").alias("input_error"),
                       "content_sha256", "bytes", F.lit(None).cast("string").alias("read_error"),
                       (F.col("action") == "keep").cast("int").alias("prior_keep"))


def prior_failures(prior_items: DataFrame, new_ids: DataFrame) -> DataFrame:
    """Stored permanent failures not given again: carried into the next state unchanged."""
    return prior_items.join(new_ids, "item_id", "left_anti").where(F.col("action") == "error")


def retry_items(pending: DataFrame | None, new_ids: DataFrame) -> DataFrame | None:
    """Items that failed transiently before and are not in this run's input: read them again."""
    if pending is None:
        return None
    return pending.join(new_ids, "item_id", "left_anti").select(
        "item_id", "uri", F.lit(None).cast("string").alias("input_error"))
