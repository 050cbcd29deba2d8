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


# ---------------------------------------------------------------------------- the job's executor path

def _clustered_vectors(seed: int = 0, d: int = 32) -> tuple[list[str], np.ndarray]:
    """Planted duplicate structure: groups of 3, chains A~B~C with A unlike C, an identical
    slice, and unrelated vectors. Ids sort so that A ranks before B before C."""
    rng = np.random.default_rng(seed)
    ids, rows = [], []

    def unit(v):
        return v / np.linalg.norm(v)

    for g in range(40):                                       # base + 2 copies at cosine ~0.95
        base = unit(rng.normal(size=d))
        for k in range(3):
            ids.append(f"g{g:02d}-{k}")
            rows.append(unit(base + (0.33 * unit(rng.normal(size=d)) if k else 0)))
    for c in range(12):                                       # chains: cos(A,B) = cos(B,C) = 0.93, cos(A,C) = 0.73
        e1, e2 = np.linalg.qr(rng.normal(size=(d, 2)))[0].T
        theta = np.arccos(0.93)
        for k, name in enumerate("abc"):
            ids.append(f"k{c:02d}-{name}")
            rows.append(np.cos(k * theta) * e1 + np.sin(k * theta) * e2)
    same = unit(rng.normal(size=d))
    for k in range(8):                                        # one content, 8 items
        ids.append(f"s{k}")
        rows.append(same)
    for k in range(150):                                      # unrelated
        ids.append(f"u{k:03d}")
        rows.append(unit(rng.normal(size=d)))
    return ids, np.asarray(rows, dtype=np.float32)


@pytest.mark.spark
def test_job_clusters_on_the_executors_equal_the_driver(spark, tmp_path):
    """cluster.driver_max_edges=1 forces components and keepers onto the executors."""
    from jobs.dedup import main
    from tests.helpers import read_run

    ids, x = _clustered_vectors()
    pd.DataFrame({"id": ids, "embedding": list(x)}).to_parquet(tmp_path / "vectors.parquet")
    runs = {}
    for name, limit in (("driver", 5_000_000), ("executors", 1)):
        out = tmp_path / name
        assert main(["run", "--input", str(tmp_path / "vectors.parquet"), "--output", str(out),
                     "--set", "selfjoin.nlist=4", "--set", "selfjoin.nprobe=4", "--set", "selfjoin.probe_margin=2",
                     "--set", f"cluster.driver_max_edges={limit}"]) == 0
        runs[name] = read_run(out)
    (m_drv, _, c_drv, s_drv), (m_exe, _, c_exe, s_exe) = runs["driver"], runs["executors"]
    assert s_drv["stages"]["cluster_path"] == "driver" and s_exe["stages"]["cluster_path"] == "executors"
    assert s_exe["stages"]["duplicate_edges"] == s_drv["stages"]["duplicate_edges"] > 100
    for key in ("clusters", "chain_guard_keeps", "largest_component", "largest_cluster"):
        assert s_exe["stages"][key] == s_drv["stages"][key]
    assert s_drv["stages"]["clusters"] >= 40 + 12 and s_drv["stages"]["chain_guard_keeps"] >= 12
    cols = ["item_id", "action", "reason", "cluster_id", "keeper_id", "keeper_similarity", "matched_by",
            "max_similarity", "nearest_id"]
    drv = m_drv[cols].sort_values("item_id", ignore_index=True)
    exe = m_exe[cols].sort_values("item_id", ignore_index=True)
    pd.testing.assert_frame_equal(exe, drv)
    by_id = drv.set_index("item_id")
    for c in range(12):                                       # the chain guard held: A and C kept, B dropped to A
        assert by_id.loc[[f"k{c:02d}-a", f"k{c:02d}-b", f"k{c:02d}-c"], "action"].tolist() == ["keep", "drop", "keep"]
        assert by_id.at[f"k{c:02d}-b", "keeper_id"] == f"k{c:02d}-a"
    key = [c for c in c_drv.columns if not isinstance(c_drv[c].iat[0], (list, np.ndarray))]
    pd.testing.assert_frame_equal(c_exe[key].sort_values("cluster_id", ignore_index=True),
                                  c_drv[key].sort_values("cluster_id", ignore_index=True))
