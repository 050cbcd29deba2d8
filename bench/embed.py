"""Embedding-stage throughput: the Spark features stage vs a bare torch loop.

One command, prints markdown tables (see bench/RESULTS.md):

    python bench/embed.py                  # 384 images, batch 32
    python bench/embed.py --images 768 --batch-size 16

Model: a CLIP ViT-B/32-sized vision tower with random weights
(CLIPVisionModelWithProjection, hidden 768, 12 layers, 12 heads, patch 32,
image 224, projection 512) saved with save_pretrained plus a CLIPImageProcessor
(resize shortest edge 224, centre crop 224) in a temp dir, loaded by
udfs.embed.ImageEmbedder exactly as the job does (model_type
"clip_vision_model" -> image_embeds).

Images: jobs.corpus.build_corpus (16 real photographs from scikit-image and 12
edits each, JPEG/PNG), repeated to --images rows. A second "large" set
re-encodes the originals at 2048 px on the long side (camera-sized photos) for
the JPEG draft-mode decode comparison.

Measured (all in this invocation, so ratios are meaningful on a shared machine):
- bare loop: ImageEmbedder.embed over the already decoded images in this
  process, torch threads = cores, same batch size. Also the same loop with
  decode + pHash included (the same work as the Spark stage).
- Spark stage: jobs.features.compute_features (repartition + mapInPandas over
  udfs.adapters.compute_features: read, decode once, pHash, embed) on local[2],
  with embedding.num_threads unset (torch default = all cores per worker) and 1.
  Python workers and model loading are warmed up before timing.
- decode (udfs.decode.decode_image) with and without draft_size, and pHash.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import MemorySampler, machine, table  # noqa: E402

MAX_PIXELS = 100_000_000
MAX_BYTES = 64 * 1024 * 1024


# ---------------------------------------------------------------------------- inputs

def save_clip_b32(path: Path, seed: int = 0) -> Path:
    """ViT-B/32-sized CLIP vision tower + projection, random weights, with its processor."""
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.CLIPVisionConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                           num_attention_heads=12, image_size=224, patch_size=32,
                                           projection_dim=512)
    transformers.CLIPVisionModelWithProjection(config).save_pretrained(path)
    processor_cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    processor_cls(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}).save_pretrained(path)
    return path


def build_images(root: Path) -> tuple[list[Path], list[Path]]:
    """(corpus files as written by jobs.corpus, large 2048-px JPEG re-encodes of the originals)."""
    from PIL import Image

    from jobs.corpus import build_corpus, encode_image

    planted = build_corpus(root / "corpus", exact_copies=0, corrupt=False, seed=0)
    files = [root / "corpus" / rel for rel in planted["file"]]
    large = []
    for path in sorted((root / "corpus" / "originals").glob("*.jpg")):
        with Image.open(path) as img:
            img = img.convert("RGB")
            scale = 2048 / max(img.size)
            big = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC)
        out = root / "large" / path.name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(encode_image(big, "JPEG", 92))
        large.append(out)
    return files, large


def repeat_to(items: list, n: int) -> list:
    return [items[i % len(items)] for i in range(n)]


def distinct_copies(files: list[Path], n: int, out: Path) -> list[Path]:
    """n files cycling over `files`, each made a distinct content by a few bytes
    appended after the image data (JPEG/PNG decoders ignore trailing bytes), so
    the job sees n distinct sha256 contents with the decode cost of the originals."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, src in enumerate(repeat_to(files, n)):
        dst = out / f"{i:05d}{src.suffix}"
        dst.write_bytes(src.read_bytes() + f"\0copy{i}".encode())
        paths.append(dst)
    return paths


# ---------------------------------------------------------------------------- kernels

def decode_rate(datas: list[bytes], draft_size: int | None, reps: int = 1) -> tuple[float, float]:
    """(images per CPU-second, mean decoded megapixels) of udfs.decode.decode_image, one thread."""
    from udfs.decode import decode_image

    start = time.process_time()
    pixels = 0
    for _ in range(reps):
        for data in datas:
            img = decode_image(data, MAX_PIXELS, draft_size=draft_size).image
            pixels += img.width * img.height
    cpu = time.process_time() - start
    count = reps * len(datas)
    return count / cpu, pixels / count / 1e6


