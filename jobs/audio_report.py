"""The report's audio section: aligned pairs as two spectrograms at the aligned offset, each with a player.

For each `audio_peaks` pair near the decision, a window of at most CLIP_S seconds is
taken from the middle of item_a's matched span and mapped onto item_b's by the pair's
line (t_b = start_b + (t_a - start_a) * time_scale); both windows are decoded again
from the items' uris (udfs/audio.decode_audio, 8 kHz mono), drawn as log spectrograms
(0-4 kHz, time across) one above the other, and embedded as WAV in an <audio>
player, so a reviewer sees and hears whether the same sound runs in both.
"""
from __future__ import annotations

import base64
import html
import io
import wave

import numpy as np
import pandas as pd

CLIP_S = 8.0
AUDIO_CSS = """
.au-pair{margin:8px 0 18px}.au-row{display:flex;gap:8px;align-items:center;margin:2px 0}
.au-row img{height:96px;border:1px solid #ccc}.au-row span{font:11px system-ui,sans-serif;color:#555;
  width:260px;flex:none;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.au-row audio{height:32px}
"""


def is_audio_run(summary: dict) -> bool:
    return summary.get("config", {}).get("input", {}).get("kind") == "audio"


def clip(uri: str, start_s: float, seconds: float) -> np.ndarray | None:
    """(n,) float32 at udfs.audio.RATE from start_s (clipped to the file), None when it cannot be read."""
    from udfs import audio as A
    from udfs.io import read_bytes

    try:
        samples = A.decode_audio(read_bytes(uri, 2**31)).samples
    except Exception:  # noqa: BLE001 - the page shows an empty row
        return None
    lo = int(max(0.0, start_s) * A.RATE)
    return samples[lo: lo + int(seconds * A.RATE)]


def spectrogram_png(x: np.ndarray, height: int = 96) -> bytes:
    """Log-magnitude spectrogram (256-point frames every 32 ms, 0-4 kHz upwards) as a PNG."""
    from PIL import Image

    n, hop = 256, 256
    if x.size < n:
        x = np.pad(x, (0, n - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::hop] * np.hanning(n)
    db = 20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) + 1e-6)
    db = np.clip((db - (db.max() - 70)) / 70, 0, 1)[:, ::-1].T  # low frequencies at the bottom
    img = Image.fromarray((255 * (1 - db)).astype(np.uint8)).resize((max(1, db.shape[1] * 2), height))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def wav_bytes(x: np.ndarray) -> bytes:
    """16-bit mono WAV at udfs.audio.RATE."""
    from udfs import audio as A

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(A.RATE)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def windows(row) -> tuple[float, float, float]:
    """(start in a, start in b, seconds): at most CLIP_S from the middle of a's span, mapped onto b."""
    span = max(row.end_a - row.start_a, 0.0)
    seconds = min(CLIP_S, max(span, 1.0))
    ta = row.start_a + (span - seconds) / 2 if span > seconds else row.start_a
    scale = row.time_scale if row.time_scale and np.isfinite(row.time_scale) else 1.0
    return ta, row.start_b + (ta - row.start_a) * scale, seconds


def _row(item: str, x: np.ndarray | None, start: float) -> str:
    label = f'<span title="{html.escape(item)}">{html.escape(item)} @ {start:.1f} s</span>'
    if x is None or x.size == 0:
        return f'<div class="au-row">{label}<em>could not be decoded</em></div>'
    png = base64.b64encode(spectrogram_png(x)).decode()
    wav = base64.b64encode(wav_bytes(x)).decode()
    return (f'<div class="au-row">{label}<img alt="spectrogram" src="data:image/png;base64,{png}">'
            f'<audio controls preload="none" src="data:audio/wav;base64,{wav}"></audio></div>')


def pair_html(row, uris: dict) -> str:
    ta, tb, seconds = windows(row)
    head = (f"audio_peaks: {int(row.aligned_anchors)} aligned anchors, similarity {row.similarity:.3f}, "
            f"a {row.start_a:.1f}-{row.end_a:.1f} s (coverage {row.coverage_a:.2f}) ~ "
            f"b {row.start_b:.1f}-{row.end_b:.1f} s (coverage {row.coverage_b:.2f}), time scale {row.time_scale:.3f}"
            + (", duplicate" if row.is_duplicate else ", not a duplicate"))
    a = _row(row.item_a, clip(uris[row.item_a], ta, seconds), ta) if uris.get(row.item_a) else ""
    b = _row(row.item_b, clip(uris[row.item_b], tb, seconds * (row.time_scale or 1.0)), tb) \
        if uris.get(row.item_b) else ""
    return f'<div class="au-pair"><p class="muted">{html.escape(head)}</p>{a}{b}</div>'


def audio_section(pairs: pd.DataFrame, manifest: pd.DataFrame, summary: dict, n: int = 8) -> str:
    """The duplicate pairs with the fewest aligned anchors, and the non-duplicates with the most."""
    uris = {i: (u if isinstance(u, str) else None) for i, u in zip(manifest["item_id"], manifest["uri"])}
    aligned = pairs[pairs["stage"] == "audio_peaks"].copy()
    aligned["covered"] = aligned[["coverage_a", "coverage_b"]].max(axis=1)
    above = aligned[aligned["is_duplicate"]].sort_values(["aligned_anchors", "covered", "item_a", "item_b"]).head(n)
    below = aligned[~aligned["is_duplicate"]].sort_values(["aligned_anchors", "covered", "item_a", "item_b"],
                                                          ascending=[False, False, True, True]).head(n)
    t = summary.get("thresholds", {})
    out = ["<h2>Audio pairs</h2>",
           f'<p class="muted">Each pair: up to {CLIP_S:.0f} s from the middle of item_a\'s matched span (upper row) '
           "and the same stretch of item_b at the aligned offset (lower row), as spectrograms (0-4 kHz) with a "
           f"player. Decision: aligned anchors >= {t.get('audio_min_score')} and coverage >= "
           f"{t.get('audio_min_coverage')}, similarity >= {t.get('audio_min_similarity')} "
           f"(below {t.get('audio_low_similarity')}: >= {t.get('audio_low_similarity_score')} aligned anchors) "
           f"(excerpts: {t.get('audio_excerpts')}).</p>"]
    for what, rows in (("called duplicates, fewest aligned anchors first", above),
                       ("not duplicates, most aligned anchors first", below)):
        out.append(f"<h3>{len(rows)} pairs {html.escape(what)}</h3>")
        out.extend(pair_html(r, uris) for r in rows.itertuples(index=False))
    return "".join(out)
