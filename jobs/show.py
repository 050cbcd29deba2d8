"""Print a finished run for a person: counts, what was dropped for what, and per-edit recall."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds


def read_manifest(result: str) -> pd.DataFrame:
    """The manifest of a run folder as pandas (the `action` partition becomes a column)."""
    table = ds.dataset(str(Path(result) / "manifest"), format="parquet", partitioning="hive").to_table()
    return table.to_pandas().sort_values("item_id", ignore_index=True)


def print_result(result: str, summary: dict, planted_csv: Path | None = None, limit: int = 12) -> None:
    manifest = read_manifest(result)
    counts = summary["counts"]
    print(f"\nRun {summary['run_id']}: {counts['items']} items -> keep {counts['keep']}, "
          f"drop {counts['drop']}, error {counts['error']}   (output: {result})")
    print("reasons:", ", ".join(f"{k} {v}" for k, v in sorted(summary["reasons"].items())))
    stages = summary.get("stages", {})
    if "clusters" in stages:
        print(f"clusters: {stages['clusters']}, the largest {stages.get('largest_cluster', 0)} items "
              f"(each a keeper and the items that match it directly)")
    drops = manifest[manifest["action"] == "drop"]
    if len(drops):
        print(f"\ndropped item -> kept item (matched by, similarity), first {min(limit, len(drops))} of {len(drops)}:")
        for row in drops.head(limit).itertuples():
            print(f"  {row.item_id:<40} -> {row.keeper_id:<40} {row.matched_by:<15} {row.keeper_similarity:.3f}")
    errors = manifest[manifest["action"] == "error"]
    if len(errors):
        print("\nerrors:")
        for row in errors.itertuples():
            print(f"  {row.item_id:<44} {row.error}")
    if planted_csv is not None and Path(planted_csv).exists():
        print("\nper edit: copies in the same cluster as their original")
        planted = pd.read_csv(planted_csv)
        print(edit_recall(manifest, planted).to_string(index=False))
        alike = planted[planted["edit"] == "lookalike"]
        if len(alike):
            joined = manifest.set_index("item_id").reindex(alike["file"])["cluster_id"].notna()
            print(f"\nlook-alikes (different pictures that hash alike, planted to stay apart): {int(joined.sum())} "
                  f"of {len(alike)} in a cluster (0 is right)")
        print(f"\nNext: dedup report --run {result} --labels {planted_csv}   (an HTML page of the run)")


def edit_recall(manifest: pd.DataFrame, planted: pd.DataFrame) -> pd.DataFrame:
    """For each planted edit: how many copies ended in the same cluster as their original."""
    m = manifest.set_index("item_id")
    originals = planted[planted["edit"] == "original"].set_index("original")["file"]
    rows = []
    for edit, group in planted[~planted["edit"].isin(["original", "corrupt", "lookalike"])].groupby("edit"):
        found = 0
        for rec in group.itertuples():
            orig_file = originals.get(rec.original)
            c_copy = m.at[rec.file, "cluster_id"] if rec.file in m.index else None
            c_orig = m.at[orig_file, "cluster_id"] if orig_file in m.index else None
            found += int(c_copy is not None and pd.notna(c_copy) and c_copy == c_orig)
        rows.append({"edit": edit, "copies": len(group), "found": found,
                     "recall": round(found / len(group), 2)})
    return pd.DataFrame(rows)
