"""Text match-quality corpus: real documents from installed packages, planted edits, a kept-aside part.

One command::

    python -m bench.text_corpus                  # out/text/{tune,aside}/, ~2,500 files per part
    python -m bench.text_corpus --quick          # ~300 files per part
    python -m bench.text_corpus --per-part 4000  # scale it

Nothing is downloaded: every document is read from what the machine has installed.

Originals (``kind`` column)
---------------------------
- ``man``: English manual pages (``/usr/share/man/man{1,5,7,8}``), roff markup stripped
  (macros dropped, section headings kept as lines, font and character escapes removed);
- ``copyright``: ``/usr/share/doc/PKG/copyright`` files (many share a GPL/BSD/MIT/Apache
  template with different names, years and file lists: the template look-alikes);
- ``license``: ``/usr/share/common-licenses`` and the LICENSE files of installed Python
  distributions (``*.dist-info``): the same templates with other holders;
- ``changelog``: Debian changelogs (``changelog.Debian.gz``; upstream ``changelog.gz`` /
  ``NEWS.gz`` by paragraphs): successive versions of one changelog's recent history, each
  the latest ``CHANGELOG_WINDOW`` = 4 releases as of its version, ``CHANGELOG_STEP`` = 2
  releases apart, so that two successive versions share half their text (Jaccard about
  0.3): up to ``CHANGELOG_VERSIONS`` = 4 versions per changelog, each its own group (the
  version look-alikes);
- ``docstring``: the docstrings of one Python module (module, classes, functions, in
  source order), from the standard library and the installed site-packages;
- ``readme``: ``/usr/share/doc/PKG/README*`` and the long descriptions in the
  ``METADATA`` of installed Python distributions;
- ``html``: HTML documentation under ``/usr/share/doc`` (tags stripped);
- ``short``: documents too short to judge (a man page's NAME line, a docstring's first
  line: 3-12 words); singletons.

Originals have ``MIN_WORDS``..``MAX_WORDS`` words (a longer source is cut at a paragraph
boundary). Distinct originals: word ``SHINGLE``-shingles, computed by the job's kernels
(``udfs.text``: NFKC, casefold, whitespace collapsed, ``\\w+`` words) are compared and a candidate whose exact Jaccard with an earlier
original (either part) is >= ``MAX_JACCARD`` = 0.5 is rejected (counted in
``report.json``). Pairs of originals between 0.2 and 0.5 are the hard negatives; their
count by kind is in ``report.json``. Candidates are found with a bottom-k sketch
(``SKETCH`` smallest shingle hashes); their Jaccard is exact.

Edits (``edit`` column; seeded, ``EDITS_PER_ORIGINAL`` distinct ones per original, balanced
so that each edit is used about equally often within a part):

- ``boiler_add``: a web page header and footer (navigation, cookie note, copyright line),
  about 12% of the document's words (12..80 words);
- ``boiler_remove``: the document's own header and footer removed (leading and trailing
  paragraphs, or sentences, about 5% of the words at each end);
- ``reorder``: paragraphs shuffled (sentences when there are fewer than 3 paragraphs);
- ``swap_words``: ``SWAP_SHARE`` = 3% of the words swapped with their neighbour;
- ``trunc_80`` / ``trunc_50``: the first 80% / 50% of the words kept;
- ``quote_translated``: one passage of about 7% of the words (6..40) replaced by a
  sentence of a translated manual page (de, fr, es, ...: a real translation of some page);
- ``words_5`` / ``words_10`` / ``words_20``: 5 / 10 / 20% of the word positions replaced by
  other words of the part's vocabulary (frequency-weighted);
- ``normalise``: case, whitespace, line endings and Unicode compatibility forms changed
  (upper case, no-break spaces, tabs, CRLF, ligatures, full-width digits): equal to the
  original after NFKC + casefold + whitespace collapsing (checked).

A copy whose Jaccard to another original (either part) is >= ``MAX_JACCARD`` is not written:
its group would be a matter of opinion (half of a changelog version is also in the previous
version, so a 50% truncation of one is as much a copy of the other); the next unused edit
(seeded order) takes its place, and ``report.json`` counts the replacements per edit.

Within each part and kind ``SINGLE_SHARE`` = 30% of the originals have no copy
(``edit`` = ``distractor``, under ``singles/``); ``short`` documents are singletons too.

Files: ``.txt`` mostly, ``MD_SHARE`` as Markdown (a ``# title`` line, then the text) and
``HTML_SHARE`` as HTML (title in ``<head>``, one ``<p>`` per paragraph, entities escaped),
chosen per file. ``format`` in ``truth.csv``.

Split (``split.json``)
----------------------
Whole source packages go to one part: the Debian package that owns the file (dpkg's file
lists), or the Python distribution / top-level standard-library module. The part is
``crc32(package) % 2`` (``tune``, ``aside``). The aside part is built first, so a text found
in two packages stays in aside. **The aside part is never tuned on**: no threshold or
setting is chosen on it; it is scored only to quote the defaults.

Layout under ``out_dir`` (default ``out/text/``, git-ignored)::

    split.json                       package -> part for every package used, the rule
    tune/ and aside/:
      originals/KIND/ID.EXT          originals that have edited copies
      edited/KIND/ID__EDIT.EXT       the copies
      singles/KIND/ID.EXT            originals without copies and short documents
      truth.csv                      file, original, edit, group, kind, package, source, part,
                                     format, words
      report.json                    counts per kind and edit, rejections, hard-negative pairs
"""
from __future__ import annotations

