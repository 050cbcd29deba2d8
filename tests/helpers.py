"""Reading a run's outputs in tests, and references the tests compare them with."""
from __future__ import annotations

import http.server
import json
import re
import threading
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

from jobs.show import read_manifest


def read_run(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """(manifest, pairs, clusters, summary) of a published run folder."""
    pairs = pd.read_parquet(out / "pairs")
    clusters = pd.read_parquet(out / "clusters")
    summary = json.loads((out / "summary.json").read_text())
    return read_manifest(str(out)), pairs, clusters, summary


def ref_jaccard(a: str, b: str, k: int = 3) -> float:
    """Jaccard similarity of word k-shingle sets, computed here on strings (not with udfs.text)."""
    def shingles(text: str) -> set:
        tokens = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
        return {tuple(tokens[i:i + k]) for i in range(max(1, len(tokens) - k + 1))}
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


@contextmanager
def flaky_server(body: bytes, name: str) -> Iterator[tuple[str, dict]]:
    """A local HTTP server answering 503 until `state["up"]` is set, then `body`: (url of `name`, state)."""
    state = {"up": False}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if not state["up"]:
                self.send_response(503)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{name}", state
    finally:
        server.shutdown()
