"""The throughput yardstick of the video kind: a bare PyAV decode loop over the same files.

    python -m bench.video_decode PART_DIR [--cores 2]

Every frame of each file's first video stream is decoded (``container.decode(stream)``, no
conversion, no hashing), one process per core over the part's files (a ``multiprocessing``
pool of ``cores`` processes, largest files first). Reports seconds of video decoded per second
of wall time per core: the ceiling the job's end-to-end rate is compared with (issue 14 asks the
job for >= 0.5x of it, on the same files and the same number of cores, in the same run).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path


def decode_all(path: str) -> tuple[int, float, str | None]:
    """(frames decoded, seconds of video by the last frame's pts + one frame, error or None)."""
    import av

    frames, last, step = 0, 0.0, 0.0
    try:
        with av.open(path) as c:
            s = c.streams.video[0]
            s.thread_type = "SLICE"   # no frame threads: one core per process
            s.thread_count = 1
            tb = float(s.time_base)
            start = float(s.start_time or 0) * tb
            rate = float(s.average_rate or 25)
            step = 1 / rate
            for f in c.decode(s):
                frames += 1
                if f.pts is not None:
                    last = max(last, f.pts * tb - start)
    except Exception as exc:  # noqa: BLE001 - a failure is reported, not hidden
        return frames, last + step if frames else 0.0, f"{type(exc).__name__}: {exc}"
    return frames, last + step if frames else 0.0, None


def bare_decode(files: list[Path], cores: int) -> dict:
    """Decode every file with `cores` processes; totals and the rate per core."""
    order = sorted(files, key=lambda p: -p.stat().st_size)
    t0 = time.perf_counter()
    with Pool(cores) as pool:
        out = pool.map(decode_all, [str(p) for p in order], chunksize=1)
    wall = time.perf_counter() - t0
    seconds = sum(o[1] for o in out)
    return {"files": len(files), "cores": cores, "wall_s": round(wall, 2), "frames": sum(o[0] for o in out),
            "video_s": round(seconds, 1), "errors": sum(1 for o in out if o[2]),
            "video_s_per_s_per_core": round(seconds / wall / cores, 2) if wall else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.video_decode", description=__doc__.split("\n")[0])
    ap.add_argument("part", type=Path)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args(argv)
    files = [p for p in sorted(args.part.rglob("*")) if p.suffix in (".mp4", ".webm", ".avi", ".mkv", ".mov")]
    print(json.dumps(bare_decode(files, args.cores)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
