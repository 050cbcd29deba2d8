"""Sources -> items: one row per input item with a stable id.

Output columns: item_id (string, unique), uri (string), input_error (string or
null: a row that cannot be processed at all, e.g. a null path).
"""
from __future__ import annotations

import glob as globlib
import logging
import os
import posixpath
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pandas as pd

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs import failures
from jobs.config import PATH_COLUMN_CANDIDATES, InputConfig
from udfs.audio_adapters import PRINT_TYPES
from udfs.video_adapters import SIGNATURE_TYPES

log = logging.getLogger("dedup")

TABLE_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl",
                 ".parquet": "parquet", ".csv": "csv"}


class InputError(ValueError):
    """The input cannot be read as configured; the message says what to change."""


@dataclass(frozen=True)
class Source:
    location: str      # what the user gave
    format: str        # files | jsonl | parquet | csv


def detect_source(location: str, cfg: InputConfig) -> Source:
    """Decide between a directory/glob of image files and a table file."""
    if cfg.format != "auto":
        return Source(location, cfg.format)
    lowered = location.lower().rstrip("/")
    for ext, fmt in TABLE_FORMATS.items():
        if lowered.endswith(ext):
            return Source(location, fmt)
    return Source(location, "files")


def read_items(spark: SparkSession, source: Source, cfg: InputConfig, scratch: str | None = None,
               text_column: str | None = None) -> DataFrame:
    """Items of `source` as (item_id, uri, input_error[, embedding | text]), ids made unique.

    `embedding` (array<float>) is present when the table carries precomputed
    embeddings; the job then skips decoding and the model. With input.kind
    text, `text` is present when the table has inline text (`text_column`, else
    a column named "text"); a row without text is read from its path.
    `scratch`: a local folder where a Parquet file with oversized row groups
    may be rewritten (`_split_row_groups`).
    """
    if source.format == "files":
        items = _read_files(spark, source.location, cfg)
    else:
        read_from = _split_row_groups(spark, source, scratch) if source.format == "parquet" and scratch else None
        items = _read_table(spark, source, cfg, read_from, text_column)
    return _flag_duplicate_ids(items)


# ---------------------------------------------------------------------------- files

