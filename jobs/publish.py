"""Staged writes and atomic publication through Hadoop's FileSystem API.

The job writes everything under a staging folder beside the output, then
renames it into place: readers never see a half-written output. Rename is atomic
on local disks and HDFS; on object stores (s3a, gs) it is a copy, so there
readers should wait for `summary.json`, which is written last.
"""
from __future__ import annotations

import json
from typing import Any

from pyspark.sql import SparkSession


class OutputExistsError(RuntimeError):
    """The output exists and --overwrite was not given."""


class Storage:
    """A thin wrapper over the JVM's Hadoop FileSystem for one base path."""

    def __init__(self, spark: SparkSession, base: str):
        self.spark = spark
        jvm = spark.sparkContext._jvm
        self._Path = jvm.org.apache.hadoop.fs.Path
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        self._fs = self._Path(base).getFileSystem(self._conf)
        self.base = self._fs.makeQualified(self._Path(base)).toString()

    def path(self, *parts: str) -> str:
        return "/".join([self.base.rstrip("/"), *parts])

    def exists(self, path: str) -> bool:
        return bool(self._fs.exists(self._Path(path)))

    def delete(self, path: str) -> None:
        if self.exists(path):
            self._fs.delete(self._Path(path), True)

    def rename(self, src: str, dst: str) -> None:
        if not self._fs.rename(self._Path(src), self._Path(dst)):
            raise IOError(f"could not rename {src} to {dst}")

    def write_text(self, path: str, text: str) -> None:
        stream = self._fs.create(self._Path(path), True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()


def staging_path(output: str, run_id: str) -> str:
    return f"{output.rstrip('/')}.staging-{run_id}"


def check_output(storage: Storage, output: str, overwrite: bool) -> None:
    """Fail before any work when the output exists and may not be replaced."""
    if storage.exists(output) and not overwrite:
        raise OutputExistsError(f"output {output} already exists; pass --overwrite to replace it")


def publish(storage: Storage, staging: str, output: str, overwrite: bool, run_id: str) -> None:
    """Move the finished staging folder to `output`; the old output goes only after."""
    old = None
    if storage.exists(output):
        if not overwrite:
            raise OutputExistsError(f"output {output} appeared during the run; left {staging} in place")
        old = f"{output.rstrip('/')}.old-{run_id}"
        storage.rename(output, old)
    storage.rename(staging, output)
    if old:
        storage.delete(old)


def write_json(storage: Storage, path: str, data: dict[str, Any]) -> None:
    storage.write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
