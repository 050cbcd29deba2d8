"""Video kernels: bytes -> sampled frames -> per-frame signatures; two frame sequences -> aligned segment.

Executor-side and Spark-free (PyAV + numpy + the image kernels of udfs/robust.py).

Decoding (`video_features`): the container is opened from memory with PyAV, the
first video stream is decoded and a frame is kept whenever its presentation time
(pts, seconds from the stream's first frame) reaches the next multiple of
1 / sample_fps. Each kept frame is scaled by the decoder to FRAME_SIDE px on its
longer side, greyscale, and hashed like an image's content box: the letterbox
and uniform borders are trimmed (robust.content_box), then the box's pHash
(`frame_hashes`, robust.hash_from_dct), its mirror's (`flip_hashes`), its centre
90% (`crop_hashes`: a cropped copy's whole frame matches it) and its centre 60%
(`centre_hashes`: a caption or logo in a corner stays outside it). A frame
is *informative* when its content box carries the picture
(robust.information >= min_information, robust.quality_of_gray >= min_quality)
and it is not sparse (a title or logo on a backdrop): black, flat, fade and
title-card frames never vote and never count as matches.

Failures raise udfs.errors.ItemError with reasons `empty_file`, `not_a_video`,
`no_video_stream` (e.g. audio only), `truncated` (a known container signature
that cannot be opened, or decoding that stops with an error after some frames),
`decode_error` (no frame could be decoded), `too_long` (> max_duration_s),
`too_many_frames` (> max_frames sampled), `too_many_pixels` (> max_pixels per
frame), `decode_timeout` (> max_decode_seconds of decoding).

Alignment (`align`): the Hamming matrix of two videos' informative frame hashes
(in blocks of rows), matches at <= frame_hamming bits, then a vote over lines
t_b = s * t_a + o for each time scale s of a small grid (offsets within
`tolerance` seconds of each other vote together), refined by least squares on
the winning line's matches. The matched segment is the longest run of the
line's matches without a gap over max_gap_s, nor a whole shot of either video
between two of them that matches the other video elsewhere (shots in another
order, `_skipped_shots`); see `Alignment` for what it reports.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass

import numpy as np

from udfs.errors import ItemError
from udfs.hashing import hamming

FRAME_SIDE = 128  # sampled frames are scaled to this many pixels on the longer side before hashing
# container signatures: a file starting so is a video that may be damaged (truncated), not another file
_SIGNATURES = ((4, b"ftyp"), (0, b"\x1a\x45\xdf\xa3"), (0, b"RIFF"), (0, b"OggS"), (0, b"FLV"),
               (0, b"\x00\x00\x01\xba"), (0, b"\x00\x00\x01\xb3"), (0, b"GIF8"), (4, b"moov"), (4, b"mdat"),
               (0, b"\x30\x26\xb2\x75"))


@dataclass(frozen=True)
class DecodeLimits:
    """Per-file limits (video.* settings); units as named."""

    sample_fps: float = 2.0
    max_duration_s: float = 10_800.0
    max_frames: int = 21_600
    max_pixels: int = 36_000_000
    max_decode_seconds: float = 600.0
    min_information: float = 2.0
    min_quality: float = 0.85


@dataclass(frozen=True)
class VideoFeatures:
    """What one video yields; frame arrays have one entry per sampled frame."""

    duration_s: float
    fps: float | None
    width: int
    height: int
    bitrate: int | None          # bits per second (the container's, else bytes * 8 / duration)
    codec: str
    times: np.ndarray            # (n,) float64 seconds from the first frame
    hashes: np.ndarray           # (n,) int64 content-box pHash
    flips: np.ndarray            # (n,) int64 pHash of the mirrored content box
    crops: np.ndarray            # (n,) int64 pHash of the content box's centre CROP_KEEP
    centres: np.ndarray          # (n,) int64 pHash of the content box's centre CENTRE_KEEP
    informative: np.ndarray      # (n,) bool


def _looks_like_video(data: bytes) -> bool:
    if len(data) > 188 * 2 and data[0] == 0x47 and data[188] == 0x47:  # MPEG transport stream packets
        return True
    return any(data[at:at + len(sig)] == sig for at, sig in _SIGNATURES)


CROP_KEEP = 0.9    # crop_hashes: the centre share of the content box a 10% crop keeps
CENTRE_KEEP = 0.6  # centre_hashes: corner captions and logos (up to ~20% of a side) stay outside


def frame_signature(gray: np.ndarray, min_information: float,
                    min_quality: float) -> tuple[int, int, int, int, bool]:
    """(content-box pHash, its mirror's, its centre CROP_KEEP's, its centre CENTRE_KEEP's, informative)
    of a greyscale frame (h, w) uint8."""
    from PIL import Image
    from udfs import robust

    img = Image.fromarray(np.ascontiguousarray(gray), mode="L")
    box, sparse = robust.content_box(img)
    content = box or (0, 0, img.width, img.height)
    coeffs = robust.dct_lowfreq(img, box)
    informative = (not sparse and robust.information(coeffs) >= min_information
                   and robust.quality_of_gray(img, box) >= min_quality)
    crop = robust.hash_from_dct(robust.dct_lowfreq(img, robust.centre_box(content, CROP_KEEP)))
    centre = robust.hash_from_dct(robust.dct_lowfreq(img, robust.centre_box(content, CENTRE_KEEP)))
    return robust.hash_from_dct(coeffs), robust.flip_hash_from_dct(coeffs), crop, centre, informative


def _scaled(width: int, height: int, side: int = FRAME_SIDE) -> tuple[int, int]:
    s = side / max(width, height, 1)
    return max(8, round(width * s)), max(8, round(height * s))


def video_features(data: bytes, limits: DecodeLimits = DecodeLimits()) -> VideoFeatures:
    """Decode `data` (a whole video file) and sample it; raises ItemError (reasons in the module docstring)."""
    import av

    if not data:
        raise ItemError("empty_file", "0 bytes")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except Exception as exc:  # noqa: BLE001 - PyAV raises several error types for bad input
        if _looks_like_video(data):
            raise ItemError("truncated", f"cannot open the container: {_short(exc)} ({len(data)} bytes)") from None
        raise ItemError("not_a_video", f"unrecognised video format ({len(data)} bytes)") from None
    with container:
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ["no"]
            raise ItemError("no_video_stream", f"{' and '.join(kinds)} streams only")
        return _decode(container, container.streams.video[0], len(data), limits)


def _decode(container, stream, size: int, limits: DecodeLimits) -> VideoFeatures:
    from av.video.reformatter import VideoReformatter

    width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
    if width * height > limits.max_pixels:
        raise ItemError("too_many_pixels", f"{width}x{height} > video.max_pixels={limits.max_pixels}")
    declared = _declared_duration(container, stream)
    if declared is not None and declared > limits.max_duration_s:
        raise ItemError("too_long", f"{declared:.1f} s > video.max_duration_s={limits.max_duration_s:g}")
    stream.thread_type = "AUTO"
    step = 1.0 / limits.sample_fps
    times, hashes, flips, crops, centres, info = [], [], [], [], [], []
    start, next_t, last_t, started = None, 0.0, 0.0, time.monotonic()
    size_wh = _scaled(width, height) if width and height else None
    codec = stream.codec_context
    base = float(stream.time_base) if stream.time_base else None
    # one scaler for the whole stream: frame.to_ndarray(width=...) builds a new one per frame (~4x the cost)
    scaler = VideoReformatter()
    try:
        for frame in _frames(container, stream, codec, base, lambda: (start, next_t)):
            if isinstance(frame, float):  # a skipped packet's time: it still counts in the duration
                last_t = max(last_t, frame)
                continue
            if time.monotonic() - started > limits.max_decode_seconds:
                raise ItemError("decode_timeout", f"decoding took over video.max_decode_seconds="
                                                  f"{limits.max_decode_seconds:g}")
            t = frame.time
            if t is None:
                t = (start or 0.0) + len(times) * step  # no timestamps: assume the sampling rate
            start = t if start is None else start
            t -= start
            last_t = max(last_t, t)
            if t > limits.max_duration_s:
                raise ItemError("too_long", f"frames beyond video.max_duration_s={limits.max_duration_s:g}")
            if t + 1e-6 < next_t:
                continue
            while next_t <= t + 1e-6:
                next_t += step
            if len(times) >= limits.max_frames:
                raise ItemError("too_many_frames", f"more than video.max_frames={limits.max_frames} sampled frames")
            w, h = size_wh or _scaled(frame.width, frame.height)
            gray = scaler.reformat(frame, format="gray", width=w, height=h).to_ndarray()
            hsh, flp, crp, ctr, ok = frame_signature(gray, limits.min_information, limits.min_quality)
            times.append(t), hashes.append(hsh), flips.append(flp), crops.append(crp), centres.append(ctr)
            info.append(ok)
    except ItemError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged stream is an error row, whatever PyAV raised
        if times:
            raise ItemError("truncated", f"decoding stopped after {len(times)} sampled frames: {_short(exc)}") from None
        raise ItemError("decode_error", _short(exc)) from None
    if not times:
        raise ItemError("decode_error", "no video frame could be decoded")
    duration = declared if declared is not None and declared > 0 else last_t + step
    fps = float(stream.average_rate) if stream.average_rate else None
    bitrate = int(container.bit_rate) if container.bit_rate else (int(size * 8 / duration) if duration > 0 else None)
    return VideoFeatures(duration_s=float(duration), fps=fps, width=width, height=height, bitrate=bitrate,
                         codec=str(stream.codec_context.name), times=np.asarray(times, np.float64),
                         hashes=np.asarray(hashes, np.int64), flips=np.asarray(flips, np.int64),
                         crops=np.asarray(crops, np.int64), centres=np.asarray(centres, np.int64),
                         informative=np.asarray(info, bool))


#: a packet is skipped (when not a reference frame) only when its time is this far before the next
#: sampled time: a frame's time is its packet's, the margin only guards against rounding
SKIP_MARGIN_S = 0.05


def _frames(container, stream, codec, base: float | None, position):
    """The decoded frames of `stream`, in presentation order, with the frames that cannot be sampled
    left undecoded where the codec allows: a packet whose time lies before the next sampled time
    (position() -> (first frame's time or None, next sampled time from it)) is decoded with
    skip_frame NONREF, so a frame no other frame refers to (most B-frames) is dropped undecoded;
    such a frame would have been passed over anyway (times only grow in presentation order, and
    the next sampled time only grows). Yields frames, and for each packet decoded that way its time
    from the first frame (a float). Reference frames and every packet near or past the next
    sampled time are decoded as usual, so the sampled frames are the same."""
    skipping = False
    for packet in container.demux(stream):
        start, next_t = position()
        t = None
        if base is not None and start is not None and packet.pts is not None and not packet.is_keyframe:
            t = packet.pts * base - start
        skip = t is not None and t + SKIP_MARGIN_S < next_t
        if skip != skipping:
            codec.skip_frame = "NONREF" if skip else "DEFAULT"
            skipping = skip
        yield from codec.decode(packet)
        if skip:
            yield t


def _declared_duration(container, stream) -> float | None:
    """The stream's duration in seconds, else the container's; None when neither says."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # av.time_base: microseconds
    return None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


# ---------------------------------------------------------------------------- alignment

DEFAULT_SCALES = (0.5, 0.667, 0.75, 0.8, 0.9, 1.0, 1.111, 1.25, 1.333, 1.5, 2.0)
ROW_BLOCK = 1024          # rows of the Hamming matrix computed at once: ROW_BLOCK x n_b int32
MATCHES_PER_FRAME = 16    # each frame of a keeps its closest frames of b


@dataclass(frozen=True)
class AlignParams:
    """Settings of `align` (video.* settings); seconds unless said."""

    frame_hamming: int = 12            # frames match at <= this many differing bits of 64
    scales: tuple[float, ...] = DEFAULT_SCALES  # time scales s of t_b = s * t_a + o tried
    sample_fps: float = 2.0            # the sampling rate: tolerance and segment ends follow from it
    max_gap_s: float = 4.0             # a line's matches further apart than this (in a) split the segment
    min_distinct_frames: int = 2       # the segment needs this many mutually different matched frames

    @property
    def step(self) -> float:
        return 1.0 / self.sample_fps

    @property
    def tolerance(self) -> float:
        """How far (seconds of b) a match may lie off the line: a sample's phase is off by up to step/2."""
        return 0.6 * self.step


#: An alignment's segment fields, as `pairs/` and the query carry them (a = item_a, b = item_b).
SEGMENT_COLUMNS = ("start_a", "end_a", "start_b", "end_b", "coverage_a", "coverage_b", "time_scale")


@dataclass(frozen=True)
class Alignment:
    """The matched segment of a pair (a, b).

    start/end: seconds in each video (end = last matched frame + one sampling step,
    at most the duration); coverage_*: the segment's share of each video's duration;
    time_scale: s of t_b = s * t_a + o (0.5: b plays twice as fast); similarity: the
    share of the informative sampled frames inside the segment, both videos
    together, that have a match on the line; hamming: median matched distance;
    frames: distinct matched frames of a; keys: which frame hashes matched (KEY_VARIANTS).
    """

    start_a: float
    end_a: float
    start_b: float
    end_b: float
    coverage_a: float
    coverage_b: float
    time_scale: float
    similarity: float
    hamming: int
    frames: int
    keys: str = "frame"

    @property
    def mirrored(self) -> bool:
        return self.keys == "mirror"


def frame_matches(ha: np.ndarray, hb: np.ndarray, max_bits: int,
                  per_frame: int = MATCHES_PER_FRAME) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, distance) of frame pairs within max_bits: each row i keeps its `per_frame` closest j
    (ties broken arbitrarily).

    Memory: ROW_BLOCK x len(hb) int32 at a time."""
    out_i, out_j, out_d = [], [], []
    for lo in range(0, len(ha), ROW_BLOCK):
        d = hamming(ha[lo:lo + ROW_BLOCK, None], hb[None, :])
        if d.shape[1] > per_frame:  # the per_frame smallest of each row
            keep = np.argpartition(d, per_frame - 1, axis=1)[:, :per_frame]
            rows = np.repeat(np.arange(d.shape[0]), per_frame)
            cols = keep.reshape(-1)
        else:
            rows, cols = np.indices(d.shape).reshape(2, -1)
        dist = d[rows, cols]
        ok = dist <= max_bits
        out_i.append(rows[ok] + lo), out_j.append(cols[ok]), out_d.append(dist[ok])
    if not out_i:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d).astype(np.int32)


def _best_line(ta: np.ndarray, tb: np.ndarray, weight: np.ndarray, scales: tuple[float, ...],
               tol: float) -> tuple[float, float]:
    """(s, o) of the line t_b = s * t_a + o carrying the most match weight within 2 tol of offset.

    A match (t_a[k], t_b[k]) weighs 1 - distance / (frame_hamming + 1), so a line
    through close frames beats one through frames that merely look alike (a slow pan
    matches frames a second away at a larger distance). For each scale the offsets
    are sorted and every window [o, o + 2 tol] is scored with a cumulative sum; ties
    go to the scale closest to 1."""
    best = (-1.0, 0.0, 1.0, 0.0)
    for s in scales:
        o = tb - s * ta
        order = np.argsort(o, kind="stable")
        so, sw = o[order], np.concatenate([[0.0], np.cumsum(weight[order])])
        ends = np.searchsorted(so, so + 2 * tol, side="right")
        scores = sw[ends] - sw[:-1]
        k = int(np.argmax(scores))
        key = (round(float(scores[k]), 9), -abs(np.log(s)))
        if key > best[:2]:
            best = (*key, s, float(np.median(so[k:ends[k]])))
    return best[2], best[3]


def _refine(ta: np.ndarray, tb: np.ndarray, s: float, o: float, tol: float,
            scales: tuple[float, ...]) -> tuple[float, float, np.ndarray]:
    """Least-squares fit of (s, o) on the line's matches, twice; returns (s, o, inlier mask).
    The fitted scale stays within the grid's range; a fit on one instant keeps s."""
    for _ in range(2):
        inl = np.abs(tb - (s * ta + o)) <= tol
        if inl.sum() >= 3 and np.ptp(ta[inl]) > 0:
            s_fit, o_fit = np.polyfit(ta[inl], tb[inl], 1)
            if min(scales) * 0.9 <= s_fit <= max(scales) * 1.1:
                s, o = float(s_fit), float(o_fit)
    return s, o, np.abs(tb - (s * ta + o)) <= tol


def _longest_run(ta: np.ndarray, max_gap: float, informative_a: np.ndarray, step: float,
                 skipped: np.ndarray | None = None) -> np.ndarray:
    """Mask of the matches (a-times ta) in the run with the most distinct times, where two matched times
    split the run when the informative frames of a between them (sorted times informative_a) last
    more than max_gap: a black or flat stretch (a fade, a dark shot) carries no evidence either way
    and does not split a copy's segment; informative frames that do not match do. skipped: (the
    distinct matched times - 1,) True where a whole shot lies unmatched between two matched times
    (`_skipped_shots`), which splits the run too."""
    times = np.unique(ta)
    if len(times) == 0:
        return np.zeros(len(ta), bool)
    between = np.searchsorted(informative_a, times[1:] - 1e-9) - np.searchsorted(informative_a, times[:-1] + 1e-9)
    split = (between + 1) * step > max_gap  # as the time gap when every frame is informative
    if skipped is not None:
        split |= skipped
    breaks = np.flatnonzero(split)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(times) - 1]])
    k = int(np.argmax(ends - starts))
    return (ta >= times[starts[k]]) & (ta <= times[ends[k]])


