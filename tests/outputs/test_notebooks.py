"""Every notebook runs top to bottom (nbclient), reading the shared data in place, and the
notebooks check their own key numbers: a notebook whose numbers drift stops with an
AssertionError, which fails this test."""

import ast
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"fit_your_sweep.ipynb", "reproduce_hoffmann.ipynb", "reproduce_kaplan.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_asserts_its_key_numbers(path):
    """Running a notebook proves only that it runs; its numbers are checked by assert
    statements in its own code cells."""
    notebook = nbformat.read(path, as_version=4)
    asserts = 0
    for cell in notebook.cells:
        if cell.cell_type == "code":
            # IPython magics (%matplotlib inline, !pip ...) are not Python
            source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                for line in cell.source.splitlines())
            tree = ast.parse(source)
            asserts += sum(isinstance(node, ast.Assert) for node in ast.walk(tree))
    assert asserts >= 3, f"{path.name}: {asserts} assert statements"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, shared_dir, monkeypatch):
    monkeypatch.setenv("SCALINGLAWS_SHARED", str(shared_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, when a cell fails
    errors = [o for cell in notebook.cells for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    # no progress bar falls back to text with a warning in a notebook (progress is on only
    # for a terminal; a notebook without ipywidgets printed "TqdmWarning: IProgress not found")
    streams = "".join(o.get("text", "") for cell in notebook.cells
                      for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    assert "TqdmWarning" not in streams and "IProgress" not in streams
