"""Entry point: `dedup run|example ...`, `python -m jobs.dedup ...`, `spark-submit jobs/dedup.py ...`.

Parses arguments, loads the config, calls the pipeline, and exits non-zero on
failure: 2 for a problem the user can fix (config, input, model, output
exists), 1 for anything else. A failed run ends with one line on stderr
(`dedup: ...`): for memory, time and a lost JVM it names the stage and the
setting to change (jobs.failures); the details are logged above it.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file by spark-submit: make `jobs` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs.config import KINDS, ConfigError, JobConfig, load_config  # noqa: E402

log = logging.getLogger("dedup")

USER_ERRORS = ("ConfigError", "InputError", "ModelNotFoundError", "OutputExistsError", "FileNotFoundError")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dedup", description="Near-duplicate image detection on Spark")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="deduplicate a corpus and write Parquet manifests")
    run.add_argument("--input", required=True,
                     help="directory or glob of images (or text, video or audio files), or a JSONL/Parquet/CSV table")
    run.add_argument("--output", required=True, help="output folder (manifest/, pairs/, clusters/, summary.json)")
    run.add_argument("--corpus", default=None, metavar="STORE",
                     help="corpus store: compare with everything stored, then add this run's items")
    _common(run)

    q = sub.add_parser("query", help="is an image (a text document, a video, a recording) already in a corpus store? "
                                     "(no Spark)")
    q.add_argument("--corpus", required=True, metavar="STORE")
    q.add_argument("images", nargs="+", metavar="FILE",
                   help="images, or text documents for a text store, videos for a video store, audio files "
                        "for an audio store")
    q.add_argument("--kind", choices=KINDS, default=None,
                   help="the store's kind (default: read from the store); same as --set input.kind=KIND")
    q.add_argument("--json", action="store_true", help="print JSON instead of a table")
    q.add_argument("--top", type=int, default=5, help="matches listed per image (default 5)")
    q.add_argument("--conf", action="append", default=[], metavar="FILE")
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides")

    ex = sub.add_parser("example", help="build the built-in example corpus and deduplicate it")
    ex.add_argument("--output", default="example-output", help="folder for corpus/ and result/ (default: %(default)s)")
    _common(ex)
    from jobs import report
    report.add_parser(sub)
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--conf", action="append", default=[], metavar="FILE", help="YAML config, may repeat")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override one setting, e.g. --set phash.max_hamming=8; may repeat")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--run-id", default=None, help="run id written to every row (default: time + random)")
    p.add_argument("--kind", choices=KINDS, default=None,
                   help="what the items are: image (default), text (.txt/.md/.html files, or a table with a "
                        "text or path column), video (video files, or a table with a video or path column) or "
                        "audio (audio files, or a table with an audio or path column); "
                        "same as --set input.kind=KIND")
    p.add_argument("--driver-memory", default=None, metavar="SIZE",
                   help="Spark driver heap in local mode, e.g. 8g (default: half this machine's memory); "
                        "same as --set spark.driver_memory=SIZE")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    cfg = None
    try:
        if args.command == "report":
            return args.handler(args)
        if getattr(args, "driver_memory", None):
            args.overrides = [*args.overrides, f"spark.driver_memory={args.driver_memory}"]
        if getattr(args, "kind", None):
            args.overrides = [*args.overrides, f"input.kind={args.kind}"]
        cfg = load_config(args.conf, args.overrides)
        if args.command == "example":
            return run_example(args, cfg)
        if args.command == "query":
            return run_query(args, cfg)
        summary = run_job(cfg, args.input, args.output, args.overwrite, args.run_id, args.corpus)
        print(json.dumps(summary["counts"]))
        return 0
    except Exception as exc:  # noqa: BLE001 - the exit code tells the scheduler
        if type(exc).__name__ in USER_ERRORS or isinstance(exc, ConfigError):
            log.error("%s", exc)
            return 2
        report_failure(exc, cfg)
        return 1


def report_failure(exc: BaseException, cfg: JobConfig | None) -> None:
    """Details first, then stop a JVM we started, then ONE last line on stderr.

    The JVM shares our stderr and logs asynchronously, so it is stopped before
    the last line is printed; otherwise its shutdown noise would follow it.
    """
    from jobs import failures
    from jobs.spark import jvm_exit_code, session_facts, stop_session

    texts = failures.messages(exc)  # first: the JVM may be exiting
    stage = failures.stage_of(exc)
    facts = session_facts()
    exit_code = jvm_exit_code(wait_s=10 if failures.jvm_exiting(exc, texts) else 0)
    failure = failures.explain(exc, facts, cfg, exit_code, texts)
    if failure is None:
        log.exception("run failed%s: %s", f" during stage {stage}" if stage else "", _first_line(exc))
    else:
        log.error("run failed:\n  %s", "\n  ".join(failures.summary(texts)))
        log.error("full traceback in %s", failures.write_details(exc))
    stop_session()
    line = failure.line(stage) if failure else \
        f"dedup: run failed{f' during stage {stage}' if stage else ''}: {_first_line(exc)} (details above)"
    for handler in logging.getLogger("dedup").handlers:
        handler.flush()
    sys.stdout.flush()
    print(line, file=sys.stderr, flush=True)


def _first_line(exc: BaseException) -> str:
    try:
        text = str(exc).strip()
    except Exception:  # noqa: BLE001 - Py4JJavaError.__str__ needs the JVM
        text = ""
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first[:300]}" if first else type(exc).__name__


def configure_logging(level: str) -> None:
    """Our progress lines on stderr, whatever logging setup Spark or a notebook already made."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("dedup", "udfs"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False


