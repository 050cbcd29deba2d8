"""Duplicate edges between contents -> keep/drop decisions per content.

Runs the clustering and keep policy of jobs/clusters.py on the thresholded
edges (only contents that have at least one duplicate edge take part) and
returns the decisions as Spark DataFrames. A published cluster is a star: one
keeper and the contents it dropped (each with a direct duplicate edge to it);
a keeper that dropped nothing has no cluster (cluster_id null). Components
only decide which contents are compared with which keepers:
content_sha256, cluster_id, is_keeper, chain_guard, keeper_sha, keeper_similarity,
matched_by, plus a per-cluster table of weakest/strongest links.

Where it runs depends on the number of duplicate edges:

- up to `cluster.driver_max_edges`: collected to the driver and decided in one
  call (driver memory ~200 bytes per edge);
- above it: connected components on the executors (jobs/components.py), then
  each component is decided by one pandas call (`cogroup(...).applyInPandas`)
  running the very same `_decide_frame`, so the results equal the driver's.
  Memory per task: the largest component's edges and nodes.
"""
from __future__ import annotations

import logging
from functools import partial

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import Window
from pyspark.sql import functions as F

from jobs import clusters, hashkeys
from jobs.components import spark_components
from jobs.config import ClusterConfig
from udfs import verify
from udfs.metrics import STAGE_PIXEL, STAGE_PRIORITY

log = logging.getLogger("dedup")

DECISION_DDL = ("content_sha256 string, cluster_id string, is_keeper boolean, chain_guard boolean, "
                "keeper_sha string, keeper_similarity double, matched_by string")
LINK_DDL = "cluster_id string, min_edge_similarity double, max_edge_similarity double"
# one component's decisions, each row carrying its cluster's links (the executor path's output)
COMPONENT_DDL = DECISION_DDL + ", min_edge_similarity double, max_edge_similarity double"


def duplicate_edges(content_pairs: DataFrame) -> DataFrame:
    """Duplicate edges merged per content pair: (sha_a, sha_b, similarity = max, stages array<string>)."""
    return (content_pairs.where("is_duplicate")
                         .groupBy("sha_a", "sha_b")
                         .agg(F.max("similarity").alias("similarity"), F.collect_set("stage").alias("stages")))


def decide_contents(spark: SparkSession, content_pairs: DataFrame, reps: DataFrame,
                    order: list[tuple[str, str]], cfg: ClusterConfig) -> tuple[DataFrame, DataFrame, dict]:
    """Cluster the duplicate edges of `content_pairs` and choose keepers.

    `reps` holds one row per content with its representative item's keep-policy
    columns (content_sha256, item_id, uri, framed, pixels, bytes, width, height, prior_keep);
    `order` is the keep policy (ClusterConfig.order(), with prior_keep first on
    incremental runs). Returns (decisions, links, stats); stats has clusters,
    chain_guard_keeps, largest_component (contents linked by duplicate edges,
    directly or through others: how far a chain would have grown a cluster),
    duplicate_edges and cluster_path ("driver" or "executors").
    """
    merged = duplicate_edges(content_pairs).localCheckpoint(eager=True)
    n = merged.count()
    if n <= cfg.driver_max_edges:
        decided, links, stats = _decide_on_driver(spark, merged, reps, order)
        path = "driver"
    else:
        log.info("[clusters] %d duplicate edges > cluster.driver_max_edges=%d: clustering on the executors",
                 n, cfg.driver_max_edges)
        decided, links, stats = _decide_on_executors(merged, reps, order)
        path = "executors"
    return decided, links, {**stats, "duplicate_edges": int(n), "cluster_path": path}


def _decide_on_driver(spark: SparkSession, merged: DataFrame, reps: DataFrame,
                      order: list[tuple[str, str]]) -> tuple[DataFrame, DataFrame, dict]:
    edges = merged.toPandas()
    if edges.empty:
        return spark.createDataFrame([], DECISION_DDL), spark.createDataFrame([], LINK_DDL), \
            {"clusters": 0, "chain_guard_keeps": 0, "largest_component": 0}
    shas = np.unique(np.concatenate([edges["sha_a"].to_numpy(), edges["sha_b"].to_numpy()]))
    node_df = reps.join(F.broadcast(spark.createDataFrame(pd.DataFrame({"content_sha256": shas}))),
                        "content_sha256").toPandas()
    decided, links, largest = _decide_frame(edges, node_df, order)
    stats = {"clusters": int(len(links)), "chain_guard_keeps": int(decided["chain_guard"].sum()),
             "largest_component": largest}
    return spark.createDataFrame(decided, DECISION_DDL), spark.createDataFrame(links, LINK_DDL), stats