#: a shot (a run of sampled frames whose consecutive hashes differ by <= frame_hamming bits) lying whole
#: between two consecutive matched frames of a line, with at least this many frames that match the
#: other video away from the line's place for them, splits the line's segment (`_skipped_shots`)
MIN_SKIPPED_SHOT_FRAMES = 2


def _shots(h: np.ndarray, max_bits: int) -> np.ndarray:
    """(n,) shot index of each sampled frame (in time order): a new shot where consecutive hashes differ
    by more than max_bits."""
    if len(h) < 2:
        return np.zeros(len(h), np.int64)
    return np.concatenate([[0], np.cumsum(hamming(h[1:], h[:-1]) > max_bits)]).astype(np.int64)


def _shown_elsewhere(lo: np.ndarray, hi: np.ndarray, other_lo: np.ndarray, other_hi: np.ndarray,
                     t: np.ndarray, h: np.ndarray, frame: np.ndarray, other_t: np.ndarray, max_bits: int,
                     margin: float) -> np.ndarray:
    """For each open interval (lo[k], hi[k]) of one video's times, whose place in the other video is
    [other_lo[k], other_hi[k]]: whether a whole shot of the video (times t, hashes h) lies inside it
    with >= MIN_SKIPPED_SHOT_FRAMES frames matching the other video more than `margin` seconds outside
    that place. Matches: (frame[m], other_t[m]) = this video's frame index, the other's time."""
    out = np.zeros(len(lo), bool)
    if len(t) == 0 or len(lo) == 0 or len(frame) == 0:
        return out
    order = np.argsort(t, kind="stable")
    shot = np.empty(len(t), np.int64)
    shot[order] = _shots(h[order], max_bits)
    n = int(shot.max()) + 1
    first, last = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(first, shot, t)
    np.maximum.at(last, shot, t)
    match_shot = shot[frame]
    for k in range(len(lo)):
        inside = (first > lo[k] + 1e-9) & (last < hi[k] - 1e-9)
        if not inside.any():
            continue
        far = inside[match_shot] & ((other_t < other_lo[k] - margin) | (other_t > other_hi[k] + margin))
        if far.any():
            frames = np.unique(frame[far])
            out[k] = bool((np.bincount(shot[frames], minlength=n) >= MIN_SKIPPED_SHOT_FRAMES).any())
    return out


