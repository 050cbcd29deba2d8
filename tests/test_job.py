"""End to end through Spark (local mode): planted corpus in, manifests out."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from jobs.corpus import PHASH_ROBUST_EDITS
from jobs.dedup import main
from udfs.metrics import STAGE_PRIORITY
from tests.helpers import read_run

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def hash_run(spark, small_corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["run", "--input", str(small_corpus), "--output", str(out), "--run-id", "fixed"]) == 0
    return out


def _planted(corpus: Path) -> pd.DataFrame:
    return pd.read_csv(corpus / "planted.csv")


def test_every_input_appears_once(hash_run, small_corpus):
    manifest, _, _, summary = read_run(hash_run)
    files = sorted(p.relative_to(small_corpus).as_posix() for p in small_corpus.rglob("*")
                   if p.is_file() and p.suffix != ".csv")
    assert sorted(manifest["item_id"]) == files
    counts = summary["counts"]
    assert counts["items"] == len(files) == counts["keep"] + counts["drop"] + counts["error"]
    assert manifest["action"].value_counts().to_dict() == {
        k: v for k, v in counts.items() if k != "items" and v}


def test_planted_edits_cluster_with_their_original(hash_run, small_corpus):
    manifest = read_run(hash_run)[0].set_index("item_id")
    planted = _planted(small_corpus)
    originals = planted[planted["edit"] == "original"].set_index("original")["file"]
    for row in planted.itertuples():
        if row.edit in PHASH_ROBUST_EDITS or row.edit == "exact_copy":
            assert manifest.at[row.file, "cluster_id"] == manifest.at[originals[row.original], "cluster_id"], row.file
    # precision: distinct originals never share a cluster, and each cluster keeps exactly one item
    clusters = manifest.loc[list(originals), "cluster_id"]
    assert clusters.notna().all() and clusters.is_unique
    kept = manifest[manifest["action"] == "keep"]
    assert kept.dropna(subset=["cluster_id"])["cluster_id"].is_unique


def test_flipped_copies_are_found_by_the_mirror_key_not_by_the_plain_phash(hash_run, small_corpus):
    manifest, pairs, _, summary = read_run(hash_run)
    manifest = manifest.set_index("item_id")
    planted = _planted(small_corpus)
    originals = planted[planted["edit"] == "original"].set_index("original")["file"]
    flips = planted.query("edit == 'flip_h'")
    for row in flips.itertuples():
        assert manifest.at[row.file, "cluster_id"] == manifest.at[originals[row.original], "cluster_id"], row.file
        same = set(manifest.index[manifest["content_sha256"] == manifest.at[originals[row.original], "content_sha256"]])
        between = pairs[((pairs["item_a"] == row.file) & pairs["item_b"].isin(same))
                        | ((pairs["item_b"] == row.file) & pairs["item_a"].isin(same))]  # pairs name one copy
        by_stage = between.set_index("stage")["hamming"]
        assert by_stage["phash_flip"] <= summary["thresholds"]["phash_flip_max_hamming"], row.file
        # the full-image pHash of a mirrored photo is far off: it alone would have missed it
        assert by_stage.get("phash", 64) > summary["thresholds"]["phash_max_hamming"], row.file


def test_broken_files_are_error_rows_with_reasons(hash_run):
    manifest = read_run(hash_run)[0].set_index("item_id")
    errors = manifest[manifest["action"] == "error"]
    assert errors["reason"].to_dict() == {
        "broken/empty.jpg": "empty_file", "broken/noise.jpg": "not_an_image",
        "broken/notes.png": "not_an_image", "broken/truncated.jpg": "truncated"}
    assert errors["error"].str.len().gt(10).all()
    assert errors["keeper_id"].isna().all() and errors["cluster_id"].isna().all()


def test_every_drop_has_a_direct_edge_to_its_kept_keeper(hash_run):
    manifest, pairs, _, _ = read_run(hash_run)
    by_id = manifest.set_index("item_id")
    dup = pairs[pairs["is_duplicate"]]
    edges = set(zip(dup["item_a"], dup["item_b"]))
    drops = manifest[manifest["action"] == "drop"]
    assert len(drops) > 10
    for row in drops.itertuples():
        assert by_id.at[row.keeper_id, "action"] == "keep"
        assert by_id.at[row.keeper_id, "cluster_id"] == row.cluster_id
        same_bytes = by_id.at[row.keeper_id, "content_sha256"] == row.content_sha256
        linked = tuple(sorted((row.item_id, row.keeper_id))) in edges
        rep_linked = _linked_through_representative(row, by_id, edges)
        assert same_bytes or linked or rep_linked, row.item_id
        assert set(row.matched_by.split("+")) <= set(STAGE_PRIORITY), row.matched_by
        assert 0 < row.keeper_similarity <= 1.0


def _linked_through_representative(row, by_id, edges) -> bool:
    """An exact copy inherits its content's edges (pairs lists them on the representative)."""
    same = by_id[by_id["content_sha256"] == row.content_sha256].index
    return any(tuple(sorted((s, row.keeper_id))) in edges for s in same)


