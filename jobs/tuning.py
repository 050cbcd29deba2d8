"""Threshold tuning and review over a finished run: shared by the notebooks and `dedup report`.

Pure pandas / numpy / PIL (no Spark): everything here reads a published run
folder (manifest/, pairs/, clusters/, summary.json) and, optionally, labels.

Labels are item pairs ``item_a, item_b, is_duplicate`` (CSV, ``item_a < item_b``),
either written by hand (:func:`save_labels`) or derived from the edit log of a
generated corpus (:func:`labels_from_planted`, ``planted.csv``).

Precision and recall are measured over pairs of *distinct contents* when the
manifest is given: byte-identical copies are always matched by the exact stage,
whatever the threshold, and ``pairs/`` only stores one representative item per
content. Precision counts the labelled pairs a threshold accepts; recall divides
by every labelled positive, including those that never became candidates (a
pair pHash never stored cannot be reached by any threshold, and the curve shows it).

Score direction per stage is decided once, in :data:`STAGE_SCORES`.
"""
from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd

from jobs.show import read_manifest
from udfs.metrics import KEY_STAGES, STAGE_EMBEDDING, STAGE_PHASH

LABEL_COLUMNS = ("item_a", "item_b", "is_duplicate")
PLANTED_COLUMNS = ("file", "original", "edit", "group")


@dataclass(frozen=True)
class StageScore:
    """How a stage's pairs are scored and where its threshold lives in conf/."""

    column: str            # pairs/ column holding the score
    lower_is_similar: bool  # pHash Hamming distance: True; embedding cosine: False
    conf_section: str
    conf_key: str
    summary_key: str       # summary.json "thresholds" entry of the decision threshold
    candidate_key: str     # ... and of the loose threshold pairs/ was stored at

    def accepts(self, scores: np.ndarray, threshold: float) -> np.ndarray:
        """Boolean mask: the pairs a threshold calls duplicates (same rule as the job)."""
        return scores <= threshold if self.lower_is_similar else scores >= threshold


STAGE_SCORES: dict[str, StageScore] = {
    STAGE_PHASH: StageScore("hamming", True, "phash", "max_hamming",
                            "phash_max_hamming", "phash_candidate_hamming"),
    **{stage: StageScore("hamming", True, "phash", f"{stage[len('phash_'):]}_hamming",
                         f"{stage}_max_hamming", f"{stage}_candidate_hamming") for stage in KEY_STAGES},
    STAGE_EMBEDDING: StageScore("similarity", False, "embedding", "threshold",
                                "embedding_threshold", "embedding_candidate_threshold"),
}


def stage_score(stage: str) -> StageScore:
    try:
        return STAGE_SCORES[stage]
    except KeyError:
        raise ValueError(f"no threshold to tune for stage {stage!r}; choose from {tuple(STAGE_SCORES)}") from None


