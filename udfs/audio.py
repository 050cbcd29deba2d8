"""Audio kernels: bytes/path -> mono samples at one analysis rate -> spectral-peak triplet hashes -> alignment.

Executor-side and Spark-free (PyAV for decoding, numpy for everything else). Conventions:

* `decode_audio` decodes the whole file (no 120 s cap), downmixes and resamples to
  `RATE` Hz with PyAV's resampler, and returns float32 samples in [-1, 1]. Failures raise
  `AudioError` (an `ItemError`) with a reason: `no_audio_stream`, `empty_audio`,
  `too_long` (over `max_duration_s`), `decode_timeout` (over `max_decode_s`),
  `decode_error` (not a media file, truncated, unsupported codec).
* Spectrogram: Hann frames of `N_FFT` samples every `HOP` samples (16 ms at 8 kHz),
  log magnitude, minus a per-bin mean over the loud frames within +-`BG_FRAMES` frames,
  which cancels gain, any static EQ, hum and steady tones. Frames whose loudest bin is
  below a full-scale sine at `SILENCE_DBFS` are silent (no peaks, not in the mean).
  Computed in blocks of `BLOCK_FRAMES` frames: memory does not grow with the duration.
* Peaks: local maxima of that whitened spectrogram in a (time x frequency) neighbourhood,
  at least `PEAK_DB` above the background and within `PEAK_RANGE_DB` of the frame's loudest
  bin (a tone's quantisation-noise floor holds no content), those with fewer than `PEAKS_PER_S` stronger
  peaks within +-0.5 s (a sliding window: the same peaks whatever the file's start);
  frequency refined by a parabola through the three bins (sub-bin, in Hz). "Stronger" is the rank:
  whitened strength minus `RANK_LEVEL` x the dB below the frame's loudest bin. Whitening alone
  puts the maxima of white noise in bins a sound leaves empty (~10 dB above their mean) on the
  scale of the sound's own peaks, and they took the per-second places of short clips with noise at
  15 dB or a track mixed 10 dB under (bench/RESULTS.md `## audio`, 2026-12-07); such maxima lie
  far below the frame's loudest bin, the sound's peaks near it.
* Hashes: triplets of peaks (anchor i, then j and k among the next `FAN` peaks, with
  t_i < t_j < t_k <= t_i + `ZONE_FRAMES`). A hash packs quantities that a time scaling
  or a pitch scaling leaves unchanged -- (t_j - t_i)/(t_k - t_i), log2(f_j/f_i),
  log2(f_k/f_i) -- with two coarse ones that a few percent move across a bin edge only
  now and then: the anchor's band (quarter octaves) and log2(t_k - t_i) (quarter steps).
  So a copy played 3% faster (resampled: time and pitch scaled) keeps most of its hashes.
  Hash = int64 (< 2^26), time = the anchor's time in seconds (float32); about 50 a second.
* Band onsets, for recordings of at most `ONSET_MAX_S` loud seconds (effects, prompts, jingles): per
  1/3-octave band, the rise of its power level over `ONSET_LAG` frames; a rise of `ONSET_DB` or more
  that is the largest within +-`ONSET_NEIGH_T` frames and +-1 band is a landmark (at most
  `ONSETS_PER_S` within +-0.5 s, by rise). Hashed as the peaks are (band centres as frequencies)
  and offset by `ONSET_SPACE`, they join the same vote and alignment. A noise-like sound (a splash,
  a slide, a gust) has no partials: its spectral peaks are maxima of noise, which a codec at a low
  bit rate replaces by its own noise of the same level, so few peaks survive; its band levels do.
  Tune part: effects recall 0.858 -> 0.959 with no false pair (bench/RESULTS.md ## audio, "band
  onsets"). Longer recordings have enough peaks, and loops of long music would add chance matches.
* `fingerprint` returns empty arrays for audio without enough information: less than
  `MIN_INFORMATIVE_S` seconds covered by peaks at least 3 to a second (`informative_s`), or fewer than
  `MIN_DISTINCT` distinct hashes (silence, DC, pure tones, clicks, clips too short to judge).
* `noise_floor` (and `fingerprint_and_floor`, from the same spectrogram pass): per analysed bin, its quiet
  level (10th percentile over the frames) below its loud level (90th), averaged over the bins, in 3 dB
  steps: <= 0, lower = cleaner. Frames holding digital silence do not count. A keep-order column
  (`noise_floor_db`): added noise raises it, a gain, an EQ or silence padding does not
  (bench/RESULTS.md ## audio, "the noise floor in the audio keep order"; part of the audio feature
  fingerprint since AUDIO_FEATURE_VERSION 4).
* `align(fp_a, fp_b)` votes on (time scale, offset) over all equal-hash pairs, refines by
  least squares on the inliers and returns the matched span. Convention:
  t_a = time_scale * t_b + offset_s (offset_s = where b's second 0 falls in a; a copy of a
  played 3% faster as b has time_scale ~1.03). `is_duplicate` is the one decision on it
  (`MIN_SCORE` aligned anchors, `MIN_COVERAGE` of one file), tuned on bench/audio_probe.
"""
from __future__ import annotations

