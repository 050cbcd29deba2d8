"""Match quality of the dedup job on the broad corpus (tune and kept-aside parts), through ``dedup run``.

One command::

    python -m bench.broad --build                  # build tune/ and aside/ (bench.broad_corpus), run + score both
    python -m bench.broad --part tune              # run the job on tune/ only (the corpus already built)
    python -m bench.broad --set phash.max_hamming=4 --label mh4 --json out/mh4.json
    python -m bench.broad --part aside --result DIR   # score an existing run's output only
    python -m bench.broad --part holdout           # ONLY to quote a final configuration (see below)

The job runs exactly as users run it: ``python -m jobs.dedup run --input PART
--output TMP/result [--conf FILE] [--set KEY=VALUE ...]`` in a child process
(local Spark, the shipped defaults unless overridden); its wall time and the
stage timings of its ``summary.json`` are reported. The manifest is scored
with :func:`bench.quality.score` against the part's ``planted.csv``, less the files whose bytes equal
a file of another planted group (:func:`identical_across_groups`; ``--keep-identical`` scores them too):

- pair precision / recall / F1, recall per edit;
- false merges: clusters holding more than one planted group, with the kinds of
  the groups they mix; the largest cluster;
- singletons matched: originals without copies (``edit`` = distractor) that the
  job put in a cluster, per kind;
- per kind: pair precision over predicted pairs with an item of that kind, pair
  recall, and the false pairs by the kinds of their two items (where the
  false pairs come from).

The ``aside`` part is never tuned on (see ``split.json``): choose thresholds
on ``tune`` and quote ``aside``. The ``holdout`` part (its own Debian packages,
see :mod:`bench.broad_corpus`) is a fresh kept-aside part that nobody has
tuned on or looked at: it is never part of ``--part both``, is never run while
tuning, and is scored only once a configuration is final (``--part holdout``).
``--build`` builds tune and aside, or holdout alone with ``--part holdout``.
The ``fresh`` part (its own Debian packages again, added after holdout had been
seen) was the next blind part: ``--part fresh`` once, to quote a frozen configuration
(run once, seen since). The ``blind5`` part (its own Debian packages, added after
fresh had been seen) was the next blind part (run once on 2026-12-07, seen since).
The ``blind6`` part (its own Debian packages again, added after blind5 had been
seen) was the next blind part (run once on 2026-12-07, seen since). The ``blind7``
part (its own Debian packages again, added after blind6 had been seen) was the next
blind part (run once on 2026-12-07, seen since). The ``blind8`` part (its own Debian
packages again, added after blind7 had been seen) was the next blind part (run once on
2026-12-07, seen since). The ``blind9`` part (its own Debian packages again, added
after blind8 had been seen) was the next blind part (run once on 2026-12-07, seen
since). The ``blind10`` part (its own Debian packages again, added after blind9 had
been seen) was the next blind part (run once on 2026-12-07, seen since), and so were
``blind11`` and ``blind12`` (each its own Debian packages again, added while the part
before was still blind). A part built after the last one run is the next blind part:
``--part PART`` once, to quote a frozen configuration; never run, scored or looked at
while tuning.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from bench import broad_corpus as bc
from bench import quality as q
from bench import quality_corpus as qc

ROOT = q.ROOT
ORIGINAL, SINGLE = bc.ORIGINAL_EDIT, bc.SINGLE_EDIT


# ---------------------------------------------------------------------------- the job

def job_command(corpus: Path, output: Path, sets: list[str], confs: list[Path]) -> list[str]:
    cmd = [sys.executable, "-m", "jobs.dedup", "run", "--input", str(corpus), "--output", str(output)]
    for c in confs:
        cmd += ["--conf", str(c)]
    for s in sets:
        cmd += ["--set", s]
    return cmd


def run_job(cmd: list[str], log: Path) -> float:
    """Run the job command (cwd: the repository); wall seconds. Raises with the log's tail on failure."""
    t0 = time.perf_counter()
    with log.open("w") as fh:
        rc = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    if rc != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"dedup run failed (exit {rc}), log {log}:\n{tail}")
    return wall


def stage_timings(result: Path) -> dict[str, float]:
    """The run's stage seconds (summary.json timings_s)."""
    return json.loads((result / "summary.json").read_text()).get("timings_s", {})


# ---------------------------------------------------------------------------- scoring

