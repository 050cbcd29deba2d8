"""The audio harness' truth (bench/audio_corpus.same_recordings): originals that share material by waveform
(one cut out of, or continued from, the other) are one recording; unrelated originals never are."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from bench import audio_corpus as C

R = 16000


def _sound(seed: int, seconds: float) -> np.ndarray:
    """Noise bursts under a wandering tone: broadband, like an effect."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * R)) / R
    f0, phase = rng.uniform(200, 800), rng.uniform(0, 2 * np.pi)
    tone = np.sin(2 * np.pi * np.cumsum(f0 + 200 * rng.random(t.size).cumsum() / t.size) / R)
    bursts = np.sin(2 * np.pi * rng.uniform(2, 4) * t + phase) > 0
    return (0.3 * tone + 0.2 * rng.standard_normal(t.size) * bursts).astype(np.float32)


def test_shared_seconds_finds_a_cut_and_its_offset():
    x = C.mono_at(_sound(0, 10.0)[None], R)
    cut = C.mono_at(0.5 * _sound(0, 10.0)[None, 3 * R: 8 * R], R)  # 5 s cut from 3 s, quieter
    secs, offset = C.shared_seconds(cut, x)
    assert secs >= 4.5 and offset == 3.0
    assert C.shared_seconds(C.mono_at(_sound(1, 10.0)[None], R), x)[0] == 0.0  # unrelated: not one window


