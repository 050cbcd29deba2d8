"""Whole-job throughput on a generated corpus: hash-only and with embeddings.

One command, prints markdown tables (see bench/RESULTS.md):

    python -m bench.pipeline                                  # 20,000 images, hash-only + ViT-B/32
    python -m bench.pipeline --images 20000 --model small --out out/pipeline-bench
    python -m bench.pipeline --model none                     # hash-only run only

Corpus (generated once, cached under OUT/corpus-N-seedS/, no download): the 16
photographs bundled with scikit-image (jobs.corpus.ORIGINAL_NAMES) cut into
distinct crops at random positions, scales, aspect ratios and the 8
orientations (rot90 x mirror), resized to 256-640 px on the long side and
saved as JPEG q80-95 (10% PNG): 60% of the files. A crop is accepted only if
its pHash is more than DISTINCT_BITS bits from every crop accepted before and
it is not flat, so originals are distinct by construction. Then 35% planted
near-duplicates (jobs.corpus edits of a random original: resize 50/25%, JPEG
q30, PNG, grayscale, brightness, contrast, noise, 90% crop, 5-degree
rotation) and 5% byte-identical copies. planted.csv holds the ground truth.

Measured in one invocation (so ratios hold on a shared machine):
- bare loop: one process reads, sha256s, decodes (udfs.decode.decode_image)
  and pHashes (udfs.hashing.phash64) every file; with embeddings, the same
  plus ImageEmbedder.embed (torch threads = cores) over a sample of files.
- the job: `python -m jobs.dedup run` as a child process, local[cores],
  the shipped default config (hash-only), then with embedding.enabled and
  the model below. Stage times come from its summary.json (timings_s); CPU
  seconds and peak RSS of the whole process tree are sampled from /proc.

Models (random weights, saved with save_pretrained + a CLIPImageProcessor,
224 px, loaded by the job exactly like a real checkpoint):
  vitb32  CLIP ViT-B/32-sized vision tower (hidden 768, 12 layers, 12 heads)
  small   ViT-S/32-sized (hidden 384, 12 layers, 6 heads), ~4x cheaper
  tiny    the test-suite size (hidden 32, 2 layers, 32 px input): job overhead only
  none    skip the embedding run
Random weights give throughput, not match quality; the embedding counts are
reported but mean nothing about a real CLIP.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, MemorySampler, machine, table  # noqa: E402

CORPUS_VERSION = 1
DISTINCT_BITS = 16          # accepted crops differ from each other by more than this (job decides at 10)
MIN_BITS_SET = 16           # the job ignores pHashes with fewer bits set (flat images)
MIN_STD = 12.0              # grey-level standard deviation below which a crop is flat
ORIGINAL_SHARE, COPY_SHARE = 0.60, 0.05
PLANTED_EDITS = ("resize_50", "resize_25", "jpeg_q30", "png", "grayscale", "brighten_30", "contrast_150",
                 "noise_5", "crop_90", "rotate_5")
MAX_PIXELS = 100_000_000
MODELS = {
    "vitb32": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                   image_size=224, patch_size=32, projection_dim=512),
    "small": dict(hidden_size=384, intermediate_size=1536, num_hidden_layers=12, num_attention_heads=6,
                  image_size=224, patch_size=32, projection_dim=512),
    "tiny": dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2,
                 image_size=32, patch_size=8, projection_dim=16),
}
STAGES = ("ingest", "features", "candidates", "clusters", "manifest")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- corpus

def load_photos() -> list[tuple[str, np.ndarray]]:
    """(name, HxWx3 uint8) of the scikit-image photographs the example corpus uses."""
    from jobs.corpus import ORIGINAL_NAMES, load_original

    return [(name, np.asarray(load_original(name))) for name in ORIGINAL_NAMES]


def random_crop(photo: np.ndarray, rng: np.random.Generator):
    """One crop of `photo`: random window (25-90% of the short side, aspect 2:3..3:2), one of
    8 orientations, resized to 256-640 px on the long side. Returns a PIL RGB image."""
    from PIL import Image

    h, w = photo.shape[:2]
    side = rng.uniform(0.25, 0.9) * min(h, w)
    aspect = rng.choice([1.0, 4 / 3, 3 / 4, 3 / 2, 2 / 3])
    cw, ch = min(w, round(side * aspect ** 0.5)), min(h, round(side / aspect ** 0.5))
    x, y = rng.integers(0, w - cw + 1), rng.integers(0, h - ch + 1)
    tile = photo[y:y + ch, x:x + cw]
    turn = int(rng.integers(8))
    tile = np.rot90(tile, turn % 4)
    if turn >= 4:
        tile = tile[:, ::-1]
    long_side = int(rng.integers(256, 641))
    scale = long_side / max(tile.shape[:2])
    size = (max(1, round(tile.shape[1] * scale)), max(1, round(tile.shape[0] * scale)))
    return Image.fromarray(np.ascontiguousarray(tile)).resize(size, Image.Resampling.BICUBIC)


def _is_distinct(img, phash: int, accepted: np.ndarray, count: int) -> bool:
    from udfs.hashing import hamming

    if np.asarray(img.convert("L"), dtype=np.float32).std() < MIN_STD:
        return False
    if (phash & (2**64 - 1)).bit_count() < MIN_BITS_SET:
        return False
    return count == 0 or int(hamming(accepted[:count], np.array([phash], dtype=np.int64)).min()) > DISTINCT_BITS


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def plan_derived(n_orig: int, n_copy: int, n_edit: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(codes, starts): original i owns codes[starts[i]:starts[i + 1]], each an index into
    PLANTED_EDITS or -1 for an exact copy. A seeded draw: most originals own none, some several."""
    codes = rng.permutation(np.r_[np.full(n_copy, -1), rng.integers(len(PLANTED_EDITS), size=n_edit)])
    owners = np.bincount(rng.integers(n_orig, size=len(codes)), minlength=n_orig)
    return codes, np.r_[0, np.cumsum(owners)]


