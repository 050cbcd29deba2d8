"""Hostile and broken inputs: every file becomes exactly one row with the expected reason.

One job run over the directory corpus of tests/hostile.py, one over a JSONL
table with bad rows and URLs served from 127.0.0.1, plus cheap checks of the
listing (ingest.read_items, no job) and of the kernels alone (no Spark).
TODAY can hold today's outcome where it differs from the wanted one (a known
issue), with a strict xfail on the test that asserts the wanted one; it is empty.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from jobs.dedup import main
from tests import hostile
from tests.helpers import read_run
from udfs.decode import DecodeError, decode_image
from udfs.io import ReadError, read_bytes

SETTINGS = ["--set", "spark.shuffle_partitions=2",
            "--set", f"decode.max_pixels={hostile.MAX_PIXELS}",
            "--set", f"input.max_file_bytes={hostile.MAX_FILE_BYTES}",
            "--set", f"input.extensions={hostile.EXTENSIONS}"]

# Known issues: rel -> today's outcome, where it differs from hostile.py's wanted one.
TODAY: dict = {}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    base = tmp_path_factory.mktemp("hostile")
    return base / "root", hostile.build_hostile_corpus(base / "root", base / "outside")


def _today(expected: dict[str, dict]) -> dict[str, dict]:
    return {rel: TODAY.get(rel, want) for rel, want in expected.items()}


# ----------------------------------------------------------------------------- kernels alone


def test_kernels_give_each_hostile_file_its_reason(corpus) -> None:
    """read_bytes + decode_image, no Spark: the reason of every error, a picture for the rest."""
    root, expected = corpus
    for rel, want in hostile.inputs(expected).items():
        try:
            decoded = decode_image(read_bytes(str(root / rel), hostile.MAX_FILE_BYTES), hostile.MAX_PIXELS)
            got = None
        except (ReadError, DecodeError) as exc:
            got = exc.reason
        reason = want.get("reader", want.get("reason") if want.get("action") == "error" else None)
        assert got == reason, rel
        if reason is None:
            assert decoded.image.mode == "RGB" and min(decoded.image.size) >= 1, rel


# ----------------------------------------------------------------------------- the job on a directory


def _item(df: pd.DataFrame, item_id: str) -> pd.Series:
    rows = df[df["item_id"] == item_id]
    assert len(rows) == 1, f"{item_id}: {len(rows)} rows"
    return rows.iloc[0]


def _check(manifest: pd.DataFrame, rel: str, want: dict) -> None:
    if want.get("action") == "absent":
        assert rel not in set(manifest["item_id"]), rel
        return
    row = _item(manifest, rel)
    if "action" in want:
        assert row["action"] == want["action"], (rel, row["action"], row["reason"], row["error"])
    if "reason" in want:
        assert row["reason"] == want["reason"], (rel, row["reason"], row["error"])
    if "keeper" in want:
        assert row["keeper_id"] == want["keeper"], rel
    if "same_cluster_as" in want:
        other = _item(manifest, want["same_cluster_as"])
        assert row["cluster_id"] is not None and row["cluster_id"] == other["cluster_id"], rel
        assert {row["action"], other["action"]} == {"keep", "drop"}, rel
    if want.get("action") == "keep" and "same_cluster_as" not in want:
        assert row["cluster_id"] is None or row["reason"] == "keeper", (rel, row["cluster_id"])


@pytest.fixture(scope="module")
def dir_run(spark, corpus, tmp_path_factory) -> Path:
    root, _ = corpus
    out = tmp_path_factory.mktemp("hostile-run") / "out"
    assert main(["run", "--input", str(root), "--output", str(out), "--run-id", "hostile", *SETTINGS]) == 0
    return out


@pytest.mark.spark
def test_every_listed_file_is_one_row_and_counts_add_up(dir_run, corpus) -> None:
    manifest, _, _, summary = read_run(dir_run)
    listed = {rel for rel, want in _today(corpus[1]).items() if want.get("action") != "absent"}
    assert sorted(manifest["item_id"]) == sorted(listed)
    counts = summary["counts"]
    assert counts["items"] == len(listed) == counts["keep"] + counts["drop"] + counts["error"]


@pytest.mark.spark
def test_each_hostile_file_gets_its_outcome_today(dir_run, corpus) -> None:
    manifest = read_run(dir_run)[0]
    for rel, want in _today(corpus[1]).items():
        _check(manifest, rel, want)
    errors = manifest[manifest["action"] == "error"]
    assert all(e.startswith(r + ": ") for e, r in zip(errors["error"], errors["reason"]))
    assert errors[["cluster_id", "keeper_id", "width"]].isna().all().all()


@pytest.mark.spark
def test_exif_twins_have_the_same_oriented_size(dir_run) -> None:
    manifest = read_run(dir_run)[0]
    rotated, upright = _item(manifest, "exif/rotated6.jpg"), _item(manifest, "exif/upright.jpg")
    assert (rotated["width"], rotated["height"]) == (upright["width"], upright["height"]) == (96, 128)


@pytest.mark.spark
def test_hidden_names_and_dangling_links_are_inputs(dir_run, corpus) -> None:
    manifest = read_run(dir_run)[0]
    for rel in hostile.LISTING_GAPS:
        _check(manifest, rel, corpus[1][rel])


@pytest.mark.spark
def test_degenerate_images_do_not_match(dir_run) -> None:
    manifest = read_run(dir_run)[0]
    for rel in ("tiny_1x1.png", "strip_1x5000.png"):
        _check(manifest, rel, hostile.KEEP)


@pytest.mark.spark
def test_symlinks_out_of_the_root_are_refused(dir_run, corpus) -> None:
    for rel in ("links/outside.jpg", "links/devzero.jpg"):
        _check(read_run(dir_run)[0], rel, corpus[1][rel])


# ----------------------------------------------------------------------------- listing alone


def _listed_ids(spark, location: Path) -> list[str]:
    from jobs.config import InputConfig
    from jobs.ingest import detect_source, read_items

    cfg = InputConfig()
    return sorted(r["item_id"] for r in read_items(spark, detect_source(str(location), cfg), cfg).collect())


@pytest.mark.spark
def test_ids_are_relative_under_a_root_with_a_space(spark, tmp_path) -> None:
    root = tmp_path / "root with space é"
    (root / "sub").mkdir(parents=True)
    for rel in ("a.jpg", "sub/b c.jpg"):
        (root / rel).write_bytes(b"x")
    assert _listed_ids(spark, root) == ["a.jpg", "sub/b c.jpg"]


@pytest.mark.spark
def test_symlink_loop_lists_each_file_once(spark, tmp_path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "loop").symlink_to(".")
    assert _listed_ids(spark, tmp_path) == ["a.jpg"]


# ----------------------------------------------------------------------------- the job on a table


TABLE_FILES = {"a.jpg": 40, "b.jpg": 41}  # rel -> pattern seed


@pytest.fixture(scope="module")
def table_run(spark, tmp_path_factory):
    """A JSONL table: good/bad ids, bad paths, URLs to a local server. Yields (out, expected by id)."""
    base = tmp_path_factory.mktemp("hostile-table")
    for rel, seed in TABLE_FILES.items():
        (base / rel).write_bytes(hostile.encode(hostile.pattern(seed), "JPEG", quality=90))
    (base / "subdir").mkdir()
    served = {"/good.jpg": hostile.encode(hostile.pattern(42), "JPEG", quality=90),
              "/copy-of-a.jpg": (base / "a.jpg").read_bytes()}
    with hostile.serve_files(served) as url:
        rows = [
            ({"id": "a-local", "path": "a.jpg"}, {"action": "keep"}),
            ({"id": "url-good", "path": f"{url}/good.jpg"}, {"action": "keep"}),
            ({"id": "url-copy", "path": f"{url}/copy-of-a.jpg"},
             {"action": "drop", "reason": "exact_duplicate", "keeper": "a-local"}),
            ({"id": "url-404", "path": f"{url}/missing.jpg"}, {"action": "error", "reason": "not_found"}),
            ({"id": "ftp", "path": "ftp://127.0.0.1/x.jpg"}, {"action": "error", "reason": "unsupported_scheme"}),
            ({"id": "dup", "path": "a.jpg"}, {"action": "drop", "reason": "exact_duplicate", "keeper": "a-local"}),
            ({"id": "dup", "path": "b.jpg"}, {"action": "error", "reason": "duplicate_id", "id": "dup#2"}),
            ({"path": "b.jpg"}, {"action": "error", "reason": "missing_id", "id": "b.jpg"}),
            ({"id": None, "path": "b.jpg"}, {"action": "error", "reason": "duplicate_id", "id": "b.jpg#2"}),
            ({"id": "no-path", "path": None}, {"action": "error", "reason": "missing_path"}),
            ({"id": "empty-path", "path": ""}, {"action": "error", "reason": "missing_path"}),
            ({"id": "a-directory", "path": "subdir"}, {"action": "error", "reason": "is_directory"}),
            ({"id": "nul-byte", "path": "bad\u0000name.jpg"}, {"action": "error", "reason": "not_found"}),
            ({"id": "missing-file", "path": "nope/none.jpg"}, {"action": "error", "reason": "not_found"}),
            ({"id": 7, "path": "b.jpg"}, {"action": "keep"}),
        ]
        lines = [json.dumps(row) for row, _ in rows] + ["this line is not JSON"]
        table = base / "items.jsonl"
        table.write_text("\n".join(lines) + "\n")
        out = tmp_path_factory.mktemp("hostile-table-run") / "out"
        assert main(["run", "--input", str(table), "--output", str(out), "--run-id", "table",
                     "--set", "fetch.allow_networks=[127.0.0.1]"]) == 0
    expected = {want.pop("id", None) or str(row.get("id") or row.get("path")): want for row, want in rows}
    yield out, expected, len(lines)


@pytest.mark.spark
def test_table_rows_each_get_their_outcome(table_run) -> None:
    out, expected, n_lines = table_run
    manifest, _, _, summary = read_run(out)
    assert summary["counts"]["items"] == n_lines == len(manifest)
    assert manifest["item_id"].is_unique
    for item_id, want in expected.items():
        _check(manifest, item_id, want)
    bad = manifest[manifest["item_id"].str.startswith("row-")]
    assert bad["reason"].tolist() == ["bad_input_row"]
    assert _item(manifest, "url-good")["uri"].startswith("http://127.0.0.1:")
