"""Match quality and throughput of ``dedup run --kind video`` on the video corpus, beside its peers.

    python -m bench.video --build --quick            # build out/video/corpus/ (bench.video_corpus), run tune
    python -m bench.video --part tune                # the job with the shipped defaults, peers, bare decode
    python -m bench.video --part tune --result DIR   # score an existing run's output (no job run)
    python -m bench.video --part tune --peers none --no-decode   # the job alone
    python -m bench.video --install-peers            # make the peers' venv (out/video/peers-venv)
    python -m bench.video --part aside               # ONLY the lead, once, blind: never tune on aside
    python -m bench.video --part blind2              # the second kept-aside part: the lead, once, blind
    python -m bench.video --part blind3              # the third kept-aside part: the lead, once, blind
    python -m bench.video --part blind4              # the fourth kept-aside part: the lead, once, blind

The job runs as users run it: ``python -m jobs.dedup run --kind video --input PART --output
TMP/result [--conf FILE] [--set KEY=VALUE ...]`` in a child process. Item ids are paths relative
to the part (as for images); a manifest whose ids are not is matched by the tail of its uris.

Scores (against the part's ``truth.csv``, :mod:`bench.video_corpus`):

- **pair precision / recall / F1 over clusters**: a predicted pair is two files in one cluster; a
  true pair is two files of one group (an original and its copies, copy-copy pairs included, the
  partial ones too: every copy shares a segment with its original, so a cluster holding all of
  them is right). Negatives are groups of one: any pair with a negative is false. This is
  bench/broad.py's definition; clusters are transitive, so one false edge can cost many pairs;
- **recall per edit**: a copy is found when it is in its original's cluster or its pair with its
  original is an ``is_duplicate`` row of ``pairs/``; targets: >= 0.95 for each full-copy edit,
  >= 0.85 for ``speed``, ``excerpt`` and ``prepend``;
- **mixed clusters** (holding more than one group: two originals, or an original and a negative)
  with the kinds they mix, **negatives matched** (negatives in a cluster, per kind), the largest
  cluster;
- **offset accuracy** of partial copies (``excerpt``, ``prepend``, ``trim_head``, ``trim_tail``,
  ``speed``): the share of copies whose duplicate pair with their original carries ``start`` of
  both sides within 0.5 s / 1 s of the truth (``orig_start``, ``copy_start``), and the
  ``time_scale`` error of ``speed`` copies;
- **throughput**: seconds of video per second of wall time per core, the job end to end (its
  child process, Spark start included; ``--cores`` = its ``local[*]`` cores) and a bare PyAV decode
  loop over the same files on the same number of cores (:mod:`bench.video_decode`), and the ratio
  job / bare (issue 14: >= 0.5).

Peers, on the same part in the same run (:mod:`bench.video_peers`), each scored the same way with
clusters = connected components of its matching pairs (all pairs compared):

- ``baseline``: the majority of 64-bit pHashes of frames at 1 fps, Hamming <= ``BASELINE_MAX_HAMMING``;
- ``videohash`` 3.x: Hamming <= 10 of 64 (its ``is_similar``: 15% of the bits);
- ``tmk`` (perception TMKL1 + TMKL2): L1 cosine >= 0.7 and L2 score >= 0.7 (TMK+PDQF defaults).

Output: ``out/video/<part>[-<label>].json`` (every number) and ``.md`` (the tables).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench import broad as bb
from bench import video_corpus as vc

ROOT = vc.ROOT
OUT = ROOT / "out" / "video"
PEERS_VENV = OUT / "peers-venv"
PEER_PACKAGES = ["perception==0.9.3", "videohash==3.0.1", "av", "imagehash", "numpy"]
FULL_TARGET, PARTIAL_TARGET = 0.95, 0.85
PARTIAL = ("excerpt", "prepend", "trim_head", "trim_tail", "speed")
BASELINE_MAX_HAMMING = 8
VIDEOHASH_MAX_HAMMING = 10
TMK_MIN_SCORE = 0.7


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- scoring

def _c2(n) -> int:
    n = np.asarray(n, dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def clustered(truth: pd.DataFrame, labels: dict[str, str | None]) -> pd.DataFrame:
    """truth with ``cluster`` (its own name for a file in no cluster) and ``size``."""
    df = truth.copy()
    df["cluster"] = [labels.get(f) or f"single:{f}" for f in df["file"]]
    df["size"] = df.groupby("cluster")["file"].transform("size")
    return df


def pair_counts(df: pd.DataFrame) -> dict:
    """Pair precision / recall / F1 of clusters against groups."""
    tp = _c2(df.groupby(["cluster", "group"]).size())
    predicted = _c2(df.groupby("cluster").size())
    true = _c2(df.groupby("group").size())
    p = tp / predicted if predicted else 1.0
    r = tp / true if true else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "predicted_pairs": predicted, "true_pairs": true, "false_pairs": predicted - tp}


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def copies_found(df: pd.DataFrame, edges: set[tuple[str, str]]) -> pd.DataFrame:
    """Copies with ``found``: in their original's cluster, or a duplicate edge to their original."""
    home = df[df["role"] == vc.ORIGINAL].set_index("group")
    copies = df[df["role"] == "copy"].copy()
    orig_file = home["file"].reindex(copies["group"]).to_numpy()
    in_cluster = copies["cluster"].to_numpy() == home["cluster"].reindex(copies["group"]).to_numpy()
    edge = np.array([_key(f, o) in edges for f, o in zip(copies["file"], orig_file)], dtype=bool)
    copies["in_cluster"], copies["edge"] = in_cluster, edge
    copies["found"] = in_cluster | edge
    return copies


