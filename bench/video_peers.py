"""Peers of the video kind: hash every file of a corpus part, one method per call (a child process).

    python -m bench.video_peers --method baseline --part PART_DIR --out hashes.json
    PEERS/bin/python -m bench.video_peers --method tmk --part PART_DIR --out hashes.json

``baseline`` and the throughput loop run in the project's venv (PyAV + ImageHash). ``tmk``
(perception) and ``videohash`` run in a separate venv (``bench/video.py --peers-python``;
made by ``python -m bench.video --install-peers``): perception pins opencv-contrib 4.x, which
would replace the project's own cv2.

Methods (hashes written as JSON: file -> hash, or null on an error with the reason in ``errors``):

- ``baseline``: pHash (ImageHash, 64 bits) of frames sampled at 1 fps (PyAV, by pts), the bitwise
  mean (majority) of them: one 64-bit hash per video, compared by Hamming distance;
- ``videohash`` (videohash 3.x, ffmpeg): its 64-bit hash (a collage of frames at 1 fps, wavelet hash
  and dominant colours), compared by Hamming distance; the library's ``is_similar`` threshold is
  15% of the bits (<= 10);
- ``tmk`` (perception 0.9, Facebook's TMK+PDQF scheme with PHashF frames at 15 fps): the L1 vector
  (mean frame feature, cosine) and the L2 temporal match kernel; a pair matches when L1 cosine
  similarity and L2 score are both >= 0.7 (ThreatExchange TMK's default level-1/level-2 thresholds);
  the pairs (L1 >= 0.7 and their min score) are written under ``pairs``, the vectors are not.

``--workers`` processes share the files; the wall seconds spent are returned (``wall_s``).
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def files_of(part: Path) -> list[str]:
    import csv

    with open(part / "truth.csv", newline="") as fh:
        return [row["file"] for row in csv.DictReader(fh)]


def baseline_hash(path: Path, fps: float = 1.0) -> str:
    """Majority of the 64-bit pHashes of frames at `fps` (by pts); hex."""
    import av
    import imagehash

    bits = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        tb = float(s.time_base)
        start = float(s.start_time or 0) * tb
        nxt = 0.0
        for f in c.decode(s):
            t = (f.pts or 0) * tb - start
            if t + 1e-6 < nxt:
                continue
            nxt += 1.0 / fps
            bits.append(imagehash.phash(f.to_image()).hash.ravel())
    if not bits:
        raise ValueError("no frames")
    mean = np.mean(bits, axis=0) >= 0.5
    return "%016x" % int("".join("1" if b else "0" for b in mean), 2)


def videohash_hash(path: Path) -> str:
    from PIL import Image

    if not hasattr(Image, "ANTIALIAS"):   # videohash 3.0.1 predates Pillow 10, which dropped the alias
        Image.ANTIALIAS = Image.Resampling.LANCZOS
    from videohash import VideoHash

    with tempfile.TemporaryDirectory() as tmp:
        h = VideoHash(path=str(path), storage_path=tmp + "/")   # the library wants a trailing slash
        return h.hash_hex[2:] if h.hash_hex.startswith("0x") else h.hash_hex


def tmk_hash(path: Path, hashers) -> dict:
    """The TMK L1 and L2 vectors of one file, base64 float32."""
    l1, l2 = hashers
    v1 = l1.compute(str(path), hash_format="vector")
    v2 = l2.compute(str(path), hash_format="vector")
    enc = lambda v: base64.b64encode(np.asarray(v, np.float32).tobytes()).decode()   # noqa: E731
    return {"l1": enc(v1), "l2": enc(v2)}


def tmk_pairs(hashes: dict[str, dict | None], floor: float = 0.7) -> list[list]:
    """[file_a, file_b, min(L1 cosine, L2 score)] for the pairs whose L1 cosine >= floor."""
    files = [f for f, h in hashes.items() if h]
    if not files:
        return []
    dec = lambda s: np.frombuffer(base64.b64decode(s), np.float32)   # noqa: E731
    l1 = np.stack([dec(hashes[f]["l1"]) for f in files])
    l2 = [dec(hashes[f]["l2"]) for f in files]
    scores = tmk_scores(l1, l2, tmk_hashers()[1], floor)
    return [[files[i], files[j], round(v, 4)] for (i, j), v in sorted(scores.items())]


def tmk_hashers():
    from perception.hashers import TMKL1, TMKL2

    return TMKL1(), TMKL2()


def tmk_scores(l1: np.ndarray, l2: list[np.ndarray], hasher, floor: float = 0.7) -> dict[tuple[int, int], float]:
    """(i, j) -> min(L1 cosine, L2 score) for pairs whose L1 cosine >= floor (two-level TMK)."""
    n = len(l2)
    x = l1 / np.maximum(np.linalg.norm(l1, axis=1, keepdims=True), 1e-9)
    cos = x @ x.T
    out = {}
    shape = (len(hasher.T), 2 * hasher.m, hasher.frame_hasher.hash_length)
    for i in range(n):
        for j in np.flatnonzero(cos[i, i + 1:] >= floor) + i + 1:
            # perception's own TMKL2 distance (1 - this score): offset 0 only
            s = float(np.max(hasher._score_pair(l2[i].reshape(shape), l2[int(j)].reshape(shape), offsets=None,
                                                normalization=hasher.normalization)))
            out[(i, int(j))] = min(float(cos[i, j]), s)
    return out


_HASHERS = None


def hash_one(args: tuple[str, Path, str]) -> tuple[str, object, str | None]:
    """(file, hash or None, error or None) for one file."""
    global _HASHERS
    method, part, f = args
    try:
        if method == "baseline":
            return f, baseline_hash(part / f), None
        if method == "videohash":
            return f, videohash_hash(part / f), None
        if method == "tmk":
            _HASHERS = _HASHERS or tmk_hashers()
            return f, tmk_hash(part / f, _HASHERS), None
        raise KeyError(method)
    except Exception as exc:  # noqa: BLE001 - a peer's failure on a file is data
        return f, None, f"{type(exc).__name__}: {str(exc)[:200]}"


def run(method: str, part: Path, workers: int = 1) -> dict:
    """Hash every file of the part with `workers` processes (one file per task)."""
    from multiprocessing import Pool

    tasks = [(method, part, f) for f in files_of(part)]
    t0 = time.perf_counter()
    if workers > 1:
        with Pool(workers) as pool:
            out = pool.map(hash_one, tasks, chunksize=1)
    else:
        out = [hash_one(t) for t in tasks]
    hashes = {f: h for f, h, _ in out}
    res = {"method": method, "workers": workers, "errors": {f: e for f, _, e in out if e}}
    if method == "tmk":   # the vectors are large (64k floats for L2): keep the scored pairs only
        res["pairs"] = tmk_pairs(hashes)
        hashes = {f: (None if h is None else "tmk") for f, h in hashes.items()}
    res.update({"hashes": hashes, "wall_s": round(time.perf_counter() - t0, 1)})
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.video_peers", description=__doc__.split("\n")[0])
    ap.add_argument("--method", choices=("baseline", "videohash", "tmk"), required=True)
    ap.add_argument("--part", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    res = run(args.method, args.part, args.workers)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res) + "\n")
    print(json.dumps({"method": args.method, "files": len(res["hashes"]), "errors": len(res["errors"]),
                      "wall_s": res["wall_s"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
