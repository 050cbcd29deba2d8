"""Sources -> items: one row per input item with a stable id.

Output columns: item_id (string, unique), uri (string), input_error (string or
null: a row that cannot be processed at all, e.g. a null path).
"""
from __future__ import annotations

import glob as globlib
import logging
import posixpath
from dataclasses import dataclass
from urllib.parse import unquote

import pandas as pd

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.config import PATH_COLUMN_CANDIDATES, InputConfig

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


def read_items(spark: SparkSession, source: Source, cfg: InputConfig) -> DataFrame:
    """Items of `source` as (item_id, uri, input_error[, embedding]), ids made unique.

    `embedding` (array<float>) is present when the table carries precomputed
    embeddings; the job then skips decoding and the model.
    """
    if source.format == "files":
        items = _read_files(spark, source.location, cfg)
    else:
        items = _read_table(spark, source, cfg)
    return _flag_duplicate_ids(items)


# ---------------------------------------------------------------------------- files

def _read_files(spark: SparkSession, location: str, cfg: InputConfig) -> DataFrame:
    """Image files under a directory or matching a glob; ids are paths relative to the root.

    The listing comes from Spark's file index (`inputFiles`), not from a scan:
    a scan silently skips zero-byte files, and every file must become a row.
    """
    root = _uri_form(_qualified(spark, _glob_root(location))).rstrip("/") + "/"
    try:
        files = (spark.read.format("binaryFile")
                 .option("recursiveFileLookup", str(cfg.recursive).lower())
                 .load(location).inputFiles())
    except Exception as exc:  # AnalysisException: path does not exist
        raise InputError(f"cannot list input {location}: {_first_line(exc)}") from None
    extensions = {e.lower().lstrip(".") for e in cfg.extensions}
    rows = []
    for uri in sorted(files):
        name = unquote(uri.rsplit("/", 1)[-1])
        if name.rsplit(".", 1)[-1].lower() in extensions and "." in name:
            rel = _uri_form(uri)
            item_id = unquote(rel[len(root):]) if rel.startswith(root) else unquote(rel)
            rows.append((item_id, uri, None))
    skipped = len(files) - len(rows)
    if skipped:
        log.info("[ingest] %d files under %s do not have an image extension (%s) and are not inputs",
                 skipped, location, ", ".join(sorted(extensions)))
    if not rows:
        raise InputError(f"no image files found under {location} (extensions: {', '.join(sorted(extensions))})")
    pdf = pd.DataFrame(rows, columns=["item_id", "uri", "input_error"])
    parts = max(1, min(len(rows) // 2000 + 1, spark.sparkContext.defaultParallelism * 4))
    return spark.createDataFrame(pdf, "item_id string, uri string, input_error string").repartition(parts)


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


def _qualified(spark: SparkSession, path: str) -> str:
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs.makeQualified(hpath).toString()


# ---------------------------------------------------------------------------- tables

def _read_table(spark: SparkSession, source: Source, cfg: InputConfig) -> DataFrame:
    """Rows of a JSONL / Parquet / CSV table with an id column and a path-or-URL column."""
    reader = {"jsonl": lambda p: spark.read.json(p),
              "parquet": lambda p: spark.read.parquet(p),
              "csv": lambda p: spark.read.option("header", "true").csv(p)}[source.format]
    try:
        table = reader(source.location)
    except Exception as exc:
        raise InputError(f"cannot read {source.format} table {source.location}: {_first_line(exc)}") from None
    if "_corrupt_record" in table.columns:
        log.warning("some lines of %s are not valid JSON; they become error rows", source.location)
    emb_col = embedding_column(table.columns, cfg)
    path_col = _pick_path_column(table.columns, cfg, required=emb_col is None)
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
    else:
        error = error.when(no_path, F.lit(f"missing_path: {path_col} is empty"))
    error = error.when(item_id.isNull(), F.lit(f"missing_id: {id_col} is empty"))
    fallback_id = F.concat(F.lit("row-"), F.sha2(F.to_json(F.struct(*[F.col(f"`{c}`") for c in table.columns])), 256).substr(1, 16))
    columns = [F.coalesce(item_id, derived_id, fallback_id).alias("item_id"),
               F.when(~no_path, uri).alias("uri"), error.alias("input_error")]
    if emb_col:
        columns.append(F.col(f"`{emb_col}`").cast("array<float>").alias("embedding"))
    return table.select(*columns)


def embedding_column(columns: list[str], cfg: InputConfig) -> str | None:
    """The precomputed-embedding column: input.embedding_column, else one named 'embedding'."""
    if cfg.embedding_column:
        if cfg.embedding_column not in columns:
            raise InputError(f"input.embedding_column '{cfg.embedding_column}' is not in the table "
                             f"(columns: {', '.join(columns)})")
        return cfg.embedding_column
    return "embedding" if "embedding" in columns else None


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


def _flag_duplicate_ids(items: DataFrame) -> DataFrame:
    """Keep every row: the 2nd+ row of an id gets a suffixed id and an error."""
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