# ---------------------------------------------------------------------------
# A run folder
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A published run, read into pandas."""

    path: Path
    manifest: pd.DataFrame   # one row per input item (schemas.MANIFEST, `action` a column)
    pairs: pd.DataFrame      # scored edges (schemas.PAIRS)
    clusters: pd.DataFrame   # one row per cluster (schemas.CLUSTERS)
    summary: dict = field(repr=False)

    @property
    def stages(self) -> list[str]:
        """Stages with a tunable threshold that stored pairs in this run, in STAGE_SCORES order."""
        present = set(self.pairs["stage"])
        return [s for s in STAGE_SCORES if s in present]

    def threshold(self, stage: str) -> float | None:
        """The decision threshold the run used for ``stage`` (max Hamming or min cosine)."""
        return self.summary.get("thresholds", {}).get(stage_score(stage).summary_key)

    def candidate_threshold(self, stage: str) -> float | None:
        """The loose threshold pairs/ was stored at: no retuning can go past it."""
        return self.summary.get("thresholds", {}).get(stage_score(stage).candidate_key)

    uris: dict = field(init=False, repr=False)  # item_id -> uri

    def __post_init__(self) -> None:
        object.__setattr__(self, "uris", dict(zip(self.manifest["item_id"], self.manifest["uri"])))

    def uri(self, item_id: str) -> str | None:
        return self.uris.get(item_id)


def load_run(path: str | Path) -> Run:
    """Read a published run folder (local path) into a :class:`Run`."""
    root = Path(path)
    if not (root / "summary.json").is_file():
        raise FileNotFoundError(f"{root} is not a finished run: summary.json is missing")
    pairs = pd.read_parquet(root / "pairs")
    clusters = pd.read_parquet(root / "clusters")
    summary = json.loads((root / "summary.json").read_text())
    return Run(root, read_manifest(str(root)), pairs, clusters, summary)


def summary_table(run: Run) -> pd.DataFrame:
    """The run summary as a two-column table (setting, value) for display."""
    s = run.summary
    rows = [("run id", s.get("run_id")), ("input", s.get("input")), ("output", s.get("output")),
            ("finished", s.get("finished_at")), ("config fingerprint", s.get("config_fingerprint"))]
    rows += [(f"items: {k}", v) for k, v in s.get("counts", {}).items()]
    rows += [(f"reason: {k}", v) for k, v in sorted(s.get("reasons", {}).items())]
    stages = s.get("stages", {})
    for key in ("candidate_pairs", "duplicate_pairs"):
        rows += [(f"{key.replace('_', ' ')}: {k}", v) for k, v in sorted((stages.get(key) or {}).items())]
    rows += [(f"threshold: {k}", v) for k, v in s.get("thresholds", {}).items() if v is not None]
    return pd.DataFrame(rows, columns=["setting", "value"])


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------


def _ordered(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    lo = a.where(a <= b, b)
    hi = b.where(a <= b, a)
    return lo, hi


def _empty_labels() -> pd.DataFrame:
    return pd.DataFrame({"item_a": pd.Series(dtype=object), "item_b": pd.Series(dtype=object),
                         "is_duplicate": pd.Series(dtype=bool)})


def _planted_item_ids(planted: pd.DataFrame, manifest: pd.DataFrame) -> pd.Series:
    """planted ``file`` -> manifest item_id: the same id, else the item whose decoded uri ends in /file."""
    ids = set(manifest["item_id"])
    by_name: dict[str, list[tuple[str, str]]] = {}
    for item, uri in zip(manifest["item_id"], manifest["uri"]):
        if uri:
            path = unquote(str(uri))
            by_name.setdefault(path.rsplit("/", 1)[-1], []).append((path, item))

    def match(f: str) -> str | None:
        if f in ids:
            return f
        hits = [item for path, item in by_name.get(f.rsplit("/", 1)[-1], []) if path.endswith("/" + f)]
        return hits[0] if len(hits) == 1 else None

    return planted["file"].map(match)


def labels_from_planted(planted: pd.DataFrame, manifest: pd.DataFrame,
                        pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Labelled item pairs from a generated corpus' edit log: duplicate iff same non-null ``group``.

    Only items the run could read are labelled (an error row can match nothing).
    Every positive pair is returned. Negative pairs: all other pairs of labelled
    items - O(n^2), fine for a generated corpus - or, when ``pairs`` is given,
    only those among the stored candidates (all a precision count needs).
    Returns columns item_a < item_b, is_duplicate (bool).
    """
    missing = set(PLANTED_COLUMNS) - set(planted.columns)
    if missing:
        raise ValueError(f"planted table lacks column(s) {sorted(missing)}")
    ok = manifest.loc[manifest["action"] != "error", "item_id"]
    t = planted.assign(item_id=_planted_item_ids(planted, manifest))
    t = t[t["item_id"].isin(set(ok)) & t["group"].notna()]
    group = dict(zip(t["item_id"], t["group"]))
    items = sorted(group)
    if pairs is None:
        combos = pd.DataFrame(list(itertools.combinations(items, 2)), columns=["item_a", "item_b"])
    else:
        positives = [(a, b) for g in t.groupby("group")["item_id"] for a, b in itertools.combinations(sorted(g[1]), 2)]
        a, b = _ordered(pairs["item_a"], pairs["item_b"])
        stored = pd.DataFrame({"item_a": a, "item_b": b})
        stored = stored[stored["item_a"].isin(group) & stored["item_b"].isin(group)]
        combos = pd.concat([pd.DataFrame(positives, columns=["item_a", "item_b"]), stored]).drop_duplicates()
    if combos.empty:
        return _empty_labels()
    dup = combos["item_a"].map(group) == combos["item_b"].map(group)
    return combos.assign(is_duplicate=dup.astype(bool)).sort_values(["item_a", "item_b"], ignore_index=True)


_TRUE = {"true", "1", "yes", "y", "dup", "duplicate"}
_FALSE = {"false", "0", "no", "n", "not", "not_duplicate", "distinct"}


def _parse_label(value) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in ("", "?", "nan", "none", "<na>"):
        return None
    raise ValueError(f"label {value!r} is neither duplicate ({sorted(_TRUE)}) nor not ({sorted(_FALSE)})")


