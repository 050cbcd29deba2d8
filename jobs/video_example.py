"""The built-in video example corpus (`dedup example --kind video`), generated on the fly with PyAV.

Each original is a few seconds of a camera panning over procedurally generated
textured pictures, one picture per shot, with hard cuts between shots. Planted
copies (`planted.csv`: file, original, edit, as the other kinds' examples): a
byte-identical copy, a re-encode (another codec and container), a rescale to
half size, a trim (an excerpt without the first and last second), a mirror
image, a letterboxed copy, a centre crop keeping 90% of each side, a caption
box over a corner, a 1.5x speed-up. Negatives that must stay apart: the
same shots in another order, a static picture, a black clip, two unrelated
clips that share only their first shot (an intro). Broken files: empty, truncated,
audio only, not a video. Clips are small (160x96 px, 24 fps) so the corpus
builds and deduplicates in seconds.
"""
from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

WIDTH, HEIGHT, FPS = 160, 96, 24
SHOT_S = 2.0             # seconds per shot
TEXTURE = 320            # side of each shot's generated picture, pixels
PAN_PX_PER_S = 24.0      # camera speed over the picture

Frames = Callable[[float], np.ndarray]  # time (s) -> (HEIGHT, WIDTH, 3) uint8


def texture(seed: int, side: int = TEXTURE) -> np.ndarray:
    """A textured colour picture (side, side, 3) uint8: random sinusoids and soft blobs, seeded."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    img = np.zeros((side, side, 3), np.float32)
    for _ in range(7):
        fx, fy, phase = rng.uniform(1, 9), rng.uniform(1, 9), rng.uniform(0, 6.3)
        img += np.sin(2 * np.pi * (fx * x + fy * y) + phase)[..., None] * rng.uniform(0.2, 1.0, 3)
    for _ in range(12):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.03, 0.15)
        img += np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None] * rng.uniform(-2, 2, 3)
    img -= img.min()
    return (255 * img / max(img.max(), 1e-6)).astype(np.uint8)


def panning_shots(seeds: list[int]) -> Frames:
    """A clip of one shot per seed: the camera moves over that seed's picture (in a direction the seed
    chooses, so a shot looks the same in every clip that uses it), hard cuts between shots."""
    from PIL import Image

    pictures = [texture(s) for s in seeds]
    directions = [np.random.default_rng(s + 1000).uniform(0, 2 * np.pi) for s in seeds]
    cw, ch = 2 * WIDTH - 40, 2 * HEIGHT - 24  # the camera's window on the picture

    def frame(t: float) -> np.ndarray:
        k = min(int(t // SHOT_S), len(pictures) - 1)
        u = t - k * SHOT_S
        pic, a = pictures[k], directions[k]
        x0 = (TEXTURE - cw) / 2 + np.cos(a) * PAN_PX_PER_S * (u - SHOT_S / 2)
        y0 = (TEXTURE - ch) / 2 + np.sin(a) * PAN_PX_PER_S * (u - SHOT_S / 2)
        x0, y0 = int(np.clip(x0, 0, TEXTURE - cw)), int(np.clip(y0, 0, TEXTURE - ch))
        window = pic[y0:y0 + ch, x0:x0 + cw]
        return np.asarray(Image.fromarray(window).resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR))

    return frame


def write_clip(path: Path, frames: Frames, duration_s: float, fps: int = FPS, codec: str = "libx264",
               size: tuple[int, int] | None = None, start_s: float = 0.0, speed: float = 1.0) -> Path:
    """Encode frames(start_s + speed * t) for t in [0, duration_s) to `path` (container by its extension)."""
    import av
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size or (WIDTH, HEIGHT)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for n in range(int(round(duration_s * fps))):
            img = frames(start_s + speed * n / fps)
            if (img.shape[1], img.shape[0]) != (w, h):
                img = np.asarray(Image.fromarray(img).resize((w, h), Image.Resampling.BILINEAR))
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_audio_only(path: Path, duration_s: float = 1.0) -> Path:
    """An audio-only file (a 440 Hz tone, AAC in MP4): a `no_video_stream` error row."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    rate = 22050
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("aac", rate=rate)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(rate * duration_s)) / rate)).astype(np.float32)
        for lo in range(0, len(tone), 1024):
            frame = av.AudioFrame.from_ndarray(tone[None, lo:lo + 1024], format="fltp", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def mirrored(frames: Frames) -> Frames:
    return lambda t: frames(t)[:, ::-1]


def letterboxed(frames: Frames, bar: int = 14) -> Frames:
    """The picture scaled into the frame's middle with black bars above and below."""
    from PIL import Image

    def frame(t: float) -> np.ndarray:
        inner = np.asarray(Image.fromarray(frames(t)).resize((WIDTH, HEIGHT - 2 * bar), Image.Resampling.BILINEAR))
        out = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        out[bar:HEIGHT - bar] = inner
        return out

    return frame


def cropped(frames: Frames, keep: float = 0.9) -> Frames:
    """The centre `keep` of each side, at the smaller frame size (no rescale): write with size=cropped_size()."""
    def frame(t: float) -> np.ndarray:
        img = frames(t)
        h, w = img.shape[:2]
        dh, dw = round(h * (1 - keep) / 2), round(w * (1 - keep) / 2)
        return img[dh:h - dh, dw:w - dw]
    return frame


def cropped_size(keep: float = 0.9) -> tuple[int, int]:
    return WIDTH - 2 * round(WIDTH * (1 - keep) / 2), HEIGHT - 2 * round(HEIGHT * (1 - keep) / 2)


def captioned(frames: Frames, text: str = "@channel") -> Frames:
    """A half-transparent caption box (35% x 14% of the frame) over the top left corner."""
    from PIL import Image, ImageDraw

    def frame(t: float) -> np.ndarray:
        img = Image.fromarray(frames(t)).convert("RGBA")
        box = Image.new("RGBA", (int(WIDTH * 0.35), int(HEIGHT * 0.14)), (0, 0, 0, 140))
        ImageDraw.Draw(box).text((4, 0), text, fill=(255, 255, 255, 230))
        img.alpha_composite(box, (2, 2))
        return np.asarray(img.convert("RGB"))
    return frame


def constant(img: np.ndarray) -> Frames:
    return lambda t: img


ORIGINALS = {"harbour": [11, 12, 13], "forest": [21, 22, 23], "city": [31, 32, 33]}
DURATION_S = len(next(iter(ORIGINALS.values()))) * SHOT_S


def build_video_corpus(root: Path) -> Path:
    """Write the corpus under `root` and `root/planted.csv`; returns the csv's path."""
    rows = []
    for name, seeds in ORIGINALS.items():
        clip = panning_shots(seeds)
        original = write_clip(root / "originals" / f"{name}.mp4", clip, DURATION_S)
        rows.append((f"originals/{name}.mp4", name, "original"))
        copies = {
            "exact_copy": lambda p: p.write_bytes(original.read_bytes()),
            "reencode": lambda p: write_clip(p, clip, DURATION_S, codec="mpeg4", fps=25),
            "rescale": lambda p: write_clip(p, clip, DURATION_S, size=(WIDTH // 2, HEIGHT // 2)),
            "trim": lambda p: write_clip(p, clip, DURATION_S - 2.0, start_s=1.0),
            "mirror": lambda p: write_clip(p, mirrored(clip), DURATION_S),
            "letterbox": lambda p: write_clip(p, letterboxed(clip), DURATION_S),
            "crop10": lambda p: write_clip(p, cropped(clip), DURATION_S, size=cropped_size()),
            "caption": lambda p: write_clip(p, captioned(clip), DURATION_S),
            "speed_1.5": lambda p: write_clip(p, clip, DURATION_S / 1.5, speed=1.5),
        }
        for edit, make in copies.items():
            file = f"copies/{name}__{edit}.{'avi' if edit == 'reencode' else 'mp4'}"
            (root / file).parent.mkdir(parents=True, exist_ok=True)
            make(root / file)
            rows.append((file, name, edit))
    # negatives: must not join any cluster
    first = list(ORIGINALS.values())[0]
    write_clip(root / "negatives/reordered.mp4", panning_shots([first[2], first[1], first[0]]), DURATION_S)
    write_clip(root / "negatives/static.mp4", constant(texture(41)[:HEIGHT, :WIDTH]), 4.0)
    write_clip(root / "negatives/black.mp4", constant(np.zeros((HEIGHT, WIDTH, 3), np.uint8)), 3.0)
    for n, seeds in enumerate(([51, 61, 62], [51, 71, 72])):  # the same first shot, then different ones
        write_clip(root / f"negatives/intro_{n + 1}.mp4", panning_shots(seeds), DURATION_S)
    rows += [(f"negatives/{f}", "", "lookalike") for f in ("reordered.mp4", "static.mp4", "black.mp4",
                                                           "intro_1.mp4", "intro_2.mp4")]
    broken = root / "broken"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / "empty.mp4").write_bytes(b"")
    data = (root / "originals" / f"{next(iter(ORIGINALS))}.mp4").read_bytes()
    (broken / "truncated.mp4").write_bytes(data[:len(data) // 3])
    write_audio_only(broken / "audio_only.mp4")
    (broken / "notes.mp4").write_text("not a video, just a text file named .mp4\n")
    rows += [(f"broken/{f}", "", "corrupt") for f in ("empty.mp4", "truncated.mp4", "audio_only.mp4", "notes.mp4")]
    planted = root / "planted.csv"
    with planted.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "original", "edit"])
        writer.writerows(rows)
    return planted