def clustered(planted: pd.DataFrame, labels: dict[str, str | None]) -> pd.DataFrame:
    """planted rows with ``cluster`` (as bench.quality.score labels them) and ``size`` (cluster size)."""
    df = planted.copy()
    df["cluster"] = [labels.get(f) or f"single:{f}" for f in df["file"]]
    df["size"] = df.groupby("cluster")["file"].transform("size")
    return df


def _c2(n: pd.Series) -> pd.Series:
    return n * (n - 1) // 2


def false_pairs_by_kind(df: pd.DataFrame) -> Counter:
    """False pairs (same cluster, different planted groups) counted by the kinds of their two items."""
    out: Counter = Counter()
    multi = df[df["size"] > 1]
    for _, c in multi.groupby("cluster"):
        kinds = c["kind"].value_counts()
        if c["group"].nunique() < 2:
            continue
        same_group = _c2(c.groupby("group").size())
        true_by_kind = same_group.groupby(c.groupby("group")["kind"].first()).sum()
        names = sorted(kinds.index)
        for i, a in enumerate(names):
            n = int(_c2(pd.Series([kinds[a]])).iloc[0] - true_by_kind.get(a, 0))
            if n:
                out[(a, a)] += n
            for b in names[i + 1:]:
                out[(a, b)] += int(kinds[a] * kinds[b])
    return out


def per_kind(df: pd.DataFrame) -> pd.DataFrame:
    """Per kind: pair precision (predicted pairs with an item of the kind), pair recall, items,
    singletons matched, copies found (recall of copies to their original's cluster)."""
    rows = {}
    cl_size = df.groupby("cluster").size()
    for kind, k in df.groupby("kind"):
        in_cl = k.groupby("cluster").size()
        predicted = int((_c2(in_cl) + in_cl * (cl_size.reindex(in_cl.index) - in_cl)).sum())
        true = int(_c2(k.groupby(["cluster", "group"]).size()).sum())
        truth = int(_c2(k.groupby("group").size()).sum())
        rows[kind] = {
            "items": len(k),
            "pair precision": true / predicted if predicted else 1.0,
            "pair recall": true / truth if truth else float("nan"),
            "predicted pairs": predicted, "false pairs": predicted - true,
            "singles matched": int(((k["edit"] == SINGLE) & (k["size"] > 1)).sum()),
            "singles": int((k["edit"] == SINGLE).sum()),
        }
    return pd.DataFrame(rows).T


def merge_kinds(df: pd.DataFrame) -> Counter:
    """False merges counted by the set of kinds of the planted groups they mix ("a+b")."""
    out: Counter = Counter()
    for _, c in df[df["size"] > 1].groupby("cluster"):
        if c["group"].nunique() > 1:
            out["+".join(sorted(set(c["kind"])))] += 1
    return out


def largest(df: pd.DataFrame) -> dict:
    sizes = df.groupby("cluster").size()
    top = sizes.idxmax()
    members = df[df["cluster"] == top]
    return {"size": int(sizes.max()), "groups": int(members["group"].nunique()),
            "kinds": {k: int(v) for k, v in members["kind"].value_counts().items()}}


def recall_kind_edit(df: pd.DataFrame) -> pd.DataFrame:
    """Share of copies in their original's cluster, kind x edit."""
    home = df[df["edit"] == ORIGINAL].set_index("original")["cluster"]
    copies = df[~df["edit"].isin([ORIGINAL, SINGLE])].copy()
    copies["found"] = copies["cluster"].to_numpy() == home.reindex(copies["original"]).to_numpy()
    return copies.pivot_table(index="kind", columns="edit", values="found", aggfunc="mean")


def evaluate(planted: pd.DataFrame, labels: dict[str, str | None]) -> dict:
    """bench.quality.score plus the broad corpus' breakdowns (JSON-ready)."""
    res = q.score(planted, labels)
    df = clustered(planted, labels)
    kinds = per_kind(df)
    res.update({
        "largest_cluster": largest(df),
        "clusters": int(df.loc[df["size"] > 1, "cluster"].nunique()),
        "singles_matched": int(((df["edit"] == SINGLE) & (df["size"] > 1)).sum()),
        "merge_kinds": dict(merge_kinds(df).most_common()),
        "false_pairs_by_kind": {f"{a}|{b}": n for (a, b), n in false_pairs_by_kind(df).most_common()},
        "per_kind": kinds.to_dict(orient="index"),
        "recall_kind_edit": recall_kind_edit(df).round(3).to_dict(orient="index"),
    })
    return res


