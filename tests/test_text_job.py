"""`dedup run --kind text` end to end (Spark local mode): planted documents in, manifests out."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from jobs.dedup import main
from tests.helpers import read_run, ref_jaccard
from udfs.text import html_to_text

pytestmark = pytest.mark.spark

ARTICLE = """City council approves new bike lanes

The city council voted on Tuesday to build twelve kilometres of protected bike lanes along the river,
a plan that had been debated for more than three years. Supporters said the lanes would make cycling
safer for children and commuters, while several shop owners worried about losing parking spaces in
front of their stores.

The mayor promised that construction would begin in the spring and finish before the end of next year.
The project will cost about four million euros, most of it paid by a regional transport fund."""

SECOND = """Library extends opening hours for students

Starting next month the central library will stay open until midnight on weekdays during the exam
period. The director said that the reading rooms had been full every evening last winter and that
students had asked for more quiet places to work. Extra staff will be hired for the late shifts."""

UNRELATED = """Recipe: slow roasted tomatoes with garlic and thyme. Cut ripe tomatoes in half, place them on a
tray with whole garlic cloves, sprinkle with salt, sugar and fresh thyme, and roast at low heat for three
hours until they are soft and sweet."""

ACCENTED = "Café au lait et crème brûlée: la pâtisserie du quartier ouvre à huit heures, même le dimanche."

PAGE = f"""<!DOCTYPE html><html><head><title>Library news and many other title words</title>
<style>body {{ font-family: serif; }} .nav {{ color: red; }}</style>
<script>var tracking = "these words must not count as text at all";</script></head>
<body>{"".join(f"<p>{html_escape}</p>" for html_escape in SECOND.replace("&", "&amp;").split(chr(10) + chr(10)))}
<noscript>enable javascript to see the comments</noscript></body></html>"""


def _near(text: str) -> str:
    """A few words changed (shorter words, so the original stays the longest text)."""
    return text.replace("twelve", "ten").replace("several", "some").replace("promised", "said")


def _folder_corpus(root: Path) -> dict[str, str]:
    """The planted folder; returns item id -> the text each file holds (visible text for HTML)."""
    files = {
        "news/a_original.txt": ARTICLE,
        "news/b_copy.txt": ARTICLE,                              # same bytes
        "news/c_reformatted.md": " ".join(ARTICLE.upper().split()),  # same normalised text, fewer bytes
        "news/d_near.txt": _near(ARTICLE),                       # a few words changed
        "f_second.txt": SECOND,
        "e_page.html": PAGE,                                     # SECOND as a web page
        "g_unrelated.txt": UNRELATED,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "k_accented.txt").write_bytes(ACCENTED.encode("cp1252"))
    (root / "h_empty.txt").write_bytes(b"")
    (root / "i_blank.md").write_text("   \n\n\t  \n")
    (root / "j_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not text, not an input of a text run")
    return {**files, "k_accented.txt": ACCENTED, "e_page.html": html_to_text(PAGE)}


@pytest.fixture(scope="module")
def folder_run(spark, tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("texts")
    texts = _folder_corpus(root)
    out = tmp_path_factory.mktemp("text-run") / "out"
    assert main(["run", "--kind", "text", "--input", str(root), "--output", str(out), "--run-id", "t1"]) == 0
    return root, out, texts


def test_folder_every_text_file_appears_once(folder_run):
    root, out, _ = folder_run
    manifest, _, _, summary = read_run(out)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.suffix != ".jpg")
    assert sorted(manifest["item_id"]) == files
    counts = summary["counts"]
    assert counts["items"] == len(files) == counts["keep"] + counts["drop"] + counts["error"]
    assert manifest["width"].isna().all() and manifest["height"].isna().all() and manifest["phash"].isna().all()
    assert summary["config"]["input"]["kind"] == "text" and summary["thresholds"]["text_threshold"] == 0.5


def test_folder_decisions(folder_run):
    _, out, texts = folder_run
    m = read_run(out)[0].set_index("item_id")
    row = lambda i: m.loc[i, ["action", "reason", "keeper_id", "matched_by"]].tolist()  # noqa: E731
    assert row("news/a_original.txt") == ["keep", "keeper", None, None]
    assert row("news/b_copy.txt") == ["drop", "exact_duplicate", "news/a_original.txt", "exact"]
    assert row("news/c_reformatted.md") == ["drop", "near_duplicate", "news/a_original.txt", "text_exact"]
    assert row("news/d_near.txt") == ["drop", "near_duplicate", "news/a_original.txt", "text_minhash"]
    assert m.at["news/d_near.txt", "keeper_similarity"] == pytest.approx(
        ref_jaccard(texts["news/a_original.txt"], texts["news/d_near.txt"]), abs=1e-12)
    # the page's visible text is SECOND's: the same normalised text; same characters, more bytes: kept
    assert row("e_page.html") == ["keep", "keeper", None, None]
    assert row("f_second.txt") == ["drop", "near_duplicate", "e_page.html", "text_exact"]
    assert row("g_unrelated.txt") == ["keep", "unique", None, None]
    assert row("k_accented.txt") == ["keep", "unique", None, None]
    errors = m[m["action"] == "error"]["reason"].to_dict()
    assert errors == {"h_empty.txt": "empty_file", "i_blank.md": "empty_text", "j_binary.txt": "binary_file"}
    assert set(m.loc[m["action"] == "drop", "cluster_id"]) == {"news/a_original.txt", "e_page.html"}


def test_folder_pairs_carry_the_exact_jaccard(folder_run):
    _, out, texts = folder_run
    _, pairs, clusters, summary = read_run(out)
    assert (pairs["item_a"] < pairs["item_b"]).all()
    near = pairs[pairs["stage"] == "text_minhash"]
    assert len(near) > 0
    for p in near.itertuples():
        assert p.similarity == pytest.approx(ref_jaccard(texts[p.item_a], texts[p.item_b]), abs=1e-12)
        assert 0 <= p.hamming <= 128 and abs((1 - p.hamming / 128) - p.similarity) < 0.25  # MinHash estimate
        assert p.is_duplicate == (p.similarity >= 0.5)
    assert (pairs[pairs["stage"] == "text_exact"]["similarity"] == 1.0).all()
    assert set(pairs["stage"]) == {"exact", "text_exact", "text_minhash"}
    assert summary["stages"]["duplicate_pairs"]["text_minhash"] == int(near["is_duplicate"].sum())
    assert clusters.set_index("cluster_id")["size"].to_dict() == {"news/a_original.txt": 4, "e_page.html": 2}


def test_duckdb_reads_the_text_manifest(folder_run):
    _, out, _ = folder_run
    con = duckdb.connect()
    rows = con.execute(f"""SELECT action, count(*) FROM read_parquet('{out}/manifest/*/*.parquet',
                           hive_partitioning = true) GROUP BY action ORDER BY action""").fetchall()
    assert rows == [("drop", 4), ("error", 3), ("keep", 4)]
    why = con.execute(f"""SELECT matched_by, keeper_id FROM read_parquet('{out}/manifest/*/*.parquet',
                          hive_partitioning = true) WHERE item_id = 'news/d_near.txt'""").fetchall()
    assert why == [("text_minhash", "news/a_original.txt")]


# ---------------------------------------------------------------------------- tables

@pytest.fixture(scope="module")
def table_run(spark, tmp_path_factory) -> tuple[Path, list[dict]]:
    root = tmp_path_factory.mktemp("text-table")
    (root / "docs").mkdir()
    (root / "docs" / "second.txt").write_text(SECOND)
    rows = [
        {"id": "art-1", "text": ARTICLE},
        {"id": "art-1-copy", "text": ARTICLE},              # same text: the same content
        {"id": "art-1-near", "text": _near(ARTICLE)},
        {"id": "lib", "text": None, "path": "docs/second.txt"},  # no inline text: read from its path
        {"id": "lib-page", "text": PAGE},                   # inline HTML
        {"id": "recipe", "text": UNRELATED},
        {"id": "blank", "text": ""},
        {"id": "nothing", "text": None},
        {"id": "recipe", "text": "a second row with the id recipe"},
    ]
    table = root / "docs.jsonl"
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = root / "out"
    assert main(["run", "--kind", "text", "--input", str(table), "--output", str(out), "--run-id", "t2"]) == 0
    return out, rows


def test_table_with_inline_text(table_run):
    out, rows = table_run
    manifest, pairs, _, summary = read_run(out)
    assert summary["counts"]["items"] == len(rows) == len(manifest)
    m = manifest.set_index("item_id")
    row = lambda i: m.loc[i, ["action", "reason", "keeper_id", "matched_by"]].tolist()  # noqa: E731
    assert row("art-1") == ["keep", "keeper", None, None]
    assert row("art-1-copy") == ["drop", "exact_duplicate", "art-1", "exact"]
    assert row("art-1-near") == ["drop", "near_duplicate", "art-1", "text_minhash"]
    assert m.at["art-1-near", "keeper_similarity"] == pytest.approx(ref_jaccard(ARTICLE, _near(ARTICLE)), abs=1e-12)
    assert row("lib-page") == ["keep", "keeper", None, None]
    assert row("lib") == ["drop", "near_duplicate", "lib-page", "text_exact"]
    assert m.at["lib", "uri"].endswith("docs/second.txt") and pd.isna(m.at["art-1", "uri"])
    assert m.at["art-1", "bytes"] == len(ARTICLE.encode("utf-8"))
    assert m.loc[["blank", "nothing", "recipe#2"], "reason"].tolist() == ["empty_file", "missing_text", "duplicate_id"]
    assert row("recipe") == ["keep", "unique", None, None]
    assert m["width"].isna().all()


def test_table_without_text_or_path_column_is_one_readable_error(spark, tmp_path, capsys):
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps({"id": "a", "body": "words"}) + "\n")
    assert main(["run", "--kind", "text", "--input", str(table), "--output", str(tmp_path / "out")]) == 2
    assert "has neither a text column nor a path column (columns: body, id)" in capsys.readouterr().err


def test_report_shows_text_pairs_with_the_changed_words_marked(folder_run, table_run, tmp_path):
    from jobs.report import write_report
    from jobs.text_report import marked_words

    assert marked_words("a b c d", "a x c d") == ("a <del>b</del> c d", "a <ins>x</ins> c d")
    page = Path(write_report(folder_run[1], tmp_path / "folder.html")).read_text()
    assert "<h2>Text pairs</h2>" in page and "<h4>news/d_near.txt</h4>" in page
    assert "<del>twelve</del>" in page and "<ins>ten</ins>" in page
    inline = Path(write_report(table_run[0], tmp_path / "table.html")).read_text()  # texts from the input table
    assert "<h4>art-1-near</h4>" in inline and "<ins>ten</ins>" in inline