def run_job(cfg: JobConfig, source: str, output: str, overwrite: bool = False,
            run_id: str | None = None, corpus: str | None = None) -> dict:
    """Resolve the model (fail fast), start Spark, run the pipeline; returns the summary."""
    from jobs import failures, pipeline
    from jobs.spark import get_session

    embed, model_fp = resolve_embedding(cfg)
    with failures.tagged("start"):
        spark = get_session(cfg.spark)
    ctx = pipeline.RunContext(spark=spark, cfg=cfg, source=source, output=output,
                              run_id=run_id or pipeline.new_run_id(), overwrite=overwrite, corpus=corpus)
    log.info("run %s: %s -> %s (config %s)", ctx.run_id, source, output, cfg.fingerprint())
    return pipeline.run(ctx, embed, model_fp)


def resolve_embedding(cfg: JobConfig):
    """(EmbedSpec, model fingerprint) when embeddings are on for images, else (None, None)."""
    if not cfg.embedding.enabled or cfg.input.kind != "image":
        return None, None
    from udfs.adapters import EmbedSpec
    from udfs.embed import model_fingerprint, resolve_model

    path = resolve_model(cfg.embedding.model)
    e = cfg.embedding
    log.info("embedding model %s from %s", e.model, path)
    spec = EmbedSpec(model_path=str(path), device=e.device, precision=e.precision,
                     batch_size=e.batch_size, num_threads=e.num_threads)
    return spec, model_fingerprint(path)


def run_example(args: argparse.Namespace, cfg: JobConfig) -> int:
    """Build the example corpus (real photographs + edited copies) and deduplicate it."""
    from jobs.corpus import build_example_corpus
    from jobs.show import print_result

    if cfg.input.kind in ("text", "video", "audio"):
        return run_kind_example(args, cfg)
    out = Path(args.output).resolve()
    corpus = out / "corpus"
    if not (corpus / "planted.csv").exists():
        log.info("building the example corpus in %s", corpus)
        build_example_corpus(corpus)
    if not cfg.embedding.enabled and _default_model_available(cfg):
        log.info("a local copy of %s was found: embeddings on", cfg.embedding.model)
        cfg = load_config(args.conf, [*args.overrides, "embedding.enabled=true"])
    elif not cfg.embedding.enabled:
        log.info("no local copy of %s: running hash-only (exact + pHash). "
                 "Point --set embedding.model=DIR at a CLIP model and --set embedding.enabled=true "
                 "to add embeddings", cfg.embedding.model)
    result = out / "result"
    summary = run_job(cfg, str(corpus), str(result), overwrite=True, run_id=args.run_id)
    print_result(str(result), summary, corpus / "planted.csv")
    return 0


