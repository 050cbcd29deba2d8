"""Distributed connected components: large-star / small-star on DataFrames.

For edge sets too large for the driver-side union-find (jobs.clusters), this
runs the alternating large-star / small-star iterations of Kiveris et al.,
"Connected Components in MapReduce and Beyond" (SoCC 2014), as DataFrame
joins and aggregations. Labels equal ``jobs.clusters.find_components`` when
node ids are ordered as strings: a node's component is the smallest node id
in its connected component.

The working graph is a set of undirected edges stored once as
``(hi, lo)`` with ``hi > lo``. With ``m(u) = min(u, neighbours of u)``:

- large-star: every node u links each LARGER neighbour v to m(u);
- small-star: every node u links itself and each SMALLER neighbour to m over
  its smaller neighbours.

Neither step changes the connected components. The fixed point of the pair of
steps is a set of stars, each centred at its component's smallest node:
every ``hi`` has exactly one ``lo`` and no ``lo`` is itself a ``hi``. That is
the stop test (one aggregation), checked after every round; at the fixed point
another round would change nothing. Rounds are O(log^2 n) in the worst case
(chains), O(log n) in practice. The lineage is cut every ``checkpoint_every``
rounds: ``checkpoint`` when the SparkContext has a checkpoint directory (set
one on a real cluster, so a lost executor does not lose the graph), else
``localCheckpoint``; the rounds in between are cached.
"""
from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

log = logging.getLogger("dedup")

COMPONENT_DDL = "node string, component string"


class ComponentsDidNotConverge(RuntimeError):
    """The star iterations did not reach their fixed point within max_rounds."""


def spark_components(edges: DataFrame, max_rounds: int = 100,
                     checkpoint_every: int = 2) -> DataFrame:
    """Connected components of an undirected graph given as edges (src, dst).

    edges: columns ``src`` and ``dst`` (strings; other columns ignored).
    Self-loops and duplicate or reversed edges are allowed; edges with a null
    endpoint raise ValueError (an edge to nowhere is a bug upstream, not data
    to drop). Returns ``(node string, component string)``: one row per node
    that appears in an edge, component = the smallest node id (string order)
    in its component. Shuffle volume per round is O(edges), memory per task is
    bounded by Spark's partitioning (a hub's neighbour list is aggregated, never
    collected).
    """
    if max_rounds < 1 or checkpoint_every < 1:
        raise ValueError(f"max_rounds and checkpoint_every must be >= 1, got {max_rounds}, {checkpoint_every}")
    pairs = edges.select(F.col("src").cast("string").alias("src"), F.col("dst").cast("string").alias("dst"))
    nulls = pairs.where(F.col("src").isNull() | F.col("dst").isNull()).limit(1).count()
    if nulls:
        raise ValueError("spark_components: edges with a null src or dst")
    nodes = (pairs.select(F.col("src").alias("node"))
                  .unionByName(pairs.select(F.col("dst").alias("node"))).distinct())
    graph = _iterate(_cut(_canonical(pairs)), max_rounds, checkpoint_every)
    labels = nodes.join(graph.select(F.col("hi").alias("node"), F.col("lo").alias("component")), "node", "left")
    return labels.select("node", F.coalesce("component", "node").alias("component"))


def _iterate(graph: DataFrame, max_rounds: int, checkpoint_every: int) -> DataFrame:
    """Alternate large-star and small-star until the graph is a set of stars."""
    cached: DataFrame | None = None
    for rounds in range(1, max_rounds + 1):
        graph = _small_star(_large_star(graph))
        checkpoint = rounds % checkpoint_every == 0
        graph = _cut(graph) if checkpoint else graph.cache()
        edges, open_nodes = _progress(graph)  # materialises this round
        if cached is not None:
            cached.unpersist()
        cached = None if checkpoint else graph
        log.info("components: round %d, %d edges, %d nodes not yet on their star", rounds, edges, open_nodes)
        if open_nodes == 0:
            if cached is not None:  # leave no cached frame behind
                graph = _cut(graph)
                cached.unpersist()
            return graph
    raise ComponentsDidNotConverge(f"connected components not converged after {max_rounds} rounds")


def _cut(df: DataFrame) -> DataFrame:
    """Materialise df and drop its lineage: a reliable checkpoint when the
    SparkContext has a checkpoint dir (survives a lost executor), else local."""
    if df.sparkSession.sparkContext.getCheckpointDir():
        return df.checkpoint(eager=True)
    return df.localCheckpoint(eager=True)


def _canonical(pairs: DataFrame) -> DataFrame:
    """(src, dst) -> distinct (hi, lo) with hi > lo; self-loops dropped."""
    return (pairs.where(F.col("src") != F.col("dst"))
                 .select(F.greatest("src", "dst").alias("hi"), F.least("src", "dst").alias("lo"))
                 .distinct())


def _large_star(graph: DataFrame) -> DataFrame:
    """For every node u: each neighbour v > u is linked to m(u) = min(u, N(u))."""
    both = graph.select(F.col("hi").alias("u"), F.col("lo").alias("v")).unionByName(
        graph.select(F.col("lo").alias("u"), F.col("hi").alias("v")))
    mins = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    larger = graph.select(F.col("lo").alias("u"), F.col("hi").alias("v"))  # v > u
    linked = larger.join(mins, "u").select(F.col("v").alias("src"), F.col("m").alias("dst"))
    return _canonical(linked)


def _small_star(graph: DataFrame) -> DataFrame:
    """For every node u with smaller neighbours S: u and each of S are linked to min(S)."""
    mins = graph.groupBy("hi").agg(F.min("lo").alias("m"))
    spokes = graph.join(mins, "hi").select(F.col("lo").alias("src"), F.col("m").alias("dst"))
    centre = mins.select(F.col("hi").alias("src"), F.col("m").alias("dst"))
    return _canonical(spokes.unionByName(centre))


def _progress(graph: DataFrame) -> tuple[int, int]:
    """(edges, nodes off their star) in one aggregation: a node is off its star
    when it is the hi of several edges, or the hi of one and the lo of another."""
    roles = graph.select(F.col("hi").alias("x"), F.lit(1).alias("as_hi"), F.lit(0).alias("as_lo")).unionByName(
        graph.select(F.col("lo").alias("x"), F.lit(0).alias("as_hi"), F.lit(1).alias("as_lo")))
    per_node = roles.groupBy("x").agg(F.sum("as_hi").alias("k"), F.max("as_lo").alias("is_lo"))
    off = (F.col("k") > 1) | ((F.col("k") == 1) & (F.col("is_lo") == 1))
    row = per_node.agg(F.sum("k").alias("edges"), F.sum(off.cast("long")).alias("off")).first()
    return int(row["edges"] or 0), int(row["off"] or 0)