import argparse
import ast
import gzip
import html
import json
import re
import shutil
import sys
import sysconfig
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from udfs import text as ut

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "out" / "text"  # /out/ is git-ignored
PARTS = ("tune", "aside")
BUILD_ORDER = ("aside", "tune")

SHINGLE = 3
MAX_JACCARD = 0.5
HARD_NEGATIVE = 0.2
SKETCH = 64
MIN_WORDS, MAX_WORDS = 40, 2000
SHORT_WORDS = (3, 12)
CHANGELOG_VERSIONS = 4
CHANGELOG_WINDOW, CHANGELOG_STEP = 4, 2      # releases per changelog version, releases between versions
PACKAGE_CAP = 6                       # originals per source package and kind
EDITS_PER_ORIGINAL = 4
SINGLE_SHARE = 0.30
SHORT_SHARE = 0.03
MD_SHARE, HTML_SHARE = 0.15, 0.15
SWAP_SHARE = 0.03
DEFAULT_PER_PART = 2500
QUICK_PER_PART = 300
ORIGINAL_EDIT, SINGLE_EDIT = "original", "distractor"
EDITS: tuple[str, ...] = ("boiler_add", "boiler_remove", "reorder", "swap_words", "trunc_80", "trunc_50",
                          "quote_translated", "words_5", "words_10", "words_20", "normalise")
#: Edits the issue's recall target covers ("edits up to 10% of the words changed").
CLAIMED_EDITS: tuple[str, ...] = ("boiler_add", "boiler_remove", "reorder", "swap_words", "trunc_80",
                                  "quote_translated", "words_5", "words_10", "normalise")
#: Share of each part's originals per kind (a kind short of sources leaves its share to the others).
KIND_WEIGHTS: dict[str, float] = {
    "man": 0.24, "docstring": 0.16, "changelog": 0.16, "copyright": 0.14, "readme": 0.12,
    "html": 0.10, "license": 0.08,
}
KINDS = tuple(KIND_WEIGHTS) + ("short",)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([int(seed)] + [zlib.crc32(k.encode("utf-8")) for k in keys])


def package_part(package: str) -> str:
    return PARTS[zlib.crc32(package.encode("utf-8")) % 2]


def _slug(text: str, limit: int = 50) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[-limit:].strip("-") or "x"


# ---------------------------------------------------------------------------- normalising, shingles

def normalise(text: str) -> str:
    """The job's comparison form (udfs.text: NFKC, casefold, whitespace collapsed)."""
    return ut.normalise(text)


def shingle_hashes(text: str, k: int = SHINGLE) -> np.ndarray:
    """Sorted unique uint64 hashes of the word k-shingles, exactly as the job computes them."""
    return ut.shingle_hashes(ut.words(ut.normalise(text)), k)


jaccard = ut.jaccard


class SketchIndex:
    """Originals by their SKETCH smallest shingle hashes: candidates share one, Jaccard exact.

    Two sets with Jaccard J miss each other with probability about (1 - J) ** SKETCH
    (1e-19 at 0.5, 1e-6 at 0.2).
    """

    def __init__(self) -> None:
        self.sets: list[np.ndarray] = []
        self.names: list[str] = []
        self.kinds: list[str] = []
        self.postings: dict[int, list[int]] = defaultdict(list)

    def nearest(self, s: np.ndarray, floor: float) -> list[tuple[float, int]]:
        cands = {i for h in s[:SKETCH].tolist() for i in self.postings.get(h, ())}
        out = [(jaccard(s, self.sets[i]), i) for i in cands]
        return sorted([x for x in out if x[0] >= floor], reverse=True)

    def add(self, s: np.ndarray, name: str, kind: str) -> None:
        i = len(self.sets)
        self.sets.append(s)
        self.names.append(name)
        self.kinds.append(kind)
        for h in s[:SKETCH].tolist():
            self.postings[h].append(i)


# ---------------------------------------------------------------------------- sources

@dataclass
class Source:
    """One candidate original: text (paragraphs separated by blank lines), owner package, where."""

    kind: str
    package: str
    source: str   # a readable location: path relative to its system folder, or module name
    text: str


