"""Static checks of bench.broad_corpus's package tables (no apt, no pictures, no build)."""
from __future__ import annotations

import re
from pathlib import Path

from bench import broad_corpus as bc

OWN_TABLES = {
    "holdout": bc.HOLDOUT_PACKAGES, "fresh": bc.FRESH_PACKAGES, "blind5": bc.BLIND5_PACKAGES,
    "blind6": bc.BLIND6_PACKAGES, "blind7": bc.BLIND7_PACKAGES, "blind8": bc.BLIND8_PACKAGES,
}
SCRIPT_VARS = {"tune": "PICTURES", "holdout": "HOLDOUT", "fresh": "FRESH", "blind5": "BLIND5",
               "blind6": "BLIND6", "blind7": "BLIND7", "blind8": "BLIND8"}


def _script_lists() -> dict[str, list[str]]:
    text = (Path(bc.__file__).parent / "harness-packages.sh").read_text()
    return {name: words.split() for name, words in re.findall(r'^([A-Z0-9]+)="([^"]*)"', text, re.M)}


def test_parts_and_build_order_agree() -> None:
    assert set(bc.BUILD_ORDER) == set(bc.PARTS)
    assert bc.BUILD_ORDER[:2] == ("aside", "tune")
    assert bc.OWN_PARTS == bc.BUILD_ORDER[2:] == tuple(OWN_TABLES)


def test_each_package_belongs_to_one_part_and_has_a_lister() -> None:
    assert len(bc.PACKAGES) == len(set(bc.PACKAGES))
    assert set(bc.LISTERS) == set(bc.PACKAGES)
    for part, table in OWN_TABLES.items():
        assert all(bc.PACKAGE_PART[p] == part for p in table)
    extras = [e for deps in bc.PACKAGE_EXTRAS.values() for e in deps]
    assert len(extras) == len(set(extras))
    assert not set(extras) & set(bc.PACKAGES)
    assert set(bc.PACKAGE_EXTRAS) <= set(bc.PACKAGES)
    assert not set(bc.FOREIGN_PACKAGES) & (set(bc.PACKAGES) | set(extras))


def test_install_script_installs_exactly_the_tables() -> None:
    lists = _script_lists()
    assert sorted(lists[SCRIPT_VARS["tune"]]) == sorted(bc.TUNE_ASIDE_PACKAGES)
    for part, table in OWN_TABLES.items():
        assert sorted(lists[SCRIPT_VARS[part]]) == sorted(table), part