import io
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from udfs.errors import ItemError

RATE = 8000  # analysis sample rate, Hz
N_FFT = 1024  # 128 ms window, 7.8 Hz bins
HOP = 128  # 16 ms
FRAME_S = HOP / RATE
F_LO, F_HI = 150.0, 3800.0  # analysed band, Hz
BG_FRAMES = 150  # +-2.4 s moving average per bin
SILENCE_DBFS = -60.0
PEAK_DB = 6.0
PEAK_RANGE_DB = 50.0  # peaks within this of their frame's loudest bin (a tone's noise floor is not content)
NEIGH_T, NEIGH_F = 7, 9  # half sizes of the local-maximum neighbourhood (frames, bins)
PEAKS_PER_S = 10
RANK_LEVEL = 2.0  # a peak's rank: whitened dB minus this times its dB below its frame's loudest bin (tune)
FAN = 4  # j, k among the next FAN peaks of the anchor
RT_BINS, RATIO_STEP, BAND_STEP, SPAN_STEP = 16, 12, 4, 4  # hash quantisation (see _quantise)
ZONE_FRAMES = 90  # t_k - t_i <= 1.44 s
MIN_INFORMATIVE_S = 0.75  # s covered by peaks 3 to a second (informative_s; tune and the seen aside, blind2, blind3)
MIN_DISTINCT = 30
BLOCK_FRAMES = 2048  # spectrogram computed in blocks: memory ~ (BLOCK + 2 * BG_FRAMES) x 513 float32
SCALES = tuple(np.round(np.arange(0.95, 1.0501, 0.01), 3))
MIN_SCORE = 6  # shipped default: distinct anchor times on the alignment line (bench/audio_probe, tune)
MIN_COVERAGE = 0.3  # ... and the matched span covers this share of at least one of the two files
MAX_PER_HASH = 16  # equal-hash pairs per hash value in align (repeated loops, drones)
AUDIBLE_STEP_S = 0.5  # audible_span's rounding: a fade or a noise floor over a tail does not rank copies
# noise floor (noise_floor): per analysed bin, the FLOOR_QUIET_PCT-th percentile of its level over the counted
# frames minus its FLOOR_LOUD_PCT-th, averaged over the bins, rounded to FLOOR_STEP_DB (bench/RESULTS.md
# ## audio, "the noise floor in the audio keep order")
FLOOR_QUIET_PCT, FLOOR_LOUD_PCT = 10, 90
FLOOR_RANGE_DB = 60.0  # counted frames: loudest bin within this of the recording's loud frames (their 99th pct)
FLOOR_ZERO_SAMPLES = 16  # ... and fewer exact-zero samples than this in the window (digital silence, padding)
FLOOR_MAX_FRAMES = 4096  # at most this many frames, evenly spaced, enter the percentiles (memory: ~8 MiB)
FLOOR_MIN_FRAMES = 8  # fewer counted frames: no floor (null)
FLOOR_STEP_DB = 3.0
# band onsets (_block_onsets): a second kind of landmark for short recordings, hashed like the peaks in their own namespace
ONSET_MAX_S = 30.0  # recordings with at most this many loud seconds get onset hashes (effects, prompts, jingles)
ONSET_BANDS_PER_OCTAVE = 3  # band energies in 1/3 octaves over F_LO..F_HI
ONSET_LAG = 2  # frames: a band's rise is its level minus its level ONSET_LAG frames (32 ms) before
ONSET_DB = 3.0  # a landmark rises by at least this many dB ...
ONSET_NEIGH_T = 6  # ... and is the largest rise within +-ONSET_NEIGH_T frames (~0.1 s) and +-1 band
ONSETS_PER_S = 8  # and has fewer than this many stronger landmarks within +-0.5 s
ONSET_SPACE = 1 << 26  # onset hashes = this + a triplet hash of onsets (peak hashes are < 2^26)
ONSET_SCAN_S = 120.0  # files longer than this (silence included) are not scanned for onsets (cost)