def _read(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def dpkg_owners() -> dict[str, str]:
    """Installed file path -> Debian package (from dpkg's file lists)."""
    owners = {}
    for lst in sorted(Path("/var/lib/dpkg/info").glob("*.list")):
        pkg = lst.name[:-5].split(":")[0]
        for line in lst.read_text(errors="replace").splitlines():
            owners.setdefault(line, pkg)
    return owners


def paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs (blank-line separated), inner whitespace kept."""
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]


def clip_words(text: str, limit: int = MAX_WORDS) -> str:
    """The leading paragraphs holding at most ``limit`` words (the first one cut if it alone is longer)."""
    out, n = [], 0
    for p in paragraphs(text):
        w = len(p.split())
        if n + w > limit:
            if not out:
                out.append(" ".join(p.split()[:limit]))
            break
        out.append(p)
        n += w
    return "\n\n".join(out)


_ROFF_ESC = re.compile(r"\\f(\[[^\]]*\]|\(..|.)|\\\*(\[[^\]]*\]|\(..|.)|\\[&|^,/%:]|\\s[-+]?\d+|\\n(\(..|.)")
_ROFF_CHARS = {r"\-": "-", r"\(em": "-", r"\(en": "-", r"\(aq": "'", r"\(dq": '"', r"\(lq": '"', r"\(rq": '"',
               r"\(bu": "*", r"\(co": "(c)", r"\e": "\\", r"\ ": " ", r"\~": " ", r"\(cq": "'", r"\(oq": "'"}


def strip_roff(src: str) -> str:
    """Plain text of a man page: macros out, headings as their own paragraphs, escapes removed."""
    out: list[str] = []
    for line in src.splitlines():
        if line.startswith(('.\\"', "'\\\"", '.\\}', "\\}")) or line.strip() in (".", "'"):
            continue
        if line.startswith((".", "'")):
            m = re.match(r"[.'](\w+)\s*(.*)", line)
            if not m:
                continue
            macro, arg = m.group(1), m.group(2)
            if macro in ("SH", "SS"):
                out += ["", arg.strip('"'), ""]
            elif macro in ("PP", "LP", "P", "TP", "IP", "HP", "sp", "br") or macro.startswith("R"):
                out.append("")
                if macro == "IP" and arg:
                    out.append(arg.split('"')[1] if arg.startswith('"') and arg.count('"') >= 2 else arg.split()[0])
            elif macro in ("B", "I", "BR", "RB", "IR", "RI", "BI", "IB", "SM", "SB", "UR", "MT", "Nm", "Nd", "Ar",
                           "Fl", "Op", "Pa", "Xr", "Dv", "Ev", "Sy", "Em", "Cm", "Li", "Ql", "Dq", "Sq"):
                out.append(arg.replace('"', ""))
            continue
        out.append(line)
    text = "\n".join(out)
    for k, v in _ROFF_CHARS.items():
        text = text.replace(k, v)
    text = _ROFF_ESC.sub("", text)
    text = re.sub(r"\\\(..|\\\[[^\]]*\]", "", text).replace("\\", "")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class _HtmlText(HTMLParser):
    BLOCK = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "tr", "dt", "dd", "br", "table", "section"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def strip_html(src: str) -> str:
    p = _HtmlText()
    p.feed(src)
    text = "".join(p.parts)
    paras = [" ".join(x.split()) for x in re.split(r"\n\s*\n", text)]
    return "\n\n".join(x for x in paras if x)


@dataclass
class Ref:
    """A source not read yet: ``load()`` gives its documents (one, or a changelog's versions)."""

    kind: str
    package: str
    source: str
    load: Callable[[], list[str]]


def _one(fn: Callable[[], str]) -> Callable[[], list[str]]:
    def load() -> list[str]:
        try:
            return [fn()]
        except (OSError, EOFError, zlib.error, UnicodeError):
            return []
    return load


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file() and not p.is_symlink())


def man_refs(owners: dict[str, str]) -> list[Ref]:
    def page(path: Path) -> str:
        src = _read(path)
        return "" if src.lstrip().startswith(".so ") else strip_roff(src)
    return [Ref("man", owners.get(str(p), "man-unknown"), f"man/{sec}/{p.name}", _one(lambda p=p: page(p)))
            for sec in ("man1", "man5", "man7", "man8") for p in _files(Path("/usr/share/man", sec))]


def _name_line(path: Path) -> str:
    m = re.search(r"^\.SH \"?NAME\"?\s*\n(.+?)\n\.", _read(path), re.M | re.S)
    return " ".join(strip_roff(m.group(1)).split()) if m else ""


def short_refs(owners: dict[str, str]) -> list[Ref]:
    """NAME lines of man pages (``ls - list directory contents``)."""
    return [Ref("short", owners.get(str(p), "man-unknown"), f"man/man1/{p.name}#NAME", _one(lambda p=p: _name_line(p)))
            for p in _files(Path("/usr/share/man/man1"))]


def _doc_dirs() -> list[Path]:
    return sorted(p for p in Path("/usr/share/doc").iterdir() if p.is_dir() and not p.is_symlink())


def copyright_refs() -> list[Ref]:
    return [Ref("copyright", d.name, f"doc/{d.name}/copyright", _one(lambda f=d / "copyright": _read(f)))
            for d in _doc_dirs() if (d / "copyright").is_file() and not (d / "copyright").is_symlink()]


def _site_dirs() -> list[Path]:
    paths = sysconfig.get_paths()
    return sorted({Path(paths["purelib"]), Path(paths["platlib"])})


def _dist_infos() -> list[Path]:
    return sorted(p for d in _site_dirs() for p in d.glob("*.dist-info"))


def _dist_name(info: Path) -> str:
    return "py:" + info.name.split("-")[0].lower().replace("_", "-")


def license_refs() -> list[Ref]:
    refs = [Ref("license", "base-files", f"common-licenses/{f.name}", _one(lambda f=f: _read(f)))
            for f in _files(Path("/usr/share/common-licenses"))]
    for info in _dist_infos():
        for f in sorted(info.rglob("*")):
            if f.is_file() and re.match(r"(LICEN[CS]E|COPYING|NOTICE)", f.name, re.I):
                refs.append(Ref("license", _dist_name(info), f"site-packages/{info.name}/{f.relative_to(info)}",
                                _one(lambda f=f: _read(f))))
    return refs


_DEB_ENTRY = re.compile(r"^\S.*\(.+\).*;.*urgency=", re.M)


def changelog_versions(text: str, piece_words: int = 30) -> list[str]:
    """Successive versions of a changelog's recent history, newest first.

    Releases (Debian entries; upstream: paragraphs) are merged until each has >= piece_words;
    version v is releases [STEP * v, STEP * v + WINDOW): two successive versions share half
    their releases (the look-alikes; Jaccard about 1/3), versions two apart share none.
    """
    starts = [m.start() for m in _DEB_ENTRY.finditer(text)]
    if len(starts) >= 2:
        releases = [text[a:b].strip() for a, b in zip(starts, starts[1:] + [len(text)])]
    else:
        releases = paragraphs(text)
    pieces, cur = [], []
    for r in releases:
        cur.append(r)
        if sum(len(x.split()) for x in cur) >= piece_words:
            pieces.append("\n\n".join(cur))
            cur = []
    return ["\n\n".join(pieces[i:i + CHANGELOG_WINDOW])
            for i in range(0, len(pieces) - CHANGELOG_WINDOW + 1, CHANGELOG_STEP)]


def changelog_refs() -> list[Ref]:
    """One ref per changelog; its load() gives up to CHANGELOG_VERSIONS successive versions."""
    def versions(f: Path) -> list[str]:
        try:
            return changelog_versions(_read(f))[:CHANGELOG_VERSIONS]
        except (OSError, EOFError, zlib.error):
            return []
    return [Ref("changelog", d.name, f"doc/{d.name}/{name}", lambda f=d / name: versions(f))
            for d in _doc_dirs() for name in ("changelog.Debian.gz", "changelog.gz", "NEWS.gz")
            if (d / name).is_file()]


def _module_docstrings(path: Path) -> str:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError, RecursionError):
        return ""
    docs = [ast.get_docstring(tree) or ""]
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            docs.append(ast.get_docstring(node) or "")
    return "\n\n".join(d.strip() for d in docs if d and d.strip())


