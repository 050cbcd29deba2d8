"""The audio decision on aligned pairs (jobs/candidates.decide in Spark, jobs/audio_kind.is_duplicate for
`dedup query`): aligned anchors, coverage and the similarity floor `audio.min_similarity` (a few chance
anchors strung over a long span of two sections of one track align a small share of it), and below
`audio.low_similarity` at least `audio.low_similarity_score` aligned anchors."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from jobs import audio_kind
from jobs.config import AudioConfig, ConfigError, EmbeddingConfig, PhashConfig, load_config

ROOT = Path(__file__).resolve().parent.parent
CFG = AudioConfig()

# (aligned_anchors, coverage_a, coverage_b, similarity) -> duplicate under the shipped defaults
CASES = [
    ((40, 0.9, 0.95, 0.80), True),                       # a copy
    ((12, 0.2, 0.95, CFG.low_similarity), True),         # an excerpt, exactly at the low-similarity bar
    ((8, 0.75, 0.8, CFG.min_similarity - 0.01), False),  # chance anchors over a long span: below the floor
    ((CFG.low_similarity_score, 0.9, 0.92, CFG.min_similarity), True),  # a track mixed under: weak share, much evidence
    ((16, 0.54, 0.3, 0.11), False),                      # a chorus repeated in another section: weak share, little evidence
    ((5, 1.0, 1.0, 0.9), False),                         # too few anchors
    ((30, 0.1, 0.2, 0.9), False),                        # a loop covering little of either
]


def test_the_shipped_floor_is_set_and_written_out():
    assert 0 < CFG.min_similarity < 1
    local = yaml.safe_load((ROOT / "conf" / "local.yaml").read_text())
    assert local["audio"]["min_similarity"] == CFG.min_similarity
    assert audio_kind.thresholds(CFG)["audio_min_similarity"] == CFG.min_similarity
    with pytest.raises(ConfigError):
        load_config(overrides=["audio.min_similarity=1.5"])


@pytest.mark.parametrize("args,expected", CASES)
def test_is_duplicate_applies_the_similarity_floor(args, expected):
    anchors, cov_a, cov_b, sim = args
    assert audio_kind.is_duplicate(anchors, cov_a, cov_b, CFG, sim) is expected
    # with the floor and the low-similarity bar off, only the similarity cases change
    off = replace(CFG, min_similarity=0.0, low_similarity=0.0)
    weak = sim < CFG.min_similarity or (sim < CFG.low_similarity and anchors < CFG.low_similarity_score)
    assert audio_kind.is_duplicate(anchors, cov_a, cov_b, off, sim) is (expected or (weak and anchors >= CFG.min_score))


def test_the_low_similarity_bar_is_set_and_written_out():
    assert CFG.min_similarity < CFG.low_similarity < 1 and CFG.low_similarity_score > CFG.min_score
    local = yaml.safe_load((ROOT / "conf" / "local.yaml").read_text())
    assert local["audio"]["low_similarity"] == CFG.low_similarity
    assert local["audio"]["low_similarity_score"] == CFG.low_similarity_score
    assert audio_kind.thresholds(CFG)["audio_low_similarity_score"] == CFG.low_similarity_score
    with pytest.raises(ConfigError):
        load_config(overrides=["audio.low_similarity_score=0"])


@pytest.mark.spark
def test_decide_applies_the_same_rule(spark):
    from jobs.candidates import decide

    rows = [(f"a{i}", f"b{i}", float(sim), int(anchors), float(cov_a), float(cov_b), "audio_peaks", None, None, None)
            for i, ((anchors, cov_a, cov_b, sim), _) in enumerate(CASES)]
    pairs = spark.createDataFrame(rows, "sha_a string, sha_b string, similarity double, aligned_anchors int, "
                                        "coverage_a double, coverage_b double, stage string, hamming int, "
                                        "verify_score double, sparse boolean")
    for cfg in (CFG, replace(CFG, excerpts="report")):
        got = {r.sha_a: r.is_duplicate for r in decide(pairs, PhashConfig(), EmbeddingConfig(), audio=cfg).collect()}
        for i, ((anchors, cov_a, cov_b, sim), _) in enumerate(CASES):
            assert got[f"a{i}"] is audio_kind.is_duplicate(anchors, cov_a, cov_b, cfg, sim), (cfg.excerpts, CASES[i])
