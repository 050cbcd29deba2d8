"""Distributed connected components (jobs.components) against the driver union-find."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jobs.clusters import find_components
from jobs.components import spark_components


def random_ids(rng: np.random.Generator, n: int, prefix: str) -> list[str]:
    """Distinct ids whose string order differs from their creation order ("x10" < "x9")."""
    ids = [f"{prefix}{i}" for i in range(n // 2)]
    ids += [f"{prefix}{rng.integers(1 << 40):x}-{i}" for i in range(n - n // 2)]
    return [ids[i] for i in rng.permutation(n)]


def chain(ids: list[str]) -> list[tuple[str, str]]:
    return list(zip(ids[:-1], ids[1:]))


def planted_graph(seed: int) -> list[tuple[str, str]]:
    """Disjoint pieces: chains (worst case), stars, random sparse graph, pairs, loops."""
    rng = np.random.default_rng(seed)
    edges: list[tuple[str, str]] = []
    edges += chain(random_ids(rng, 700, "c"))                 # long chain, ids in random order
    edges += chain(sorted(random_ids(rng, 300, "s")))         # chain in increasing id order
    edges += chain(sorted(random_ids(rng, 300, "r"), reverse=True))
    for k in range(4):                                        # stars; the hub is not the smallest id
        ids = sorted(random_ids(rng, 150, f"h{k}_"))
        hub = ids[len(ids) // 2]
        edges += [(hub, leaf) if rng.random() < 0.5 else (leaf, hub) for leaf in ids if leaf != hub]
    small = random_ids(rng, 1500, "g")                        # many small components
    a, b = rng.integers(len(small), size=1000), rng.integers(len(small), size=1000)
    edges += [(small[i], small[j]) for i, j in zip(a, b)]     # includes some self-loops
    pairs = random_ids(rng, 400, "p")                         # isolated pairs
    edges += list(zip(pairs[0::2], pairs[1::2]))
    edges += [(y, x) for x, y in edges[:50]]                  # reversed duplicates
    edges += edges[100:150]                                   # exact duplicates
    edges += [("loop-only", "loop-only")]                     # a node with only a self-loop
    return [edges[i] for i in rng.permutation(len(edges))]


def driver_labels(edges: list[tuple[str, str]]) -> dict[str, str]:
    """jobs.clusters.find_components with nodes indexed in string order, mapped back to ids."""
    nodes = sorted({x for e in edges for x in e})
    index = {node: i for i, node in enumerate(nodes)}
    a = np.array([index[x] for x, _ in edges], dtype=np.int64)
    b = np.array([index[y] for _, y in edges], dtype=np.int64)
    labels = find_components(len(nodes), a, b)
    return {node: nodes[label] for node, label in zip(nodes, labels)}


def spark_labels(spark, edges: list[tuple[str, str]], **kwargs) -> dict[str, str]:
    df = spark.createDataFrame(pd.DataFrame(edges, columns=["src", "dst"]), "src string, dst string")
    out = spark_components(df, **kwargs).toPandas()
    assert list(out.columns) == ["node", "component"]
    assert out["node"].is_unique
    return dict(zip(out["node"], out["component"]))


def test_matches_driver_union_find(spark):
    edges = planted_graph(seed=0)
    expected = driver_labels(edges)
    got = spark_labels(spark, edges)
    assert got == expected
    assert got["loop-only"] == "loop-only"
    assert len(set(got.values())) == len(set(expected.values()))


def test_dense_random_graph_one_giant_component(spark):
    rng = np.random.default_rng(5)
    ids = random_ids(rng, 400, "d")
    a, b = rng.integers(400, size=1200), rng.integers(400, size=1200)
    edges = [(ids[i], ids[j]) for i, j in zip(a, b)]
    assert spark_labels(spark, edges, checkpoint_every=1) == driver_labels(edges)


def test_empty_and_null_edges(spark):
    empty = spark.createDataFrame([], "src string, dst string")
    assert spark_components(empty).count() == 0
    bad = spark.createDataFrame([("a", None)], "src string, dst string")
    with pytest.raises(ValueError, match="null"):
        spark_components(bad)


def test_round_limit_is_an_error(spark):
    from jobs.components import ComponentsDidNotConverge

    edges = chain([f"n{i:03d}" for i in range(64)][::-1])
    with pytest.raises(ComponentsDidNotConverge):
        spark_labels(spark, edges, max_rounds=1)