def docstring_refs() -> list[Ref]:
    refs = []
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for f in sorted(stdlib.rglob("*.py")):
        rel = f.relative_to(stdlib)
        if rel.parts[0] in ("site-packages", "test", "idlelib", "lib2to3") or "tests" in rel.parts:
            continue
        refs.append(Ref("docstring", "py-stdlib:" + rel.parts[0].removesuffix(".py"), f"stdlib/{rel}",
                        _one(lambda f=f: _module_docstrings(f))))
    for site in _site_dirs():
        for f in sorted(site.rglob("*.py")):
            rel = f.relative_to(site)
            if {"tests", "test", "testing"} & set(rel.parts) or rel.parts[0].endswith(".dist-info"):
                continue
            top = rel.parts[0].removesuffix(".py").lstrip("_").lower()
            refs.append(Ref("docstring", "py:" + top.replace("_", "-"), f"site-packages/{rel}",
                            _one(lambda f=f: _module_docstrings(f))))
    return refs


def _metadata_body(meta: Path) -> str:
    body = meta.read_text(errors="replace").split("\n\n", 1)
    return body[1] if len(body) == 2 else ""


def readme_refs() -> list[Ref]:
    refs = [Ref("readme", d.name, f"doc/{d.name}/{f.name}", _one(lambda f=f: _read(f)))
            for d in _doc_dirs() for f in _files(d, "README*")
            if f.suffix in ("", ".gz", ".md", ".txt", ".rst", ".Debian")]
    refs += [Ref("readme", _dist_name(info), f"site-packages/{info.name}/METADATA",
                 _one(lambda m=info / "METADATA": _metadata_body(m)))
             for info in _dist_infos() if (info / "METADATA").is_file()]
    return refs


def html_refs(owners: dict[str, str]) -> list[Ref]:
    docs = Path("/usr/share/doc")
    return [Ref("html", owners.get(str(f)) or f.relative_to(docs).parts[0], f"doc/{f.relative_to(docs)}",
                _one(lambda f=f: strip_html(_read(f))))
            for f in sorted(docs.rglob("*.htm*")) if f.is_file() and not f.is_symlink()]


