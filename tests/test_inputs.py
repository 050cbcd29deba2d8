"""Table inputs (JSONL / CSV / Parquet) and their id and path rules, through Spark."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from jobs.dedup import main
from tests.helpers import read_run

pytestmark = pytest.mark.spark


def _some_files(corpus: Path) -> list[str]:
    return ["originals/astronaut.jpg", "edited/astronaut__resize_50.jpg", "originals/coffee.jpg",
            "edited/coffee__grayscale.jpg", "broken/noise.jpg"]


def test_jsonl_with_relative_image_paths(spark, small_corpus, tmp_path):
    table = small_corpus / "list.jsonl"  # relative paths resolve against the table's folder
    table.write_text("".join(json.dumps({"image": f}) + "\n" for f in _some_files(small_corpus)))
    try:
        assert main(["run", "--input", str(table), "--output", str(tmp_path / "o")]) == 0
    finally:
        table.unlink()
    manifest = read_run(tmp_path / "o")[0].set_index("item_id")
    assert sorted(manifest.index) == sorted(_some_files(small_corpus))
    assert manifest.at["edited/astronaut__resize_50.jpg", "keeper_id"] == "originals/astronaut.jpg"
    assert manifest.at["broken/noise.jpg", "reason"] == "not_an_image"


def test_csv_with_ids_and_base_uri(spark, small_corpus, tmp_path):
    files = _some_files(small_corpus)
    pd.DataFrame({"key": [f"img-{i}" for i in range(len(files))], "location": files}) \
        .to_csv(tmp_path / "t.csv", index=False)
    assert main(["run", "--input", str(tmp_path / "t.csv"), "--output", str(tmp_path / "o"),
                 "--set", "input.id_column=key", "--set", "input.path_column=location",
                 "--set", f"input.base_uri={small_corpus}"]) == 0
    manifest = read_run(tmp_path / "o")[0].set_index("item_id")
    assert sorted(manifest.index) == [f"img-{i}" for i in range(len(files))]
    assert manifest.at["img-1", "keeper_id"] == "img-0"


def test_parquet_with_null_paths_and_duplicate_ids(spark, small_corpus, tmp_path):
    rows = pd.DataFrame({"id": ["a", "b", "b", "c"],
                         "path": [str(small_corpus / "originals/astronaut.jpg"),
                                  str(small_corpus / "originals/coffee.jpg"),
                                  str(small_corpus / "edited/coffee__png.png"), None]})
    rows.to_parquet(tmp_path / "t.parquet")
    assert main(["run", "--input", str(tmp_path / "t.parquet"), "--output", str(tmp_path / "o")]) == 0
    manifest, _, _, summary = read_run(tmp_path / "o")
    assert summary["counts"]["items"] == 4 == len(manifest)
    by_id = manifest.set_index("item_id")
    assert by_id.at["c", "reason"] == "missing_path"
    assert by_id.at["b#2", "reason"] == "duplicate_id"
    assert by_id.at["a", "action"] == "keep"


def test_missing_path_column_is_a_clear_error(spark, tmp_path, capsys):
    (tmp_path / "t.jsonl").write_text('{"name": "x.jpg"}\n')
    assert main(["run", "--input", str(tmp_path / "t.jsonl"), "--output", str(tmp_path / "o")]) == 2
    assert "no path column found" in capsys.readouterr().err
