"""Tiny randomly initialised models saved to disk, so tests exercise the real loading path."""
from __future__ import annotations

from pathlib import Path

import torch
import transformers

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37)


def pil_processor_class(name: str):
    """The PIL-backend image processor (transformers 5.x) or the classic one (4.x)."""
    return getattr(transformers, name + "Pil", None) or getattr(transformers, name)


def clip_processor():
    return pil_processor_class("CLIPImageProcessor")(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})


def save_tiny_clip(path: Path, seed: int = 0) -> Path:
    """A full CLIP (text + vision towers, projection 16) with random weights, plus its processor."""
    torch.manual_seed(seed)
    config = transformers.CLIPConfig(
        text_config=dict(TINY, vocab_size=99, max_position_embeddings=16, bos_token_id=0, eos_token_id=1),
        vision_config=dict(TINY, image_size=32, patch_size=8),
        projection_dim=16,
    )
    transformers.CLIPModel(config).save_pretrained(path)
    clip_processor().save_pretrained(path)
    return path