_LN_DB = 20.0 / np.log(10.0)


class AudioError(ItemError):
    """A file that cannot be fingerprinted; `reason` is one of the codes in the module docstring."""


class Decoded(NamedTuple):
    samples: np.ndarray  # (n,) float32 mono at `rate`
    rate: int
    duration_s: float
    source_rate: int
    channels: int
    codec: str
    bit_rate: int  # bits per second as the container reports it, 0 if unknown
    sample_bits: int = 0  # bits of the decoder's sample format (16 for s16, 32 for s32 and float), 0 if unknown


# ---------------------------------------------------------------------------- decode

def decode_audio(src: bytes | str | Path, rate: int = RATE, max_duration_s: float = 4 * 3600.0,
                 max_decode_s: float = 120.0) -> Decoded:
    """Whole file -> mono float32 at `rate`. Raises AudioError(reason, message)."""
    import av  # heavy import, once per worker

    t0 = time.monotonic()
    handle = io.BytesIO(src) if isinstance(src, (bytes, bytearray, memoryview)) else str(src)
    try:
        container = av.open(handle, mode="r")
    except Exception as exc:  # av.error.FFmpegError and friends: not a media file
        raise AudioError("decode_error", f"cannot open: {exc}") from None
    try:
        if not container.streams.audio:
            raise AudioError("no_audio_stream", "the file holds no audio stream")
        stream = container.streams.audio[0]
        if container.duration is not None and container.duration / 1e6 > max_duration_s:
            raise AudioError("too_long", f"{container.duration / 1e6:.0f} s > {max_duration_s:.0f} s")
        chunks = _decode_stream(container, stream, rate, max_duration_s, max_decode_s, t0)
        ctx = stream.codec_context
        info = (int(ctx.sample_rate or 0), int(ctx.channels or 0), ctx.name or "",
                int(stream.bit_rate or container.bit_rate or 0), int(ctx.format.bits if ctx.format else 0))
    finally:
        container.close()
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise AudioError("empty_audio", "no samples decoded")
    return Decoded(samples, rate, samples.size / rate, *info)


def audible_span(samples: np.ndarray, rate: int = RATE) -> float:
    """Seconds from the first to the last sample louder than SILENCE_DBFS, rounded to AUDIBLE_STEP_S
    (0 for silence): the duration without leading and trailing silence. Rounded so that copies whose
    edges a resampler, a noise floor or a fade moves a little tie (the keep order then prefers the copy
    with the most duplicate links, then the less padded one)."""
    x = np.asarray(samples, np.float32)
    loud = np.flatnonzero(np.abs(x) > 10 ** (SILENCE_DBFS / 20))
    if loud.size == 0:
        return 0.0
    return round(round((loud[-1] - loud[0] + 1) / rate / AUDIBLE_STEP_S) * AUDIBLE_STEP_S, 3)


def _decode_stream(container, stream, rate: int, max_duration_s: float, max_decode_s: float,
                   t0: float) -> list[np.ndarray]:
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate, frame_size=65536)
    chunks: list[np.ndarray] = []
    total = 0
    limit = int(max_duration_s * rate)
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
                total += chunks[-1].size
            if total > limit:
                raise AudioError("too_long", f"more than {max_duration_s:.0f} s of audio")
            if time.monotonic() - t0 > max_decode_s:
                raise AudioError("decode_timeout", f"decoding took over {max_decode_s:.0f} s")
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except Exception as exc:  # corrupt packets past the header
        if not chunks:
            raise AudioError("decode_error", f"cannot decode: {exc}") from None
        # a truncated tail: keep what decoded (the duration shows the loss)
    return chunks


# ---------------------------------------------------------------------------- peaks

def _running_max(x: np.ndarray, half: int, axis: int) -> np.ndarray:
    """Max over a centred window of 2*half+1 along `axis` (edges: over the part inside)."""
    x = np.moveaxis(x, axis, 0)
    pad = np.full((half,) + x.shape[1:], -np.inf, x.dtype)
    y = np.concatenate([pad, x, pad])
    out = y.copy()
    width = 1
    while width * 2 <= 2 * half + 1:  # out[i] = max(y[i : i + width]) by doubling
        out[:-width] = np.maximum(out[:-width], out[width:])
        width *= 2
    rest = 2 * half + 1 - width
    if rest:
        out[:-rest] = np.maximum(out[:-rest], out[rest:])  # two overlapping windows of `width`
    return np.moveaxis(out[: x.shape[0]], 0, axis)


