"""`dedup run --kind audio` end to end (Spark local mode): synthesised recordings in, manifests out.

One original (12 s of jobs/audio_example.melody, FLAC at 44.1 kHz) with an exact copy, an MP3,
a WAV resampled to 22,050 Hz, a copy 3% faster and a 6 s excerpt; negatives (another piece of
the same generator, silence); broken files. A second run reads a JSONL table of the same files
with the feature cache of the first.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pytest

from jobs import audio_example as E
from jobs import audio_kind
from jobs.config import AudioConfig
from jobs.dedup import main
from tests.helpers import read_run

pytestmark = pytest.mark.spark

R = E.RATE
COPIES = ["copies/exact.flac", "copies/mp3.mp3", "copies/wav22.wav", "copies/fast.flac", "copies/excerpt.flac"]
NEGATIVES = ["neg/other.flac", "neg/silence.flac"]


def _corpus(root: Path) -> None:
    x = E.melody(4, seconds=12.0)
    original = E.write_audio(root / "a.flac", x, out_rate=2 * R)
    (root / "copies").mkdir()
    (root / "copies/exact.flac").write_bytes(original.read_bytes())
    E.write_audio(root / "copies/mp3.mp3", x, codec="libmp3lame", bit_rate=64_000)
    E.write_audio(root / "copies/wav22.wav", x, codec="pcm_s16le")
    E.write_audio(root / "copies/fast.flac", E.speed_up(x, 1.03))
    E.write_audio(root / "copies/excerpt.flac", x[4 * R: 10 * R])
    E.write_audio(root / "neg/other.flac", E.melody(6, seconds=12.0))
    E.write_audio(root / "neg/silence.flac", np.zeros(4 * R, np.float32))
    E.write_broken(root / "broken", original)
    (root / "readme.txt").write_text("not an audio extension: not an input\n")


@pytest.fixture(scope="module")
def audio_run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("recordings")
    _corpus(root)
    base = tmp_path_factory.mktemp("audio-run")
    cache = ["--set", f"cache.dir={base / 'cache'}", "--set", "spark.shuffle_partitions=2"]
    assert main(["run", "--kind", "audio", "--input", str(root), "--output", str(base / "out"), *cache]) == 0
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix != ".txt" and p.is_file())
    table = base / "items.jsonl"
    again = ["a.flac", "copies/excerpt.flac", "neg/other.flac", "broken/notes.mp3"]
    table.write_text("".join(json.dumps({"id": f, "audio": str(root / f)}) + "\n" for f in again))
    assert main(["run", "--kind", "audio", "--input", str(table), "--output", str(base / "again"), *cache]) == 0
    return root, base, files


def test_every_file_appears_once_with_its_stream_facts(audio_run):
    _, base, files = audio_run
    manifest, _, _, summary = read_run(base / "out")
    assert sorted(manifest["item_id"]) == files
    counts = summary["counts"]
    assert counts["items"] == len(files) == counts["keep"] + counts["drop"] + counts["error"]
    assert summary["thresholds"]["audio_min_score"] == 6 and summary["config"]["input"]["kind"] == "audio"
    ok = manifest[manifest["action"] != "error"].set_index("item_id")
    assert ok[["duration_s", "sample_rate", "channels", "codec", "bitrate"]].notna().all().all()
    assert ok.at["a.flac", "sample_rate"] == 2 * R and ok.at["copies/wav22.wav", "sample_rate"] == R
    assert ok.at["a.flac", "duration_s"] == pytest.approx(12.0, abs=0.1) and ok.at["copies/mp3.mp3", "codec"] == "mp3float"
    errors = manifest[manifest["action"] == "error"].set_index("item_id")["reason"].to_dict()
    assert errors == {f"broken/{k}": v for k, v in E.BROKEN.items()}


def test_copies_dropped_for_the_lossless_original(audio_run):
    _, base, _ = audio_run
    m = read_run(base / "out")[0].set_index("item_id")
    # lossless first, then the highest (decoded) bitrate: the 44.1 kHz FLAC, not the 22 kHz WAV or the MP3
    keeper = m.loc[["a.flac", *COPIES]].query("action == 'keep'").index.tolist()
    assert keeper in (["a.flac"], ["copies/exact.flac"])
    for item in {"a.flac", *COPIES} - set(keeper):
        assert m.at[item, "action"] == "drop" and m.at[item, "keeper_id"] == keeper[0], item
        assert m.at[item, "matched_by"] in ("audio_peaks", "exact"), item
    for item in NEGATIVES:
        assert m.at[item, "action"] == "keep" and m.at[item, "reason"] == "unique", item


def test_pairs_carry_the_aligned_span_and_the_late_decision(audio_run):
    _, base, _ = audio_run
    _, pairs, _, summary = read_run(base / "out")
    audio = pairs[pairs["stage"] == "audio_peaks"]
    assert len(audio) and (audio["item_a"] < audio["item_b"]).all()
    assert audio[["start_a", "end_a", "start_b", "end_b", "coverage_a", "coverage_b", "time_scale",
                  "aligned_anchors", "similarity"]].notna().all().all()
    for p in audio.itertuples():
        assert p.is_duplicate == (p.aligned_anchors >= 6 and max(p.coverage_a, p.coverage_b) >= 0.3)
        assert 0 < p.similarity <= 1 and p.start_a <= p.end_a and p.start_b <= p.end_b
    pair = lambda x, y: audio[(audio["item_a"] == x) & (audio["item_b"] == y)].iloc[0]  # noqa: E731
    excerpt = pair("a.flac", "copies/excerpt.flac")
    assert excerpt.start_a - excerpt.start_b == pytest.approx(4.0, abs=0.5) and excerpt.coverage_b > excerpt.coverage_a
    assert pair("a.flac", "copies/fast.flac").time_scale == pytest.approx(1 / 1.03, abs=0.006)
    assert summary["stages"]["audio_voted_pairs"] >= len(audio) and "audio_capped_buckets" in summary["stages"]
    con = duckdb.connect()
    got = con.execute(f"select codec, bitrate, sample_rate from read_parquet('{base / 'out'}/manifest/*/*.parquet', "
                      f"hive_partitioning=true) where item_id = 'copies/wav22.wav'").fetchall()
    assert got == [("pcm_s16le", R * 16, R)]


def test_a_table_rerun_reads_features_from_the_cache(audio_run):
    _, base, _ = audio_run
    second = read_run(base / "again")
    assert second[3]["stages"]["contents_from_cache"] == 4 and second[3]["stages"]["contents_decoded"] == 0
    m = second[0].set_index("item_id")
    assert m.at["copies/excerpt.flac", "keeper_id"] == "a.flac" and m.at["neg/other.flac", "reason"] == "unique"
    assert m.at["broken/notes.mp3", "reason"] == "not_audio"


def test_common_hashes_are_capped_never_all_pairs(spark):
    """Five recordings holding the same hash values at consistent offsets: every pair votes; with
    max_bucket below five, the buckets are skipped and counted."""
    hashes = list(range(1000, 1010))
    rows = [(f"s{i}", 10.0, hashes, [float(t + i) for t in range(10)], None) for i in range(5)]
    feats = spark.createDataFrame(rows, "content_sha256 string, duration_s double, hashes array<long>, "
                                        "times array<float>, decode_error string")
    stats = {}
    voted = audio_kind.voted_pairs(feats, AudioConfig(max_bucket=5, min_votes=4), stats)
    assert voted.count() == 10 and stats["audio_capped_buckets"] == 0
    voted = audio_kind.voted_pairs(feats, AudioConfig(max_bucket=4, min_votes=4), stats)
    assert voted.count() == 0 and stats["audio_capped_buckets"] == 10
