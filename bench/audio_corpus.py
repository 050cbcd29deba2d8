"""Audio match-quality corpus: real recordings from installed Debian packages, planted edits,
hard negatives, and parts kept aside (split by source package).

    apt-get install --no-install-recommends wesnoth-1.16-music wesnoth-1.16-data naev-data \\
        lincity-ng-data tuxpaint-stamps-default sound-theme-freedesktop warzone2100-music \\
        pocketsphinx-testdata oxygen-sounds libchromaprint-tools
    apt-get install --no-install-recommends supertux-data colobot-common-sounds \\
        asterisk-core-sounds-en-wav extremetuxracer-data lomiri-sounds        # blind2
    apt-get install --no-install-recommends marsshooter-data flare-game asterisk-core-sounds-fr-wav \\
        btanks-data deepin-sound-theme                                         # blind3
    apt-get install --no-install-recommends singularity-music drascula-music asterisk-core-sounds-it-wav \\
        hyperrogue-music heroes-sound-effects yaru-theme-sound                 # blind4
    apt-get install --no-install-recommends enigma-data fretsonfire-songs-muldjord fretsonfire-songs-sectoid \\
        asterisk-core-sounds-ru-wav sonic-pi-samples bzflag-data boswars-data  # blind5
    python -m bench.audio_corpus                 # out/audio/{tune,aside,blind2,blind3,blind4,blind5}/ + split.json
    python -m bench.audio_corpus --part blind5   # one part alone: the others' files are left as they are
    python -m bench.audio_corpus --part tune --music 4 --speech 6 --effects 3   # smaller

Parts (PARTS; KEPT_ASIDE are never tuned on): `tune` (the only part looked at while tuning), `aside`
(kept aside, run once blind, seen since), `blind2` (added after aside was seen: packages that no
earlier audio part uses; run once blind, seen since), `blind3` (added after blind2 was seen, the
same way; run once blind, seen since), `blind4` (added after blind3 was seen, the same way:
packages no earlier audio part and no image or video part uses; run once blind, seen since) and
`blind5` (added after blind4 was seen, the same way: packages no earlier audio part and no image
or video part uses; built with `--part blind5` and kept blind until the lead ran `python -m
bench.audio --part blind5` once, with a frozen configuration; seen since; bench/AUDIO_BLIND5.md).
A part added next is kept blind the same way: nobody listens to it, probes or tunes on it before
that one run.
Each part's draws are seeded by its name and its sources alone, so a part built alone is the same as
in a full build. A part in EARLIER_PARTS passes over any source file that is a byte copy of a file
listed by an earlier part's sources (earlier_hashes: supertux-data's `saw.wav` is lincity-ng-data's
`Mill1.wav`), so building it needs their packages installed too; after the build its originals are
also compared with the built originals of those parts (earlier_shared: the same test as for
`recording` below, every pair of one of its originals and one of theirs); the pairs found, expected
none, go to PART/earlier_parts.json and change nothing else.

Nothing is downloaded. Layout: out/audio/PART/files/ID.EXT and out/audio/PART/truth.csv with
columns id, path, group, kind, edit, package, source, offset_s, time_scale, duration_s, recording.
`group` is the original's id for the original and every copy of it; a hard negative is its own
group; `recording` joins the groups of originals that share material (below). Truth: t_original = time_scale * t_copy + offset_s (an excerpt starting 12 s into the
original has offset_s 12; a copy played 3% faster has time_scale 1.03; padding 2 s of silence
gives offset_s -2). split.json names the packages of each part; no package gives to both.

Originals (`kind`): `music` (game soundtracks: the first ORIGINAL_S seconds of a track),
`speech` (spoken stamp descriptions, test utterances), `effects` (game and desktop sounds of
at least MIN_EFFECT_S). Each is written as FLAC (lossless, peak -6 dBFS). Edits (`edit`):
mp3_64k, aac_96k, opus_32k (PyAV encoders), resample_22050_mono, gain_+6, gain_-6,
lowpass_3k, eq_tilt (+6 dB below 250 Hz, -9 dB above 3 kHz), noise_15db (white, SNR over
the whole clip), mix_under_-10db (an unrelated track of the same package, not otherwise in
the corpus and under no other copy, 10 dB below), trim (10% off the head and 5% off the tail, at most 3 s / 5 s),
pad_silence (2 s before, 3 s after), tempo_+3 (resampled 3% faster: pitch rises too),
excerpt (10-30 s cut out of a music original, with its offset).
Hard negatives (`edit` = neg_*): another section of the same track (neg_other_section, no
overlap in time with the original; a looping track may repeat the original's material there: see
`recording` below), quiet and near-silent clips (neg_near_silent: noise at -60 dBFS;
neg_silence: digital silence), tones (neg_tone: sines, neg_beeps: a beep train), and the
other originals of the same package (every original is a negative of every other group).

Same recording in two originals (`recording` column): a package can ship one sound several times, cut
to other lengths or continued differently (oxygen-sounds' `Sys-Log-In`, `-Log-In-Long`, `-Log-In-Short`
and `-Log-Out-Long` open with the same 2-4.5 s of waveform, then go on as different mixes). Under the
product's policy a recording whose material lies in another is its duplicate (`audio.excerpts:
duplicate`), so pairs of such originals must not count as false. Found by content after the files
are written (same_recordings; file names are not read): every two originals of a part, mono at
SHARED_RATE, are compared sample by sample at the best few time offsets of their cross-correlation;
they share material when at one offset at least SHARED_MIN_S of consecutive SHARED_WINDOW_S windows,
loud in both, correlate >= SHARED_CORR (none of the 861 pairs of tune originals reaches SHARED_MIN_S;
of aside's 325, the 5 of those four sounds do, and no other pair shares a single window). Sharing originals are joined transitively; `recording` is the id of the longest original of
the set (ties: the smaller id) for each of them, every copy keeping `group` (its own original: per-edit
recall and offsets are counted against it) and taking its original's `recording`; every other row
has recording == group. Scoring (bench/audio_probe.TRUTH_KEY): a pair of files of two originals of one
recording is ignored by default (they share a part, not all: a duplicate call is no error, a miss no
miss), or counted true (`recording-all`) or false (`group`, the truth before this column).
Nothing else of the build depends on it (no random draw, no file).

Other sections that repeat their track (same test, same threshold): a looping game track's other
section can repeat seconds of its original's exact waveform, and a copy of the original then rightly
matches it (found on 2026-12-07: tune's `01 - pronobozo - lincity` 20.5 s and `casualties_of_war`
3.0 s, aside's `track16` 6.0 s and `menu` 2.5 s, blind2's `music008` 11.5 s and `music012` 2.5 s, each
with its own track's original only). So each `neg_other_section` negative is
compared by shared_seconds with its own track's original and with every other original of its package;
when it shares >= SHARED_MIN_S with one, it takes that original's `recording` (its own track's original
first, else the one sharing the longest run, ties: the smaller id). Its `group` stays its own (it is
still no copy of anything: per-edit recall and the negatives' counts are as before), so under the
default truth a pair of it and a file of that recording is ignored, like two originals sharing
material; it joins no originals to each other. The synthetic negatives (silence, near-silence, tones,
beeps) are not compared. same_recordings.json lists the pairs found: originals' as {a, b, shared_s,
offset_s}, a negative's as {a: the original, b: the negative, ..., negative: true}.
`python -m bench.audio_corpus --retruth` recomputes the column (and the json) for a part already built.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "audio"
ORIGINAL_S = 90.0
OTHER_SECTION_AT = 120.0
MIN_EFFECT_S = 2.5
AUDIO_EXT = (".ogg", ".oga", ".wav", ".flac", ".mp3", ".opus", ".raw")
SHARED_RATE = 8000        # same_recordings: waveforms compared at this rate, mono
SHARED_WINDOW_S = 0.5     # ... in windows of this length
SHARED_CORR = 0.8         # ... a window is shared when it correlates >= this at the offset
SHARED_MIN_S = 2.0        # ... two originals share material with this many seconds of consecutive shared windows
SHARED_LAGS = 8           # ... offsets tried: the highest peaks of the cross-correlation, >= half a window apart


@dataclass(frozen=True)
class Source:
    package: str
    kind: str  # music | speech | effects
    folder: str
    pattern: str = "*"
    exclude: str = ""  # files whose name contains this are skipped
    recursive: bool = True  # False: only the files directly in `folder`, not in its subfolders


# the split is by package: everything a package gives goes to one part
PARTS = {
    "tune": [
        Source("wesnoth-1.16-music", "music", "/usr/share/games/wesnoth/1.16/data/core/music"),
        Source("naev-data", "music", "/usr/share/naev/dat/snd/music"),
        Source("naev-data", "effects", "/usr/share/naev/dat/snd/sounds"),
        Source("lincity-ng-data", "music", "/usr/share/games/lincity-ng/music"),
        Source("lincity-ng-data", "effects", "/usr/share/games/lincity-ng/sounds"),
        Source("tuxpaint-stamps-default", "speech", "/usr/share/tuxpaint/stamps", "*_desc*.ogg"),
        Source("tuxpaint-stamps-default", "effects", "/usr/share/tuxpaint/stamps", "*.ogg", "_desc"),
        Source("sound-theme-freedesktop", "effects", "/usr/share/sounds/freedesktop"),
    ],
    "aside": [
        Source("warzone2100-music", "music", "/usr/share/games/warzone2100/music"),
        Source("wesnoth-1.16-data", "effects", "/usr/share/games/wesnoth/1.16/data/core/sounds"),
        Source("pocketsphinx-testdata", "speech", "/usr/share/pocketsphinx/test/data"),
        Source("oxygen-sounds", "effects", "/usr/share/sounds", "Oxygen-*"),
    ],
    # added after aside was seen: packages no earlier audio part uses. The speech is a real voice
    # (Asterisk's English prompts, 8 kHz telephone recordings), only the sentence prompts of the top
    # folder (its subfolders hold single digits, letters and silences); extremetuxracer-data's sound
    # folder holds mostly sliding noises (by name), lomiri-sounds' phone ringtones and notifications
    "blind2": [
        Source("supertux-data", "music", "/usr/share/games/supertux2/music", "*.ogg"),
        Source("colobot-common-sounds", "music", "/usr/share/games/colobot/music", "*.ogg"),
        Source("asterisk-core-sounds-en-wav", "speech", "/usr/share/asterisk/sounds/en_US_f_Allison", "*.wav",
               recursive=False),
        Source("supertux-data", "effects", "/usr/share/games/supertux2/sounds"),
        Source("extremetuxracer-data", "effects", "/usr/share/games/etr/sounds"),
        Source("lomiri-sounds", "effects", "/usr/share/sounds/lomiri"),
    ],
    # added after blind2 was seen: packages no earlier audio part uses. M.A.R.S.'s and Flare's soundtracks;
    # the speech is Asterisk's French (Canadian) prompts, another speaker than blind2's, the sentence prompts
    # of the top folder only; Battle Tanks' and Flare's game sounds, Deepin's desktop sounds
    "blind3": [
        Source("marsshooter-data", "music", "/usr/share/games/marsshooter/audio/music", "*.ogg"),
        Source("flare-game", "music", "/usr/share/games/flare/mods/fantasycore/music", "*.ogg"),
        Source("asterisk-core-sounds-fr-wav", "speech", "/usr/share/asterisk/sounds/fr_CA_f_June", "*.wav",
               recursive=False),
        Source("btanks-data", "effects", "/usr/share/games/btanks/data/sounds"),
        Source("flare-game", "effects", "/usr/share/games/flare/mods/fantasycore/soundfx"),
        Source("deepin-sound-theme", "effects", "/usr/share/sounds/deepin/stereo"),
    ],
    # added after blind3 was seen: packages no earlier audio part and no image or video part uses. Endgame:
    # Singularity's soundtrack and Drascula's (its `audio` folder: the per-language folders beside it link to
    # the same tracks); the speech is Asterisk's Italian prompts, a male voice (it_IT_m_Carlo), the sentence
    # prompts of the top folder only; HyperRogue's game sounds, Heroes' 8-bit sounds, Yaru's desktop sounds
    "blind4": [
        Source("singularity-music", "music", "/usr/share/games/singularity/music", "*.ogg"),
        Source("drascula-music", "music", "/usr/share/scummvm/drascula/audio", "*.ogg"),
        Source("asterisk-core-sounds-it-wav", "speech", "/usr/share/asterisk/sounds/it_IT_m_Carlo", "*.wav",
               recursive=False),
        Source("hyperrogue-music", "effects", "/usr/share/hyperrogue/sounds"),
        Source("heroes-sound-effects", "effects", "/usr/share/games/heroes/sfx"),
        Source("yaru-theme-sound", "effects", "/usr/share/sounds/Yaru/stereo"),
    ],
    # added after blind4 was seen: packages no earlier audio part and no image or video part uses. Enigma's
    # soundtrack (its game and menu tracks) and the songs of two Frets on Fire song packages (each song's
    # `song.ogg`, not its `guitar.ogg` stem: the two are parts of one mix, not duplicates, and a stem would be
    # mixed under its own song); the speech is Asterisk's Russian prompts (ru_RU_f_IvrvoiceRU, a voice no
    # earlier part has), the sentence prompts of the top folder only; Sonic Pi's samples (ambiences, loops,
    # instruments, percussion), BZFlag's game sounds and Bos Wars' unit and building sounds (`sfx_*`: the
    # other files of its units folder are, by their names, announcements (ready, under attack, completed),
    # most of them exactly 10 s long)
    "blind5": [
        Source("enigma-data", "music", "/usr/share/games/enigma/music", "*.ogg"),
        Source("fretsonfire-songs-muldjord", "music", "/usr/share/games/fretsonfire/data/songs/muldjord",
               "song.ogg"),
        Source("fretsonfire-songs-sectoid", "music", "/usr/share/games/fretsonfire/data/songs/sectoid", "song.ogg"),
        Source("asterisk-core-sounds-ru-wav", "speech", "/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU", "*.wav",
               recursive=False),
        Source("sonic-pi-samples", "effects", "/usr/share/sonic-pi/samples"),
        Source("bzflag-data", "effects", "/usr/share/games/bzflag"),
        Source("boswars-data", "effects", "/usr/share/games/boswars/units", "sfx_*"),
    ],
}
KEPT_ASIDE = ("aside", "blind2", "blind3", "blind4", "blind5")  # never tuned on; each run once blind, seen since
# a part's originals are also compared with the originals of these parts (earlier_shared): a part added
# later should share no recording with the parts looked at before it; tune and aside check nothing
EARLIER_PARTS = {"blind2": ("tune", "aside"), "blind3": ("tune", "aside", "blind2"),
                 "blind4": ("tune", "aside", "blind2", "blind3"),
                 "blind5": ("tune", "aside", "blind2", "blind3", "blind4")}
EDITS = ("mp3_64k", "aac_96k", "opus_32k", "resample_22050_mono", "gain_+6", "gain_-6", "lowpass_3k",
         "eq_tilt", "noise_15db", "mix_under_-10db", "trim", "pad_silence", "tempo_+3", "excerpt")
ENCODE = {"mp3_64k": ("mp3", "libmp3lame", 64_000), "aac_96k": ("m4a", "aac", 96_000),
          "opus_32k": ("opus", "libopus", 32_000)}


def stable_rank(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


# ---------------------------------------------------------------------------- audio io

def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Any file -> ((channels, n) float32, rate). pocketsphinx .raw is 16 kHz s16le mono."""
    if path.suffix == ".raw":
        return (np.fromfile(path, "<i2").astype(np.float32) / 32768)[None, :], 16000
    import av

    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        layout = "stereo" if (s.codec_context.channels or 1) >= 2 else "mono"
        rate = s.codec_context.sample_rate
        res = av.AudioResampler(format="fltp", layout=layout, rate=rate, frame_size=65536)
        chunks = [o.to_ndarray() for f in c.decode(s) for o in res.resample(f)]
        chunks += [o.to_ndarray() for o in res.resample(None)]
    x = np.concatenate(chunks, axis=1) if chunks else np.zeros((1, 0), np.float32)
    return x.astype(np.float32), rate