def _decide_on_executors(merged: DataFrame, reps: DataFrame,
                         order: list[tuple[str, str]]) -> tuple[DataFrame, DataFrame, dict]:
    """Components by large-star / small-star, then one `_decide_frame` call per component."""
    labels = spark_components(merged.select(F.col("sha_a").alias("src"), F.col("sha_b").alias("dst"))) \
        .localCheckpoint(eager=True)
    # fresh aliases on both sides: the cogroup must not see one `component` column twice
    edges = merged.join(labels.select(F.col("node").alias("sha_a"), F.col("component").alias("component")), "sha_a")
    nodes = reps.join(labels.select(F.col("node").alias("content_sha256"), F.col("component").alias("component")),
                      "content_sha256")
    out = (edges.groupBy("component").cogroup(nodes.groupBy("component"))
                .applyInPandas(partial(_decide_component, order=order), COMPONENT_DDL)
                .localCheckpoint(eager=True))
    decided = out.select(*[c.split()[0] for c in DECISION_DDL.split(", ")])
    links = (out.where(F.col("cluster_id").isNotNull())
                .select("cluster_id", "min_edge_similarity", "max_edge_similarity").dropDuplicates(["cluster_id"]))
    counts = out.agg(F.countDistinct("cluster_id").alias("clusters"),
                     F.sum(F.col("chain_guard").cast("long")).alias("guard")).first()
    largest = labels.groupBy("component").count().agg(F.max("count")).first()[0]
    return decided, links, {"clusters": int(counts["clusters"] or 0), "chain_guard_keeps": int(counts["guard"] or 0),
                            "largest_component": int(largest or 0)}


def _decide_component(edges: pd.DataFrame, nodes: pd.DataFrame, order: list[tuple[str, str]]) -> pd.DataFrame:
    """One connected component (its edges and its nodes' keep-policy columns) -> COMPONENT_DDL rows."""
    if edges.empty:
        raise ValueError(f"component of {len(nodes)} contents without edges: the components and edges disagree")
    decided, links, _ = _decide_frame(edges.drop(columns="component"), nodes.drop(columns="component"), order)
    return decided.merge(links, on="cluster_id", how="left")


