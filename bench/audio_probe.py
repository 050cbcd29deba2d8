"""Offline scoring of the audio kernels on the `tune` part (no Spark), with Chromaprint's fpcalc
as the peer in the same run.

    python -m bench.audio_corpus --part tune
    python -m bench.audio_probe --json out/audio/probe-tune.json

Steps: decode + fingerprint every file (udfs.audio; one process, CPU seconds counted);
candidates from an inverted index over the hashes (each hash counted once per file, hashes
held by more than --max-files files dropped, a pair needs --min-votes shared hashes); align
each candidate; a pair is a duplicate by udfs.audio.is_duplicate (--min-score aligned anchors,
--min-coverage of one file; the sweep varies the score at that coverage). Reported: pair precision
and recall (all pairs of a group), recall of (original, copy) per edit, offset and scale
errors of the true pairs found, clusters (union-find over duplicate pairs) mixing groups,
throughput in seconds of audio per CPU second (= per core) against fpcalc on the same files.

Chromaprint (AcoustID-style): `fpcalc -raw -length 0` per file; candidates = pairs sharing a
raw 32-bit item, plus every true pair (generous to the peer); the score is 1 - the bit error
rate at the best offset (overlap >= 8 items, 1 s); duplicate when >= the threshold, which
is swept here like ours. Only `tune` is accepted: the aside part is never scored while tuning.
"""
from __future__ import annotations

import argparse
import ast
import csv
import json
import resource
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from udfs import audio as A

