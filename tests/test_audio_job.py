"""`dedup run --kind audio` end to end (Spark local mode): synthesised recordings in, manifests out.

One original (12 s of jobs/audio_example.melody, FLAC at 44.1 kHz) with an exact copy, an MP3,
a WAV resampled to 22,050 Hz, a copy 3% faster and a 6 s excerpt; a second recording and its copy
with white noise over it (both FLAC at one rate); negatives (another piece of
the same generator, silence); broken files; all into a corpus store. A second run reads a JSONL
table of two new recordings against the store, and `dedup query` asks the store about files.
"""
from __future__ import annotations

import hashlib
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
COPIES = ["copies/exact.flac", "copies/mp3.mp3", "copies/wav22.wav", "copies/fast.flac", "copies/excerpt.flac",
          "copies/padded.flac"]
NEGATIVES = ["neg/other.flac", "neg/silence.flac"]
NOISE = ["noise/b.flac", "noise/b-noisy.flac"]


def _corpus(root: Path) -> None:
    x = E.melody(4, seconds=12.0)
    original = E.write_audio(root / "a.flac", x, out_rate=2 * R)
    (root / "copies").mkdir()
    (root / "copies/exact.flac").write_bytes(original.read_bytes())
    E.write_audio(root / "copies/mp3.mp3", x, codec="libmp3lame", bit_rate=64_000)
    E.write_audio(root / "copies/wav22.wav", x, codec="pcm_s16le")
    E.write_audio(root / "copies/fast.flac", E.speed_up(x, 1.03))
    E.write_audio(root / "copies/excerpt.flac", x[4 * R: 10 * R])
    # the original padded with silence, at its resolution: longer, more bytes, the same audible length
    pad = lambda s: np.zeros(int(s * R), np.float32)  # noqa: E731
    E.write_audio(root / "copies/padded.flac", np.concatenate([pad(1.5), x, pad(2.3)]), out_rate=2 * R)
    # a recording and its copy with white noise at 15 dB SNR: same codec, rate, bitrate and audible length, and
    # the noise makes the copy's FLAC larger (what kept the tune part's noisy FLACs: bytes desc)
    b = E.melody(9, seconds=10.0)
    noise = np.random.default_rng(9).standard_normal(b.size).astype(np.float32)
    E.write_audio(root / NOISE[0], b, out_rate=2 * R)
    E.write_audio(root / NOISE[1], b + noise * np.sqrt(np.mean(b ** 2) / np.mean(noise ** 2) / 10 ** 1.5),
                  out_rate=2 * R)
    E.write_audio(root / "neg/other.flac", E.melody(6, seconds=12.0))
    E.write_audio(root / "neg/silence.flac", np.zeros(4 * R, np.float32))
    E.write_broken(root / "broken", original)
    (root / "readme.txt").write_text("not an audio extension: not an input\n")


@pytest.fixture(scope="module")
def audio_run(spark, tmp_path_factory):
    """Run 1: the corpus folder into a new corpus store. Run 2: a JSONL table of two new recordings
    (another excerpt of the original, an unrelated piece) against that store."""
    root = tmp_path_factory.mktemp("recordings")
    _corpus(root)
    base = tmp_path_factory.mktemp("audio-run")
    store, fast = base / "store", ["--set", "spark.shuffle_partitions=2"]
    assert main(["run", "--kind", "audio", "--input", str(root), "--output", str(base / "out"), "--corpus", str(store),
                 *fast]) == 0
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix != ".txt" and p.is_file())
    new = tmp_path_factory.mktemp("new")
    E.write_audio(new / "excerpt2.mp3", E.melody(4, seconds=12.0)[2 * R: 9 * R], codec="libmp3lame", bit_rate=96_000)
    E.write_audio(new / "unrelated.flac", E.melody(8, seconds=10.0))
    table = base / "new.jsonl"
    table.write_text("".join(json.dumps({"id": f"new/{p.name}", "audio": str(p)}) + "\n"
                             for p in sorted(new.iterdir())))
    assert main(["run", "--kind", "audio", "--input", str(table), "--output", str(base / "again"),
                 "--corpus", str(store), *fast]) == 0
    return root, base, files, new


def test_every_file_appears_once_with_its_stream_facts(audio_run):
    _, base, files, _ = audio_run
    manifest, _, _, summary = read_run(base / "out")
    assert sorted(manifest["item_id"]) == files
    counts = summary["counts"]
    assert counts["items"] == len(files) == counts["keep"] + counts["drop"] + counts["error"]
    assert summary["thresholds"]["audio_min_score"] == 6 and summary["config"]["input"]["kind"] == "audio"
    ok = manifest[manifest["action"] != "error"].set_index("item_id")
    assert ok[["duration_s", "sample_rate", "channels", "codec", "bitrate"]].notna().all().all()
    assert ok.at["a.flac", "sample_rate"] == 2 * R and ok.at["copies/wav22.wav", "sample_rate"] == R
    assert ok.at["a.flac", "duration_s"] == pytest.approx(12.0, abs=0.1)
    assert ok.at["copies/padded.flac", "duration_s"] == pytest.approx(15.8, abs=0.1)
    assert ok.at["copies/mp3.mp3", "codec"] == "mp3float"
    errors = manifest[manifest["action"] == "error"].set_index("item_id")["reason"].to_dict()
    assert errors == {f"broken/{k}": v for k, v in E.BROKEN.items()}