def mixed_clusters(df: pd.DataFrame) -> list[dict]:
    """Clusters holding more than one group: their size, groups and the kinds/roles they mix."""
    out = []
    for c, members in df[df["size"] > 1].groupby("cluster"):
        if members["group"].nunique() > 1:
            out.append({"cluster": c, "size": len(members), "groups": sorted(members["group"].unique()),
                        "mix": "+".join(sorted({f"{r}:{k}" for r, k in zip(members["role"], members["kind"])}))})
    return sorted(out, key=lambda m: -m["size"])


def negatives_matched(df: pd.DataFrame) -> dict[str, dict]:
    """Per negative kind: how many, how many sit in a cluster, and with what (groups' kinds)."""
    out = {}
    for kind, neg in df[df["role"] == vc.NEGATIVE].groupby("kind"):
        hit = neg[neg["size"] > 1]
        partners = df[df["cluster"].isin(hit["cluster"]) & ~df["file"].isin(hit["file"])]
        out[kind] = {"files": len(neg), "matched": len(hit),
                     "with": partners.groupby("kind")["group"].nunique().to_dict()}
    return out


def largest(df: pd.DataFrame) -> dict:
    sizes = df.groupby("cluster").size()
    members = df[df["cluster"] == sizes.idxmax()]
    return {"size": int(sizes.max()), "groups": int(members["group"].nunique())}


def offset_accuracy(truth: pd.DataFrame, pairs: pd.DataFrame | None) -> dict:
    """Per partial edit: copies, those with a duplicate pair to their original, and the share (of all
    copies) whose pair puts both starts within 0.5 s and 1 s of the truth; speed: time_scale error."""
    if pairs is None or pairs.empty or "start_a" not in pairs:
        return {}
    dup = pairs[pairs["is_duplicate"].astype(bool)]
    rows = {_key(a, b): r for a, b, r in zip(dup["item_a"], dup["item_b"], dup.itertuples(index=False))}
    home = truth[truth["role"] == vc.ORIGINAL].set_index("group")["file"]
    out = {}
    for edit, copies in truth[(truth["role"] == "copy") & truth["edit"].isin(PARTIAL)].groupby("edit"):
        errs, scale_errs = [], []
        for c in copies.itertuples(index=False):
            o = home.get(c.group)
            r = rows.get(_key(c.file, o)) if o else None
            if r is None or r.start_a is None or pd.isna(r.start_a):
                continue
            s_orig, s_copy = (r.start_a, r.start_b) if r.item_a == o else (r.start_b, r.start_a)
            errs.append(max(abs(s_orig - c.orig_start), abs(s_copy - c.copy_start)))
            ts = getattr(r, "time_scale", None)
            if ts is not None and not pd.isna(ts) and ts > 0:
                # the job's time_scale is b seconds per a second: as original per copy second
                ts_oc = ts if r.item_a == c.file else 1 / ts
                scale_errs.append(abs(ts_oc - c.time_scale))
        e = np.array(errs)
        out[edit] = {"copies": len(copies), "with_segment": len(e),
                     "start_within_0.5s": float((e <= 0.5).sum() / len(copies)),
                     "start_within_1s": float((e <= 1.0).sum() / len(copies)),
                     "median_start_error_s": float(np.median(e)) if len(e) else None,
                     "median_time_scale_error": float(np.median(scale_errs)) if scale_errs else None}
    return out