def _spectrogram(x: np.ndarray) -> np.ndarray:
    """(n,) float32 -> (frames, bins) natural-log magnitude of the analysed band."""
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP]
    spec = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)[:, _BIN_LO:_BIN_HI])
    return np.log(spec + 1e-7, dtype=np.float32)


def _derive() -> None:
    """Constants derived from the parameters above (a benchmark sweep that changes them calls this)."""
    global _WINDOW, _BIN_LO, _BIN_HI, _SILENT, FRAME_S, _BAND_EDGES, _BAND_HZ
    FRAME_S = HOP / RATE
    _WINDOW = np.hanning(N_FFT).astype(np.float32)
    _BIN_LO, _BIN_HI = int(F_LO * N_FFT / RATE), int(F_HI * N_FFT / RATE) + 1
    edges_hz = F_LO * 2.0 ** (np.arange(int(np.log2(F_HI / F_LO) * ONSET_BANDS_PER_OCTAVE) + 1) / ONSET_BANDS_PER_OCTAVE)
    _BAND_EDGES = np.unique(np.clip(np.round(edges_hz * N_FFT / RATE).astype(np.int64) - _BIN_LO, 0, _BIN_HI - _BIN_LO))
    _BAND_HZ = np.sqrt(edges_hz[:-1] * edges_hz[1:]).astype(np.float32)[: _BAND_EDGES.size - 1]  # band centres
    _SILENT = np.log(10 ** (SILENCE_DBFS / 20) * _WINDOW.sum() / 2)  # a full-scale sine's peak: sum/2


_derive()


def _background(logmag: np.ndarray, loud: np.ndarray, step: int = 8) -> np.ndarray:
    """Per-bin mean over the loud frames within +-BG_FRAMES frames, computed on sums of `step`
    frames (it is smooth in time) and held constant within each step. Silent frames do not
    count, so silence padding or gaps do not change the peaks of the sound next to them."""
    n, m = logmag.shape
    groups = -(-n // step)
    vals = np.zeros((groups * step, m), np.float32)
    vals[:n] = np.where(loud[:, None], logmag, 0)
    cnt = np.zeros(groups * step, np.float64)
    cnt[:n] = loud
    sums = np.vstack([np.zeros((1, m)), np.cumsum(vals.reshape(groups, step, m).sum(1, dtype=np.float64), 0)])
    cnts = np.r_[0, np.cumsum(cnt.reshape(groups, step).sum(1))]
    half = BG_FRAMES // step
    idx = np.arange(groups)
    lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half + 1, groups)
    bg = ((sums[hi] - sums[lo]) / np.maximum(cnts[hi] - cnts[lo], 1)[:, None]).astype(np.float32)
    return np.repeat(bg, step, axis=0)[:n]


def _block_peaks(logmag: np.ndarray, core: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whitened local maxima in the frames of `core` -> (frame, bin float, rank dB).

    rank = the whitened strength minus RANK_LEVEL x the peak's level below its frame's loudest bin:
    whitening lifts every bin to one scale, so where the sound leaves bins empty, added noise or a
    quieter track mixed under makes maxima there as strong as the sound's own (module docstring)."""
    loud = logmag.max(axis=1) > _SILENT
    white = logmag - _background(logmag, loud)
    white[~loud] = -np.inf
    nmax = _running_max(_running_max(white, NEIGH_F, 1), NEIGH_T, 0)
    top = logmag.max(axis=1)
    is_peak = (white == nmax) & (white > PEAK_DB / _LN_DB) & (logmag > (top - PEAK_RANGE_DB / _LN_DB)[:, None])
    is_peak[:, 0] = is_peak[:, -1] = False
    is_peak[: core.start] = is_peak[core.stop:] = False
    t, f = np.nonzero(is_peak)
    a, b, c = white[t, f - 1], white[t, f], white[t, f + 1]
    a, c = np.maximum(a, b - 20), np.maximum(c, b - 20)  # -inf neighbours
    den = a - 2 * b + c
    delta = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1), 0.0)
    rank = (b - RANK_LEVEL * (top[t] - logmag[t, f])) * _LN_DB
    return t, f + _BIN_LO + np.clip(delta, -0.5, 0.5), rank


