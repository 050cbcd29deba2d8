"""Precomputed fingerprints as input (`dedup run --kind audio --input TABLE.parquet`) on a small
bench/audio_scale table: nothing decoded, the planted copies found, error rows for bad fingerprints."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench import audio_scale as S
from jobs.dedup import main
from tests.helpers import read_run

pytestmark = pytest.mark.spark


def test_a_precomputed_fingerprint_table_runs_and_finds_the_planted_copies(spark, tmp_path):
    clips, roles = S.corpus(400, seed=3)
    path = S.write_table(clips, tmp_path / "table.parquet")
    t = pq.read_table(path)
    extra = pa.table({"id": ["x-none", "x-short"], "hashes": pa.array([None, [1, 2, 3]], pa.list_(pa.int64())),
                      "times": pa.array([None, [0.5]], pa.list_(pa.float32())), "duration_s": [1.0, 1.0],
                      "audible_s": [1.0, 1.0], "lossless": [True, True], "bitrate": pa.array([1, 1], pa.int64())})
    pq.write_table(pa.concat_tables([t, extra.cast(t.schema)]), path)
    out = tmp_path / "out"
    assert main(["run", "--kind", "audio", "--input", str(path), "--output", str(out),
                 "--set", "spark.shuffle_partitions=2"]) == 0
    manifest, _, _, summary = read_run(out)
    assert len(manifest) == 402
    m = manifest.set_index("item_id")
    assert m.at["x-none", "reason"] == "missing_signature" and m.at["x-short", "reason"] == "bad_fingerprint"
    score = S.score(roles, out)
    assert score["planted"] == 40 and score["recall_duplicate"] >= 0.9, score
    assert score["silence_kept"] == sum(r["role"] == "silence" for r in roles)
    assert summary["stages"]["audio_voted_pairs"] > 0 and summary["stages"]["audio_hash_rows"] > 100_000
