"""Match quality of near-duplicate detection on real photographs with planted edits.

One command::

    python -m bench.quality                      # build corpus, score offline matchers, costs
    python -m bench.quality --job                # also run the Spark job (plain pHash) and score it
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

def key_distances(f: Features, max_distance: int = MAX_DISTANCE, block: int = 512) -> pd.DataFrame:
    """Every pair (i < j) and key combination within ``max_distance`` bits.

    Columns: i, j, combo ("ka|kb", ka <= kb), d = min(dist(ka_i, kb_j), dist(kb_i, ka_j)).
    Brute force in row blocks: memory O(block x n).
    """
    n = len(f.files)
    out = []
    for ka, kb in combinations_with_replacement(robust.ALL_KEYS, 2):
        if ka == robust.KEY_FLIP and kb == robust.KEY_FLIP:
            continue  # the same as phash_trim|phash_trim
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
    """A match rule over key distances.

    Duplicate when, for some combo in ``accept`` (combo -> max bits), the pair's
    distance is within it and both qualities are >= ``min_quality``; or, with a
    verifier, when some combo in ``verify`` is within its bound (or the pair
    was accepted by hash but an image is below ``min_quality``) and ORB + RANSAC
    finds at least ``min_inliers`` inliers.
    """

    name: str
    accept: dict[str, int]
    min_quality: float = 0.0
    verify: dict[str, int] = field(default_factory=dict)
    min_inliers: int = 0
    veto_below: int = -1   # hash-accepted pairs with fewer inliers than this are rejected (-1: off)

    @property
    def uses_verifier(self) -> bool:
        return bool(self.verify) or self.veto_below >= 0 or (self.min_quality > 0 and self.min_inliers > 0)


def _within(dist: pd.DataFrame, bounds: dict[str, int]) -> pd.DataFrame:
    if not bounds:
        return dist.iloc[:0][["i", "j"]]
    lim = dist["combo"].map(bounds)
    return dist.loc[lim.notna() & (dist["d"] <= lim.fillna(-1)), ["i", "j"]].drop_duplicates()


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
    """Duplicate edges (i, j) under ``rule``."""
    hashed = _within(dist, rule.accept)
    good_q = (f.quality[hashed["i"]] >= rule.min_quality) & (f.quality[hashed["j"]] >= rule.min_quality)
    accepted = hashed[good_q]
    to_verify = pd.concat([_within(dist, rule.verify), hashed[~good_q]]).drop_duplicates()
    if verifier is None or not rule.uses_verifier:
        return accepted
    if rule.veto_below >= 0:
        keep = [verifier.inliers(i, j) >= rule.veto_below for i, j in accepted.itertuples(index=False)]
        accepted = accepted[np.array(keep, dtype=bool)] if len(accepted) else accepted
    to_verify = to_verify.merge(accepted, how="left", indicator=True)
    to_verify = to_verify[to_verify["_merge"] == "left_only"][["i", "j"]]
    ok = [verifier.inliers(i, j) >= rule.min_inliers for i, j in to_verify.itertuples(index=False)]
    verified = to_verify[np.array(ok, dtype=bool)] if len(to_verify) else to_verify
    return pd.concat([accepted, verified]).drop_duplicates()


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

P, F, T, C80, C60 = (robust.KEY_PHASH, robust.KEY_FLIP, robust.KEY_TRIM, robust.KEY_C80, robust.KEY_C60)


def _c(a: str, b: str) -> str:
    return "|".join(sorted((a, b), key=robust.ALL_KEYS.index))


PLAIN = {_c(P, P): 10}
FLIP = {**PLAIN, _c(P, F): 10}
TRIM = {**FLIP, _c(P, T): 10, _c(T, T): 10}
CROPS = {**TRIM, _c(P, C80): 10, _c(P, C60): 10}

RULES: tuple[Rule, ...] = (
    Rule("phash<=10 (shipped)", PLAIN),
    Rule("phash<=14", {_c(P, P): 14}),
    Rule("phash<=18", {_c(P, P): 18}),
    Rule("+flip", FLIP),
    Rule("+flip+trim", TRIM),
    Rule("+flip+trim+crops", CROPS),
)


# ---------------------------------------------------------------------------- report

def table(results: dict[str, dict]) -> pd.DataFrame:
    """One column per rule: precision, recall, F1, false merges, then recall per edit."""
    cols = {}
    for name, r in results.items():
        rows = {"precision": r["precision"], "recall": r["recall"], "F1": r["f1"],
                "false merges": r["false_merges"], "distractors matched": r["distractors_matched"]}
        rows.update({f"recall {e}": v for e, v in r["per_edit"].items()})
        cols[name] = rows
    return pd.DataFrame(cols)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the corpus even if it exists")
    ap.add_argument("--limit", type=int, default=None, help="only the first N originals (quick)")
    ap.add_argument("--result", type=Path, default=None, help="score this job output's manifest only")
    ap.add_argument("--job", action="store_true", help="also run the Spark job (plain pHash) and score it")
    ap.add_argument("--json", type=Path, default=None, help="write all scores to this file")
    args = ap.parse_args(argv)

    planted = _corpus(args)
    if args.result is not None:
        _print_scores({"manifest": score(planted, manifest_labels(args.result))})
        return 0
    files = planted["file"].tolist()
    t0 = time.perf_counter()
    feats = extract(args.corpus, files)
    print(f"features: {len(files)} files in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    dist = key_distances(feats)
    verifier = Verifier(args.corpus, files)
    results = {}
    for rule in RULES:
        edges = match(feats, dist, rule, verifier)
        results[rule.name] = score(planted, labels_of(files, components(len(files), edges)))
    if args.job:
        results["job: phash<=10"] = score(planted, manifest_labels(run_job(args.corpus)))
    _print_scores(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))
    return 0


def _corpus(args) -> pd.DataFrame:
    if args.rebuild or not (args.corpus / "planted.csv").exists():
        if args.corpus.exists():
            shutil.rmtree(args.corpus)
        t0 = time.perf_counter()
        qc.build(args.corpus, limit=args.limit)
        print(f"corpus built in {time.perf_counter() - t0:.1f} s: {args.corpus}", file=sys.stderr)
    return qc.load_planted(args.corpus)


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
