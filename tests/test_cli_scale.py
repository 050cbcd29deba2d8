"""Large tables through ingest: oversized Parquet row groups are split, ids checked without
shuffling the vectors, path tables spread over the cores, vectors packed from the start.

bench/cli_scale.py runs the same paths at 500k-1M rows through `dedup run`; these tests
keep the behaviour at a few thousand rows (thresholds lowered with monkeypatch).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs import ingest
from jobs.config import load_config
from jobs.dedup import main
from tests.helpers import read_run

pytestmark = pytest.mark.spark


def _vectors(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    x[1::50] = x[0::50] + 0.01  # planted near-duplicates
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _write(path, x: np.ndarray, ids: list | None = None, **kw) -> None:
    d = x.shape[1]
    emb = pa.ListArray.from_arrays(pa.array(np.arange(0, x.size + 1, d, dtype=np.int32)), pa.array(x.ravel()))
    columns = {"embedding": emb} if ids is None else {"id": pa.array(ids), "embedding": emb}
    pq.write_table(pa.table(columns), path, **kw)  # pyarrow's defaults: one row group here


def _items(spark, path, scratch=None):
    cfg = load_config().input
    return ingest.read_items(spark, ingest.detect_source(str(path), cfg), cfg, scratch=scratch)


def test_oversized_row_groups_are_split_and_read_the_same(spark, tmp_path, monkeypatch):
    x = _vectors(3000)
    table = tmp_path / "emb.parquet"
    _write(table, x, [f"v{i:05d}" for i in range(len(x))])
    assert pq.ParquetFile(table).metadata.num_row_groups == 1
    whole = _items(spark, table).toPandas().sort_values("item_id").reset_index(drop=True)
    monkeypatch.setattr(ingest, "MAX_ROW_GROUP_BYTES", 64 * 1024)   # 3000 x 16 floats = 192 KiB
    monkeypatch.setattr(ingest, "SPLIT_ROW_GROUP_BYTES", 16 * 1024)
    split = _items(spark, table, scratch=str(tmp_path / "work"))
    copy = tmp_path / "work" / "part-00000.parquet"
    assert pq.ParquetFile(copy).metadata.num_row_groups >= 10
    got = split.toPandas().sort_values("item_id").reset_index(drop=True)
    assert got["item_id"].tolist() == whole["item_id"].tolist()
    assert np.array_equal(np.stack(got["embedding"]), np.stack(whole["embedding"]))
    # a file with small row groups, or no scratch folder, is read where it is
    monkeypatch.setattr(ingest, "MAX_ROW_GROUP_BYTES", 2**30)
    src = ingest.detect_source(str(table), load_config().input)
    assert ingest._split_row_groups(spark, src, str(tmp_path / "work2")) is None


def test_duplicate_ids_are_flagged_with_ids_and_with_fallback_ids(spark, tmp_path):
    x = _vectors(40)
    with_ids = tmp_path / "ids.parquet"
    _write(with_ids, x, [f"v{i % 30:02d}" for i in range(40)])  # v00..v09 twice
    rows = _items(spark, with_ids).toPandas()
    assert len(rows) == 40 and rows["item_id"].is_unique
    assert sorted(rows.loc[rows["input_error"].notna(), "item_id"]) == [f"v{i:02d}#2" for i in range(10)]
    no_ids = tmp_path / "noids.parquet"
    _write(no_ids, np.concatenate([x[:5], x[:5]]))  # no id, no path: ids hash the row
    rows = _items(spark, no_ids).toPandas()
    assert len(rows) == 10 and rows["item_id"].is_unique
    assert rows["input_error"].notna().sum() == 5
    assert "_id_key" not in rows.columns


def test_a_path_table_in_one_row_group_is_spread_over_the_cores(spark, tmp_path, monkeypatch):
    table = tmp_path / "paths.parquet"
    pq.write_table(pa.table({"path": [f"img{i}.jpg" for i in range(5000)]}), table)
    items = _items(spark, table)
    assert items.rdd.getNumPartitions() >= spark.sparkContext.defaultParallelism
    assert items.count() == 5000
    # split into the work folder, relative paths still resolve beside the table
    monkeypatch.setattr(ingest, "MAX_ROW_GROUP_BYTES", 1024)
    monkeypatch.setattr(ingest, "SPLIT_ROW_GROUP_BYTES", 1024)
    uris = _items(spark, table, scratch=str(tmp_path / "work")).select("uri").toPandas()["uri"]
    assert (tmp_path / "work" / "part-00000.parquet").exists()
    assert uris.str.endswith(f"{tmp_path.name}/img0.jpg").sum() == 1 and not uris.str.contains("/work/").any()


def test_vectors_reach_the_self_join_packed_and_a_split_file_gives_the_same_run(spark, tmp_path, monkeypatch):
    x = _vectors(2000)
    table = tmp_path / "emb.parquet"
    _write(table, x, [f"v{i:05d}" for i in range(len(x))])
    args = ["--set", "selfjoin.nlist=8", "--set", "selfjoin.probe_margin=2", "--run-id", "same"]
    assert main(["run", "--input", str(table), "--output", str(tmp_path / "whole"), *args]) == 0
    monkeypatch.setattr(ingest, "MAX_ROW_GROUP_BYTES", 32 * 1024)
    monkeypatch.setattr(ingest, "SPLIT_ROW_GROUP_BYTES", 8 * 1024)
    assert main(["run", "--input", str(table), "--output", str(tmp_path / "split"), *args]) == 0
    whole, split = read_run(tmp_path / "whole"), read_run(tmp_path / "split")
    for a, b in zip(whole[:2], split[:2]):
        key = list(a.columns[:2])
        assert a.sort_values(key).reset_index(drop=True)[key].equals(b.sort_values(key).reset_index(drop=True)[key])
    assert whole[3]["counts"] == split[3]["counts"] and whole[3]["counts"]["drop"] >= 30
    # the vectors leave ingest as fp16 bytes (udfs.ivf.pack_rows), the self-join's transport form
    from jobs.features import vector_items
    from udfs.ivf import unpack_rows

    packed = vector_items(_items(spark, table), "float16").orderBy("item_id").limit(3).toPandas()
    assert [len(b) for b in packed["embedding"]] == [2 * x.shape[1]] * 3
    assert np.abs(unpack_rows(packed["embedding"], "float16") - x[:3]).max() < 2e-3
