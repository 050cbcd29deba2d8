"""The report's text section: pairs of a text run shown as snippets side by side, differing words marked.

Texts are read again from each item's uri (udfs.text.decode_text), or, for inline
text, from the run's input table (the summary's `input` and `text.column`).
"""
from __future__ import annotations

import difflib
import html
from functools import lru_cache
from pathlib import Path

import pandas as pd

TEXT_CSS = """
.tx-pair{display:flex;gap:12px;margin:8px 0 16px}.tx-side{flex:1;border:1px solid #ddd;border-radius:6px;
  padding:6px 10px;background:#fafafa;font:12px/1.45 Georgia,serif;max-height:240px;overflow:auto}
.tx-side h4{font:600 12px system-ui,sans-serif;margin:0 0 4px}.tx-side del{background:#fbd3d3;text-decoration:none}
.tx-side ins{background:#cdeccf;text-decoration:none}
"""


def is_text_run(summary: dict) -> bool:
    return summary.get("config", {}).get("input", {}).get("kind") == "text"


def marked_words(a: str, b: str, limit: int = 400) -> tuple[str, str]:
    """HTML of the first `limit` words of `a` and `b`: words only in a wrapped in <del>, only in b in <ins>."""
    wa, wb = a.split()[:limit], b.split()[:limit]
    out_a, out_b = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes():
        left, right = html.escape(" ".join(wa[i1:i2])), html.escape(" ".join(wb[j1:j2]))
        if op == "equal":
            out_a.append(left)
            out_b.append(right)
        else:
            if left:
                out_a.append(f"<del>{left}</del>")
            if right:
                out_b.append(f"<ins>{right}</ins>")
    return " ".join(out_a), " ".join(out_b)


@lru_cache(maxsize=1)
def _inline_table(location: str, column: str | None) -> dict[str, str]:
    """id -> inline text of the run's input table (JSONL, CSV or Parquet)."""
    path = Path(location.removeprefix("file://").removeprefix("file:"))
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        table = pd.read_json(path, lines=True, dtype=False)
    elif suffix == ".csv":
        table = pd.read_csv(path, dtype=str)
    else:
        table = pd.read_parquet(path)
    col = column or "text"
    if "id" not in table.columns or col not in table.columns:
        return {}
    return {str(k): v for k, v in zip(table["id"], table[col]) if isinstance(v, str)}


def item_text(item_id: str, uri: str | None, summary: dict) -> str:
    """The visible text of an item, or a note saying why it cannot be shown."""
    from udfs.io import read_bytes
    from udfs.text import decode_inline, decode_text

    try:
        if uri:
            text, error = decode_text(read_bytes(uri, 64 * 2**20), uri)
        else:
            inline = _inline_table(summary.get("input", ""), summary["config"].get("text", {}).get("column"))
            text, error = decode_inline(inline.get(item_id, ""), item_id)
    except Exception as exc:  # noqa: BLE001 - the page shows why
        return f"[cannot read: {exc}]"
    return text if text is not None else f"[{error}]"


def pair_html(row, uris: dict, summary: dict) -> str:
    """One pair: both snippets side by side with their differing words marked."""
    a = item_text(row.item_a, uris.get(row.item_a), summary)
    b = item_text(row.item_b, uris.get(row.item_b), summary)
    ma, mb = marked_words(a, b)
    head = (f"{html.escape(row.stage)}: Jaccard {row.similarity:.3f}"
            + (f", MinHash slots differing {int(row.hamming)}" if row.stage == "text_minhash" else "")
            + (", duplicate" if row.is_duplicate else ", not a duplicate"))
    sides = "".join(f'<div class="tx-side"><h4>{html.escape(i)}</h4>{m}</div>'
                    for i, m in ((row.item_a, ma), (row.item_b, mb)))
    return f'<p class="muted">{head}</p><div class="tx-pair">{sides}</div>'


def text_section(pairs: pd.DataFrame, manifest: pd.DataFrame, summary: dict, n: int = 8) -> str:
    """Pairs just above and just below text.threshold, snippets side by side."""
    threshold = summary.get("thresholds", {}).get("text_threshold", 0.5)
    uris = {i: (u if isinstance(u, str) else None) for i, u in zip(manifest["item_id"], manifest["uri"])}
    near = pairs[pairs["stage"] == "text_minhash"]
    above = near[near["similarity"] >= threshold].sort_values(["similarity", "item_a", "item_b"]).head(n)
    below = near[near["similarity"] < threshold].sort_values(["similarity", "item_a", "item_b"],
                                                               ascending=[False, True, True]).head(n)
    out = ["<h2>Text pairs</h2>",
           f'<p class="muted">text_minhash pairs nearest to text.threshold = {threshold}: words only in the left '
           "text are marked red, words only in the right one green (first 400 words).</p>"]
    for what, rows in (("just above the threshold (called duplicates)", above),
                       ("just below the threshold (turned away)", below)):
        out.append(f"<h3>{len(rows)} pairs {what}</h3>")
        out.extend(pair_html(r, uris, summary) for r in rows.itertuples(index=False))
    return "".join(out)
