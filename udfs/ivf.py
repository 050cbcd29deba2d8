"""IVF blocked self-join kernels: centroids, list assignment and block search.

The distributed job runs this algorithm (``blocked_self_join`` runs the very
same steps in one process, as the reference and the local path):

1. ``train_centroids`` on the driver from a sample (spherical k-means);
   ``split_large_lists`` then re-clusters the few lists that hold far more
   than their share of the sample (diffuse regions), since a list's cost is
   its members times the queries probing it.
2. Broadcast the centroids; ``assign_lists`` gives every vector its home list
   (column 0) and up to ``nprobe - 1`` further probe lists; ``probe_mask``
   keeps a further list only when its centroid is within ``probe_margin``
   (cosine) of the home centroid, so vectors deep inside their list probe
   one list and vectors near a boundary probe several.
3. ``plan_parts`` splits each list into ``parts`` so no part is too large;
   a member goes to part ``index % parts[home]`` where ``index`` is its
   integer node index (see ``member_parts``).
4. Co-group by (list, part): members are the vectors whose home is the list
   and whose part matches; queries are all vectors that probe the list.
   Each group calls ``search_block(queries, members, ...)``.
5. Drop self-pairs by id, canonicalise pairs (a < b), merge duplicates
   keeping the highest similarity.

Transport: the job ships vectors between stages as packed rows of float16
(or float32) bytes (``pack_rows`` / ``unpack_rows``); unpacked rows are
renormalised float32.  fp16 moves a cosine by at most ``transport_slack``
(2e-3), so the job searches at ``threshold - transport_slack`` and loses no
pair to rounding.

Metric: vectors are L2-normalised float32, similarity is the inner product
(cosine), higher is more similar (see ``udfs.metrics``).  Every similarity is
computed as ``q_block @ m_block.T`` on DISTINCT buffers (the query block is
always a fresh copy), never ``X @ X.T`` on one buffer, whose symmetric BLAS
path has crashed on this project's machines.
"""
from __future__ import annotations

import functools
import logging
import math
from typing import Iterator

import faiss
import numpy as np

from udfs.metrics import l2_normalize

logger = logging.getLogger("udfs.ivf")

#: faiss warns below this many training points per centroid.
MIN_POINTS_PER_LIST = 39

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]
#: rows of a tile capped at once in ``_block_hits`` (bounds its scratch memory)
_CAP_CHUNK = 512


# ---------------------------------------------------------------- centroids