def peaks(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n,) float32 at RATE -> (frame int32, frequency Hz float32), sorted by frame then frequency.

    Blocked: memory is O(BLOCK_FRAMES + 2 BG_FRAMES) spectrogram rows whatever the duration."""
    t, f, _, _ = _analyse(samples)
    return t, f


def _analyse(samples: np.ndarray, onsets: bool = False) -> tuple[np.ndarray, np.ndarray, float | None, tuple | None]:
    """peaks(samples), noise_floor(samples) and, with `onsets`, the band onsets (frame, band centre Hz) of a
    recording of at most ONSET_MAX_S loud seconds (else None), from one pass over the spectrogram blocks."""
    raw = np.asarray(samples, np.float32)
    x = raw - raw.mean() if raw.size else raw
    n_frames = max(0, (x.size - N_FFT) // HOP + 1)
    ts, fs, ss = [], [], []
    margin = BG_FRAMES + NEIGH_T
    # the floor's frames: evenly spaced, and none holding a run of digital silence (counted before the mean is
    # taken off: padding is exact zeros in the decoded file)
    stride = max(1, -(-n_frames // FLOOR_MAX_FRAMES))
    zeros = np.r_[0, np.cumsum(raw == 0)] if n_frames else np.zeros(1, np.int64)
    rows = []
    onsets = onsets and n_frames * FRAME_S <= ONSET_SCAN_S  # a longer file is not scanned (cost)
    ots, obs, oss, loud_frames = [], [], [], 0
    for start in range(0, n_frames, BLOCK_FRAMES):
        lo, hi = max(0, start - margin), min(n_frames, start + BLOCK_FRAMES + margin)
        logmag = _spectrogram(x[lo * HOP: (hi - 1) * HOP + N_FFT])
        core = slice(start - lo, min(start + BLOCK_FRAMES, n_frames) - lo)
        t, f, s = _block_peaks(logmag, core)
        ts.append(t + lo), fs.append(f), ss.append(s)
        g = np.arange(-(-start // stride) * stride, min(start + BLOCK_FRAMES, n_frames), stride)
        g = g[zeros[g * HOP + N_FFT] - zeros[g * HOP] < FLOOR_ZERO_SAMPLES]
        rows.append(logmag[g - lo])
        if onsets:
            loud_frames += int(np.count_nonzero(logmag[core].max(axis=1) > _SILENT))
            t, b, s = _block_onsets(logmag, core)
            ots.append(t + lo), obs.append(b), oss.append(s)
    floor = _floor_db(np.concatenate(rows)) if rows else None
    found = None
    if onsets and ots and loud_frames * FRAME_S <= ONSET_MAX_S:
        t, b, s = np.concatenate(ots), np.concatenate(obs), np.concatenate(oss)
        keep = _top_per_second(t, s, ONSETS_PER_S)
        order = np.lexsort((b[keep], t[keep]))
        found = t[keep][order].astype(np.int32), _BAND_HZ[b[keep][order]]
    if not ts:
        return np.zeros(0, np.int32), np.zeros(0, np.float32), floor, found
    t, f, s = np.concatenate(ts), np.concatenate(fs), np.concatenate(ss)
    keep = _top_per_second(t, s, PEAKS_PER_S)
    order = np.lexsort((f[keep], t[keep]))
    return t[keep][order].astype(np.int32), (f[keep][order] * RATE / N_FFT).astype(np.float32), floor, found


def _block_onsets(logmag: np.ndarray, core: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Band onsets in the frames of `core` -> (frame, band index, rise dB).

    Per 1/ONSET_BANDS_PER_OCTAVE-octave band: its power level (floored at a silent bin's, so a sound after
    digital silence rises from one fixed level) minus its level ONSET_LAG frames before, in dB; an onset is
    a rise of at least ONSET_DB that is the largest within +-ONSET_NEIGH_T frames and +-1 band. Band
    energies survive what moves spectral peaks: a codec replacing noise by its own noise of the same
    level (splashes, slides, wind, applause), a low bit rate smearing partials. A gain or a static EQ
    adds a constant per band, which the rise cancels."""
    power = np.add.reduceat(np.exp(2.0 * logmag), _BAND_EDGES[:-1], axis=1)
    level = np.log(np.maximum(power, np.exp(2.0 * _SILENT)))
    rise = np.full(level.shape, -np.inf, np.float32)  # a block's first frames (the file's: nothing before) none
    rise[ONSET_LAG:] = (level[ONSET_LAG:] - level[:-ONSET_LAG]) * (_LN_DB / 2.0)
    top = _running_max(_running_max(rise, 1, 1), ONSET_NEIGH_T, 0)
    is_onset = (rise == top) & (rise >= ONSET_DB)
    is_onset[: core.start] = is_onset[core.stop:] = False
    t, b = np.nonzero(is_onset)
    return t, b, rise[t, b]


