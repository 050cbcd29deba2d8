"""Union-find, keep policy, chaining guard and cluster summaries (jobs.clusters)."""
from collections import deque

import numpy as np
import pandas as pd
import pytest

from jobs import clusters as C


def bfs_labels(n, a, b):
    """Naive reference: BFS from each unvisited node in index order."""
    adj = [[] for _ in range(n)]
    for x, y in zip(a.tolist(), b.tolist()):
        adj[x].append(y)
        adj[y].append(x)
    labels = np.full(n, -1, dtype=np.int64)
    for start in range(n):
        if labels[start] >= 0:
            continue
        labels[start] = start
        queue = deque([start])
        while queue:
            for v in adj[queue.popleft()]:
                if labels[v] < 0:
                    labels[v] = start
                    queue.append(v)
    return labels


def random_graph(rng, n, m):
    return rng.integers(n, size=m), rng.integers(n, size=m), rng.uniform(0.8, 1.0, size=m)


def frame_by_node(df):
    return df.set_index("node")


# ---------------------------------------------------------------- union-find


@pytest.mark.parametrize(
    "seed,n,m", [(0, 50, 30), (1, 500, 400), (2, 2000, 1500), (3, 300, 3000), (4, 10, 0)]
)
def test_components_match_bfs(seed, n, m):
    rng = np.random.default_rng(seed)
    a, b, _ = random_graph(rng, n, m)
    np.testing.assert_array_equal(C.find_components(n, a, b), bfs_labels(n, a, b))


def test_labels_do_not_depend_on_edge_order():
    rng = np.random.default_rng(7)
    a, b, _ = random_graph(rng, 1000, 700)
    expected = C.find_components(1000, a, b)
    for _ in range(5):
        perm = rng.permutation(a.size)
        flip = rng.random(a.size) < 0.5
        aa, bb = np.where(flip, b, a)[perm], np.where(flip, a, b)[perm]
        np.testing.assert_array_equal(C.find_components(1000, aa, bb), expected)
    assert expected.dtype == np.int64
    assert (expected <= np.arange(1000)).all()  # label = smallest index in the set


def test_union_find_api():
    uf = C.UnionFind(6)
    assert uf.union(4, 5) and uf.union(5, 2) and not uf.union(2, 4)
    assert uf.find(4) == uf.find(2) != uf.find(0)
    merged = uf.union_many(np.array([0, 1, 0]), np.array([1, 0, 3]))
    np.testing.assert_array_equal(merged, [True, False, True])
    np.testing.assert_array_equal(uf.labels(), [0, 0, 2, 0, 2, 2])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        C.find_components(3, np.array([0]), np.array([3]))


# ---------------------------------------------------------------- keep policy


def test_rank_by_policy_total_order_nulls_last():
    df = pd.DataFrame(
        {
            "pixels": [100, None, 300, 300, None, 300],
            "bytes": [5.0, 6.0, None, 7.0, 8.0, 7.0],
            "item_id": ["f", "e", "d", "c", "b", "a"],
        },
        index=[10, 11, 12, 13, 14, 15],  # ranks are by position, not by index label
    )
    rank = C.rank_by_policy(df, [("pixels", "desc"), ("bytes", "desc"), ("item_id", "asc")])
    # best: 300/7/a (row 5), 300/7/c (row 3), 300/null (row 2), 100 (row 0), then null pixels
    np.testing.assert_array_equal(rank, [3, 5, 2, 1, 4, 0])
    assert rank.dtype == np.int64
    asc = C.rank_by_policy(df, [("pixels", "asc"), ("bytes", "ASC"), ("item_id", "desc")])
    # 100 (row 0); 300/7 by id desc: c (row 3), a (row 5); 300/null (row 2); null pixels last
    np.testing.assert_array_equal(asc, [0, 4, 3, 1, 5, 2])