def choose_nlist(n: int, min_list: int = MIN_POINTS_PER_LIST, factor: float = 3.0) -> int:
    """Default number of IVF lists for ``n`` vectors.

    Rule: ``round(factor * sqrt(n))``, capped at ``n // min_list`` so k-means
    sees at least ``min_list`` points per centroid (faiss wants >= 39), and at
    least 1.  E.g. n = 1e6 -> 3000 lists of ~330 vectors each (bench/RESULTS.md
    "selfjoin": pair evaluations fall ~4x from 1000 to 3000 lists at 1M while
    assignment stays a cheap GEMM).
    """
    if n < 0 or min_list < 1 or factor <= 0:
        raise ValueError(f"choose_nlist: bad arguments n={n}, min_list={min_list}, factor={factor}")
    wanted = int(round(factor * math.sqrt(n)))
    return max(1, min(wanted, n // min_list))


def gpu_available() -> bool:
    """True when this faiss build has GPU support and sees at least one GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def _resolve_gpu(use_gpu: bool, what: str) -> bool:
    """Return whether to use the GPU; log a warning when asked for one that is absent."""
    if use_gpu and not gpu_available():
        logger.warning("%s: GPU requested but faiss has no GPU support or no GPU; using CPU", what)
        return False
    return use_gpu


@functools.lru_cache(maxsize=1)
def _gpu_resources():  # pragma: no cover - needs faiss-gpu and a device
    """One StandardGpuResources per process (it reserves scratch GPU memory)."""
    return faiss.StandardGpuResources()


def _as_float32_rows(x: np.ndarray, name: str) -> np.ndarray:
    """C-contiguous float32 (n, d) view/copy of ``x``; ValueError on a bad shape."""
    arr = np.ascontiguousarray(x, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, d), got shape {arr.shape}")
    return arr


def train_centroids(
    sample: np.ndarray,
    nlist: int,
    niter: int = 20,
    seed: int = 0,
    use_gpu: bool = False,
    split_factor: float = 0.0,
) -> np.ndarray:
    """Spherical k-means centroids from a training sample.

    sample: (n, d) float32, L2-normalised rows (a random sample of the corpus;
    faiss itself sub-samples to 256 points per centroid).  ``nlist`` is clamped
    to ``[1, n // 39]`` (and to ``n``) so every centroid has enough points.
    ``split_factor`` > 0: centroids holding more than that many times the mean
    share of the sample are then split (``split_large_lists``), so more than
    ``k`` rows can come back.  Returns (k', d) float32 unit rows, k' >= k = the
    clamped nlist.  Memory: the sample plus O(k' * d); time O(niter * n * k * d).
    """
    x = _as_float32_rows(sample, "sample")
    n, d = x.shape
    if n == 0:
        raise ValueError("train_centroids: empty sample")
    k = max(1, min(int(nlist), n // MIN_POINTS_PER_LIST, n))
    if k < nlist:
        logger.info("train_centroids: nlist %d clamped to %d for a sample of %d", nlist, k, n)
    gpu = _resolve_gpu(use_gpu, "train_centroids")
    km = faiss.Kmeans(d, k, niter=niter, seed=seed, spherical=True, gpu=gpu, verbose=False)
    km.train(x)
    centroids = l2_normalize(km.centroids.reshape(k, d))
    if split_factor > 0:
        centroids = split_large_lists(x, centroids, split_factor, niter=niter, seed=seed, use_gpu=gpu)
    return centroids


def split_large_lists(
    sample: np.ndarray,
    centroids: np.ndarray,
    factor: float,
    niter: int = 10,
    seed: int = 0,
    use_gpu: bool = False,
) -> np.ndarray:
    """Replace each centroid whose list would hold > ``factor`` x the mean by k-means centroids of its own points.

    k-means leaves diffuse regions (vectors far from every dense group) in a few
    very large lists: at 1M synthetic vectors (bench/selfjoin's generator) 1% of
    3,000 lists held 84% of the pair evaluations (members x probing queries),
    because a large list is also probed by many queries.  The list sizes are
    read from the training sample (home list of each sample row); an oversized
    list's sample rows are clustered again into ``min(round(count / mean),
    count // 39)`` centroids (spherical k-means, ``niter`` iterations), which
    take its place.  The probe rule (``probe_mask``) then lets vectors near the
    new boundaries probe both sides.  Returns (k', d) unit rows, the kept
    centroids first in their order, then each split list's in order; the input
    when nothing is oversized.
    """
    x = _as_float32_rows(sample, "sample")
    cents = _as_float32_rows(centroids, "centroids")
    if factor <= 0 or len(cents) < 2 or len(x) == 0:
        return cents
    home = assign_lists(x, cents, 1, use_gpu=use_gpu)[:, 0]
    counts = np.bincount(home, minlength=len(cents))
    mean = len(x) / len(cents)
    large = np.flatnonzero(counts > factor * mean)
    if large.size == 0:
        return cents
    parts = [cents[counts <= factor * mean]]
    for j in large:
        rows = x[home == j]
        k = int(min(round(counts[j] / mean), counts[j] // MIN_POINTS_PER_LIST))
        if k < 2:
            parts.append(cents[j : j + 1])
            continue
        km = faiss.Kmeans(x.shape[1], k, niter=niter, seed=seed, spherical=True, gpu=use_gpu, verbose=False)
        km.train(np.ascontiguousarray(rows))
        parts.append(l2_normalize(km.centroids.reshape(k, -1)))
    out = np.ascontiguousarray(np.vstack(parts), dtype=np.float32)
    logger.info("split_large_lists: %d of %d lists held > %g x the mean share of the sample; %d lists now",
                large.size, len(cents), factor, len(out))
    return out


def _flat_ip_index(centroids: np.ndarray, use_gpu: bool) -> faiss.Index:
    """Exact inner-product index over the centroids, on GPU if requested and present."""
    index = faiss.IndexFlatIP(centroids.shape[1])
    if _resolve_gpu(use_gpu, "assign_lists"):  # pragma: no cover - needs a GPU
        index = faiss.index_cpu_to_gpu(_gpu_resources(), 0, index)
    index.add(centroids)
    return index


def assign_lists(
    x: np.ndarray, centroids: np.ndarray, nprobe: int, use_gpu: bool = False,
    return_sims: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Home list and probe lists of every vector.

    x: (n, d) float32 unit rows; centroids: (k, d) float32.  Returns (n, p)
    int32 with p = min(nprobe, k): column 0 is the home list (largest inner
    product), then the next-nearest lists by inner product descending.  Ties
    go to the smaller centroid index (faiss keeps the smaller ids at the cut;
    rows are re-sorted by (-similarity, id)).  With ``return_sims`` also the
    (n, p) float32 inner products, in the same order (for ``probe_mask``).
    Memory O(n * p) plus faiss's internal blocks; deterministic for a given input.
    """
    xq = _as_float32_rows(x, "x")
    cents = _as_float32_rows(centroids, "centroids")
    if xq.shape[1] != cents.shape[1]:
        raise ValueError(f"dimension mismatch: x has d={xq.shape[1]}, centroids d={cents.shape[1]}")
    if nprobe < 1:
        raise ValueError(f"nprobe must be >= 1, got {nprobe}")
    p = min(int(nprobe), cents.shape[0])
    if xq.shape[0] == 0:
        lists, sims = np.zeros((0, p), dtype=np.int32), np.zeros((0, p), dtype=np.float32)
        return (lists, sims) if return_sims else lists
    sims, ids = _flat_ip_index(cents, use_gpu).search(xq, p)
    order = np.lexsort((ids, -sims), axis=-1)
    lists = np.take_along_axis(ids, order, axis=1).astype(np.int32)
    if return_sims:
        return lists, np.take_along_axis(sims, order, axis=1).astype(np.float32, copy=False)
    return lists


def probe_mask(sims: np.ndarray, margin: float) -> np.ndarray:
    """Which probe lists to search: (n, p) bool, True where ``sims >= sims[:, 0] - margin``.

    sims: (n, p) from ``assign_lists(..., return_sims=True)`` (column 0 = the
    home list, always kept; columns descending).  A vector well inside its
    home list probes only it; one near a boundary also probes the lists whose
    centroids are almost as close.  ``margin = inf`` keeps all p columns
    (a fixed nprobe).  The kept columns of a row are a prefix.
    """
    if margin < 0:
        raise ValueError(f"probe margin must be >= 0, got {margin}")
    sims = np.asarray(sims, dtype=np.float32)
    keep = sims >= sims[:, :1] - np.float32(margin)
    keep[:, :1] = True
    return keep


# ---------------------------------------------------------------- transport

#: dtypes vectors may travel in; see ``transport_slack``.
TRANSPORT_DTYPES = ("float16", "float32")


def transport_slack(dtype: str) -> float:
    """Largest change of a cosine between unit vectors sent as ``dtype`` and unpacked.

    float32: 0.  float16: rounding each component changes it by a relative
    <= 2**-11, so the inner product of two rows moves by <= 2 * 2**-11 (~1e-3),
    and renormalising each row moves it by at most as much again: 4 * 2**-11
    ~= 2e-3.  Searching at ``threshold - transport_slack`` therefore finds every
    pair whose float32 cosine is >= threshold.
    """
    if dtype not in TRANSPORT_DTYPES:
        raise ValueError(f"transport dtype must be one of {TRANSPORT_DTYPES}, got {dtype!r}")
    return 0.0 if dtype == "float32" else 2e-3


def pack_rows(x: np.ndarray, dtype: str) -> list[bytes]:
    """(n, d) rows -> n byte strings of ``d * itemsize(dtype)`` bytes each (native byte order)."""
    transport_slack(dtype)  # validates dtype
    packed = _as_float32_rows(x, "x").astype(dtype)
    return [row.tobytes() for row in packed]


def unpack_rows(blobs, dtype: str) -> np.ndarray:
    """Packed rows (a sequence of equal-length byte strings) -> (n, d) float32 rows.

    One join and one ``frombuffer``, no per-row arrays.  float32 rows come back
    bit for bit; float16 rows are renormalised (rounding leaves them off unit
    length).  Memory: two copies of the batch.
    """
    transport_slack(dtype)
    blobs = list(blobs)
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    raw = np.frombuffer(b"".join(blobs), dtype=dtype)
    if raw.size % len(blobs):
        raise ValueError("unpack_rows: packed rows differ in length")
    rows = raw.reshape(len(blobs), -1)
    if dtype == "float32":
        return rows.copy()
    return l2_normalize(_HALF_TO_SINGLE.take(rows.view(np.uint16)))


#: every float16 bit pattern as float32: a table lookup converts packed rows about twice as fast as
#: numpy's float16 cast, bit for bit the same
_HALF_TO_SINGLE = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)


# ---------------------------------------------------------------- block search


def _block_hits(s: np.ndarray, threshold: float, max_neighbors: int) -> tuple[np.ndarray, ...]:
    """Hits of one similarity tile s (bq, bm): entries >= threshold, top
    ``max_neighbors`` per row (ties -> smaller column).  Returns (row, col, sim)
    with int64 local indices.  Extra memory: a bool mask of the tile plus
    ~20 bytes per entry for at most _CAP_CHUNK rows at a time."""
    mask = s >= threshold
    over = np.flatnonzero(mask.sum(axis=1) > max_neighbors)
    for c0 in range(0, over.size, _CAP_CHUNK):
        rows = over[c0 : c0 + _CAP_CHUNK]
        mask[rows] = _top_mask(np.where(mask[rows], s[rows], -np.inf), max_neighbors)
    r, c = np.nonzero(mask)
    return r.astype(np.int64), c.astype(np.int64), s[r, c]


def _top_mask(sub: np.ndarray, k: int) -> np.ndarray:
    """Bool mask of the k largest entries per row of sub (ties -> smaller column)."""
    kth = -np.partition(-sub, k - 1, axis=1)[:, k - 1 : k]
    keep = sub > kth
    ties = sub == kth
    need = k - keep.sum(axis=1, keepdims=True)
    return keep | (ties & (np.cumsum(ties, axis=1, dtype=np.int32) <= need))


def _cap_sorted(qi: np.ndarray, mi: np.ndarray, sim: np.ndarray, max_neighbors: int) -> Pairs:
    """Sort triples by (qi, -sim, mi) and keep the first ``max_neighbors`` per qi."""
    order = np.lexsort((mi, -sim, qi))
    qi, mi, sim = qi[order], mi[order], sim[order]
    if qi.size == 0:
        return qi, mi, sim
    starts = np.flatnonzero(np.r_[True, qi[1:] != qi[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, qi.size]))
    keep = (np.arange(qi.size) - group_start) < max_neighbors
    return qi[keep], mi[keep], sim[keep]


def _search_query_block(
    qb: np.ndarray, m: np.ndarray, threshold: float, max_neighbors: int, block_rows: int
) -> Pairs:
    """One query block (a private copy) against all of m, in member blocks.

    Memory O(block_rows**2 + block_rows * max_neighbors) floats.
    Returns local (qi, mi, sim) sorted by (qi, -sim, mi), capped per qi.
    """
    parts: list[tuple[np.ndarray, ...]] = []
    for j0 in range(0, m.shape[0], block_rows):
        mb = m[j0 : j0 + block_rows]
        rows, cols, sims = _block_hits(qb @ mb.T, threshold, max_neighbors)
        parts.append((rows, cols + j0, sims))
        if len(parts) > 1 and sum(p[0].size for p in parts) > 2 * qb.shape[0] * max_neighbors:
            parts = [_cap_sorted(*map(np.concatenate, zip(*parts)), max_neighbors)]
    if not parts:
        return _empty_pairs()
    return _cap_sorted(*map(np.concatenate, zip(*parts)), max_neighbors)


def _empty_pairs() -> Pairs:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)


def search_block(
    q: np.ndarray,
    m: np.ndarray,
    threshold: float,
    max_neighbors: int,
    block_rows: int = 4096,
) -> Pairs:
    """All (query, member) pairs with inner product >= threshold, capped per query.

    q: (nq, d), m: (nm, d) float32 unit rows (may be the same array).  Each
    query keeps its ``max_neighbors`` most similar members (ties -> smaller
    member index); self-pairs are NOT removed (the caller drops them by id,
    after the cap).  Similarities are ``q_block @ m_block.T`` over
    ``block_rows x block_rows`` tiles with the query tile copied, so memory is
    O(block_rows**2 + block_rows * max_neighbors) regardless of nq, nm, plus
    the output: about 5 bytes per tile entry (64 MiB float32 tile + 16 MiB
    mask at block_rows=4096) and ~20 bytes per entry of 512 tile rows while
    capping rows that overflow max_neighbors.  Returns (qi int64, mi int64, sim float32), row indices
    into q and m, sorted by (qi, -sim, mi); deterministic.
    """
    if max_neighbors < 1 or block_rows < 1:
        raise ValueError(f"max_neighbors and block_rows must be >= 1, got {max_neighbors}, {block_rows}")
    qa = _as_float32_rows(q, "q")
    ma = _as_float32_rows(m, "m")
    if qa.shape[1] != ma.shape[1]:
        raise ValueError(f"dimension mismatch: q has d={qa.shape[1]}, m has d={ma.shape[1]}")
    out = [_empty_pairs()]
    for i0 in range(0, qa.shape[0], block_rows):
        qb = np.array(qa[i0 : i0 + block_rows], dtype=np.float32, copy=True)
        qi, mi, sim = _search_query_block(qb, ma, threshold, max_neighbors, block_rows)
        out.append((qi + i0, mi, sim))
    qi, mi, sim = map(np.concatenate, zip(*out))
    return qi, mi, sim.astype(np.float32, copy=False)


# ---------------------------------------------------------------- the self-join


def plan_parts(list_sizes: np.ndarray, max_list_size: int) -> np.ndarray:
    """Parts per list, ``ceil(size / max_list_size)`` and at least 1 (int64, same shape).

    With an even split (see ``member_parts``) no part exceeds max_list_size.
    """
    if max_list_size < 1:
        raise ValueError(f"max_list_size must be >= 1, got {max_list_size}")
    sizes = np.asarray(list_sizes, dtype=np.int64)
    return np.maximum(1, -(-sizes // int(max_list_size)))


def member_parts(index: np.ndarray, home: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Part of each member: ``index % parts[home]`` (int64, shape of index).

    ``index`` is the member's integer node index; parts are as even as the
    indices are spread over residues (exactly even for consecutive indices).
    """
    return np.asarray(index, dtype=np.int64) % parts[np.asarray(home)]


def _csr_by_key(keys: np.ndarray, values: np.ndarray, nkeys: int) -> tuple[np.ndarray, np.ndarray]:
    """Group ``values`` by integer key: returns (indptr (nkeys+1,), values sorted by (key, value))."""
    order = np.lexsort((values, keys))
    indptr = np.zeros(nkeys + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=nkeys), out=indptr[1:])
    return indptr, values[order]


def iter_group_searches(
    vecs: np.ndarray,
    lists: np.ndarray,
    parts: np.ndarray,
    threshold: float,
    max_neighbors: int,
    block_rows: int,
) -> Iterator[tuple[int, int, Pairs]]:
    """Run ``search_block`` once per (list, part) group, as the distributed job does.

    vecs: (n, d) float32; lists: (n, p) int32 from ``assign_lists``, where
    -1 marks a probe not taken (see ``probe_mask``); parts: (k,) from
    ``plan_parts``.  Yields ``(list_id, part, (q, m, sim))`` with q, m
    GLOBAL int64 row indices (self-pairs still present).  Memory per group:
    the group's query and member rows plus search_block's bound.
    """
    n, p = lists.shape
    k = parts.shape[0]
    idx = np.arange(n, dtype=np.int64)
    home = lists[:, 0].astype(np.int64)
    probes = lists.reshape(-1).astype(np.int64)
    taken = probes >= 0
    q_ptr, q_ids = _csr_by_key(probes[taken], np.repeat(idx, p)[taken], k)
    m_ptr, m_ids = _csr_by_key(home, idx, k)
    for lst in range(k):
        queries = q_ids[q_ptr[lst] : q_ptr[lst + 1]]
        members = m_ids[m_ptr[lst] : m_ptr[lst + 1]]
        if queries.size == 0 or members.size == 0:
            continue
        member_part = member_parts(members, lst, parts)
        for part in range(int(parts[lst])):
            mem = members[member_part == part]
            if mem.size == 0:
                continue
            qi, mi, sim = search_block(vecs[queries], vecs[mem], threshold, max_neighbors, block_rows)
            yield lst, part, (queries[qi], mem[mi], sim)


def canonical_pairs(a: np.ndarray, b: np.ndarray, sim: np.ndarray) -> Pairs:
    """Drop self-pairs, order each pair a < b, merge duplicates keeping max sim.

    Returns (a int64, b int64, sim float32) sorted by (a, b).
    """
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    sim = np.asarray(sim, np.float32)
    keep = a != b
    lo, hi, sim = np.minimum(a, b)[keep], np.maximum(a, b)[keep], sim[keep]
    order = np.lexsort((-sim, hi, lo))
    lo, hi, sim = lo[order], hi[order], sim[order]
    first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])] if lo.size else np.zeros(0, bool)
    return lo[first], hi[first], sim[first]


def blocked_self_join(
    vecs: np.ndarray,
    centroids: np.ndarray,
    nprobe: int,
    threshold: float,
    max_neighbors: int,
    max_list_size: int,
    block_rows: int = 4096,
    probe_margin: float = math.inf,
    transport_dtype: str = "float32",
) -> Pairs:
    """Single-process IVF blocked self-join, the reference for the distributed job.

    vecs: (n, d) float32 unit rows; centroids: (k, d).  Members sit in their
    home list, split into ``plan_parts`` parts by ``index % parts``; queries
    probe up to ``nprobe`` lists, those within ``probe_margin`` of the home
    centroid (``probe_mask``; inf: all nprobe), and meet every part of each;
    each (list, part) group is one ``search_block`` call, so the neighbour cap
    applies per query per group, before self-pairs are dropped.  As in the job,
    vectors first make the ``transport_dtype`` round trip and the search runs
    at ``threshold - transport_slack``.  With nprobe >= k, an infinite margin,
    float32 and a large cap this equals ``exact_pairs``.  Returns (a int64,
    b int64, sim float32), a < b, sorted by (a, b).  Memory: O(n * nprobe) for
    the assignment plus one group at a time plus the output.
    """
    x = _as_float32_rows(vecs, "vecs")
    if transport_dtype != "float32":
        x = unpack_rows(pack_rows(x, transport_dtype), transport_dtype)
    threshold = threshold - transport_slack(transport_dtype)
    lists, sims = assign_lists(x, centroids, nprobe, return_sims=True)
    lists = np.where(probe_mask(sims, probe_margin), lists, -1)
    parts = plan_parts(np.bincount(lists[:, 0], minlength=len(centroids)), max_list_size)
    found = [_empty_pairs()]
    for _lst, _part, pairs in iter_group_searches(x, lists, parts, threshold, max_neighbors, block_rows):
        found.append(pairs)
    return canonical_pairs(*map(np.concatenate, zip(*found)))


# ---------------------------------------------------------------- references


def exact_pairs(vecs: np.ndarray, threshold: float, block_rows: int = 4096) -> Pairs:
    """Brute-force reference: all pairs a < b with inner product >= threshold.

    Upper-triangle tiles ``copy(x[i-block]) @ x[j-block].T``, j-block >= i-block,
    memory O(block_rows**2) float32 plus the output.  Returns (a int64, b int64,
    sim float32) sorted by (a, b).
    """
    x = _as_float32_rows(vecs, "vecs")
    out = [_empty_pairs()]
    for i0 in range(0, x.shape[0], block_rows):
        qb = np.array(x[i0 : i0 + block_rows], dtype=np.float32, copy=True)
        for j0 in range(i0, x.shape[0], block_rows):
            s = qb @ x[j0 : j0 + block_rows].T
            rows, cols = np.nonzero(s >= threshold)
            a, b = rows.astype(np.int64) + i0, cols.astype(np.int64) + j0
            upper = a < b
            out.append((a[upper], b[upper], s[rows[upper], cols[upper]]))
    a, b, sim = map(np.concatenate, zip(*out))
    order = np.lexsort((b, a))
    return a[order], b[order], sim[order].astype(np.float32, copy=False)


def exact_pairs_faiss(vecs: np.ndarray, threshold: float) -> Pairs:
    """Second reference via ``faiss.IndexFlatIP.range_search``.

    faiss keeps results strictly ABOVE the radius, so the radius is nudged one
    float32 step down to match ``>= threshold``.  Memory: faiss's internal
    blocks plus the output.  Returns (a, b, sim) as ``exact_pairs``.
    """
    x = _as_float32_rows(vecs, "vecs")
    if x.shape[0] == 0:
        return _empty_pairs()
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    radius = float(np.nextafter(np.float32(threshold), np.float32(-np.inf)))
    lims, sims, ids = index.range_search(x, radius)  # lims is uint64 (size_t) in faiss
    q = np.repeat(np.arange(x.shape[0], dtype=np.int64), np.diff(lims.astype(np.int64)))
    keep = (q < ids) & (sims >= threshold)
    a, b, sim = q[keep], ids[keep].astype(np.int64), sims[keep].astype(np.float32)
    order = np.lexsort((b, a))
    return a[order], b[order], sim[order]


def pair_recall(found: tuple[np.ndarray, np.ndarray], truth: tuple[np.ndarray, np.ndarray]) -> float:
    """Fraction of ``truth`` pairs (a, b) present in ``found`` (1.0 if truth is empty).

    Both are canonical (a < b) int arrays; only the first two arrays are used.
    """
    ta, tb = (np.asarray(v, np.int64) for v in truth[:2])
    fa, fb = (np.asarray(v, np.int64) for v in found[:2])
    if ta.size == 0:
        return 1.0
    width = int(max(ta.max(), tb.max(), fa.max(initial=0), fb.max(initial=0))) + 1
    hit = np.isin(ta * width + tb, fa * width + fb)
    return float(hit.mean())
