"""Match quality of ``dedup run --kind text`` on the text corpus (tune and kept-aside parts).

    python -m bench.text --build                     # build out/text/ (bench.text_corpus), run + score tune
    python -m bench.text --part tune                 # run the job on tune/ with the shipped defaults, score it
    python -m bench.text --part tune --set text.threshold=0.5 --label t05
    python -m bench.text --part aside                # once, with the shipped defaults (never tuned on)
    python -m bench.text --part tune --result DIR    # score an existing run's output only
    python -m bench.text --sweep                     # offline sweep on tune: shingle sizes x thresholds

The job runs as users run it: ``python -m jobs.dedup run --kind text --input PART --output
TMP/result [--conf FILE] [--set KEY=VALUE ...]`` in a child process. Its manifest is scored
against the part's ``truth.csv``:

- pair precision / recall / F1 over clusters (pairs of items sharing a ``cluster_id`` against
  pairs sharing a group); recall of the claimed edits (up to 10% of the words changed);
- recall per edit (the copy in its original's cluster) and per kind x edit;
- mixed clusters (clusters holding more than one group) and the kinds they mix, the
  largest cluster, precision per kind, singletons matched, actions/reasons of short documents.

Sweep (``--sweep``, tune only): every file decoded and shingled with the job's kernels
(``udfs.text``) for each shingle size; the exact Jaccard of every pair of documents (a sparse
product); then per threshold: edge precision (pairs at or above it that share a group),
edge recall (original-copy pairs at or above it, all and claimed edits, per edit), and pair
precision / recall over connected components of those edges; and, for the MinHash/LSH
settings given, the share of true edges that share a band key (LSH candidate recall).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench import broad as bb
from bench import text_corpus as tc

ROOT = tc.ROOT
ORIGINAL, SINGLE = tc.ORIGINAL_EDIT, tc.SINGLE_EDIT


# ---------------------------------------------------------------------------- scoring

def _c2(n) -> int:
    n = np.asarray(n, dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def manifest_labels(result: Path, files: set[str]) -> tuple[dict[str, str | None], pd.DataFrame]:
    """file (relative to the corpus root) -> cluster_id, and the manifest itself."""
    from jobs.show import read_manifest

    m = read_manifest(str(result))
    keys = m["item_id"].astype(str)
    if not keys.isin(files).any() and "uri" in m:   # ids are not paths: match the uri's tail
        uri = m["uri"].astype(str)
        keys = pd.Series([next((f for f in _tails(u) if f in files), u) for u in uri], index=m.index)
    m = m.assign(file=keys.to_numpy())
    labels = {f: (c if isinstance(c, str) else None) for f, c in zip(m["file"], m["cluster_id"])}
    return labels, m


def _tails(uri: str) -> list[str]:
    parts = uri.split("/")
    return ["/".join(parts[i:]) for i in range(len(parts))]


def score(truth: pd.DataFrame, labels: dict[str, str | None]) -> dict:
    """Pair precision/recall/F1 over clusters, recall per edit, mixed clusters, per kind (JSON-ready)."""
    df = bb.clustered(truth, labels)
    tp = _c2(df.groupby(["cluster", "group"]).size())
    predicted = _c2(df.groupby("cluster").size())
    true = _c2(df.groupby("group").size())
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    home = df[df["edit"] == ORIGINAL].set_index("original")["cluster"]
    copies = df[~df["edit"].isin([ORIGINAL, SINGLE])].copy()
    copies["found"] = copies["cluster"].to_numpy() == home.reindex(copies["original"]).to_numpy()
    per_edit = copies.groupby("edit")["found"].mean()
    claimed = copies[copies["edit"].isin(tc.CLAIMED_EDITS)]
    groups = df[df["size"] > 1].groupby("cluster")["group"].nunique()
    mixed = groups[groups > 1].index
    return {
        "items": len(df), "precision": precision, "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "predicted_pairs": predicted, "true_pairs": true, "false_pairs": predicted - tp,
        "copies_found": float(copies["found"].mean()) if len(copies) else float("nan"),
        "claimed_found": float(claimed["found"].mean()) if len(claimed) else float("nan"),
        "per_edit": {e: float(per_edit[e]) for e in tc.EDITS if e in per_edit},
        "copies_per_edit": copies["edit"].value_counts().to_dict(),
        "clusters": int(df.loc[df["size"] > 1, "cluster"].nunique()),
        "mixed_clusters": len(mixed),
        "mixed_examples": [sorted(set(df.loc[df["cluster"] == c, "group"])) for c in list(mixed)[:5]],
        "merge_kinds": dict(bb.merge_kinds(df).most_common()),
        "false_pairs_by_kind": {f"{a}|{b}": n for (a, b), n in bb.false_pairs_by_kind(df).most_common()},
        "largest_cluster": bb.largest(df),
        "singles_matched": int(((df["edit"] == SINGLE) & (df["size"] > 1)).sum()),
        "per_kind": bb.per_kind(df).to_dict(orient="index"),
        "recall_kind_edit": bb.recall_kind_edit(df).round(3).to_dict(orient="index"),
        "recall_format": copies.groupby("format")["found"].mean().round(3).to_dict(),
    }


def score_result(corpus: Path, result: Path) -> dict:
    truth = tc.load_truth(corpus)
    labels, m = manifest_labels(result, set(truth["file"]))
    res = score(truth, labels)
    res["files"] = len(truth)
    res["manifest_rows"] = len(m)
    res["unmatched_files"] = int((~truth["file"].isin(m["file"])).sum())
    res["actions"] = m["action"].value_counts().to_dict()
    res["reasons"] = m["reason"].value_counts().to_dict() if "reason" in m else {}
    res.update(edge_recall(truth, result, m))
    short = m[m["file"].isin(truth.loc[truth["kind"] == "short", "file"])]
    res["short_docs"] = {f"{a}/{r}": int(n) for (a, r), n in short.groupby(["action", "reason"]).size().items()} \
        if "reason" in m else {}
    return res


def edge_recall(truth: pd.DataFrame, result: Path, m: pd.DataFrame) -> dict:
    """Share of copies whose pair with their original is a duplicate edge of ``pairs/`` (is_duplicate),
    whatever the clusters made of it (clusters are stars around a keeper)."""
    import pyarrow.parquet as pq

    if not (result / "pairs").exists():
        return {}
    p = pq.read_table(result / "pairs", columns=["item_a", "item_b", "is_duplicate"]).to_pandas()
    to_file = dict(zip(m["item_id"].astype(str), m["file"]))
    dup = {tuple(sorted((to_file.get(a, a), to_file.get(b, b)))) for a, b in
           zip(p.loc[p["is_duplicate"], "item_a"], p.loc[p["is_duplicate"], "item_b"])}
    home = truth[truth["edit"] == ORIGINAL].set_index("group")["file"]
    copies = truth[~truth["edit"].isin([ORIGINAL, SINGLE])]
    hit = pd.Series([tuple(sorted((f, home.get(g, "")))) in dup for f, g in zip(copies["file"], copies["group"])],
                    index=copies.index)
    claimed = copies["edit"].isin(tc.CLAIMED_EDITS)
    group = dict(zip(truth["file"], truth["group"]))
    false_edges = sum(1 for a, b in dup if group.get(a) != group.get(b))
    return {"duplicate_edges": len(dup), "false_duplicate_edges": false_edges,
            "edge_found": float(hit.mean()), "edge_claimed_found": float(hit[claimed].mean()),
            "edge_per_edit": hit.groupby(copies["edit"]).mean().round(4).to_dict()}


# ---------------------------------------------------------------------------- job runs

def job_command(corpus: Path, output: Path, sets: list[str], confs: list[Path]) -> list[str]:
    cmd = bb.job_command(corpus, output, sets, confs)
    return cmd[:4] + ["--kind", "text"] + cmd[4:]


def run_part(corpus_root: Path, part: str, args) -> dict:
    corpus = corpus_root / part
    if not (corpus / "truth.csv").exists():
        raise SystemExit(f"no corpus at {corpus}: build it with --build (or python -m bench.text_corpus)")
    if args.result is not None:
        res = score_result(corpus, args.result)
        res.update({"result": str(args.result), "timings_s": bb.stage_timings(args.result)})
        return res
    out_dir = Path(tempfile.mkdtemp(prefix=f"text-{part}-"))
    result = out_dir / "result"
    cmd = job_command(corpus, result, args.set, args.conf)
    _log(f"[text] {part}: {' '.join(cmd)}")
    try:
        wall = bb.run_job(cmd, out_dir / "job.log")
    except RuntimeError as exc:
        _log(f"[text] {part}: {exc}")
        return {"failed": str(exc).splitlines()[0], "log": str(out_dir / "job.log"), "command": cmd}
    res = score_result(corpus, result)
    res.update({"wall_s": round(wall, 1), "timings_s": bb.stage_timings(result), "result": str(result),
                "command": cmd})
    _log(f"[text] {part}: job {wall:.0f} s, precision {res['precision']:.3f}, recall {res['recall']:.3f}")
    return res


def print_report(label: str, results: dict[str, dict]) -> None:
    fmt = {"display.width": 250, "display.max_columns": 30, "display.max_rows": 200,
           "display.float_format": "{:.3f}".format}
    with pd.option_context(*[x for kv in fmt.items() for x in kv]):
        for part, r in results.items():
            if "failed" in r:
                print(f"== {label}: {part}: {r['failed']} (log {r['log']})")
                continue
            print(f"== {label}: {part} ({r['files']} files, manifest rows {r['manifest_rows']}, "
                  f"unmatched {r['unmatched_files']})")
            print(f"pair precision {r['precision']:.4f}  recall {r['recall']:.4f}  F1 {r['f1']:.4f}  "
                  f"(predicted {r['predicted_pairs']}, false {r['false_pairs']}, true {r['true_pairs']})")
            print(f"copies in their original's cluster: all {r['copies_found']:.4f}, claimed edits "
                  f"(<= 10% words) {r['claimed_found']:.4f}")
            if "edge_found" in r:
                print(f"original-copy pair a duplicate edge in pairs/: all {r['edge_found']:.4f}, claimed edits "
                      f"{r['edge_claimed_found']:.4f} (duplicate edges {r['duplicate_edges']}, false "
                      f"{r['false_duplicate_edges']}); per edit: "
                      + ", ".join(f"{e} {v:.3f}" for e, v in r["edge_per_edit"].items()))
            print(f"clusters {r['clusters']}, mixed {r['mixed_clusters']}, largest {r['largest_cluster']}, "
                  f"singles matched {r['singles_matched']}")
            print("actions: " + json.dumps(r["actions"]) + "  reasons: " + json.dumps(r["reasons"]))
            print("short docs (action/reason): " + json.dumps(r["short_docs"]))
            if r.get("wall_s"):
                print(f"job wall {r['wall_s']} s; stages: " + ", ".join(f"{k} {v:.1f}" for k, v in
                                                                       r.get("timings_s", {}).items()))
            print("recall per edit: " + ", ".join(f"{e} {v:.3f}" for e, v in r["per_edit"].items()))
            print("recall per format: " + json.dumps(r["recall_format"]))
            print("per kind:")
            print(pd.DataFrame(r["per_kind"]).T.to_string())
            print("false pairs by kinds: " + (", ".join(f"{k} {n}" for k, n in
                                                         list(r["false_pairs_by_kind"].items())[:10]) or "none"))
            print("mixed clusters by kinds: " + (", ".join(f"{k} {n}" for k, n in r["merge_kinds"].items())
                                                 or "none"))
            if r["mixed_examples"]:
                print(f"e.g. {r['mixed_examples'][:3]}")
            print("recall kind x edit:")
            print(pd.DataFrame(r["recall_kind_edit"]).T.to_string(float_format="{:.2f}".format))


# ---------------------------------------------------------------------------- offline sweep

def read_docs(corpus: Path, files: list[str]) -> list[str]:
    """Visible text of every file, decoded as the job does (udfs.text.decode_text); '' on a decode error."""
    from udfs import text as ut

    out = []
    for f in files:
        text, _err = ut.decode_text((corpus / f).read_bytes(), f)
        out.append(text or "")
    return out


def exact_jaccard_pairs(sets: list[np.ndarray], floor: float) -> pd.DataFrame:
    """Every pair (i < j) with exact Jaccard >= floor: a sparse docs x shingles product (n^2 ints at most)."""
    from scipy import sparse

    lengths = np.array([len(s) for s in sets])
    allh = np.concatenate(sets) if lengths.sum() else np.empty(0, np.uint64)
    _, col = np.unique(allh, return_inverse=True)
    row = np.repeat(np.arange(len(sets)), lengths)
    x = sparse.csr_matrix((np.ones(len(col), np.int32), (row, col)), shape=(len(sets), col.max() + 1 if len(col) else 1))
    inter = sparse.triu(x @ x.T, k=1).tocoo()
    union = lengths[inter.row] + lengths[inter.col] - inter.data
    jac = inter.data / np.maximum(union, 1)
    keep = jac >= floor
    return pd.DataFrame({"i": inter.row[keep], "j": inter.col[keep], "jaccard": jac[keep]})


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    g = sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def sweep(corpus: Path, shingles: list[int], thresholds: list[float], lsh: list[tuple[int, int, int]],
          floor: float = 0.15) -> pd.DataFrame:
    """Rows per (shingle size, threshold): edge and component precision/recall, per edit recall, LSH recall."""
    from udfs import text as ut

    truth = tc.load_truth(corpus)
    files = truth["file"].tolist()
    texts = read_docs(corpus, files)
    words = [ut.words(ut.normalise(t)) for t in texts]
    group = truth["group"].to_numpy()
    edit = truth["edit"].to_numpy()
    orig_idx = pd.Series(np.arange(len(truth)))[truth["edit"].to_numpy() == ORIGINAL]
    orig_of = dict(zip(truth.loc[orig_idx.index, "group"], orig_idx.to_numpy()))
    copy_mask = ~np.isin(edit, [ORIGINAL, SINGLE])
    copy_rows = np.flatnonzero(copy_mask)
    copy_orig = np.array([orig_of.get(g, -1) for g in group[copy_rows]])
    true_total = _c2(truth.groupby("group").size())
    rows = []
    for k in shingles:
        sets = [ut.shingle_hashes(w, k) for w in words]
        pairs = exact_jaccard_pairs(sets, floor)
        same = group[pairs["i"]] == group[pairs["j"]]
        # original-copy pair Jaccard (0 when below the floor)
        key = dict(zip(zip(pairs["i"], pairs["j"]), pairs["jaccard"]))
        oc = np.array([key.get((min(a, b), max(a, b)), 0.0) for a, b in zip(copy_rows, copy_orig)])
        lsh_rows = {}
        for perm, bands, rows_ in lsh:
            sig = ut.minhash_signatures(sets, ut.permutations(perm))
            keys = ut.band_keys(sig, bands, rows_)
            lsh_rows[(perm, bands, rows_)] = _band_hits(keys, pairs["i"].to_numpy(), pairs["j"].to_numpy())
        for t in thresholds:
            e = (pairs["jaccard"] >= t).to_numpy()
            n_e = int(e.sum())
            found = oc >= t
            claimed = np.isin(edit[copy_rows], tc.CLAIMED_EDITS)
            comp = _components(len(files), pairs["i"].to_numpy()[e], pairs["j"].to_numpy()[e])
            cdf = pd.DataFrame({"c": comp, "g": group})
            tp = _c2(cdf.groupby(["c", "g"]).size())
            pred = _c2(cdf.groupby("c").size())
            row = {"shingle": k, "threshold": t, "edges": n_e,
                   "edge precision": float(same[e].mean()) if n_e else 1.0, "false edges": int((~same[e]).sum()),
                   "edge recall (orig-copy)": float(found.mean()), "claimed recall": float(found[claimed].mean()),
                   "cc pair precision": tp / pred if pred else 1.0, "cc pair recall": tp / true_total}
            for (perm, bands, rows_), hit in lsh_rows.items():
                row[f"lsh {perm}/{bands}x{rows_} true-edge recall"] = float(hit[e & same].mean()) if (e & same).any() \
                    else float("nan")
            for ed in tc.EDITS:
                m = edit[copy_rows] == ed
                if m.any():
                    row[ed] = float(found[m].mean())
            rows.append(row)
        _log(f"[text] sweep: shingle {k}: {len(pairs)} pairs >= {floor}")
    return pd.DataFrame(rows)


def _band_hits(keys: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """For pairs (i, j): do the two documents share a band key (same band)?"""
    return (keys[i] == keys[j]).any(axis=1)


def hard_negative_table(corpus: Path, k: int = tc.SHINGLE) -> pd.DataFrame:
    """Largest Jaccard of each original to another group's original, by kind (the look-alikes)."""
    from udfs import text as ut

    truth = tc.load_truth(corpus)
    o = truth[truth["edit"].isin([ORIGINAL, SINGLE]) & (truth["kind"] != "short")].reset_index(drop=True)
    sets = [ut.shingle_hashes(ut.words(ut.normalise(t)), k) for t in read_docs(corpus, o["file"].tolist())]
    p = exact_jaccard_pairs(sets, 0.1)
    best = np.zeros(len(o))
    np.maximum.at(best, p["i"].to_numpy(), p["jaccard"].to_numpy())
    np.maximum.at(best, p["j"].to_numpy(), p["jaccard"].to_numpy())
    o["max_jaccard_other"] = best
    return o.groupby("kind")["max_jaccard_other"].describe(percentiles=[0.5, 0.9, 0.99])


