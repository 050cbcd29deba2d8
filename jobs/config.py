"""Validated, frozen configuration for the dedup job.

The embedded defaults below are the local default: hash-only matching (exact
content hash + 64-bit pHash), Spark in local mode. Exact duplicates (identical
bytes) are always found: every later stage works on distinct contents. `conf/*.yaml` files and
`--set section.key=value` overrides are layered on top; unknown keys and
out-of-range values raise `ConfigError` with the offending key named.

Each pipeline stage receives only its own section (e.g. `PhashConfig`), never a
copy of fields from another section.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import yaml

from udfs.io import FetchOptions


class ConfigError(ValueError):
    """A configuration file or override is invalid; the message names the key."""


def _runtime(default: Any) -> Any:
    """A field that changes how fast the job runs, not what it decides.

    Runtime fields are left out of the config fingerprint, so moving a job from
    CPU to GPU executors does not invalidate cached features or stored results.
    """
    return field(default=default, metadata={"runtime": True})


KINDS = ("image", "text", "video", "audio")


@dataclass(frozen=True)
class InputConfig:
    kind: str = "image"               # image | text | video | audio: which readers, features and candidate stages run
    format: str = "auto"              # auto | files | jsonl | parquet | csv
    id_column: str | None = None      # None: "id" when the table has it, else derived from the path
    path_column: str | None = None    # None: first of PATH_COLUMN_CANDIDATES present in the table
    base_uri: str | None = None       # relative table paths resolve here (default: the table's folder)
    embedding_column: str | None = None  # precomputed embeddings (list<float>) skip decode + model
    extensions: tuple[str, ...] = ("jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp")
    recursive: bool = True
    symlinks: str = "within_root"     # within_root | follow | refuse (local directories)
    max_file_bytes: int = 64 * 1024 * 1024

    def validate(self) -> None:
        _choice("input.kind", self.kind, KINDS)
        _choice("input.format", self.format, ("auto", "files", "jsonl", "parquet", "csv"))
        _choice("input.symlinks", self.symlinks, ("within_root", "follow", "refuse"))
        _at_least("input.max_file_bytes", self.max_file_bytes, 1)
        if not self.extensions:
            raise ConfigError("input.extensions must list at least one file extension")


PATH_COLUMN_CANDIDATES = ("path", "image", "uri", "url", "file", "filepath", "image_path", "video", "video_path",
                          "audio", "audio_path")


@dataclass(frozen=True)
class DecodeConfig:
    max_pixels: int = 100_000_000     # larger images become error rows (decompression bombs)

    def validate(self) -> None:
        _at_least("decode.max_pixels", self.max_pixels, 1)


PHASH_KEYS = ("trim", "flip", "crop", "rotate", "wcrop")


@dataclass(frozen=True)
class PhashConfig:
    """Weight-free matching: the full-image pHash plus the keys of udfs/robust.py.

    Every key is a 64-bit pHash compared by Hamming distance, each key family with
    its own threshold (measured on bench/quality.py; bench/RESULTS.md "quality"):
    ``trim`` the content box (uniform borders, padding, letterbox removed), ``flip``
    the mirrored content box, ``crop`` its centre 90/80/60% against a copy's content
    box, ``rotate`` its centre turned 5 degrees either way.
    """

    enabled: bool = True
    max_hamming: int = 6              # full-image pHash: duplicate when distance <= this (of 64 bits)
    candidate_hamming: int = 10       # pairs up to this distance are stored for retuning
    bands: int = 4                    # multi-index hashing bands (more bands: fewer probes, more collisions)
    min_quality: float = 0.25         # images whose content box is flatter than this (mean gradient, grey levels) make no hash edges
    keys: tuple[str, ...] = PHASH_KEYS  # extra key families; [] = the full-image pHash alone
    trim_hamming: int = 6             # content box ~ content box
    flip_hamming: int = 6             # mirrored content box ~ content box
    crop_hamming: int = 4             # centre 90/80/60% crop ~ a copy's content box
    rotate_hamming: int = 2           # centre turned 5 degrees ~ a copy's centre 60%
    wcrop_hamming: int = 2            # centre 90/80/60% of a framed picture, frame included ~ a copy's pHash
    # Key pairs up to <key>_hamming + this are stored for retuning. pHash distances are even
    # (a hash has 32 of 64 bits set), so 2 stores the next step, at ~2x the probes of radius-1 families.
    key_candidate_extra: int = 0
    # Images whose content box puts its energy in fewer hash coefficients than this make no
    # hash edges (udfs/robust.information: stripes, a blob on black, a blank page ~1-4).
    min_information: float = 2.0
    # Pixel check of every hash pair (udfs/verify.py): the two thumbnails, aligned by the
    # pair's key family, must correlate at least this much (min_verify_sparse: the detail
    # correlation, when either image is sparse); -1 turns each check off.
    min_verify: float = 0.6
    min_verify_sparse: float = 0.4
    # A full-image pHash pair beyond max_hamming (up to candidate_hamming) is a duplicate when its
    # pixel check reaches this: a brightened or heavily re-encoded copy whose hash moved 8-10 bits
    # but whose thumbnails still agree (bench/RESULTS.md ## broad). So is a pHash pair of two framed
    # pictures (stage phash_framed, checked on the whole pictures). -1 turns both off.
    far_verify: float = 0.95
    # A full-image or mirrored pHash pair at its family's limit (the last step to max_hamming or
    # flip_hamming: distances are even) needs at least this pixel check; nearer pairs need
    # min_verify. The farther two hashes, the stronger the pixel evidence a duplicate must show
    # (8-10 bits: far_verify); at the limit, look-alikes (one icon template, clip art of one set)
    # outnumber copies. -1: min_verify alone.
    limit_verify: float = 0.8

    def validate(self) -> None:
        _between("phash.max_hamming", self.max_hamming, 0, 64)
        if self.limit_verify != -1:
            _between("phash.limit_verify", self.limit_verify, 0.0, 1.0, "or -1: off")
        if self.far_verify != -1:
            _between("phash.far_verify", self.far_verify, 0.0, 1.0, "or -1: off")
        _between("phash.min_verify", self.min_verify, -1.0, 1.0)
        _between("phash.min_verify_sparse", self.min_verify_sparse, -1.0, 1.0)
        _at_least("phash.min_information", self.min_information, 0.0)
        _between("phash.candidate_hamming", self.candidate_hamming, self.max_hamming, 64,
                 hint="it must be >= phash.max_hamming")
        _between("phash.bands", self.bands, 1, 16)
        _at_least("phash.min_quality", self.min_quality, 0.0)
        for key in self.keys:
            _choice("phash.keys", key, PHASH_KEYS)
        for key in PHASH_KEYS:
            _between(f"phash.{key}_hamming", getattr(self, f"{key}_hamming"), 0, 32)
        _between("phash.key_candidate_extra", self.key_candidate_extra, 0, 16)

    def verify_bar(self, sparse: bool, stage: str | None = None, hamming: int | None = None) -> float:
        """The pixel check's bar for a hash pair (with a sparse image or not); <= -1: no check.

        With its ``stage`` and ``hamming``: at least limit_verify for a pair at its family's limit
        (:meth:`limit_hammings`)."""
        bar = self.min_verify_sparse if sparse else self.min_verify
        limit = None if stage is None or hamming is None else self.limit_hammings().get(stage)
        if bar > -1 and self.limit_verify != -1 and limit is not None and limit - 1 <= hamming <= limit:
            return max(bar, self.limit_verify)
        return bar

    def limit_hammings(self) -> dict[str, int]:
        """stage -> the decision limit that limit_verify guards (full-image and mirrored pHash pairs,
        whose views line up exactly)."""
        return {"phash": self.max_hamming, "phash_flip": self.flip_hamming}

    def key_hamming(self, family: str) -> int:
        """Decision threshold of a key family (trim, flip, crop, rotate)."""
        return int(getattr(self, f"{family}_hamming"))

    def key_candidate_hamming(self, family: str) -> int:
        """Pairs of a key family are stored up to this distance."""
        return self.key_hamming(family) + self.key_candidate_extra


@dataclass(frozen=True)
class EmbeddingConfig:
    enabled: bool = False
    model: str = "openai/clip-vit-base-patch32"  # local directory or a name in the local HF cache
    threshold: float = 0.90           # decision: duplicate when cosine >= this
    candidate_threshold: float = 0.85  # pairs down to this cosine are stored for retuning
    device: str = _runtime("auto")    # auto | cpu | cuda
    precision: str = _runtime("auto")  # auto | fp32 | fp16 | bf16
    batch_size: int = _runtime(32)
    num_threads: int | None = _runtime(None)  # torch threads per Python worker (None: torch's default)

    def validate(self) -> None:
        _between("embedding.threshold", self.threshold, -1.0, 1.0)
        _between("embedding.candidate_threshold", self.candidate_threshold, -1.0, self.threshold,
                 hint="it must be <= embedding.threshold")
        _choice("embedding.device", self.device, ("auto", "cpu", "cuda"))
        _choice("embedding.precision", self.precision, ("auto", "fp32", "fp16", "bf16"))
        _at_least("embedding.batch_size", self.batch_size, 1)
        if self.num_threads is not None:
            _at_least("embedding.num_threads", self.num_threads, 1)


@dataclass(frozen=True)
class SelfJoinConfig:
    """IVF blocked self-join over embeddings (see udfs/ivf.py; measured in bench/RESULTS.md "selfjoin")."""

    nlist: int = 0                    # number of IVF lists; 0 = round(3 * sqrt(N)) (udfs.ivf.choose_nlist)
    nprobe: int = 4                   # at most this many lists per vector (home list included) ...
    probe_margin: float = 0.02        # ... and only those whose centroid cosine is within this of the home's
    train_sample: int = 200_000       # at most this many vectors sampled to train the centroids on the driver
    train_per_list: int = 40          # k-means sample = min(train_sample, train_per_list * nlist)
    niter: int = 5                    # k-means iterations (lists too large after them are split: split_factor)
    split_factor: float = 4.0         # lists holding > this x the mean share of the k-means sample are split by
                                      # k-means of their own points (udfs.ivf.split_large_lists); 0 = off
    transport_dtype: str = "float16"  # float16 | float32: vectors packed for shuffles and caches (fp16: cosines
                                      # move by <= 2e-3, so the search runs that far below the candidate threshold)
    max_list_size: int = 20_000       # members per group; larger lists are split into parts
    block_rows: int = _runtime(4096)  # GEMM block edge: memory per block = block_rows^2 * 4 bytes
    max_neighbors: int = 64           # neighbours kept per item per block
    use_gpu: bool = _runtime(False)   # faiss GPU index for training / assignment when available
    seed: int = 0

    def validate(self) -> None:
        _at_least("selfjoin.nlist", self.nlist, 0)
        _at_least("selfjoin.nprobe", self.nprobe, 1)
        _at_least("selfjoin.probe_margin", self.probe_margin, 0.0)
        _at_least("selfjoin.train_sample", self.train_sample, 1)
        _at_least("selfjoin.train_per_list", self.train_per_list, 1)
        _at_least("selfjoin.niter", self.niter, 1)
        _at_least("selfjoin.split_factor", self.split_factor, 0.0)
        _choice("selfjoin.transport_dtype", self.transport_dtype, ("float16", "float32"))
        _at_least("selfjoin.max_list_size", self.max_list_size, 1)
        _at_least("selfjoin.block_rows", self.block_rows, 1)
        _at_least("selfjoin.max_neighbors", self.max_neighbors, 1)


# content_pixels: pixels inside the content box, in 1/8-octave steps (jobs/manifest.content_pixels);
# framed: 1 when the image has a uniform frame or padding around its content (udfs/robust.py);
# lossless: the file keeps its pixels without loss (PNG, lossless WebP, ...: udfs/decode.is_lossless);
# links: the content's duplicate edges (distinct contents it matches), so `links desc` keeps the
# version that matches the most others directly (jobs/decisions.py)
KEEP_COLUMNS = ("content_pixels", "framed", "pixels", "lossless", "bytes", "width", "height", "links", "item_id",
                "uri")


@dataclass(frozen=True)
class ClusterConfig:
    # Keep policy: a total order; item_id asc is appended when absent so ties cannot remain.
    # Most content first (a crop or a thumbnail has less; a padded copy as much as its original),
    # then unframed (a padded copy has more pixels, but the extra ones are padding), then more
    # pixels, then a lossless file over a re-encoded one (more bytes can be noise), then bytes.
    keep_order: tuple[str, ...] = ("content_pixels desc", "framed asc", "pixels desc", "lossless desc",
                                   "bytes desc", "item_id asc")
    # Up to this many duplicate edges are clustered on the driver; above it, components are found
    # on the executors (jobs/components.py) and each is decided in one task. Both give the same
    # decisions. Collecting costs several hundred bytes of driver heap per edge (4.84M edges overran
    # Spark's default 1 GiB driver in bench/pipeline.py), so raise this with spark.driver.memory.
    driver_max_edges: int = _runtime(1_000_000)
    reelect: bool = False             # incremental runs: let better new items replace earlier keepers
    # A copy kept alone by the chain guard (it matched only another copy of the keeper) joins that
    # keeper's cluster when their thumbnails, compared directly under each key family's alignment,
    # correlate at least this much (jobs/decisions.attach_lone_keepers); -1 turns it off.
    attach_verify: float = 0.9

    def validate(self) -> None:
        _at_least("cluster.driver_max_edges", self.driver_max_edges, 1)
        if self.attach_verify != -1:
            _between("cluster.attach_verify", self.attach_verify, 0.0, 1.0, "or -1: off")
        self.order()

    def order(self) -> list[tuple[str, str]]:
        """The keep order as (column, 'asc'|'desc') pairs, ending with item_id."""
        return parse_keep_order("cluster.keep_order", self.keep_order, KEEP_COLUMNS)


def parse_keep_order(key: str, terms: tuple[str, ...], columns: tuple[str, ...]) -> list[tuple[str, str]]:
    """'<column> asc|desc' terms -> (column, direction) pairs, ending with item_id asc."""
    pairs = []
    for term in terms:
        parts = str(term).split()
        if len(parts) == 1:
            parts.append("asc")
        if len(parts) != 2 or parts[1] not in ("asc", "desc") or parts[0] not in columns:
            raise ConfigError(
                f"{key}: {term!r} is not '<column> asc|desc' "
                f"with column one of {', '.join(columns)}")
        pairs.append((parts[0], parts[1]))
    if not any(col == "item_id" for col, _ in pairs):
        pairs.append(("item_id", "asc"))
    return pairs


# chars: characters of the normalised text; words: its \w+ words (udfs/text.py); links: as above
TEXT_KEEP_COLUMNS = ("chars", "words", "bytes", "links", "item_id", "uri")


@dataclass(frozen=True)
class TextConfig:
    """Near-duplicate text (`input.kind: text`): exact normalised text, then MinHash LSH over word shingles.

    Pairs whose bands collide are verified on the exact Jaccard similarity of their
    shingle sets; those at or above `candidate_threshold` are stored, those at or
    above `threshold` are duplicates. Two documents of Jaccard similarity J share a
    band with probability 1 - (1 - J^rows)^bands (32 x 4: J 0.3 -> 0.23, 0.4 -> 0.56,
    0.5 -> 0.87, 0.6 -> 0.99).
    """

    extensions: tuple[str, ...] = ("txt", "md", "markdown", "html", "htm")  # files of a directory read as text
    column: str | None = None         # a table's inline-text column; None: "text" when the table has it
    shingle_words: int = 3            # words per shingle (documents with fewer words are one shingle)
    num_perm: int = 128               # MinHash permutations (signature slots)
    bands: int = 32                   # LSH bands ...
    rows: int = 4                     # ... of this many slots each (bands * rows <= num_perm)
    threshold: float = 0.5            # decision: duplicate when the shingle sets' Jaccard >= this
    candidate_threshold: float = 0.3  # pairs down to this Jaccard are stored for retuning
    max_bucket: int = 200             # a band bucket with more documents links them to its first only
    seed: int = 1                     # seed of the MinHash permutations
    # the version matching the most others directly, then the longest text: with star clusters
    # a longest-first keeper (often a copy with boilerplate added) leaves copies it does not match
    # alone (bench/RESULTS.md ## text: tune, copies within 10% of words in their original's
    # cluster 0.971 -> 0.998)
    keep_order: tuple[str, ...] = ("links desc", "chars desc", "bytes desc", "item_id asc")

    def validate(self) -> None:
        if not self.extensions:
            raise ConfigError("text.extensions must list at least one file extension")
        _between("text.shingle_words", self.shingle_words, 1, 16)
        _between("text.num_perm", self.num_perm, 1, 1024)
        _at_least("text.bands", self.bands, 1)
        _at_least("text.rows", self.rows, 1)
        if self.bands * self.rows > self.num_perm:
            raise ConfigError(f"text.bands x text.rows must be <= text.num_perm ({self.num_perm}); "
                              f"got {self.bands} x {self.rows} = {self.bands * self.rows}")
        _between("text.threshold", self.threshold, 0.0, 1.0)
        _between("text.candidate_threshold", self.candidate_threshold, 0.0, self.threshold,
                 hint="it must be <= text.threshold")
        _at_least("text.max_bucket", self.max_bucket, 2)
        self.order()

    def order(self) -> list[tuple[str, str]]:
        """The text keep policy as (column, 'asc'|'desc') pairs, ending with item_id."""
        return parse_keep_order("text.keep_order", self.keep_order, TEXT_KEEP_COLUMNS)


# duration_s, pixels (width x height), bitrate (bits/s), bytes: of the video (udfs/video.py); links: as above
VIDEO_KEEP_COLUMNS = ("duration_s", "pixels", "bitrate", "bytes", "width", "height", "fps", "links", "item_id", "uri")
VIDEO_EXTENSIONS = ("mp4", "m4v", "mov", "mkv", "webm", "avi", "ogv", "mpg", "mpeg", "ts", "wmv", "flv", "3gp")


@dataclass(frozen=True)
class VideoConfig:
    """Near-duplicate video (`input.kind: video`): sampled frames hashed, a blocked join over frame
    hash bands that votes per video pair, then temporal alignment of each candidate pair.

    Frames are sampled at `sample_fps` (2: a shot of 1-2 s still gets 2-4 frames,
    and an hour of video is 7,200 hashes), scaled to 128 px and hashed like an image's
    content box (letterbox trimmed) and its mirror. A pair's `similarity` is the share
    of the informative frames inside its matched segment that match on the aligned
    line (both videos together); coverage_a / coverage_b are the segment's share of
    each video's duration. A pair is a duplicate when similarity >= `threshold` and
    the covered video is covered >= `min_coverage` (`excerpts: duplicate`: either
    video, so a trimmed excerpt is a duplicate of its source; `report`: both).
    """

    extensions: tuple[str, ...] = VIDEO_EXTENSIONS  # files of a directory read as videos
    max_file_bytes: int = 512 * 1024 * 1024   # larger files are too_large errors (a file is held in memory)
    sample_fps: float = 2.0           # frames sampled per second of video, by presentation time
    max_duration_s: float = 10_800.0  # longer videos are too_long errors
    max_frames: int = 21_600          # more sampled frames than this: too_many_frames
    max_pixels: int = 36_000_000      # larger frames (width x height): too_many_pixels
    max_decode_seconds: float = 600.0  # decoding one file longer than this: decode_timeout
    min_information: float = 2.0      # frames whose content box has less hash information never vote or match
    min_quality: float = 0.85         # ... nor frames flatter than this (mean gradient, grey levels; a hazy shot 0.88-0.97)
    frame_hamming: int = 12           # two frames match at <= this many differing bits of 64
    max_bucket: int = 100             # videos sharing one frame-hash band value beyond this: the bucket is skipped
    # bucket keys: single 16-bit bands, or pairs of bands (32 bits: far fewer unrelated frames meet in a
    # large corpus, fewer noisy copies' frames too); auto: pairs from PAIR_KEYS_FROM_FRAMES informative frames
    band_keys: str = "auto"
    min_votes: int = 2                # distinct frames of each video sharing band values before alignment
    max_gap_s: float = 4.0            # matched frames further apart (seconds of a) split a segment
    min_distinct_frames: int = 2      # a segment needs this many mutually different matched frames (on both sides)
    threshold: float = 0.6            # decision: the segment's share of matching frames >= this ...
    min_coverage: float = 0.8         # ... and the covered video's share inside the segment >= this
    candidate_threshold: float = 0.3  # aligned pairs from this similarity are stored for retuning
    excerpts: str = "duplicate"       # duplicate: a copy covered by its partner is a duplicate; report: both covered
    decode_workers: int = _runtime(2)  # videos decoded at once per Spark task (each held in memory)
    # the longest version, then the most pixels, then the highest bitrate
    keep_order: tuple[str, ...] = ("duration_s desc", "pixels desc", "bitrate desc", "bytes desc", "item_id asc")

    def validate(self) -> None:
        if not self.extensions:
            raise ConfigError("video.extensions must list at least one file extension")
        _at_least("video.max_file_bytes", self.max_file_bytes, 1)
        _between("video.sample_fps", self.sample_fps, 0.05, 30.0)
        _at_least("video.max_duration_s", self.max_duration_s, 0.1)
        _at_least("video.max_frames", self.max_frames, 1)
        _at_least("video.max_pixels", self.max_pixels, 1)
        _at_least("video.max_decode_seconds", self.max_decode_seconds, 0.1)
        _at_least("video.min_information", self.min_information, 0.0)
        _at_least("video.min_quality", self.min_quality, 0.0)
        _between("video.frame_hamming", self.frame_hamming, 0, 32)
        _at_least("video.max_bucket", self.max_bucket, 2)
        _choice("video.band_keys", self.band_keys, ("auto", "single", "pairs"))
        _at_least("video.min_votes", self.min_votes, 1)
        _at_least("video.max_gap_s", self.max_gap_s, 0.0)
        _at_least("video.min_distinct_frames", self.min_distinct_frames, 1)
        _between("video.threshold", self.threshold, 0.0, 1.0)
        _between("video.min_coverage", self.min_coverage, 0.0, 1.0)
        _between("video.candidate_threshold", self.candidate_threshold, 0.0, self.threshold,
                 hint="it must be <= video.threshold")
        _choice("video.excerpts", self.excerpts, ("duplicate", "report"))
        _at_least("video.decode_workers", self.decode_workers, 1)
        self.order()

    def order(self) -> list[tuple[str, str]]:
        """The video keep policy as (column, 'asc'|'desc') pairs, ending with item_id."""
        return parse_keep_order("video.keep_order", self.keep_order, VIDEO_KEEP_COLUMNS)


# lossless (1 for PCM, FLAC, ALAC, WavPack, ...), bitrate (bits/s), duration_s, audible_s (without leading and
# trailing silence), bytes: of the audio (udfs/audio_adapters.py); sample_rate, channels: of its stream; links: as
# above; noise_floor_db: how far the recording's quiet level lies below its loud level, per frequency, in 3 dB
# steps (<= 0, lower = cleaner: added noise raises it; gain, EQ and silence padding leave it; udfs/audio.noise_floor)
AUDIO_KEEP_COLUMNS = ("lossless", "bitrate", "audible_s", "duration_s", "bytes", "sample_rate", "channels", "links",
                      "noise_floor_db", "item_id", "uri")
AUDIO_EXTENSIONS = ("wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "m4a", "aac", "wma", "aif", "aiff", "aifc",
                    "mka", "ac3", "amr", "au", "caf", "wv", "ape")


@dataclass(frozen=True)
class AudioConfig:
    """Near-duplicate audio (`input.kind: audio`): spectral-peak triplet hashes (udfs/audio.py), an
    inverted-index join over the hashes that votes per file pair and time offset, then alignment of
    each candidate pair (offset and time scale).

    A pair's `aligned_anchors` is the number of distinct anchor times of one file whose hashes
    line up with the other's on the aligned line; coverage_a / coverage_b are the matched span's
    share of each file's fingerprinted span. A pair is a duplicate when aligned_anchors >=
    `min_score` and either file is covered >= `min_coverage` (`excerpts: duplicate`: an excerpt,
    or a copy inside a longer file, is a duplicate), or, with `excerpts: report`, when both files
    are covered >= `full_coverage` (excerpts stay non-duplicate pairs with their span); in both
    cases its `similarity` (the share of item_b's anchors inside its matched span that align) must
    be >= `min_similarity`: a few chance anchors strung over a long span (two sections of one
    track) align a small share of it, a copy most of it. Below `low_similarity`, the pair also
    needs `low_similarity_score` aligned anchors: a weak share must rest on much evidence.
    """

    extensions: tuple[str, ...] = AUDIO_EXTENSIONS  # files of a directory read as audio
    max_file_bytes: int = 512 * 1024 * 1024   # larger files are too_large errors (a file is held in memory)
    max_duration_s: float = 14_400.0  # longer audio is a too_long error
    max_decode_seconds: float = 300.0  # decoding one file longer than this: decode_timeout
    max_bucket: int = 50              # a hash value held more often than this (all files together) is skipped
    min_votes: int = 4                # equal-hash pairs of two files in one offset bin (2 s, neighbours summed)
    min_score: int = 6                # decision: distinct anchor times aligned on the line >= this ...
    min_coverage: float = 0.3         # ... and one file's share inside the matched span >= this
    # ... and the share of item_b's anchors inside its span that align >= this: chance anchors over a long span
    # (two sections of one track) align few of them (bench/RESULTS.md `## audio`, chosen on the tune part)
    min_similarity: float = 0.1
    # ... and a pair below `low_similarity` needs `low_similarity_score` aligned anchors: a musical repeat in
    # another section of one track (a loop or chorus played again, not the same samples) aligns 15-19 anchors
    # at similarity 0.10-0.14; a copy with another track mixed under it keeps dozens (bench/RESULTS.md `## audio`)
    low_similarity: float = 0.15
    low_similarity_score: int = 30
    full_coverage: float = 0.8        # excerpts=report: both files covered >= this
    candidate_min_score: int = 3      # aligned pairs from this score are stored for retuning
    excerpts: str = "duplicate"       # duplicate: a copy covered by its partner is a duplicate; report: both covered
    decode_workers: int = _runtime(2)  # files decoded at once per Spark task (each held in memory)
    # lossless before lossy, then the highest bitrate, then the longest audible version (to 0.5 s: silence
    # padding does not count), then the copy matching the most others (an added noise floor or a track
    # mixed under matches fewer), then the lowest noise floor (a lossless copy with noise added has the
    # original's bitrate and the larger file: bench/RESULTS.md ## audio, "the noise floor in the audio
    # keep order"), then the least padded one
    keep_order: tuple[str, ...] = ("lossless desc", "bitrate desc", "audible_s desc", "links desc",
                                   "noise_floor_db asc", "duration_s asc", "bytes desc", "item_id asc")

    def validate(self) -> None:
        if not self.extensions:
            raise ConfigError("audio.extensions must list at least one file extension")
        _at_least("audio.max_file_bytes", self.max_file_bytes, 1)
        _at_least("audio.max_duration_s", self.max_duration_s, 0.1)
        _at_least("audio.max_decode_seconds", self.max_decode_seconds, 0.1)
        _at_least("audio.max_bucket", self.max_bucket, 2)
        _at_least("audio.min_votes", self.min_votes, 1)
        _at_least("audio.min_score", self.min_score, 1)
        _between("audio.min_coverage", self.min_coverage, 0.0, 1.0)
        _between("audio.min_similarity", self.min_similarity, 0.0, 1.0)
        _between("audio.low_similarity", self.low_similarity, 0.0, 1.0)
        _at_least("audio.low_similarity_score", self.low_similarity_score, 1)
        _between("audio.full_coverage", self.full_coverage, 0.0, 1.0)
        _between("audio.candidate_min_score", self.candidate_min_score, 1, self.min_score,
                 hint="it must be <= audio.min_score")
        _choice("audio.excerpts", self.excerpts, ("duplicate", "report"))
        _at_least("audio.decode_workers", self.decode_workers, 1)
        self.order()

    def order(self) -> list[tuple[str, str]]:
        """The audio keep policy as (column, 'asc'|'desc') pairs, ending with item_id."""
        return parse_keep_order("audio.keep_order", self.keep_order, AUDIO_KEEP_COLUMNS)


@dataclass(frozen=True)
class FetchConfig:
    """http(s) inputs and read concurrency; `options()` is udfs.io.FetchOptions (same field names)."""

    timeout_s: float = _runtime(10.0)       # connect timeout and limit per socket read
    retries: int = _runtime(3)              # on connection errors, timeouts, 5xx, 429
    backoff_s: float = _runtime(0.5)        # first retry delay, doubled each time (+ jitter)
    deadline_s: float = _runtime(300.0)     # whole body of one attempt
    max_redirects: int = 5
    allowed_schemes: tuple[str, ...] = ("http", "https")
    # CIDRs, addresses or host names fetched from although loopback/private/link-local/...
    # (refused by default as blocked_address; udfs.io.blocked_class), e.g. ["10.0.0.0/8", "images.corp"]
    allow_networks: tuple[str, ...] = ()
    workers: int = _runtime(8)              # concurrent reads per Spark task

    def validate(self) -> None:
        _at_least("fetch.workers", self.workers, 1)
        try:
            self.options()
        except ValueError as exc:
            raise ConfigError(f"fetch: {exc}") from None

    def options(self) -> FetchOptions:
        return FetchOptions(**{f.name: getattr(self, f.name) for f in fields(FetchOptions)})


@dataclass(frozen=True)
class CacheConfig:
    dir: str | None = None            # feature cache (Parquet keyed by sha256 + model fingerprint)

    def validate(self) -> None:
        pass


@dataclass(frozen=True)
class SparkConfig:
    master: str = _runtime("local[*]")  # ignored under spark-submit, which sets the master
    app_name: str = _runtime("image-dedup")
    shuffle_partitions: int = _runtime(8)
    arrow_batch_rows: int = _runtime(256)  # rows per Arrow batch handed to the pandas UDFs
    ship_code: bool = _runtime(True)    # zip the jobs/udfs packages and add them to executors
    # JVM heap when the job starts Spark itself (local mode): "auto" = half the machine's
    # memory (jobs.spark.auto_driver_memory), or e.g. "8g"; spark-submit users pass --driver-memory
    driver_memory: str = _runtime("auto")
    conf: Mapping[str, str] = field(default_factory=dict, metadata={"runtime": True})

    def validate(self) -> None:
        _at_least("spark.shuffle_partitions", self.shuffle_partitions, 1)
        if self.driver_memory != "auto" and not re.fullmatch(r"\d+[kmgt]", self.driver_memory.lower()):
            raise ConfigError(f"spark.driver_memory must be auto or a JVM size like 4g or 4096m; "
                              f"got {self.driver_memory!r}")
        _at_least("spark.arrow_batch_rows", self.arrow_batch_rows, 1)


@dataclass(frozen=True)
class JobConfig:
    input: InputConfig = field(default_factory=InputConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    phash: PhashConfig = field(default_factory=PhashConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    selfjoin: SelfJoinConfig = field(default_factory=SelfJoinConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    spark: SparkConfig = field(default_factory=SparkConfig)
    text: TextConfig = field(default_factory=TextConfig)
    video: VideoConfig = field(default_factory=VideoConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)

    def validate(self) -> "JobConfig":
        for f in fields(self):
            getattr(self, f.name).validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _section_dict(getattr(self, f.name)) for f in fields(self)}

    def keep_order(self) -> list[tuple[str, str]]:
        """The keep policy of this run's kind."""
        if self.input.kind == "text":
            return self.text.order()
        if self.input.kind == "video":
            return self.video.order()
        if self.input.kind == "audio":
            return self.audio.order()
        return self.cluster.order()

    def fingerprint(self) -> str:
        """16 hex chars over every setting that can change the job's decisions.

        The sections the run's kind never reads (IGNORED_SECTIONS) do not count,
        and `input.kind` counts only when it is not image, so image fingerprints
        are the ones from before the text kind existed.
        """
        decided = {f.name: _section_dict(getattr(self, f.name), runtime=False) for f in fields(self)
                   if f.name not in IGNORED_SECTIONS[self.input.kind]}
        if self.input.kind == "image":
            decided["input"].pop("kind")
        blob = json.dumps(decided, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# the sections each kind never reads: left out of its runs' fingerprints
IGNORED_SECTIONS = {"image": ("text", "video", "audio"),
                    "text": ("decode", "phash", "embedding", "selfjoin", "video", "audio"),
                    "video": ("decode", "phash", "embedding", "selfjoin", "text", "audio"),
                    "audio": ("decode", "phash", "embedding", "selfjoin", "text", "video")}


def _section_dict(section: Any, runtime: bool = True) -> dict[str, Any]:
    out = {}
    for f in fields(section):
        if not runtime and f.metadata.get("runtime"):
            continue
        value = getattr(section, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else (
            dict(value) if isinstance(value, Mapping) else value)
    return out


# ---------------------------------------------------------------------------- loading

def load_config(paths: list[str | Path] | None = None, overrides: list[str] | None = None) -> JobConfig:
    """Embedded defaults, then each YAML file in order, then `key=value` overrides."""
    merged: dict[str, dict[str, Any]] = {}
    for path in paths or []:
        _merge(merged, _read_yaml(Path(path)), source=str(path))
    for item in overrides or []:
        _merge(merged, _parse_override(item), source=f"--set {item}")
    return build_config(merged)


def build_config(data: Mapping[str, Any], source: str = "config") -> JobConfig:
    sections = {}
    for f in fields(JobConfig):
        cls = f.default_factory  # type: ignore[misc]
        values = dict(data.get(f.name) or {})
        sections[f.name] = _build_section(f.name, cls, values)
    unknown = set(data) - {f.name for f in fields(JobConfig)}
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {sorted(unknown)}; "
                          f"known: {[f.name for f in fields(JobConfig)]}")
    return JobConfig(**sections).validate()


def _build_section(name: str, cls: type, values: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(f'{name}.{k}' for k in sorted(unknown))}; "
                          f"known keys in '{name}': {', '.join(sorted(known))}")
    kwargs = {}
    for key, value in values.items():
        default = getattr(cls(), key)
        kwargs[key] = _coerce(f"{name}.{key}", value, default, known[key].type)
    return cls(**kwargs)


def _coerce(key: str, value: Any, default: Any, annotation: str) -> Any:
    """Convert a YAML or command-line value to the field's type, or raise ConfigError."""
    if value is None:
        if "None" in str(annotation):
            return None
        raise ConfigError(f"{key} may not be null")
    if isinstance(default, bool):
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return tuple(str(v) for v in value)
    if isinstance(default, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(default, float) or "float" in str(annotation):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number, got {value!r}") from None
    if isinstance(default, int) or "int" in str(annotation):
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, got {value!r}") from None
    return str(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, (dict, type(None))) for v in data.values()):
        raise ConfigError(f"{path}: expected a mapping of sections (input:, phash:, ...)")
    return data


def _parse_override(item: str) -> dict[str, Any]:
    key, sep, raw = item.partition("=")
    section, dot, name = key.strip().partition(".")
    if not sep or not dot or not name:
        raise ConfigError(f"--set expects section.key=value, got {item!r}")
    value = yaml.safe_load(raw) if raw.strip() else None
    if section == "spark" and name.startswith("conf."):
        return {section: {"conf": {name[len("conf."):]: raw}}}
    return {section: {name: value}}


def _merge(into: dict[str, dict[str, Any]], data: Mapping[str, Any], source: str) -> None:
    for section, values in data.items():
        if values is None:
            continue
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: section '{section}' must be a mapping")
        target = into.setdefault(section, {})
        for key, value in values.items():
            if key == "conf" and isinstance(value, Mapping):
                target.setdefault("conf", {}).update(value)
            else:
                target[key] = value


# ---------------------------------------------------------------------------- checks

def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}; got {value!r}")


def _at_least(key: str, value: float, low: float) -> None:
    if value < low:
        raise ConfigError(f"{key} must be >= {low}; got {value!r}")


def _between(key: str, value: float, low: float, high: float, hint: str = "") -> None:
    if not low <= value <= high:
        extra = f" ({hint})" if hint else ""
        raise ConfigError(f"{key} must be between {low} and {high}{extra}; got {value!r}")