def foreign_sentences(limit: int = 20000) -> list[str]:
    """Sentences (6-40 words) of translated manual pages (de, fr, es, it, pt, nl, pl, sv)."""
    out: list[str] = []
    for lang in ("de", "fr", "es", "it", "pt", "nl", "pl", "sv"):
        for path in sorted(Path("/usr/share/man", lang).glob("man1/*"))[:150]:
            try:
                text = strip_roff(_read(path))
            except (OSError, EOFError, zlib.error):
                continue
            for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
                if 6 <= len(s.split()) <= 40:
                    out.append(s)
    return out[:limit]


# ---------------------------------------------------------------------------- edits

BOILER_HEADERS = (
    "Skip to main content. Home | Documentation | Downloads | Community | Blog. Search the docs.",
    "You are reading the documentation for the stable release. For the latest version, see the development docs.",
    "This site uses cookies to improve your experience. By continuing to browse you agree to our use of cookies. Accept",
    "Navigation: index | modules | next | previous | Project home | Table of contents | Quick search",
    "Sign in | Register | Help. Menu: Products, Solutions, Pricing, Resources, Contact sales.",
)
BOILER_FOOTERS = (
    "Copyright 2024 The Project Authors. All rights reserved. Privacy policy | Terms of use | Contact us",
    "Was this page helpful? Yes No. Edit this page on GitHub. Report a documentation issue.",
    "Last updated on March 3, 2025. Created using Sphinx 7.2.6. Theme by the community.",
    "Subscribe to our newsletter for product updates and release announcements. Follow us on Mastodon.",
    "Back to top. Previous topic | Next topic | This page | Show source | Powered by open source.",
)


def _words_paras(text: str) -> list[list[str]]:
    return [p.split() for p in paragraphs(text)]


def _join(paras: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in paras if p)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?:;])\s+", " ".join(text.split())) if s]


def boiler_add(text: str, rng: np.random.Generator) -> str:
    n = len(text.split())
    target = int(np.clip(0.12 * n, 12, 80))
    head, foot = [], []
    hs, fs = list(rng.permutation(len(BOILER_HEADERS))), list(rng.permutation(len(BOILER_FOOTERS)))
    while sum(len(x.split()) for x in head + foot) < target and (hs or fs):
        if hs and (len(head) <= len(foot) or not fs):
            head.append(BOILER_HEADERS[hs.pop()])
        else:
            foot.append(BOILER_FOOTERS[fs.pop()])
    return "\n\n".join(head + [text] + foot)


def boiler_remove(text: str, rng: np.random.Generator) -> str:
    """Leading and trailing paragraphs (else sentences) removed, about 5% of the words at each end."""
    paras = paragraphs(text)
    n = len(text.split())
    budget = max(2, int(0.05 * n))
    units = paras if len(paras) >= 4 else _sentences(text)
    lo, hi, cut = 0, len(units), 0
    while lo < hi - 2 and cut + len(units[lo].split()) <= budget * 1.5:
        cut += len(units[lo].split())
        lo += 1
        if cut >= budget:
            break
    cut = 0
    while hi - 1 > lo + 1 and cut + len(units[hi - 1].split()) <= budget * 1.5:
        cut += len(units[hi - 1].split())
        hi -= 1
        if cut >= budget:
            break
    if lo == 0 and hi == len(units):   # no unit small enough: cut words
        words = text.split()
        return " ".join(words[budget:len(words) - budget])
    return ("\n\n" if units is paras else " ").join(units[lo:hi])


def reorder(text: str, rng: np.random.Generator) -> str:
    paras = paragraphs(text)
    if len(paras) < 3:
        paras = _sentences(text)
    if len(paras) < 2:
        w = text.split()
        k = len(w) // 3
        return " ".join(w[k:] + w[:k])
    order = np.arange(len(paras))
    while (order == np.arange(len(paras))).all():
        order = rng.permutation(len(paras))
    return "\n\n".join(paras[i] for i in order)


def swap_words(text: str, rng: np.random.Generator) -> str:
    paras = _words_paras(text)
    flat = [(i, j) for i, p in enumerate(paras) for j in range(len(p) - 1)]
    k = max(1, int(SWAP_SHARE * len(flat)))
    taken: set[tuple[int, int]] = set()
    for idx in rng.permutation(len(flat)):
        if len(taken) >= k:
            break
        i, j = flat[idx]
        if (i, j - 1) in taken or (i, j + 1) in taken or paras[i][j] == paras[i][j + 1]:
            continue
        taken.add((i, j))
        paras[i][j], paras[i][j + 1] = paras[i][j + 1], paras[i][j]
    return _join(paras)


def truncate(text: str, keep: float) -> str:
    paras = _words_paras(text)
    budget = int(round(keep * sum(len(p) for p in paras)))
    out = []
    for p in paras:
        if budget <= 0:
            break
        out.append(p[:budget])
        budget -= len(p)
    return _join(out)


