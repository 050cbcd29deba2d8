"""Video corpus stores: an incremental run (`--kind video --corpus`) and `dedup query` on a video store."""
from __future__ import annotations

import json
import shutil

import pytest

from jobs import video_example as E
from jobs.dedup import main
from tests.helpers import read_run

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def store_runs(spark, tmp_path_factory):
    """Run 1: two originals into a new store. Run 2: an excerpt, a mirror and an unrelated clip."""
    clips = tmp_path_factory.mktemp("clips")
    a, b = E.panning_shots([11, 12, 13]), E.panning_shots([21, 22, 23])
    E.write_clip(clips / "a.mp4", a, 6.0)
    E.write_clip(clips / "b.mp4", b, 6.0)
    E.write_clip(clips / "a_excerpt.mp4", a, 4.0, start_s=1.0)
    E.write_clip(clips / "b_mirror.mp4", E.mirrored(b), 6.0)
    E.write_clip(clips / "other.mp4", E.panning_shots([31, 32, 33]), 6.0)
    first, second = clips / "first", clips / "second"
    first.mkdir(), second.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(clips / name, first / name)
    for name in ("a_excerpt.mp4", "b_mirror.mp4"):
        shutil.copy(clips / name, second / name)
    base = tmp_path_factory.mktemp("video-store")
    store = base / "store"
    for n, folder in enumerate((first, second), 1):
        assert main(["run", "--kind", "video", "--input", str(folder), "--output", str(base / f"out{n}"),
                     "--corpus", str(store), "--run-id", f"s{n}"]) == 0
    return clips, base, store


def test_incremental_run_compares_new_videos_with_the_store(store_runs):
    _, base, store = store_runs
    manifest, pairs, _, summary = read_run(base / "out2")
    m = manifest.set_index("item_id")
    assert sorted(m.index) == ["a_excerpt.mp4", "b_mirror.mp4"]  # this run's items only
    assert m.loc["a_excerpt.mp4", ["action", "keeper_id"]].tolist() == ["drop", "a.mp4"]
    assert m.loc["b_mirror.mp4", ["action", "keeper_id"]].tolist() == ["drop", "b.mp4"]
    assert summary["stages"]["contents_from_cache"] == 2  # the stored videos were not decoded again
    excerpt = pairs[(pairs["item_a"] == "a.mp4") & (pairs["item_b"] == "a_excerpt.mp4")].iloc[0]
    assert excerpt.coverage_b >= 0.9 and excerpt.start_a == pytest.approx(1.0, abs=0.5)
    state = (store / (store / "CURRENT").read_text().strip())
    assert json.loads((state / "kind.json").read_text())["kind"] == "video"


def test_query_a_video_store(store_runs, capsys):
    clips, _, store = store_runs
    (clips / "notes.mp4").write_text("not a video\n")
    files = [str(clips / "a_excerpt.mp4"), str(clips / "other.mp4"), str(clips / "notes.mp4")]
    assert main(["query", "--corpus", str(store), *files, "--json"]) == 3  # one file could not be read
    answers = {r["video"]: r for r in json.loads(capsys.readouterr().out)}
    excerpt = answers[files[0]]
    assert excerpt["duplicate"] and excerpt["matches"][0]["stage"] == "exact"
    aligned = [m for m in excerpt["matches"] if m["item_id"] == "a.mp4"][0]
    assert aligned["stage"] == "video_frames" and aligned["duplicate"]
    assert aligned["coverage_a"] >= 0.9 and aligned["start_b"] == pytest.approx(1.0, abs=0.5)  # a: the query
    assert answers[files[1]]["duplicate"] is False and answers[files[1]]["matches"] == []
    assert "not_a_video" in answers[files[2]]["error"]


def test_a_video_store_refuses_text_runs(store_runs, tmp_path, capsys):
    _, _, store = store_runs
    (tmp_path / "doc.txt").write_text("some words")
    assert main(["run", "--kind", "text", "--input", str(tmp_path), "--output", str(tmp_path / "out"),
                 "--corpus", str(store)]) == 2
    assert "is a corpus store of video items" in capsys.readouterr().err
