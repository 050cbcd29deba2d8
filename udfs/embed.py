"""Image embeddings through Hugging Face transformers, loaded from local files only.

Executor-side and Spark-free. A model is a local directory holding config.json,
weights (*.safetensors / *.bin) and preprocessor_config.json, or a repo id
already present in the local Hugging Face cache; nothing is downloaded.

Model kinds:
- ``model_type == "clip"``: ``CLIPModel.get_image_features`` (projected).
- ``model_type == "clip_vision_model"``: ``CLIPVisionModelWithProjection.image_embeds``
  (``CLIPVisionModel.pooler_output`` when the checkpoint declares no projection).
- anything else: ``AutoModel``; ``get_image_features`` when the model has it
  (SigLIP, ALIGN ...), else ``pooler_output`` flattened (ResNet: (n, 2048, 1, 1)
  -> (n, 2048)), else the mean of ``last_hidden_state`` over tokens / pixels.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

WEIGHT_PATTERNS = ("*.safetensors", "*.bin")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
_HOW_TO_PROVIDE = (
    "Provide a local directory containing config.json, the weights (*.safetensors or *.bin) "
    "and preprocessor_config.json (e.g. saved with save_pretrained), or a repo id already "
    "downloaded into the local Hugging Face cache (HF_HOME / HF_HUB_CACHE on every executor); "
    "then point the job at it with --set embedding.model=PATH. Nothing is downloaded at run time."
)
_CHUNK_BYTES = 1 << 20


class ModelNotFoundError(Exception):
    """No usable model at the configured location (missing, incomplete, or unreadable)."""


# --------------------------------------------------------------------------- locate


def _hf_cache_dir() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # pragma: no cover - huggingface_hub is a transformers dependency
        return os.environ.get("HF_HUB_CACHE", "~/.cache/huggingface/hub")


def _looks_like_path(name: str) -> bool:
    """A filesystem path rather than a Hub repo id ("name" or "org/name")."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or os.sep != "/" and os.sep in name


def resolve_model(name_or_path: str) -> Path:
    """Absolute directory of a model: a local dir with config.json, else a cached HF snapshot.

    Raises ModelNotFoundError saying where it looked and how to provide a model.
    """
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        if (local / "config.json").is_file():
            return local.resolve()
        raise ModelNotFoundError(
            f"model directory {local.resolve()} has no config.json. {_HOW_TO_PROVIDE}"
        )
    looked = f"no local directory {local.absolute()}"
    if not _looks_like_path(name_or_path):
        try:
            from huggingface_hub import snapshot_download

            snapshot = Path(snapshot_download(name_or_path, local_files_only=True))
            if (snapshot / "config.json").is_file():
                return snapshot
            looked += f"; cached snapshot {snapshot} has no config.json"
        except Exception as exc:
            looked += (
                f"; repo id {name_or_path!r} not in the local Hugging Face cache "
                f"{_hf_cache_dir()} ({type(exc).__name__})"
            )
    raise ModelNotFoundError(f"model {name_or_path!r} not found: {looked}. {_HOW_TO_PROVIDE}")


# --------------------------------------------------------------------------- fingerprint

_FINGERPRINTS: dict[tuple, str] = {}
_FINGERPRINT_LOCK = threading.Lock()


def _fingerprint_files(path: Path) -> list[Path]:
    """config.json, preprocessor_config.json (if present), weights; sorted, deduplicated."""
    files = [path / "config.json"]
    if (path / "preprocessor_config.json").is_file():
        files.append(path / "preprocessor_config.json")
    weights = {p for pattern in WEIGHT_PATTERNS for p in path.glob(pattern) if p.is_file()}
    return files + sorted(weights)


def _stat_key(path: Path, files: list[Path]) -> tuple:
    """Cheap cache key: the files' names, sizes and mtimes (ns)."""
    stats = tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    return (str(path.resolve()), stats)