def _skipped_shots(ta: np.ndarray, tb: np.ndarray, s: float, o: float, a: tuple, b: tuple,
                   matches: tuple, max_bits: int, margin: float) -> np.ndarray:
    """For each gap between consecutive distinct matched a-times of a line's matches (ta, tb): whether
    a whole shot of a lies in the gap, or a whole shot of b in the gap's place in b (between the
    b-times matched on either side and t_b = s * t_a + o of its ends), that the other video shows
    elsewhere: >= MIN_SKIPPED_SHOT_FRAMES of its frames match the other video more than `margin`
    seconds away from the gap's place there. a, b = (times, hashes); matches = (i, j) frame indices of
    all the frame matches of the pair (any line).

    A copy keeps its shots in order: between two frames matched on the line it shows the same
    footage, and a shot there that matches nothing (hashes unstable on a low-contrast shot), or
    matches near its place only off the line's tolerance, is no evidence against it. A shot the other
    video shows elsewhere is: the shots of one video in another order (the harness's `reorder`) can
    put two of its shots on one line at a wrong time scale (0.5 or 2 between slow pans), with a third
    shot, which the other video shows before or after them, skipped in between."""
    times = np.unique(ta)
    if len(times) < 2:
        return np.zeros(0, bool)
    lo_a, hi_a = times[:-1], times[1:]
    idx = np.searchsorted(times, ta)
    bmax, bmin = np.full(len(times), -np.inf), np.full(len(times), np.inf)
    np.maximum.at(bmax, idx, tb)
    np.minimum.at(bmin, idx, tb)
    lo_b = np.maximum(bmax[:-1], s * lo_a + o)
    hi_b = np.minimum(bmin[1:], s * hi_a + o)
    (time_a, hash_a), (time_b, hash_b), (i, j) = a, b, matches
    return (_shown_elsewhere(lo_a, hi_a, np.minimum(lo_b, hi_b), np.maximum(lo_b, hi_b), time_a, hash_a, i,
                             time_b[j], max_bits, margin)
            | _shown_elsewhere(np.minimum(lo_b, hi_b), np.maximum(lo_b, hi_b), lo_a, hi_a, time_b, hash_b, j,
                               time_a[i], max_bits, margin))