def pick_crop(photos: list, weights: np.ndarray, accepted: np.ndarray, count: int,
              rng: np.random.Generator) -> tuple[str, object, int, int]:
    """(photo name, crop, its pHash, tries): the first random crop distinct from accepted[:count]."""
    from udfs.hashing import phash64

    for tries in range(1, 1001):
        name, photo = photos[rng.choice(len(photos), p=weights)]
        img = random_crop(photo, rng)
        h = phash64(img)
        if _is_distinct(img, h, accepted, count):
            return name, img, h, tries
    raise RuntimeError(f"no distinct crop in 1000 tries after {count} originals")


def write_derived(root: Path, rel_stem: str, data: bytes, ext: str, codes: np.ndarray, seed: int) -> list[tuple]:
    """Write the copies and edits of one original file `data`; returns (file, edit) rows."""
    from jobs.corpus import COPY_EDIT, EDIT_FORMATS, apply_edit, encode_image
    from udfs.decode import decode_image

    rows, decoded = [], None
    group = rel_stem.rsplit("/", 1)[-1]
    folder = rel_stem.split("/")[1]
    for k, code in enumerate(codes):
        if code < 0:
            rel = f"copies/{folder}/{group}__copy{k}.{ext}"
            _write(root, rel, data)
            rows.append((rel, COPY_EDIT))
            continue
        edit = PLANTED_EDITS[code]
        if decoded is None:
            decoded = decode_image(data, MAX_PIXELS).image
        out_ext, fmt, quality = EDIT_FORMATS.get(edit, ("jpg", "JPEG", 90))
        rel = f"edited/{folder}/{group}__{k}_{edit}.{out_ext}"
        _write(root, rel, encode_image(apply_edit(decoded, edit, seed=seed, original=f"{group}-{k}"), fmt, quality))
        rows.append((rel, edit))
    return rows


