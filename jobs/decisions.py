"""Duplicate edges between contents -> keep/drop decisions per content.

Runs the driver-side clustering of jobs/clusters.py on the thresholded edges
(only contents that have at least one duplicate edge travel to the driver) and
returns the decisions as a small Spark DataFrame:
content_sha256, cluster_id, is_keeper, chain_guard, keeper_sha, keeper_similarity,
matched_by, plus a per-cluster table of weakest/strongest links.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import clusters
from jobs.config import ClusterConfig
from udfs.metrics import STAGE_PRIORITY

log = logging.getLogger("dedup")


class TooManyEdgesError(RuntimeError):
    """More duplicate edges than cluster.driver_max_edges allows on the driver."""


DECISION_DDL = ("content_sha256 string, cluster_id string, is_keeper boolean, chain_guard boolean, "
                "keeper_sha string, keeper_similarity double, matched_by string")
LINK_DDL = "cluster_id string, min_edge_similarity double, max_edge_similarity double"


def collect_edges(content_pairs: DataFrame, cfg: ClusterConfig) -> pd.DataFrame:
    """Duplicate edges merged per content pair: max similarity, stages joined by '+'."""
    dup = content_pairs.where("is_duplicate")
    merged = (dup.groupBy("sha_a", "sha_b")
                 .agg(F.max("similarity").alias("similarity"),
                      F.collect_set("stage").alias("stages")))
    n = merged.count()
    if n > cfg.driver_max_edges:
        raise TooManyEdgesError(
            f"{n} duplicate edges exceed cluster.driver_max_edges={cfg.driver_max_edges}; "
            "raise it (driver memory ~200 bytes per edge) or tighten the thresholds")
    edges = merged.toPandas()
    order = {s: i for i, s in enumerate(STAGE_PRIORITY)}
    edges["matched_by"] = [
        "+".join(sorted(s, key=lambda x: order.get(x, len(order)))) for s in edges["stages"]]
    return edges.drop(columns="stages").sort_values(["sha_a", "sha_b"], ignore_index=True)


def decide_contents(spark: SparkSession, edges: pd.DataFrame, reps: DataFrame,
                    order: list[tuple[str, str]]) -> tuple[DataFrame, DataFrame, dict]:
    """Cluster the edges and choose keepers.

    `reps` holds one row per content with its representative item's keep-policy
    columns (content_sha256, item_id, uri, pixels, bytes, width, height, prior_keep);
    `order` is the keep policy (ClusterConfig.order(), with prior_keep first on
    incremental runs).
    Returns (decisions, links, stats).
    """
    if edges.empty:
        empty = spark.createDataFrame([], DECISION_DDL), spark.createDataFrame([], LINK_DDL)
        return (*empty, {"clusters": 0, "chain_guard_keeps": 0})
    shas = np.unique(np.concatenate([edges["sha_a"].to_numpy(), edges["sha_b"].to_numpy()]))
    node_df = (reps.join(F.broadcast(spark.createDataFrame(pd.DataFrame({"content_sha256": shas}))),
                         "content_sha256")
                   .toPandas().set_index("content_sha256").loc[shas].reset_index())
    index = pd.Series(np.arange(len(shas)), index=shas)
    a = index[edges["sha_a"]].to_numpy()
    b = index[edges["sha_b"]].to_numpy()
    sim = edges["similarity"].to_numpy(dtype=np.float64)
    rank = clusters.rank_by_policy(node_df, order)
    result = clusters.choose_keepers(len(shas), a, b, sim, rank)
    links = clusters.summarize_clusters(result, a, b, sim)
    return _to_spark(spark, result, links, node_df, edges, a, b, rank)


def _to_spark(spark, result, links, node_df, edges, a, b, rank):
    shas = node_df["content_sha256"].to_numpy()
    items = node_df["item_id"].to_numpy()
    # A component is named after its best-ranked item.
    comp = result["component"].to_numpy()
    best = pd.DataFrame({"component": comp, "rank": rank[result["node"]], "node": result["node"]}) \
        .sort_values(["component", "rank"]).drop_duplicates("component").set_index("component")["node"]
    cluster_of = items[best.loc[comp].to_numpy()]
    pair_stage = {}
    for i, j, m in zip(a, b, edges["matched_by"]):
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
    link_rows = pd.DataFrame({
        "cluster_id": items[best.loc[links["component"].to_numpy()].to_numpy()],
        "min_edge_similarity": links["min_edge_similarity"].astype(float),
        "max_edge_similarity": links["max_edge_similarity"].astype(float),
    })
    stats = {"clusters": int(len(links)), "chain_guard_keeps": int(decisions["chain_guard"].sum())}
    return (spark.createDataFrame(decisions, DECISION_DDL), spark.createDataFrame(link_rows, LINK_DDL), stats)