def _extend(t0: float, direction: int, ta: np.ndarray, ha: np.ndarray, ia: np.ndarray, tb: np.ndarray,
            hb: np.ndarray, ib: np.ndarray, db: float, s: float, o: float, step: float, max_bits: int) -> float:
    """How far (a-time) a segment's end at t0 extends over frames that carry no evidence against it:
    walking outward from t0, a's sampled frames are taken while the frame of b nearest to their
    place on the line (t_b = s * t_a + o) exists and either both are uninformative or they match
    (within max_bits; one side's information score just under the gate). A full copy whose first
    shot is dark or flat is then covered whole; an informative frame facing a different one, or
    b's end, stops it."""
    order = np.argsort(ta)
    ta, ha, ia = ta[order], ha[order], ia[order]
    k = int(np.searchsorted(ta, t0 - 1e-9)) if direction < 0 else int(np.searchsorted(ta, t0 + 1e-9, side="right"))
    k = k - 1 if direction < 0 else k
    reach = t0
    while 0 <= k < len(ta):
        t_b = s * ta[k] + o
        if t_b < -0.5 * step or t_b > db + 0.5 * step or len(tb) == 0:
            break
        near = int(np.argmin(np.abs(tb - t_b)))
        if abs(tb[near] - t_b) > step:
            break
        if (ia[k] or ib[near]) and int(hamming(ha[k:k + 1], hb[near:near + 1])[0]) > max_bits:
            break
        reach = float(ta[k])
        k += direction
    return reach