def miss_reasons(truth: pd.DataFrame, missed: list[str], pairs: pd.DataFrame | None) -> dict[str, dict]:
    """Per edit, the missed copies by why: no pair row with their original at all (candidates), or a
    row that is not a duplicate (its median similarity and smaller coverage), and whole groups missed."""
    if pairs is None:
        return {}
    rows = {_key(a, b): r for a, b, r in zip(pairs["item_a"], pairs["item_b"], pairs.itertuples(index=False))}
    home = truth[truth["role"] == vc.ORIGINAL].set_index("group")["file"]
    t = truth.set_index("file")
    out: dict[str, dict] = {}
    for f in missed:
        r = rows.get(_key(f, home.get(t.at[f, "group"], "")))
        cell = out.setdefault(t.at[f, "edit"], {"no_pair": 0, "not_duplicate": 0, "similarity": [], "coverage": []})
        if r is None:
            cell["no_pair"] += 1
        else:
            cell["not_duplicate"] += 1
            cell["similarity"].append(float(r.similarity))
            cov = [getattr(r, c, None) for c in ("coverage_a", "coverage_b")]
            cov = [c for c in cov if c is not None and not pd.isna(c)]
            if cov:
                cell["coverage"].append(float(min(cov)))
    for cell in out.values():
        for k in ("similarity", "coverage"):
            cell[f"median_{k}"] = round(float(np.median(cell[k])), 3) if cell[k] else None
            del cell[k]
    return out


def score(truth: pd.DataFrame, labels: dict[str, str | None], edges: set[tuple[str, str]],
          pairs: pd.DataFrame | None = None) -> dict:
    """Every match-quality number of one method on one part (JSON-ready)."""
    df = clustered(truth, labels)
    res = pair_counts(df)
    copies = copies_found(df, edges)
    per_edit = copies.groupby("edit")["found"].mean()
    mixed = mixed_clusters(df)
    group_of = dict(zip(truth["file"], truth["group"]))
    res.update({
        "files": len(df),
        "per_edit": {e: float(per_edit[e]) for e in vc.EDITS if e in per_edit},
        "copies_per_edit": copies["edit"].value_counts().to_dict(),
        "edits_below_target": [e for e in vc.EDITS if e in per_edit and per_edit[e] <
                               (PARTIAL_TARGET if e in vc.PARTIAL_EDITS else FULL_TARGET)],
        "missed": sorted(copies.loc[~copies["found"], "file"].tolist()),
        "duplicate_edges": len(edges),
        "false_duplicate_edges": sum(1 for a, b in edges if group_of.get(a, a) != group_of.get(b, b)),
        "clusters": int(df.loc[df["size"] > 1, "cluster"].nunique()),
        "mixed_clusters": len(mixed),
        "mixed": mixed[:15],
        "negatives": negatives_matched(df),
        "largest_cluster": largest(df),
        "recall_kind": copies.groupby("kind")["found"].mean().round(3).to_dict(),
        "recall_codec": copies.groupby("codec")["found"].mean().round(3).to_dict(),
    })
    res["offsets"] = offset_accuracy(truth, pairs)
    res["miss_reasons"] = miss_reasons(truth, res["missed"], pairs)
    found_by_group = copies.groupby("group")["found"].sum()
    res["groups_wholly_missed"] = sorted(found_by_group[found_by_group == 0].index)
    return res


# ---------------------------------------------------------------------------- the job's output

