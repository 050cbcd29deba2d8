"""features.vector_features: one feature row per distinct vector content."""
from __future__ import annotations

import numpy as np

from jobs import features
from udfs import adapters


def _contents(spark, rows):
    """(item_id, content_sha256, embedding bytes) rows -> a VECTOR_PACKED_DDL frame."""
    data = [(i, f"file:/{i}", None, sha, None if sha is None else 8, None, emb) for i, sha, emb in rows]
    return spark.createDataFrame(data, adapters.VECTOR_PACKED_DDL)


def _vec(k: int) -> bytes:
    return np.full(4, k, dtype=np.float16).tobytes()


def test_vector_features_one_row_per_content(spark):
    rows = [(f"u{k}", f"sha{k}", _vec(k)) for k in range(20)]          # unique contents
    rows += [(f"r{k}-{j}", f"rep{k}", _vec(100 + k)) for k in range(3) for j in range(k + 2)]  # 2, 3, 4 copies
    rows += [("bad", None, None)]                                       # an unreadable vector: no feature row
    got = features.vector_features(_contents(spark, rows)).toPandas()
    assert list(got.columns) == list(adapters.FEATURE_COLUMNS)
    assert sorted(got["content_sha256"]) == sorted([f"sha{k}" for k in range(20)] + [f"rep{k}" for k in range(3)])
    by_sha = dict(zip(got["content_sha256"], got["embedding"]))
    assert by_sha["sha7"] == _vec(7) and by_sha["rep2"] == _vec(102)
    assert got["phash"].isna().all() and got["decode_error"].isna().all()