def test_copies_dropped_for_the_lossless_original(audio_run):
    base = audio_run[1]
    m = read_run(base / "out")[0].set_index("item_id")
    # lossless first, then the highest (decoded) bitrate: the 44.1 kHz FLAC, not the 22 kHz WAV or the MP3;
    # then the longest audible length and the least padding: not the silence-padded FLAC
    keeper = m.loc[["a.flac", *COPIES]].query("action == 'keep'").index.tolist()
    assert keeper in (["a.flac"], ["copies/exact.flac"])
    for item in {"a.flac", *COPIES} - set(keeper):
        assert m.at[item, "action"] == "drop" and m.at[item, "keeper_id"] == keeper[0], item
        assert m.at[item, "matched_by"] in ("audio_peaks", "exact"), item
    assert m.at["neg/other.flac", "action"] == "keep" and m.at["neg/other.flac", "reason"] == "unique"
    # the clean recording over its noisy copy: both lossless at one bitrate and audible length, matching each other
    # only; then the lower noise floor (without noise_floor_db, bytes desc kept the larger, noisy FLAC)
    assert m.at[NOISE[0], "action"] == "keep" and m.at[NOISE[0], "reason"] == "keeper"
    assert m.at[NOISE[1], "action"] == "drop" and m.at[NOISE[1], "keeper_id"] == NOISE[0]
    # silence has no fingerprint hashes: nothing could compare it, and the manifest says so
    assert m.at["neg/silence.flac", "action"] == "keep" and m.at["neg/silence.flac", "reason"] == "low_information"


def test_pairs_carry_the_aligned_span_and_the_late_decision(audio_run):
    base = audio_run[1]
    _, pairs, _, summary = read_run(base / "out")
    audio = pairs[pairs["stage"] == "audio_peaks"]
    assert len(audio) and (audio["item_a"] < audio["item_b"]).all()
    assert audio[["start_a", "end_a", "start_b", "end_b", "coverage_a", "coverage_b", "time_scale",
                  "aligned_anchors", "similarity"]].notna().all().all()
    for p in audio.itertuples():
        assert p.is_duplicate == (p.aligned_anchors >= 6 and max(p.coverage_a, p.coverage_b) >= 0.3
                                  and p.similarity >= AudioConfig().min_similarity)
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


def test_an_incremental_table_run_against_the_store(audio_run):
    base = audio_run[1]
    manifest, _, _, summary = read_run(base / "again")
    m = manifest.set_index("item_id")
    assert sorted(m.index) == ["new/excerpt2.mp3", "new/unrelated.flac"]  # this run's items only
    excerpt = m.loc["new/excerpt2.mp3", ["action", "keeper_id", "matched_by"]].tolist()
    assert excerpt == ["drop", "a.flac", "audio_peaks"]
    assert m.at["new/unrelated.flac", "reason"] == "unique"
    assert summary["stages"]["contents_decoded"] == 2 and summary["stages"]["contents_from_cache"] > 0
    state = base / "store" / (base / "store" / "CURRENT").read_text().strip()
    assert json.loads((state / "kind.json").read_text())["kind"] == "audio"


def test_query_an_audio_store(audio_run, tmp_path, capsys):
    root, base, _, new = audio_run
    (tmp_path / "notes.wav").write_text("not audio\n")
    other = E.write_audio(tmp_path / "other.flac", E.melody(11, seconds=8.0))
    files = [str(new / "excerpt2.mp3"), str(root / "copies/fast.flac"), str(other), str(tmp_path / "notes.wav")]
    assert main(["query", "--corpus", str(base / "store"), *files, "--json"]) == 3  # one file could not be read
    answers = {r["audio"]: r for r in json.loads(capsys.readouterr().out)}
    excerpt = answers[files[0]]
    assert excerpt["duplicate"] and excerpt["matches"][0]["stage"] == "exact"  # it is in the store itself
    aligned = [m for m in excerpt["matches"] if m["item_id"] == "a.flac"][0]
    assert aligned["stage"] == "audio_peaks" and aligned["duplicate"] and aligned["action"] == "keep"
    assert aligned["start_b"] - aligned["start_a"] == pytest.approx(2.0, abs=0.5)  # a: the query, b: a.flac
    fast = [m for m in answers[files[1]]["matches"] if m["item_id"] == "a.flac"][0]
    assert fast["time_scale"] == pytest.approx(1.03, abs=0.006)  # t_b = s * t_a: the stored one is slower
    assert answers[files[2]]["duplicate"] is False and answers[files[2]]["matches"] == []
    assert "not_audio" in answers[files[3]]["error"]


def test_report_shows_spectrograms_and_players(audio_run, tmp_path):
    from jobs.report import write_report

    page = write_report(audio_run[1] / "out", tmp_path / "report.html").read_text()
    assert "Audio pairs" in page and page.count("<audio controls") >= 2
    assert page.count('alt="spectrogram"') == page.count("<audio controls")


def test_common_hashes_are_capped_never_all_pairs(spark):
    """Five recordings holding the same hash values at consistent offsets: every pair votes; with
    max_bucket below five, the buckets are skipped and counted."""
    hashes = list(range(1000, 1010))
    rows = [(hashlib.sha256(b"s%d" % i).hexdigest(), 10.0, hashes, [float(t + i) for t in range(10)], None)
            for i in range(5)]
    feats = spark.createDataFrame(rows, "content_sha256 string, duration_s double, hashes array<long>, "
                                        "times array<float>, decode_error string")
    stats = {}
    voted = audio_kind.voted_pairs(feats, AudioConfig(max_bucket=5, min_votes=4), stats)
    assert voted.count() == 10 and stats["audio_capped_buckets"] == 0
    voted = audio_kind.voted_pairs(feats, AudioConfig(max_bucket=4, min_votes=4), stats)
    assert voted.count() == 0 and stats["audio_capped_buckets"] == 10
