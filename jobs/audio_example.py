"""The built-in audio example corpus (`dedup example --kind audio`), synthesised with numpy, encoded with PyAV.

Each original is 20 s of music-like sound made from a seed: two voices of notes
(random pitch on a semitone grid, harmonics 1-4, decaying), and noise-burst
"drums". Planted copies (`planted.csv`: file, original, edit, as the other kinds'
examples): a byte-identical copy, MP3 64 kbit/s, AAC 96 kbit/s in M4A, Opus
32 kbit/s, resampled to 22,050 Hz, 6 dB quieter, low-passed at 3 kHz, white noise
at 15 dB SNR, a trim (without the first and last 2 s), 3 s of silence before it,
3% faster (time and pitch, as a resampled playback), an 8 s excerpt, and the
original with another piece mixed under it 10 dB quieter. Negatives that must
stay apart: two other pieces from the same generator (same instruments and
tempo), silence, a steady tone. Broken files: empty, truncated, a text file
named .mp3, a video without sound. Nothing is read from the machine: the
example runs wherever PyAV (whose wheels bundle FFmpeg) is installed.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

RATE = 22050
DURATION_S = 20.0
ORIGINALS = {"waltz": 1, "march": 2, "reel": 3}
LOOKALIKES = {"etude": 7, "nocturne": 8}  # other pieces of the same generator: must stay apart


def melody(seed: int, seconds: float = DURATION_S, rate: int = RATE) -> np.ndarray:
    """(n,) float32 in [-0.5, 0.5]: two voices of notes and noise bursts, seeded (a new spectral event
    every ~0.1 s)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate), np.float32)
    for low, high, base in ((0.08, 0.3, 220.0), (0.2, 0.6, 55.0)):
        pos = 0
        while pos < out.size:
            n = int(rng.uniform(low, high) * rate)
            t = np.arange(min(n, out.size - pos)) / rate
            f0 = base * 2 ** (rng.integers(0, 24) / 12)
            env = np.exp(-t * rng.uniform(2, 8))
            note = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 5)) * env
            if rng.random() < 0.3:
                note += rng.standard_normal(t.size) * np.exp(-t * 30) * 0.5
            out[pos: pos + t.size] += note.astype(np.float32)
            pos += t.size
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def write_audio(path: Path, x: np.ndarray, rate: int = RATE, codec: str = "flac", bit_rate: int = 0,
                out_rate: int | None = None) -> Path:
    """Mono float32 samples -> an audio file (container by the extension); PyAV converts to the
    encoder's sample format and rate (Opus: 48 kHz)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.clip(np.asarray(x, np.float32), -1, 1)[None, :]
    with av.open(str(path), "w") as c:
        rate_out = out_rate or (48000 if codec == "libopus" else rate)
        st = c.add_stream(codec, rate=rate_out, layout="mono")
        if bit_rate:
            st.bit_rate = bit_rate
        st.codec_context.open()
        res = av.AudioResampler(format=st.format.name, layout="mono", rate=rate_out,
                                frame_size=st.codec_context.frame_size or 4096)
        for i in range(0, x.shape[1], rate * 5):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, i: i + rate * 5]), format="fltp",
                                               layout="mono")
            frame.sample_rate = rate
            for f in res.resample(frame):
                c.mux(st.encode(f))
        for f in res.resample(None):
            c.mux(st.encode(f))
        c.mux(st.encode(None))
    return path


def speed_up(x: np.ndarray, factor: float) -> np.ndarray:
    """Played `factor` times faster (time and pitch scaled, as a resampled playback)."""
    n = int(x.size / factor)
    return np.interp(np.arange(n) * factor, np.arange(x.size), x).astype(np.float32)


def low_pass(x: np.ndarray, cutoff_hz: float, rate: int = RATE) -> np.ndarray:
    spec = np.fft.rfft(x)
    spec[np.fft.rfftfreq(x.size, 1 / rate) > cutoff_hz] = 0
    return np.fft.irfft(spec, n=x.size).astype(np.float32)


def with_noise(x: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(x.size).astype(np.float32)
    scale = np.sqrt(np.mean(x ** 2) / np.mean(noise ** 2)) * 10 ** (-snr_db / 20)
    return (x + noise * scale).astype(np.float32)


def edits(x: np.ndarray, seed: int) -> dict[str, tuple[str, np.ndarray, str, int]]:
    """edit -> (extension, samples, codec, bit rate) of each planted copy of `x` (not the exact copy)."""
    s = RATE
    under = melody(seed + 100)
    return {
        "mp3_64k": ("mp3", x, "libmp3lame", 64_000),
        "aac_96k": ("m4a", x, "aac", 96_000),
        "opus_32k": ("opus", x, "libopus", 32_000),
        "resample_22k": ("wav", x, "pcm_s16le", 0),  # written at 22,050 Hz from the 44,100 Hz original
        "gain_-6": ("flac", x * 10 ** (-6 / 20), "flac", 0),
        "lowpass_3k": ("flac", low_pass(x, 3000.0), "flac", 0),
        "noise_15db": ("flac", with_noise(x, 15.0, seed), "flac", 0),
        "trim": ("flac", x[2 * s: -2 * s], "flac", 0),
        "silence_pad": ("flac", np.concatenate([np.zeros(3 * s, np.float32), x]), "flac", 0),
        "tempo_+3%": ("flac", speed_up(x, 1.03), "flac", 0),
        "excerpt_8s": ("mp3", x[6 * s: 14 * s], "libmp3lame", 128_000),
        "mixed_under": ("flac", x + under * 10 ** (-10 / 20), "flac", 0),
    }


def build_audio_corpus(root: Path) -> Path:
    """Write the corpus under `root` and `root/planted.csv`; returns the csv's path."""
    rows = []
    for name, seed in ORIGINALS.items():
        x = melody(seed)
        original = write_audio(root / "originals" / f"{name}.flac", x, out_rate=2 * RATE)
        rows.append((f"originals/{name}.flac", name, "original"))
        (root / "copies").mkdir(parents=True, exist_ok=True)
        (root / "copies" / f"{name}__exact_copy.flac").write_bytes(original.read_bytes())
        rows.append((f"copies/{name}__exact_copy.flac", name, "exact_copy"))
        for edit, (ext, samples, codec, bit_rate) in edits(x, seed).items():
            file = f"copies/{name}__{edit}.{ext}"
            write_audio(root / file, samples, codec=codec, bit_rate=bit_rate)
            rows.append((file, name, edit))
    for name, seed in LOOKALIKES.items():
        write_audio(root / "negatives" / f"{name}.flac", melody(seed))
        rows.append((f"negatives/{name}.flac", "", "lookalike"))
    write_audio(root / "negatives/silence.flac", np.zeros(int(5 * RATE), np.float32))
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(int(5 * RATE)) / RATE)
    write_audio(root / "negatives/tone.flac", tone.astype(np.float32))
    rows += [(f"negatives/{f}", "", "lookalike") for f in ("silence.flac", "tone.flac")]
    write_broken(root / "broken", root / "originals" / f"{next(iter(ORIGINALS))}.flac")
    rows += [(f"broken/{f}", "", "corrupt") for f in BROKEN]
    planted = root / "planted.csv"
    with planted.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "original", "edit"])
        writer.writerows(rows)
    return planted


BROKEN = {"empty.wav": "empty_file", "truncated.flac": "truncated", "notes.mp3": "not_audio",
          "silent_video.m4a": "no_audio_stream"}


def write_broken(folder: Path, flac: Path) -> None:
    """The files of BROKEN: each must become an error row with that reason."""
    from jobs.video_example import WIDTH, HEIGHT, constant, write_clip

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "truncated.flac").write_bytes(flac.read_bytes()[:4000])
    (folder / "notes.mp3").write_text("not audio, just a text file named .mp3\n")
    write_clip(folder / "silent_video.m4a", constant(np.full((HEIGHT, WIDTH, 3), 90, np.uint8)), 1.0)
