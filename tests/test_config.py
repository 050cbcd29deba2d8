"""Config loading: defaults, YAML layering, overrides, and clear errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from jobs.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kind", ["image", "text", "video", "audio"])
def test_shipped_configs_load_and_local_equals_embedded_default(kind):
    # the fingerprint of each kind covers the sections that kind reads (the audio keep order, ...)
    local = load_config([ROOT / "conf" / "local.yaml"], [f"input.kind={kind}"])
    assert local.fingerprint() == load_config(None, [f"input.kind={kind}"]).fingerprint()
    prod = load_config([ROOT / "conf" / "prod.yaml"])
    assert prod.embedding.enabled and prod.embedding.device == "cuda"


def test_overrides_and_files_layer_in_order(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("phash:\n  max_hamming: 6\nspark:\n  conf:\n    spark.executor.memory: 2g\n")
    cfg = load_config([f], ["phash.candidate_hamming=9", "spark.conf.spark.executor.cores=2"])
    assert (cfg.phash.max_hamming, cfg.phash.candidate_hamming) == (6, 9)
    assert cfg.spark.conf == {"spark.executor.memory": "2g", "spark.executor.cores": "2"}


@pytest.mark.parametrize("override, message", [
    ("phash.nope=1", "unknown key(s) phash.nope"),
    ("nosuch.key=1", "unknown section"),
    ("phash.max_hamming=65", "phash.max_hamming must be between 0 and 64"),
    ("phash.candidate_hamming=3", "must be >= phash.max_hamming"),
    ("embedding.candidate_threshold=0.95", "must be <= embedding.threshold"),
    ("embedding.device=tpu", "embedding.device must be one of"),
    ("selfjoin.nprobe=0", "selfjoin.nprobe must be >= 1"),
    ("selfjoin.nprobe=abc", "must be an integer"),
    ("selfjoin.transport_dtype=float8", "selfjoin.transport_dtype must be one of float16, float32"),
    ("selfjoin.probe_margin=-0.1", "selfjoin.probe_margin must be >= 0"),
    ("cluster.keep_order=pixels sideways", "cluster.keep_order"),
    ("phash.enabled=maybe", "must be true or false"),
    ("phash", "section.key=value"),
])
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(overrides=[override])


def test_fingerprint_ignores_runtime_settings_only():
    base = load_config().fingerprint()
    assert load_config(overrides=["embedding.batch_size=8", "spark.shuffle_partitions=3"]).fingerprint() == base
    assert load_config(overrides=["phash.max_hamming=5"]).fingerprint() != base


def test_keep_order_always_ends_with_item_id():
    cfg = load_config(overrides=["cluster.keep_order=bytes desc"])
    assert cfg.cluster.order() == [("bytes", "desc"), ("item_id", "asc")]


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config([tmp_path / "none.yaml"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("phash: [1, 2]\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config([bad])