def run_kind_example(args: argparse.Namespace, cfg: JobConfig) -> int:
    """Build the text, video or audio example corpus (originals + planted copies, negatives, broken files)
    under OUTPUT/<kind>-corpus and deduplicate it into OUTPUT/<kind>-result."""
    from jobs.show import print_result

    kind = cfg.input.kind
    if kind == "text":
        from jobs.text_example import build_text_corpus as build
    elif kind == "audio":
        from jobs.audio_example import build_audio_corpus as build
    else:
        from jobs.video_example import build_video_corpus as build
    out = Path(args.output).resolve()
    corpus = out / f"{kind}-corpus"
    if not (corpus / "planted.csv").exists():
        log.info("building the %s example corpus in %s", kind, corpus)
        build(corpus)
    result = out / f"{kind}-result"
    summary = run_job(cfg, str(corpus), str(result), overwrite=True, run_id=args.run_id)
    print_result(str(result), summary, corpus / "planted.csv")
    return 0


def run_query(args: argparse.Namespace, cfg: JobConfig) -> int:
    """Answer from the store; exit 0 when every image was read, 3 when one could not be."""
    from jobs.query import Store, format_table, query
    from udfs.embed import get_embedder

    store = Store.open(args.corpus)
    if args.kind and args.kind != store.kind:
        from jobs.ingest import InputError
        from jobs.store import kind_mismatch
        raise InputError(kind_mismatch(args.corpus, store.kind, args.kind))
    if store.kind == "text":
        return _run_text_query(args, cfg, store)
    if store.kind == "video":
        return _run_video_query(args, cfg, store)
    if store.kind == "audio":
        return _run_audio_query(args, cfg, store)
    embedder = None
    if cfg.embedding.enabled and store.centroids is not None:
        spec, _ = resolve_embedding(cfg)
        embedder = get_embedder(spec.model_path, spec.device, spec.precision, spec.batch_size, spec.num_threads)
    return _answer_each(args, "image", lambda image: query(store, image, cfg, embedder, args.top), format_table)


def _run_text_query(args: argparse.Namespace, cfg: JobConfig, store: "jobs.query.Store") -> int:  # noqa: F821
    """`dedup query` on a text store: the same output formats and exit codes as for images."""
    from jobs.text_store import TextIndex, format_table, query_text

    index = TextIndex.open(store.state, store.feature_fingerprint, cfg.text)
    return _answer_each(args, "document", lambda doc: query_text(index, doc, cfg, args.top), format_table)


def _run_video_query(args: argparse.Namespace, cfg: JobConfig, store: "jobs.query.Store") -> int:  # noqa: F821
    """`dedup query` on a video store: the same output formats and exit codes as for images."""
    from jobs.video_store import VideoIndex, format_table, query_video

    index = VideoIndex.open(store.state, store.feature_fingerprint, cfg.video)
    return _answer_each(args, "video", lambda video: query_video(index, video, cfg, args.top), format_table)


def _run_audio_query(args: argparse.Namespace, cfg: JobConfig, store: "jobs.query.Store") -> int:  # noqa: F821
    """`dedup query` on an audio store: the same output formats and exit codes as for images."""
    from jobs.audio_store import AudioIndex, format_table, query_audio

    index = AudioIndex.open(store.state, store.feature_fingerprint, cfg.audio)
    return _answer_each(args, "audio", lambda audio: query_audio(index, audio, cfg, args.top), format_table)


def _answer_each(args: argparse.Namespace, name: str, answer, format_table) -> int:
    """Query every file of `args.images`, print JSON or a table; exit 3 when one could not be read.

    A file that fails is reported in its own row ({name: file, "error": ...}) and the rest go on.
    """
    results, failed = [], 0
    for path in args.images:
        try:
            results.append(answer(path))
        except Exception as exc:  # noqa: BLE001 - report per file, go on
            failed += 1
            results.append({name: path, "error": str(exc), "duplicate": None, "matches": []})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_table([r for r in results if "error" not in r]))
        for r in results:
            if "error" in r:
                print(f"{r[name]}: ERROR {r['error']}")
    return 3 if failed else 0


def _default_model_available(cfg: JobConfig) -> bool:
    from udfs.embed import ModelNotFoundError, resolve_model
    try:
        resolve_model(cfg.embedding.model)
        return True
    except ModelNotFoundError:
        return False


if __name__ == "__main__":
    sys.exit(main())