def _floor_db(logmag: np.ndarray) -> float | None:
    """(frames, bins) natural-log magnitudes -> the noise floor in dB (<= 0), rounded; None if too few frames."""
    if logmag.shape[0] == 0:
        return None
    top = logmag.max(axis=1)
    counted = logmag[top > np.percentile(top, 99) - FLOOR_RANGE_DB / _LN_DB]
    if counted.shape[0] < FLOOR_MIN_FRAMES:
        return None
    quiet, loud = np.percentile(counted, [FLOOR_QUIET_PCT, FLOOR_LOUD_PCT], axis=0)
    db = float(np.mean(quiet - loud)) * _LN_DB
    return float(round(db / FLOOR_STEP_DB) * FLOOR_STEP_DB) + 0.0  # + 0.0: no -0.0


def noise_floor(samples: np.ndarray, rate: int = RATE) -> float | None:
    """How far a recording's quiet level lies below its loud level, in dB (<= 0; lower = cleaner), rounded to
    FLOOR_STEP_DB; None when fewer than FLOOR_MIN_FRAMES frames count (silence, a click).

    Per analysed frequency bin (150-3800 Hz, the fingerprint's spectrogram): the FLOOR_QUIET_PCT-th percentile
    of the bin's level over the counted frames minus its FLOOR_LOUD_PCT-th, averaged over the bins. Counted
    frames: their loudest bin within FLOOR_RANGE_DB of the recording's loud frames, and no run of digital
    silence in their window (FLOOR_ZERO_SAMPLES exact zeros), so padding neither counts as a clean floor nor
    changes one. Added noise fills the quiet frames and the bins between a sound's partials: the floor rises
    (white noise at 15 dB SNR: +6.6 dB median on the tune part). Unchanged by a gain or a static EQ (both
    percentiles of a bin move together) and by silence padding; a low-pass leaves its stop band to the
    quantisation noise, which rises towards the loud level there: not lower. Relative, so it ranks copies of
    one recording, not recordings against each other (a drone has a high floor, a drum loop a low one)."""
    if rate != RATE:
        samples = _resample(samples, rate)
    return _analyse(samples)[2]


