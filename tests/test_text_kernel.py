"""udfs/text.py without Spark: decoding, HTML, normalisation, shingles, MinHash, LSH bands."""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pytest

from udfs import text as T


# ---------------------------------------------------------------------------- decode

@pytest.mark.parametrize("data", [
    "Grüße aus Köln".encode("utf-8"),
    b"\xef\xbb\xbf" + "Grüße aus Köln".encode("utf-8"),
    "Grüße aus Köln".encode("utf-16"),          # with its BOM
    "Grüße aus Köln".encode("cp1252"),          # not UTF-8: the fallback
])
def test_decode_finds_the_encoding(data):
    text, error = T.decode_text(data, "a.txt")
    assert error is None and text == "Grüße aus Köln"


def test_cp1252_punctuation_and_meta_charset():
    assert T.decode_text("“quoted” – dash".encode("cp1252"), "a.txt")[0] == "“quoted” – dash"
    page = '<html><head><meta charset="koi8-r"></head><body><p>Привет</p></body></html>'.encode("koi8-r")
    assert T.decode_text(page, "p.html")[0] == "Привет"


@pytest.mark.parametrize("data, reason", [
    (b"", "empty_file"),
    (b"  \n\t \r\n", "empty_text"),
    (b"<html><head><title>t</title></head><body><script>var a = 1;</script></body></html>", "empty_text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary_file"),
    (bytes(np.random.default_rng(0).integers(0, 32, 4000, dtype=np.uint8)), "binary_file"),
])
def test_decode_errors_have_reasons(data, reason):
    text, error = T.decode_text(data, "x.html")
    assert text is None and error.split(":")[0] == reason


def test_html_keeps_visible_text_and_block_breaks():
    page = """<!DOCTYPE html><html><head><title>Hidden title</title><style>p{color:red}</style></head>
    <body><h1>Headline</h1><p>First &amp; <b>bold</b> para.</p><script>alert('x')</script>
    <div>Second<br>line</div><noscript>no js</noscript></body></html>"""
    text, error = T.decode_text(page.encode(), "page.htm")
    assert error is None
    assert text.split("\n") == ["Headline", "First & bold para.", "Second", "line"]
    assert T.is_html(page) and not T.is_html("plain <b>words</b>", "notes.txt")


# ---------------------------------------------------------------------------- normalise + shingles

def test_normalise_nfkc_casefold_whitespace():
    assert T.normalise("  The\u00a0ﬁnal   STRASSE\n\tＡＢＣ ") == "the final strasse abc"
    assert T.normalise("Straße") == T.normalise("STRASSE")


def _ref_shingles(text: str, k: int) -> set[tuple[str, ...]]:
    """Word k-shingles as tuples of strings, written independently of udfs.text."""
    tokens = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
    if len(tokens) < k:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i:i + k]) for i in range(len(tokens) - k + 1)}


def _ref_jaccard(a: str, b: str, k: int = 3) -> float:
    sa, sb = _ref_shingles(a, k), _ref_shingles(b, k)
    return len(sa & sb) / len(sa | sb)


def test_shingle_hashes_count_distinct_shingles_and_short_docs():
    doc = "a b c a b c a b d"
    _, hashes, chars, n_words = T.text_features(doc, 3)
    assert len(hashes) == len(_ref_shingles(doc, 3)) == 4 and n_words == 9 and chars == len(doc)
    assert hashes.tolist() == sorted(set(hashes.tolist()))  # sorted, unique
    assert len(T.text_features("two words", 3)[1]) == 1
    assert T.text_features("two words", 3)[1][0] != T.text_features("words two", 3)[1][0]
    assert len(T.text_features("...", 3)[1]) == 0


def test_shingle_hashes_are_stable():
    """The same words give the same 64-bit hashes in every process (blake2b, no PYTHONHASHSEED)."""
    first = T.shingle_hashes(["alpha", "beta", "gamma", "delta"], 3)
    assert list(first) == list(T.shingle_hashes(["alpha", "beta", "gamma", "delta"], 3))
    assert first.dtype == np.uint64 and len(first) == 2


def _doc_pair(rng: np.random.Generator, vocab: list[str]) -> tuple[str, str]:
    """A random document and a copy with a random fraction of its words replaced."""
    n = int(rng.integers(30, 400))
    a = list(rng.choice(vocab, n))
    b = list(a)
    changed = rng.random(n) < rng.uniform(0.0, 0.3)
    for i in np.flatnonzero(changed):
        b[i] = vocab[int(rng.integers(len(vocab)))]
    return " ".join(a), " ".join(b)


