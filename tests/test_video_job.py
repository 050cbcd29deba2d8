"""`dedup run --kind video` end to end (Spark local mode): small PyAV-made clips in, manifests out.

Clips are 160x96 px, 24 fps, a few seconds of a camera panning over generated
pictures with hard cuts (jobs/video_example.py). Planted: an exact copy, a
re-encode (MPEG-4 in AVI), a half-size copy, a 4 s excerpt, a mirror image, a
10% crop, a corner caption, a 1.5x speed-up; negatives (the shots reversed, a still picture, black, two clips
sharing only their first shot); broken files.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from jobs import video_example as E
from jobs.dedup import main
from tests.helpers import read_run

pytestmark = pytest.mark.spark

A, B = [11, 12, 13], [21, 22, 23]
COPIES_OF_A = ["copies/a_exact.mp4", "copies/a_reencode.avi", "copies/a_half.mp4", "copies/a_excerpt.mp4",
               "copies/a_mirror.mp4", "copies/a_crop.mp4", "copies/a_caption.mp4"]
NEGATIVES = ["neg/reversed.mp4", "neg/still.mp4", "neg/black.mp4", "neg/intro_1.mkv", "neg/intro_2.mkv"]
ERRORS = {"broken/empty.mp4": "empty_file", "broken/truncated.mp4": "truncated",
          "broken/audio_only.mp4": "no_video_stream", "broken/notes.webm": "not_a_video"}


def _corpus(root: Path) -> None:
    a, b = E.panning_shots(A), E.panning_shots(B)
    original = E.write_clip(root / "a.mp4", a, 6.0)
    (root / "copies").mkdir()
    (root / "copies/a_exact.mp4").write_bytes(original.read_bytes())
    E.write_clip(root / "copies/a_reencode.avi", a, 6.0, codec="mpeg4", fps=25)
    E.write_clip(root / "copies/a_half.mp4", a, 6.0, size=(E.WIDTH // 2, E.HEIGHT // 2))
    E.write_clip(root / "copies/a_excerpt.mp4", a, 4.0, start_s=1.0)
    E.write_clip(root / "copies/a_mirror.mp4", E.mirrored(a), 6.0)
    E.write_clip(root / "copies/a_crop.mp4", E.cropped(a), 6.0, size=E.cropped_size())
    E.write_clip(root / "copies/a_caption.mp4", E.captioned(a), 6.0)
    E.write_clip(root / "b.mp4", b, 6.0)
    E.write_clip(root / "b_fast.mp4", b, 4.0, speed=1.5)
    E.write_clip(root / "neg/reversed.mp4", E.panning_shots(A[::-1]), 6.0)
    E.write_clip(root / "neg/still.mp4", E.constant(E.texture(41)[:E.HEIGHT, :E.WIDTH]), 3.0)
    E.write_clip(root / "neg/black.mp4", E.constant(np.zeros((E.HEIGHT, E.WIDTH, 3), np.uint8)), 2.0)
    E.write_clip(root / "neg/intro_1.mkv", E.panning_shots([51, 61, 62]), 6.0)
    E.write_clip(root / "neg/intro_2.mkv", E.panning_shots([51, 71, 72]), 6.0)
    (root / "broken").mkdir()
    (root / "broken/empty.mp4").write_bytes(b"")
    (root / "broken/truncated.mp4").write_bytes(original.read_bytes()[:4000])
    E.write_audio_only(root / "broken/audio_only.mp4")
    (root / "broken/notes.webm").write_text("a text file with a video name\n")
    (root / "readme.txt").write_text("not a video extension: not an input\n")


@pytest.fixture(scope="module")
def video_run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    _corpus(root)
    base = tmp_path_factory.mktemp("video-run")
    args = ["run", "--kind", "video", "--input", str(root), "--set", f"cache.dir={base / 'cache'}"]
    assert main([*args, "--output", str(base / "out"), "--run-id", "v1"]) == 0
    return root, base, args


def _durations(manifest: pd.DataFrame) -> dict[str, float]:
    return manifest.set_index("item_id")["duration_s"].dropna().to_dict()


def test_every_video_file_appears_once(video_run):
    root, base, _ = video_run
    manifest, _, _, summary = read_run(base / "out")
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.suffix != ".txt")
    assert sorted(manifest["item_id"]) == files
    counts = summary["counts"]
    assert counts["items"] == len(files) == counts["keep"] + counts["drop"] + counts["error"]
    assert summary["config"]["input"]["kind"] == "video" and summary["thresholds"]["video_min_coverage"] == 0.8
    ok = manifest[manifest["action"] != "error"].set_index("item_id")
    assert ok["duration_s"].notna().all() and ok["fps"].notna().all() and (ok["frames_sampled"] > 0).all()
    assert ok.at["a.mp4", "duration_s"] == pytest.approx(6.0, abs=0.1)
    assert ok.at["a.mp4", "frames_sampled"] == 12  # 2 frames per second
    assert ok.at["copies/a_half.mp4", "width"] == E.WIDTH // 2 and ok["phash"].isna().all()


def test_copies_are_dropped_negatives_kept(video_run):
    _, base, _ = video_run
    m = read_run(base / "out")[0].set_index("item_id")
    versions_of_a = {"a.mp4", *COPIES_OF_A}
    keeper = m.loc[sorted(versions_of_a)].query("action == 'keep'").index.tolist()
    assert len(keeper) == 1 and keeper[0] != "copies/a_excerpt.mp4"  # the longest versions are kept first
    for item in versions_of_a - set(keeper):
        assert m.at[item, "action"] == "drop" and m.at[item, "keeper_id"] == keeper[0], item
        assert m.at[item, "matched_by"] in ("video_frames", "exact"), item
    assert m.at["b_fast.mp4", "action"] == "drop" and m.at["b_fast.mp4", "keeper_id"] == "b.mp4"
    for item in NEGATIVES:
        assert m.at[item, "action"] == "keep" and m.at[item, "reason"] == "unique", item
    errors = m[m["action"] == "error"]["reason"].to_dict()
    assert errors == ERRORS


def test_pairs_carry_the_aligned_segment(video_run):
    _, base, _ = video_run
    manifest, pairs, _, summary = read_run(base / "out")
    duration = _durations(manifest)
    assert (pairs["item_a"] < pairs["item_b"]).all()
    video = pairs[pairs["stage"] == "video_frames"]
    assert len(video) and video[["start_a", "end_a", "start_b", "end_b", "coverage_a", "coverage_b",
                                 "time_scale"]].notna().all().all()
    for p in video.itertuples():  # a and b name item_a and item_b, whatever order their contents had
        assert p.coverage_a == pytest.approx(min(1.0, (p.end_a - p.start_a) / duration[p.item_a]), abs=1e-6)
        assert p.coverage_b == pytest.approx(min(1.0, (p.end_b - p.start_b) / duration[p.item_b]), abs=1e-6)
        assert p.end_a <= duration[p.item_a] + 1e-6 and p.end_b <= duration[p.item_b] + 1e-6
        assert p.is_duplicate == (p.similarity >= 0.6 and max(p.coverage_a, p.coverage_b) >= 0.8)
    pair = lambda x, y: video[(video["item_a"] == min(x, y)) & (video["item_b"] == max(x, y))].iloc[0]  # noqa: E731
    excerpt = pair("a.mp4", "copies/a_excerpt.mp4")  # a.mp4 < copies/...: a is the original
    assert excerpt.start_a == pytest.approx(1.0, abs=0.5) and excerpt.coverage_b >= 0.9
    assert 0.5 <= excerpt.coverage_a <= 0.8 and excerpt.time_scale == pytest.approx(1.0, abs=0.05)
    fast = pair("b.mp4", "b_fast.mp4")  # t_fast = t_b / 1.5
    assert fast.time_scale == pytest.approx(1 / 1.5, rel=0.1) and fast.is_duplicate
    reversed_ = video[(video["item_b"] == "neg/reversed.mp4") | (video["item_a"] == "neg/reversed.mp4")]
    assert not reversed_["is_duplicate"].any()  # one shot lines up at most
    assert (reversed_[["coverage_a", "coverage_b"]].max(axis=1) <= 0.5 + 1e-6).all()  # 1 shot of 3 (of the excerpt: 2 s of 4)
    assert pairs[pairs["stage"] == "exact"][["start_a", "coverage_a", "time_scale"]].isna().all().all()
    assert summary["stages"]["duplicate_pairs"]["video_frames"] == int(video["is_duplicate"].sum())


def test_rerun_takes_features_from_the_cache(video_run):
    _, base, args = video_run
    assert main([*args, "--output", str(base / "again"), "--run-id", "v2"]) == 0
    first, second = read_run(base / "out"), read_run(base / "again")
    assert second[3]["stages"]["contents_decoded"] == 0
    stages = first[3]["stages"]  # failed decodes are cached too (they are not transient)
    assert second[3]["stages"]["contents_from_cache"] == stages["contents_decoded"] + stages["decode_errors"] > 0
    cols = ["item_id", "action", "reason", "keeper_id", "matched_by"]
    assert first[0][cols].equals(second[0][cols])


def test_duckdb_reads_the_new_columns(video_run):
    _, base, _ = video_run
    con = duckdb.connect()
    out = base / "out"
    row = con.execute(f"""SELECT time_scale, coverage_b FROM read_parquet('{out}/pairs/*.parquet')
                          WHERE item_a = 'b.mp4' AND item_b = 'b_fast.mp4'""").fetchone()
    assert row[0] == pytest.approx(1 / 1.5, rel=0.1) and row[1] >= 0.8
    got = con.execute(f"""SELECT duration_s, frames_sampled FROM read_parquet('{out}/manifest/*/*.parquet',
                          hive_partitioning = true) WHERE item_id = 'b_fast.mp4'""").fetchone()
    assert got[0] == pytest.approx(4.0, abs=0.1) and got[1] == 8


def test_table_input_with_a_video_column(video_run, tmp_path):
    root, base, _ = video_run
    rows = [{"id": "orig", "video": str(root / "a.mp4")}, {"id": "half", "video": str(root / "copies/a_half.mp4")},
            {"id": "gone", "video": str(root / "missing.mp4")}, {"id": "none", "video": None},
            {"id": "orig", "video": str(root / "b.mp4")}]
    table = tmp_path / "videos.jsonl"
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    assert main(["run", "--kind", "video", "--input", str(table), "--output", str(out),
                 "--set", f"cache.dir={base / 'cache'}"]) == 0
    m = read_run(out)[0].set_index("item_id")
    assert len(m) == len(rows)
    assert m.loc["half", ["action", "keeper_id"]].tolist() == ["drop", "orig"]
    assert m.loc[["gone", "none", "orig#2"], "reason"].tolist() == ["not_found", "missing_path", "duplicate_id"]


def test_excerpts_report_keeps_an_excerpt(spark):
    from jobs.candidates import decide
    from jobs.config import EmbeddingConfig, PhashConfig, VideoConfig

    rows = [("x", "y", "video_frames", 0.9, 2, None, None, 0.0, 4.0, 1.0, 5.0, 0.67, 1.0, 1.0),
            ("x", "z", "video_frames", 0.9, 2, None, None, 0.0, 6.0, 0.0, 6.0, 1.0, 1.0, 1.0),
            ("y", "z", "video_frames", 0.5, 2, None, None, 0.0, 6.0, 0.0, 6.0, 1.0, 1.0, 1.0)]
    df = spark.createDataFrame(rows, "sha_a string, sha_b string, stage string, similarity double, hamming int, "
                                     "verify_score double, sparse boolean, start_a double, end_a double, "
                                     "start_b double, end_b double, coverage_a double, coverage_b double, "
                                     "time_scale double")
    dup = lambda cfg: [r["is_duplicate"] for r in decide(df, PhashConfig(), EmbeddingConfig(),  # noqa: E731
                                                         video=cfg).orderBy("sha_a", "sha_b").collect()]
    assert dup(VideoConfig()) == [True, True, False]
    assert dup(VideoConfig(excerpts="report")) == [False, True, False]


def test_report_shows_aligned_keyframe_strips(video_run, tmp_path):
    from jobs.report import write_report
    from jobs.video_report import STRIP_FRAMES

    _, base, _ = video_run
    page = Path(write_report(base / "out", tmp_path / "report.html")).read_text()
    assert "<h2>Video pairs</h2>" in page and "<h2>Clusters</h2>" not in page
    section = page[page.index("<h2>Video pairs</h2>"):]
    assert section.count('class="vd-pair"') >= 2
    assert section.count("data:image/png;base64,") >= 2 * 2 * STRIP_FRAMES  # both strips of two pairs decoded
    assert "time scale" in section and "no frame" not in section


def test_precomputed_frame_signatures(video_run, tmp_path):
    """A table of per-video frame hashes instead of files: nothing is decoded, the same stages run."""
    from udfs.video import video_features

    root, _, _ = video_run

    def signature(name: str, full: bool = True) -> dict:
        f = video_features((root / name).read_bytes())
        row = {"frame_hashes": f.hashes.tolist()}
        if full:
            row.update(frame_times=f.times.tolist(), flip_hashes=f.flips.tolist(), crop_hashes=f.crops.tolist(),
                       centre_hashes=f.centres.tolist(), informative=f.informative.tolist(), duration_s=f.duration_s)
        return row

    rows = [{"id": "a", **signature("a.mp4")}, {"id": "a-half", **signature("copies/a_half.mp4", full=False)},
            {"id": "a-mirror", **signature("copies/a_mirror.mp4")}, {"id": "b", **signature("b.mp4")},
            {"id": "bad", "frame_hashes": [1, 2, 3], "frame_times": [0.0, 0.5]}, {"id": "none", "frame_hashes": None}]
    table = tmp_path / "signatures.jsonl"
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    assert main(["run", "--kind", "video", "--input", str(table), "--output", str(out)]) == 0
    m, pairs, _, summary = read_run(out)
    m = m.set_index("item_id")
    assert len(m) == len(rows) and summary["stages"]["read_errors"] == 0
    assert m.loc["a-half", ["action", "keeper_id"]].tolist() == ["drop", "a"]  # times and flags defaulted
    assert m.loc["a-mirror", ["action", "keeper_id"]].tolist() == ["drop", "a"]  # through the flip hashes
    assert m.at["b", "action"] == "keep" and m.at["a", "duration_s"] == pytest.approx(6.0, abs=0.1)
    assert m.loc[["bad", "none"], "reason"].tolist() == ["bad_signature", "missing_signature"]
