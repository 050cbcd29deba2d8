"""adapters.vector_contents' batched per-row work equals the per-row rule bit for bit (issue 11)."""
import hashlib

import numpy as np
import pandas as pd

from udfs import adapters


def _per_row(vec, input_error, dim):
    """The rule as it was written per row before the batched version."""
    if input_error is not None and not pd.isna(input_error):
        return None, None, None
    v = np.asarray(vec, dtype=np.float32)
    norm = float(np.linalg.norm(v)) if v.ndim == 1 and np.isfinite(v).all() else float("nan")
    if v.shape != (dim,):
        return None, f"bad_embedding: length {v.size}, expected {dim}", None
    if not np.isfinite(norm) or norm == 0.0:
        return None, "bad_embedding: contains NaN/inf or is all zeros", None
    out = v / norm
    return hashlib.sha256(out.tobytes()).hexdigest(), None, out


def test_vector_rows_match_the_per_row_rule():
    rng = np.random.default_rng(3)
    dim = 512
    buf = rng.standard_normal(dim * 3000 + 1).astype(np.float32) * rng.uniform(0.01, 100)
    rows = [buf[1 + i * dim: 1 + (i + 1) * dim] for i in range(3000)]  # unaligned views too
    rows += [rng.standard_normal(dim).astype(np.float32) for _ in range(500)]
    rows += [rng.standard_normal(dim).astype(np.float64) * 1e-3 for _ in range(20)]
    nan = rng.standard_normal(dim).astype(np.float32)
    nan[7] = np.nan
    inf = np.ones(dim, dtype=np.float32)
    inf[0] = np.inf
    huge = np.full(dim, 3e38, dtype=np.float32)  # finite, but the dot product overflows
    rows += [nan, inf, huge, np.zeros(dim, np.float32), np.ones(dim - 1, np.float32), None,
             [0.5] * dim, np.ones((2, dim // 2), np.float32)]
    errors = [None] * len(rows)
    errors[5] = "read_error: gone"
    errors[9] = float("nan")
    shas, errs, vecs = adapters._vector_rows(rows, errors, dim)
    for i, (vec, err) in enumerate(zip(rows, errors)):
        sha, e, v = _per_row(vec, err, dim)
        assert shas[i] == sha and errs[i] == e, i
        assert (v is None and vecs[i] is None) or (v.dtype == vecs[i].dtype and v.tobytes() == vecs[i].tobytes()), i


def test_vector_contents_batches_independent():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 64)).astype(np.float32)
    pdf = pd.DataFrame({"item_id": [str(i) for i in range(300)], "uri": "u", "input_error": None,
                        "embedding": list(x)})
    whole = next(adapters.vector_contents(iter([pdf]), dim=64, dtype="float16"))
    parts = pd.concat(adapters.vector_contents(iter([pdf.iloc[:7], pdf.iloc[7:]]), dim=64, dtype="float16"))
    assert whole["content_sha256"].tolist() == parts["content_sha256"].tolist()
    assert whole["embedding"].tolist() == parts["embedding"].tolist()
