"""Threshold tuning helpers (hand-made tables, exact numbers) and `dedup report` on a real run."""
from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageStat

from jobs import tuning as T
from jobs.config import load_config
from jobs.report import find_chromium, screenshot, write_report

# ---------------------------------------------------------------------------
# Hand-made tables
# ---------------------------------------------------------------------------


def _pairs(rows: list[tuple[str, str, str, float, int | None]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["item_a", "item_b", "stage", "similarity", "hamming"])
    return df.assign(is_duplicate=False)


def _labels(rows: list[tuple[str, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(T.LABEL_COLUMNS))


PHASH_PAIRS = _pairs([
    ("a", "b", "phash", 1.0, 0), ("a", "c", "phash", 0.95, 3), ("b", "c", "phash", 0.92, 5),
    ("c", "d", "phash", 0.875, 8), ("d", "e", "phash", 0.97, 2), ("e", "f", "phash", 0.83, 11),
    ("x", "y", "phash", 0.94, 4),  # unlabelled: accepted, but counts neither way
    ("a", "b", "exact", 1.0, 0),   # other stages are ignored
])
# 5 duplicates, one of them (g, h) never a candidate; 2 non-duplicates; written b < a on purpose once.
PHASH_LABELS = _labels([("b", "a", True), ("a", "c", True), ("b", "c", True), ("e", "f", True),
                        ("g", "h", True), ("c", "d", False), ("d", "e", False)])


def test_pr_curve_phash_exact_numbers():
    curve = T.pr_curve(PHASH_PAIRS, PHASH_LABELS, "phash").set_index("threshold")
    assert list(curve.index) == list(range(12))
    expect = {  # threshold: (accepted, tp, fp, fn)
        0: (1, 1, 0, 4), 2: (2, 1, 1, 4), 3: (3, 2, 1, 3), 4: (4, 2, 1, 3),
        5: (5, 3, 1, 2), 8: (6, 3, 2, 2), 11: (7, 4, 2, 1)}
    for t, (acc, tp, fp, fn) in expect.items():
        assert tuple(curve.loc[t, ["accepted", "tp", "fp", "fn"]]) == (acc, tp, fp, fn), t
    assert curve.loc[0, "precision"] == 1.0 and curve.loc[0, "recall"] == pytest.approx(0.2)
    assert curve.loc[3, "precision"] == pytest.approx(2 / 3) and curve.loc[3, "recall"] == pytest.approx(0.4)
    assert curve.loc[5, "precision"] == pytest.approx(0.75) and curve.loc[5, "recall"] == pytest.approx(0.6)
    assert curve.loc[11, "precision"] == pytest.approx(4 / 6) and curve.loc[11, "recall"] == pytest.approx(0.8)
    assert curve.loc[5, "f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_threshold_for_precision_prefers_recall_then_the_stricter_threshold():
    curve = T.pr_curve(PHASH_PAIRS, PHASH_LABELS, "phash")
    assert T.threshold_for_precision(curve, 0.75) == 5   # 5, 6, 7 tie on recall 0.6: the strictest
    assert T.threshold_for_precision(curve, 0.9) == 0
    assert T.threshold_for_precision(curve, 0.6) == 11
    assert T.threshold_for_precision(curve, 1.01) is None


def test_pr_curve_embedding_sweeps_cosine_upwards():
    pairs = _pairs([("a", "b", "embedding", 0.99, None), ("a", "c", "embedding", 0.95, None),
                    ("b", "c", "embedding", 0.93, None), ("c", "d", "embedding", 0.90, None)])
    labels = _labels([("a", "b", True), ("a", "c", False), ("b", "c", True), ("c", "d", False),
                      ("e", "f", True)])
    curve = T.pr_curve(pairs, labels, "embedding", thresholds=[0.90, 0.93, 0.95, 0.99]).set_index("threshold")
    assert list(curve["tp"]) == [2, 2, 1, 1] and list(curve["fp"]) == [2, 1, 1, 0]
    assert list(curve["precision"]) == pytest.approx([0.5, 2 / 3, 0.5, 1.0])
    assert list(curve["recall"]) == pytest.approx([2 / 3, 2 / 3, 1 / 3, 1 / 3])
    assert T.threshold_for_precision(curve.reset_index(), 0.6) == pytest.approx(0.93)
    # default grid: each stored cosine
    assert list(T.default_thresholds(pairs, "embedding")) == pytest.approx([0.90, 0.93, 0.95, 0.99])


def test_pr_curve_counts_distinct_contents_when_given_the_manifest():
    manifest = pd.DataFrame({"item_id": ["a", "a2", "b"], "content_sha256": ["s1", "s1", "s2"]})
    pairs = _pairs([("a", "b", "phash", 0.98, 1), ("a", "a2", "exact", 1.0, 0)])
    labels = _labels([("a", "a2", True), ("a", "b", True), ("a2", "b", True)])
    by_content = T.pr_curve(pairs, labels, "phash", manifest).set_index("threshold")
    by_item = T.pr_curve(pairs, labels, "phash").set_index("threshold")
    assert (by_content.loc[1, "tp"], by_content.loc[1, "fn"], by_content.loc[1, "recall"]) == (1, 0, 1.0)
    assert (by_item.loc[1, "tp"], by_item.loc[1, "fn"]) == (1, 2)
    assert math.isclose(by_item.loc[0, "recall"], 0.0) and np.isnan(by_item.loc[0, "precision"])


def test_labels_from_planted_groups_and_skips_error_items():
    planted = pd.DataFrame({"file": ["o/a.jpg", "e/a1.jpg", "e/a2.jpg", "o/b.jpg", "broken/x.jpg", "e/b1.jpg"],
                            "original": ["a", "a", "a", "b", None, "b"],
                            "edit": ["original", "resize", "png", "original", "corrupt", "resize"],
                            "group": ["a", "a", "a", "b", None, "b"]})
    manifest = pd.DataFrame({"item_id": ["o/a.jpg", "e/a1.jpg", "e/a2.jpg", "o/b.jpg", "broken/x.jpg", "e/b1.jpg"],
                             "uri": [f"file:///c/{f}" for f in planted["file"]],
                             "action": ["keep", "drop", "drop", "keep", "error", "error"]})
    labels = T.labels_from_planted(planted, manifest)
    assert len(labels) == 6  # 4 readable items
    assert set(map(tuple, labels[labels["is_duplicate"]][["item_a", "item_b"]].to_numpy())) == {
        ("e/a1.jpg", "e/a2.jpg"), ("e/a1.jpg", "o/a.jpg"), ("e/a2.jpg", "o/a.jpg")}
    # restricted to stored pairs: all positives, negatives only among the candidates
    stored = _pairs([("o/b.jpg", "e/a1.jpg", "phash", 0.9, 6)])
    small = T.labels_from_planted(planted, manifest, stored)
    assert len(small) == 4 and not small.set_index(["item_a", "item_b"]).loc[("e/a1.jpg", "o/b.jpg"), "is_duplicate"]
    # ids that differ from planted paths are matched through the uri
    renamed = manifest.assign(item_id=[f"id{i}" for i in range(6)])
    assert len(T.labels_from_planted(planted, renamed)) == 6


def test_save_and_load_labels_merge_new_answers_win(tmp_path):
    path = tmp_path / "labels.csv"
    T.save_labels(_labels([("b", "a", True), ("c", "d", False)]), path)
    assert path.read_text().splitlines()[0] == "item_a,item_b,is_duplicate"
    sample = pd.DataFrame({"item_a": ["a", "e", "g"], "item_b": ["b", "f", "h"],
                           "is_duplicate": pd.array([False, True, pd.NA], dtype="boolean")})
    T.save_labels(sample, path)
    got = T.load_labels(path)
    assert got.to_dict("records") == [
        {"item_a": "a", "item_b": "b", "is_duplicate": False},
        {"item_a": "c", "item_b": "d", "is_duplicate": False},
        {"item_a": "e", "item_b": "f", "is_duplicate": True}]
    with pytest.raises(ValueError, match="maybe"):
        T.normalize_labels(_labels([("a", "b", "maybe")]))


def test_sampling_and_answers():
    s1 = T.sample_pairs_for_labelling(PHASH_PAIRS, 3, around=4, seed=1)
    s2 = T.sample_pairs_for_labelling(PHASH_PAIRS, 3, around=4, seed=1)
    pd.testing.assert_frame_equal(s1, s2)
    assert sorted(s1["hamming"]) == [3, 4, 5] and s1["is_duplicate"].isna().all()
    skipped = T.sample_pairs_for_labelling(PHASH_PAIRS, 3, around=4, seed=1, labels=PHASH_LABELS)
    assert list(skipped[["item_a", "item_b"]].itertuples(index=False, name=None)) == [("x", "y")]
    answered = T.apply_answers(s1, "y n")
    assert answered["is_duplicate"].tolist()[:2] == [True, False] and pd.isna(answered["is_duplicate"].iloc[2])
    with pytest.raises(ValueError):
        T.apply_answers(s1, "yyyy")
    filled = T.prefill_from_labels(s1, PHASH_LABELS)
    assert filled["hamming"].tolist() == [3, 4, 5]
    assert filled["is_duplicate"].isna().tolist() == [False, True, False] and filled["is_duplicate"][[0, 2]].all()


def test_conf_snippet_is_valid_config(tmp_path):
    text = T.conf_snippet("phash", 8, comment="tuned")
    assert text == "# tuned\nphash:\n  max_hamming: 8\n"
    (tmp_path / "c.yaml").write_text(text)
    assert load_config([tmp_path / "c.yaml"]).phash.max_hamming == 8
    emb = T.conf_snippet("embedding", 0.9312345)
    assert emb == "embedding:\n  threshold: 0.9312\n"
    with pytest.raises(ValueError, match="exact"):
        T.conf_snippet("exact", 1)


def test_borderline_pairs_either_side():
    acc = T.borderline_pairs(PHASH_PAIRS, "phash", 5, 2, side="accepted")
    rej = T.borderline_pairs(PHASH_PAIRS, "phash", 5, 2, side="rejected")
    assert acc["hamming"].tolist() == [5, 4] and rej["hamming"].tolist() == [8, 11]


# ---------------------------------------------------------------------------
# A real run (shared with tests/test_notebooks.py)
# ---------------------------------------------------------------------------

SMALL_ORIGINALS = ("astronaut", "coffee", "camera")
SMALL_EDITS = ("resize_50", "grayscale", "crop_90")


@functools.cache
def build_small_run(base: Path) -> tuple[Path, Path]:
    """(run folder, planted.csv) of 3 originals x 3 edits + a copy + broken files; built once per session."""
    from jobs.corpus import build_corpus
    from jobs.dedup import main

    corpus = base / "report-corpus"
    build_corpus(corpus, originals=list(SMALL_ORIGINALS), edits=list(SMALL_EDITS), exact_copies=1, corrupt=True)
    out = base / "report-run"
    assert main(["run", "--input", str(corpus), "--output", str(out), "--run-id", "report"]) == 0
    return out, corpus / "planted.csv"


@pytest.fixture(scope="session")
def small_run(spark, tmp_path_factory) -> tuple[Path, Path]:
    return build_small_run(tmp_path_factory.getbasetemp())


def _thumb_alts(page: str) -> list[str]:
    return re.findall(r'<img class="thumb" src="data:image/jpeg;base64,[A-Za-z0-9+/=]+" alt="([^"]*)"', page)


@pytest.mark.spark
def test_report_on_a_real_run(small_run, tmp_path):
    run_dir, planted = small_run
    out = write_report(run_dir, tmp_path / "r.html", labels_path=planted, thumbs=4, thumb_px=64)
    page = out.read_text()
    run = T.load_run(run_dir)
    assert "phash score histogram" in page and "phash precision recall" in page
    assert len(run.stages) >= 2  # the key families store pairs of their own
    # per stage a histogram and a PR curve, then the cluster overview
    assert page.count("data:image/png;base64,") == 2 * len(run.stages) + 1
    assert "max_hamming:" in page  # the conf/ suggestion
    # every thumbnail the galleries promise is embedded
    expected = [x for stage in run.stages for side in ("accepted", "rejected")
                for r in T.borderline_pairs(run.pairs, stage, run.threshold(stage), 4, side).itertuples()
                for x in (r.item_a, r.item_b)]
    for ids in (T.largest_clusters(run.clusters, 2)["cluster_id"], T.weakest_clusters(run.clusters, 2)["cluster_id"]):
        for cid in ids:
            expected += T.cluster_members(run, cid)["item_id"].head(4).tolist()
    assert len(expected) >= 16 and _thumb_alts(page) == expected
    assert out.stat().st_size < 500_000
    # the weakest link shown is the job's own bottleneck edge (maximum spanning tree)
    for c in run.clusters.itertuples():
        assert T.weakest_link(run, c.cluster_id).similarity == pytest.approx(c.min_edge_similarity)
    # default output path, no labels
    plain = write_report(run_dir)
    assert plain == run_dir / "report.html" and "no labels given" in plain.read_text()


@pytest.mark.spark
def test_report_cli_hook_exit_codes(small_run, tmp_path):
    import argparse

    from jobs import report

    parser = argparse.ArgumentParser()
    report.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", "--run", str(small_run[0]), "--out", str(tmp_path / "x.html")])
    assert args.handler(args) == 0 and (tmp_path / "x.html").exists()
    bad = parser.parse_args(["report", "--run", str(tmp_path / "nothing")])
    assert bad.handler(bad) == 2


@pytest.mark.spark
def test_report_renders_in_headless_chromium(small_run, tmp_path):
    if find_chromium() is None:
        pytest.skip("chromium is not on PATH (Debian: apt-get install -y chromium)")
    run_dir, planted = small_run
    page = write_report(run_dir, tmp_path / "r.html", labels_path=planted)
    png = screenshot(page, tmp_path / "r.png", width=1280, height=2400)  # summary, first stage, galleries
    img = Image.open(png).convert("L")
    assert img.size == (1280, 2400)
    assert ImageStat.Stat(img).var[0] > 500  # a blank or error page is near-uniform
    non_white = np.asarray(img) < 200
    assert non_white.mean() > 0.05


def test_mixed_clusters_are_those_with_a_member_labelled_unlike_its_keeper():
    manifest = pd.DataFrame({
        "item_id": ["k1", "a", "b", "k2", "c", "lone"],
        "cluster_id": ["k1", "k1", "k1", "k2", "k2", None],
        "keeper_id": [None, "k1", "k1", None, "k2", None],
    }).assign(uri=lambda m: "file:/" + m["item_id"])
    labels = pd.DataFrame({"item_a": ["a", "b", "c", "c"], "item_b": ["k1", "k1", "k2", "lone"],
                           "is_duplicate": [True, False, True, False]})
    run = T.Run(Path("."), manifest, pd.DataFrame(), pd.DataFrame(), {})
    assert T.mixed_clusters(run, labels) == ["k1"]  # b is not a duplicate of its keeper
    assert T.mixed_clusters(run, labels.assign(is_duplicate=True)) == []