def test_hashed_jaccard_equals_string_jaccard_and_minhash_estimates_it():
    rng = np.random.default_rng(7)
    vocab = [f"w{i}" for i in range(3000)]
    perms = T.permutations(128, seed=1)
    errors, sigmas = [], []
    for _ in range(300):
        a, b = _doc_pair(rng, vocab)
        (_, ha, _, _), (_, hb, _, _) = T.text_features(a, 3), T.text_features(b, 3)
        exact = T.jaccard(ha, hb)
        assert exact == pytest.approx(_ref_jaccard(a, b), abs=1e-12)
        sig = T.minhash_signatures([ha, hb], perms)
        errors.append(T.estimate(sig[0], sig[1]) - exact)
        sigmas.append(max(np.sqrt(exact * (1 - exact) / 128), 1 / 128))
    errors, z = np.array(errors), np.array(errors) / np.array(sigmas)
    # unbiased, and spread like a binomial over 128 slots (std sqrt(J(1-J)/128) <= 0.044)
    assert abs(errors.mean()) < 0.01
    assert 0.75 < np.sqrt(np.mean(z ** 2)) < 1.3 and np.abs(z).max() < 4.5
    assert np.abs(errors).max() < 0.2


def test_batched_signatures_equal_one_document_at_a_time():
    rng = np.random.default_rng(3)
    sets = [np.unique(rng.integers(0, 2**63, int(n), dtype=np.uint64)) for n in rng.integers(0, 300, 40)]
    sets[5] = np.empty(0, np.uint64)
    perms = T.permutations(64, seed=9)
    single = np.stack([T.minhash_signatures([s], perms)[0] for s in sets])
    for block in (1, 7, 100, 10_000):
        assert np.array_equal(T.minhash_signatures(sets, perms, block_rows=block), single)
    assert (single[5] == T.EMPTY_SLOT).all() and (single[np.arange(40) != 5] < T.EMPTY_SLOT).all()


def _sets_with_jaccard(rng: np.random.Generator, j: float, size: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Two random shingle sets of `size` each whose Jaccard similarity is (close to) j."""
    inter = int(round(2 * size * j / (1 + j)))
    pool = rng.choice(2**62, 2 * size - inter, replace=False).astype(np.uint64)
    a = pool[:size]
    b = np.concatenate([pool[:inter], pool[size:]])
    return np.sort(a), np.sort(b)


@pytest.mark.parametrize("j", [0.3, 0.5, 0.8])
def test_band_collisions_follow_the_s_curve(j):
    bands, rows, trials = 32, 4, 400
    rng = np.random.default_rng(int(j * 100))
    hits, slot_rate, js = 0, [], []
    for t in range(trials):
        a, b = _sets_with_jaccard(rng, j)
        js.append(T.jaccard(a, b))
        sig = T.minhash_signatures([a, b], T.permutations(128, seed=t))
        keys = T.band_keys(sig, bands, rows)
        hits += bool((keys[0] == keys[1]).any())
        slot_rate.append(T.estimate(sig[0], sig[1]))
    expected = float(T.collision_probability(np.mean(js), bands, rows))
    assert hits / trials == pytest.approx(expected, abs=0.07)
    assert np.mean(slot_rate) == pytest.approx(np.mean(js), abs=0.01)  # each slot collides with probability J


def test_band_keys_separate_bands_and_check_shape():
    sig = np.zeros((2, 8), np.uint32)
    keys = T.band_keys(sig, 4, 2)
    assert keys.shape == (2, 4) and keys.dtype == np.int64
    assert len(set(keys[0])) == 4 and (keys[0] == keys[1]).all()  # same rows, different bands: different keys
    with pytest.raises(ValueError):
        T.band_keys(sig, 5, 2)


def test_collision_probability_values():
    assert float(T.collision_probability(0.5, 32, 4)) == pytest.approx(1 - (1 - 0.5**4) ** 32)
    assert float(T.collision_probability(0.0, 32, 4)) == 0.0 and float(T.collision_probability(1.0, 32, 4)) == 1.0


def test_packing_round_trips():
    v = np.array([0, 1, 2**64 - 1], dtype=np.uint64)
    assert np.array_equal(T.unpack_u64(T.pack_u64(v)), v) and len(T.unpack_u64(None)) == 0
    s = np.array([5, T.EMPTY_SLOT], dtype=np.uint32)
    assert np.array_equal(T.unpack_u32(T.pack_u32(s)), s)