ROOT = Path(__file__).resolve().parent.parent
TUNE = ROOT / "out" / "audio" / "tune"
THRESHOLDS = (4, 5, 6, 7, 8, 10, 12, 15, 20)
CP_THRESHOLDS = (0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


def load_truth(part: Path) -> list[dict]:
    with open(part / "truth.csv") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------------- ours

def fingerprint_all(part: Path, rows: list[dict]) -> tuple[list, dict]:
    fps, errors = [], defaultdict(int)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for r in rows:
        try:
            d = A.decode_audio(part / r["path"])
            fps.append(A.fingerprint(d.samples, d.rate))
        except A.AudioError as e:
            errors[e.reason] += 1
            fps.append((np.zeros(0, np.int64), np.zeros(0, np.float32)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return fps, dict(cpu_s=cpu, wall_s=wall, errors=dict(errors))


def candidate_votes(fps: list, max_files: int, bin_s: float = 2.0, chunks: int = 16) -> np.ndarray:
    """(N, N) int64 votes of files i < j: the most equal-hash pairs falling in one offset bin
    (t_i - t_j in `bin_s` bins, two adjacent bins summed, so +-3% tempo over a minute still
    gathers). Hash values held more than `max_files` times are dropped. Memory O(N^2 + the
    entry pairs of one chunk of the hash space): a probe-sized stand-in for the Spark join."""
    n = len(fps)
    h = np.concatenate([fp[0] for fp in fps])
    t = np.concatenate([fp[1] for fp in fps])
    f = np.concatenate([np.full(fp[0].size, i, np.int64) for i, fp in enumerate(fps)])
    uks, cnts = [], []
    for c in range(chunks):
        keys = _chunk_keys(h, t, f, h % chunks == c, n, max_files, bin_s)
        uk, cnt = np.unique(keys, return_counts=True)
        uks.append(uk), cnts.append(cnt)
    uk, cnt = _sum_by_key(np.concatenate(uks), np.concatenate(cnts))
    nxt = np.searchsorted(uk, uk + 1)  # count of the next offset bin of the same pair, if any
    has = (nxt < uk.size) & (uk[np.minimum(nxt, uk.size - 1)] == uk + 1)
    pair_votes = cnt + np.where(has, cnt[np.minimum(nxt, uk.size - 1)], 0)
    best = np.zeros(n * n, np.int64)
    np.maximum.at(best, uk >> 22, pair_votes)
    return best.reshape(n, n)


def _chunk_keys(h, t, f, sel, n: int, max_files: int, bin_s: float) -> np.ndarray:
    """pair index << 22 | offset bin for every two entries of one hash value (files differ)."""
    hc, tc, fc = h[sel], t[sel], f[sel]
    order = np.argsort(hc, kind="stable")
    hc, tc, fc = hc[order], tc[order], fc[order]
    starts = np.flatnonzero(np.r_[True, hc[1:] != hc[:-1]])
    sizes = np.diff(np.r_[starts, hc.size])
    keys = [np.zeros(0, np.int64)]
    for k in range(2, max_files + 1):  # groups of k entries: all k(k-1)/2 entry pairs at once
        s = starts[sizes == k]
        if s.size == 0:
            continue
        a, b = np.triu_indices(k, 1)
        ea, eb = (s[:, None] + a).ravel(), (s[:, None] + b).ravel()
        swap = fc[ea] > fc[eb]
        ea, eb = np.where(swap, eb, ea), np.where(swap, ea, eb)
        off = np.floor((tc[ea] - tc[eb]) / bin_s).astype(np.int64) + 2**20
        keep = fc[ea] != fc[eb]
        keys.append(((fc[ea] * n + fc[eb]) << 22 | off)[keep])
    return np.concatenate(keys)


def _sum_by_key(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    keys, counts = keys[order], counts[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts], np.add.reduceat(counts, starts)


def align_candidates(fps: list, votes: np.ndarray, min_votes: int) -> list[tuple]:
    out = []
    for i, j in zip(*np.nonzero(votes >= min_votes)):
        out.append((int(i), int(j), A.align(fps[i], fps[j])))
    return out


# ---------------------------------------------------------------------------- scoring

#: how truth.csv's `recording` (bench/audio_corpus: originals sharing material, with their copies) counts:
#: - "recording" (default): a pair of files of one original is true, of two recordings false, and a pair of
#:   files of two originals sharing material is ignored (neither: they share a part, so a duplicate call is
#:   no error, and a missed one no miss); a cluster mixes when it holds two recordings;
#: - "recording-all": every two files of one recording are a true pair (transitively joined originals too);
#: - "group": the truth before that column (one original and its copies; sharing originals are negatives).
TRUTH_KEY = "recording"


def identity(r: dict) -> str:
    """The recording of a row (its group under TRUTH_KEY "group", or for a truth.csv without the column)."""
    return r["group"] if TRUTH_KEY == "group" else (r.get("recording") or r["group"])


def ignored(rows: list[dict], a: int, b: int) -> bool:
    """Under TRUTH_KEY "recording": files of two different originals that share material."""
    return TRUTH_KEY == "recording" and rows[a]["group"] != rows[b]["group"] and identity(rows[a]) == identity(rows[b])


def truth_pairs(rows: list[dict]) -> set:
    key = identity if TRUTH_KEY == "recording-all" else (lambda r: r["group"])
    groups = defaultdict(list)
    for i, r in enumerate(rows):
        groups[key(r)].append(i)
    return {(a, b) for m in groups.values() for x, a in enumerate(m) for b in m[x + 1:]}


def components(n: int, pairs) -> np.ndarray:
    parent = np.arange(n)

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(x) for x in range(n)])


def score(rows: list[dict], predicted: set, truth: set) -> dict:
    skipped = {p for p in predicted if ignored(rows, *p)}
    predicted = predicted - skipped
    tp = len(predicted & truth)
    per_edit = defaultdict(lambda: [0, 0])
    orig = {r["group"]: i for i, r in enumerate(rows) if r["edit"] == "original"}
    for i, r in enumerate(rows):
        if r["edit"] in ("original",) or r["edit"].startswith("neg_"):
            continue
        o = orig[r["group"]]
        per_edit[r["edit"]][1] += 1
        per_edit[r["edit"]][0] += (min(o, i), max(o, i)) in predicted
    comp = components(len(rows), predicted)
    mixed = defaultdict(set)
    for i, r in enumerate(rows):
        mixed[comp[i]].add(identity(r))
    neg_pairs = sum(1 for a, b in predicted if rows[a]["edit"].startswith("neg_") or rows[b]["edit"].startswith("neg_"))
    return dict(predicted=len(predicted), ignored=len(skipped), true_pairs=len(truth), tp=tp,
                precision=round(tp / max(1, len(predicted)), 4), recall=round(tp / max(1, len(truth)), 4),
                f1=round(2 * tp / max(1, len(predicted) + len(truth)), 4),
                recall_per_edit={e: round(a / b, 3) for e, (a, b) in sorted(per_edit.items())},
                mixed_clusters=sum(1 for g in mixed.values() if len(g) > 1), negative_pairs=neg_pairs)


def recall_by_kind(rows: list[dict], predicted: set) -> dict:
    """Recall of (original, copy) pairs by the original's kind (music, speech, effects)."""
    orig = {r["group"]: i for i, r in enumerate(rows) if r["edit"] == "original"}
    hit, tot = defaultdict(int), defaultdict(int)
    for i, r in enumerate(rows):
        if r["edit"] != "original" and not r["edit"].startswith("neg_"):
            o = orig[r["group"]]
            tot[r["kind"]] += 1
            hit[r["kind"]] += (min(o, i), max(o, i)) in predicted
    return {k: round(hit[k] / tot[k], 3) for k in sorted(tot)}


def offset_errors(rows: list[dict], aligned: list[tuple], min_score: int) -> dict:
    errs = defaultdict(list)
    for i, j, r in aligned:  # align(i, j): t_i = s * t_j + o
        if not A.is_duplicate(r, min_score) or rows[i]["group"] != rows[j]["group"]:
            continue
        s, o = r["time_scale"], r["offset_s"]
        if rows[j]["edit"] == "original":  # t_copy = s t_orig + o  ->  t_orig = t_copy / s - o / s
            s, o, copy = 1 / s, -o / s, rows[i]
        elif rows[i]["edit"] == "original":
            copy = rows[j]
        else:
            continue
        errs[copy["edit"]].append((abs(o - float(copy["offset_s"])), abs(s - float(copy["time_scale"]))))
    return {e: dict(n=len(v), max_offset_err_s=round(max(x for x, _ in v), 3),
                    within_0_5s=round(np.mean([x <= 0.5 for x, _ in v]), 3),
                    max_scale_err=round(max(y for _, y in v), 4)) for e, v in sorted(errs.items())}


# ---------------------------------------------------------------------------- chromaprint

def fpcalc_all(part: Path, rows: list[dict]) -> tuple[list, dict]:
    ru0, wall0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    out = []
    for r in rows:
        p = subprocess.run(["fpcalc", "-raw", "-json", "-length", "0", str(part / r["path"])],
                           capture_output=True, text=True)
        try:
            out.append(np.array(json.loads(p.stdout)["fingerprint"], np.int64).astype(np.uint32))
        except (ValueError, KeyError):
            out.append(np.zeros(0, np.uint32))
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return out, dict(cpu_s=cpu, wall_s=time.perf_counter() - wall0, empty=sum(x.size == 0 for x in out))


def chromaprint_similarity(a: np.ndarray, b: np.ndarray, min_overlap: int = 8) -> float:
    """1 - bit error rate at the best of the offsets that equal items vote for (the 3 most
    voted, +-1) and offset 0, with >= min_overlap items (1 s) overlapping; AcoustID-style."""
    if a.size < min_overlap or b.size < min_overlap:
        return 0.0
    common, ia, ib = np.intersect1d(a, b, return_indices=True)
    offsets = {0}
    if common.size:
        d, c = np.unique(ia - ib, return_counts=True)
        offsets |= {int(x) + k for x in d[np.argsort(-c)[:3]] for k in (-1, 0, 1)}
    best = 0.0
    for d in offsets:  # compare a[i] with b[i - d]
        lo, hi = max(0, d), min(a.size, b.size + d)
        if hi - lo < min_overlap:
            continue
        ber = np.bitwise_count(a[lo:hi] ^ b[lo - d: hi - d]).sum() / (32.0 * (hi - lo))
        best = max(best, 1.0 - ber)
    return float(best)


def chromaprint_pairs(cps: list, truth: set) -> dict:
    index = defaultdict(set)
    for i, c in enumerate(cps):
        for v in np.unique(c).tolist():
            index[v].add(i)
    cand = set(truth)
    for files in index.values():
        if 1 < len(files) <= 50:
            fs = sorted(files)
            cand.update((a, b) for x, a in enumerate(fs) for b in fs[x + 1:])
    return {p: chromaprint_similarity(cps[p[0]], cps[p[1]]) for p in cand}


# ---------------------------------------------------------------------------- main

def apply_kernel_sets(items: list[str]) -> None:
    """`--set NAME=VALUE` overrides of udfs.audio's upper-case kernel parameters, then its derived ones."""
    for item in items:
        name, value = item.split("=", 1)
        if not hasattr(A, name) or not name.isupper():
            raise SystemExit(f"unknown kernel parameter {name}")
        setattr(A, name, ast.literal_eval(value))
    A._derive()


# parts whose one blind run is done and recorded in bench/RESULTS.md: probing them is tuning, and figures
# from them are labelled [seen]. A part still kept blind is never probed.
SEEN_PARTS = ("tune", "aside", "blind2", "blind3", "blind4", "blind5")


def tune_only(part: Path, what: str) -> None:
    """Probes read the tune part and the parts already run once blind (SEEN_PARTS), never a blind part."""
    if part.name not in SEEN_PARTS:
        raise SystemExit(f"{what} the tune part and the seen parts {', '.join(SEEN_PARTS[1:])} only "
                         f"({part.name} is kept blind until its one run)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", type=Path, default=TUNE)
    ap.add_argument("--max-files", type=int, default=50)
    ap.add_argument("--min-votes", type=int, default=4, help="equal-hash pairs in one offset bin")
    ap.add_argument("--min-score", type=int, default=A.MIN_SCORE)
    ap.add_argument("--min-coverage", type=float, default=A.MIN_COVERAGE)
    ap.add_argument("--no-fpcalc", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override a kernel parameter of udfs.audio for this run (e.g. HOP=256)")
    args = ap.parse_args(argv)
    apply_kernel_sets(args.set)
    tune_only(args.part, "audio_probe scores")
    rows = load_truth(args.part)
    truth = truth_pairs(rows)
    audio_s = sum(float(r["duration_s"]) for r in rows)
    fps, fp_cost = fingerprint_all(args.part, rows)
    t0 = time.perf_counter()
    votes = candidate_votes(fps, args.max_files)
    cand_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    aligned = align_candidates(fps, votes, args.min_votes)
    align_s = time.perf_counter() - t0
    report = dict(params={k: getattr(A, k) for k in dir(A) if k.isupper() and not k.startswith("_")},
                  files=len(rows), audio_s=round(audio_s, 1), candidates=len(aligned),
                  candidate_s=round(cand_s, 2), align_s=round(align_s, 2),
                  candidate_recall=round(len({(i, j) for i, j, _ in aligned} & truth) / max(1, len(truth)), 4),
                  hashes_per_s=round(sum(fp[0].size for fp in fps) / audio_s, 1),
                  ours=dict(fp_cost, audio_s_per_cpu_s=round(audio_s / fp_cost["cpu_s"], 1)),
                  sweep={})
    for th in THRESHOLDS:
        pred = {(i, j) for i, j, r in aligned if A.is_duplicate(r, th, args.min_coverage)}
        report["sweep"][th] = score(rows, pred, truth)
    pred = {(i, j) for i, j, r in aligned if A.is_duplicate(r, args.min_score, args.min_coverage)}
    report["at_defaults"] = dict(min_score=args.min_score, min_coverage=args.min_coverage,
                                 **score(rows, pred, truth), by_kind=recall_by_kind(rows, pred))
    report["offsets"] = offset_errors(rows, aligned, args.min_score)
    if not args.no_fpcalc:
        cps, cp_cost = fpcalc_all(args.part, rows)
        report["fpcalc"] = dict(cp_cost, audio_s_per_cpu_s=round(audio_s / max(cp_cost["cpu_s"], 1e-9), 1))
        report["ratio_vs_fpcalc"] = round(report["ours"]["audio_s_per_cpu_s"] / report["fpcalc"]["audio_s_per_cpu_s"], 3)
        sims = chromaprint_pairs(cps, truth)
        report["chromaprint"] = {th: score(rows, {p for p, s in sims.items() if s >= th}, truth) for th in CP_THRESHOLDS}
    text = json.dumps(report, indent=1, default=float)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
