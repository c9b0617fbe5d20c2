"""The README's study tables are the recorded bench runs, number for number.

``bench/extrapolation_record.json`` is the ``--json`` record of
``bench/bench_extrapolation.py`` (22 sweeps, 11 estimators; 844 s) and
``bench/prediction_intervals_record.json`` that of ``bench/bench_prediction_intervals.py``
(137 s): too long for the test suite, so the README's tables are checked against the
records instead (``python bench/bench_extrapolation.py --from-json
bench/extrapolation_record.json`` prints every table, with max error and bias per sweep).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
STUDY_COLUMNS = ("huber1e-3", "huber1e-4", "huber1e-2", "sq-log", "sq-lin", "w-compute",
                 "tied", "asym", "kaplan_nd", "nonemb", "select")


def _record(name):
    return json.loads((ROOT / "bench" / name).read_text())


def _row(first_cell: str) -> list[str]:
    """The cells of the README table row whose first cell is ``first_cell``."""
    match = re.search(rf"^\| {re.escape(first_cell)} \|(.*)\|\s*$", README, re.M)
    assert match, f"no README row {first_cell!r}"
    return [cell.strip() for cell in match.group(1).split("|")]


def _short(name: str) -> str:
    return name.replace("porian ", "p:").replace("synthetic ", "syn:")


def test_every_sweep_row_of_the_estimator_table_is_the_record():
    record = _record("extrapolation_record.json")
    assert len(record) == 22
    for name, rows in record.items():
        cells = _row(_short(name))
        assert cells[:2] == [str(rows["_n_runs"]), str(rows["huber1e-3"]["n"])], name
        for label, cell in zip(STUDY_COLUMNS, cells[2:]):
            expected = f"{100 * rows[label]['mean']:.2f}" if label in rows else ""
            assert cell.strip("*") == expected, (name, label)


def test_mean_per_source_row_is_the_record():
    record = _record("extrapolation_record.json")
    sources = [["epoch"], ["datablations"], ["olmo"],
               [n for n in record if n.startswith("porian")]]
    cells = _row("**mean per source** (epoch, Porian's 15, datablations, olmo)")[2:]
    for label, cell in zip(STUDY_COLUMNS, cells):
        if label == "nonemb":
            continue  # only the synthetic embeddings sweep has it
        value = np.mean([np.mean([record[n][label]["mean"] for n in names])
                         for names in sources])
        assert cell.strip("*") == f"{100 * value:.2f}", label


@pytest.mark.parametrize("label, names, prediction, confidence", [
    ("Epoch's Chinchilla runs", lambda n: n == "epoch", "96.2%", "42%"),
    ("Porian et al., the 9 short-warmup settings", lambda n: "/short/" in n, "97.7%", "48%"),
    ("Porian et al., the 6 long-warmup settings (losses read from longer runs)",
     lambda n: "/long/" in n, "81.8%", "33%"),
    ("datablations (33 single-epoch runs)", lambda n: n == "datablations", "100%", "94%"),
    ("OLMo ladder (final checkpoints)", lambda n: n == "olmo", "100%", "37%"),
    ("4 synthetic sweeps (exact, extra term, shape, embeddings)",
     lambda n: n.startswith("synthetic"), "97.7%", "78%"),
])
def test_prediction_interval_rows_are_the_record(label, names, prediction, confidence):
    # a group's row is the mean of its sweeps' coverages (the bench's "mean of sweeps")
    record = _record("prediction_intervals_record.json")
    chosen = [record[n]["default"] for n in record if names(n)]
    cells = _row(label)
    assert cells[0].startswith(prediction) and cells[1] == confidence
    digits = len(prediction.rstrip("%").split(".")[1]) if "." in prediction else 0
    assert f"{100 * np.mean([c['prediction'] for c in chosen]):.{digits}f}%" == prediction
    assert f"{100 * np.mean([c['confidence'] for c in chosen]):.0f}%" == confidence


def test_pooled_public_coverage_is_the_record():
    record = _record("prediction_intervals_record.json")
    public = [v["default"] for n, v in record.items() if not n.startswith("synthetic")]
    records = sum(v["records"] for v in public)
    pooled = sum(v["prediction"] * v["records"] for v in public) / records
    confidence = sum(v["confidence"] * v["records"] for v in public) / records
    assert _row(f"all {records:,} public records, pooled") == [f"{100 * pooled:.1f}%",
                                                              f"{100 * confidence:.0f}%"]


def test_every_fit_reaches_the_objective_of_the_engine_before_it(shared_dir):
    """Issue 18's guarantee: on every dataset of the tests and of ../shared (153 fits) the
    objective is no higher than the pre-issue-18 engine's record to 1e-12 relative (NIST
    Lanczos2 to its rounding floor, see ROUNDING_FLOOR in the bench)."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_objectives.py"),
                           "--compare", str(ROOT / "bench" / "objectives_record.json")],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "SCALINGLAWS_SHARED": str(shared_dir)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "compared 153: higher than the record (rtol 1e-12) in 0" in done.stdout