def phash_rate(images: list) -> float:
    from udfs.hashing import phash64

    start = time.process_time()
    for img in images:
        phash64(img)
    return len(images) / (time.process_time() - start)


def bare_loop(model_dir: Path, images: list, datas: list[bytes], batch_size: int, threads: int) -> dict:
    """ImageEmbedder.embed in this process: over decoded images, and with decode + pHash included."""
    import torch

    from udfs.decode import decode_image
    from udfs.embed import ImageEmbedder
    from udfs.hashing import phash64

    torch.set_num_threads(threads)
    embedder = ImageEmbedder(model_dir, device="cpu", precision="fp32", batch_size=batch_size,
                             num_threads=threads)
    embedder.embed(images[:batch_size])  # warm-up (allocator, oneDNN primitives)
    start, cpu = time.perf_counter(), time.process_time()
    out = embedder.embed(images)
    model_only, model_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert out.shape == (len(images), 512)
    start, cpu = time.perf_counter(), time.process_time()
    decoded = []
    for data in datas:
        img = decode_image(data, MAX_PIXELS).image
        phash64(img)
        decoded.append(img)
    embedder.embed(decoded)
    full, full_cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"model": len(images) / model_only, "full": len(images) / full,
            "model_cpu_ms": 1000 * model_cpu / len(images), "full_cpu_ms": 1000 * full_cpu / len(images)}


# ---------------------------------------------------------------------------- spark

def spark_stage(spark, files: list[Path], model_dir: Path, batch_size: int, num_threads: int | None,
                warm_files: list[Path]) -> dict:
    """images/s of jobs.features.compute_features on local[2], model loading warmed up."""
    import pandas as pd

    from jobs.config import CacheConfig, DecodeConfig, InputConfig
    from jobs.features import compute_features
    from udfs.adapters import EmbedSpec

    spec = EmbedSpec(model_path=str(model_dir), device="cpu", precision="fp32", batch_size=batch_size,
                     num_threads=num_threads)

    def frame(paths: list[Path]):
        rows = [(hashlib.sha256(p.read_bytes()).hexdigest(), str(p)) for p in paths]
        return spark.createDataFrame(pd.DataFrame(rows, columns=["content_sha256", "uri"]),
                                     "content_sha256 string, uri string")

    def run(paths: list[Path]) -> float:
        _, fresh = compute_features(spark, frame(paths), InputConfig(), DecodeConfig(), spec,
                                    CacheConfig(), "bench")
        start = time.perf_counter()
        out = fresh.select("embedding", "decode_error").cache()
        bad = out.where("embedding IS NULL OR decode_error IS NOT NULL").count()  # forces every row
        wall = time.perf_counter() - start
        if bad or out.count() != len(paths):
            errors = [r["decode_error"] for r in out.where("decode_error IS NOT NULL").limit(3).collect()]
            raise RuntimeError(f"{bad} of {len(paths)} rows have no embedding: {errors}")
        out.unpersist()
        return wall

    run(warm_files)  # every Python worker loads the model once
    with MemorySampler() as mem:
        wall = run(files)
    return {"rate": len(files) / wall, "wall_s": wall, "mem": mem.mib(),
            "cpu_ms": 1000 * mem.cpu_s()["total"] / len(files)}


