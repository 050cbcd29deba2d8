"""`dedup report`: one self-contained HTML page about a finished run, no notebook needed.

The page holds the run summary, a score histogram per stage with the threshold
marked, galleries of the pairs just accepted and just rejected by it, the
largest clusters and the clusters with the weakest links; with labels (a
labels CSV or a generated corpus' planted.csv) also precision / recall / F1
against the threshold and the conf/ value that reaches a target precision.
Figures are embedded PNGs, thumbnails base64 JPEGs: the file can be mailed or
attached to a ticket. The computations live in :mod:`jobs.tuning`.
"""
from __future__ import annotations

import argparse
import base64
import html
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from jobs import audio_report, text_report, video_report
from jobs import tuning as T

log = logging.getLogger("dedup")

PAGE_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1200px;color:#222;
  padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin:18px 0 6px}.muted{color:#666}.figs{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
table.dd{border-collapse:collapse;font-size:12px}table.dd td,table.dd th{border:1px solid #ddd;padding:2px 8px;
  text-align:right}table.dd th{background:#f2f2f2}table.dd td:first-child{text-align:left}
.counts{display:flex;gap:12px;flex-wrap:wrap;margin:10px 0}.count{border:1px solid #ddd;border-radius:6px;
  padding:8px 14px;min-width:90px}.count b{display:block;font-size:22px}
.count.keep b{color:#1f6fd1}.count.drop b{color:#e08a00}.count.error b{color:#d43d3d}
pre.conf{background:#f6f8fa;border:1px solid #ddd;padding:8px 12px;display:inline-block}
.warn{color:#a15c00}
"""


def _png_img(png: bytes, alt: str) -> str:
    return f'<img class="fig" alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _table(df: pd.DataFrame, floats: str = "{:.3f}") -> str:
    return df.to_html(index=False, classes="dd", border=0, float_format=floats.format, na_rep="-")


def _summary_section(run: T.Run) -> str:
    s = run.summary
    counts = s.get("counts", {})
    order = ["items", "keep", "drop", "error"] + sorted(set(counts) - {"items", "keep", "drop", "error"})
    boxes = "".join(f'<div class="count {k}"><b>{counts[k]}</b>{html.escape(k)}</div>' for k in order if k in counts)
    reasons = pd.DataFrame(sorted(s.get("reasons", {}).items()), columns=["reason", "items"])
    settings = T.summary_table(run)
    settings = settings[~settings["setting"].str.startswith(("items:", "reason:"))]
    return (f"<h2>Summary</h2><div class=\"counts\">{boxes}</div>"
            f'<div class="figs"><div>{_table(reasons)}</div><div>{_table(settings.astype(str))}</div></div>')


def _pr_section(run: T.Run, stage: str, labels: pd.DataFrame, target: float) -> str:
    curve = T.pr_curve(run.pairs, labels, stage, run.manifest)
    if curve.empty:
        return "<p class=\"muted\">No stored pairs for this stage.</p>"
    chosen = T.threshold_for_precision(curve, target)
    current = run.threshold(stage)
    fig = T.plot_pr_curve(curve, current=current, chosen=chosen, target=target)
    positives = int(curve["tp"].iloc[0] + curve["fn"].iloc[0])
    out = [(f"<h3>Precision / recall over labelled pairs ({positives} labelled duplicate pairs of distinct "
           f"contents; recall counts those never stored as candidates too)</h3>"),
           (f'<div class="figs">{_png_img(T.figure_png(fig), f"{stage} precision recall")}'
           f"<div>{_table(curve.drop(columns=['stage']))}</div></div>")]
    if chosen is None:
        out.append(f'<p class="warn">No stored threshold reaches precision {target}.</p>')
        return "".join(out)
    row = curve[curve["threshold"] == chosen].iloc[0]
    note = (f"precision {row.precision:.3f}, recall {row.recall:.3f} at {chosen} "
            f"(the run used {current})")
    out.append(f"<p>Highest recall with precision &ge; {target}: <b>{chosen}</b> &mdash; {html.escape(note)}. "
               "Put this in conf/:</p>")
    out.append(f'<pre class="conf">{html.escape(T.conf_snippet(stage, chosen))}</pre>')
    if chosen == run.candidate_threshold(stage):
        out.append('<p class="warn">This is the loosest threshold pairs/ was stored at; a looser one may do '
                   "as well: rerun with a looser candidate threshold to see past it.</p>")
    return "".join(out)


def _stage_section(run: T.Run, stage: str, labels: pd.DataFrame | None, thumbs: int, px: int,
                   target: float) -> str:
    threshold = run.threshold(stage)
    hist = T.plot_score_histogram(run, stage, labels)
    out = [f"<h2>Stage {html.escape(stage)}</h2>",
           f'<div class="figs">{_png_img(T.figure_png(hist), f"{stage} score histogram")}</div>']
    if labels is not None:
        out.append(_pr_section(run, stage, labels, target))
    if threshold is None:
        return "".join(out)
    for side, what in (("accepted", "just above the threshold: the weakest pairs still called duplicates"),
                       ("rejected", "just below the threshold: the strongest pairs turned away")):
        rows = T.borderline_pairs(run.pairs, stage, threshold, thumbs, side=side)
        out.append(f"<h3>{len(rows)} pairs {html.escape(what)}</h3>")
        out.append(T.gallery_html(T.pair_cards(rows, run, labels), px, css=False))
    return "".join(out)


def _cluster_section(run: T.Run, thumbs: int, px: int, labels: pd.DataFrame | None = None) -> str:
    if run.clusters.empty:
        return "<h2>Clusters</h2><p class=\"muted\">No clusters.</p>"
    per = max(1, thumbs // 2)
    largest = T.largest_clusters(run.clusters, per)["cluster_id"]
    weakest = T.weakest_clusters(run.clusters, per)["cluster_id"]
    facts = f"{len(run.clusters)} clusters, the largest with {int(run.clusters['size'].max())} items"
    mixed_html = ""
    if labels is not None:
        mixed = T.mixed_clusters(run, labels)
        facts += f"; {len(mixed)} mixed (an item labelled not a duplicate of its keeper)"
        if mixed:
            mixed_html = (f"<h3>Mixed clusters (first {min(per, len(mixed))} of {len(mixed)})</h3>"
                          + T.gallery_html(T.cluster_cards(run, mixed[:per], max_tiles=thumbs), px, css=False))
    return ("<h2>Clusters</h2>"
            f"<p>{html.escape(facts)}.</p>"
            f'<div class="figs">{_png_img(T.figure_png(T.plot_cluster_overview(run.clusters)), "clusters")}</div>'
            + mixed_html
            + f"<h3>The {len(largest)} largest clusters (keeper framed in blue)</h3>"
            + T.gallery_html(T.cluster_cards(run, largest, max_tiles=thumbs), px, css=False)
            + f"<h3>The {len(weakest)} clusters with the weakest links (chaining suspects)</h3>"
            + T.gallery_html(T.cluster_cards(run, weakest, max_tiles=thumbs), px, css=False))


def build_report(run: T.Run, labels: pd.DataFrame | None = None, thumbs: int = 8, thumb_px: int = 96,
                 target_precision: float = 0.99, labels_name: str | None = None) -> str:
    """The HTML page (a string); see :func:`write_report`."""
    s = run.summary
    title = f"dedup run {s.get('run_id', '')}"
    lab = (f"labels: {html.escape(labels_name or 'given')} ({len(labels)} labelled pairs, "
           f"{int(labels['is_duplicate'].sum())} duplicates)" if labels is not None else
           "no labels given (--labels planted.csv or a labels CSV adds precision / recall)")
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="muted">{html.escape(str(run.path))} &middot; {lab}</p>',
             _summary_section(run)]
    for stage in run.stages:
        parts.append(_stage_section(run, stage, labels, thumbs, thumb_px, target_precision))
    if text_report.is_text_run(s):  # snippets with the differing words marked, instead of thumbnails
        parts.append(text_report.text_section(run.pairs, run.manifest, s, thumbs))
    elif video_report.is_video_run(s):  # keyframe strips at the aligned times, instead of thumbnails
        parts.append(video_report.video_section(run.pairs, run.manifest, s, thumbs))
    elif audio_report.is_audio_run(s):  # spectrograms and players at the aligned offset, instead of thumbnails
        parts.append(audio_report.audio_section(run.pairs, run.manifest, s, thumbs))
    else:
        parts.append(_cluster_section(run, thumbs, thumb_px, labels))
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{PAGE_CSS}{T.GALLERY_CSS}{text_report.TEXT_CSS}{video_report.VIDEO_CSS}"
            f"{audio_report.AUDIO_CSS}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")


def write_report(run_dir: str | os.PathLike[str], out_path: str | os.PathLike[str] | None = None,
                 labels_path: str | os.PathLike[str] | None = None, thumbs: int = 8, thumb_px: int = 96,
                 target_precision: float = 0.99) -> Path:
    """Write the report of the run in ``run_dir`` to ``out_path`` (default RUN/report.html).

    ``thumbs``: pairs per gallery, images per cluster card (half as many clusters
    per list); ``thumb_px``: thumbnail edge in pixels. Returns the path written.
    """
    run = T.load_run(run_dir)
    labels = T.read_labels(labels_path, run) if labels_path else None
    page = build_report(run, labels, thumbs, thumb_px, target_precision,
                        labels_name=Path(labels_path).name if labels_path else None)
    out = Path(out_path) if out_path else Path(run_dir) / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


# ---------------------------------------------------------------------------
# CLI hook: jobs/dedup.py registers the subcommand and calls run()
# ---------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `report` on the dedup CLI's subparsers; `args.handler` is :func:`run`."""
    p = subparsers.add_parser("report", help="write an HTML page about a finished run (histograms, galleries)")
    p.add_argument("--run", required=True, help="a finished run folder (manifest/, pairs/, summary.json)")
    p.add_argument("--out", default=None, help="HTML file to write (default: RUN/report.html)")
    p.add_argument("--labels", default=None,
                   help="labels CSV (item_a,item_b,is_duplicate) or a generated corpus' planted.csv")
    p.add_argument("--thumbs", type=int, default=8, help="pairs per gallery (default: %(default)s)")
    p.add_argument("--thumb-px", type=int, default=96, help="thumbnail size in pixels (default: %(default)s)")
    p.add_argument("--target-precision", type=float, default=0.99,
                   help="precision the suggested threshold must reach (default: %(default)s)")
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Exit code: 0 written, 2 the run folder or labels file cannot be used."""
    try:
        out = write_report(args.run, args.out, args.labels, thumbs=args.thumbs, thumb_px=args.thumb_px,
                           target_precision=args.target_precision)
    except (FileNotFoundError, ValueError) as exc:
        log.error("report: %s", exc)
        return 2
    print(out)
    return 0


# ---------------------------------------------------------------------------
# Headless browser check (tests, docs/report.png)
# ---------------------------------------------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The first Chromium/Chrome executable on PATH, or None."""
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def screenshot(page: str | os.PathLike[str], png: str | os.PathLike[str], width: int = 1280, height: int = 2000,
               chromium: str | None = None, timeout: float = 90) -> Path:
    """Render a local HTML file in headless Chromium and save a PNG of the window."""
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("no chromium on PATH")
    png = Path(png).resolve()
    with tempfile.TemporaryDirectory(prefix="dedup-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
               f"--window-size={width},{height}", Path(page).resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0 or not png.exists():
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return png