def test_pairs_and_thresholds(hash_run):
    _, pairs, _, summary = read_run(hash_run)
    assert (pairs["item_a"] < pairs["item_b"]).all()
    phash = pairs[pairs["stage"] == "phash"]
    t = summary["thresholds"]
    max_h = t["phash_max_hamming"]
    assert (phash["hamming"] <= t["phash_candidate_hamming"]).all()
    near, score = phash["hamming"] <= max_h, phash["verify_score"].fillna(-2)
    # within max_hamming: a duplicate only on the pixel check; beyond it, exactly when that check is strong
    assert (score[near & phash["is_duplicate"]] >= min(t["phash_min_verify"], t["phash_min_verify_sparse"])).all()
    at_limit = phash["hamming"] >= max_h - 1  # the last step: at least limit_verify
    assert (score[near & at_limit & phash["is_duplicate"]] >= t["phash_limit_verify"]).all()
    assert (phash.loc[~near, "is_duplicate"] == (score[~near] >= t["phash_far_verify"])).all()
    assert near.any()  # (this corpus stores no far pair; the far rule itself: tests/test_hashkeys)
    assert np.allclose(phash["similarity"], 1 - phash["hamming"] / 64)


def test_clusters_table_matches_manifest(hash_run):
    manifest, _, clusters, summary = read_run(hash_run)
    sizes = manifest.dropna(subset=["cluster_id"]).groupby("cluster_id").size()
    assert clusters.set_index("cluster_id")["size"].to_dict() == sizes.to_dict()
    assert (clusters["n_keep"] + clusters["n_drop"] == clusters["size"]).all()
    assert (clusters["min_edge_similarity"] <= clusters["max_edge_similarity"]).all()
    assert summary["stages"]["clusters"] >= 5
    assert summary["stages"]["largest_cluster"] == clusters["size"].max()
    contents = manifest.dropna(subset=["cluster_id"]).groupby("cluster_id")["content_sha256"].nunique()
    assert summary["stages"]["largest_component"] >= contents.max()  # a star lies inside one component


def test_second_run_is_identical(spark, hash_run, small_corpus, tmp_path):
    out = tmp_path / "again"
    assert main(["run", "--input", str(small_corpus), "--output", str(out), "--run-id", "fixed"]) == 0
    for first, second in zip(read_run(hash_run)[:3], read_run(out)[:3]):
        pd.testing.assert_frame_equal(first.reset_index(drop=True), second.reset_index(drop=True))


def test_duckdb_reads_the_manifest(hash_run):
    summary = json.loads((hash_run / "summary.json").read_text())
    glob = str(hash_run / "manifest" / "*" / "*.parquet")
    rows = duckdb.sql(f"SELECT action, count(*) FROM read_parquet('{glob}', hive_partitioning=true) "
                      "GROUP BY action").fetchall()
    assert dict(rows) == {k: v for k, v in summary["counts"].items() if k != "items" and v}
    why = duckdb.sql(f"SELECT m.item_id, m.keeper_id, k.action FROM read_parquet('{glob}', hive_partitioning=true) m "
                     f"JOIN read_parquet('{glob}', hive_partitioning=true) k ON m.keeper_id = k.item_id "
                     "WHERE m.action = 'drop'").fetchall()
    assert why and all(action == "keep" for _, _, action in why)


def test_existing_output_needs_overwrite(spark, hash_run, small_corpus):
    before = (hash_run / "summary.json").read_text()
    assert main(["run", "--input", str(small_corpus), "--output", str(hash_run)]) == 2
    assert (hash_run / "summary.json").read_text() == before
    assert not list(hash_run.parent.glob("out.staging-*"))


def test_overwrite_replaces_atomically(spark, small_corpus, tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--input", str(small_corpus), "--output", str(out), "--run-id", "one"]) == 0
    assert main(["run", "--input", str(small_corpus), "--output", str(out), "--run-id", "two",
                 "--overwrite", "--set", "phash.max_hamming=4"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run_id"] == "two" and summary["thresholds"]["phash_max_hamming"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_bad_config_and_missing_input_exit_2(spark, tmp_path, small_corpus):
    assert main(["run", "--input", str(small_corpus), "--output", str(tmp_path / "a"),
                 "--set", "phash.nope=1"]) == 2
    assert main(["run", "--input", str(tmp_path / "missing"), "--output", str(tmp_path / "b")]) == 2
    assert main(["run", "--input", str(small_corpus), "--output", str(tmp_path / "c"),
                 "--set", "embedding.enabled=true", "--set", f"embedding.model={tmp_path / 'no-model'}"]) == 2
    assert not (tmp_path / "c").exists()


def test_items_no_stage_could_compare_are_kept_as_low_information(spark, tmp_path):
    from PIL import Image

    from jobs.config import PhashConfig
    from jobs.corpus import build_corpus, write_lookalikes
    from udfs import robust

    corpus = tmp_path / "corpus"
    build_corpus(corpus, originals=["astronaut", "camera"], edits=["resize_50"], exact_copies=0, corrupt=False)
    write_lookalikes(corpus)
    out = tmp_path / "out"
    assert main(["run", "--input", str(corpus), "--output", str(out)]) == 0
    manifest, _, _, summary = read_run(out)
    manifest = manifest.set_index("item_id")
    cfg = PhashConfig()

    def gated(item: str) -> bool:  # the hash stages' gate, recomputed from the file
        with Image.open(corpus / item) as im:
            im = im.convert("RGB")
            return robust.quality(im) < cfg.min_quality or robust.key_features(im).information < cfg.min_information

    kept_alone = manifest[(manifest["action"] == "keep") & manifest["cluster_id"].isna()]
    low = set(manifest.index[manifest["reason"] == "low_information"])
    assert low == {item for item in kept_alone.index if gated(item)}
    assert low and all(i.startswith("lookalikes/") for i in low)  # blank pages, flags, star fields
    assert set(kept_alone.index) - low <= set(manifest.index[manifest["reason"] == "unique"])
    assert summary["reasons"]["low_information"] == len(low)