def _decide_frame(edges: pd.DataFrame, node_df: pd.DataFrame,
                  order: list[tuple[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Edges (sha_a, sha_b, similarity, stages) and one row per content in them -> (decisions, links,
    contents in the largest connected component).

    Pure pandas: the driver calls it on all edges, the executors on one
    component at a time. Nodes are indexed in content_sha256 order, so labels
    and ties do not depend on how the edges were split.
    """
    edges = edges.sort_values(["sha_a", "sha_b"], ignore_index=True)
    shas = np.unique(np.concatenate([edges["sha_a"].to_numpy(), edges["sha_b"].to_numpy()]))
    node_df = node_df.set_index("content_sha256")
    # pandas' hash lookup: np.setdiff1d on object (string) arrays compares every pair (67 s for 70k edges)
    missing = shas[~pd.Index(shas).isin(node_df.index)]
    if missing.size:
        raise ValueError(f"{missing.size} contents in duplicate edges have no representative item, e.g. {missing[0]}")
    node_df = node_df.loc[shas].reset_index()
    index = pd.Series(np.arange(len(shas)), index=shas)
    a = index[edges["sha_a"]].to_numpy()
    b = index[edges["sha_b"]].to_numpy()
    sim = edges["similarity"].to_numpy(dtype=np.float64)
    # links: each content's duplicate edges (the keep-policy column `links`)
    node_df["links"] = np.bincount(np.concatenate([a, b]), minlength=len(shas)).astype(np.int64)
    rank = clusters.rank_by_policy(node_df, order)
    result = clusters.choose_keepers(len(shas), a, b, sim, rank)
    decided, links = _frames(result, clusters.star_clusters(result), node_df, _matched_by(edges["stages"]), a, b)
    return decided, links, int(result["component"].value_counts().max())


def _matched_by(stages: pd.Series) -> list[str]:
    """Each edge's stages joined by '+' in STAGE_PRIORITY order."""
    order = {s: i for i, s in enumerate(STAGE_PRIORITY)}
    return ["+".join(sorted(s, key=lambda x: order.get(x, len(order)))) for s in stages]


def _frames(result, stars, node_df, matched_by, a, b) -> tuple[pd.DataFrame, pd.DataFrame]:
    """choose_keepers + star_clusters output -> (decisions, links); clusters are named after their keeper."""
    shas = node_df["content_sha256"].to_numpy()
    items = node_df["item_id"].to_numpy()
    head = stars["head"].to_numpy()
    cluster_of = np.where(head >= 0, items[np.maximum(head, 0)], None)
    pair_stage = {}
    for i, j, m in zip(a, b, matched_by):
        pair_stage[(i, j)] = pair_stage[(j, i)] = m
    keeper = result["keeper"].to_numpy()
    matched = [pair_stage[(n, k)] if k >= 0 else None for n, k in zip(result["node"], keeper)]
    decisions = pd.DataFrame({
        "content_sha256": shas[result["node"]],
        "cluster_id": cluster_of,
        "is_keeper": result["is_keeper"].astype(bool),
        "chain_guard": result["chain_guard"].astype(bool),
        "keeper_sha": [shas[k] if k >= 0 else None for k in keeper],
        "keeper_similarity": result["keeper_similarity"].astype(float),
        "matched_by": matched,
    })
    heads = head >= 0
    link_rows = (pd.DataFrame({"cluster_id": cluster_of[heads],
                               "min_edge_similarity": stars["min_edge_similarity"].to_numpy()[heads],
                               "max_edge_similarity": stars["max_edge_similarity"].to_numpy()[heads]})
                 .drop_duplicates("cluster_id").reset_index(drop=True))
    return decisions, link_rows


def attach_lone_keepers(decided: DataFrame, links: DataFrame, content_pairs: DataFrame, features: DataFrame,
                        min_score: float) -> tuple[DataFrame, DataFrame, DataFrame, int]:
    """Give a lone chain-guard keeper to the keeper of the copy it matched, when their pixels agree.

    A star cluster holds a keeper and the contents with a direct duplicate edge to
    it, so an edited copy that matched only another copy (a text overlay matching a
    resized copy of the original) is kept alone by the chain guard. For each such
    lone keeper x (chain_guard, no cluster) and each keeper k of a content x has a
    duplicate edge to, the two thumbnails are compared directly under every key
    family's alignment (udfs.verify.best_alignment); x is dropped into the cluster
    of the best k scoring >= `min_score`. No chain can grow: x must agree with k
    itself, and x drops nothing (it was alone).

    Returns (decisions, links, the new `pixel` stage pairs in content-pair columns,
    contents attached). Cost: one thumbnail comparison (~1-4 ms) per lone keeper and
    keeper it reaches.
    """
    lone = decided.where("is_keeper AND chain_guard AND cluster_id IS NULL").select(F.col("content_sha256").alias("x"))
    dropped = decided.where(~F.col("is_keeper")).select(F.col("content_sha256").alias("c"), F.col("keeper_sha").alias("k"))
    dup = content_pairs.where("is_duplicate").select("sha_a", "sha_b")
    edges = dup.select(F.col("sha_a").alias("x"), F.col("sha_b").alias("c")).unionByName(
        dup.select(F.col("sha_b").alias("x"), F.col("sha_a").alias("c")))
    reach = edges.join(lone, "x", "left_semi").join(dropped, "c").select("x", "k").distinct()
    ends = [hashkeys.pixel_check_inputs(features, s) for s in ("x", "k")]
    scored = reach.join(ends[0], "x").join(ends[1], "k").mapInPandas(verify.attach_scores, verify.ATTACH_DDL)
    best = Window.partitionBy("x").orderBy(F.col("score").desc(), F.col("k").asc())
    chosen = (scored.where(F.col("score") >= min_score).withColumn("_r", F.row_number().over(best))
                    .where("_r = 1").drop("_r").localCheckpoint(eager=True))
    n = chosen.count()
    if n == 0:
        return decided, links, content_pairs.limit(0), 0
    heads = decided.where("is_keeper AND cluster_id IS NOT NULL").select(
        F.col("content_sha256").alias("k"), F.col("cluster_id").alias("_cluster"))
    moves = chosen.join(heads, "k").select(F.col("x").alias("content_sha256"), "k", "score", "_cluster")
    updated = (decided.join(moves, "content_sha256", "left")
               .select("content_sha256",
                       F.coalesce("_cluster", "cluster_id").alias("cluster_id"),
                       F.when(F.col("k").isNotNull(), F.lit(False)).otherwise(F.col("is_keeper")).alias("is_keeper"),
                       F.when(F.col("k").isNotNull(), F.lit(False)).otherwise(F.col("chain_guard")).alias("chain_guard"),
                       F.coalesce("k", "keeper_sha").alias("keeper_sha"),
                       F.coalesce("score", "keeper_similarity").alias("keeper_similarity"),
                       F.when(F.col("k").isNotNull(), F.lit(STAGE_PIXEL)).otherwise(F.col("matched_by")).alias("matched_by")))
    weakest = moves.groupBy(F.col("_cluster").alias("cluster_id")).agg(F.min("score").alias("_min"))
    links = (links.join(weakest, "cluster_id", "left")
                  .select("cluster_id", F.least("min_edge_similarity", F.coalesce("_min", "min_edge_similarity"))
                          .alias("min_edge_similarity"), "max_edge_similarity"))
    pairs = chosen.select(F.least("x", "k").alias("sha_a"), F.greatest("x", "k").alias("sha_b"),
                          F.lit(STAGE_PIXEL).alias("stage"), F.col("score").alias("similarity"),
                          F.lit(None).cast("int").alias("hamming"), F.col("score").alias("verify_score"),
                          "sparse", F.lit(True).alias("is_duplicate"))
    return updated, links, pairs, int(n)
