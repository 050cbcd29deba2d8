"""Match quality of near-duplicate detection on real photographs with planted edits.

One command::

    python -m bench.quality                      # build corpus, score offline matchers, costs
    python -m bench.quality --job                # also run the Spark job (shipped config and plain
                                                 # pHash), score their manifests, time their stages
    python -m bench.quality --result DIR         # score an existing run's manifest only
    python -m bench.quality --limit 40           # quick: first 40 originals

Corpus: :mod:`bench.quality_corpus` (real photographs bundled in pip packages,
tiles of the large ones, 17 planted edits each, distractors). Scores of a
clustering (offline matcher or a job's manifest), against planted groups:

- pair precision / recall / F1: over all item pairs that share a cluster
  (predicted) or a planted group (truth);
- recall per edit: share of copies in the same cluster as their original;
- false merges: clusters holding more than one planted group (and which).

The offline matcher is pure Python (no Spark): every rule in :data:`RULES`
is evaluated on the same extracted keys, so rules can be compared quickly.
Key distances are computed for all pairs (brute force, blockwise), which is
fine for a few thousand images and is what the job's multi-index join
finds for pairs within its candidate threshold.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from bench import quality_corpus as qc
from udfs import robust
from udfs.decode import decode_image
from udfs.hashing import hamming, phash64

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "out" / "quality-corpus"  # /out/ is git-ignored
MAX_PIXELS = 100_000_000
MAX_DISTANCE = 24          # key distances stored up to this (loosest rule threshold)
ORIGINAL = qc.ORIGINAL_EDIT
DISTRACTOR = qc.DISTRACTOR_EDIT


# ---------------------------------------------------------------------------- scoring

def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def score(planted: pd.DataFrame, labels: dict[str, str | None]) -> dict:
    """Score a clustering: ``labels`` maps file -> cluster label (None or missing: alone).

    Returns precision, recall, f1 (pairwise), per-edit recall and false merges.
    """
    df = planted[["file", "original", "edit", "group", "kind"]].copy()
    df["cluster"] = [labels.get(f) or f"single:{f}" for f in df["file"]]
    tp = _pairs(df.groupby(["cluster", "group"]).size())
    predicted = _pairs(df.groupby("cluster").size())
    truth = _pairs(df.groupby("group").size())
    precision = tp / predicted if predicted else 1.0
    recall = tp / truth if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    home = df[df["edit"] == ORIGINAL].set_index("original")["cluster"]
    edited = df[~df["edit"].isin([ORIGINAL, DISTRACTOR])]
    found = edited["cluster"].to_numpy() == home.reindex(edited["original"]).to_numpy()
    per_edit = pd.Series(found, index=edited["edit"].to_numpy()).groupby(level=0).mean()
    groups = df.groupby("cluster")["group"].nunique()
    merged = groups[groups > 1].index
    merges = [sorted(set(df.loc[df["cluster"] == c, "group"])) for c in merged]
    distractors = df[df["edit"] == DISTRACTOR]
    clustered = df.groupby("cluster")["file"].transform("size") > 1
    return {
        "precision": precision, "recall": recall, "f1": f1,
        "per_edit": {e: float(per_edit.get(e, float("nan"))) for e in qc.QUALITY_EDITS if e in per_edit},
        "false_merges": len(merges),
        "merged_groups": merges,
        "distractors_matched": int(clustered[distractors.index].sum()),
        "items": len(df),
    }


def manifest_labels(result: str | Path) -> dict[str, str | None]:
    """file (item_id relative to the corpus root) -> cluster_id, from a job's manifest."""
    from jobs.show import read_manifest

    m = read_manifest(str(result))
    return {r.item_id: (r.cluster_id if isinstance(r.cluster_id, str) else None) for r in m.itertuples()}


# ---------------------------------------------------------------------------- features

@dataclass
class Features:
    """Per-file keys: ``keys[name]`` int64 (n,), ``has[name]`` bool (n,), quality float (n,)."""

    files: list[str]
    keys: dict[str, np.ndarray]
    has: dict[str, np.ndarray]
    quality: np.ndarray
    seconds: dict[str, list[float]] = field(default_factory=dict)  # stage -> per-image seconds