def distinct_frames(hashes: np.ndarray, max_bits: int, enough: int | None = None) -> int:
    """How many of `hashes` differ by more than max_bits from every one counted before (greedy, in order);
    counting stops at `enough`."""
    kept: list[int] = []
    for h in hashes:
        if not kept or hamming(np.asarray(kept, np.int64), h).min() > max_bits:
            kept.append(int(h))
            if enough is not None and len(kept) >= enough:
                break
    return len(kept)


def align(ta: np.ndarray, ha: np.ndarray, ia: np.ndarray, da: float,
          tb: np.ndarray, hb: np.ndarray, ib: np.ndarray, db: float,
          params: AlignParams = AlignParams()) -> Alignment | None:
    """Align b's frames (times tb, hashes hb, informative ib, duration db) to a's; None when no segment
    of at least params.min_distinct_frames different matched frames lies on one line."""
    ta, tb = np.asarray(ta, np.float64), np.asarray(tb, np.float64)
    ha, hb = np.asarray(ha, np.int64), np.asarray(hb, np.int64)
    ia, ib = np.asarray(ia, bool), np.asarray(ib, bool)
    xa, xb = np.flatnonzero(ia), np.flatnonzero(ib)
    if len(xa) < params.min_distinct_frames or len(xb) < params.min_distinct_frames:
        return None
    i, j, d = frame_matches(ha[xa], hb[xb], params.frame_hamming)
    if len(i) < params.min_distinct_frames:
        return None
    i, j = xa[i], xb[j]
    mta, mtb = ta[i], tb[j]
    s, o = _best_line(mta, mtb, 1.0 - d / (params.frame_hamming + 1.0), params.scales, params.tolerance)
    s, o, inl = _refine(mta, mtb, s, o, params.tolerance, params.scales)
    run = np.zeros(len(i), bool)
    skipped = _skipped_shots(mta[inl], mtb[inl], s, o, (ta, ha), (tb, hb), (i, j), params.frame_hamming,
                             params.step)
    run[inl] = _longest_run(mta[inl], params.max_gap_s, np.sort(ta[ia]), params.step, skipped)
    i, j, d = i[run], j[run], d[run]
    if len(i) == 0:
        return None
    mi, mj = np.unique(i), np.unique(j)
    need = params.min_distinct_frames
    if min(distinct_frames(ha[mi], params.frame_hamming, need),
           distinct_frames(hb[mj], params.frame_hamming, need)) < need:
        return None  # a static picture or one shared card on either side
    step = params.step
    around = (ta, ha, ia, tb, hb, ib, db, s, o, step, params.frame_hamming)
    first_a = _extend(float(ta[i].min()), -1, *around)
    last_a = _extend(float(ta[i].max()), +1, *around)
    first_b = round(min(float(tb[j].min()), max(0.0, s * first_a + o)), 6)
    last_b = round(max(float(tb[j].max()), min(db, s * last_a + o)), 6)
    start_a, end_a = first_a, min(last_a + step, max(da, step))
    start_b, end_b = first_b, min(last_b + step, max(db, step))
    inside_a = ia & (ta >= start_a - 1e-9) & (ta < end_a - 1e-9)
    inside_b = ib & (tb >= start_b - 1e-9) & (tb < end_b - 1e-9)
    similarity = (len(mi) + len(mj)) / max(int(inside_a.sum() + inside_b.sum()), 1)
    return Alignment(start_a=start_a, end_a=end_a, start_b=start_b, end_b=end_b,
                     coverage_a=_coverage(start_a, end_a, da), coverage_b=_coverage(start_b, end_b, db),
                     time_scale=round(float(s), 4), similarity=float(min(similarity, 1.0)),
                     hamming=int(np.median(d)), frames=int(len(mi)))