def test_rank_by_policy_errors():
    df = pd.DataFrame({"pixels": [1, 1], "item_id": ["a", "b"]})
    with pytest.raises(ValueError, match="'width'"):
        C.rank_by_policy(df, [("width", "desc"), ("item_id", "asc")])
    with pytest.raises(ValueError, match="'pixels'.*'asc' or 'desc'"):
        C.rank_by_policy(df, [("pixels", "down"), ("item_id", "asc")])
    with pytest.raises(ValueError, match="not a total order"):
        C.rank_by_policy(df, [("pixels", "desc")])
    with pytest.raises(ValueError, match="empty"):
        C.rank_by_policy(df, [])


# ---------------------------------------------------------------- keepers and chain guard


def test_chain_keeps_both_ends():
    # A=0 ~ B=1 ~ C=2, A unlike C; A has the best rank
    a, b, sim = np.array([0, 1]), np.array([1, 2]), np.array([0.95, 0.93])
    df = frame_by_node(C.choose_keepers(3, a, b, sim, np.array([0, 1, 2])))
    assert list(df.columns) == [c for c in C.KEEPER_COLUMNS if c != "node"]
    assert df.loc[0, "is_keeper"] and not df.loc[0, "chain_guard"] and df.loc[0, "keeper"] == -1
    assert np.isnan(df.loc[0, "keeper_similarity"])
    assert not df.loc[1, "is_keeper"] and df.loc[1, "keeper"] == 0
    assert df.loc[1, "keeper_similarity"] == pytest.approx(0.95)
    assert df.loc[2, "is_keeper"] and df.loc[2, "chain_guard"]  # only edge is to dropped B
    assert (df["component"] == 0).all()


def test_chain_with_middle_best_keeps_only_middle():
    a, b, sim = np.array([0, 1]), np.array([1, 2]), np.array([0.95, 0.93])
    df = frame_by_node(C.choose_keepers(3, a, b, sim, np.array([1, 0, 2])))
    assert df["is_keeper"].tolist() == [False, True, False]
    assert df["keeper"].tolist() == [1, -1, 1] and not df["chain_guard"].any()


def test_star_graphs():
    # centre 0 best: all leaves dropped to it; centre worst: leaves kept, centre dropped
    leaves = np.arange(1, 6)
    a, b, sim = np.zeros(5, int), leaves, np.linspace(0.9, 0.99, 5)
    best_centre = frame_by_node(C.choose_keepers(6, a, b, sim, np.arange(6)))
    assert best_centre["is_keeper"].tolist() == [True] + [False] * 5
    assert (best_centre.loc[leaves, "keeper"] == 0).all()
    worst_centre = frame_by_node(C.choose_keepers(6, a, b, sim, np.array([5, 0, 1, 2, 3, 4])))
    assert worst_centre.loc[0, "keeper"] == 5  # highest-sim kept neighbour
    assert worst_centre.loc[0, "keeper_similarity"] == pytest.approx(0.99)
    assert worst_centre.loc[leaves, "is_keeper"].all()
    assert worst_centre["chain_guard"].sum() == 4  # all leaves but the best-ranked one


def test_keeper_ties_go_to_better_rank_and_isolated_nodes_are_absent():
    # node 3 (worst) ties between kept 1 and kept 2 at sim 0.9: keeper is 1 (better rank)
    a, b, sim = np.array([3, 3, 5]), np.array([2, 1, 5]), np.array([0.9, 0.9, 1.0])
    df = frame_by_node(C.choose_keepers(6, a, b, sim, np.array([0, 1, 2, 3, 4, 5])))
    assert df.index.tolist() == [1, 2, 3]  # isolated 0, 4 and self-loop-only 5 left out
    assert df.loc[3, "keeper"] == 1 and df.loc[2, "chain_guard"]