# ---------------------------------------------------------------------------- main

def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _lsh_arg(s: str) -> tuple[int, int, int]:
    perm, rest = s.split("/")
    bands, rows = rest.split("x")
    return int(perm), int(bands), int(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.text", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=tc.DEFAULT_OUT, help="the text corpus root (tune/, aside/)")
    ap.add_argument("--build", action="store_true", help="(re)build the corpus first")
    ap.add_argument("--per-part", type=int, default=tc.DEFAULT_PER_PART, help="with --build: files per part")
    ap.add_argument("--quick", action="store_true", help=f"with --build: about {tc.QUICK_PER_PART} files per part")
    ap.add_argument("--part", choices=("tune", "aside"), default="tune")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="job override; may repeat")
    ap.add_argument("--conf", action="append", type=Path, default=[], help="job YAML config; may repeat")
    ap.add_argument("--label", default="shipped defaults", help="name of this configuration in the report")
    ap.add_argument("--result", type=Path, default=None, help="score this existing job output")
    ap.add_argument("--json", type=Path, default=None, help="write every score to this file")
    ap.add_argument("--sweep", action="store_true", help="offline sweep on the tune part (no job run)")
    ap.add_argument("--shingles", default="3,4,5", help="sweep: shingle sizes")
    ap.add_argument("--thresholds", default="0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.7,0.8", help="sweep: Jaccard thresholds")
    ap.add_argument("--lsh", default="128/32x4,128/16x8,128/20x5", help="sweep: MinHash perms/bandsxrows to check")
    args = ap.parse_args(argv)
    if args.build:
        tc.build(args.corpus, tc.QUICK_PER_PART if args.quick else args.per_part)
    if args.sweep:
        if args.part != "tune":
            ap.error("the sweep runs on the tune part only (aside is never tuned on)")
        lsh = [_lsh_arg(s) for s in args.lsh.split(",") if s]
        table = sweep(args.corpus / "tune", [int(x) for x in args.shingles.split(",")],
                      [float(x) for x in args.thresholds.split(",")], lsh)
        with pd.option_context("display.width", 250, "display.max_columns", 40, "display.float_format",
                               "{:.3f}".format):
            print(table.to_string(index=False))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            table.to_json(args.json, orient="records", indent=1)
        return 0
    results = {args.part: run_part(args.corpus, args.part, args)}
    label = args.label + (f" ({' '.join(args.set)})" if args.set and args.label == "shipped defaults" else "")
    print_report(label, results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"label": label, "corpus": str(args.corpus), "sets": args.set,
                                         "parts": results}, indent=1, default=bb._jsonable) + "\n")
    return 1 if any("failed" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
