"""Regenerate the README figures in docs/figures/.

Run from anywhere::

    python docs/make_figures.py

Figures (PNG, 130 dpi):

* ``fit_vs_data.png`` — the Chinchilla law fitted to the bundled synthetic IsoFLOP sweep
  ``datasets/synthetic_chinchilla_sweep.csv`` (9 budgets x 12 sizes, known truth): the runs
  coloured by compute and the fitted law through each budget.
* ``efficient_frontier.png`` — compute-optimal N against compute with a 95% bootstrap band
  (200 resamples, seed 0), Kaplan's and Hoffmann's published frontiers
  (``scalinglaws.laws.published``) and the models of ``known_models()`` (the table shipped
  as ``src/scalinglaws/data/known_models.csv``). The fit is to Epoch AI's 245 digitised Chinchilla runs
  (``../shared/datasets/chinchilla_epoch/svg_extracted_data.csv``, or ``$SCALINGLAWS_SHARED``;
  the 5 largest losses dropped, as Epoch's replication) when that file exists, else to the
  synthetic sweep; the script prints which, and the figure's title says so.
* ``loss_landscape.png`` — the synthetic-sweep fit's predicted loss over (N, D) with
  iso-compute lines, the compute-optimal path and the runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from scalinglaws import (
    fit,
    load_runs,
    plot,
)
from scalinglaws.uncertainty.bootstrap import bootstrap

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "figures"
DPI = 130


def epoch_csv() -> Path | None:
    """Epoch's digitised Chinchilla runs, when the shared folder is beside the project."""
    candidates = []
    if os.environ.get("SCALINGLAWS_SHARED"):
        candidates.append(Path(os.environ["SCALINGLAWS_SHARED"]))
    candidates.append(ROOT.parent / "shared")
    for shared in candidates:
        path = shared / "datasets" / "chinchilla_epoch" / "svg_extracted_data.csv"
        if path.is_file():
            return path
    return None


def save(fig, name: str) -> Path:
    path = OUT / name
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    sweep = load_runs(ROOT / "datasets" / "synthetic_chinchilla_sweep.csv")
    synthetic = fit(sweep, "chinchilla")

    ax = plot.fit_vs_data(synthetic, sweep)
    ax.set_title("Chinchilla law fitted to the synthetic IsoFLOP sweep (108 runs)",
                 fontsize="medium")
    save(ax.figure, "fit_vs_data.png")

    path = epoch_csv()
    if path is not None:
        runs = load_runs(path).exclude_top_loss(5)
        source = "Epoch AI's digitised Chinchilla runs (240 of 245)"
    else:
        runs = sweep
        source = "the synthetic sweep (Epoch's data not found)"
    print(f"efficient frontier: fit to {source}")
    result = fit(runs, "chinchilla")
    result = result.with_bootstrap(bootstrap(result, runs, 200, rng=0))
    ax = plot.efficient_frontier(result)
    ax.set_title(f"Efficient frontier of the Chinchilla law fitted to\n{source}",
                 fontsize="medium")
    save(ax.figure, "efficient_frontier.png")

    ax = plot.loss_landscape(synthetic, runs=sweep)
    save(ax.figure, "loss_landscape.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