def identical_across_groups(corpus: Path, planted: pd.DataFrame) -> pd.Series:
    """Per planted row: its bytes equal those of a file of another planted group.

    Such a file carries no picture of its own: two originals' brightened copies clipped to the same
    white sheet, blank crops of two pictures, a package's one photograph entered as two originals. No
    method can keep identical bytes apart, and the truth cannot put them in both groups' clusters, so
    the score leaves every file of such a set out (``left_out_identical``); by content only."""
    import hashlib

    sha = pd.Series([hashlib.sha256((corpus / f).read_bytes()).hexdigest() if (corpus / f).exists() else f
                     for f in planted["file"]], index=planted.index)
    groups = planted.groupby(sha)["group"].transform("nunique")
    return groups > 1


def score_result(corpus: Path, result: Path, keep_identical: bool = False) -> dict:
    """Score a run's manifest against the part's planted.csv; files identical across groups are left out
    (identical_across_groups) unless keep_identical (the truth before 2026-12-07's stop 27)."""
    planted = qc.load_planted(corpus)
    shared = identical_across_groups(corpus, planted)
    if not keep_identical:
        planted = planted[~shared].reset_index(drop=True)
    res = evaluate(planted, q.manifest_labels(result))
    res["errors"] = _errors(result)
    res["files"] = len(planted)
    res["left_out_identical"] = 0 if keep_identical else int(shared.sum())
    res["keepers"] = keepers(planted, result)
    return res


# What the keep policy kept in place of a dropped original: edits that keep every pixel, edits that
# keep less of the picture (cut, shrunk, squashed, turned off its corners), and the other edits.
SAME_PIXELS = ("png",)
LESS_CONTENT = ("crop_60", "crop_80", "crop_90", "resize_25", "resize_50", "squash_80", "rotate_5")


def keepers(planted: pd.DataFrame, result: Path) -> dict[str, int]:
    """Per original with copies in the run: kept itself, or dropped for which kind of item."""
    from jobs.show import read_manifest

    m = read_manifest(str(result)).set_index("item_id")
    by_file = planted.set_index("file")
    out = Counter()
    for row in planted[planted["edit"] == ORIGINAL].itertuples():
        if row.file not in m.index:
            continue
        action, keeper = m.at[row.file, "action"], m.at[row.file, "keeper_id"]
        if action != "drop":
            out["original kept"] += 1
            continue
        k = by_file.loc[keeper] if keeper in by_file.index else None
        if k is None or k["group"] != row.group:
            out["dropped for another original's item"] += 1
        elif k["edit"] in SAME_PIXELS:
            out["dropped for a lossless copy"] += 1
        elif k["edit"] in LESS_CONTENT:
            out["dropped for a copy with less content"] += 1
        else:
            out["dropped for an altered copy (noise, colour, JPEG, flip, border, caption)"] += 1
    return dict(out)


def _errors(result: Path) -> int:
    from jobs.show import read_manifest

    m = read_manifest(str(result))
    return int((m["action"] == "error").sum())


# ---------------------------------------------------------------------------- report

def headline(parts: dict[str, dict]) -> pd.DataFrame:
    rows = {}
    for part, r in parts.items():
        rows[part] = {
            "files": r.get("files"), "left out (identical)": r.get("left_out_identical"),
            "pair precision": r["precision"], "pair recall": r["recall"], "F1": r["f1"],
            "false merges": r["false_merges"], "clusters": r["clusters"],
            "largest cluster": r["largest_cluster"]["size"],
            "largest: groups": r["largest_cluster"]["groups"],
            "singles matched": r["singles_matched"], "errors": r.get("errors"),
            "job wall (s)": r.get("wall_s"), "job total (s, summary)": r.get("timings_s", {}).get("total"),
        }
    return pd.DataFrame(rows)