def normalize_labels(df: pd.DataFrame) -> pd.DataFrame:
    """item_a < item_b, is_duplicate a bool; unlabelled rows dropped; the last label of a pair wins."""
    missing = set(LABEL_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"labels lack column(s) {sorted(missing)}; expected {LABEL_COLUMNS}")
    values = df["is_duplicate"].map(_parse_label)
    a, b = _ordered(df["item_a"].astype(str), df["item_b"].astype(str))
    out = pd.DataFrame({"item_a": a, "item_b": b, "is_duplicate": values})[values.notna()]
    out = out.drop_duplicates(["item_a", "item_b"], keep="last")
    return out.astype({"is_duplicate": bool}).sort_values(["item_a", "item_b"], ignore_index=True)


def load_labels(path: str | Path) -> pd.DataFrame:
    """Read a labels CSV (item_a, item_b, is_duplicate: true/false, yes/no, 1/0)."""
    return normalize_labels(pd.read_csv(path, dtype=str, keep_default_na=False))


def save_labels(df: pd.DataFrame, path: str | Path, merge: bool = True) -> Path:
    """Write labels as CSV; with ``merge`` an existing file is kept and updated (new labels win).

    Rows without a label (is_duplicate NA, "?") are not written.
    """
    path = Path(path)
    new = normalize_labels(df[list(LABEL_COLUMNS)])
    if merge and path.exists():
        new = normalize_labels(pd.concat([load_labels(path), new], ignore_index=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    new.assign(is_duplicate=new["is_duplicate"].map({True: "true", False: "false"})).to_csv(
        path, index=False, lineterminator="\n")
    return path


def read_labels(path: str | Path, run: Run) -> pd.DataFrame:
    """A labels CSV, or a generated corpus' planted.csv turned into labels for this run."""
    head = pd.read_csv(path, nrows=0).columns
    if set(PLANTED_COLUMNS) <= set(head):
        planted = pd.read_csv(path, dtype=str).astype(object)
        planted = planted.where(planted.notna(), None)
        return labels_from_planted(planted, run.manifest, run.pairs)
    return load_labels(path)


# ---------------------------------------------------------------------------
# Precision / recall against the threshold
# ---------------------------------------------------------------------------


def _pair_keys(df: pd.DataFrame, manifest: pd.DataFrame | None) -> pd.DataFrame:
    """Columns key_a <= key_b: item ids, or content hashes when ``manifest`` is given.

    With a manifest, rows joining two copies of one content, or naming an
    item without a content hash, are dropped.
    """
    if manifest is None:
        a, b = df["item_a"], df["item_b"]
    else:
        sha = dict(zip(manifest["item_id"], manifest["content_sha256"]))
        a, b = df["item_a"].map(sha), df["item_b"].map(sha)
    lo, hi = _ordered(a, b)
    out = df.assign(key_a=lo, key_b=hi)
    return out[out["key_a"].notna() & out["key_b"].notna() & (out["key_a"] != out["key_b"])]


def _stage_scores(pairs: pd.DataFrame, stage: str, manifest: pd.DataFrame | None) -> pd.DataFrame:
    """One row per (key_a, key_b) with the stage's most similar score, column ``score``."""
    spec = stage_score(stage)
    rows = _pair_keys(pairs[pairs["stage"] == stage], manifest)
    agg = "min" if spec.lower_is_similar else "max"
    return rows.groupby(["key_a", "key_b"], as_index=False).agg(score=(spec.column, agg))


def _label_keys(labels: pd.DataFrame, manifest: pd.DataFrame | None) -> pd.DataFrame:
    """One row per (key_a, key_b): duplicate if any of its item pairs is labelled one."""
    rows = _pair_keys(normalize_labels(labels), manifest)
    return rows.groupby(["key_a", "key_b"], as_index=False).agg(is_duplicate=("is_duplicate", "max"))


def attach_labels(pairs: pd.DataFrame, labels: pd.DataFrame | None,
                  manifest: pd.DataFrame | None = None) -> pd.Series:
    """For each row of ``pairs``: True / False / NA (unlabelled), aligned on pairs' index."""
    if labels is None or labels.empty:
        return pd.Series(pd.NA, index=pairs.index, dtype="boolean")
    keyed = _pair_keys(pairs, manifest)
    lab = _label_keys(labels, manifest).set_index(["key_a", "key_b"])["is_duplicate"]
    idx = pd.MultiIndex.from_arrays([keyed["key_a"], keyed["key_b"]])
    values = pd.Series(lab.reindex(idx).to_numpy(), index=keyed.index, dtype="boolean")
    return values.reindex(pairs.index).astype("boolean")


def default_thresholds(pairs: pd.DataFrame, stage: str, upto: float | None = None) -> np.ndarray:
    """pHash: every whole distance 0..max stored (or ``upto``); embedding: each stored cosine to 3 decimals."""
    spec = stage_score(stage)
    scores = pairs.loc[pairs["stage"] == stage, spec.column].dropna().to_numpy(dtype=float)
    if spec.lower_is_similar:
        top = int(upto if upto is not None else (scores.max() if scores.size else 0))
        return np.arange(0, top + 1)
    grid = np.unique(np.round(scores, 3))
    return grid if upto is None else grid[grid >= upto]


def pr_curve(pairs: pd.DataFrame, labels: pd.DataFrame, stage: str,
             manifest: pd.DataFrame | None = None, thresholds: Iterable[float] | None = None) -> pd.DataFrame:
    """Precision, recall and F1 of one stage's threshold, swept over ``thresholds``.

    pHash sweeps max_hamming (accept when hamming <= t); embedding sweeps the
    cosine threshold (accept when similarity >= t). Per threshold:
    ``accepted`` stored pairs the threshold accepts (labelled or not),
    ``tp``/``fp`` accepted pairs labelled duplicate / not duplicate,
    ``fn`` labelled duplicates it misses (never-stored ones included),
    precision = tp / (tp + fp) (NaN when no labelled pair is accepted),
    recall = tp / all labelled duplicates, f1 their harmonic mean.
    With ``manifest`` every count is over pairs of distinct contents.
    """
    spec = stage_score(stage)
    scored = _stage_scores(pairs, stage, manifest)
    lab = _label_keys(labels, manifest)
    positives = int(lab["is_duplicate"].sum())
    scored = scored.merge(lab, on=["key_a", "key_b"], how="left")
    t = np.asarray(list(thresholds) if thresholds is not None else default_thresholds(pairs, stage), dtype=float)

    # Sort most-similar first; a threshold accepts a prefix of that order.
    sign = 1.0 if spec.lower_is_similar else -1.0
    order = np.argsort(sign * scored["score"].to_numpy(dtype=float), kind="stable")
    keys = (sign * scored["score"].to_numpy(dtype=float))[order]
    label = scored["is_duplicate"].map({True: 1.0, False: 0.0}).to_numpy(dtype=float)[order]  # NaN: unlabelled
    cum_tp = np.concatenate([[0], np.cumsum(label == 1.0)])
    cum_fp = np.concatenate([[0], np.cumsum(label == 0.0)])
    n = np.searchsorted(keys, sign * t, side="right")
    tp, fp = cum_tp[n], cum_fp[n]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), np.nan)
        recall = tp / positives if positives else np.full(len(t), np.nan)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    f1 = np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)
    threshold = t.astype(int) if spec.lower_is_similar else t
    return pd.DataFrame({"stage": stage, "threshold": threshold, "accepted": n, "tp": tp, "fp": fp,
                         "fn": positives - tp, "precision": precision, "recall": recall, "f1": f1})


