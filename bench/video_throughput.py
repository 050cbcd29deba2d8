"""End-to-end throughput of ``dedup run --kind video`` on longer, larger clips, against a bare PyAV decode loop.

    python -m bench.video_throughput --build              # out/video-throughput/corpus (a few minutes)
    python -m bench.video_throughput --profile            # the job, the decode loop, the per-step profile
    python -m bench.video_throughput --no-job --profile   # only the decode loop and the per-step profile

**Corpus** (nothing downloaded): `--files` (24) H.264 MP4s of 30-120 s (scaled so that they
total `--minutes`, 30), 640x360, 960x540 or 1280x720 at 24, 25 or 30 fps, libx264 superfast
CRF 23 with its default GOP and B-frames. Each is a montage of shots of 2-8 s, hard cuts, a slow
eased pan/zoom (bench.video_corpus.render_shot) over a random 16:9 window of a photograph of the
harness's `tune` packages (bench.video_corpus.PHOTOS; the `aside` packages are never read here).
Frames are rendered and encoded one shot at a time (memory: one shot).

**Measure**, in one invocation on the same files and the same cores:

1. ``python -m jobs.dedup run --kind video --input CORPUS --output TMP`` as a child process with
   the shipped defaults (plus ``--set``), a fresh feature cache: wall and CPU seconds of its
   process tree (bench.common.MemorySampler) and its stage times;
2. the bare loop (bench.video_decode: every frame of every file decoded, one process per core,
   no conversion), wall and CPU;
3. ``--profile``: the job's kernel on every file, one thread per file (``cores`` processes), its
   steps in CPU seconds (profile_file): decoding as the job does, the scaled grey conversion of
   the sampled frames, their signatures (udfs.video.frame_signature); and decoding every frame.

Seconds of video per second of wall time per core for both, and the ratio job / bare (issue
14: >= 0.5); CPU seconds of both, and their ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from fractions import Fraction
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from bench import video_corpus as vc
from bench.common import ROOT, MemorySampler, machine

OUT = ROOT / "out" / "video-throughput"
SIZES = ((640, 360), (960, 540), (1280, 720))
FPS = (24, 25, 30)
LENGTH_S = (30.0, 120.0)
SHOT_S = (2.0, 8.0)
TUNE_PACKAGES = tuple(p for p, part in vc.PACKAGE_PART.items() if part == "tune")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- corpus

def plan(files: int, minutes: float, seed: int = 0) -> list[dict]:
    """Per file: name, size, fps, seconds, and its shots as (photo index, seconds, motion); lengths
    drawn in LENGTH_S and scaled (kept inside it) to total `minutes`."""
    rng = np.random.default_rng(seed)
    lengths = rng.uniform(*LENGTH_S, size=files)
    lengths = np.clip(lengths * minutes * 60 / lengths.sum(), *LENGTH_S)
    out = []
    for i, seconds in enumerate(lengths):
        shots, total = [], 0.0
        while total < seconds - 1e-6:
            s = min(float(rng.uniform(*SHOT_S)), seconds - total)
            shots.append((int(rng.integers(1 << 30)), round(s, 3), vc._motion(rng)))
            total += s
        out.append({"name": f"t{i:03d}.mp4", "size": SIZES[i % len(SIZES)], "fps": FPS[int(rng.integers(3))],
                    "seconds": round(float(seconds), 2), "shots": shots})
    return out


_PHOTOS: list[np.ndarray] = []


def _photos() -> list[np.ndarray]:
    if not _PHOTOS:
        for package in TUNE_PACKAGES:
            _PHOTOS.extend(vc.load_photo(p) for p in vc._photo_paths(package))
    return _PHOTOS


def _window(img: np.ndarray, key: int, out_w: int) -> np.ndarray:
    """A random sub-window of a photo (half to all of it), downscaled to ~1.5x the output width."""
    import cv2

    rng = np.random.default_rng(key)
    h, w = img.shape[:2]
    f = rng.uniform(0.5, 1.0)
    ww, hh = max(64, int(w * f)), max(36, int(h * f))
    x0, y0 = int(rng.integers(0, w - ww + 1)), int(rng.integers(0, h - hh + 1))
    crop = img[y0:y0 + hh, x0:x0 + ww]
    scale = min(1.0, 1.5 * out_w / min(ww, hh * 16 / 9))
    if scale < 1:
        crop = cv2.resize(crop, (max(2, round(ww * scale)), max(2, round(hh * scale))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop)


def make_file(args: tuple[dict, str]) -> dict:
    """Render and encode one planned file, one shot at a time."""
    import av

    item, out_dir = args
    photos = _photos()
    path = Path(out_dir) / item["name"]
    w, h = item["size"]
    fps = item["fps"]
    t0 = time.perf_counter()
    frames = 0
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=Fraction(fps))
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "superfast", "crf": "23"}
        for key, seconds, motion in item["shots"]:
            img = _window(photos[key % len(photos)], key, w)
            shot = vc.Shot(cell=None, seconds=seconds, motion=motion)
            n = max(1, round(seconds * fps))
            for img_f in vc.render_shot(img, shot, (w, h), n):
                for p in s.encode(av.VideoFrame.from_ndarray(img_f, format="rgb24")):
                    out.mux(p)
            frames += n
        for p in s.encode():
            out.mux(p)
    return {"file": item["name"], "width": w, "height": h, "fps": fps, "seconds": item["seconds"],
            "frames": frames, "bytes": path.stat().st_size, "build_s": round(time.perf_counter() - t0, 1)}


def build(out_dir: Path, files: int, minutes: float, seed: int = 0, workers: int = 2) -> list[dict]:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    items = plan(files, minutes, seed)
    with Pool(workers) as pool:
        made = pool.map(make_file, [(it, str(out_dir)) for it in sorted(items, key=lambda x: -x["seconds"])],
                        chunksize=1)
    (out_dir.parent / "corpus.json").write_text(json.dumps(sorted(made, key=lambda m: m["file"]), indent=1))
    return made


# ---------------------------------------------------------------------------- measuring

def run_job(corpus: Path, work: Path, sets: list[str]) -> dict:
    import subprocess

    out = work / "result"
    cmd = [sys.executable, "-m", "jobs.dedup", "run", "--kind", "video", "--input", str(corpus), "--output",
           str(out), "--set", f"cache.dir={work / 'cache'}"]
    for s in sets:
        cmd += ["--set", s]
    _log("[video_throughput] " + " ".join(cmd))
    log = work / "job.log"
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        with MemorySampler(interval=0.5, root=proc.pid) as mem:
            rc = proc.wait()
    wall = time.perf_counter() - t0
    if rc != 0:
        raise RuntimeError(f"dedup run failed (exit {rc}):\n" + "\n".join(log.read_text().splitlines()[-30:]))
    summary = json.loads((out / "summary.json").read_text())
    return {"command": " ".join(cmd[1:]), "wall_s": round(wall, 1), "cpu_s": mem.cpu_s(),
            "timings_s": summary.get("timings_s", {}), "counts": summary.get("counts", {})}


def profile_file(path: str) -> dict:
    """The job's decode kernel on one file, one thread, its steps in CPU seconds: decoding as the job
    does (udfs.video._frames: non-reference frames before the next sampled time left undecoded), the
    scaled grey conversion of the sampled frames, their signatures; and decoding every frame."""
    import av
    from av.video.reformatter import VideoReformatter

    from udfs.video import DecodeLimits, _frames, _scaled, frame_signature

    lim = DecodeLimits()
    step = 1.0 / lim.sample_fps
    out = {"decode_s": 0.0, "convert_s": 0.0, "signature_s": 0.0, "sampled": 0, "decode_every_frame_s": 0.0}
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type, s.thread_count = "SLICE", 1
        t0 = time.process_time()
        for _ in c.decode(s):
            pass
        out["decode_every_frame_s"] = time.process_time() - t0
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type, s.thread_count = "SLICE", 1
        size = _scaled(s.codec_context.width, s.codec_context.height)
        scaler = VideoReformatter()
        state = {"start": None, "next": 0.0}
        frames = _frames(c, s, s.codec_context, float(s.time_base), lambda: (state["start"], state["next"]))
        while True:
            t0 = time.process_time()
            frame = next(frames, None)
            out["decode_s"] += time.process_time() - t0
            if frame is None:
                break
            if isinstance(frame, float):
                continue
            t = frame.time
            state["start"] = t if state["start"] is None else state["start"]
            t -= state["start"]
            if t + 1e-6 < state["next"]:
                continue
            while state["next"] <= t + 1e-6:
                state["next"] += step
            t1 = time.process_time()
            gray = scaler.reformat(frame, format="gray", width=size[0], height=size[1]).to_ndarray()
            t2 = time.process_time()
            frame_signature(gray, lim.min_information, lim.min_quality)
            out["convert_s"] += t2 - t1
            out["signature_s"] += time.process_time() - t2
            out["sampled"] += 1
    return out


def profile(files: list[Path], cores: int) -> dict:
    t0 = time.perf_counter()
    with Pool(cores) as pool:
        parts = pool.map(profile_file, [str(p) for p in sorted(files, key=lambda p: -p.stat().st_size)],
                         chunksize=1)
    out = {k: round(sum(p[k] for p in parts), 2) for k in parts[0]}
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    return out


def probe(corpus: Path) -> tuple[list[Path], float]:
    """The corpus's complete files (one whose encoding was cut short does not open) and their seconds."""
    import av

    files, seconds = [], 0.0
    for p in sorted(corpus.glob("*.mp4")):
        try:
            with av.open(str(p)) as c:
                s = c.streams.video[0]
                seconds += float(s.duration * s.time_base)
        except Exception as exc:  # noqa: BLE001 - reported and left out
            _log(f"[video_throughput] {p.name} left out: {exc}")
            continue
        files.append(p)
    return files, seconds