def _top_per_second(t: np.ndarray, strength: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the landmarks with fewer than `limit` stronger ones within +-0.5 s.

    A sliding window, so the choice does not depend on where the file starts (trims, excerpts)."""
    order = np.argsort(t, kind="stable")
    t, s = t[order], strength[order]
    half = int(round(0.5 / FRAME_S))
    stronger = np.zeros(t.size, np.int32)
    for k in range(1, t.size):
        near = t[k:] - t[:-k] <= half
        if not near.any():
            break
        a, b = s[:-k][near], s[k:][near]
        idx = np.nonzero(near)[0]
        stronger[idx] += b > a  # peak i sees a stronger later peak i + k
        stronger[idx + k] += a > b
    return order[stronger < limit]


# ---------------------------------------------------------------------------- hashes

def _quantise(t: np.ndarray, f: np.ndarray, i: np.ndarray, j: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Triplets (i, j, k) of peak indices -> int64 hashes (< 2^26); see the module docstring.

    Fields (bits): rt = (t_j - t_i)/(t_k - t_i) in RT_BINS (4); log2(f_j/f_i), log2(f_k/f_i) in
    1/RATIO_STEP octaves (6 + 6); anchor band log2(f_i/F_LO) in 1/BAND_STEP octaves (5);
    log2(t_k - t_i) in 1/SPAN_STEP steps (5)."""
    dt_ij, dt_ik = (t[j] - t[i]).astype(np.float32), (t[k] - t[i]).astype(np.float32)
    rt = np.minimum((dt_ij / dt_ik * RT_BINS).astype(np.int64), RT_BINS - 1)
    lf = np.log2(f)
    d1 = np.clip(np.round((lf[j] - lf[i]) * RATIO_STEP).astype(np.int64) + 32, 0, 63)
    d2 = np.clip(np.round((lf[k] - lf[i]) * RATIO_STEP).astype(np.int64) + 32, 0, 63)
    band = np.clip(((lf[i] - np.log2(F_LO)) * BAND_STEP).astype(np.int64), 0, 31)
    span = np.clip((np.log2(dt_ik) * SPAN_STEP).astype(np.int64), 0, 31)
    return (((((rt << 6 | d1) << 6 | d2) << 5) | band) << 5 | span).astype(np.int64)


def fingerprint(samples: np.ndarray, rate: int = RATE) -> tuple[np.ndarray, np.ndarray]:
    """Mono samples -> (hashes (m,) int64, times (m,) float32 s of each hash's anchor).

    Empty for audio without enough information (see MIN_INFORMATIVE_S, MIN_DISTINCT)."""
    hashes, times, _ = fingerprint_and_floor(samples, rate)
    return hashes, times


def fingerprint_and_floor(samples: np.ndarray, rate: int = RATE) -> tuple[np.ndarray, np.ndarray, float | None]:
    """fingerprint(samples, rate) and noise_floor(samples, rate) from one spectrogram pass."""
    if rate != RATE:
        samples = _resample(samples, rate)
    t, f, floor, onsets = _analyse(samples, onsets=True)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.float32), floor)
    if informative_s(t) < MIN_INFORMATIVE_S:
        return empty
    h, at = _triplets(t, f)
    if onsets is not None:
        oh, oat = _triplets(*onsets)
        h, at = np.concatenate([h, oh + ONSET_SPACE]), np.concatenate([at, oat])
    if np.unique(h).size < MIN_DISTINCT:
        return empty
    order = np.argsort(at, kind="stable")
    return h[order], (at[order] * FRAME_S).astype(np.float32), floor


def informative_s(t: np.ndarray) -> float:
    """Peak frames, sorted -> seconds covered by peaks at least 3 to a second: the measure of the union of
    the spans [t_i, t_i+2] of consecutive peaks within 1 s of each other.

    Measured on the peaks themselves, so it does not depend on where the file starts: counting fixed 1 s
    bins from the file's start put a 2.5 s effect on either side of the gate depending on its copy's trim,
    gain or resampling (blind3, bench/RESULTS.md ## audio)."""
    if t.size < 3:
        return 0.0
    lo, hi = t[:-2].astype(np.float64), t[2:].astype(np.float64)
    dense = hi - lo < 1.0 / FRAME_S
    lo, hi = lo[dense], hi[dense]  # both sorted
    if lo.size == 0:
        return 0.0
    prev = np.r_[-np.inf, hi[:-1]]
    return float(np.clip(hi - np.maximum(lo, prev), 0.0, None).sum() * FRAME_S)


