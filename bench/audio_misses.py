"""Where the (original, copy) pairs of the audio harness' tune part are lost, offline (no Spark).

    python -m bench.audio_misses                                   # every edit, shipped kernel
    python -m bench.audio_misses --edits noise_15db,mix_under_-10db --peaks
    python -m bench.audio_misses --set PEAKS_PER_S=12 --json out/audio/misses-pps12.json

Per (original, copy) pair, the stage of the job that loses it, with the job's rules and orientation:
`candidate` (its best two neighbouring 2 s offset bins hold < audio.min_votes equal-hash pairs, hash
values held > audio.max_bucket times over the part skipped: bench/audio_probe.candidate_votes),
`score` (< audio.min_score aligned anchors), `coverage`, `similarity` (udfs/audio_adapters.pair_alignment
with a = the smaller content sha256, as the job orients pairs). Per pair also the evidence itself:
hashes of each file, `true_hashes` (copy hashes whose value the original holds within 0.1 s of the
truth's time: t_original = time_scale * t_copy + offset_s), and with --peaks the share of the
original's peaks found again in the copy (within 2 frames and max(8 Hz, 1.5%)): `peaks_kept` among the
copy's peaks as fingerprinted, `peaks_any` among all its local maxima before the per-second limit
(what a looser limit could keep).

The whole part is also scored as the job scores it (bench/audio_probe.score on the duplicate pairs:
precision, recall, per-edit recall, mixed clusters; each false pair listed with its anchors and
similarity), so a kernel change (--set) is measured offline before a job run; fingerprints are cached
under out/audio/fp-cache/ per kernel parameters and udfs/audio.py's source. The tune part and the parts already run once blind
(bench/audio_probe.SEEN_PARTS, figures [seen]); a part kept blind is never probed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench import audio_probe as P
from jobs.config import AudioConfig
from udfs import audio as A
from udfs import audio_adapters as AA

TUNE = P.TUNE
_JOB = AudioConfig()  # the job's defaults
MIN_VOTES, MAX_BUCKET, MIN_SCORE, MIN_COVERAGE, MIN_SIMILARITY = (
    _JOB.min_votes, _JOB.max_bucket, _JOB.min_score, _JOB.min_coverage, _JOB.min_similarity)
LOW_SIMILARITY, LOW_SIMILARITY_SCORE = _JOB.low_similarity, _JOB.low_similarity_score


def kernel_params() -> dict:
    return {k: getattr(A, k) for k in dir(A) if k.isupper() and not k.startswith("_")}


def fingerprints(part: Path, rows: list[dict], cache: Path | None) -> tuple[list, float]:
    """(fingerprint per row, CPU s); cached per kernel parameters + udfs/audio.py's source."""
    key = hashlib.sha256((json.dumps(kernel_params(), default=str, sort_keys=True)
                          + Path(A.__file__).read_text()).encode()).hexdigest()[:12]
    path = cache / f"fp-{part.name}-{key}.npz" if cache else None
    if path and path.exists():
        z = np.load(path)
        return [(z[f"h{i}"], z[f"t{i}"]) for i in range(len(rows))], float(z["cpu_s"])
    fps, cost = P.fingerprint_all(part, rows)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, cpu_s=cost["cpu_s"], **{f"h{i}": h for i, (h, _) in enumerate(fps)},
                 **{f"t{i}": t for i, (_, t) in enumerate(fps)})
    return fps, cost["cpu_s"]


def true_hashes(orig, copy, scale: float, offset: float, tol: float = 0.1) -> int:
    """Copy hashes whose value the original holds within tol s of the truth's time."""
    (ho, to), (hc, tc) = orig, copy
    if ho.size == 0 or hc.size == 0:
        return 0
    ia, ib = _all_equal_pairs(ho, hc)
    return int(np.unique(ib[np.abs(to[ia] - (scale * tc[ib] + offset)) <= tol]).size)