def read_output(result: Path, files: set[str]) -> tuple[dict[str, str | None], pd.DataFrame, pd.DataFrame | None]:
    """(file -> cluster_id, manifest with ``file``, pairs with ids mapped to files or None)."""
    m = pd.read_parquet(result / "manifest")
    keys = m["item_id"].astype(str)
    if not keys.isin(files).any() and "uri" in m:   # ids are not paths: match the uri's tail
        keys = pd.Series([next((f for f in _tails(str(u)) if f in files), str(u)) for u in m["uri"]], index=m.index)
    m = m.assign(file=keys.to_numpy())
    labels = {f: (c if isinstance(c, str) else None) for f, c in zip(m["file"], m["cluster_id"])}
    pairs = None
    if (result / "pairs").exists():
        pairs = pd.read_parquet(result / "pairs")
        to_file = dict(zip(m["item_id"].astype(str), m["file"]))
        pairs["item_a"] = pairs["item_a"].map(lambda x: to_file.get(x, x))
        pairs["item_b"] = pairs["item_b"].map(lambda x: to_file.get(x, x))
    return labels, m, pairs


def _tails(uri: str) -> list[str]:
    parts = uri.split("/")
    return ["/".join(parts[i:]) for i in range(len(parts))]


def duplicate_edges(pairs: pd.DataFrame | None) -> set[tuple[str, str]]:
    if pairs is None or pairs.empty:
        return set()
    d = pairs[pairs["is_duplicate"].astype(bool)]
    return {_key(a, b) for a, b in zip(d["item_a"], d["item_b"])}


def score_result(part_dir: Path, result: Path) -> dict:
    truth = vc.load_truth(part_dir)
    labels, m, pairs = read_output(result, set(truth["file"]))
    res = score(truth, labels, duplicate_edges(pairs), pairs)
    res["manifest_rows"] = len(m)
    res["unmatched_files"] = int((~truth["file"].isin(m["file"])).sum())
    res["actions"] = m["action"].astype(str).value_counts().to_dict() if "action" in m else {}
    res["reasons"] = m["reason"].astype(str).value_counts().to_dict() if "reason" in m else {}
    errs = m[m["action"].astype(str) == "error"] if "action" in m else m.iloc[:0]
    res["errors"] = {str(f): str(e)[:120] for f, e in zip(errs["file"], errs.get("error", errs["file"]))}
    if pairs is not None and "stage" in pairs:
        res["pairs_by_stage"] = pairs.groupby("stage")["is_duplicate"].agg(["size", "sum"]).astype(int) \
            .to_dict(orient="index")
    summary = result / "summary.json"
    res["timings_s"] = json.loads(summary.read_text()).get("timings_s", {}) if summary.exists() else {}
    return res


def job_command(part_dir: Path, output: Path, sets: list[str], confs: list[Path]) -> list[str]:
    """`python -m jobs.dedup run --kind video ...`: the broad harness's command with the kind."""
    cmd = bb.job_command(part_dir, output, sets, confs)
    return cmd[:4] + ["--kind", "video"] + cmd[4:]


run_job = bb.run_job  # wall seconds; raises with the log's tail on failure


# ---------------------------------------------------------------------------- peers

def components(files: list[str], edges: set[tuple[str, str]]) -> dict[str, str | None]:
    """file -> component label (its smallest file) for files with an edge; None otherwise."""
    parent = {f: f for f in files}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in sorted(edges):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    touched = {f for e in edges for f in e}
    return {f: (find(f) if f in touched else None) for f in files}


def hamming_edges(hashes: dict[str, str | None], max_distance: int) -> set[tuple[str, str]]:
    """Pairs of 64-bit hex hashes within max_distance bits (all pairs)."""
    files = [f for f, h in hashes.items() if h]
    if not files:
        return set()
    bits = np.array([[int(c) for c in bin(int(hashes[f], 16))[2:].zfill(64)] for f in files], dtype=np.uint8)
    dist = (bits[:, None, :] != bits[None, :, :]).sum(axis=2)
    i, j = np.nonzero(np.triu(dist <= max_distance, k=1))
    return {_key(files[a], files[b]) for a, b in zip(i, j)}


def tmk_edges(pairs: list[list], min_score: float) -> set[tuple[str, str]]:
    """TMK pairs whose both levels are >= min_score (bench.video_peers scored them)."""
    return {_key(a, b) for a, b, v in pairs if v >= min_score}