@pytest.mark.parametrize("seed", range(6))
def test_every_dropped_node_has_an_edge_to_a_better_kept_node(seed):
    rng = np.random.default_rng(seed)
    n = 400
    a, b, sim = random_graph(rng, n, int(rng.integers(200, 1200)))
    rank = rng.permutation(n)
    df = C.choose_keepers(n, a, b, sim, rank)
    kept = set(df.loc[df.is_keeper, "node"].tolist())
    edges = {}
    for x, y, s in zip(a.tolist(), b.tolist(), sim.tolist()):
        if x != y:
            for u, v in ((x, y), (y, x)):
                edges[(u, v)] = max(edges.get((u, v), -1.0), s)
    for row in df.itertuples():
        if row.is_keeper:  # no two kept nodes are adjacent
            assert not any((row.node, k) in edges for k in kept)
            assert row.keeper == -1 and np.isnan(row.keeper_similarity)
        else:
            assert row.keeper in kept and rank[row.keeper] < rank[row.node]
            assert edges[(row.node, row.keeper)] == pytest.approx(row.keeper_similarity)
            better_kept = [
                s for (u, v), s in edges.items() if u == row.node and v in kept and rank[v] < row.rank
            ]
            assert row.keeper_similarity == pytest.approx(max(better_kept))
    np.testing.assert_array_equal(df["component"], C.find_components(n, a, b)[df["node"]])
    heads = df.sort_values("rank").groupby("component")["node"].first()
    assert df.set_index("node").loc[heads, "is_keeper"].all()
    assert not df.set_index("node").loc[heads, "chain_guard"].any()


# ---------------------------------------------------------------- summaries


def test_empty_edges():
    df = C.choose_keepers(5, np.array([], int), np.array([], int), np.array([]), np.arange(5))
    assert df.empty and list(df.columns) == list(C.KEEPER_COLUMNS)
    assert C.star_clusters(df).empty


def test_million_edges_runs():
    rng = np.random.default_rng(0)
    n, m = 300_000, 1_000_000
    a, b, sim = random_graph(rng, n, m)
    df = C.choose_keepers(n, a, b, sim, rng.permutation(n))
    stars = C.star_clusters(df)
    assert len(stars) == len(df) and (stars["head"] >= -1).all()
    assert (df["keeper"] >= -1).all() and df["is_keeper"].any()


def test_star_clusters_split_a_chain():
    # A~B~C~D~E, each link the only edge: a chain of look-alikes, A best ranked.
    a, b = np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4])
    sim = np.array([0.99, 0.98, 0.97, 0.96])
    result = C.choose_keepers(5, a, b, sim, np.arange(5))
    stars = C.star_clusters(result).set_index("node")
    # A keeps B; C has no edge to A, so it is kept and keeps D; E touches only the
    # dropped D, so it is kept and, having dropped nothing, belongs to no cluster.
    assert stars["head"].tolist() == [0, 0, 2, 2, -1]
    assert stars.loc[0, "min_edge_similarity"] == pytest.approx(0.99)
    assert stars.loc[3, "min_edge_similarity"] == pytest.approx(0.97)
    assert np.isnan(stars.loc[4, "min_edge_similarity"])


def test_star_members_all_match_their_keeper_directly():
    rng = np.random.default_rng(5)
    n = 400
    a, b, sim = random_graph(rng, n, 900)
    result = C.choose_keepers(n, a, b, sim, rng.permutation(n))
    stars = C.star_clusters(result)
    edges = {(int(x), int(y)) for x, y in zip(a, b)} | {(int(y), int(x)) for x, y in zip(a, b)}
    members = stars[stars["head"] >= 0]
    for node, head in zip(members["node"], members["head"]):
        assert node == head or (node, head) in edges
    # every cluster has exactly one keeper: its head
    kept = result.set_index("node")["is_keeper"]
    for head, group in members.groupby("head"):
        assert kept[group["node"]].sum() == 1 and kept[head]
    # fewer nodes share a cluster than share a component
    assert members.groupby("head").size().max() <= pd.Series(result["component"]).value_counts().max()