def _timed(seconds: dict, stage: str, fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    seconds.setdefault(stage, []).append(time.perf_counter() - t0)
    return out


def load_image(corpus: Path, rel: str) -> Image.Image:
    """Decode a corpus file exactly as the job does (RGB, EXIF orientation)."""
    return decode_image((corpus / rel).read_bytes(), MAX_PIXELS).image


def extract(corpus: Path, files: list[str], cfg: robust.RobustConfig = robust.DEFAULT_CONFIG) -> Features:
    """Decode every file once; time pHash alone, the robust keys and the quality score."""
    n = len(files)
    keys = {k: np.zeros(n, dtype=np.int64) for k in robust.ALL_KEYS}
    has = {k: np.zeros(n, dtype=bool) for k in robust.ALL_KEYS}
    qual = np.zeros(n)
    seconds: dict[str, list[float]] = {}
    for i, rel in enumerate(files):
        img = _timed(seconds, "decode", load_image, corpus, rel)
        _timed(seconds, "phash", phash64, img)
        found = _timed(seconds, "robust_hashes", robust.robust_hashes, img, cfg)
        qual[i] = _timed(seconds, "quality", robust.quality, img)
        for k, v in found.items():
            keys[k][i], has[k][i] = v, True
    return Features(files, keys, has, qual, seconds)


# ---------------------------------------------------------------------------- key distances

def _useful(ka: str, kb: str) -> bool:
    """Key pairs worth comparing: one side the full or content hash, or crop with crop."""
    base = {robust.KEY_PHASH, robust.KEY_TRIM}
    if ka == kb == robust.KEY_FLIP or (ka in robust.ROTATION_KEYS and kb in robust.ROTATION_KEYS):
        return False
    if ka in robust.ROTATION_KEYS or kb in robust.ROTATION_KEYS:
        return robust.KEY_C60 in (ka, kb)
    return bool(base & {ka, kb}) or ka == kb


def key_distances(f: Features, max_distance: int = MAX_DISTANCE, block: int = 512) -> pd.DataFrame:
    """Every pair (i < j) and key combination within ``max_distance`` bits.

    Columns: i, j, combo ("ka|kb", ka <= kb), d = min(dist(ka_i, kb_j), dist(kb_i, ka_j)).
    Brute force in row blocks: memory O(block x n).
    """
    n = len(f.files)
    out = []
    for ka, kb in combinations_with_replacement(robust.ALL_KEYS, 2):
        if not _useful(ka, kb):
            continue
        for start in range(0, n, block):
            rows = slice(start, min(n, start + block))
            d1 = hamming(f.keys[ka][rows, None], f.keys[kb][None, :])
            d2 = hamming(f.keys[kb][rows, None], f.keys[ka][None, :])
            d1 = np.where(f.has[ka][rows, None] & f.has[kb][None, :], d1, 99)
            d2 = np.where(f.has[kb][rows, None] & f.has[ka][None, :], d2, 99)
            d = np.minimum(d1, d2)
            i, j = np.nonzero(d <= max_distance)
            i = i + start
            keep = i < j
            out.append(pd.DataFrame({"i": i[keep], "j": j[keep], "combo": f"{ka}|{kb}",
                                     "d": d[i[keep] - start, j[keep]]}))
    return pd.concat(out, ignore_index=True)


# ---------------------------------------------------------------------------- rules

@dataclass(frozen=True)
class Rule:
    """A match rule over key distances (the distance of a pair: its smallest over the combos).

    - hash: duplicate when some combo in ``accept`` (combo -> max bits) is within
      its bound and both qualities are >= ``min_quality``;
    - veto (needs a verifier): a hash-accepted pair at ``veto_from`` bits or more
      whose lower quality is below ``veto_quality`` needs ``veto_inliers`` ORB
      inliers, else it is dropped;
    - verify (needs a verifier): a pair within some bound of ``verify`` (or hash
      accepted but below ``min_quality``) is a duplicate with ``min_inliers``.
    """

    name: str
    accept: dict[str, int]
    min_quality: float = 0.0
    verify: dict[str, int] = field(default_factory=dict)
    min_inliers: int = 0
    veto_from: int = 99
    veto_quality: float = 0.0
    veto_inliers: int = 0
    frame_guard: bool = False  # ignore phash|phash when both images have a border (see _within)

    @property
    def uses_verifier(self) -> bool:
        return bool(self.verify) or self.veto_inliers > 0 or self.min_inliers > 0


PHASH_PAIR = "phash|phash"


def _within(dist: pd.DataFrame, bounds: dict[str, int], bordered: np.ndarray | None) -> pd.DataFrame:
    """Pairs (i, j, d) within the bound of some combo, d the smallest such distance.

    With ``bordered`` (the frame guard), ``phash|phash`` counts only when not
    both images are bordered: two unrelated images in the same frame have
    close full-image pHashes (the frame dominates), so a framed pair is
    compared on ``phash_trim``.
    """
    if not bounds:
        return pd.DataFrame({"i": [], "j": [], "d": []}, dtype=np.int64)
    lim = dist["combo"].map(bounds)
    ok = lim.notna() & (dist["d"] <= lim.fillna(-1))
    if bordered is not None:
        ok &= ~((dist["combo"] == PHASH_PAIR) & bordered[dist["i"]] & bordered[dist["j"]])
    return dist.loc[ok].groupby(["i", "j"], as_index=False)["d"].min()


class Verifier:
    """ORB features per file computed once (direct and mirrored); inliers per pair cached."""

    def __init__(self, corpus: Path, files: list[str], cfg: robust.VerifyConfig = robust.DEFAULT_VERIFY):
        self.corpus, self.files, self.cfg = corpus, files, cfg
        self._feat: dict[tuple[int, bool], robust.OrbFeatures] = {}
        self._score: dict[tuple[int, int], int] = {}
        self.seconds: dict[str, list[float]] = {}

    def _features(self, i: int, mirror: bool) -> robust.OrbFeatures:
        if (i, mirror) not in self._feat:
            img = load_image(self.corpus, self.files[i])
            if mirror:
                img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            self._feat[(i, mirror)] = _timed(self.seconds, "orb_features", robust.orb_features, img, self.cfg)
        return self._feat[(i, mirror)]

    def inliers(self, i: int, j: int) -> int:
        """Same decision as robust.verify_pair, with per-image features reused across pairs."""
        if (i, j) not in self._score:
            t0 = time.perf_counter()
            fa = self._features(i, False)
            s = robust.verify_features(fa, self._features(j, False), self.cfg)
            if self.cfg.mirror and s < 2 * self.cfg.min_matches:
                s = max(s, robust.verify_features(fa, self._features(j, True), self.cfg))
            self._score[(i, j)] = s
            self.seconds.setdefault("pair_total", []).append(time.perf_counter() - t0)
        return self._score[(i, j)]


def match(f: Features, dist: pd.DataFrame, rule: Rule, verifier: Verifier | None) -> pd.DataFrame:
    """Duplicate edges (i, j) under ``rule``; without a verifier, the hash part only."""
    bordered = (f.keys[robust.KEY_TRIM] != f.keys[robust.KEY_PHASH]) if rule.frame_guard else None
    hashed = _within(dist, rule.accept, bordered)
    qmin = np.minimum(f.quality[hashed["i"]], f.quality[hashed["j"]])
    accepted = hashed[qmin >= rule.min_quality]
    if verifier is None or not rule.uses_verifier:
        return accepted[["i", "j"]]
    doubtful = ((accepted["d"] >= rule.veto_from)
                & (np.minimum(f.quality[accepted["i"]], f.quality[accepted["j"]]) < rule.veto_quality))
    if rule.veto_inliers > 0 and doubtful.any():
        vetoed = [verifier.inliers(i, j) < rule.veto_inliers
                  for i, j in accepted.loc[doubtful, ["i", "j"]].itertuples(index=False)]
        accepted = accepted.drop(accepted.index[doubtful][np.array(vetoed, dtype=bool)])
    to_verify = pd.concat([_within(dist, rule.verify, bordered), hashed[qmin < rule.min_quality]])[["i", "j"]]
    to_verify = to_verify.merge(accepted[["i", "j"]], how="left", indicator=True)
    to_verify = to_verify[to_verify["_merge"] == "left_only"][["i", "j"]].drop_duplicates()
    ok = [verifier.inliers(i, j) >= rule.min_inliers for i, j in to_verify.itertuples(index=False)]
    verified = to_verify[np.array(ok, dtype=bool)] if len(to_verify) else to_verify
    return pd.concat([accepted[["i", "j"]], verified]).drop_duplicates()


def components(n: int, edges: pd.DataFrame) -> np.ndarray:
    """Connected-component label (smallest member index) per item; int (n,)."""
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in edges.itertuples(index=False):
        ri, rj = find(int(i)), find(int(j))
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return np.array([find(x) for x in range(n)])


def labels_of(files: list[str], comp: np.ndarray) -> dict[str, str | None]:
    sizes = np.bincount(comp, minlength=len(files))
    return {f: (f"c{c}" if sizes[c] > 1 else None) for f, c in zip(files, comp)}


# ---------------------------------------------------------------------------- the rules compared

P, T, F = robust.KEY_PHASH, robust.KEY_TRIM, robust.KEY_FLIP
C90, C80, C60 = robust.KEY_C90, robust.KEY_C80, robust.KEY_C60
CCW5, CW5 = robust.KEY_CCW5, robust.KEY_CW5


def _c(a: str, b: str) -> str:
    return "|".join(sorted((a, b), key=robust.ALL_KEYS.index))


def robust_accept(same: int | None = None, crop: int | None = None, rotation: int | None = None) -> dict[str, int]:
    """robust.MATCH_BITS as combo -> max bits; the arguments override its three groups:
    ``same`` the picture as a whole (content box, mirror, full image), ``crop`` content box vs
    an original's centre crop, ``rotation`` centre vs an original's turned centre."""
    groups = {C90: crop, C80: crop, C60: crop, CCW5: rotation, CW5: rotation}
    out = {}
    for (a, b), bits in robust.MATCH_BITS.items():
        override = rotation if {a, b} & {CCW5, CW5} else groups.get(b, same) if a == T else same
        out[_c(a, b)] = bits if override is None else override
    return out


MIN_QUALITY = robust.MIN_QUALITY
VETO_FROM, VETO_INLIERS = robust.VETO_FROM_BITS, robust.VETO_MIN_INLIERS
VERIFY_UPTO, MIN_INLIERS = robust.VERIFY_UPTO_BITS, robust.VERIFY_MIN_INLIERS

HASH_ONLY = Rule("robust hash (job default)", robust_accept(), min_quality=MIN_QUALITY, frame_guard=True)
BEST = Rule("robust hash + ORB", robust_accept(), min_quality=MIN_QUALITY,
            verify=robust_accept(VERIFY_UPTO, VERIFY_UPTO, VERIFY_UPTO), min_inliers=MIN_INLIERS,
            veto_from=VETO_FROM, veto_quality=float("inf"), veto_inliers=VETO_INLIERS, frame_guard=True)

RULES: tuple[Rule, ...] = (
    Rule("plain phash<=10", {_c(P, P): 10}),
    Rule("phash<=14", {_c(P, P): 14}),
    Rule("+trim+flip", {_c(T, T): 6, _c(T, F): 6, _c(P, P): 6}, frame_guard=True),
    Rule("+crops", {k: v for k, v in robust_accept().items() if CCW5 not in k and CW5 not in k}, frame_guard=True),
    HASH_ONLY,
    Rule("robust hash + ORB veto", HASH_ONLY.accept, min_quality=MIN_QUALITY, min_inliers=MIN_INLIERS,
         veto_from=VETO_FROM, veto_quality=float("inf"), veto_inliers=VETO_INLIERS, frame_guard=True),
    BEST,
)


# ---------------------------------------------------------------------------- costs

def costs(corpus: Path, files: list[str], feats: Features, verifier: Verifier, sample: int = 200) -> pd.DataFrame:
    """Milliseconds per image and per pair: mean over the corpus, and over the bundled
    full-size photographs (best of 3 runs each), which are larger than the tiles."""
    rows = {stage: {"corpus (ms)": 1000 * float(np.mean(v))} for stage, v in feats.seconds.items()}
    for stage, v in verifier.seconds.items():
        rows.setdefault(stage, {})["corpus (ms)"] = 1000 * float(np.mean(v))
    photos = [p.load() for p in qc.bundled_photos() if p.kind == "photo"]
    per_image = {"phash": phash64, "robust_hashes": robust.robust_hashes, "quality": robust.quality,
                 "orb_features": robust.orb_features}
    for stage, fn in per_image.items():
        rows.setdefault(stage, {})["full-size photos (ms)"] = 1000 * float(np.mean([_best(fn, im) for im in photos]))
    feats_ = [robust.orb_features(im) for im in photos[:12]]
    match_ms = [_best(lambda ab: robust.verify_features(*ab), (a, b)) for a in feats_ for b in feats_ if a is not b]
    rows["verify_features (pair, features cached)"] = {"full-size photos (ms)": 1000 * float(np.mean(match_ms))}
    pair_ms = [_best(lambda ab: robust.verify_pair(*ab), (photos[i], photos[i + 1])) for i in range(0, 12, 2)]
    rows["verify_pair (pair, from images)"] = {"full-size photos (ms)": 1000 * float(np.mean(pair_ms))}
    out = pd.DataFrame(rows).T
    out.index.name = "stage"
    return out


def _best(fn, arg, reps: int = 3) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - t0)
    return best