# ---------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=384, help="rows embedded per measurement")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--cores", type=int, default=2, help="local[cores] and the bare loop's torch threads")
    p.add_argument("--draft-size", type=int, default=224)
    p.add_argument("--arrow-batch-rows", type=int, default=256, help="spark.arrow_batch_rows (job default 256)")
    p.add_argument("--workdir", default="")
    args = p.parse_args(argv)

    from PIL import Image

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-embed-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# embed benchmark\n\nmachine: {machine()}\ncommand: python bench/embed.py "
          f"{' '.join(argv if argv is not None else sys.argv[1:])}\nworkdir: {work}", flush=True)
    model_dir = work / "clip-b32"
    if not (model_dir / "config.json").exists():
        save_clip_b32(model_dir)
    files, large = build_images(work)
    rows = distinct_copies(files, args.images, work / "rows")
    datas = [f.read_bytes() for f in rows]
    from udfs.decode import decode_image

    images = [decode_image(d, MAX_PIXELS).image for d in datas]
    sizes = [Image.open(f).size for f in files]
    print(f"{len(files)} distinct corpus files (median {sorted(w * h for w, h in sizes)[len(sizes) // 2] / 1e6:.2f} MP), "
          f"{args.images} rows per run; {len(large)} large JPEGs (2048 px)", flush=True)

    # kernels (one thread)
    jpeg = [d for f, d in zip(rows, datas) if f.suffix == ".jpg"]
    large_datas = repeat_to([f.read_bytes() for f in large], 64)
    kernel_rows = []
    for name, blobs in (("corpus JPEGs as built", jpeg), ("large JPEGs, 2048 px long side", large_datas)):
        full, mp_full = decode_rate(blobs, None)
        draft, mp_draft = decode_rate(blobs, args.draft_size)
        kernel_rows.append({"kernel": f"decode_image, {name}", "full_img_s": full, "full_MP": mp_full,
                            f"draft{args.draft_size}_img_s": draft, f"draft{args.draft_size}_MP": mp_draft,
                            "draft_speedup": draft / full})
    ph = phash_rate(images)
    kernel_rows.append({"kernel": "phash64 (imagehash.phash 8x8) on decoded corpus images", "full_img_s": ph})
    print("\n### Decode and pHash (one thread, images per CPU-second)\n")
    print(table(kernel_rows, ["kernel", "full_img_s", "full_MP", f"draft{args.draft_size}_img_s",
                              f"draft{args.draft_size}_MP", "draft_speedup"]), flush=True)

    # bare loop
    print(f"\nbare loop: {args.cores} torch threads, batch {args.batch_size} ...", flush=True)
    bare = bare_loop(model_dir, images, datas, args.batch_size, args.cores)
    bare1 = bare_loop(model_dir, images[: len(images) // 2], datas[: len(images) // 2], args.batch_size, 1)

    # spark
    from bench.common import spark_session

    spark = spark_session("bench-embed", cores=args.cores, driver_memory="2g",
                          conf={"spark.sql.execution.arrow.maxRecordsPerBatch": str(args.arrow_batch_rows)})
    warm = distinct_copies(files[::-1], 4 * args.cores, work / "warm")
    results = {}
    for threads in (None, 1):
        label = "unset (torch default)" if threads is None else str(threads)
        print(f"spark stage: embedding.num_threads={label} ...", flush=True)
        results[threads] = spark_stage(spark, rows, model_dir, args.batch_size, threads, warm)
    spark.stop()

    ref, ref_cpu = bare["model"], bare["model_cpu_ms"]
    out = [
        {"path": f"bare loop, model only (ImageEmbedder.embed on decoded images, {args.cores} threads)",
         "img_s": ref, "vs_bare": 1.0, "cpu_ms_img": ref_cpu, "vs_bare_cpu": 1.0},
        {"path": f"bare loop, decode + pHash + model ({args.cores} threads)", "img_s": bare["full"],
         "vs_bare": bare["full"] / ref, "cpu_ms_img": bare["full_cpu_ms"], "vs_bare_cpu": ref_cpu / bare["full_cpu_ms"]},
        {"path": "bare loop, model only, 1 thread", "img_s": bare1["model"],
         "vs_bare": bare1["model"] / ref, "cpu_ms_img": bare1["model_cpu_ms"],
         "vs_bare_cpu": ref_cpu / bare1["model_cpu_ms"]},
    ]
    for threads, res in results.items():
        label = f"unset -> {os.cpu_count()} torch threads per worker" if threads is None else f"{threads}"
        out.append({"path": f"Spark local[{args.cores}] compute_features, embedding.num_threads={label}",
                    "img_s": res["rate"], "vs_bare": res["rate"] / ref, "wall_s": res["wall_s"],
                    "cpu_ms_img": res["cpu_ms"], "vs_bare_cpu": ref_cpu / res["cpu_ms"],
                    "workers_mib": res["mem"]["workers"], "worker_max_mib": res["mem"]["worker_max"]})
    print(f"\n### Embedding stage throughput ({args.images} images, batch {args.batch_size}; "
          f"vs_bare = rate / bare model-only rate, same invocation)\n")
    print(table(out, ["path", "img_s", "vs_bare", "cpu_ms_img", "vs_bare_cpu", "wall_s", "workers_mib",
                      "worker_max_mib"]), flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (img_s is wall-clock; cpu_ms_img = CPU ms per image "
          "of all processes involved, stable under other people's load; vs_bare_cpu = bare CPU/img / this CPU/img)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