def _coverage(start: float, end: float, duration: float) -> float:
    return float(min(1.0, max(0.0, end - start) / duration)) if duration > 0 else 0.0


#: The hash pairs a pair of videos is aligned on: (name, a's hashes, b's hashes). "frame": both
#: content boxes; "mirror": b mirrored; "crop_b" / "crop_a": b (a) is a crop of the other, whose
#: centre 90% it shows; "centre": the centre 60% of both (a caption or logo in a corner).
KEY_VARIANTS = (("frame", "hashes", "hashes"), ("mirror", "hashes", "flips"), ("crop_b", "crops", "hashes"),
                ("crop_a", "hashes", "crops"), ("centre", "centres", "centres"))


def align_pair(a: dict, b: dict, params: AlignParams = AlignParams()) -> Alignment | None:
    """The best alignment of b to a over KEY_VARIANTS (the hash arrays a video dict lacks are skipped).

    a, b: {"times", "hashes", "flips", "crops", "centres", "informative", "duration"}. Best: the
    larger covered share (max of the two coverages), then similarity, then the order of KEY_VARIANTS."""
    found = []
    for rank, (name, ka, kb) in enumerate(KEY_VARIANTS):
        if a.get(ka) is None or b.get(kb) is None:
            continue
        got = align(a["times"], a[ka], a["informative"], a["duration"],
                    b["times"], b[kb], b["informative"], b["duration"], params)
        if got is not None:
            found.append((round(max(got.coverage_a, got.coverage_b), 6), got.similarity, -rank,
                          Alignment(**{**got.__dict__, "keys": name})))
    return max(found, key=lambda x: x[:3])[3] if found else None
