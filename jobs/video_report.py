"""The report's video section: aligned pairs as two keyframe strips, one above the other, at matching times.

For each `video_frames` pair near the decision, STRIP_FRAMES times are spread over
item_a's matched segment and mapped onto item_b's by the segment's line
(t_b = start_b + (t_a - start_a) * time_scale); the frames at those times are
decoded again from each item's uri (PyAV, seeking to each time), so a reader
sees whether the two strips show the same shots in the same order.
"""
from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd

STRIP_FRAMES = 6
VIDEO_CSS = """
.vd-pair{margin:8px 0 18px}.vd-strip{display:flex;gap:4px;align-items:flex-end;margin:2px 0}
.vd-strip img{height:72px;border:1px solid #ccc}.vd-strip span{font:11px system-ui,sans-serif;color:#555;
  width:260px;flex:none;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
"""


def is_video_run(summary: dict) -> bool:
    return summary.get("config", {}).get("input", {}).get("kind") == "video"


def frames_at(uri: str, times: list[float], height: int = 72) -> list[bytes | None]:
    """PNG bytes of the frame shown at each time (seconds from the first frame), None where none decodes."""
    import av

    from udfs.io import read_bytes

    out: list[bytes | None] = []
    try:
        container = av.open(io.BytesIO(read_bytes(uri, 2**31)))
    except Exception:  # noqa: BLE001 - the page shows an empty tile
        return [None] * len(times)
    with container:
        stream = container.streams.video[0]
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        for t in times:
            png = None
            try:
                container.seek(int((start + t) / stream.time_base), stream=stream, backward=True)
                for frame in container.decode(stream):
                    if frame.time is None or frame.time >= start + t - 1e-3:
                        img = frame.to_image()
                        img = img.resize((max(1, round(img.width * height / img.height)), height))
                        buf = io.BytesIO()
                        img.save(buf, format="PNG")
                        png = buf.getvalue()
                        break
            except Exception:  # noqa: BLE001 - an undecodable spot is an empty tile
                png = None
            out.append(png)
    return out


def strip_times(row) -> tuple[list[float], list[float]]:
    """STRIP_FRAMES times over a's segment and the matching times in b (by the segment's line)."""
    span = max(row.end_a - row.start_a, 1e-6)
    ta = list(row.start_a + span * (np.arange(STRIP_FRAMES) + 0.5) / STRIP_FRAMES)
    scale = row.time_scale if row.time_scale and np.isfinite(row.time_scale) else 1.0
    tb = [row.start_b + (t - row.start_a) * scale for t in ta]
    return ta, tb


def _strip(item: str, times: list[float], pngs: list[bytes | None]) -> str:
    tiles = "".join(
        f'<img alt="{t:.1f} s" title="{t:.1f} s" src="data:image/png;base64,{base64.b64encode(p).decode()}">'
        if p else f'<img alt="{t:.1f} s: no frame">' for t, p in zip(times, pngs))
    return f'<div class="vd-strip"><span title="{html.escape(item)}">{html.escape(item)}</span>{tiles}</div>'


def pair_html(row, uris: dict) -> str:
    ta, tb = strip_times(row)
    head = (f"video_frames: similarity {row.similarity:.3f}, median Hamming {int(row.hamming)}, "
            f"a {row.start_a:.1f}-{row.end_a:.1f} s (coverage {row.coverage_a:.2f}) ~ "
            f"b {row.start_b:.1f}-{row.end_b:.1f} s (coverage {row.coverage_b:.2f}), time scale {row.time_scale:.2f}"
            + (", duplicate" if row.is_duplicate else ", not a duplicate"))
    a = _strip(row.item_a, ta, frames_at(uris[row.item_a], ta)) if uris.get(row.item_a) else ""
    b = _strip(row.item_b, tb, frames_at(uris[row.item_b], tb)) if uris.get(row.item_b) else ""
    return f'<div class="vd-pair"><p class="muted">{html.escape(head)}</p>{a}{b}</div>'


def video_section(pairs: pd.DataFrame, manifest: pd.DataFrame, summary: dict, n: int = 8) -> str:
    """The duplicate pairs with the least similarity or coverage, and the non-duplicates with the most."""
    uris = {i: (u if isinstance(u, str) else None) for i, u in zip(manifest["item_id"], manifest["uri"])}
    aligned = pairs[pairs["stage"] == "video_frames"].copy()
    aligned["covered"] = aligned[["coverage_a", "coverage_b"]].max(axis=1)
    above = aligned[aligned["is_duplicate"]].sort_values(["similarity", "covered", "item_a", "item_b"]).head(n)
    below = aligned[~aligned["is_duplicate"]].sort_values(["covered", "similarity", "item_a", "item_b"],
                                                          ascending=[False, False, True, True]).head(n)
    t = summary.get("thresholds", {})
    out = ["<h2>Video pairs</h2>",
           f'<p class="muted">Each pair: {STRIP_FRAMES} frames spread over item_a\'s matched segment (upper strip) '
           "and the frames at the matching times of item_b (lower strip). Decision: similarity >= "
           f"{t.get('video_threshold')} and coverage >= {t.get('video_min_coverage')} "
           f"(excerpts: {t.get('video_excerpts')}).</p>"]
    for what, rows in (("called duplicates, least similar or covered first", above),
                       ("not duplicates, most covered first", below)):
        out.append(f"<h3>{len(rows)} pairs {html.escape(what)}</h3>")
        out.extend(pair_html(r, uris) for r in rows.itertuples(index=False))
    return "".join(out)
