"""Text kernels: bytes -> visible text -> normalised words -> shingles -> MinHash -> LSH band keys.

Executor-side and Spark-free (numpy + the standard library). Conventions:

* `decode_text` returns (text, None) or (None, "reason: message"); reasons are
  `empty_file` (0 bytes), `binary_file` (NUL bytes or many control characters),
  `empty_text` (no words once markup and whitespace are gone).
* `normalise`: Unicode NFKC, casefold, whitespace collapsed to one space. Two
  documents with the same normalised text are exact text duplicates.
* Words are the `\\w+` runs of the normalised text; a shingle is `k` consecutive
  words (a document with fewer than `k` words is one shingle of all its words).
  Shingles are 64-bit hashes (uint64), stable across machines and runs.
* MinHash: `num_perm` universal hashes h(x) = (a*x + b) mod p, p = 2^32 - 5, over
  x = shingle hash mod p; a signature is the minimum of each over a document's
  shingles, (num_perm,) uint32. The fraction of equal slots estimates the
  Jaccard similarity of the two shingle sets.
* LSH: the first bands*rows slots are cut into `bands` bands of `rows`; each
  band hashes to one int64 key. Two documents share a key in at least one band
  with probability 1 - (1 - J^rows)^bands (`collision_probability`).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from html.parser import HTMLParser

import numpy as np

PRIME = np.uint64(4_294_967_291)  # largest prime below 2^32: a*x + b < 2^64 for a, x, b < PRIME
EMPTY_SLOT = np.uint32(0xFFFFFFFF)  # signature slot of a document without shingles (never a hash value)
HTML_EXTENSIONS = ("html", "htm", "xhtml")
_WORD = re.compile(r"\w+")
_BINARY_SAMPLE = 8192

# ---------------------------------------------------------------------------- decode


def decode_text(data: bytes, name: str = "") -> tuple[str | None, str | None]:
    """Bytes of a .txt/.md/.html file -> (visible text, None) or (None, "reason: message").

    Encoding: a BOM (UTF-8, UTF-16, UTF-32), else strict UTF-8, else an HTML
    `<meta charset>` when it names a codec Python knows, else cp1252 (latin-1
    for the five bytes cp1252 leaves undefined). HTML (by the name's extension
    or a leading `<!doctype html` / `<html`) is reduced to its visible text.
    """
    if not data:
        return None, "empty_file: 0 bytes"
    text = _decode_bytes(data)
    if text is None:
        return None, f"binary_file: NUL bytes or control characters, not text ({len(data)} bytes)"
    if is_html(text, name):
        text = html_to_text(text)
    if not _WORD.search(text):
        return None, f"empty_text: no words in {len(data)} bytes"
    return text, None


def decode_inline(text: str, name: str = "") -> tuple[str | None, str | None]:
    """Text given inline (a table's text column) -> (visible text, None) or (None, error)."""
    if not text:
        return None, "empty_file: 0 characters"
    if is_html(text, name):
        text = html_to_text(text)
    if not _WORD.search(text):
        return None, f"empty_text: no words in {len(text)} characters"
    return text, None


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def _decode_bytes(data: bytes) -> str | None:
    """Decoded text, or None for binary data."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace")
    if _looks_binary(data[:_BINARY_SAMPLE]):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _looks_binary(sample: bytes) -> bool:
    """NUL bytes, or more than 10% control characters other than tab, newlines and form feed."""
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > 0.1 * max(1, len(sample))


def is_html(text: str, name: str = "") -> bool:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    head = text[:512].lstrip().lower()
    return ext in HTML_EXTENSIONS or head.startswith(("<!doctype html", "<html"))


# ---------------------------------------------------------------------------- HTML

_HIDDEN = {"script", "style", "head", "noscript", "template", "svg"}
_BLOCK = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
          "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
          "pre", "section", "table", "td", "th", "tr", "ul", "title"}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class _Visible(HTMLParser):
    """Collects the text a browser would show: no script/style/head, block elements on their own lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN and tag not in _VOID:
            self.hidden += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML document: lines of whitespace-collapsed text, one per block."""
    parser = _Visible()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------------------- normalise + shingles

def normalise(text: str) -> str:
    """NFKC, casefold, runs of whitespace -> one space, stripped."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def words(normalised: str) -> list[str]:
    """The `\\w+` runs of a normalised text (punctuation dropped)."""
    return _WORD.findall(normalised)


def text_sha256(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 (wrapping arithmetic): spreads every input bit over the output."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingle_hashes(tokens: list[str], k: int) -> np.ndarray:
    """Sorted unique 64-bit hashes of the k-word shingles, (n,) uint64.

    A document with fewer than k (but at least one) words is one shingle of all
    its words; no words: an empty array. Each word is hashed once (blake2b);
    a shingle's hash mixes its words' hashes in order.
    """
    if not tokens:
        return np.empty(0, np.uint64)
    cache: dict[str, int] = {}
    w = np.array([cache.setdefault(t, _word_hash(t)) for t in tokens], dtype=np.uint64)
    width = min(k, len(w))
    n = len(w) - width + 1
    h = np.full(n, np.uint64(width), dtype=np.uint64)
    for i in range(width):
        h = _mix(h ^ w[i:i + n])
    return np.unique(h)


def shingle_hashes_batch(token_lists: list[list[str]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """`shingle_hashes` of many documents at once: (their sorted unique hashes concatenated, (n,) lengths).

    The same values as one document at a time; words are hashed once per batch and
    shingles are mixed for the whole batch, documents grouped by shingle width.
    """
    n = len(token_lists)
    cache: dict[str, int] = {}
    flat = [cache[t] if t in cache else cache.setdefault(t, _word_hash(t)) for tokens in token_lists for t in tokens]
    w = np.array(flat, dtype=np.uint64)
    lens = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=n)
    offsets = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64) if n else lens
    width = np.minimum(k, lens)
    counts = np.where(lens > 0, lens - width + 1, 0)
    docs_parts, hash_parts = [], []
    for wd in np.unique(width[width > 0]):
        docs = np.flatnonzero(width == wd)
        per = counts[docs]
        total = int(per.sum())
        first = np.repeat(np.cumsum(per) - per, per)
        starts = np.repeat(offsets[docs], per) + (np.arange(total, dtype=np.int64) - first)
        h = np.full(total, np.uint64(wd), dtype=np.uint64)
        for i in range(int(wd)):
            h = _mix(h ^ w[starts + i])
        docs_parts.append(np.repeat(docs, per))
        hash_parts.append(h)
    if not hash_parts:
        return np.empty(0, np.uint64), np.zeros(n, np.int64)
    doc, h = np.concatenate(docs_parts), np.concatenate(hash_parts)
    order = np.lexsort((h, doc))
    doc, h = doc[order], h[order]
    keep = np.ones(len(h), dtype=bool)
    keep[1:] = (h[1:] != h[:-1]) | (doc[1:] != doc[:-1])
    return h[keep], np.bincount(doc[keep], minlength=n).astype(np.int64)


def text_features(text: str, k: int) -> tuple[str, np.ndarray, int, int]:
    """Visible text -> (sha256 of its normalised form, shingle hashes, characters, words)."""
    norm = normalise(text)
    tokens = words(norm)
    return text_sha256(norm), shingle_hashes(tokens, k), len(norm), len(tokens)


# ---------------------------------------------------------------------------- MinHash + LSH

def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(a, b), each (num_perm,) uint64: a in [1, PRIME), b in [0, PRIME), from a seeded generator."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(PRIME), size=num_perm, dtype=np.uint64)
    b = rng.integers(0, int(PRIME), size=num_perm, dtype=np.uint64)
    return a, b


def minhash_signatures(shingle_sets: list[np.ndarray], perms: tuple[np.ndarray, np.ndarray],
                       block_rows: int = 1024) -> np.ndarray:
    """Signatures of a batch of documents, (n_docs, num_perm) uint32.

    All documents' shingles are concatenated and hashed block by block:
    memory is block_rows x num_perm x 8 bytes whatever the batch or document
    size. A document without shingles gets EMPTY_SLOT everywhere.
    """
    lengths = np.array([len(s) for s in shingle_sets], dtype=np.int64)
    if lengths.sum() == 0:
        return minhash_signatures_flat(np.empty(0, np.uint64), lengths, perms, block_rows)
    x = np.concatenate([np.asarray(s, dtype=np.uint64) for s in shingle_sets])
    return minhash_signatures_flat(x, lengths, perms, block_rows)


def minhash_signatures_flat(shingles: np.ndarray, lengths: np.ndarray, perms: tuple[np.ndarray, np.ndarray],
                            block_rows: int = 1024) -> np.ndarray:
    """`minhash_signatures` of documents given as their shingle hashes concatenated and (n_docs,) lengths."""
    a, b = perms
    n, p = len(lengths), len(a)
    sig = np.full((n, p), np.uint64(EMPTY_SLOT), dtype=np.uint64)
    if len(shingles) == 0:
        return sig.astype(np.uint32)
    x = np.asarray(shingles, dtype=np.uint64) % PRIME
    doc = np.repeat(np.arange(n), lengths)
    for start in range(0, len(x), block_rows):
        stop = min(len(x), start + block_rows)
        h = (x[start:stop, None] * a[None, :] + b[None, :]) % PRIME
        d = doc[start:stop]
        cuts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        mins = np.minimum.reduceat(h, cuts, axis=0)
        sig[d[cuts]] = np.minimum(sig[d[cuts]], mins)
    return sig.astype(np.uint32)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, num_perm) signatures -> (n, bands) int64 keys; the band index is mixed in, so
    equal keys mean equal rows in the same band (up to 64-bit collisions)."""
    n = signatures.shape[0]
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"bands x rows = {bands * rows} exceeds the {signatures.shape[1]} signature slots")
    cut = signatures[:, :bands * rows].astype(np.uint64).reshape(n, bands, rows)
    h = np.broadcast_to(np.arange(bands, dtype=np.uint64)[None, :], (n, bands)).copy()
    for r in range(rows):
        h = _mix(h ^ (cut[:, :, r] + np.uint64(0x9E3779B97F4A7C15)))
    return h.view(np.int64)


def estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard similarity: the fraction of equal slots."""
    return float(np.mean(sig_a == sig_b))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique uint64 arrays (0.0 when both are empty)."""
    union = len(a) + len(b)
    if union == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (union - inter)


def collision_probability(j: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """Probability that two documents of Jaccard similarity j share at least one band key."""
    return 1.0 - (1.0 - np.asarray(j, dtype=np.float64) ** rows) ** bands


# ---------------------------------------------------------------------------- packing

def pack_u64(values: np.ndarray) -> bytes:
    return np.asarray(values, dtype="<u8").tobytes()


def unpack_u64(blob: bytes | None) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8") if blob else np.empty(0, np.uint64)


def pack_u32(values: np.ndarray) -> bytes:
    return np.asarray(values, dtype="<u4").tobytes()


def unpack_u32(blob: bytes | None) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4") if blob else np.empty(0, np.uint32)
