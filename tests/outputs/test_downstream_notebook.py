"""notebooks/downstream.ipynb runs top to bottom (nbclient) on the OLMo ladder's table, read
in place; its cells assert the reproduced numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "downstream.ipynb"


def test_the_notebook_exists_and_reads_the_shared_table():
    text = NOTEBOOK.read_text(encoding="utf-8")
    assert "olmo_ladder_tasks.csv" in text and "SCALINGLAWS_SHARED" in text


@pytest.mark.slow
def test_downstream_notebook_runs(shared_dir, monkeypatch):
    import nbclient
    import nbformat

    monkeypatch.setenv("SCALINGLAWS_SHARED", str(shared_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert not errors, errors
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    assert "every chained prediction equals the repository's to 4 decimals" in printed