def build_corpus(root: Path, images: int, seed: int) -> dict:
    """Write `images` files under root (layout in the module docstring); returns the stats.

    Deterministic for (images, seed). corpus.json is written last: it marks a complete corpus.
    """
    from jobs.corpus import ORIGINAL_EDIT, encode_image

    rng = np.random.default_rng(seed)
    photos = load_photos()
    weights = np.sqrt([p.shape[0] * p.shape[1] for _, p in photos])
    weights /= weights.sum()
    n_orig, n_copy = round(images * ORIGINAL_SHARE), round(images * COPY_SHARE)
    codes, starts = plan_derived(n_orig, n_copy, images - n_orig - n_copy, rng)
    accepted = np.zeros(n_orig, dtype=np.int64)
    rows, tries, start = [], 0, time.perf_counter()
    for i in range(n_orig):
        name, img, accepted[i], t = pick_crop(photos, weights, accepted, i, rng)
        tries += t
        group = f"o{i:05d}"
        ext = "png" if rng.random() < 0.10 else "jpg"
        data = encode_image(img, "PNG") if ext == "png" else encode_image(img, "JPEG", int(rng.integers(80, 96)))
        stem = f"originals/{i // 1000:03d}/{group}"
        _write(root, f"{stem}.{ext}", data)
        rows.append((f"{stem}.{ext}", group, ORIGINAL_EDIT, name))
        derived = write_derived(root, stem, data, ext, codes[starts[i]:starts[i + 1]], seed)
        rows += [(rel, group, edit, name) for rel, edit in derived]
        if (i + 1) % 2000 == 0:
            _log(f"corpus: {i + 1}/{n_orig} originals, {len(rows)} files, {time.perf_counter() - start:.0f} s")
    planted = pd.DataFrame(rows, columns=["file", "group", "edit", "photo"])
    planted.to_csv(root / "planted.csv", index=False, lineterminator="\n")
    sizes = np.array([(root / f).stat().st_size for f in planted["file"]])
    stats = {"version": CORPUS_VERSION, "images": images, "seed": seed, "originals": n_orig, "copies": n_copy,
             "edits": images - n_orig - n_copy, "crop_tries": tries, "build_s": round(time.perf_counter() - start, 1),
             "bytes_total": int(sizes.sum()), "bytes_median": int(np.median(sizes)),
             "bytes_p10": int(np.percentile(sizes, 10)), "bytes_p90": int(np.percentile(sizes, 90))}
    (root / "corpus.json").write_text(json.dumps(stats, indent=1) + "\n")
    return stats


def ensure_corpus(out: Path, images: int, seed: int) -> tuple[Path, dict]:
    """The cached corpus for (images, seed), built if missing or incomplete."""
    root = out / f"corpus-{images}-seed{seed}"
    marker = root / "corpus.json"
    if marker.exists():
        stats = json.loads(marker.read_text())
        if stats.get("version") == CORPUS_VERSION:
            return root, {**stats, "cached": True}
    if root.exists():
        shutil.rmtree(root)
    _log(f"building corpus: {images} images, seed {seed} -> {root}")
    return root, {**build_corpus(root, images, seed), "cached": False}


# ---------------------------------------------------------------------------- model

def save_model(path: Path, size: str, seed: int = 0) -> Path:
    """CLIP vision tower + projection of the named size, random weights, with its processor."""
    import torch
    import transformers

    if (path / "config.json").exists():
        return path
    torch.manual_seed(seed)
    config = transformers.CLIPVisionConfig(**MODELS[size])
    transformers.CLIPVisionModelWithProjection(config).save_pretrained(path)
    px = MODELS[size]["image_size"]
    processor_cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    processor_cls(size={"shortest_edge": px}, crop_size={"height": px, "width": px}).save_pretrained(path)
    return path


# ---------------------------------------------------------------------------- bare loop