def print_report(label: str, results: dict[str, dict]) -> None:
    for part, r in results.items():
        if "failed" in r:
            print(f"== {label}: {part}: {r['failed']} (log {r['log']})")
    parts = {p: r for p, r in results.items() if "failed" not in r}
    if not parts:
        return
    fmt = {"display.width": 250, "display.max_columns": 30, "display.max_rows": 200,
           "display.float_format": "{:.3f}".format}
    with pd.option_context(*[x for kv in fmt.items() for x in kv]):
        print(f"== {label}")
        print(headline(parts).to_string())
        print("\nrecall per edit:")
        print(pd.DataFrame({p: r["per_edit"] for p, r in parts.items()}).to_string())
        for part, r in parts.items():
            print(f"\n-- {part}: per kind")
            print(pd.DataFrame(r["per_kind"]).T.to_string())
            print(f"largest cluster: {r['largest_cluster']}")
            fp = list(r["false_pairs_by_kind"].items())
            print("false pairs by kinds of the two items: " + (", ".join(f"{k} {n}" for k, n in fp[:12]) or "none"))
            mk = list(r["merge_kinds"].items())
            print("false merges by kinds mixed: " + (", ".join(f"{k} {n}" for k, n in mk[:12]) or "none"))
            if r["merged_groups"]:
                print(f"e.g. {r['merged_groups'][:3]}")
            if r.get("keepers"):
                print("originals: " + ", ".join(f"{k} {n}" for k, n in sorted(r["keepers"].items())))
            if r.get("timings_s"):
                print("stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in r["timings_s"].items()))
            print("recall kind x edit:")
            print(pd.DataFrame(r["recall_kind_edit"]).T.to_string(float_format="{:.2f}".format))


# ---------------------------------------------------------------------------- main

def run_part(root: Path, part: str, args) -> dict:
    corpus = root / part
    if not (corpus / "planted.csv").exists():
        raise SystemExit(f"no corpus at {corpus}: build it with --build (or python -m bench.broad_corpus)")
    if args.result is not None:
        res = score_result(corpus, args.result, args.keep_identical)
        res.update({"result": str(args.result), "timings_s": stage_timings(args.result)})
        return res
    out_dir = Path(tempfile.mkdtemp(prefix=f"broad-{part}-"))
    result = out_dir / "result"
    cmd = job_command(corpus, result, args.set, args.conf)
    _log(f"[broad] {part}: {' '.join(cmd)}")
    try:
        wall = run_job(cmd, out_dir / "job.log")
    except RuntimeError as exc:   # reported, and the other part still runs
        _log(f"[broad] {part}: {exc}")
        return {"failed": str(exc).splitlines()[0], "log": str(out_dir / "job.log"), "command": cmd}
    res = score_result(corpus, result, args.keep_identical)
    res.update({"wall_s": round(wall, 1), "timings_s": stage_timings(result), "result": str(result),
                "command": cmd})
    _log(f"[broad] {part}: job {wall:.0f} s, precision {res['precision']:.3f}, recall {res['recall']:.3f}")
    return res


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.broad", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=bc.DEFAULT_OUT,
                    help="the broad corpus root (tune/, aside/, holdout/)")
    ap.add_argument("--build", action="store_true", help="(re)build the corpus first")
    ap.add_argument("--per-part", type=int, default=bc.DEFAULT_PER_PART, help="with --build: files per part")
    ap.add_argument("--quick", action="store_true", help=f"with --build: about {bc.QUICK_PER_PART} files per part")
    ap.add_argument("--part", choices=("both", *bc.BUILD_ORDER), default="both",
                    help="both: tune and aside; holdout: seen, a tuning part since 2026-12-06; fresh: run "
                         "once blind on 2026-12-06, seen since; blind5, ..., blind12: run once blind on "
                         "2026-12-07, seen since; a part built after the last one run is the next blind part: "
                         "run it once to quote a frozen configuration, never while tuning")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="job override; may repeat")
    ap.add_argument("--conf", action="append", type=Path, default=[], help="job YAML config; may repeat")
    ap.add_argument("--label", default="shipped defaults", help="name of this configuration in the report")
    ap.add_argument("--result", type=Path, default=None, help="score this existing job output (one --part)")
    ap.add_argument("--json", type=Path, default=None, help="write every score to this file")
    ap.add_argument("--keep-identical", action="store_true",
                    help="score files whose bytes equal another group's file too (the truth before stop 27)")
    args = ap.parse_args(argv)
    if args.result is not None and args.part == "both":
        ap.error("--result scores one part: give --part tune, aside, holdout, fresh, blind5, ...")
    parts = ["tune", "aside"] if args.part == "both" else [args.part]
    if args.build:
        bc.build(args.corpus, bc.QUICK_PER_PART if args.quick else args.per_part, parts=tuple(parts))
    results = {part: run_part(args.corpus, part, args) for part in parts}   # one job at a time
    label = args.label + (f" ({' '.join(args.set)})" if args.set and args.label == "shipped defaults" else "")
    print_report(label, results)
    failed = any("failed" in r for r in results.values())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"label": label, "corpus": str(args.corpus), "sets": args.set,
                                         "parts": results}, indent=1, default=_jsonable) + "\n")
    return 1 if failed else 0


def _jsonable(v):
    if isinstance(v, Path):
        return str(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


if __name__ == "__main__":
    sys.exit(main())