def replace_words(text: str, share: float, vocab: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> str:
    paras = _words_paras(text)
    flat = [(i, j) for i, p in enumerate(paras) for j in range(len(p))]
    k = max(1, int(round(share * len(flat))))
    picks = rng.choice(len(flat), size=k, replace=False)
    new = rng.choice(vocab, size=k, p=weights)
    for idx, w in zip(picks, new):
        i, j = flat[idx]
        if w.casefold() == paras[i][j].casefold():
            w = vocab[(np.searchsorted(vocab, w) + 1) % len(vocab)]
        paras[i][j] = str(w)
    return _join(paras)


def quote_translated(text: str, foreign: list[str], rng: np.random.Generator) -> str:
    """About 7% of the words (6..40, one run inside a paragraph) replaced by a translated sentence."""
    paras = _words_paras(text)
    n = sum(len(p) for p in paras)
    want = int(np.clip(0.07 * n, 6, 40))
    lens = np.array([len(s.split()) for s in foreign])
    pool = np.flatnonzero(np.abs(lens - want) <= max(2, want // 4))
    sent = foreign[int(rng.choice(pool))] if len(pool) else foreign[int(rng.integers(len(foreign)))]
    big = [i for i, p in enumerate(paras) if len(p) >= want] or [int(np.argmax([len(p) for p in paras]))]
    i = big[int(rng.integers(len(big)))]
    start = int(rng.integers(0, max(1, len(paras[i]) - want + 1)))
    paras[i][start:start + want] = sent.split()
    return _join(paras)


_FULLWIDTH = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789"}


def normalise_edit(text: str, rng: np.random.Generator) -> str:
    """Case, whitespace and compatibility forms changed; equal to ``text`` after :func:`normalise`."""
    out = text
    if rng.random() < 0.5:
        out = out.upper()
    elif rng.random() < 0.5:
        out = out.lower()
    out = out.replace("fi", "\ufb01").translate(_FULLWIDTH)
    words = out.split(" ")
    seps = rng.choice([" ", "  ", "\u00a0", "\t"], size=max(0, len(words) - 1), p=[0.6, 0.15, 0.15, 0.1])
    out = "".join(w + s for w, s in zip(words, list(seps) + [""]))
    if rng.random() < 0.5:
        out = out.replace("\n", "\r\n")
    if normalise(out) != normalise(text):   # some character's case or form does not round-trip
        out = text.replace(" ", "  ").replace("\n", "\r\n")
    return out


def apply_edit(edit: str, text: str, ctx: dict, rng: np.random.Generator) -> str:
    fns: dict[str, Callable[[], str]] = {
        "boiler_add": lambda: boiler_add(text, rng),
        "boiler_remove": lambda: boiler_remove(text, rng),
        "reorder": lambda: reorder(text, rng),
        "swap_words": lambda: swap_words(text, rng),
        "trunc_80": lambda: truncate(text, 0.8),
        "trunc_50": lambda: truncate(text, 0.5),
        "quote_translated": lambda: quote_translated(text, ctx["foreign"], rng),
        "words_5": lambda: replace_words(text, 0.05, ctx["vocab"], ctx["weights"], rng),
        "words_10": lambda: replace_words(text, 0.10, ctx["vocab"], ctx["weights"], rng),
        "words_20": lambda: replace_words(text, 0.20, ctx["vocab"], ctx["weights"], rng),
        "normalise": lambda: normalise_edit(text, rng),
    }
    return fns[edit]()


# ---------------------------------------------------------------------------- files

def wrap(text: str, fmt: str, title: str) -> str:
    if fmt == "md":
        return f"# {title}\n\n{text}\n"
    if fmt == "html":
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in re.split(r"\r?\n\s*\r?\n", text) if p.strip())
        return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>\n'
                f"<body>\n{body}\n</body></html>\n")
    return text + ("\n" if not text.endswith("\n") else "")


def _format(rng: np.random.Generator) -> str:
    r = rng.random()
    return "md" if r < MD_SHARE else "html" if r < MD_SHARE + HTML_SHARE else "txt"


EXT = {"txt": ".txt", "md": ".md", "html": ".html"}


# ---------------------------------------------------------------------------- building

def _clean(src: Source) -> str | None:
    text = src.text.replace("\r\n", "\n").replace("\x00", "")
    text = "\n\n".join(paragraphs(text))
    if src.kind == "short":
        n = len(text.split())
        return text if SHORT_WORDS[0] <= n <= SHORT_WORDS[1] else None
    text = clip_words(text)
    return text if len(text.split()) >= MIN_WORDS else None


def all_refs(owners: dict[str, str]) -> dict[str, dict[str, list[Ref]]]:
    """Every source, by kind, then by the part of its package."""
    refs = {"man": man_refs(owners), "docstring": docstring_refs(), "changelog": changelog_refs(),
            "copyright": copyright_refs(), "readme": readme_refs(), "html": html_refs(owners),
            "license": license_refs(), "short": short_refs(owners)}
    out: dict[str, dict[str, list[Ref]]] = {k: {p: [] for p in PARTS} for k in KINDS}
    for kind, rs in refs.items():
        for r in rs:
            out[kind][package_part(r.package)].append(r)
        _log(f"[text_corpus] {kind}: {len(rs)} sources ({', '.join(f'{p} {len(out[kind][p])}' for p in PARTS)})")
    return out


def _candidates(refs: list[Ref], order: np.ndarray) -> Iterator[Source]:
    for i in order:
        r = refs[i]
        texts = r.load()
        for v, text in enumerate(texts):
            src = Source(r.kind, r.package, r.source + (f"#v{v}" if r.kind == "changelog" else ""), text)
            text = _clean(src)
            if text is not None:
                src.text = text
                yield src


def original_name(src: Source) -> str:
    return f"{_slug(src.package, 24)}-{_slug(src.source, 30)}-{zlib.crc32(src.source.encode()):08x}"


def pick_originals(refs: dict[str, dict[str, list[Ref]]], part: str, n_originals: int, seed: int,
                   index: SketchIndex, report: dict) -> list[Source]:
    """Originals of one part, per kind in proportion to KIND_WEIGHTS, distinct from every earlier one."""
    chosen: list[Source] = []
    rejected: Counter = Counter()
    quota = {k: int(round(w * n_originals)) for k, w in KIND_WEIGHTS.items()}
    quota["short"] = max(1, int(round(SHORT_SHARE * n_originals)))
    seen_short: set[str] = set()
    spare = 0
    for kind in KINDS:
        cands = refs[kind][part]
        want = quota[kind] + (spare if kind != "short" else 0)
        got = 0
        per_package: Counter = Counter()
        for src in _candidates(cands, _rng(seed, part, kind).permutation(len(cands))):
            if got >= want:
                break
            if per_package[src.package] >= PACKAGE_CAP:
                rejected[f"{kind}: package cap"] += 1
                continue
            if kind == "short":
                key = normalise(src.text)
                if key in seen_short:
                    rejected["short: duplicate"] += 1
                    continue
                seen_short.add(key)
            else:
                s = shingle_hashes(src.text)
                if index.nearest(s, MAX_JACCARD):
                    rejected[f"{kind}: jaccard>={MAX_JACCARD}"] += 1
                    continue
                index.add(s, original_name(src), kind)
            per_package[src.package] += 1
            chosen.append(src)
            got += 1
        if kind != "short":
            spare = max(0, want - got)
        report.setdefault("originals_per_kind", {}).setdefault(part, {})[kind] = got
    report.setdefault("rejected", {})[part] = dict(sorted(rejected.items()))
    return chosen


def _vocab(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    counts = Counter(w for t in texts for w in t.split() if w.isalpha() and len(w) > 1)
    words = sorted(counts)
    freq = np.array([counts[w] for w in words], dtype=float)
    return np.array(words), freq / freq.sum()


def assign_edits(names: list[str], seed: int, part: str) -> dict[str, list[str]]:
    """EDITS_PER_ORIGINAL distinct edits per original, each edit used about equally often."""
    used = Counter({e: 0 for e in EDITS})
    out = {}
    for name in names:
        rng = _rng(seed, part, name, "edits")
        tie = rng.random(len(EDITS))
        ranked = sorted(range(len(EDITS)), key=lambda i: (used[EDITS[i]], tie[i]))
        pick = [EDITS[i] for i in ranked[:EDITS_PER_ORIGINAL]]
        for e in pick:
            used[e] += 1
        out[name] = pick
    return out


def _unambiguous_copies(text: str, name: str, wanted: list[str], ctx: dict, seed: int, part: str,
                        index: SketchIndex, report: dict) -> list[tuple[str, str]]:
    """The copies of one original: its assigned edits, each replaced by the next unused edit (seeded
    order) when the copy's Jaccard to another original is >= MAX_JACCARD (e.g. half of a changelog
    version is also in the previous version): such a copy's group would be a matter of opinion."""
    spare = [EDITS[i] for i in _rng(seed, part, name, "spare").permutation(len(EDITS)) if EDITS[i] not in wanted]
    out, queue = [], list(wanted)
    while queue and len(out) < len(wanted):
        e = queue.pop(0)
        copy = apply_edit(e, text, ctx, _rng(seed, part, name, e))
        near = [index.names[i] for _, i in index.nearest(shingle_hashes(copy), MAX_JACCARD)]
        if any(n != name for n in near):
            report.setdefault("ambiguous_copies_replaced", Counter())[f"{part}:{e}"] += 1
            if spare:
                queue.append(spare.pop(0))
            continue
        out.append((e, copy))
    return out


def build_part(out: Path, part: str, chosen: list[Source], foreign: list[str], seed: int, index: SketchIndex,
               report: dict) -> pd.DataFrame:
    """Write one part's files and truth.csv."""
    if out.exists():
        shutil.rmtree(out)
    ctx = {"foreign": foreign}
    ctx["vocab"], ctx["weights"] = _vocab([s.text for s in chosen if s.kind != "short"])
    singles: set[str] = set()
    for kind in KINDS:
        names = [original_name(s) for s in chosen if s.kind == kind]
        n_single = len(names) if kind == "short" else int(round(SINGLE_SHARE * len(names)))
        singles.update(names[j] for j in _rng(seed, part, kind, "singles").permutation(len(names))[:n_single])
    edits = assign_edits([original_name(s) for s in chosen if original_name(s) not in singles], seed, part)
    rows: list[dict] = []

    def write(rel: str, text: str, fmt: str, title: str) -> None:
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(wrap(text, fmt, title).encode("utf-8"))

    for src in chosen:
        name, kind = original_name(src), src.kind
        title = src.source.split("/")[-1].split("#")[0]
        base = {"original": name, "group": name, "kind": kind, "package": src.package, "source": src.source,
                "part": part}
        fmt = _format(_rng(seed, part, name, "format"))
        folder, edit = ("singles", SINGLE_EDIT) if name in singles else ("originals", ORIGINAL_EDIT)
        rel = f"{folder}/{kind}/{name}{EXT[fmt]}"
        write(rel, src.text, fmt, title)
        rows.append({"file": rel, "edit": edit, "format": fmt, "words": len(src.text.split()), **base})
        for e, text in _unambiguous_copies(src.text, name, edits.get(name, []), ctx, seed, part, index, report):
            fmt = _format(_rng(seed, part, name, e, "format"))
            rel = f"edited/{kind}/{name}__{e}{EXT[fmt]}"
            write(rel, text, fmt, title)
            rows.append({"file": rel, "edit": e, "format": fmt, "words": len(text.split()), **base})
    cols = ["file", "original", "edit", "group", "kind", "package", "source", "part", "format", "words"]
    df = pd.DataFrame(rows)[cols].sort_values("file").reset_index(drop=True)
    df.to_csv(out / "truth.csv", index=False)
    return df


def hard_negatives(index: SketchIndex, parts: dict[str, str]) -> dict:
    """Pairs of originals (same part) by Jaccard band and kinds: the look-alikes that must stay apart."""
    bands = [(0.2, 0.3), (0.3, 0.4), (0.4, 0.5)]
    out: dict[str, Counter] = {f"{a}-{b}": Counter() for a, b in bands}
    examples = []
    for i, s in enumerate(index.sets):
        cands = {j for h in s[:SKETCH].tolist() for j in index.postings.get(h, ()) if j > i}
        for j in cands:
            if parts[index.names[i]] != parts[index.names[j]]:
                continue
            jac = jaccard(s, index.sets[j])
            for a, b in bands:
                if a <= jac < b:
                    key = "+".join(sorted({index.kinds[i], index.kinds[j]}))
                    out[f"{a}-{b}"][f"{parts[index.names[i]]}:{key}"] += 1
                    if jac >= 0.35 and len(examples) < 20:
                        examples.append([index.names[i], index.names[j], round(jac, 3)])
    return {"pairs_by_jaccard": {k: dict(v.most_common()) for k, v in out.items()}, "examples": examples}


def build(out_dir: Path = DEFAULT_OUT, per_part: int = DEFAULT_PER_PART, seed: int = 0) -> dict:
    files_per_original = (1 - SINGLE_SHARE) * (1 + EDITS_PER_ORIGINAL) + SINGLE_SHARE
    n_originals = int(per_part / (files_per_original + SHORT_SHARE))
    owners = dpkg_owners()
    refs = all_refs(owners)
    foreign = foreign_sentences()
    _log(f"[text_corpus] {len(foreign)} translated sentences")
    index = SketchIndex()
    report: dict = {"per_part": per_part, "seed": seed, "shingle": SHINGLE, "max_jaccard": MAX_JACCARD}
    frames, part_of = {}, {}
    split: dict[str, str] = {}
    for part in BUILD_ORDER:
        n0 = len(index.names)
        chosen = pick_originals(refs, part, n_originals, seed, index, report)
        for name in index.names[n0:]:
            part_of[name] = part
        for src in chosen:
            split[src.package] = part
        frames[part] = build_part(out_dir / part, part, chosen, foreign, seed, index, report)
        df = frames[part]
        report.setdefault("files", {})[part] = len(df)
        report.setdefault("edits", {})[part] = df["edit"].value_counts().to_dict()
        report.setdefault("formats", {})[part] = df["format"].value_counts().to_dict()
        _log(f"[text_corpus] {part}: {len(df)} files, {df['group'].nunique()} groups")
    report["hard_negatives"] = hard_negatives(index, part_of)
    report["ambiguous_copies_replaced"] = dict(sorted(report.get("ambiguous_copies_replaced", {}).items()))
    (out_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    (out_dir / "split.json").write_text(json.dumps({
        "rule": "part = ('tune', 'aside')[crc32(package) % 2]; the package is the Debian package owning the "
                "file, or the Python distribution / top-level stdlib module; aside built first",
        "packages": dict(sorted(split.items()))}, indent=1) + "\n")
    return report


def load_truth(corpus: str | Path) -> pd.DataFrame:
    return pd.read_csv(Path(corpus) / "truth.csv", dtype=str, keep_default_na=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.text_corpus", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--per-part", type=int, default=DEFAULT_PER_PART, help="about this many files per part")
    ap.add_argument("--quick", action="store_true", help=f"about {QUICK_PER_PART} files per part")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    report = build(args.out, QUICK_PER_PART if args.quick else args.per_part, args.seed)
    print(json.dumps({k: report[k] for k in ("files", "originals_per_kind", "rejected")}, indent=1))
    print(json.dumps(report["hard_negatives"]["pairs_by_jaccard"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
