"""numpy helpers shared by the candidate stages that shuffle rows packed in arrays (audio, video).

A mapInArrow cuts a batch's rows by the partition their key goes to and emits one row per
partition holding its rows in list columns (:func:`packed_by_partition`); Spark then shuffles a
few rows of long arrays instead of one row per hash. The receiving side groups with numpy
(:func:`ragged_arange` expands runs of row indices).
"""
from __future__ import annotations

import numpy as np

_MIX = np.uint64(0x9E3779B97F4A7C15)


def hash_partition(keys: np.ndarray, partitions: int, salt: int = 0) -> np.ndarray:
    """(n,) the partition (0..partitions-1) of each key: a multiplicative hash."""
    k = np.asarray(keys, np.int64).view(np.uint64) ^ np.uint64(salt)
    return (((k * _MIX) >> np.uint64(33)) % np.uint64(partitions)).astype(np.int64)


def packed_by_partition(labels: tuple[int, ...], part: np.ndarray, names: list[str], arrays: list[np.ndarray],
                        scalars: dict | None = None):
    """One record batch: a row per used partition, labelled labels[partition], each array cut by
    `part` into lists (columns `part`, *names); `scalars` (name: value) on the first row, 0 on the
    others (a batch with scalars and no rows still emits one row)."""
    import pyarrow as pa

    order = np.argsort(part, kind="stable")
    counts = np.bincount(part, minlength=len(labels))
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    used = counts > 0
    if scalars and not used.any():
        used[0] = True
    cols = [pa.array(np.asarray(labels, np.int32))] + \
           [pa.ListArray.from_arrays(offsets, pa.array(x[order])) for x in arrays]
    for v in (scalars or {}).values():
        col = np.zeros(len(labels), np.int64)
        col[np.flatnonzero(used)[0]] = v
        cols.append(pa.array(col))
    full = pa.RecordBatch.from_arrays(cols, ["part", *names, *(scalars or {})])
    return full.filter(pa.array(used)) if not used.all() else full


def ragged_arange(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """concat(arange(s, s + n) for s, n in zip(starts, lengths))."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, np.int64)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + (np.arange(total) - first)
