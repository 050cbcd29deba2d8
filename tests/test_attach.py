"""A copy kept alone by the chain guard joins its keeper's star when their pixels agree
(jobs/decisions.attach_lone_keepers, udfs/verify.best_alignment)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

from jobs import corpus, decisions
from jobs.decisions import DECISION_DDL, LINK_DDL
from udfs import robust, verify

PAIR_DDL = ("sha_a string, sha_b string, stage string, similarity double, hamming int, verify_score double, "
            "sparse boolean, is_duplicate boolean")
FEATURE_DDL = "content_sha256 string, thumb binary, sparse boolean, chroma array<double>"


def _captioned(img: Image.Image) -> Image.Image:
    out = img.copy()
    draw = ImageDraw.Draw(out)
    w, h = out.size
    draw.rectangle((0, int(h * 0.8), w, h), fill=(255, 255, 255))
    draw.text((10, int(h * 0.85)), "caption caption caption", fill=(0, 0, 0))
    return out


@pytest.fixture(scope="module")
def pictures() -> dict[str, robust.KeyFeatures]:
    astronaut, camera = corpus.load_original("astronaut"), corpus.load_original("camera")
    w, h = astronaut.size
    return {"k": robust.key_features(astronaut),                                   # the keeper
            "c": robust.key_features(astronaut.resize((w // 2, h // 2))),          # dropped into k
            "x": robust.key_features(_captioned(astronaut.resize((w // 2, h // 2)))),  # matched c only
            "y": robust.key_features(camera)}                                      # a false edge to c


def test_best_alignment_finds_the_family_that_fits(pictures):
    p = pictures
    score, stage = verify.best_alignment(p["x"].thumb, p["k"].thumb, False)
    assert score >= 0.8 and stage in verify.STAGE_FAMILY
    assert verify.best_alignment(p["y"].thumb, p["k"].thumb, False)[0] < 0.5
    assert np.isnan(verify.best_alignment(None, p["k"].thumb, False)[0])


def test_lone_keeper_attached_on_pixels_and_false_edge_left_alone(spark, pictures):
    decided = spark.createDataFrame(pd.DataFrame({
        "content_sha256": ["k", "c", "x", "y"],
        "cluster_id": ["K", "K", None, None],
        "is_keeper": [True, False, True, True],
        "chain_guard": [False, False, True, True],
        "keeper_sha": [None, "k", None, None],
        "keeper_similarity": [np.nan, 0.95, np.nan, np.nan],
        "matched_by": [None, "phash", None, None]}), DECISION_DDL)
    links = spark.createDataFrame(pd.DataFrame({"cluster_id": ["K"], "min_edge_similarity": [0.95],
                                                "max_edge_similarity": [0.95]}), LINK_DDL)
    pairs = spark.createDataFrame(pd.DataFrame({
        "sha_a": ["c", "c", "c"], "sha_b": ["k", "x", "y"], "stage": ["phash"] * 3,
        "similarity": [0.95, 0.92, 0.91], "hamming": [3, 5, 6], "verify_score": [0.99, 0.9, 0.7],
        "sparse": [False] * 3, "is_duplicate": [True, True, True]}), PAIR_DDL)
    feats = spark.createDataFrame(pd.DataFrame({
        "content_sha256": list(pictures), "thumb": [f.thumb for f in pictures.values()],
        "sparse": [bool(f.sparse) for f in pictures.values()],
        "chroma": [list(map(float, f.chroma)) for f in pictures.values()]}), FEATURE_DDL)

    out, new_links, new_pairs, n = decisions.attach_lone_keepers(decided, links, pairs, feats, 0.8)

    rows = {r["content_sha256"]: r for r in out.collect()}
    assert n == 1
    assert rows["x"]["cluster_id"] == "K" and rows["x"]["keeper_sha"] == "k"
    assert not rows["x"]["is_keeper"] and not rows["x"]["chain_guard"]
    assert rows["x"]["matched_by"] == "pixel" and rows["x"]["keeper_similarity"] >= 0.8
    assert rows["y"]["is_keeper"] and rows["y"]["chain_guard"] and rows["y"]["cluster_id"] is None
    assert rows["k"]["is_keeper"] and rows["c"]["keeper_sha"] == "k"  # the rest unchanged
    [pair] = new_pairs.collect()
    assert (pair["sha_a"], pair["sha_b"], pair["stage"], pair["is_duplicate"]) == ("k", "x", "pixel", True)
    assert pair["similarity"] == pytest.approx(rows["x"]["keeper_similarity"])
    [link] = new_links.collect()
    assert link["min_edge_similarity"] == pytest.approx(min(0.95, pair["similarity"]))
    # a bar nobody reaches attaches nothing and returns the inputs
    same, _, none, zero = decisions.attach_lone_keepers(decided, links, pairs, feats, 1.0)
    assert zero == 0 and none.count() == 0 and same.where("is_keeper").count() == 3


def test_links_first_keeps_the_version_that_matches_the_most_others():
    """o matches a, b, c; the longer a (boilerplate added) matches only o. Longest-first keeps
    a and leaves b and c alone (no direct edge to a); links-first keeps o and drops all three."""
    edges = pd.DataFrame({"sha_a": ["a", "b", "c"], "sha_b": ["o", "o", "o"],
                          "similarity": [0.8, 0.6, 0.55], "stages": [["text_minhash"]] * 3})
    nodes = pd.DataFrame({"content_sha256": ["a", "b", "c", "o"], "item_id": ["ia", "ib", "ic", "io"],
                          "uri": [None] * 4, "chars": [1200, 990, 1010, 1000], "bytes": [1200, 990, 1010, 1000]})
    longest = [("chars", "desc"), ("bytes", "desc"), ("item_id", "asc")]
    decided, _, _ = decisions._decide_frame(edges, nodes, longest)
    kept = set(decided.loc[decided["is_keeper"], "content_sha256"])
    assert kept == {"a", "b", "c"}                      # b and c: no direct edge to the keeper a
    decided, _, _ = decisions._decide_frame(edges, nodes, [("links", "desc"), *longest])
    by_sha = decided.set_index("content_sha256")
    assert list(by_sha.index[by_sha["is_keeper"]]) == ["o"]
    assert set(by_sha.loc[["a", "b", "c"], "keeper_sha"]) == {"o"}


def test_links_is_a_keep_policy_column_of_both_kinds():
    from jobs.config import ClusterConfig, TextConfig
    assert ClusterConfig(keep_order=("links desc", "pixels desc")).order()[0] == ("links", "desc")
    assert TextConfig().order()[0] == ("links", "desc")