def main(argv: list[str] | None = None) -> int:
    from bench.video_decode import bare_decode

    ap = argparse.ArgumentParser(prog="python -m bench.video_throughput", description=__doc__.split("\n")[0])
    ap.add_argument("--build", action="store_true", help="(re)build the corpus first")
    ap.add_argument("--files", type=int, default=24)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--corpus", type=Path, default=OUT / "corpus")
    ap.add_argument("--cores", type=int, default=2, help="the job's local[*] cores and the decode loop's processes")
    ap.add_argument("--no-job", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    if args.build:
        t = time.perf_counter()
        made = build(args.corpus, args.files, args.minutes)
        _log(f"[video_throughput] built {len(made)} files, {sum(m['seconds'] for m in made):.0f} s of video, "
             f"{sum(m['bytes'] for m in made) / 2**20:.0f} MiB in {time.perf_counter() - t:.0f} s")
    files, video_s = probe(args.corpus)
    res: dict = {"machine": machine(), "files": len(files), "video_s": round(video_s, 1),
                 "mib": round(sum(p.stat().st_size for p in files) / 2**20, 1), "cores": args.cores,
                 "load_avg_start": [round(x, 2) for x in os.getloadavg()]}
    if not args.no_job:
        with tempfile.TemporaryDirectory(prefix="video-throughput-") as tmp:
            job = run_job(args.corpus, Path(tmp), args.set)
        job["video_s_per_s_per_core"] = round(video_s / job["wall_s"] / args.cores, 2)
        res["job"] = job
        _log(f"[video_throughput] job {json.dumps(job)}")
    with MemorySampler(interval=0.5) as mem:
        bare = bare_decode(files, args.cores)
    bare["cpu_s"] = round(mem.cpu_s()["total"], 1)
    res["bare"] = bare
    _log(f"[video_throughput] bare {json.dumps(bare)}")
    if "job" in res:
        res["ratio_wall"] = round(res["job"]["video_s_per_s_per_core"] / bare["video_s_per_s_per_core"], 3)
        res["ratio_cpu"] = round(bare["cpu_s"] / res["job"]["cpu_s"]["total"], 3)
    if args.profile:
        res["profile"] = profile(files, args.cores)
        _log(f"[video_throughput] profile {json.dumps(res['profile'])}")
    res["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    dest = args.json or OUT / "result.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