# ---------------------------------------------------------------------------- report

def table(results: dict[str, dict]) -> pd.DataFrame:
    """One column per rule: precision, recall, F1, false merges, then recall per edit."""
    cols = {}
    for name, r in results.items():
        rows = {"pair precision": r["precision"], "pair recall": r["recall"], "F1": r["f1"],
                "false merges": r["false_merges"], "distractors matched": r["distractors_matched"]}
        if "verified_pairs" in r:
            rows["pairs sent to ORB"] = r["verified_pairs"]
        rows.update({f"recall {e}": v for e, v in r["per_edit"].items()})
        cols[name] = rows
    return pd.DataFrame(cols, dtype=object)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the corpus even if it exists")
    ap.add_argument("--limit", type=int, default=None, help="only the first N originals (quick)")
    ap.add_argument("--result", type=Path, default=None, help="score this job output's manifest only")
    ap.add_argument("--job", action="store_true",
                    help="also run the Spark job (shipped config, and plain pHash) and score its manifests")
    ap.add_argument("--job-repeats", type=int, default=2, help="runs per job config (timings: the fastest)")
    ap.add_argument("--no-costs", action="store_true", help="skip the cost table")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the tables as markdown here")
    ap.add_argument("--json", type=Path, default=None, help="write all scores to this file")
    args = ap.parse_args(argv)

    planted = _corpus(args)
    if args.result is not None:
        _print_scores({"manifest": score(planted, manifest_labels(args.result))})
        return 0
    files = planted["file"].tolist()
    t0 = time.perf_counter()
    feats = extract(args.corpus, files)
    dist = key_distances(feats)
    _log(f"features and key distances: {len(files)} files in {time.perf_counter() - t0:.1f} s")
    verifier = Verifier(args.corpus, files)
    results = {}
    for rule in RULES:
        t0 = time.perf_counter()
        before = len(verifier._score)
        edges = match(feats, dist, rule, verifier)
        results[rule.name] = score(planted, labels_of(files, components(len(files), edges)))
        if rule.uses_verifier:
            results[rule.name]["verified_pairs"] = _pairs_verified(feats, dist, rule, verifier)
        _log(f"{rule.name}: {time.perf_counter() - t0:.1f} s, {len(verifier._score) - before} new ORB pairs")
    timings = None
    if args.job:
        timings = {}
        for name, overrides in JOB_CONFIGS.items():
            runs = [run_job(args.corpus, overrides) for _ in range(args.job_repeats)]
            results[name] = score(planted, manifest_labels(runs[-1]))
            timings[name] = job_timings(runs)
    _print_scores(results)
    if timings:
        print("\n" + pd.DataFrame(timings).T.to_string(float_format="{:.1f}".format))
    cost = None if args.no_costs else costs(args.corpus, files, feats, verifier)
    if cost is not None:
        with pd.option_context("display.float_format", "{:.2f}".format):
            print("\n" + cost.to_string())
    if args.markdown:
        args.markdown.write_text(_markdown(planted, args.corpus, results, cost))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))
    return 0