def test_same_recordings_joins_variants_and_keeps_groups(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    long = _sound(0, 12.0)
    variant = np.concatenate([long[: 3 * R], _sound(2, 5.0)])  # the same 3 s opening, then another ending
    sounds = {"a": long, "b": variant, "c": _sound(3, 8.0)}
    rows = []
    for gid, x in sounds.items():
        C.write_audio(files / f"{gid}.flac", x[None], R)
        rows.append(dict(id=gid, path=f"files/{gid}.flac", group=gid, edit="original", duration_s=len(x) / R))
        rows.append(dict(id=f"{gid}-trim", path="", group=gid, edit="trim", duration_s=1.0))
    C.write_audio(files / "a-neg_other_section.flac", _sound(6, 6.0)[None], R)  # repeats nothing of a
    rows.append(dict(id="a-neg_other_section", path="files/a-neg_other_section.flac", group="a-neg_other_section",
                     edit="neg_other_section", duration_s=6.0))
    out, found = C.same_recordings(rows, tmp_path)
    assert [(f["a"], f["b"]) for f in found] == [("a", "b")] and found[0]["shared_s"] >= 2.5
    assert {r["id"]: r["recording"] for r in out} == {"a": "a", "a-trim": "a", "b": "a", "b-trim": "a", "c": "c",
                                                     "c-trim": "c", "a-neg_other_section": "a-neg_other_section"}
    assert [r["group"] for r in out] == [r["group"] for r in rows]  # the groups (own originals) stay
    C.write_truth(tmp_path / "truth.csv", out)
    with open(tmp_path / "truth.csv") as fh:
        back = list(csv.DictReader(fh))
    from bench import audio_probe as P

    index = {r["id"]: i for i, r in enumerate(back)}
    cross, own, other = (index["a-trim"], index["b-trim"]), (index["a"], index["a-trim"]), (index["a"], index["c"])
    try:
        truth = P.truth_pairs(back)  # default: a pair of two sharing originals is neither true nor false
        assert own in truth and cross not in truth and other not in truth and P.ignored(back, *cross)
        assert P.score(back, {cross, own}, truth)["precision"] == 1.0
        P.TRUTH_KEY = "recording-all"
        assert cross in P.truth_pairs(back) and not P.ignored(back, *cross)
        P.TRUTH_KEY = "group"  # the truth before the column: a false pair
        assert cross not in P.truth_pairs(back) and P.score(back, {cross, own}, P.truth_pairs(back))["precision"] == 0.5
    finally:
        P.TRUTH_KEY = "recording"


def test_an_other_section_that_repeats_its_original_takes_its_recording(tmp_path):
    """A looping track's other section can repeat the original's waveform: it takes the original's
    `recording` (its group stays its own), so pairs of it and the original's files are ignored by default;
    an other section that repeats nothing, and the synthetic negatives, keep their own."""
    files = tmp_path / "files"
    files.mkdir()
    orig = _sound(0, 12.0)
    sounds = {"m1": orig, "m1-neg_other_section": np.concatenate([_sound(7, 4.0), orig[5 * R: 8 * R], _sound(8, 3.0)]),
              "m2": _sound(9, 10.0), "m2-neg_other_section": _sound(10, 8.0)}
    rows = []
    for fid, x in sounds.items():
        C.write_audio(files / f"{fid}.flac", x[None], R)
        neg = fid.endswith("-neg_other_section")
        rows.append(dict(id=fid, path=f"files/{fid}.flac", group=fid, package="pkg",
                         edit="neg_other_section" if neg else "original", duration_s=len(x) / R))
        if not neg:
            rows.append(dict(id=f"{fid}-trim", path="", group=fid, package="pkg", edit="trim", duration_s=1.0))
    rows.append(dict(id="neg_silence-5s", path="", group="neg_silence-5s", package="synthetic", edit="neg_silence",
                     duration_s=5.0))  # synthetic: never read
    out, found = C.same_recordings(rows, tmp_path)
    assert [(f["a"], f["b"], f.get("negative")) for f in found] == [("m1", "m1-neg_other_section", True)]
    assert 2.5 <= found[0]["shared_s"] <= 3.5 and found[0]["offset_s"] == 1.0  # 3 s of m1 from 5 s, at 4 s
    assert {r["id"]: r["recording"] for r in out} == {
        "m1": "m1", "m1-trim": "m1", "m1-neg_other_section": "m1", "m2": "m2", "m2-trim": "m2",
        "m2-neg_other_section": "m2-neg_other_section", "neg_silence-5s": "neg_silence-5s"}
    assert [r["group"] for r in out] == [r["group"] for r in rows]  # still a negative for per-edit recall
    from bench import audio_probe as P

    index = {r["id"]: i for i, r in enumerate(out)}
    pair = (index["m1-trim"], index["m1-neg_other_section"])
    assert P.ignored(out, *pair) and pair not in P.truth_pairs(out)
    assert not P.ignored(out, index["m2-trim"], index["m2-neg_other_section"])


# ---------------------------------------------------------------------------- parts (blind2, ..., blind5)

def test_parts_are_split_by_package_and_blind2_to_blind5_are_kept_aside():
    packages = {p: {s.package for s in C.PARTS[p]} for p in C.PARTS}
    assert list(C.PARTS) == ["tune", "aside", "blind2", "blind3", "blind4", "blind5"]
    for a in C.PARTS:
        for b in C.PARTS:
            assert a == b or not packages[a] & packages[b], (a, b)
    folders = {p: {s.folder for s in C.PARTS[p]} for p in C.PARTS}
    assert not folders["blind3"] & (folders["tune"] | folders["aside"] | folders["blind2"])
    assert not folders["blind4"] & set().union(*(folders[p] for p in ("tune", "aside", "blind2", "blind3")))
    assert not folders["blind5"] & set().union(*(folders[p] for p in ("tune", "aside", "blind2", "blind3", "blind4")))
    for part in ("blind2", "blind3", "blind4", "blind5"):
        assert {s.kind for s in C.PARTS[part]} == {"music", "speech", "effects"}, part
    for part in ("blind4", "blind5"):
        assert len({s.package for s in C.PARTS[part] if s.kind == "music"}) >= 2, part
        assert len({s.package for s in C.PARTS[part] if s.kind == "effects"}) >= 2, part
    assert set(C.KEPT_ASIDE) == {"aside", "blind2", "blind3", "blind4", "blind5"}
    assert C.EARLIER_PARTS == {"blind2": ("tune", "aside"), "blind3": ("tune", "aside", "blind2"),
                               "blind4": ("tune", "aside", "blind2", "blind3"),
                               "blind5": ("tune", "aside", "blind2", "blind3", "blind4")}


@pytest.mark.parametrize("part", ["blind4", "blind5"])
def test_later_parts_packages_are_no_image_or_video_part_s_and_foreign_to_the_image_harness(part):
    """blind4 and blind5 take packages that no image or video part uses; the image harness lists them as
    foreign (their documents are no part's)."""
    from bench import broad_corpus as bc
    from bench import video_corpus as vc

    mine = {s.package for s in C.PARTS[part]}
    image = set(bc.PACKAGES) | {e for extras in bc.PACKAGE_EXTRAS.values() for e in extras}
    assert not mine & image
    assert not mine & set(vc.PACKAGE_PART)
    assert not mine & set((C.ROOT / "bench" / "harness-packages.sh").read_text().split())
    assert mine <= set(bc.FOREIGN_PACKAGES)


def test_blind5_takes_each_song_s_mix_not_its_guitar_stem(tmp_path):
    """A Frets on Fire song folder holds `song.ogg` and the `guitar.ogg` stem played with it: blind5's song
    sources list the former only (and no file of a folder of another package)."""
    for song in ("armygeddon", "chaos god"):
        for name in ("song.ogg", "guitar.ogg", "notes.mid", "label.png"):
            (tmp_path / song / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / song / name).write_bytes(b"x")
    songs = [s for s in C.PARTS["blind5"] if s.package.startswith("fretsonfire-songs-")]
    assert len(songs) == 2 and {s.kind for s in songs} == {"music"}
    for s in songs:
        listed = C.list_files(C.Source(s.package, s.kind, str(tmp_path), s.pattern, s.exclude, s.recursive))
        assert sorted(str(p.relative_to(tmp_path)) for p in listed) == ["armygeddon/song.ogg", "chaos god/song.ogg"]


def test_tune_and_aside_sources_are_as_before_blind2():
    """Their draws depend only on their own sources (and the part's name): pinned here."""
    S = C.Source
    assert C.PARTS["tune"] == [
        S("wesnoth-1.16-music", "music", "/usr/share/games/wesnoth/1.16/data/core/music"),
        S("naev-data", "music", "/usr/share/naev/dat/snd/music"),
        S("naev-data", "effects", "/usr/share/naev/dat/snd/sounds"),
        S("lincity-ng-data", "music", "/usr/share/games/lincity-ng/music"),
        S("lincity-ng-data", "effects", "/usr/share/games/lincity-ng/sounds"),
        S("tuxpaint-stamps-default", "speech", "/usr/share/tuxpaint/stamps", "*_desc*.ogg"),
        S("tuxpaint-stamps-default", "effects", "/usr/share/tuxpaint/stamps", "*.ogg", "_desc"),
        S("sound-theme-freedesktop", "effects", "/usr/share/sounds/freedesktop")]
    assert C.PARTS["aside"] == [
        S("warzone2100-music", "music", "/usr/share/games/warzone2100/music"),
        S("wesnoth-1.16-data", "effects", "/usr/share/games/wesnoth/1.16/data/core/sounds"),
        S("pocketsphinx-testdata", "speech", "/usr/share/pocketsphinx/test/data"),
        S("oxygen-sounds", "effects", "/usr/share/sounds", "Oxygen-*")]
    assert all(s.recursive for p in ("tune", "aside") for s in C.PARTS[p])


def test_blind2_sources_are_as_before_blind3():
    """blind2's draws depend on its sources and its skip set (tune's and aside's files): pinned here."""
    S = C.Source
    assert C.PARTS["blind2"] == [
        S("supertux-data", "music", "/usr/share/games/supertux2/music", "*.ogg"),
        S("colobot-common-sounds", "music", "/usr/share/games/colobot/music", "*.ogg"),
        S("asterisk-core-sounds-en-wav", "speech", "/usr/share/asterisk/sounds/en_US_f_Allison", "*.wav",
          recursive=False),
        S("supertux-data", "effects", "/usr/share/games/supertux2/sounds"),
        S("extremetuxracer-data", "effects", "/usr/share/games/etr/sounds"),
        S("lomiri-sounds", "effects", "/usr/share/sounds/lomiri")]


def test_blind3_sources_are_as_before_blind4():
    """blind3's draws depend on its sources and its skip set (tune's, aside's and blind2's files): pinned here."""
    S = C.Source
    assert C.PARTS["blind3"] == [
        S("marsshooter-data", "music", "/usr/share/games/marsshooter/audio/music", "*.ogg"),
        S("flare-game", "music", "/usr/share/games/flare/mods/fantasycore/music", "*.ogg"),
        S("asterisk-core-sounds-fr-wav", "speech", "/usr/share/asterisk/sounds/fr_CA_f_June", "*.wav",
          recursive=False),
        S("btanks-data", "effects", "/usr/share/games/btanks/data/sounds"),
        S("flare-game", "effects", "/usr/share/games/flare/mods/fantasycore/soundfx"),
        S("deepin-sound-theme", "effects", "/usr/share/sounds/deepin/stereo")]


def test_blind4_sources_are_as_before_blind5():
    """blind4's draws depend on its sources and its skip set (tune's, aside's, blind2's and blind3's files):
    pinned here."""
    S = C.Source
    assert C.PARTS["blind4"] == [
        S("singularity-music", "music", "/usr/share/games/singularity/music", "*.ogg"),
        S("drascula-music", "music", "/usr/share/scummvm/drascula/audio", "*.ogg"),
        S("asterisk-core-sounds-it-wav", "speech", "/usr/share/asterisk/sounds/it_IT_m_Carlo", "*.wav",
          recursive=False),
        S("hyperrogue-music", "effects", "/usr/share/hyperrogue/sounds"),
        S("heroes-sound-effects", "effects", "/usr/share/games/heroes/sfx"),
        S("yaru-theme-sound", "effects", "/usr/share/sounds/Yaru/stereo")]


def test_list_files_recursive_or_top_folder_only(tmp_path):
    for name in ("a.wav", "b.ogg", "notes.txt", "c_desc.ogg", "digits/1.wav", "sub/deep/d.flac"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    names = lambda src: sorted(p.relative_to(tmp_path).as_posix() for p in C.list_files(src))
    assert names(C.Source("p", "effects", str(tmp_path))) == ["a.wav", "b.ogg", "c_desc.ogg", "digits/1.wav",
                                                               "sub/deep/d.flac"]
    assert names(C.Source("p", "speech", str(tmp_path), "*.wav", recursive=False)) == ["a.wav"]
    assert names(C.Source("p", "effects", str(tmp_path), "*.ogg", "_desc", recursive=False)) == ["b.ogg"]
    # the seeded order depends on the package and the file name only
    src = C.Source("p", "effects", str(tmp_path))
    assert C.list_files(src) == C.list_files(C.Source("p", "music", str(tmp_path)))


def test_a_later_part_skips_byte_copies_of_earlier_parts_files(tmp_path, monkeypatch):
    early, late, later, fourth = tmp_path / "early", tmp_path / "late", tmp_path / "later", tmp_path / "fourth"
    for folder, files in ((early, {"mill.wav": b"same bytes", "other.wav": b"early only"}),
                          (late, {"saw.wav": b"same bytes", "new.wav": b"late only", "top.txt": b"late only"}),
                          (later, {"b3.wav": b"blind3 only"}), (fourth, {"b4.ogg": b"blind4 only"})):
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
    monkeypatch.setitem(C.PARTS, "tune", [C.Source("early-pkg", "effects", str(early))])
    monkeypatch.setitem(C.PARTS, "aside", [])
    monkeypatch.setitem(C.PARTS, "blind2", [C.Source("late-pkg", "effects", str(late))])
    monkeypatch.setitem(C.PARTS, "blind3", [C.Source("later-pkg", "effects", str(later))])
    monkeypatch.setitem(C.PARTS, "blind4", [C.Source("fourth-pkg", "effects", str(fourth))])
    monkeypatch.setitem(C.PARTS, "blind5", [])
    skip = C.earlier_hashes("blind2")
    assert skip == {C.file_sha256(early / "mill.wav"), C.file_sha256(early / "other.wav")}
    assert C.earlier_hashes("tune") == set() and C.earlier_hashes("aside") == set()
    # blind3 also passes over blind2's files, blind4 over blind3's too, blind5 over blind4's too
    assert C.earlier_hashes("blind3") == skip | {C.file_sha256(late / n) for n in ("saw.wav", "new.wav")}
    assert C.earlier_hashes("blind4") == C.earlier_hashes("blind3") | {C.file_sha256(later / "b3.wav")}
    assert C.earlier_hashes("blind5") == C.earlier_hashes("blind4") | {C.file_sha256(fourth / "b4.ogg")}
    monkeypatch.setattr(C, "read_audio", lambda p: (np.full((1, 4 * R), 0.1, np.float32), R))
    chosen, spare = C.pick(C.PARTS["blind2"][0], 5, 2.5, skip)
    assert [p.name for p, _, _ in chosen] == ["new.wav"] and spare == []
    assert sorted(p.name for p, _, _ in C.pick(C.PARTS["blind2"][0], 5, 2.5)[0]) == ["new.wav", "saw.wav"]


def test_earlier_shared_finds_a_recording_of_an_earlier_part(tmp_path):
    def part(name: str, sounds: dict) -> list[dict]:
        (tmp_path / name / "files").mkdir(parents=True)
        rows = []
        for gid, x in sounds.items():
            C.write_audio(tmp_path / name / "files" / f"{gid}.flac", x[None], R)
            rows.append(dict(id=gid, path=f"files/{gid}.flac", group=gid, edit="original", duration_s=len(x) / R,
                             recording=gid))
            rows.append(dict(id=f"{gid}-trim", path="files/none.flac", group=gid, edit="trim", duration_s=1.0,
                             recording=gid))  # not an original: never read
        return rows

    tune = part("tune", {"t1": _sound(0, 10.0), "t2": _sound(4, 6.0)})
    C.write_truth(tmp_path / "tune" / "truth.csv", tune)
    later = part("later", {"n1": _sound(0, 10.0)[2 * R: 7 * R], "n2": _sound(5, 8.0)})  # n1: 5 s of t1
    found = C.earlier_shared(later, tmp_path / "later", {"tune": tmp_path / "tune"})
    assert [(f["a"], f["part"], f["b"]) for f in found] == [("n1", "tune", "t1")]
    assert found[0]["shared_s"] >= 4.5 and found[0]["offset_s"] == 2.0
    assert C.earlier_shared(later, tmp_path / "later", {}) == []


def test_write_split_keeps_the_parts_not_built(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "package_version", lambda pkg: f"v-{pkg}")
    old = {"split": {"tune": ["x"], "aside": ["y"]}, "versions": {"x": "1", "y": "2", "naev-data": "0.8"},
           "counts": {"music": 6, "speech": 10, "effects": 5}}
    (tmp_path / "split.json").write_text(json.dumps(old))
    doc = C.write_split(tmp_path, ["blind2"], {"music": 2, "speech": 3, "effects": 1})
    assert json.loads((tmp_path / "split.json").read_text()) == doc
    assert doc["split"] == {p: sorted({s.package for s in C.PARTS[p]}) for p in C.PARTS}
    assert doc["counts"] == old["counts"] and doc["counts_by_part"] == {"blind2": {"music": 2, "speech": 3,
                                                                                   "effects": 1}}
    assert doc["versions"]["naev-data"] == "0.8" and doc["versions"]["x"] == "1"  # tune's: as recorded
    assert all(doc["versions"][pkg] == f"v-{pkg}" for pkg in doc["split"]["blind2"])
    full = C.write_split(tmp_path, list(C.PARTS), {"music": 6, "speech": 10, "effects": 5})
    assert set(full["counts_by_part"]) == set(C.PARTS) and full["counts"] == old["counts"]


@pytest.mark.parametrize("part", ["blind2", "blind3", "blind4", "blind5"])
def test_build_refuses_a_part_whose_packages_are_missing(tmp_path, monkeypatch, part):
    monkeypatch.setitem(C.PARTS, part, [C.Source("no-such-package", "music", str(tmp_path / "absent"))])
    with pytest.raises(SystemExit, match="no-such-package"):
        C.main(["--part", part, "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()  # nothing written, the other parts untouched


@pytest.mark.parametrize("part,earlier", [("blind3", "blind2"), ("blind4", "blind2"), ("blind4", "blind3"),
                                          ("blind5", "blind2"), ("blind5", "blind3"), ("blind5", "blind4")])
def test_building_a_later_part_needs_the_earlier_parts_packages(tmp_path, monkeypatch, part, earlier):
    """blind3 skips byte copies of tune's, aside's and blind2's files, blind4 of blind3's too, blind5 of
    blind4's too: their packages must be there too."""
    monkeypatch.setitem(C.PARTS, part, [C.Source("here", "music", str(tmp_path))])
    monkeypatch.setitem(C.PARTS, earlier, [C.Source(f"{earlier}-pkg", "music", str(tmp_path / "absent"))])
    with pytest.raises(SystemExit, match=f"{earlier}-pkg"):
        C.main(["--part", part, "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("part", ["blind2", "blind3", "blind4", "blind5"])
def test_scorer_accepts_the_kept_aside_parts(tmp_path, part):
    """bench.audio --part PART parses (and stops here: no corpus in this empty folder; nothing is run)."""
    from bench import audio as A

    with pytest.raises(SystemExit, match="no corpus at"):
        A.main(["--part", part, "--corpus", str(tmp_path), "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as exc:
        A.main(["--part", "blind6", "--corpus", str(tmp_path)])
    assert exc.value.code == 2
