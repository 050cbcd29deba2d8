"""Execute the notebooks headless (nbclient) against a fresh small run, papermill-style parameters.

Also the tool that refreshes the outputs committed with the notebooks:

    dedup example --output /tmp/ex
    python -m tests.test_notebooks /tmp/ex      # /tmp/ex/result and /tmp/ex/corpus/planted.csv

executes both notebooks with their default parameters (``../example-output/...``,
pointed at the given folder through a temporary link) and writes them back with outputs.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from tests.test_report import build_small_run

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def inject_parameters(nb, params: dict):
    """Insert a cell tagged "injected-parameters" right after the cell tagged "parameters"."""
    index = next((i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), None)
    if index is None:
        raise ValueError("the notebook has no cell tagged 'parameters'")
    cell = nbformat.v4.new_code_cell("# Parameters\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items()))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, cell)
    return nb


def execute_notebook(path: Path, params: dict | None = None, cwd: Path | None = None, timeout: int = 300):
    """Run every cell in a fresh python3 kernel (cwd: the notebook's folder); raises on a cell error."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timings of an earlier run
    if params:
        inject_parameters(nb, params)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                                     resources={"metadata": {"path": str(cwd or path.parent)}})
    client.execute()
    return nb


def outputs(nb, mime: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if mime in o.get("data", {})]


def errors(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]


@pytest.fixture(scope="session")
def small_run(spark, tmp_path_factory) -> tuple[Path, Path]:
    return build_small_run(tmp_path_factory.getbasetemp())


@pytest.mark.spark
def test_threshold_tuning_notebook(small_run, tmp_path):
    run_dir, planted = small_run
    saved = tmp_path / "labels.csv"
    nb = execute_notebook(NOTEBOOKS / "threshold_tuning.ipynb", cwd=tmp_path, params={
        "RUN": str(run_dir), "LABELS": str(planted), "LABELS_OUT": str(saved), "ANSWERS": "yn", "SAMPLE_N": 4})
    assert not errors(nb)
    assert len(outputs(nb, "image/png")) >= 2  # histogram + precision/recall curve
    assert any('<img class="thumb"' in "".join(o["data"]["text/html"]) for o in outputs(nb, "text/html"))
    text = "".join("".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "max_hamming:" in text
    labels = pd.read_csv(saved)
    assert list(labels.columns) == ["item_a", "item_b", "is_duplicate"] and len(labels) == 2


@pytest.mark.spark
def test_threshold_tuning_notebook_without_labels(small_run, tmp_path):
    nb = execute_notebook(NOTEBOOKS / "threshold_tuning.ipynb", cwd=tmp_path,
                          params={"RUN": str(small_run[0]), "LABELS": None})
    assert not errors(nb) and len(outputs(nb, "image/png")) >= 1


@pytest.mark.spark
def test_cluster_review_notebook(small_run, tmp_path):
    nb = execute_notebook(NOTEBOOKS / "cluster_review.ipynb", cwd=tmp_path,
                          params={"RUN": str(small_run[0]), "N_CLUSTERS": 2})
    assert not errors(nb)
    assert len(outputs(nb, "image/png")) >= 1
    assert sum("KEEP" in "".join(o["data"]["text/html"]) for o in outputs(nb, "text/html")) >= 2


def test_notebooks_have_parameters_and_define_no_functions():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1, path.name
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "def " not in code and "class " not in code, f"{path.name} must import its logic from jobs.tuning"
        assert "import jobs" in code or "from jobs import" in code
        assert path.stat().st_size < 2_000_000


def refresh_committed_outputs(example: Path) -> None:
    """Execute both notebooks with default parameters against ``example`` and save them with outputs."""
    with tempfile.TemporaryDirectory(prefix="dedup-nb-") as tmp:
        (Path(tmp) / "example-output").symlink_to(example.resolve())
        (Path(tmp) / "notebooks").mkdir()
        for path in sorted(NOTEBOOKS.glob("*.ipynb")):
            nb = execute_notebook(path, cwd=Path(tmp) / "notebooks")
            nbformat.write(nb, path)
            print(f"{path}: {path.stat().st_size / 1e6:.2f} MB")
        shutil.rmtree(Path(tmp) / "notebooks")


if __name__ == "__main__":
    refresh_committed_outputs(Path(sys.argv[1] if len(sys.argv) > 1 else "example-output"))
