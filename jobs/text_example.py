"""The built-in text example corpus (`dedup example --kind text`): short articles and planted copies.

Each original is written as-is and with planted edits (`planted.csv`: file, original,
edit, the same columns as the image example): a byte-identical copy, the same text
reformatted (case, line breaks), a few words changed, a sentence dropped, the text
as a web page (with a head, a script and a style that must not count), plus
look-alikes (same topic, different text) that must stay apart and broken files
(empty, blank, binary) that become error rows.
"""
from __future__ import annotations

import csv
import html
from pathlib import Path

ARTICLES = {
    "bike_lanes": (
        "City council approves new bike lanes. The city council voted on Tuesday to build twelve kilometres of "
        "protected bike lanes along the river, a plan that had been debated for more than three years. Supporters "
        "said the lanes would make cycling safer for children and commuters, while several shop owners worried "
        "about losing parking spaces in front of their stores. The mayor promised that construction would begin "
        "in the spring and finish before the end of next year. The project will cost about four million euros, "
        "most of it paid by a regional transport fund."),
    "library": (
        "Library extends opening hours for students. Starting next month the central library will stay open until "
        "midnight on weekdays during the exam period. The director said that the reading rooms had been full every "
        "evening last winter and that students had asked for more quiet places to work. Extra staff will be hired "
        "for the late shifts, and the cafe on the ground floor will serve hot drinks until eleven."),
    "storm": (
        "Storm closes mountain roads. Heavy snow and strong winds closed three mountain passes on Sunday night, "
        "leaving dozens of trucks waiting at the border. Road crews worked through the night to clear the main "
        "highway, which reopened in the morning with a speed limit of sixty kilometres per hour. Forecasters expect "
        "another front to arrive on Wednesday and advise drivers to carry chains and warm blankets."),
    "tomatoes": (
        "Slow roasted tomatoes with garlic and thyme. Cut ripe tomatoes in half and place them on a tray with whole "
        "garlic cloves. Sprinkle with salt, a little sugar and fresh thyme, drizzle with olive oil and roast at a "
        "low heat for three hours until they are soft and sweet. Keep them in a jar covered with oil for up to a "
        "week, or blend them into a quick sauce for pasta."),
}

# same topic, different words: must not be clustered with the originals
LOOKALIKES = {
    "bike_lanes": (
        "Cyclists protest slow progress on river path. About two hundred cyclists rode slowly through the old town "
        "on Saturday to demand that the long promised path by the water be finished. Organisers handed a petition "
        "to a deputy of the mayor and said they would return every month until work starts."),
    "storm": (
        "Avalanche warning raised in the Alps. The regional warning service raised the avalanche danger to level "
        "four after two days of fresh snow fell on an old, weak layer. Ski resorts kept the upper lifts closed and "
        "asked visitors to stay on marked slopes."),
}

EDITS = ("exact_copy", "reformatted", "words_changed", "sentence_dropped", "web_page")


def _reformatted(text: str) -> str:
    """Upper case, 9 words a line, one space between sentences: the same normalised text, fewer bytes."""
    words = text.upper().split()
    return "\n".join(" ".join(words[i:i + 9]) for i in range(0, len(words), 9))


def _words_changed(text: str) -> str:
    """Every 12th word cut to its first half: a near duplicate (about 0.6 Jaccard on 3-shingles), shorter
    than its original, so the keep policy (longest text first) keeps the original."""
    words = text.split()
    return " ".join(w[:max(1, len(w) // 2)] if i % 12 == 5 else w for i, w in enumerate(words))


def _sentence_dropped(text: str) -> str:
    sentences = text.split(".  ")
    return ".  ".join(sentences[:2] + sentences[3:])


def _web_page(text: str) -> str:
    title, _, body = text.partition(".  ")
    paragraphs = "".join(f"<p>{html.escape(s)}.</p>\n" for s in body.strip().rstrip(".").split(".  "))
    return (f"<!DOCTYPE html>\n<html><head><title>{html.escape(title)} | Daily News</title>\n"
            "<style>body { font-family: serif } .ad { display: none }</style>\n"
            "<script>window.track('page view with many words that are not part of the article');</script>\n"
            f"</head><body><h1>{html.escape(title)}</h1>\n{paragraphs}</body></html>\n")


MAKERS = {"exact_copy": lambda t: t, "reformatted": _reformatted, "words_changed": _words_changed,
          "sentence_dropped": _sentence_dropped, "web_page": _web_page}


def build_text_corpus(root: Path) -> Path:
    """Write the corpus under `root` and `root/planted.csv`; returns the csv's path."""
    rows = []
    for name, article in ARTICLES.items():
        text = article.replace(". ", ".  ") + "\n"  # two spaces after a sentence, as typed
        _write(root / "articles" / f"{name}.txt", text)
        rows.append((f"articles/{name}.txt", name, "original"))
        for edit in EDITS:
            ext = "html" if edit == "web_page" else "md" if edit == "reformatted" else "txt"
            file = f"copies/{name}__{edit}.{ext}"
            _write(root / file, MAKERS[edit](text))
            rows.append((file, name, edit))
    for name, text in LOOKALIKES.items():
        _write(root / "lookalikes" / f"{name}.txt", text)
        rows.append((f"lookalikes/{name}.txt", name, "lookalike"))
    broken = {"broken/empty.txt": b"", "broken/blank.md": b"  \n\n\t\n",
              "broken/binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8}
    for file, data in broken.items():
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_bytes(data)
        rows.append((file, "", "corrupt"))
    planted = root / "planted.csv"
    with planted.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "original", "edit"])
        writer.writerows(rows)
    return planted


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