def _pairs_verified(f: Features, dist: pd.DataFrame, rule: Rule, verifier: Verifier) -> int:
    """How many distinct pairs ``rule`` sends to ORB (all cached by now)."""
    calls: set = set()
    original = verifier.inliers

    def counting(i: int, j: int) -> int:
        calls.add((i, j))
        return original(i, j)

    verifier.inliers = counting  # type: ignore[method-assign]
    try:
        match(f, dist, rule, verifier)
    finally:
        verifier.inliers = original  # type: ignore[method-assign]
    return len(calls)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _markdown(planted: pd.DataFrame, corpus: Path, results: dict, cost: pd.DataFrame | None) -> str:
    info = json.loads((corpus / "distinctness.json").read_text())
    lines = [f"corpus: {len(planted)} files, {info['originals']} originals from {info['bundled_photographs']} "
             f"bundled photographs ({', '.join(info['sources'])}), distractors {info['distractors']}", ""]
    lines.append(markdown_table(table(results), "{:.3f}"))
    if cost is not None:
        lines += ["", markdown_table(cost, "{:.2f}")]
    return "\n".join(lines) + "\n"


def markdown_table(df: pd.DataFrame, fmt: str) -> str:
    """A DataFrame as a GitHub markdown table (index first); floats formatted with ``fmt``."""
    def cell(v) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else fmt.format(v)
        return str(v)
    head = [df.index.name or ""] + [str(c) for c in df.columns]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows += ["| " + " | ".join([str(i)] + [cell(v) for v in r]) + " |" for i, r in zip(df.index, df.itertuples(index=False))]
    return "\n".join(rows)


