"""Incremental text runs (`dedup run --kind text --corpus STORE`) and `dedup query` on a text store."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from jobs.dedup import main
from tests.helpers import flaky_server, read_run, ref_jaccard

pytestmark = pytest.mark.spark

ARTICLE = """The city council voted on Tuesday to build twelve kilometres of protected bike lanes along the river,
a plan that had been debated for more than three years. Supporters said the lanes would make cycling safer
for children and commuters, while several shop owners worried about losing parking spaces in front of their
stores. The mayor promised that construction would begin in the spring and finish before the end of next year."""

SECOND = """Starting next month the central library will stay open until midnight on weekdays during the exam
period. The director said that the reading rooms had been full every evening last winter and that students had
asked for more quiet places to work. Extra staff will be hired for the late shifts and the cafe will stay open."""

RECIPE = """Cut ripe tomatoes in half, place them on a tray with whole garlic cloves, sprinkle with salt, sugar and
fresh thyme, and roast at low heat for three hours until they are soft and sweet."""

WEATHER = """A cold front from the north will bring snow to the mountains on Friday, while the coast stays mild and
windy. Drivers are asked to carry chains on the pass roads until Sunday evening."""

UNRELATED = """The museum opens a new hall of ancient coins this weekend, with pieces from twelve centuries and a
small workshop where visitors can strike their own copper token."""


def _near_second(text: str) -> str:
    """A few words changed, shorter words: the stored original stays the longer text."""
    return text.replace("midnight", "late").replace("director", "head").replace("quiet", "calm")


def _near_article(text: str) -> str:
    return text.replace("twelve", "ten").replace("several", "some").replace("promised", "said")


def _write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _store_items(store: Path) -> pd.DataFrame:
    return pd.read_parquet(store / (store / "CURRENT").read_text().strip() / "items").set_index("item_id")


FIRST = {"a_article.txt": ARTICLE, "b_second.txt": SECOND, "c_recipe.txt": RECIPE,
         "d_weather.md": WEATHER, "e_empty.txt": ""}
NEXT = {"n_article_copy.txt": ARTICLE, "n_second_near.txt": _near_second(SECOND),
        "n_unrelated.txt": UNRELATED}


@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("text-store")
    store = tmp / "store"
    first, second = _write(tmp / "first", FIRST), _write(tmp / "second", NEXT)
    assert main(["run", "--kind", "text", "--input", str(first), "--output", str(tmp / "out-1"),
                 "--corpus", str(store), "--run-id", "r1"]) == 0
    after_first = _store_items(store)
    assert main(["run", "--kind", "text", "--input", str(second), "--output", str(tmp / "out-2"),
                 "--corpus", str(store), "--run-id", "r2"]) == 0
    return {"tmp": tmp, "store": store, "after_first": after_first}


def test_store_layout_is_a_text_store(runs):
    state = runs["store"] / (runs["store"] / "CURRENT").read_text().strip()
    assert state.name == "state-r2" and not (runs["store"] / "state-r1").exists()
    assert json.loads((state / "kind.json").read_text())["kind"] == "text"
    assert not (state / "index").exists() and not (state / "centroids.json").exists()
    feats = pd.read_parquet(state / "features")
    assert len(feats) == feats["content_sha256"].nunique() == 6  # readable contents: 4 stored + 2 new
    assert feats["minhash"].notna().all() and feats["shingles"].notna().all()


def test_incremental_decisions_against_the_store(runs):
    manifest, pairs, _, summary = read_run(runs["tmp"] / "out-2")
    m = manifest.set_index("item_id")
    assert sorted(m.index) == sorted(NEXT)  # this run's items only
    row = lambda i: m.loc[i, ["action", "reason", "keeper_id", "matched_by"]].tolist()  # noqa: E731
    assert row("n_article_copy.txt") == ["drop", "exact_duplicate", "a_article.txt", "exact"]
    assert row("n_second_near.txt") == ["drop", "near_duplicate", "b_second.txt", "text_minhash"]
    assert m.at["n_second_near.txt", "keeper_similarity"] == pytest.approx(
        ref_jaccard(SECOND, _near_second(SECOND)), abs=1e-12)
    assert row("n_unrelated.txt") == ["keep", "unique", None, None]
    counts = summary["counts"]
    assert counts["items"] == len(NEXT) == counts["keep"] + counts["drop"] + counts["error"]
    # the stored contents' features came from the store: only this run's 2 new contents were read
    assert summary["stages"]["contents_decoded"] == 2 and summary["stages"]["contents_from_cache"] == 4
    assert all(a in NEXT or b in NEXT for a, b in zip(pairs["item_a"], pairs["item_b"]))


def test_store_keeps_everything_and_earlier_keepers(runs):
    before, after = runs["after_first"], _store_items(runs["store"])
    assert sorted(after.index) == sorted([*FIRST, *NEXT])
    assert before.at["e_empty.txt", "action"] == after.at["e_empty.txt", "action"] == "error"
    kept_before = before.index[before["action"] == "keep"]
    assert len(kept_before) == 4 and (after.loc[kept_before, "action"] == "keep").all()
    assert after.at["n_second_near.txt", "keeper_id"] == "b_second.txt"


def test_query_finds_the_stored_doc_of_a_near_copy(runs, capsys):
    tmp = runs["tmp"]
    near = _write(tmp / "ask", {"near.txt": _near_article(ARTICLE), "other.txt": RECIPE + " " + WEATHER})
    assert main(["query", "--corpus", str(runs["store"]), str(near / "near.txt"), str(near / "other.txt"),
                 str(tmp / "first" / "b_second.txt"), "--json"]) == 0
    answers = json.loads(capsys.readouterr().out)
    best = answers[0]["matches"][0]
    assert answers[0]["duplicate"] is True
    assert best["item_id"] == "a_article.txt" and best["stage"] == "text_minhash" and best["duplicate"] is True
    assert best["similarity"] == pytest.approx(ref_jaccard(ARTICLE, _near_article(ARTICLE)), abs=1e-12)
    assert best["uri"].endswith("a_article.txt") and best["action"] == "keep"
    assert {m["item_id"] for m in answers[0]["matches"]} == {"a_article.txt", "n_article_copy.txt"}
    # two stored documents glued together: each shares some shingles, neither is a duplicate
    assert answers[1]["duplicate"] is False and all(not m["duplicate"] for m in answers[1]["matches"])
    same = {m["item_id"]: m for m in answers[2]["matches"]}
    assert same["b_second.txt"]["stage"] == "exact" and same["b_second.txt"]["similarity"] == 1.0
    assert same["n_second_near.txt"]["stage"] == "text_minhash"


def test_query_table_and_unreadable_document(runs, capsys):
    tmp = runs["tmp"]
    assert main(["query", "--kind", "text", "--corpus", str(runs["store"]), str(tmp / "first" / "a_article.txt"),
                 str(tmp / "first" / "e_empty.txt")]) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("a_article.txt: DUPLICATE") and "exact" in out[1] and "(keep, duplicate)" in out[1]
    assert out[-1].endswith("e_empty.txt: ERROR cannot read the text: empty_file: 0 bytes")


def test_a_text_store_refuses_image_runs_and_queries(runs, capsys):
    tmp = runs["tmp"]
    assert main(["query", "--kind", "image", "--corpus", str(runs["store"]), str(tmp / "x.jpg")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "is a corpus store of text items; it cannot be used with --kind image" in err[-1]


def test_an_image_store_refuses_text_runs(spark, tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(images / f"p{i}.png")
    store = tmp_path / "store"
    assert main(["run", "--input", str(images), "--output", str(tmp_path / "out-img"), "--corpus", str(store)]) == 0
    docs = _write(tmp_path / "docs", {"a.txt": ARTICLE})
    capsys.readouterr()
    assert main(["run", "--kind", "text", "--input", str(docs), "--output", str(tmp_path / "out-txt"),
                 "--corpus", str(store)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "corpus store" in line]
    assert len(err) == 1 and err[0].endswith(
        f"{store} is a corpus store of image items; it cannot be used with --kind text (use another store, "
        "or --kind image)")
    assert main(["query", "--kind", "text", "--corpus", str(store), str(docs / "a.txt")]) == 2


def test_transient_failures_are_retried_by_the_next_text_run(spark, tmp_path):
    """A document URL that answers 503 is pending after run 1; run 2 (inline text only) reads it again."""
    body = ARTICLE.encode()
    with flaky_server(body, "article.txt") as (url, state):
        store = tmp_path / "store"
        fast = ["--set", "fetch.retries=1", "--set", "fetch.backoff_s=0.01", "--set", "fetch.timeout_s=2",
                "--set", "fetch.allow_networks=[127.0.0.1]"]
        (tmp_path / "one.jsonl").write_text(json.dumps({"id": "web", "path": url}) + "\n")
        assert main(["run", "--kind", "text", "--input", str(tmp_path / "one.jsonl"), "--output",
                     str(tmp_path / "o1"), "--corpus", str(store), *fast]) == 0
        assert read_run(tmp_path / "o1")[0]["reason"].tolist() == ["unavailable"]
        state["up"] = True
        (tmp_path / "two.jsonl").write_text(json.dumps({"id": "inline", "text": _near_article(ARTICLE)}) + "\n")
        assert main(["run", "--kind", "text", "--input", str(tmp_path / "two.jsonl"), "--output",
                     str(tmp_path / "o2"), "--corpus", str(store), *fast]) == 0
        second = read_run(tmp_path / "o2")[0].set_index("item_id")
        assert second.at["web", "action"] == "keep"  # retried without being named in the input
        assert second.at["inline", "action"] == "drop" and second.at["inline", "keeper_id"] == "web"
        stored = _store_items(store)
        assert sorted(stored.index) == ["inline", "web"]