def threshold_for_precision(curve: pd.DataFrame, target: float) -> float | int | None:
    """The threshold with the highest recall among those with precision >= ``target``.

    Ties go to the stricter threshold (smaller Hamming, higher cosine). None
    when no threshold reaches the target.
    """
    ok = curve[curve["precision"] >= target]
    if ok.empty:
        return None
    spec = stage_score(str(curve["stage"].iloc[0]))
    ok = ok.sort_values(["recall", "threshold"], ascending=[False, spec.lower_is_similar])
    value = ok["threshold"].iloc[0]
    return int(value) if spec.lower_is_similar else float(value)


def conf_snippet(stage: str, threshold: float, comment: str | None = None) -> str:
    """YAML to put in conf/ (or pass as ``--set section.key=value``) for the chosen threshold."""
    spec = stage_score(stage)
    value = int(threshold) if spec.lower_is_similar else round(float(threshold), 4)
    lines = [f"# {comment}"] if comment else []
    lines += [f"{spec.conf_section}:", f"  {spec.conf_key}: {value}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Choosing pairs to look at and to label
# ---------------------------------------------------------------------------


def borderline_pairs(pairs: pd.DataFrame, stage: str, threshold: float, n: int,
                     side: str = "accepted") -> pd.DataFrame:
    """The ``n`` stored pairs nearest the threshold on one side.

    ``side="accepted"``: the weakest pairs the threshold still calls duplicates;
    ``"rejected"``: the strongest ones it turns away. Ties by item ids.
    """
    if side not in ("accepted", "rejected"):
        raise ValueError(f"side must be 'accepted' or 'rejected', got {side!r}")
    spec = stage_score(stage)
    rows = pairs[pairs["stage"] == stage]
    acc = spec.accepts(rows[spec.column].to_numpy(dtype=float), threshold)
    rows = rows[acc] if side == "accepted" else rows[~acc]
    gap = (rows[spec.column] - threshold).abs()
    return (rows.assign(_gap=gap).sort_values(["_gap", "item_a", "item_b"])
                .head(n).drop(columns="_gap").reset_index(drop=True))


def sample_pairs_for_labelling(pairs: pd.DataFrame, n: int, around: float, seed: int = 0,
                               stage: str = STAGE_PHASH, labels: pd.DataFrame | None = None) -> pd.DataFrame:
    """``n`` stored pairs whose score is nearest ``around``, ties broken by a seeded shuffle.

    Pairs already in ``labels`` are skipped. Returns item_a, item_b, stage,
    similarity, hamming and an empty ``is_duplicate`` (pandas "boolean", NA) to fill.
    """
    spec = stage_score(stage)
    rows = pairs[pairs["stage"] == stage][["item_a", "item_b", "stage", "similarity", "hamming"]]
    if labels is not None and not labels.empty:
        done = set(map(tuple, normalize_labels(labels)[["item_a", "item_b"]].to_numpy()))
        a, b = _ordered(rows["item_a"], rows["item_b"])
        rows = rows[[(x, y) not in done for x, y in zip(a, b)]]
    rng = np.random.default_rng(seed)
    rows = rows.iloc[rng.permutation(len(rows))]
    gap = (rows[spec.column].astype(float) - around).abs()
    picked = rows.assign(_gap=gap.to_numpy()).sort_values("_gap", kind="stable").head(n)
    picked = picked.sort_values([spec.column, "item_a", "item_b"], ascending=[spec.lower_is_similar, True, True])
    return picked.drop(columns="_gap").reset_index(drop=True).assign(is_duplicate=pd.array([pd.NA] * len(picked),
                                                                                         dtype="boolean"))


def apply_answers(sample: pd.DataFrame, answers: str) -> pd.DataFrame:
    """Fill ``is_duplicate`` from a string of y / n / ? (one per row, in order; spaces ignored).

    Fewer answers than rows leave the rest unlabelled.
    """
    marks = [c for c in answers.lower() if not c.isspace()]
    if len(marks) > len(sample):
        raise ValueError(f"{len(marks)} answers for {len(sample)} pairs")
    bad = sorted(set(marks) - {"y", "n", "?"})
    if bad:
        raise ValueError(f"answers must be y, n or ?, got {bad}")
    values = [True if m == "y" else False if m == "n" else pd.NA for m in marks]
    values += [pd.NA] * (len(sample) - len(marks))
    return sample.assign(is_duplicate=pd.array(values, dtype="boolean"))


def prefill_from_labels(sample: pd.DataFrame, labels: pd.DataFrame,
                        manifest: pd.DataFrame | None = None) -> pd.DataFrame:
    """Fill ``is_duplicate`` of a sample from known labels (for demonstrations and checks)."""
    return sample.assign(is_duplicate=attach_labels(sample, labels, manifest).to_numpy())


# ---------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------


def largest_clusters(clusters: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` biggest clusters (size desc, then cluster_id)."""
    return clusters.sort_values(["size", "cluster_id"], ascending=[False, True]).head(n).reset_index(drop=True)


def mixed_clusters(run: Run, labels: pd.DataFrame) -> list[str]:
    """Clusters holding an item labelled *not* a duplicate of its keeper (sorted cluster ids).

    A cluster is a star (every dropped item has a direct edge to its keeper), so
    checking each member against its keeper finds every mixed cluster whose
    member-keeper pairs are labelled (planted.csv labels every stored candidate pair).
    """
    m = run.manifest
    members = m[m["cluster_id"].notna() & m["keeper_id"].notna()]
    a, b = _ordered(members["item_id"], members["keeper_id"])
    keyed = pd.DataFrame({"item_a": a.to_numpy(), "item_b": b.to_numpy(), "cluster_id": members["cluster_id"].to_numpy()})
    negatives = labels.loc[~labels["is_duplicate"].astype(bool), ["item_a", "item_b"]]
    return sorted(keyed.merge(negatives, on=["item_a", "item_b"])["cluster_id"].unique().tolist())


def weakest_clusters(clusters: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` clusters with the weakest link (min_edge_similarity asc, then size desc): chaining suspects."""
    return (clusters.sort_values(["min_edge_similarity", "size", "cluster_id"], ascending=[True, False, True])
                    .head(n).reset_index(drop=True))


def cluster_members(run: Run, cluster_id: str) -> pd.DataFrame:
    """Manifest rows of one cluster: keepers first, then by similarity to their keeper (desc)."""
    m = run.manifest[run.manifest["cluster_id"] == cluster_id]
    return m.assign(_k=(m["action"] != "keep")).sort_values(
        ["_k", "keeper_similarity", "item_id"], ascending=[True, False, True]).drop(columns="_k")


def weakest_link(run: Run, cluster_id: str) -> pd.Series | None:
    """The cluster's bottleneck edge: the weakest pair on a maximum spanning tree of its duplicate edges.

    Its similarity is the cluster's ``min_edge_similarity``: the highest
    threshold at which the cluster still holds together. None without edges.
    """
    from jobs.clusters import UnionFind

    members = set(run.manifest.loc[run.manifest["cluster_id"] == cluster_id, "item_id"])
    p = run.pairs
    inside = p[p["is_duplicate"] & p["item_a"].isin(members) & p["item_b"].isin(members)]
    if inside.empty:
        return None
    inside = inside.sort_values(["similarity", "item_a", "item_b"], ascending=[False, True, True])
    nodes = {item: i for i, item in enumerate(sorted(members))}
    merged = UnionFind(len(nodes)).union_many(inside["item_a"].map(nodes).to_numpy(),
                                              inside["item_b"].map(nodes).to_numpy())
    return inside[merged].iloc[-1]


# ---------------------------------------------------------------------------
# Thumbnails and galleries
# ---------------------------------------------------------------------------


def thumbnail(uri: str, size: int = 96, max_bytes: int = 64 * 1024 * 1024,
              max_pixels: int = 100_000_000):
    """A PIL RGB image at most ``size`` px on its longer side; raises ReadError / DecodeError."""
    from udfs.decode import decode_image
    from udfs.io import read_bytes

    img = decode_image(read_bytes(uri, max_bytes), max_pixels, draft_size=size).image.copy()
    img.thumbnail((size, size))
    return img


@lru_cache(maxsize=4096)
def thumbnail_data_uri(uri: str, size: int = 96, quality: int = 70) -> tuple[str | None, str | None]:
    """(``data:image/jpeg;base64,...``, None) or (None, the read/decode error as text)."""
    import base64
    import io

    from udfs.decode import DecodeError
    from udfs.io import ReadError

    try:
        img = thumbnail(uri, size)
    except (ReadError, DecodeError) as exc:
        return None, str(exc)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), None


@dataclass(frozen=True)
class Tile:
    """One image in a gallery card."""

    item_id: str
    uri: str | None
    caption: str = ""
    keeper: bool = False


@dataclass(frozen=True)
class Card:
    """A group of images shown together: a pair, or a cluster. ``tone``: dup | nondup | ''."""

    title: str
    tiles: tuple[Tile, ...]
    note: str = ""
    tone: str = ""


def _label_text(value) -> tuple[str, str]:
    if value is True:
        return "labelled: duplicate", "dup"
    if value is False:
        return "labelled: NOT duplicate", "nondup"
    return "", ""


def pair_cards(rows: pd.DataFrame, run: Run, labels: pd.DataFrame | None = None,
               numbered: bool = False) -> list[Card]:
    """One card per pair row: both images side by side, the score and any label."""
    lab = attach_labels(rows, labels, run.manifest) if labels is not None else None
    cards = []
    for i, r in enumerate(rows.itertuples(index=False)):
        score = f"hamming {int(r.hamming)}, " if r.stage == STAGE_PHASH and pd.notna(r.hamming) else ""
        text, tone = _label_text(None if lab is None or pd.isna(lab.iloc[i]) else bool(lab.iloc[i]))
        title = f"{f'#{i}  ' if numbered else ''}{r.stage}: {score}similarity {r.similarity:.3f}"
        tiles = tuple(Tile(x, run.uri(x)) for x in (r.item_a, r.item_b))
        cards.append(Card(title, tiles, note=text, tone=tone))
    return cards


def cluster_cards(run: Run, cluster_ids: Iterable[str], max_tiles: int = 12) -> list[Card]:
    """One card per cluster: its members (keepers marked), each with reason and keeper similarity."""
    by_id = run.clusters.set_index("cluster_id")
    cards = []
    for cid in cluster_ids:
        c = by_id.loc[cid]
        members = cluster_members(run, cid)
        tiles = []
        for m in members.head(max_tiles).itertuples(index=False):
            sim = f" {m.keeper_similarity:.3f}" if pd.notna(m.keeper_similarity) else ""
            tiles.append(Tile(m.item_id, m.uri, f"{m.reason}{sim}", keeper=m.action == "keep"))
        link = weakest_link(run, cid)
        note = (f"weakest link {link.similarity:.3f} ({link.stage}): {link.item_a} ~ {link.item_b}"
                if link is not None else "")
        more = f", {len(members) - max_tiles} more not shown" if len(members) > max_tiles else ""
        title = (f"{cid}: size {int(c['size'])}, keep {int(c['n_keep'])}, drop {int(c['n_drop'])}, "
                 f"edges {c['min_edge_similarity']:.3f}..{c['max_edge_similarity']:.3f}{more}")
        cards.append(Card(title, tuple(tiles), note=note))
    return cards


GALLERY_CSS = """
.dd-gallery{display:flex;flex-wrap:wrap;gap:10px;font:12px/1.3 system-ui,sans-serif;color:#222}
.dd-card{border:1px solid #ccc;border-radius:6px;padding:6px;background:#fafafa;max-width:100%}
.dd-card.dup{border-color:#2a9d4b;background:#eef9f0}.dd-card.nondup{border-color:#d43d3d;background:#fdf0f0}
.dd-title{font-weight:600;margin-bottom:4px}.dd-note{color:#555;margin-top:4px;word-break:break-all}
.dd-tiles{display:flex;flex-wrap:wrap;gap:6px}
.dd-tile{margin:0;width:var(--dd-px);text-align:center}
.dd-tile img,.dd-tile .dd-missing{width:var(--dd-px);height:var(--dd-px);object-fit:contain;background:#fff;
  border:3px solid transparent;box-sizing:border-box}
.dd-tile.keeper img{border-color:#1f6fd1}
.dd-tile .dd-missing{display:flex;align-items:center;justify-content:center;color:#a00;font-size:10px;
  background:#eee;overflow:hidden}
.dd-tile figcaption{font-size:10px;color:#444;word-break:break-all}
.dd-tile.keeper figcaption b{color:#1f6fd1}
"""


def _tile_html(tile: Tile, size: int) -> str:
    src, error = thumbnail_data_uri(tile.uri, size) if tile.uri else (None, "no uri")
    img = (f'<img class="thumb" src="{src}" alt="{html.escape(tile.item_id)}" title="{html.escape(tile.item_id)}">'
           if src else f'<div class="dd-missing" title="{html.escape(error or "")}">{html.escape(error or "")}</div>')
    keep = "<b>KEEP</b> " if tile.keeper else ""
    cap = f"{keep}{html.escape(tile.item_id)}" + (f"<br>{html.escape(tile.caption)}" if tile.caption else "")
    return f'<figure class="dd-tile{" keeper" if tile.keeper else ""}">{img}<figcaption>{cap}</figcaption></figure>'


def gallery_html(cards: Iterable[Card], size: int = 96, css: bool = True) -> str:
    """HTML for a list of cards, thumbnails embedded as base64 JPEG (``size`` px).

    Each shown image is one ``<img class="thumb">``; unreadable ones show their error instead.
    """
    body = []
    for card in cards:
        tiles = "".join(_tile_html(t, size) for t in card.tiles)
        note = f'<div class="dd-note">{html.escape(card.note)}</div>' if card.note else ""
        body.append(f'<div class="dd-card {card.tone}"><div class="dd-title">{html.escape(card.title)}</div>'
                    f'<div class="dd-tiles">{tiles}</div>{note}</div>')
    style = f"<style>{GALLERY_CSS}</style>" if css else ""
    empty = "" if body else '<p class="dd-empty">(nothing to show)</p>'
    return f'{style}<div class="dd-gallery" style="--dd-px:{size}px">{"".join(body)}{empty}</div>'


# ---------------------------------------------------------------------------
# Figures (matplotlib's object API: no pyplot state, any backend; PNG renders with Agg)
# ---------------------------------------------------------------------------


def plot_score_histogram(run: Run, stage: str, labels: pd.DataFrame | None = None):
    """Histogram of a stage's stored scores, the run's threshold marked; bars split by label if given."""
    from matplotlib.figure import Figure

    spec = stage_score(stage)
    rows = run.pairs[run.pairs["stage"] == stage]
    scores = rows[spec.column].to_numpy(dtype=float)
    threshold = run.threshold(stage)
    if spec.lower_is_similar:
        top = max(int(run.candidate_threshold(stage) or 0), int(scores.max()) if scores.size else 0)
        bins = np.arange(-0.5, top + 1.5)
        cut = None if threshold is None else threshold + 0.5
    else:
        lo = min(run.candidate_threshold(stage) or 1.0, scores.min() if scores.size else 1.0)
        bins = np.linspace(lo, 1.0, 41)
        cut = threshold
    if labels is not None:
        lab = attach_labels(rows, labels, run.manifest)
        groups = [("labelled duplicate", lab.fillna(False).to_numpy(dtype=bool), "#2a9d4b"),
                  ("labelled not duplicate", (~lab).fillna(False).to_numpy(dtype=bool), "#d43d3d"),
                  ("unlabelled", lab.isna().to_numpy(dtype=bool), "#9aa3ad")]
    else:
        dup = rows["is_duplicate"].to_numpy(dtype=bool)
        groups = [("accepted (duplicate)", dup, "#1f6fd1"), ("rejected", ~dup, "#9aa3ad")]
    fig = Figure(figsize=(6.4, 3.2), dpi=90, layout="constrained")
    ax = fig.add_subplot()
    ax.hist([scores[m] for _, m, _ in groups], bins=bins, stacked=True,
            label=[g for g, _, _ in groups], color=[c for _, _, c in groups])
    if cut is not None:
        ax.axvline(cut, color="black", linestyle="--", linewidth=1.2)
        ax.annotate(f"{spec.conf_section}.{spec.conf_key} = {threshold}", (cut, 1), xycoords=("data", "axes fraction"),
                    xytext=(4, -12), textcoords="offset points", fontsize=9)
    xlabel = "pHash Hamming distance (64 bits; lower = more similar)" if spec.lower_is_similar \
        else "embedding cosine similarity (higher = more similar)"
    ax.set(xlabel=xlabel, ylabel="stored pairs", title=f"{stage}: {len(scores)} stored pairs")
    ax.legend(fontsize=8, loc="upper left" if spec.lower_is_similar else "upper right")
    return fig


def plot_pr_curve(curve: pd.DataFrame, current: float | None = None, chosen: float | None = None,
                  target: float | None = None):
    """Precision, recall and F1 against the threshold; the run's and the chosen threshold marked."""
    from matplotlib.figure import Figure

    stage = str(curve["stage"].iloc[0]) if len(curve) else "?"
    spec = stage_score(stage) if stage in STAGE_SCORES else None
    fig = Figure(figsize=(6.4, 3.2), dpi=90, layout="constrained")
    ax = fig.add_subplot()
    for col, color in (("precision", "#1f6fd1"), ("recall", "#2a9d4b"), ("f1", "#e08a00")):
        ax.plot(curve["threshold"], curve[col], marker=".", color=color, label=col)
    if target is not None:
        ax.axhline(target, color="#1f6fd1", linestyle=":", linewidth=1, label=f"target precision {target}")
    if current is not None:
        ax.axvline(current, color="black", linestyle="--", linewidth=1.2, label=f"current {current}")
    if chosen is not None:
        ax.axvline(chosen, color="#c2185b", linestyle="-", linewidth=1.5, label=f"chosen {chosen}")
    xlabel = ("max_hamming (accept when distance <= t)" if spec is None or spec.lower_is_similar
              else "cosine threshold (accept when similarity >= t)")
    ax.set(xlabel=xlabel, ylim=(-0.02, 1.02), title=f"{stage}: precision / recall over labelled pairs")
    ax.legend(fontsize=8, loc="lower left" if spec is None or not spec.lower_is_similar else "lower right")
    return fig


def plot_cluster_overview(clusters: pd.DataFrame):
    """Cluster sizes and, per cluster, size against its weakest link (chaining shows bottom right)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 3.0), dpi=90, layout="constrained")
    a, b = fig.subplots(1, 2)
    sizes = clusters["size"].to_numpy(dtype=int)
    a.hist(sizes, bins=np.arange(1.5, (sizes.max() if sizes.size else 2) + 1.5), color="#1f6fd1")
    a.set(xlabel="cluster size (items)", ylabel="clusters", title=f"{len(sizes)} clusters")
    b.scatter(clusters["size"], clusters["min_edge_similarity"], color="#e08a00", s=18)
    b.set(xlabel="cluster size (items)", ylabel="weakest link (similarity)", title="size vs weakest link")
    return fig


def figure_png(fig) -> bytes:
    """A matplotlib figure rendered as PNG bytes (Agg)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