def _all_equal_pairs(ha: np.ndarray, hb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every equal-hash index pair of two fingerprints (udfs.audio._equal_hash_pairs without its per-value limit)."""
    saved, A.MAX_PER_HASH = A.MAX_PER_HASH, 10**9
    try:
        return A._equal_hash_pairs(ha, hb)
    finally:
        A.MAX_PER_HASH = saved


def peak_survival(part: Path, orig_row: dict, copy_row: dict) -> dict:
    """Share of the original's fingerprint peaks found in the copy: among its kept peaks, among all local maxima."""
    po = A.peaks(A.decode_audio(part / orig_row["path"]).samples)
    samples = A.decode_audio(part / copy_row["path"]).samples
    kept = A.peaks(samples)
    saved, A.PEAKS_PER_S = A.PEAKS_PER_S, 10**6
    try:
        every = A.peaks(samples)
    finally:
        A.PEAKS_PER_S = saved
    s, o = float(copy_row["time_scale"]), float(copy_row["offset_s"])
    out = dict(peaks_orig=int(po[0].size), peaks_copy=int(kept[0].size), maxima_copy=int(every[0].size))
    for name, (tc, fc) in (("peaks_kept", kept), ("peaks_any", every)):
        t_in_o = (s * tc * A.FRAME_S + o) / A.FRAME_S  # copy frames on the original's clock
        f_in_o = fc / s
        order = np.argsort(t_in_o)
        t_in_o, f_in_o = t_in_o[order], f_in_o[order]
        found = 0
        lo = np.searchsorted(t_in_o, po[0] - 2.0, "left")
        hi = np.searchsorted(t_in_o, po[0] + 2.0, "right")
        inside = 0
        for k in range(po[0].size):
            if not (t_in_o.size and t_in_o[0] - 2 <= po[0][k] <= t_in_o[-1] + 2):
                continue
            inside += 1
            df = np.abs(f_in_o[lo[k]:hi[k]] - po[1][k])
            found += bool((df <= max(8.0, 0.015 * po[1][k])).any())
        out[name] = round(found / max(inside, 1), 3)
    return out


def job_orientation(part: Path, rows: list[dict]) -> list[str]:
    return [hashlib.sha256((part / r["path"]).read_bytes()).hexdigest() for r in rows]


def aligned_pair(fps, shas, i: int, j: int) -> dict:
    a, b = (i, j) if shas[i] <= shas[j] else (j, i)
    return AA.pair_alignment(fps[a], fps[b])


def stage_lost(votes: int, r: dict, min_similarity: float) -> str:
    if votes < MIN_VOTES:
        return "candidate"
    if r["aligned_anchors"] < MIN_SCORE:
        return "score"
    if max(r["coverage_a"], r["coverage_b"]) < MIN_COVERAGE:
        return "coverage"
    if r["similarity"] < min_similarity:
        return "similarity"
    if r["similarity"] < LOW_SIMILARITY and r["aligned_anchors"] < LOW_SIMILARITY_SCORE:
        return "similarity"
    return "found"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", type=Path, default=TUNE)
    ap.add_argument("--edits", default="", help="comma-separated edits to detail (default: all)")
    ap.add_argument("--peaks", action="store_true", help="also measure peak survival (decodes the pairs again)")
    ap.add_argument("--min-similarity", type=float, default=MIN_SIMILARITY)
    ap.add_argument("--cache", type=Path, default=P.ROOT / "out" / "audio" / "fp-cache")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override a kernel parameter of udfs.audio (e.g. PEAKS_PER_S=12)")
    args = ap.parse_args(argv)
    P.apply_kernel_sets(args.set)
    P.tune_only(args.part, "audio_misses probes")
    rows = P.load_truth(args.part)
    fps, fp_cpu = fingerprints(args.part, rows, args.cache)
    shas = job_orientation(args.part, rows)
    audio_s = sum(float(r["duration_s"]) for r in rows)
    t0 = time.process_time()
    votes = P.candidate_votes(fps, MAX_BUCKET)
    votes = np.maximum(votes, votes.T)
    vote_cpu = time.process_time() - t0
    # every voted pair aligned and decided as the job does (identical contents: one exact pair)
    t0 = time.process_time()
    predicted, aligned_n, found = set(), 0, {}
    for i, j in zip(*np.nonzero(np.triu(votes >= MIN_VOTES, 1))):
        if shas[i] == shas[j]:
            continue
        r = aligned_pair(fps, shas, int(i), int(j))
        aligned_n += 1
        if stage_lost(MIN_VOTES, r, args.min_similarity) == "found":
            predicted.add((int(i), int(j)))
            found[(int(i), int(j))] = r
    align_cpu = time.process_time() - t0
    by_sha = defaultdict(list)
    for i, s in enumerate(shas):
        by_sha[s].append(i)
    for same in by_sha.values():  # exact duplicates, and a content's edges stand for all its files
        predicted.update((a, b) for x, a in enumerate(same) for b in same[x + 1:])
    for a, b in list(predicted):
        predicted.update((min(x, y), max(x, y)) for x in by_sha[shas[a]] for y in by_sha[shas[b]] if x != y)
    truth = P.truth_pairs(rows)
    scores = P.score(rows, predicted, truth)
    scores["by_kind"] = P.recall_by_kind(rows, predicted)
    false = [dict(a=rows[a]["id"], b=rows[b]["id"], anchors=found[(a, b)]["aligned_anchors"],
                  similarity=round(found[(a, b)]["similarity"], 3),
                  coverage=round(max(found[(a, b)]["coverage_a"], found[(a, b)]["coverage_b"]), 3))
             for a, b in sorted(predicted - truth) if (a, b) in found and not P.ignored(rows, a, b)]
    want = set(args.edits.split(",")) if args.edits else None
    orig = {r["group"]: i for i, r in enumerate(rows) if r["edit"] == "original"}
    detail, table = [], defaultdict(lambda: defaultdict(int))
    for i, r in enumerate(rows):
        if r["edit"] == "original" or r["edit"].startswith("neg_") or (want and r["edit"] not in want):
            continue
        o = orig[r["group"]]
        if shas[o] == shas[i]:
            stage, res = "found", dict(aligned_anchors=-1, similarity=1.0, coverage_a=1.0, coverage_b=1.0)
        else:
            res = aligned_pair(fps, shas, o, i)
            stage = stage_lost(int(votes[o, i]), res, args.min_similarity)
        d = dict(copy=r["id"], kind=r["kind"], edit=r["edit"], stage=stage, votes=int(votes[o, i]),
                 anchors=res["aligned_anchors"], similarity=round(res["similarity"], 3),
                 coverage=round(max(res["coverage_a"], res["coverage_b"]), 3),
                 hashes_orig=int(fps[o][0].size), hashes_copy=int(fps[i][0].size),
                 true_hashes=true_hashes(fps[o], fps[i], float(r["time_scale"]), float(r["offset_s"])))
        if args.peaks and (want or stage != "found"):
            d.update(peak_survival(args.part, rows[o], r))
        detail.append(d)
        table[r["edit"]][stage] += 1
    report = dict(params=kernel_params(), files=len(rows), audio_s=round(audio_s, 1),
                  hashes_per_s=round(sum(fp[0].size for fp in fps) / audio_s, 1),
                  fingerprint_cpu_s=round(fp_cpu, 1), vote_cpu_s=round(vote_cpu, 1), align_cpu_s=round(align_cpu, 1),
                  voted_pairs=int(np.count_nonzero(np.triu(votes >= MIN_VOTES, 1))), aligned=aligned_n,
                  scores=scores, false_pairs=false, stages={e: dict(v) for e, v in sorted(table.items())}, pairs=detail)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=str))
    s = scores
    print(f"hashes/s {report['hashes_per_s']}  fingerprint CPU {report['fingerprint_cpu_s']} s  voted {report['voted_pairs']}"
          f"  precision {s['precision']} recall {s['recall']} F1 {s['f1']} mixed {s['mixed_clusters']}"
          f" predicted {s['predicted']} neg {s['negative_pairs']}")
    print("per edit:", s["recall_per_edit"])
    print("by kind:", s["by_kind"])
    for d in false:
        print("  false:", d)
    for e, v in report["stages"].items():
        print(f"  {e:18s}", dict(v))
    for d in detail:
        if d["stage"] != "found" or want:
            print("   ", {k: v for k, v in d.items() if k not in ("kind",)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