def _triplets(t: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks (frame, Hz), sorted by frame -> (triplet hashes, anchor frames): anchor i, j and k among
    its next FAN landmarks, t_i < t_j < t_k <= t_i + ZONE_FRAMES (_quantise)."""
    hs, anchors = [np.zeros(0, np.int64)], [np.zeros(0, np.int32)]
    n = t.size
    for a in range(1, FAN):
        for b in range(a + 1, FAN + 1):
            i = np.arange(max(0, n - b))
            j, k = i + a, i + b
            ok = (t[j] > t[i]) & (t[k] > t[j]) & (t[k] - t[i] <= ZONE_FRAMES)
            i, j, k = i[ok], j[ok], k[ok]
            hs.append(_quantise(t, f, i, j, k))
            anchors.append(t[i])
    return np.concatenate(hs), np.concatenate(anchors)


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """Linear-interpolation resampling to RATE (for callers holding other rates; decode_audio
    already delivers RATE through PyAV's resampler, which low-passes properly)."""
    x = np.asarray(samples, np.float32)
    n_out = int(x.size * RATE / rate)
    return np.interp(np.arange(n_out) * (rate / RATE), np.arange(x.size), x).astype(np.float32)


# ---------------------------------------------------------------------------- alignment

def _equal_hash_pairs(ha: np.ndarray, hb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (ia, ib) with ha[ia] == hb[ib]; hash values seen more than MAX_PER_HASH times
    in either side are dropped."""
    oa, ob = np.argsort(ha, kind="stable"), np.argsort(hb, kind="stable")
    sa, sb = ha[oa], hb[ob]
    ua, ca = np.unique(sa, return_counts=True)
    lo, hi = np.searchsorted(sb, ua, "left"), np.searchsorted(sb, ua, "right")
    cb = hi - lo
    ok = (cb > 0) & (ca <= MAX_PER_HASH) & (cb <= MAX_PER_HASH)
    starts_a = np.searchsorted(sa, ua[ok], "left")
    ca, lo, cb = ca[ok], lo[ok], cb[ok]
    n = ca * cb
    if n.sum() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    g = np.repeat(np.arange(n.size), n)
    r = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    ia = oa[starts_a[g] + r // cb[g]]
    ib = ob[lo[g] + r % cb[g]]
    return ia, ib


def _vote(ta: np.ndarray, tb: np.ndarray, scales, bin_s: float) -> tuple[float, float, int]:
    """Best (scale, offset) of t_a = scale * t_b + offset by a histogram over the scale grid."""
    best = (1.0, 0.0, 0)
    for s in scales:
        off = ta - s * tb
        q = np.floor(off / bin_s).astype(np.int64)
        q0 = q.min()
        counts = np.bincount(q - q0)
        pair = counts[:-1] + counts[1:] if counts.size > 1 else counts
        m = int(pair.argmax())
        if pair[m] > best[2]:
            best = (float(s), (m + q0 + 1) * bin_s, int(pair[m]))
    return best


def align(fp_a: tuple[np.ndarray, np.ndarray], fp_b: tuple[np.ndarray, np.ndarray],
          scales=SCALES, tol_s: float = 0.08) -> dict:
    """Two fingerprints -> the best alignment t_a = time_scale * t_b + offset_s.

    score = the number of distinct anchor times of b among the equal-hash pairs on that line
    (within tol_s; one anchor heads up to FAN*(FAN-1)/2 triplets, which must not count as
    independent evidence); the span is that of those pairs; coverage_x = span / the fingerprinted span of x. matches = all equal-hash pairs."""
    (ha, ta), (hb, tb) = fp_a, fp_b
    out = dict(score=0, offset_s=0.0, time_scale=1.0, start_a=0.0, end_a=0.0, start_b=0.0,
               end_b=0.0, coverage_a=0.0, coverage_b=0.0, matches=0)
    if ha.size == 0 or hb.size == 0:
        return out
    ia, ib = _equal_hash_pairs(ha, hb)
    out["matches"] = int(ia.size)
    if ia.size < 3:
        return out
    xa, xb = ta[ia].astype(np.float64), tb[ib].astype(np.float64)
    s, o, _ = _vote(xa, xb, scales, 0.25)
    fine = np.arange(s - 0.008, s + 0.0081, 0.002)  # refine the scale on a finer grid
    fine = fine[(fine >= min(scales) - 1e-9) & (fine <= max(scales) + 1e-9)]
    s, o, _ = _vote(xa, xb, fine, 0.1)
    for tol in (0.3, tol_s, tol_s):
        inl = np.abs(xa - s * xb - o) <= tol
        if inl.sum() < 3:
            break
        if np.ptp(xb[inl]) > 1.0:
            s, o = np.polyfit(xb[inl], xa[inl], 1)
        else:
            o = float(np.median(xa[inl] - s * xb[inl]))
    inl = np.abs(xa - s * xb - o) <= tol_s
    if inl.sum() < 3:
        return out
    span_a, span_b = max(np.ptp(ta), 1e-3), max(np.ptp(tb), 1e-3)
    sa0, sa1, sb0, sb1 = xa[inl].min(), xa[inl].max(), xb[inl].min(), xb[inl].max()
    out.update(score=int(np.unique(xb[inl]).size), offset_s=float(o), time_scale=float(s),
               start_a=float(sa0), end_a=float(sa1), start_b=float(sb0), end_b=float(sb1),
               coverage_a=float(min(1.0, (sa1 - sa0) / span_a)),
               coverage_b=float(min(1.0, (sb1 - sb0) / span_b)))
    return out


def is_duplicate(result: dict, min_score: int = MIN_SCORE, min_coverage: float = MIN_COVERAGE) -> bool:
    """The one decision on an `align` result: enough aligned evidence over enough of one file
    (a loop repeated between two sections of a track covers little of either)."""
    return result["score"] >= min_score and max(result["coverage_a"], result["coverage_b"]) >= min_coverage