def write_audio(path: Path, x: np.ndarray, rate: int, codec: str = "flac", bit_rate: int = 0,
                out_rate: int | None = None, mono: bool = False) -> None:
    """(channels, n) float32 -> a file; PyAV resamples to the encoder's format/rate/layout."""
    import av

    x = np.clip(np.asarray(x, np.float32), -1, 1)
    layout_in = "stereo" if x.shape[0] == 2 else "mono"
    with av.open(str(path), "w") as c:
        rate_out = out_rate or (48000 if codec == "libopus" else rate)
        st = c.add_stream(codec, rate=rate_out, layout="mono" if mono else layout_in)
        if bit_rate:
            st.bit_rate = bit_rate
        st.codec_context.open()
        res = av.AudioResampler(format=st.format.name, layout=st.layout.name, rate=rate_out,
                                frame_size=st.codec_context.frame_size or 4096)
        step = rate * 5
        for i in range(0, x.shape[1], step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, i: i + step]), format="fltp",
                                               layout=layout_in)
            frame.sample_rate = rate
            for f in res.resample(frame):
                c.mux(st.encode(f))
        for f in res.resample(None):
            c.mux(st.encode(f))
        c.mux(st.encode(None))


# ---------------------------------------------------------------------------- edits

def fft_gain(x: np.ndarray, rate: int, gain_db) -> np.ndarray:
    spec = np.fft.rfft(x, axis=1)
    freqs = np.fft.rfftfreq(x.shape[1], 1 / rate)
    return np.fft.irfft(spec * 10 ** (gain_db(freqs) / 20), n=x.shape[1], axis=1).astype(np.float32)


def speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Played `factor` times faster by resampling (time / factor, pitch * factor)."""
    n = int(x.shape[1] / factor)
    grid = np.arange(n) * factor
    return np.stack([np.interp(grid, np.arange(ch.size), ch) for ch in x]).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)


def apply_edit(edit: str, x: np.ndarray, rate: int, rng, under: np.ndarray | None):
    """-> (samples, offset_s, time_scale) in the truth convention t_orig = scale * t_copy + offset."""
    n = x.shape[1]
    if edit == "gain_+6":
        return x * 2.0, 0.0, 1.0
    if edit == "gain_-6":
        return x * 0.5, 0.0, 1.0
    if edit == "lowpass_3k":
        return fft_gain(x, rate, lambda f: np.where(f > 3000, -80.0, 0.0)), 0.0, 1.0
    if edit == "eq_tilt":
        return fft_gain(x, rate, lambda f: np.where(f < 250, 6.0, np.where(f > 3000, -9.0, 0.0))), 0.0, 1.0
    if edit == "noise_15db":
        noise = rng.standard_normal(x.shape).astype(np.float32)
        return x + noise * (rms(x) / rms(noise) / 10 ** 0.75), 0.0, 1.0
    if edit == "mix_under_-10db":
        u = np.resize(under, x.shape) if under.shape[0] == x.shape[0] else np.resize(under.mean(0), x.shape)
        return x + u * (rms(x) / rms(u) / 10 ** 0.5), 0.0, 1.0
    if edit == "trim":
        head, tail = min(int(0.10 * n), 3 * rate), min(int(0.05 * n), 5 * rate)
        return x[:, head: n - tail], head / rate, 1.0
    if edit == "pad_silence":
        z = lambda s: np.zeros((x.shape[0], int(s * rate)), np.float32)
        return np.concatenate([z(2.0), x, z(3.0)], axis=1), -2.0, 1.0
    if edit == "tempo_+3":
        return speed(x, 1.03), 0.0, 1.03
    if edit == "excerpt":
        length = rng.uniform(10, 30)
        start = rng.uniform(0, n / rate - length)
        return x[:, int(start * rate): int((start + length) * rate)], int(start * rate) / rate, 1.0
    raise ValueError(edit)


# ---------------------------------------------------------------------------- sources

def list_files(src: Source) -> list[Path]:
    folder = Path(src.folder)
    files = [p for p in (folder.rglob(src.pattern) if src.recursive else folder.glob(src.pattern))
             if p.suffix in AUDIO_EXT and p.is_file() and not (src.exclude and src.exclude in p.name)]
    return sorted(files, key=lambda p: stable_rank(f"{src.package}/{p.name}"))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def earlier_hashes(part: str) -> set[str]:
    """sha256 of every file that the sources of the parts before `part` (EARLIER_PARTS) list, chosen or
    not: a later part skips a source file that is a byte copy of one of them (packages do ship each
    other's sounds). Empty for tune and aside, whose draws are as they were before blind2."""
    return {file_sha256(f) for e in EARLIER_PARTS.get(part, ()) for s in PARTS[e] for f in list_files(s)}


def pick(src: Source, count: int, min_s: float, skip: frozenset | set = frozenset()) -> tuple[list, list]:
    """-> (originals [(path, x, rate)], as many spares [(path, x, rate)]) in the seeded order;
    a spare is the track mixed under one original's mix_under copy. A file whose sha256 is in
    `skip` (earlier_hashes) is passed over."""
    chosen, spare = [], []
    for p in list_files(src):
        if len(chosen) >= count and len(spare) >= count:
            break
        if skip and file_sha256(p) in skip:
            continue
        try:
            x, rate = read_audio(p)
        except Exception:  # an unreadable source file is skipped (counted in the report)
            continue
        dur = x.shape[1] / rate
        if dur < min_s or rms(x) < 1e-3:
            continue
        (chosen if len(chosen) < count else spare).append((p, x, rate))
    return chosen, spare


def package_version(package: str) -> str:
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                              text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


# ---------------------------------------------------------------------------- build

def build_part(part: str, counts: dict, out: Path) -> list[dict]:
    rows: list[dict] = []
    files = out / part / "files"
    files.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(stable_rank(part) % 2**32)
    skip = earlier_hashes(part)
    for src in PARTS[part]:
        min_s = {"music": 60.0, "speech": 2.0, "effects": MIN_EFFECT_S}[src.kind]
        chosen, spare = pick(src, counts[src.kind], min_s, skip)
        for k, (p, x, rate) in enumerate(chosen):  # each mix gets its own unrelated track
            under = spare[k][1] if k < len(spare) else None
            rows += write_group(src, p, x, rate, under, files, rng)
    rows += write_negatives(files, rng)
    return rows


def write_group(src: Source, path: Path, x: np.ndarray, rate: int, under, files: Path, rng) -> list[dict]:
    gid = f"{src.kind[:2]}-{stable_rank(src.package + '/' + str(path)) % 10**8:08d}"
    full = x
    x = x[:, : int(ORIGINAL_S * rate)]
    x = x * (0.5 / max(np.abs(x).max(), 1e-6))
    base = dict(group=gid, kind=src.kind, package=src.package, source=path.name)
    rows = [emit(files, gid, x, rate, dict(base, edit="original", offset_s=0.0, time_scale=1.0))]
    for edit in EDITS:
        if edit == "excerpt" and x.shape[1] / rate < 40:
            continue
        if edit == "mix_under_-10db" and under is None:
            continue
        fid = f"{gid}-{edit}"
        meta = dict(base, edit=edit)
        if edit in ENCODE:
            ext, codec, br = ENCODE[edit]
            rows.append(emit(files, fid, x, rate, dict(meta, offset_s=0.0, time_scale=1.0), ext, codec, br))
        elif edit == "resample_22050_mono":
            rows.append(emit(files, fid, x, rate, dict(meta, offset_s=0.0, time_scale=1.0),
                             out_rate=22050, mono=True))
        else:
            y, off, scale = apply_edit(edit, x, rate, rng, under)
            rows.append(emit(files, fid, y, rate, dict(meta, offset_s=off, time_scale=scale)))
    if full.shape[1] / rate >= OTHER_SECTION_AT + 30:  # another section of the same track
        sec = full[:, int(OTHER_SECTION_AT * rate): int((OTHER_SECTION_AT + 30) * rate)]
        sec = sec * (0.5 / max(np.abs(sec).max(), 1e-6))
        rows.append(emit(files, f"{gid}-neg_other_section", sec, rate,
                         dict(base, group=f"{gid}-neg_other_section", edit="neg_other_section",
                              offset_s=0.0, time_scale=1.0)))
    return rows


def write_negatives(files: Path, rng) -> list[dict]:
    rate, rows = 22050, []
    t = lambda s: np.arange(int(s * rate)) / rate
    clips = {
        "neg_silence-5s": np.zeros(int(5 * rate)), "neg_silence-30s": np.zeros(int(30 * rate)),
        "neg_near_silent-10s": rng.standard_normal(int(10 * rate)) * 1e-3,
        "neg_near_silent-20s": rng.standard_normal(int(20 * rate)) * 1e-3,
        "neg_tone-440-5s": 0.5 * np.sin(2 * np.pi * 440 * t(5)),
        "neg_tone-1000-10s": 0.5 * np.sin(2 * np.pi * 1000 * t(10)),
        "neg_tone-dtmf-5s": 0.25 * (np.sin(2 * np.pi * 697 * t(5)) + np.sin(2 * np.pi * 1209 * t(5))),
        "neg_beeps-1000-10s": 0.5 * np.sin(2 * np.pi * 1000 * t(10)) * (t(10) % 1.0 < 0.2),
        "neg_beeps-800-10s": 0.5 * np.sin(2 * np.pi * 800 * t(10)) * (t(10) % 0.5 < 0.1),
    }
    for name, x in clips.items():
        edit = name.split("-")[0]
        rows.append(emit(files, name, x[None, :].astype(np.float32), rate,
                         dict(group=name, kind="negative", package="synthetic", source="", edit=edit,
                              offset_s=0.0, time_scale=1.0)))
    return rows


def emit(files: Path, fid: str, x: np.ndarray, rate: int, meta: dict, ext: str = "flac",
         codec: str = "flac", bit_rate: int = 0, out_rate: int | None = None, mono: bool = False) -> dict:
    path = files / f"{fid}.{ext}"
    write_audio(path, x, rate, codec, bit_rate, out_rate, mono)
    return dict(id=fid, path=str(path.relative_to(files.parent)), **meta,
                duration_s=round(x.shape[1] / rate, 3))


# ---------------------------------------------------------------------------- same recording

def mono_at(x: np.ndarray, rate: int, out_rate: int = SHARED_RATE) -> np.ndarray:
    """(channels, n) -> mono float64 at out_rate, band-limited by cutting the spectrum (no aliasing)."""
    m = np.asarray(x, np.float64).mean(0)
    if rate == out_rate:
        return m
    n_out = int(round(m.size * out_rate / rate))
    spec = np.fft.rfft(m)
    keep = np.zeros(n_out // 2 + 1, complex)
    k = min(keep.size, spec.size)
    keep[:k] = spec[:k]
    return np.fft.irfft(keep, n_out) * (n_out / max(m.size, 1))


def shared_seconds(a: np.ndarray, b: np.ndarray, rate: int = SHARED_RATE) -> tuple[float, float]:
    """Two mono waveforms at `rate` -> (the longest run of shared material in seconds, its offset of the
    shorter in the longer, s). At each of the SHARED_LAGS best offsets of the full cross-correlation, the
    shorter is cut in SHARED_WINDOW_S windows; a window is shared when both are louder than -60 dBFS
    there and its Pearson correlation with the longer at that offset is >= SHARED_CORR; a run is
    consecutive shared windows. A transcode or gain change of the same samples correlates ~1, a
    re-mix of the same take 0.8-0.99, unrelated audio stays far below in any 0.5 s window."""
    if a.size > b.size:
        a, b = b, a
    w = int(SHARED_WINDOW_S * rate)
    if a.size < w:
        return 0.0, 0.0
    n = 1 << int(np.ceil(np.log2(a.size + b.size)))
    corr = np.abs(np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n))
    lags = np.r_[np.arange(b.size), np.arange(-(a.size - 1), 0)]
    corr = np.r_[corr[: b.size], corr[n - (a.size - 1):]]
    picked: list[int] = []
    for k in np.argsort(corr)[::-1]:
        if len(picked) >= SHARED_LAGS:
            break
        if all(abs(int(lags[k]) - p) >= w // 2 for p in picked):
            picked.append(int(lags[k]))
    best = (0.0, 0.0)
    for lag in picked:
        run = top = 0
        for s in range(0, a.size - w + 1, w):
            if s + lag < 0 or s + lag + w > b.size:
                run = 0
                continue
            x, y = a[s: s + w] - a[s: s + w].mean(), b[s + lag: s + lag + w] - b[s + lag: s + lag + w].mean()
            xx, yy = float(np.dot(x, x)), float(np.dot(y, y))
            loud = min(xx, yy) / w > 1e-6  # both above -60 dBFS (rms)
            run = run + 1 if loud and np.dot(x, y) >= SHARED_CORR * np.sqrt(xx * yy) else 0
            top = max(top, run)
        if top * SHARED_WINDOW_S > best[0]:
            best = (top * SHARED_WINDOW_S, lag / rate)
    return best


def same_recordings(rows: list[dict], part_dir: Path) -> tuple[list[dict], list[dict]]:
    """-> (rows with `recording` set, the sharing original pairs found). See the module docstring."""
    originals = [r for r in rows if r["edit"] == "original"]
    waves = {}
    for r in originals:
        x, rate = read_audio(part_dir / r["path"])
        waves[r["id"]] = mono_at(x, rate)
    parent = {r["id"]: r["id"] for r in originals}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    found = []
    for i, ra in enumerate(originals):
        for rb in originals[i + 1:]:
            secs, lag = shared_seconds(waves[ra["id"]], waves[rb["id"]])
            if secs >= SHARED_MIN_S:
                found.append(dict(a=ra["id"], b=rb["id"], shared_s=secs, offset_s=round(lag, 3)))
                parent[find(ra["id"])] = find(rb["id"])
    members: dict = {}
    for r in originals:
        members.setdefault(find(r["id"]), []).append(r)
    name = {}
    for group in members.values():  # the longest original names the recording (ties: the smaller id)
        head = min(group, key=lambda r: (-float(r["duration_s"]), r["id"]))["id"]
        name.update({r["group"]: head for r in group})
    # an other section of a track (its own group) that repeats an original of its package takes that
    # original's recording; it joins nothing (no two originals are joined through it)
    for r in rows:
        if r["edit"] != "neg_other_section":
            continue
        x, rate = read_audio(part_dir / r["path"])
        wave = mono_at(x, rate)
        own = r["id"].removesuffix("-neg_other_section")
        best = None
        for o in originals:
            if o.get("package") != r.get("package") and o["id"] != own:
                continue
            secs, lag = shared_seconds(wave, waves[o["id"]])
            if secs >= SHARED_MIN_S:
                found.append(dict(a=o["id"], b=r["id"], shared_s=secs, offset_s=round(lag, 3), negative=True))
                rank = (o["id"] != own, -secs, o["id"])  # its own track's original first, then the longest run
                best = min(best, rank) if best else rank
        if best:
            name[r["group"]] = name[best[2]]
    # every other negative (synthetic) keeps recording == group
    return [dict(r, recording=name.get(r["group"], r["group"])) for r in rows], found


def earlier_shared(rows: list[dict], part_dir: Path, earlier: dict[str, Path]) -> list[dict]:
    """Pairs of one original of this part (rows, under part_dir) and one original of an earlier part
    (name -> its built folder, truth.csv and files/) that share at least SHARED_MIN_S of material
    (shared_seconds, as for `recording`). Expected none: a later part should hold no recording of
    the parts seen before it. The caller leaves out an earlier part that is not built."""
    mine = [(r["id"], mono_at(*read_audio(part_dir / r["path"]))) for r in rows if r["edit"] == "original"]
    found = []
    for name, folder in earlier.items():
        with open(folder / "truth.csv") as fh:
            theirs = [r for r in csv.DictReader(fh) if r["edit"] == "original"]
        for r in theirs:
            wave = mono_at(*read_audio(folder / r["path"]))
            for fid, w in mine:
                secs, lag = shared_seconds(w, wave)
                if secs >= SHARED_MIN_S:
                    found.append(dict(a=fid, part=name, b=r["id"], shared_s=secs, offset_s=round(lag, 3)))
    return found


def write_truth(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def retruth(part_dir: Path) -> list[dict]:
    """Recompute `recording` of an already built part in place (its files and other columns unchanged)."""
    with open(part_dir / "truth.csv") as fh:
        rows = [{k: v for k, v in r.items() if k != "recording"} for r in csv.DictReader(fh)]
    rows, found = same_recordings(rows, part_dir)
    write_truth(part_dir / "truth.csv", rows)
    (part_dir / "same_recordings.json").write_text(json.dumps(found, indent=1) + "\n")
    return found


def report_shared(part: str, found: list[dict]) -> None:
    print(part, "originals sharing material:", [f for f in found if not f.get("negative")])
    print(part, "other sections repeating an original (take its recording):",
          [f for f in found if f.get("negative")])


def missing_sources(parts: list[str]) -> list[str]:
    """'package (folder)' of each source of these parts whose folder is not there (package not installed)."""
    return sorted({f"{s.package} ({s.folder})" for p in parts for s in PARTS[p] if not Path(s.folder).is_dir()})


def write_split(out: Path, parts: list[str], counts: dict) -> dict:
    """split.json: every part's packages (all of PARTS, pairwise disjoint), the versions and counts of
    the parts built now; a part not built now keeps what an earlier build recorded."""
    split = {p: sorted({s.package for s in PARTS[p]}) for p in PARTS}
    names = [pkg for p in split.values() for pkg in p]
    assert len(names) == len(set(names)), "a package gives to two parts"
    path = out / "split.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    versions = dict(old.get("versions", {}))
    versions.update({pkg: package_version(pkg) for p in parts for pkg in split[p]})
    by_part = dict(old.get("counts_by_part", {}))
    by_part.update({p: counts for p in parts})
    doc = {"split": split, "versions": versions,
           "counts": counts if set(parts) >= {"tune", "aside"} else old.get("counts", counts),
           "counts_by_part": by_part, "kept_aside": list(KEPT_ASIDE)}
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))
    return doc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=[*PARTS, "all"], default="all",
                    help="build (or --retruth) this part alone; the other parts' files are left as they are")
    ap.add_argument("--music", type=int, default=6, help="originals per music source")
    ap.add_argument("--speech", type=int, default=10, help="originals per speech source")
    ap.add_argument("--effects", type=int, default=5, help="originals per effects source")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--retruth", action="store_true",
                    help="only recompute the `recording` column of the built part(s) (no file written)")
    args = ap.parse_args(argv)
    parts = list(PARTS) if args.part == "all" else [args.part]
    if args.retruth:
        for part in parts:
            if args.part == "all" and not (args.out / part / "truth.csv").exists():
                print(part, "not built: skipped")
                continue
            report_shared(part, retruth(args.out / part))
        return 0
    missing = missing_sources(sorted({e for p in parts for e in (p, *EARLIER_PARTS.get(p, ()))}))
    if missing:
        raise SystemExit("not installed (see the module's apt-get lines): " + ", ".join(missing))
    counts = {"music": args.music, "speech": args.speech, "effects": args.effects}
    write_split(args.out, parts, counts)
    for part in parts:
        rows, found = same_recordings(build_part(part, counts, args.out), args.out / part)
        write_truth(args.out / part / "truth.csv", rows)
        (args.out / part / "same_recordings.json").write_text(json.dumps(found, indent=1) + "\n")
        report_shared(part, found)
        if part in EARLIER_PARTS:
            earlier = {e: args.out / e for e in EARLIER_PARTS[part] if (args.out / e / "truth.csv").exists()}
            skipped = [e for e in EARLIER_PARTS[part] if e not in earlier]
            shared = earlier_shared(rows, args.out / part, earlier)
            (args.out / part / "earlier_parts.json").write_text(json.dumps(
                {"checked": sorted(earlier), "not_built": skipped, "shared": shared}, indent=1) + "\n")
            print(part, "originals sharing material with", sorted(earlier), "(not built:", skipped, "):",
                  len(shared), "pairs")
        by_edit: dict = {}
        for r in rows:
            by_edit[r["edit"]] = by_edit.get(r["edit"], 0) + 1
        print(part, len(rows), "files,", round(sum(r["duration_s"] for r in rows) / 60, 1), "min;", by_edit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