def _corpus(args) -> pd.DataFrame:
    if args.rebuild or not (args.corpus / "planted.csv").exists():
        if args.corpus.exists():
            shutil.rmtree(args.corpus)
        t0 = time.perf_counter()
        qc.build(args.corpus, limit=args.limit)
        _log(f"corpus built in {time.perf_counter() - t0:.1f} s: {args.corpus}")
    return qc.load_planted(args.corpus)


#: Job configurations scored by --job: the shipped defaults, and the plain pHash the job
#: shipped before the key families (keys off, 10 bits, no flatness gate).
JOB_CONFIGS: dict[str, tuple[str, ...]] = {
    "job: shipped config": (),
    "job: plain pHash<=10": ("phash.keys=[]", "phash.max_hamming=10", "phash.candidate_hamming=12",
                             "phash.min_quality=0"),
}


def job_timings(runs: list[Path]) -> dict[str, float]:
    """Seconds per stage (summary.json timings_s), the fastest of the runs for each stage."""
    per_run = [json.loads((r / "summary.json").read_text())["timings_s"] for r in runs]
    return {stage: min(t[stage] for t in per_run) for stage in per_run[0]}


def run_job(corpus: Path, overrides: tuple[str, ...] = ()) -> Path:
    """Run the dedup job on the corpus (local Spark) into a temp folder; return the output."""
    from jobs import dedup

    out = Path(tempfile.mkdtemp(prefix="quality-job-")) / "result"
    argv = ["run", "--input", str(corpus), "--output", str(out)]
    for o in overrides:
        argv += ["--set", o]
    rc = dedup.main(argv)
    if rc != 0:
        raise RuntimeError(f"dedup job failed with exit code {rc}")
    return out


def _print_scores(results: dict[str, dict]) -> None:
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(table(results).to_string())
    for name, r in results.items():
        if r["merged_groups"]:
            print(f"\n{name}: {r['false_merges']} false merges, e.g. {r['merged_groups'][:5]}")


if __name__ == "__main__":
    sys.exit(main())
