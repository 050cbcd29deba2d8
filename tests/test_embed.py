"""udfs.embed with tiny randomly initialised models saved to disk and loaded back.

The models are real transformers models (random weights), so the whole local
loading path runs: resolve_model -> fingerprint -> processor -> model -> embed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
from PIL import Image
from skimage import data as skdata

from udfs.embed import (
    ImageEmbedder,
    ModelNotFoundError,
    get_embedder,
    model_fingerprint,
    resolve_model,
)

from tests.models import TINY, clip_processor as _clip_processor, pil_processor_class as _pil_class
from tests.models import save_tiny_clip as _save_clip


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    return _save_clip(tmp_path_factory.mktemp("clip"), seed=0)


@pytest.fixture(scope="module")
def embedder(clip_dir: Path) -> ImageEmbedder:
    return ImageEmbedder(clip_dir, device="cpu", precision="fp32", batch_size=3)


def _photos() -> list[Image.Image]:
    names = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "moon")
    return [Image.fromarray(getattr(skdata, n)()).resize((96, 80)) for n in names]


def test_resolve_local_dir(clip_dir: Path) -> None:
    assert resolve_model(str(clip_dir)) == clip_dir.resolve()


def test_missing_model_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(str(missing))
    assert str(missing) in str(info.value)
    assert "embedding.model" in str(info.value)
    with pytest.raises(ModelNotFoundError, match=str(missing)):
        ImageEmbedder(missing, device="cpu")


def test_missing_repo_id_names_the_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model("no-such-org/no-such-model-xyz")
    assert "no-such-org/no-such-model-xyz" in str(info.value)
    assert "Hugging Face cache" in str(info.value)


def test_resolve_repo_id_from_local_hf_cache(tmp_path: Path, clip_dir: Path, monkeypatch) -> None:
    """A repo id is found in an offline HF cache laid out as huggingface_hub writes it."""
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--tiny-org--tiny-clip"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name in ("config.json", "preprocessor_config.json", "model.safetensors"):
        (snapshot / name).write_bytes((clip_dir / name).read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert resolve_model("tiny-org/tiny-clip") == snapshot.resolve()
    emb = ImageEmbedder("tiny-org/tiny-clip", device="cpu")
    assert emb.dim == 16 and emb.fingerprint == model_fingerprint(clip_dir)


def test_dir_without_config_or_preprocessor(tmp_path: Path, clip_dir: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelNotFoundError, match="config.json"):
        resolve_model(str(empty))
    no_proc = tmp_path / "no_proc"
    no_proc.mkdir()
    for name in ("config.json", "model.safetensors"):
        (no_proc / name).write_bytes((clip_dir / name).read_bytes())
    with pytest.raises(ModelNotFoundError, match="preprocessor_config.json"):
        ImageEmbedder(no_proc, device="cpu")


def test_dir_without_weights(tmp_path: Path, clip_dir: Path) -> None:
    no_weights = tmp_path / "no_weights"
    no_weights.mkdir()
    for name in ("config.json", "preprocessor_config.json"):
        (no_weights / name).write_bytes((clip_dir / name).read_bytes())
    with pytest.raises(ModelNotFoundError, match=str(no_weights)):
        ImageEmbedder(no_weights, device="cpu")


def test_embed_shape_norm_dtype(embedder: ImageEmbedder) -> None:
    assert embedder.dim == 16 and embedder.device == "cpu"
    assert len(embedder.fingerprint) == 16 and int(embedder.fingerprint, 16) >= 0
    out = embedder.embed(_photos())
    assert out.shape == (7, 16) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    empty = embedder.embed([])
    assert empty.shape == (0, 16) and empty.dtype == np.float32


def test_embed_deterministic_and_discriminative(embedder: ImageEmbedder) -> None:
    photos = _photos()
    a = embedder.embed(photos)
    b = embedder.embed([p.copy() for p in photos])
    assert np.array_equal(a, b)  # identical images -> identical vectors
    for i in range(len(photos)):
        for j in range(i + 1, len(photos)):
            assert not np.allclose(a[i], a[j], atol=1e-4), (i, j)


def test_batched_equals_one_by_one(embedder: ImageEmbedder) -> None:
    photos = _photos()
    batched = embedder.embed(photos)  # batch_size=3: chunks of 3, 3, 1
    single = np.concatenate([embedder.embed([p]) for p in photos])
    assert np.allclose(batched, single, atol=1e-5)


def test_non_rgb_inputs_accepted(embedder: ImageEmbedder) -> None:
    gray = Image.fromarray(skdata.camera()).resize((64, 64))
    out = embedder.embed([gray, gray.convert("RGB")])
    assert np.allclose(out[0], out[1], atol=1e-6)


def test_fingerprint_tracks_weights(tmp_path: Path, clip_dir: Path) -> None:
    other = _save_clip(tmp_path / "clip_seed1", seed=1)
    same = _save_clip(tmp_path / "clip_seed0", seed=0)
    assert model_fingerprint(same) == model_fingerprint(clip_dir)
    assert model_fingerprint(other) != model_fingerprint(clip_dir)
    # editing the weights in place changes it too (cache keyed on size + mtime)
    before = model_fingerprint(same)
    weights = same / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0x01
    weights.write_bytes(bytes(raw))
    assert model_fingerprint(same) != before


def test_get_embedder_is_cached(clip_dir: Path) -> None:
    first = get_embedder(str(clip_dir), "cpu", "fp32", 4, None)
    assert get_embedder(str(clip_dir), "cpu", "fp32", 4, None) is first
    assert get_embedder(str(clip_dir), "cpu", "fp32", 8, None) is not first


def test_device_and_precision_choices(clip_dir: Path) -> None:
    auto = get_embedder(str(clip_dir), "auto", "auto", 4, None)
    assert auto.device == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        assert auto.dtype == torch.float32
        with pytest.raises(RuntimeError, match="cuda"):
            ImageEmbedder(clip_dir, device="cuda")
    with pytest.raises(ValueError, match="precision"):
        ImageEmbedder(clip_dir, device="cpu", precision="int3")
    bf16 = ImageEmbedder(clip_dir, device="cpu", precision="bf16")
    ref = get_embedder(str(clip_dir), "cpu", "fp32", 4, None)
    photos = _photos()[:3]
    low, high = bf16.embed(photos), ref.embed(photos)
    assert low.dtype == np.float32
    assert (np.sum(low * high, axis=1) > 0.97).all()  # same model, lower precision


def test_vision_only_clip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = transformers.CLIPVisionConfig(**TINY, image_size=32, patch_size=8, projection_dim=12)
    transformers.CLIPVisionModelWithProjection(config).save_pretrained(tmp_path)
    _clip_processor().save_pretrained(tmp_path)
    emb = ImageEmbedder(tmp_path, device="cpu")
    out = emb.embed(_photos()[:2])
    assert emb.dim == 12 and out.shape == (2, 12)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_vision_only_clip_without_projection(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = transformers.CLIPVisionConfig(**TINY, image_size=32, patch_size=8)
    transformers.CLIPVisionModel(config).save_pretrained(tmp_path)
    _clip_processor().save_pretrained(tmp_path)
    assert ImageEmbedder(tmp_path, device="cpu").dim == 32  # pooler_output, hidden_size wide


def test_weights_that_do_not_cover_the_model_are_refused(tmp_path: Path) -> None:
    """Missing parameters would be randomly initialised: refuse instead of embedding noise."""
    torch.manual_seed(0)
    config = transformers.CLIPVisionConfig(**TINY, image_size=32, patch_size=8)
    transformers.CLIPVisionModel(config).save_pretrained(tmp_path)
    _clip_processor().save_pretrained(tmp_path)
    cfg_path = tmp_path / "config.json"
    cfg_path.write_text(cfg_path.read_text().replace('"CLIPVisionModel"', '"CLIPVisionModelWithProjection"'))
    with pytest.raises(ModelNotFoundError, match="visual_projection"):
        ImageEmbedder(tmp_path, device="cpu")


def test_tiny_resnet(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = transformers.ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 24], depths=[1, 1], layer_type="basic"
    )
    transformers.ResNetModel(config).save_pretrained(tmp_path)
    _pil_class("ConvNextImageProcessor")(size={"shortest_edge": 32}).save_pretrained(tmp_path)
    emb = ImageEmbedder(tmp_path, device="cpu", batch_size=2)
    photos = _photos()[:3]
    out = emb.embed(photos)
    assert emb.dim == 24 and out.shape == (3, 24)  # pooler (n, 24, 1, 1) flattened
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert np.allclose(out, np.concatenate([emb.embed([p]) for p in photos]), atol=1e-5)