def run_peer(method: str, part_dir: Path, python: Path, workers: int, work: Path) -> dict:
    """Hash the part with one peer (a child process), then score it; {"failed": ...} on an error."""
    out = work / f"{method}.json"
    cmd = [str(python), "-m", "bench.video_peers", "--method", method, "--part", str(part_dir), "--out", str(out),
           "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"failed": f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:] }"}
    data = json.loads(out.read_text())
    truth = vc.load_truth(part_dir)
    if method == "tmk":
        edges = tmk_edges(data["pairs"], TMK_MIN_SCORE)
        rule = f"TMK L1 cosine and L2 score >= {TMK_MIN_SCORE}"
    else:
        limit = BASELINE_MAX_HAMMING if method == "baseline" else VIDEOHASH_MAX_HAMMING
        edges = hamming_edges(data["hashes"], limit)
        rule = f"Hamming <= {limit} of 64"
    res = score(truth, components(truth["file"].tolist(), edges), edges)
    res.update({"rule": rule, "hash_errors": len(data["errors"]), "hash_wall_s": data["wall_s"],
                "wall_s": round(wall, 1), "workers": workers})
    return res


def install_peers(venv: Path = PEERS_VENV) -> None:
    """A separate venv for perception and videohash (they pin opencv-contrib 4.x and need ffmpeg)."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PEER_PACKAGES], check=True)


# ---------------------------------------------------------------------------- report

def headline(results: dict[str, dict]) -> list[dict]:
    rows = []
    for name, r in results.items():
        if "failed" in r:
            rows.append({"method": name, "rule": f"failed: {r['failed']}"})
            continue
        rows.append({"method": name, "pair precision": r["precision"], "pair recall": r["recall"], "F1": r["f1"],
                     "false pairs": r["false_pairs"], "mixed clusters": r["mixed_clusters"],
                     "largest": r["largest_cluster"]["size"],
                     "negatives matched": sum(v["matched"] for v in r["negatives"].values()),
                     "wall (s)": r.get("wall_s"), "rule": r.get("rule", "shipped defaults")})
    return rows


def markdown(part: str, label: str, results: dict[str, dict], throughput: dict) -> str:
    from bench.common import table

    lines = [f"### video, {part} part: {label}", "",
             table(headline(results), ["method", "pair precision", "pair recall", "F1", "false pairs",
                                       "mixed clusters", "largest", "negatives matched", "wall (s)", "rule"]), ""]
    ok = {k: v for k, v in results.items() if "failed" not in v}
    if ok:
        edits = [e for e in vc.EDITS if any(e in r["per_edit"] for r in ok.values())]
        first = next(iter(ok.values()))
        rows = [{"edit": e, "copies": first["copies_per_edit"].get(e),
                 "target": PARTIAL_TARGET if e in vc.PARTIAL_EDITS else FULL_TARGET,
                 **{k: r["per_edit"].get(e) for k, r in ok.items()}} for e in edits]
        lines += ["Recall per edit (copy in its original's cluster, or a duplicate pair with it):", "",
                  table(rows, ["edit", "copies", "target", *ok.keys()]), ""]
        negs = sorted({k for r in ok.values() for k in r["negatives"]})
        rows = [{"negative": k, "files": first["negatives"].get(k, {}).get("files"),
                 **{m: r["negatives"].get(k, {}).get("matched") for m, r in ok.items()}} for k in negs]
        lines += ["Negatives in a cluster (each must stay alone):", "", table(rows, ["negative", "files", *ok.keys()]), ""]
    job = results.get("dedup")
    if job and job.get("offsets"):
        rows = [{"edit": e, **v} for e, v in job["offsets"].items()]
        lines += ["Segments of partial copies (dedup's pairs/):", "",
                  table(rows, ["edit", "copies", "with_segment", "start_within_0.5s", "start_within_1s",
                               "median_start_error_s", "median_time_scale_error"]), ""]
    if job and job.get("miss_reasons"):
        rows = [{"edit": e, **v} for e, v in job["miss_reasons"].items()]
        lines += [f"Missed copies by why (dedup; {len(job['groups_wholly_missed'])} originals with no copy found):",
                  "", table(rows, ["edit", "no_pair", "not_duplicate", "median_similarity", "median_coverage"]), ""]
    if throughput:
        lines += ["Throughput (seconds of video per second per core):", "",
                  table([throughput], ["video_s", "cores", "job_wall_s", "job_rate", "bare_wall_s", "bare_rate",
                                       "ratio"]), ""]
    return "\n".join(lines)


def _cores() -> int:
    return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.video", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=vc.DEFAULT_OUT,
                    help="the corpus root (tune/, aside/, blind2/, blind3/, blind4/)")
    ap.add_argument("--build", action="store_true", help="(re)build the corpus first")
    ap.add_argument("--quick", action="store_true", help="with --build: the quick corpus")
    ap.add_argument("--part", choices=vc.PARTS, default="tune",
                    help="aside, blind2 and blind3 (seen) and blind4 are kept aside: never tune on them; blind2, "
                         "blind3 and blind4 are each run once, blind")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="job override; may repeat")
    ap.add_argument("--conf", action="append", type=Path, default=[], help="job YAML config; may repeat")
    ap.add_argument("--label", default="shipped defaults")
    ap.add_argument("--result", type=Path, default=None, help="score this existing job output")
    ap.add_argument("--no-job", action="store_true", help="peers and the decode loop only")
    ap.add_argument("--peers", default="baseline,tmk,videohash", help="comma list, or 'none'")
    ap.add_argument("--peers-python", type=Path, default=PEERS_VENV / "bin" / "python")
    ap.add_argument("--install-peers", action="store_true")
    ap.add_argument("--no-decode", action="store_true", help="skip the bare decode loop")
    ap.add_argument("--cores", type=int, default=_cores(), help="cores of the job and of the decode loop")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.install_peers:
        install_peers()
        return 0
    if args.build:
        vc.build(args.corpus, vc.QUICK_PER_PART if args.quick else vc.DEFAULT_PER_PART, quick=args.quick)
    part_dir = args.corpus / args.part
    if not (part_dir / "truth.csv").exists():
        raise SystemExit(f"no corpus at {part_dir}: build it with --build (or python -m bench.video_corpus)")
    if args.part in vc.KEPT_ASIDE:
        _log(f"[video] {args.part}: a kept-aside part; quote it once with the final defaults, never tune on it")
    truth = vc.load_truth(part_dir)
    results: dict[str, dict] = {}
    throughput: dict = {}
    work = Path(tempfile.mkdtemp(prefix=f"video-{args.part}-"))
    if args.result is not None:
        results["dedup"] = score_result(part_dir, args.result) | {"result": str(args.result)}
    elif not args.no_job:
        result = work / "result"
        cmd = job_command(part_dir, result, args.set, args.conf)
        _log(f"[video] {args.part}: {' '.join(cmd)}")
        try:
            wall = run_job(cmd, work / "job.log")
            results["dedup"] = score_result(part_dir, result) | {"wall_s": round(wall, 1), "result": str(result),
                                                                  "command": cmd}
        except RuntimeError as exc:
            _log(f"[video] {exc}")
            results["dedup"] = {"failed": str(exc).splitlines()[0], "log": str(work / "job.log")}
    video_s = float(truth["duration_s"].sum())
    if not args.no_decode:
        from bench.video_decode import bare_decode

        bare = bare_decode([part_dir / f for f in truth["file"]], args.cores)
        throughput = {"video_s": round(video_s, 1), "cores": args.cores, "bare_wall_s": bare["wall_s"],
                      "bare_rate": bare["video_s_per_s_per_core"]}
        job = results.get("dedup", {})
        if job.get("wall_s"):
            throughput["job_wall_s"] = job["wall_s"]
            throughput["job_rate"] = round(video_s / job["wall_s"] / args.cores, 2)
            throughput["ratio"] = round(throughput["job_rate"] / throughput["bare_rate"], 3)
    for method in [m for m in args.peers.split(",") if m and m != "none"]:
        python = Path(sys.executable) if method == "baseline" else args.peers_python
        if not python.exists():
            results[method] = {"failed": f"no interpreter {python}: python -m bench.video --install-peers"}
            continue
        _log(f"[video] peer {method} ...")
        results[method] = run_peer(method, part_dir, python, args.cores, work)
    label = args.label + (f" ({' '.join(args.set)})" if args.set else "")
    md = markdown(args.part, label, results, throughput)
    print(md)
    from bench.common import machine

    stem = args.part + ("" if args.label == "shipped defaults" else f"-{args.label}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.md").write_text(md + "\n")
    (args.out / f"{stem}.json").write_text(json.dumps(
        {"label": label, "part": args.part, "corpus": str(args.corpus), "machine": machine(), "sets": args.set,
         "throughput": throughput, "results": results}, indent=1, default=str) + "\n")
    return 1 if "failed" in results.get("dedup", {}) else 0


if __name__ == "__main__":
    sys.exit(main())