def model_fingerprint(path: Path) -> str:
    """16 hex chars of SHA-256 over the model's config, preprocessor config and weight bytes.

    Each file contributes its name, its size and its content (streamed in 1 MiB
    chunks), so any changed, added or removed weight file changes the digest.
    Cached in-process per (path, file sizes and mtimes).
    """
    path = Path(path)
    files = _fingerprint_files(path)
    try:
        key = _stat_key(path, files)
    except OSError as exc:
        raise ModelNotFoundError(f"cannot read model files in {path}: {exc}. {_HOW_TO_PROVIDE}") from None
    with _FINGERPRINT_LOCK:
        cached = _FINGERPRINTS.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.name}\0{file.stat().st_size}\0".encode())
        with open(file, "rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                digest.update(chunk)
    value = digest.hexdigest()[:16]
    with _FINGERPRINT_LOCK:
        _FINGERPRINTS[key] = value
    return value


# --------------------------------------------------------------------------- load


def _pick_device(device: str) -> str:
    """"auto" -> "cuda" when available else "cpu"; an unavailable explicit CUDA is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"embedding device {device!r} requested but torch.cuda.is_available() is False "
            f"(torch {torch.__version__}); use device 'cpu' or 'auto', or install a CUDA build of torch"
        )
    return device


def _pick_dtype(precision: str, device: str) -> Any:
    """"auto" -> float16 on CUDA, float32 elsewhere; "fp32" / "fp16" / "bf16" explicit."""
    import torch

    table = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    if precision == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    if precision not in table:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return table[precision]


def _load_processor(path: Path) -> Any:
    from transformers import AutoImageProcessor

    try:
        return AutoImageProcessor.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:
        raise ModelNotFoundError(
            f"no usable image preprocessor in {path}: a preprocessor_config.json is needed "
            f"(save the model's image processor with save_pretrained next to it) "
            f"[{type(exc).__name__}: {str(exc)[:200]}]. {_HOW_TO_PROVIDE}"
        ) from None


def _model_kind(path: Path) -> str:
    """"clip", "clip_vision_proj", "clip_vision" or "auto" from config.json."""
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"unreadable config.json in {path}: {exc}. {_HOW_TO_PROVIDE}") from None
    model_type = config.get("model_type")
    if model_type == "clip":
        return "clip"
    if model_type == "clip_vision_model":
        architectures = config.get("architectures") or []
        return "clip_vision" if architectures == ["CLIPVisionModel"] else "clip_vision_proj"
    return "auto"


def _load_model(path: Path, kind: str) -> Any:
    """from_pretrained(local_files_only=True); missing weights -> ModelNotFoundError."""
    import transformers

    cls = {
        "clip": transformers.CLIPModel,
        "clip_vision_proj": transformers.CLIPVisionModelWithProjection,
        "clip_vision": transformers.CLIPVisionModel,
        "auto": transformers.AutoModel,
    }[kind]
    try:
        model, info = cls.from_pretrained(str(path), local_files_only=True, output_loading_info=True)
    except Exception as exc:
        raise ModelNotFoundError(
            f"cannot load {cls.__name__} from {path}: {type(exc).__name__}: {str(exc)[:300]}. "
            f"{_HOW_TO_PROVIDE}"
        ) from None
    missing = list(info.get("missing_keys") or []) + list(info.get("mismatched_keys") or [])
    if missing:  # these would be randomly initialised: refuse rather than embed noise
        raise ModelNotFoundError(
            f"weights in {path} do not cover {cls.__name__}: missing or mismatched "
            f"{[str(k) for k in missing[:5]]} ({len(missing)} in all). {_HOW_TO_PROVIDE}"
        )
    return model


def _features(model: Any, kind: str, pixel_values: Any) -> Any:
    """One forward pass -> (n, dim) tensor of unnormalised image features."""
    if kind == "clip" or (kind == "auto" and hasattr(model, "get_image_features")):
        out = model.get_image_features(pixel_values=pixel_values)
        # transformers 4.x returns a tensor; 5.x a BaseModelOutputWithPooling whose
        # pooler_output holds the projected features.
        return out if hasattr(out, "dim") else out.pooler_output
    out = model(pixel_values=pixel_values)
    if kind == "clip_vision_proj":
        return out.image_embeds
    pooled = getattr(out, "pooler_output", None)
    if pooled is not None:
        return pooled.flatten(1)
    hidden = out.last_hidden_state
    if hidden.dim() == 4:  # conv feature map (n, c, h, w)
        return hidden.mean(dim=(2, 3))
    return hidden.mean(dim=1)  # tokens (n, seq, hidden)


# --------------------------------------------------------------------------- embed


class ImageEmbedder:
    """A loaded image model: ``embed(images) -> (n, dim) float32``, rows L2-normalised.

    Attributes: ``path`` (resolved model dir), ``fingerprint`` (16 hex, see
    :func:`model_fingerprint`), ``dim`` (embedding width), ``device`` ("cpu",
    "cuda", ...), ``dtype`` (torch dtype of the forward pass), ``batch_size``.
    ``num_threads`` calls ``torch.set_num_threads`` (process-wide).
    """

    def __init__(
        self,
        model_path: str | Path,
        device: str = "auto",
        precision: str = "auto",
        batch_size: int = 32,
        num_threads: int | None = None,
    ) -> None:
        import torch

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.path = resolve_model(str(model_path))
        self.device = _pick_device(device)
        self.dtype = _pick_dtype(precision, self.device)
        self.batch_size = batch_size
        if num_threads:
            torch.set_num_threads(num_threads)
        self.fingerprint = model_fingerprint(self.path)
        self._processor = _load_processor(self.path)
        self._kind = _model_kind(self.path)
        self._model = _load_model(self.path, self._kind).to(device=self.device, dtype=self.dtype).eval()
        self.dim = int(self._embed_chunk([Image.new("RGB", (64, 64))]).shape[1])

    def _embed_chunk(self, images: list[Image.Image]) -> np.ndarray:
        """One batch through processor + model -> (len(images), dim) float32, L2-normalised."""
        import torch

        rgb = [img if img.mode == "RGB" else img.convert("RGB") for img in images]
        pixels = self._processor(images=rgb, return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            feats = _features(self._model, self._kind, pixels.to(self.device, self.dtype))
            feats = torch.nn.functional.normalize(feats.float(), dim=1)
        return feats.cpu().numpy().astype(np.float32, copy=False)

    def embed(self, images: list[Image.Image]) -> np.ndarray:
        """Embed images in chunks of ``batch_size``: (n, dim) float32, unit rows; n == 0 -> (0, dim).

        A row that is not finite (fp16 overflow) is returned as is: check
        ``np.isfinite(out).all(axis=1)`` and record such rows as errors.
        """
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        chunks = [
            self._embed_chunk(images[start : start + self.batch_size])
            for start in range(0, len(images), self.batch_size)
        ]
        return np.concatenate(chunks, axis=0)


_EMBEDDERS: dict[tuple, ImageEmbedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(
    model_path: str,
    device: str = "auto",
    precision: str = "auto",
    batch_size: int = 32,
    num_threads: int | None = None,
) -> ImageEmbedder:
    """Process-wide cached :class:`ImageEmbedder`, so a UDF worker loads each model once."""
    key = (str(model_path), device, precision, batch_size, num_threads)
    with _EMBEDDERS_LOCK:
        embedder = _EMBEDDERS.get(key)
        if embedder is None:
            embedder = ImageEmbedder(model_path, device, precision, batch_size, num_threads)
            _EMBEDDERS[key] = embedder
    return embedder