def bare_hash_loop(files: list[Path]) -> dict:
    """Seconds (wall, CPU) of read + sha256 + decode + pHash over `files`, one process."""
    from udfs.decode import DecodeError, decode_image
    from udfs.hashing import phash64

    start, cpu, failed = time.perf_counter(), time.process_time(), 0
    for path in files:
        data = path.read_bytes()
        hashlib.sha256(data).digest()
        try:
            phash64(decode_image(data, MAX_PIXELS).image)
        except DecodeError:
            failed += 1
    return {"images": len(files), "wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu,
            "failed": failed}


def bare_embed_loop(files: list[Path], model_dir: Path, batch_size: int, threads: int) -> dict:
    """Seconds (wall, CPU) of read + sha256 + decode + pHash + embed over `files`, one process,
    model loaded and warmed up before timing."""
    import torch

    from udfs.decode import decode_image
    from udfs.embed import ImageEmbedder
    from udfs.hashing import phash64

    torch.set_num_threads(threads)
    embedder = ImageEmbedder(model_dir, device="cpu", precision="fp32", batch_size=batch_size,
                             num_threads=threads)
    start, cpu = time.perf_counter(), time.process_time()
    warm = [decode_image(f.read_bytes(), MAX_PIXELS).image for f in files[:batch_size]]
    embedder.embed(warm)
    start, cpu = time.perf_counter(), time.process_time()
    for lo in range(0, len(files), batch_size):
        batch = []
        for path in files[lo:lo + batch_size]:
            data = path.read_bytes()
            hashlib.sha256(data).digest()
            img = decode_image(data, MAX_PIXELS).image
            phash64(img)
            batch.append(img)
        embedder.embed(batch)
    return {"images": len(files), "wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu}


# ---------------------------------------------------------------------------- the job

def run_job(corpus: Path, output: Path, overrides: list[str], log_path: Path, cores: int) -> dict:
    """`python -m jobs.dedup run` as a child; returns summary.json plus wall, CPU and peak RSS."""
    argv = [sys.executable, "-m", "jobs.dedup", "run", "--input", str(corpus), "--output", str(output),
            "--overwrite", "--set", f"spark.master=local[{cores}]"]
    for item in overrides:
        argv += ["--set", item]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYSPARK_PYTHON": sys.executable}
    load0 = os.getloadavg()[0]
    start = time.perf_counter()
    with open(log_path, "w") as log, MemorySampler(interval=0.5) as mem:
        proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    if proc.returncode == 0:
        summary = json.loads((output / "summary.json").read_text())
    else:  # keep what the log says: the stages that finished, and why it stopped
        _log(f"job failed with exit code {proc.returncode}: see {log_path}")
        summary = {"failed": f"exit code {proc.returncode}, see {log_path.name}",
                   "timings_s": stages_from_log(log_path), "counts": {}}
    return {**summary, "path": str(output), "wall_s": wall, "cpu": mem.cpu_s(), "mem": mem.mib(),
            "load": (load0, os.getloadavg()[0])}


def stages_from_log(log_path: Path) -> dict:
    """{stage: seconds} of the "[stage] done in X s" lines of a job's log, and the wall time to its
    last line as "total" (for a run that failed before writing summary.json)."""
    import re

    text = log_path.read_text(errors="replace")
    done = {m[1]: float(m[2]) for m in re.finditer(r"\[(\w+)\] done in ([\d.]+) s", text)}
    return {**done, "total": sum(done.values())}


def planted_recall(output: Path, planted: pd.DataFrame) -> dict:
    """From the manifest's cluster_id: planted copies found in their original's cluster, per edit,
    and clusters that merge different originals (false merges)."""
    manifest = pd.read_parquet(output / "manifest", columns=["item_id", "cluster_id"])
    m = planted.merge(manifest, left_on="file", right_on="item_id", how="left")
    home = m[m["edit"] == "original"].set_index("group")["cluster_id"]
    dups = m[m["edit"] != "original"]
    found = dups["cluster_id"].notna() & (dups["cluster_id"].to_numpy() == home.reindex(dups["group"]).to_numpy())
    groups = m.dropna(subset=["cluster_id"]).groupby("cluster_id")["group"].nunique()
    return {"planted": len(dups), "found": int(found.sum()),
            "per_edit": found.groupby(dups["edit"]).mean().round(3).to_dict(),
            "clusters": len(groups), "mixed_clusters": int((groups > 1).sum()),
            "originals_in_mixed": int(groups[groups > 1].sum())}


# ---------------------------------------------------------------------------- report

def stage_table(summary: dict) -> str:
    """Markdown: seconds and share of each job stage, from summary.json's timings_s."""
    timings = summary["timings_s"]
    total = timings["total"]
    rows = [{"stage": s, "s": timings.get(s), "share": f"{100 * timings.get(s, 0) / total:.0f}%"}
            for s in STAGES if s in timings]
    if summary.get("failed"):
        rows.append({"stage": f"FAILED after these stages ({summary['failed']})", "s": total})
    else:
        rows.append({"stage": "job total (summary.json)", "s": total, "share": "100%"})
    rows.append({"stage": "child process wall (+ JVM start and stop)", "s": summary["wall_s"]})
    return table(rows, ["stage", "s", "share"])


def summary_row(label: str, run: dict, images: int, ref: dict) -> dict:
    """One row of the summary table: the job's rate and counts against its bare-loop reference."""
    counts = run["counts"]
    if run.get("failed"):
        return {"run": f"{label}: FAILED ({run['failed']})", "cpu_s": run["cpu"]["total"],
                "jvm_mib": run["mem"]["jvm"], "workers_mib": run["mem"]["workers"],
                "load": f"{run['load'][0]:.1f}/{run['load'][1]:.1f}"}
    per_img = run["timings_s"]["total"] / images
    return {"run": label, "job_s": run["timings_s"]["total"], "img_s": images / run["timings_s"]["total"],
            "cpu_s": run["cpu"]["total"], "keep": counts["keep"], "drop": counts["drop"], "error": counts["error"],
            "bare_img_s": ref["images"] / ref["wall_s"],
            "x_bare_wall": per_img / (ref["wall_s"] / ref["images"]),
            "x_bare_cpu": (run["cpu"]["total"] / images) / (ref["cpu_s"] / ref["images"]),
            "jvm_mib": run["mem"]["jvm"], "workers_mib": run["mem"]["workers"],
            "load": f"{run['load'][0]:.1f}/{run['load'][1]:.1f}"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=20000, help="corpus size (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="out/pipeline-bench", help="corpus cache, model and job outputs")
    p.add_argument("--model", choices=["vitb32", "small", "tiny", "none"], default="vitb32",
                   help="embedding run's model (random weights); none: hash-only run only")
    p.add_argument("--cores", type=int, default=2, help="local[cores]; torch threads of the bare embed loop")
    p.add_argument("--batch-size", type=int, default=32, help="embedding.batch_size and the bare loop's")
    p.add_argument("--bare-images", type=int, default=0, help="files in the bare hash loop (0: all)")
    p.add_argument("--bare-embed-images", type=int, default=512, help="files in the bare embed loop")
    p.add_argument("--embed-set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra --set for the embedding run (e.g. embedding.threshold=0.99)")
    args = p.parse_args(argv)

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    print(f"# pipeline benchmark\n\nmachine: {machine()}\ncommand: python -m bench.pipeline "
          f"{' '.join(argv if argv is not None else sys.argv[1:])}", flush=True)
    corpus, stats = ensure_corpus(out, args.images, args.seed)
    planted = pd.read_csv(corpus / "planted.csv")
    files = [corpus / f for f in planted["file"]]
    print(f"corpus: {len(files)} files ({stats['originals']} distinct crops, {stats['edits']} edits, "
          f"{stats['copies']} exact copies), {stats['bytes_total'] / 2**20:.0f} MiB, median "
          f"{stats['bytes_median'] / 1024:.0f} KiB (p10 {stats['bytes_p10'] / 1024:.0f}, p90 "
          f"{stats['bytes_p90'] / 1024:.0f}); {'cached' if stats['cached'] else 'built'} "
          f"(build {stats['build_s']} s, {stats['crop_tries']} crops tried)", flush=True)

    sample = files if not args.bare_images else files[:: max(1, len(files) // args.bare_images)][: args.bare_images]
    _log(f"bare loop: read + sha256 + decode + pHash over {len(sample)} files ...")
    bare = bare_hash_loop(sample)

    runs, refs = {}, {}
    _log("job: hash-only (shipped default config) ...")
    runs["hash-only"] = run_job(corpus, out / "result-hash", [], out / "job-hash.log", args.cores)
    refs["hash-only"] = bare
    if args.model != "none":
        model_dir = save_model(out / f"model-{args.model}", args.model)
        step = max(1, len(files) // args.bare_embed_images)
        embed_sample = files[::step][: args.bare_embed_images]
        _log(f"bare loop: + {args.model} embeddings over {len(embed_sample)} files ...")
        refs["embed"] = bare_embed_loop(embed_sample, model_dir, args.batch_size, args.cores)
        _log(f"job: embeddings ({args.model}) ...")
        overrides = ["embedding.enabled=true", f"embedding.model={model_dir}", "embedding.device=cpu",
                     f"embedding.batch_size={args.batch_size}", *args.embed_set]
        runs["embed"] = run_job(corpus, out / f"result-{args.model}", overrides, out / f"job-{args.model}.log",
                                args.cores)

    n = len(files)
    for label, run in runs.items():
        name = label if label == "hash-only" else f"embeddings, model {args.model} (random weights)"
        print(f"\n### {name}: stage seconds (summary.json timings_s), {n} images\n")
        print(stage_table(run))
    rows = [summary_row(label if label == "hash-only" else f"embed ({args.model})", run, n, refs[label])
            for label, run in runs.items()]
    print(f"\n### Summary ({n} images; x_bare = job seconds per image / bare loop seconds per image, "
          "same invocation)\n")
    print(table(rows, ["run", "job_s", "img_s", "cpu_s", "keep", "drop", "error", "bare_img_s", "x_bare_wall",
                       "x_bare_cpu", "jvm_mib", "workers_mib", "load"]))
    print(f"\nbare hash loop: {bare['images']} files, {bare['wall_s']:.1f} s wall, {bare['cpu_s']:.1f} s CPU, "
          f"{bare['failed']} failed")
    if "embed" in refs:
        r = refs["embed"]
        print(f"bare embed loop ({args.model}, {args.cores} torch threads, batch {args.batch_size}): {r['images']} "
              f"files, {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, {r['images'] / r['wall_s']:.1f} img/s")
    print("\n### Planted duplicates (from each run's manifest)\n")
    quality = []
    for label, run in runs.items():
        if run.get("failed"):
            continue
        res = planted_recall(Path(run["path"]), planted)
        quality.append({"run": label, "planted": res["planted"], "found": res["found"],
                        "recall": res["found"] / res["planted"], "clusters": res["clusters"],
                        "mixed_clusters": res["mixed_clusters"], "originals_in_mixed": res["originals_in_mixed"],
                        **res["per_edit"]})
    print(table(quality, ["run", "planted", "found", "recall", "clusters", "mixed_clusters", "originals_in_mixed",
                          "exact_copy", *PLANTED_EDITS]))
    print("\nfound: in the same cluster as its original; mixed_clusters: clusters holding more than one "
          "original's files (crops of one photograph can be true near-duplicates of each other too)")
    load_end = os.getloadavg()
    print(f"\n1-min load average: {load_start[0]:.2f} before, {load_end[0]:.2f} after "
          f"(5-min {load_start[1]:.2f} / {load_end[1]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