def _read_files(spark: SparkSession, location: str, cfg: InputConfig) -> DataFrame:
    """Image files under a directory or matching a glob; ids are paths relative to the root.

    Local paths are walked here (`_list_local`): every entry becomes a row,
    names starting with "_" or "." included, symlinks per `input.symlinks`,
    no directory entered twice on one path (symlink loops). Other filesystems
    are listed by Spark's file index (`inputFiles`, not a scan: a scan skips
    zero-byte files), which leaves out names starting with "_" or ".".
    """
    root = _qualified(spark, _glob_root(location))
    if root.startswith("file:"):
        listed = _list_local(spark, location, _local_path(root), cfg)
    else:
        listed = _list_spark(spark, location, cfg)
    extensions = {e.lower().lstrip(".") for e in cfg.extensions}
    rows = [row for row in listed if _extension(row[0]) in extensions]
    skipped = len(listed) - len(rows)
    if skipped:
        log.info("[ingest] %d files under %s do not have %s %s extension (%s) and are not inputs",
                 skipped, location, "an" if cfg.kind[0] in "aeiou" else "a", cfg.kind, ", ".join(sorted(extensions)))
    if not rows:
        raise InputError(f"no {cfg.kind} files found under {location} (extensions: {', '.join(sorted(extensions))})")
    pdf = pd.DataFrame(sorted(rows), columns=["item_id", "uri", "input_error"])
    parts = max(1, min(len(rows) // 2000 + 1, spark.sparkContext.defaultParallelism * 4))
    return spark.createDataFrame(pdf, "item_id string, uri string, input_error string").repartition(parts)


def _extension(item_id: str) -> str | None:
    name = item_id.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else None


def _list_spark(spark: SparkSession, location: str, cfg: InputConfig) -> list[tuple]:
    """(item_id, uri, None) from Spark's file index; ids relative to the location's root."""
    try:
        files = (spark.read.format("binaryFile")
                 .option("recursiveFileLookup", str(cfg.recursive).lower())
                 .load(location).inputFiles())
    except Exception as exc:  # AnalysisException: path does not exist
        if failures.is_resource_failure(exc):
            raise
        raise InputError(f"cannot list input {location}: {_first_line(exc)}") from None
    # inputFiles() are percent-encoded URIs: compare decoded forms (Hadoop's toString is not encoded).
    prefix = unquote(_uri_form(_qualified(spark, _glob_root(location), as_uri=True))).rstrip("/") + "/"
    rows = []
    for uri in files:
        path = unquote(_uri_form(uri))
        rows.append((path[len(prefix):] if path.startswith(prefix) else path, uri, None))
    return rows


def _list_local(spark: SparkSession, location: str, root: str, cfg: InputConfig) -> list[tuple]:
    """(item_id, uri, input_error) for every non-directory entry matching `location` under `root`.

    Symlinks (`input.symlinks`): "within_root" follows links whose target lies
    inside the real root and makes the others `outside_root` error rows (a link
    to a directory outside is skipped with a warning); "follow" follows all;
    "refuse" makes every link a `symlink` error row. A directory already on
    the current path (a loop) is not entered again. Dangling links, FIFOs and
    devices become rows; the reader reports them (not_found, not_a_file).
    """
    real_root = os.path.realpath(root)
    stack = [(m, 0, frozenset()) for m in sorted(_glob_local(spark, location), reverse=True)]
    rows: list[tuple] = []
    while stack:
        path, depth, ancestors = stack.pop()
        rel = os.path.relpath(path, root) if path != root else os.path.basename(path)
        error = _symlink_error(path, real_root, cfg.symlinks) if os.path.islink(path) else None
        if not os.path.isdir(path):
            rows.append((rel, Path(path).as_uri(), error))
            continue
        info = os.stat(path)
        key = (info.st_dev, info.st_ino)
        if error or key in ancestors:
            log.warning("[ingest] not entering %s: %s", path, error or "symlink loop")
            continue
        if depth > 0 and not cfg.recursive:
            continue
        try:
            children = sorted(os.scandir(path), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            raise InputError(f"cannot list {path}: {exc}") from None
        stack.extend((entry.path, depth + 1, ancestors | {key}) for entry in children)
    return rows


def _symlink_error(path: str, real_root: str, policy: str) -> str | None:
    if policy == "refuse":
        return "symlink: symbolic links are not followed (input.symlinks=refuse)"
    target = os.path.realpath(path)
    if policy == "within_root" and target != real_root and not target.startswith(real_root.rstrip("/") + "/"):
        return f"outside_root: symbolic link to {target}, outside the input root {real_root}"
    return None


def _glob_local(spark: SparkSession, location: str) -> list[str]:
    """Local paths matching `location` (Hadoop glob syntax, as Spark reads it)."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(location)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    matches = fs.globStatus(hpath)
    if not matches:
        raise InputError(f"cannot list input {location}: path does not exist")
    return [_local_path(m.getPath().toString()) for m in matches]


def _local_path(qualified: str) -> str:
    """file:/a/b c (Hadoop's unencoded form) -> /a/b c."""
    return "/" + qualified[len("file:"):].lstrip("/")


def _uri_form(uri: str) -> str:
    """file:///a and file:/a name the same file; use the short form for comparisons."""
    return "file:/" + uri[len("file:///"):] if uri.startswith("file:///") else uri


def _glob_root(location: str) -> str:
    """The directory part before the first glob character (the location itself if none)."""
    if not globlib.has_magic(location):
        return location
    head = location
    while globlib.has_magic(head):
        head = posixpath.dirname(head)
    return head or "."


def _qualified(spark: SparkSession, path: str, as_uri: bool = False) -> str:
    """Fully qualified path; Hadoop's plain form (file:/a b), or its percent-encoded URI (file:/a%20b)."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    qualified = fs.makeQualified(hpath)
    return qualified.toUri().toString() if as_uri else qualified.toString()


# ---------------------------------------------------------------------------- tables

def _read_table(spark: SparkSession, source: Source, cfg: InputConfig, read_from: str | None = None,
                text_column: str | None = None) -> DataFrame:
    """Rows of a JSONL / Parquet / CSV table with an id column and a path-or-URL column
    (or, for input.kind text, an inline text column).

    `read_from`: a copy of the table to read instead (relative paths still resolve
    against the source's folder)."""
    reader = {"jsonl": lambda p: spark.read.json(p),
              "parquet": lambda p: spark.read.parquet(p),
              "csv": lambda p: spark.read.option("header", "true").csv(p)}[source.format]
    try:
        table = reader(read_from or source.location)
    except Exception as exc:
        if failures.is_resource_failure(exc):  # e.g. the JVM ran out of memory inferring the schema
            raise
        raise InputError(f"cannot read {source.format} table {source.location}: {_first_line(exc)}") from None
    if "_corrupt_record" in table.columns:
        log.warning("some lines of %s are not valid JSON; they become error rows", source.location)
    text_col = _text_column(table.columns, cfg, text_column, source.location) if cfg.kind == "text" else None
    emb_col = embedding_column(table.columns, cfg) if cfg.kind == "image" else None
    # precomputed video frame signatures or audio fingerprints: (required column, the columns' types)
    sig_key, sig_types = {"video": ("frame_hashes", SIGNATURE_TYPES), "audio": ("hashes", PRINT_TYPES)}.get(
        cfg.kind, ("", {}))
    sig_cols = [c for c in sig_types if c in table.columns] if sig_key in table.columns else []
    path_col = _pick_path_column(table.columns, cfg, required=emb_col is None and text_col is None and not sig_cols)
    id_col = cfg.id_column or ("id" if "id" in table.columns else None)
    if cfg.id_column and cfg.id_column not in table.columns:
        raise InputError(f"input.id_column '{cfg.id_column}' is not in {source.location} "
                         f"(columns: {', '.join(table.columns)})")
    base = cfg.base_uri or _qualified(spark, posixpath.dirname(source.location.rstrip("/")) or ".")
    raw_path = F.col(f"`{path_col}`").cast("string") if path_col else F.lit(None).cast("string")
    uri = _resolve(raw_path, base)
    derived_id = F.regexp_replace(raw_path, r"^\./", "")
    item_id = F.col(f"`{id_col}`").cast("string") if id_col else derived_id
    corrupt = F.col("_corrupt_record") if "_corrupt_record" in table.columns else F.lit(None)
    no_path = raw_path.isNull() | (F.trim(raw_path) == "")
    error = F.when(corrupt.isNotNull(), F.lit("bad_input_row: line is not valid JSON"))
    if emb_col:
        error = error.when(F.col(f"`{emb_col}`").isNull(), F.lit(f"missing_embedding: {emb_col} is empty"))
    elif sig_cols:
        error = error.when(F.col(sig_key).isNull(), F.lit(f"missing_signature: {sig_key} is empty"))
    elif text_col:
        error = error.when(F.col(f"`{text_col}`").isNull() & no_path,
                           F.lit(f"missing_text: {text_col} is empty" + (f" and so is {path_col}" if path_col else "")))
    else:
        error = error.when(no_path, F.lit(f"missing_path: {path_col} is empty"))
    if id_col:  # without an id column a row's id is its path, or a hash of the row (vectors alone)
        error = error.when(item_id.isNull(), F.lit(f"missing_id: {id_col} is empty"))
    fallback_id = F.concat(F.lit("row-"), F.sha2(F.to_json(F.struct(*[F.col(f"`{c}`") for c in table.columns])), 256).substr(1, 16))
    columns = [F.coalesce(item_id, derived_id, fallback_id).alias("item_id"),
               F.when(~no_path, uri).alias("uri"), error.alias("input_error"),
               F.coalesce(item_id, derived_id).alias(ID_KEY)]  # the id without reading every column
    if emb_col:
        columns.append(F.col(f"`{emb_col}`").cast("array<float>").alias("embedding"))
        return table.select(*columns)
    if sig_cols:
        return table.select(*columns, *[F.col(f"`{c}`").cast(sig_types[c]).alias(c) for c in sig_cols])
    if text_col:
        columns.append(F.col(f"`{text_col}`").cast("string").alias("text"))
    # A table of paths is small next to the files it names, but Spark reads a Parquet row
    # group in one task: spread the rows, so reading the files uses every core.
    spread = spark.sparkContext.defaultParallelism * 2
    if table.rdd.getNumPartitions() < spread:
        table = table.repartition(spread)
    return table.select(*columns)


# pyarrow writes one row group per 1Mi rows by default: 2 GiB of list<float32> for 512-d
# vectors. Spark reads a row group's column chunks into the heap at once, in ONE task, so a
# local file with larger row groups is rewritten with small ones before Spark reads it.
MAX_ROW_GROUP_BYTES = 64 * 2**20
SPLIT_ROW_GROUP_BYTES = 16 * 2**20


def _split_row_groups(spark: SparkSession, source: Source, scratch: str) -> str | None:
    """A copy of `source` in `scratch` with row groups of ~SPLIT_ROW_GROUP_BYTES, or None.

    Only a single local file is rewritten (directories and remote files are read
    as they are), and only when a row group is larger than MAX_ROW_GROUP_BYTES
    (uncompressed). The copy is streamed with pyarrow, one batch at a time:
    memory here is a batch, not a row group. Spark then reads it in parallel
    splits of at most spark.sql.files.maxPartitionBytes.
    """
    import pyarrow.parquet as pq

    path, target = _local_file(spark, source.location), _local_file(spark, scratch, must_exist=False)
    if path is None or target is None:
        return None
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # noqa: BLE001 - Spark's reader reports it in its own words
        log.debug("not splitting %s: %s", path, exc)
        return None
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    largest = max((g.total_byte_size for g in groups), default=0)
    if largest <= MAX_ROW_GROUP_BYTES:
        return None
    rows = max(1, int(SPLIT_ROW_GROUP_BYTES * meta.num_rows / max(1, sum(g.total_byte_size for g in groups))))
    out = Path(target) / "part-00000.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    log.info("[ingest] %s has row groups of up to %d MiB (Spark would read each in one task, whole): "
             "rewriting it with %d-row groups in %s", source.location, largest >> 20, rows, out.parent)
    start = time.perf_counter()
    reader = pq.ParquetFile(path, buffer_size=8 * 2**20, pre_buffer=False)  # stream the pages
    # uncompressed: a scratch copy read once; embeddings hardly compress, and snappy cost ~25% of the rewrite's CPU
    with pq.ParquetWriter(out, reader.schema_arrow, compression="none") as writer:
        for batch in reader.iter_batches(batch_size=rows, use_threads=False):
            writer.write_batch(batch, row_group_size=rows)
    log.info("[ingest] rewritten in %.1f s", time.perf_counter() - start)
    return str(out)


def _local_file(spark: SparkSession, location: str, must_exist: bool = True) -> str | None:
    """The local path of `location` when it is on the local filesystem (a file, unless
    must_exist is False), else None."""
    if globlib.has_magic(location):
        return None
    qualified = _qualified(spark, location)
    if not qualified.startswith("file:"):
        return None
    path = _local_path(qualified)
    return path if not must_exist or os.path.isfile(path) else None


def embedding_column(columns: list[str], cfg: InputConfig) -> str | None:
    """The precomputed-embedding column: input.embedding_column, else one named 'embedding'."""
    if cfg.embedding_column:
        if cfg.embedding_column not in columns:
            raise InputError(f"input.embedding_column '{cfg.embedding_column}' is not in the table "
                             f"(columns: {', '.join(columns)})")
        return cfg.embedding_column
    return "embedding" if "embedding" in columns else None


def _text_column(columns: list[str], cfg: InputConfig, configured: str | None, location: str) -> str | None:
    """The inline-text column of a text table: `configured` (text.column), else one named 'text';
    None when the table has neither (its rows then need a path column)."""
    if configured:
        if configured not in columns:
            raise InputError(f"text.column '{configured}' is not in {location} (columns: {', '.join(columns)})")
        return configured
    if "text" in columns:
        return "text"
    if cfg.path_column or any(c in columns for c in PATH_COLUMN_CANDIDATES):
        return None
    raise InputError(f"{location} has neither a text column nor a path column (columns: {', '.join(columns)}); "
                     f"a text table needs 'text' (or set text.column) or one of {', '.join(PATH_COLUMN_CANDIDATES)}")


def _pick_path_column(columns: list[str], cfg: InputConfig, required: bool = True) -> str | None:
    if cfg.path_column:
        if cfg.path_column not in columns:
            raise InputError(f"input.path_column '{cfg.path_column}' is not in the table "
                             f"(columns: {', '.join(columns)})")
        return cfg.path_column
    for name in PATH_COLUMN_CANDIDATES:
        if name in columns:
            return name
    if not required:
        return None
    raise InputError(f"no path column found (looked for {', '.join(PATH_COLUMN_CANDIDATES)}; "
                     f"columns: {', '.join(columns)}); set input.path_column")


def _resolve(raw_path: Column, base: str) -> Column:
    """Absolute URIs and absolute paths stay; relative paths are joined to `base`."""
    absolute = raw_path.rlike(r"^[A-Za-z][A-Za-z0-9+.-]*:") | raw_path.startswith("/")
    joined = F.concat(F.lit(base.rstrip("/") + "/"), F.regexp_replace(raw_path, r"^\./", ""))
    return F.when(absolute, raw_path).otherwise(joined)


ID_KEY = "_id_key"  # a table row's id when it has one (id or path), null when it needs a fallback id


def _flag_duplicate_ids(items: DataFrame) -> DataFrame:
    """Keep every row: the 2nd+ row of an id gets a suffixed id and an error.

    Repeated ids are looked for first, in the id and path columns alone (a
    table's `_id_key`; the fallback id of a row with neither hashes the whole
    row, embeddings included). Only rows with a repeated id go through the
    window, so a table of vectors is not shuffled whole when its ids are unique
    (the usual case).
    """
    key = F.col(ID_KEY) if ID_KEY in items.columns else F.col("item_id")
    odd = items.groupBy(key.alias("_k")).count().where((F.col("count") > 1) | F.col("_k").isNull())
    found = odd.agg(F.count("*").alias("n"), F.sum(F.col("_k").isNull().cast("int")).alias("fallback")).first()
    items = items.drop(ID_KEY)
    if not found["n"]:
        return items
    if found["fallback"]:  # rows without id and path: their ids are known row by row only
        return _rank_ids(items)
    repeated = odd.select(F.col("_k").alias("item_id"))
    if found["n"] <= 100_000:
        repeated = F.broadcast(repeated)
    unique = items.join(repeated, "item_id", "left_anti").select(*items.columns)
    return unique.unionByName(_rank_ids(items.join(repeated, "item_id", "left_semi")))


def _rank_ids(items: DataFrame) -> DataFrame:
    w = Window.partitionBy("item_id").orderBy(F.col("uri").asc_nulls_last(), F.col("input_error").asc_nulls_first())
    ranked = items.withColumn("_n", F.row_number().over(w))
    dup = F.col("_n") > 1
    extra = [c for c in items.columns if c not in ("item_id", "uri", "input_error")]
    return ranked.select(
        F.when(dup, F.concat("item_id", F.lit("#"), F.col("_n").cast("string"))).otherwise(F.col("item_id")).alias("item_id"),
        "uri",
        F.when(dup, F.lit("duplicate_id: id also used by another input row")).otherwise(F.col("input_error")).alias("input_error"),
        *extra)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
