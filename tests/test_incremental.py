"""Runs over time: a corpus store, split runs equal to one run, stable keepers, query."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from jobs.dedup import main
from tests.helpers import flaky_server, read_run

pytestmark = pytest.mark.spark


def _table(path: Path, files: list[str]) -> Path:
    path.write_text("".join(json.dumps({"image": f}) + "\n" for f in files))
    return path


def _groups(manifest: pd.DataFrame) -> set[frozenset]:
    """Clusters as sets of item ids (singletons included), independent of their names."""
    ok = manifest[manifest["action"] != "error"]
    named = ok.dropna(subset=["cluster_id"]).groupby("cluster_id")["item_id"].agg(frozenset)
    singles = {frozenset([i]) for i in ok[ok["cluster_id"].isna()]["item_id"]}
    return set(named) | singles


@pytest.fixture(scope="module")
def runs(spark, small_corpus, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("incr")
    planted = pd.read_csv(small_corpus / "planted.csv")
    files = sorted(planted["file"])
    first = [f for f in files if f.startswith("originals/") or "resize" in f or f.startswith("broken/")]
    second = [f for f in files if f not in first]
    base = ["--set", f"input.base_uri={small_corpus}"]
    store = tmp / "store"
    for name, part in (("a", first), ("b", second), ("all", files)):
        _table(tmp / f"{name}.jsonl", part)
    assert main(["run", "--input", str(tmp / "a.jsonl"), "--output", str(tmp / "out-a"),
                 "--corpus", str(store), *base]) == 0
    stored_after_a = pd.read_parquet(next((store).glob("state-*")) / "items")
    assert main(["run", "--input", str(tmp / "b.jsonl"), "--output", str(tmp / "out-b"),
                 "--corpus", str(store), *base]) == 0
    assert main(["run", "--input", str(tmp / "all.jsonl"), "--output", str(tmp / "out-all"), *base]) == 0
    return {"tmp": tmp, "store": store, "first": first, "second": second, "files": files,
            "after_a": stored_after_a}


def _store_items(store: Path) -> pd.DataFrame:
    state = (store / "CURRENT").read_text().strip()
    return pd.read_parquet(store / state / "items")


def test_two_runs_equal_one_run_over_everything(runs):
    whole = read_run(runs["tmp"] / "out-all")[0]
    stored = _store_items(runs["store"])
    assert sorted(stored["item_id"]) == sorted(whole["item_id"]) == runs["files"]
    assert _groups(stored) == _groups(whole)


def test_each_run_reports_only_its_own_items(runs):
    for name, part in (("out-a", runs["first"]), ("out-b", runs["second"])):
        manifest, pairs, _, summary = read_run(runs["tmp"] / name)
        assert sorted(manifest["item_id"]) == sorted(part)
        assert summary["counts"]["items"] == len(part)
        mine = set(part)
        assert all(a in mine or b in mine for a, b in zip(pairs["item_a"], pairs["item_b"]))


def test_second_run_decodes_only_new_content(runs):
    summary = read_run(runs["tmp"] / "out-b")[3]
    manifest = read_run(runs["tmp"] / "out-b")[0]
    new_contents = manifest["content_sha256"].dropna().nunique()
    assert summary["stages"]["contents_decoded"] + summary["stages"]["decode_errors"] <= new_contents
    assert summary["stages"]["contents_from_cache"] > 0


def test_earlier_keepers_stay_kept(runs):
    before = runs["after_a"]
    after = _store_items(runs["store"]).set_index("item_id")
    kept_before = before[before["action"] == "keep"]["item_id"]
    assert (after.loc[kept_before, "action"] == "keep").all()
    # the second run's copies (e.g. PNG re-encodes, larger by bytes) were dropped in favour of them
    second = read_run(runs["tmp"] / "out-b")[0]
    assert (second[second["item_id"].str.endswith("__png.png")]["action"] == "drop").all()


def test_query_answers_from_the_store(runs, small_corpus, capsys):
    edited = small_corpus / "edited" / "coffee__jpeg_q30.jpg"
    flipped = small_corpus / "edited" / "coffee__flip_h.jpg"
    assert main(["query", "--corpus", str(runs["store"]), str(edited), str(flipped), "--json", "--top", "20"]) == 0
    answers = json.loads(capsys.readouterr().out)
    assert answers[0]["duplicate"] is True
    assert answers[0]["matches"][0]["item_id"] == "edited/coffee__jpeg_q30.jpg"  # itself, exact
    assert answers[0]["matches"][0]["stage"] == "exact"
    assert "originals/coffee.jpg" in {m["item_id"] for m in answers[0]["matches"]}
    assert all(m["stage"] != "phash" or m["hamming"] <= 6 for m in answers[1]["matches"])
    # the mirrored copy is found by the same key family as in the job
    flip = {m["item_id"]: m for m in answers[1]["matches"]}
    assert answers[1]["duplicate"] is True and flip["originals/coffee.jpg"]["stage"] == "phash_flip"


def test_query_on_a_missing_store_is_a_clear_error(tmp_path, capsys):
    assert main(["query", "--corpus", str(tmp_path / "none"), str(tmp_path / "x.jpg")]) == 2
    assert "is not a corpus store" in capsys.readouterr().err


def test_transient_failures_are_retried_by_the_next_run(spark, small_corpus, tmp_path):
    """A URL that answers 503 is pending after run 1; run 2 (other input) reads it again."""
    body = (small_corpus / "originals" / "rocket.jpg").read_bytes()
    with flaky_server(body, "rocket.jpg") as (url, state):
        store = tmp_path / "store"
        fast = ["--set", "fetch.retries=1", "--set", "fetch.backoff_s=0.01", "--set", "fetch.timeout_s=2",
                "--set", "fetch.allow_networks=[127.0.0.1]"]
        _table(tmp_path / "one.jsonl", [url])
        assert main(["run", "--input", str(tmp_path / "one.jsonl"), "--output", str(tmp_path / "o1"),
                     "--corpus", str(store), *fast]) == 0
        first = read_run(tmp_path / "o1")[0]
        assert first["reason"].tolist() == ["unavailable"]
        state["up"] = True
        _table(tmp_path / "two.jsonl", [str(small_corpus / "originals" / "coffee.jpg")])
        assert main(["run", "--input", str(tmp_path / "two.jsonl"), "--output", str(tmp_path / "o2"),
                     "--corpus", str(store), *fast]) == 0
        second = read_run(tmp_path / "o2")[0].set_index("item_id")
        assert second.at[url, "action"] == "keep"  # retried without being named in the input
        stored = _store_items(store).set_index("item_id")
        assert stored.at[url, "action"] == "keep" and len(stored) == 2
