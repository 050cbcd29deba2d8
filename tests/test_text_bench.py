"""The text harness' edits and scorer (bench/text_corpus.py, bench/text.py): no Spark, no corpus build."""
from __future__ import annotations

import numpy as np
import pandas as pd

from bench import text as bt
from bench import text_corpus as tc

TEXT = "\n\n".join(
    " ".join(f"word{p}x{i} common filler text number {i}." for i in range(12)) for p in range(6))


def _rng(*keys: str) -> np.random.Generator:
    return tc._rng(0, "test", *keys)


def test_normalise_edit_is_exact_after_normalising():
    for k in range(20):
        out = tc.normalise_edit(TEXT + " Office ﬁnal 2024", _rng(str(k)))
        assert out != TEXT
        assert tc.normalise(out) == tc.normalise(TEXT + " Office ﬁnal 2024")


def test_word_edits_change_the_asked_share():
    vocab = np.array(["alpha", "beta", "gamma", "delta"])
    weights = np.full(4, 0.25)
    n = len(TEXT.split())
    for share in (0.05, 0.10, 0.20):
        out = tc.replace_words(TEXT, share, vocab, weights, _rng(str(share)))
        changed = sum(a != b for a, b in zip(TEXT.split(), out.split()))
        assert changed == round(share * n)


def test_truncate_and_boilerplate_sizes():
    n = len(TEXT.split())
    assert len(tc.truncate(TEXT, 0.5).split()) == round(0.5 * n)
    added = len(tc.boiler_add(TEXT, _rng("b")).split()) - n
    assert 0.1 * n <= added <= 0.3 * n
    removed = n - len(tc.boiler_remove(TEXT, _rng("r")).split())
    assert 0 < removed <= 0.25 * n
    assert sorted(tc.reorder(TEXT, _rng("o")).split()) == sorted(TEXT.split())


def test_changelog_versions_overlap_by_half():
    entries = [f"pkg (1.{i}) unstable; urgency=medium\n\n  * change {i} " + " ".join(f"w{i}_{j}" for j in range(30))
               + f"\n\n -- Someone <a@b.c>  Mon, 0{i % 9 + 1} Jan 2024" for i in range(10)]
    versions = tc.changelog_versions("\n\n".join(entries))
    assert len(versions) == 4
    j01 = tc.jaccard(tc.shingle_hashes(versions[0]), tc.shingle_hashes(versions[1]))
    j02 = tc.jaccard(tc.shingle_hashes(versions[0]), tc.shingle_hashes(versions[2]))
    assert 0.2 < j01 < 0.5 and j02 < 0.05


def test_score_counts_pairs_over_clusters():
    truth = pd.DataFrame({
        "file": ["a", "a1", "a2", "b", "b1", "s"],
        "original": ["a", "a", "a", "b", "b", "s"],
        "edit": ["original", "words_5", "trunc_50", "original", "reorder", "distractor"],
        "group": ["a", "a", "a", "b", "b", "s"],
        "kind": ["man"] * 3 + ["readme"] * 2 + ["man"],
        "format": ["txt"] * 6,
    })
    labels = {"a": "A", "a1": "A", "a2": None, "b": "B", "b1": "B", "s": "B"}
    r = bt.score(truth, labels)
    # predicted: A (a, a1) 1 pair, B (b, b1, s) 3 pairs; true pairs: 3 (a) + 1 (b)
    assert r["predicted_pairs"] == 4 and r["false_pairs"] == 2 and r["true_pairs"] == 4
    assert r["precision"] == 0.5 and r["recall"] == 0.5
    assert r["per_edit"] == {"reorder": 1.0, "trunc_50": 0.0, "words_5": 1.0}
    assert r["claimed_found"] == 1.0 and r["mixed_clusters"] == 1 and r["singles_matched"] == 1


def test_exact_jaccard_pairs_match_the_kernel():
    texts = [TEXT, tc.replace_words(TEXT, 0.1, np.array(["zz"]), np.array([1.0]), _rng("j")), "other words only here"]
    sets = [tc.shingle_hashes(t) for t in texts]
    p = bt.exact_jaccard_pairs(sets, 0.0)
    got = {(int(i), int(j)): v for i, j, v in zip(p["i"], p["j"], p["jaccard"])}
    assert abs(got[(0, 1)] - tc.jaccard(sets[0], sets[1])) < 1e-12
    assert (0, 2) not in got
