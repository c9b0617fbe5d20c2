"""The sweeps of the estimator study (bench/bench_extrapolation.py): public runs read in
place from the shared folder, and synthetic sweeps made to be misspecified.

Every sweep is a :class:`scalinglaws.Runs` with ``N``, ``D``, ``C`` and ``loss``; a
sweep that also knows the non-embedding parameter count carries it in the extra column
``N_nonembedding``.

Public sweeps (read from ``$SCALINGLAWS_SHARED`` or ``../shared`` beside the project):

* ``epoch``: Epoch AI's 245 digitised Chinchilla runs less the 5 of highest loss, as
  Epoch's replication does (240 runs; D = C / 6N; N counts embeddings).
* ``porian <setting>``: each of Porian et al.'s 15 settings separately (N, D, C = 6ND as
  the authors account them; settings differing only in accounting are the same runs).
* ``datablations``: Muennighoff et al.'s single-epoch runs (D = U, nothing repeated),
  main variant only (33 runs; the 8 extra seeds of two configurations are replicas).
* ``olmo``: the OLMo ladder's last checkpoint of each run (190M-3.2B, 0.5-10xC, with the
  1xC reruns) plus the two targets, OLMo 2 7B-4T (annealed) and 13B-5T; N is the
  non-embedding count the repo uses, D the tokens, C the repo's FLOPs (about 10 N per
  token, not 6N), loss the C4 validation loss. 7B stage 1 is left out (pre-anneal).

Synthetic sweeps (IsoFLOP layout, budgets 6e18-3e21 plus targets at 1e22 and 1e23,
12 sizes each, 1% log-normal noise, fixed seeds), from Epoch's Chinchilla law:

* ``synthetic exact``: the law itself (the control).
* ``synthetic extra term``: plus a second, slow power law in N, 1.0 / N^0.1.
* ``synthetic shape``: smaller models badly shaped, their loss raised by 2% per decade
  below 1e9 parameters (a shape effect that vanishes at scale).
* ``synthetic embeddings``: the law holds in non-embedding parameters N_ne, but N
  counts embeddings too, N = N_ne + 2 V d with V = 32,000 and d = (N_ne / 0.1875)^(1/3)
  (12 layers x d^2 per 64 of width: aspect ratio 64); C = 6 N D.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

import scalinglaws as sl
from scalinglaws.laws.synthetic import DEFAULT_BUDGETS, DEFAULT_TRUTH, isoflop_grid

ROOT = Path(__file__).resolve().parents[1]
TARGET_BUDGETS = (1e22, 1e23)
NOISE = 0.01


def shared_dir() -> Path:
    env = os.environ.get("SCALINGLAWS_SHARED")
    path = Path(env) if env else ROOT.parent / "shared"
    if not (path / "datasets").is_dir():
        raise SystemExit(f"shared reference folder not found at {path}: set SCALINGLAWS_SHARED")
    return path


def _runs(frame: pd.DataFrame, **extra) -> sl.Runs:
    return sl.Runs.from_arrays(N=frame["N"].to_numpy(float), D=frame["D"].to_numpy(float),
                               C=frame["C"].to_numpy(float), loss=frame["loss"].to_numpy(float),
                               **extra)


def epoch(shared: Path) -> sl.Runs:
    runs = sl.load_runs(shared / "datasets" / "chinchilla_epoch" / "svg_extracted_data.csv")
    return runs.exclude_top_loss(5)


def porian(shared: Path) -> dict:
    table = pd.read_csv(shared / "datasets" / "porian2024" / "porian2024_isoflop.csv")
    return {f"porian {setting}": _runs(part.reset_index(drop=True))
            for setting, part in table.groupby("setting", sort=True)}


def datablations(shared: Path) -> sl.Runs:
    table = pd.read_csv(shared / "datasets" / "muennighoff2023_datablations"
                        / "datablations_c4_runs.csv")
    single = table[(table["epochs"] == 1) & table["loss"].notna() & (table["variant"] == "main")]
    return _runs(single.reset_index(drop=True))


def olmo(shared: Path) -> sl.Runs:
    table = pd.read_csv(shared / "datasets" / "downstream_evals" / "olmo_ladder_checkpoints.csv")
    table = table[table["run_id"] != "olmo2-7B-stage1"]
    # the 7B anneal file has one row and no step: order by tokens within a run
    last = table.sort_values(["run_id", "tokens"]).groupby("run_id").tail(1)
    frame = pd.DataFrame({"N": last["n_params"], "D": last["tokens"], "C": last["flops"],
                          "loss": last["c4_en_loss"]}).reset_index(drop=True)
    return _runs(frame)


# -- synthetic ----------------------------------------------------------------------
def _chinchilla(N, D, truth=DEFAULT_TRUTH["chinchilla"]):
    return truth["E"] + truth["A"] / N ** truth["alpha"] + truth["B"] / D ** truth["beta"]


def _grid():
    return isoflop_grid(tuple(DEFAULT_BUDGETS) + TARGET_BUDGETS, n_sizes=12)


def _noisy(clean, seed):
    return clean * np.exp(NOISE * np.random.default_rng(seed).standard_normal(clean.shape))


def synthetic() -> dict:
    grid = _grid()
    N, D, C = (grid[c].to_numpy() for c in ("N", "D", "C"))
    base = _chinchilla(N, D)
    sweeps = {
        "synthetic exact": sl.Runs.from_arrays(N=N, D=D, C=C, loss=_noisy(base, 1)),
        "synthetic extra term": sl.Runs.from_arrays(
            N=N, D=D, C=C, loss=_noisy(base + 1.0 / N ** 0.1, 2)),
        "synthetic shape": sl.Runs.from_arrays(
            N=N, D=D, C=C, loss=_noisy(base * (1 + 0.02 * np.clip(np.log10(1e9 / N), 0, None)), 3)),
    }
    # embeddings: the law in N_ne; the table's N also counts 2 V d embedding weights
    width = (N / 0.1875) ** (1 / 3)
    total = N + 2 * 32_000 * width
    sweeps["synthetic embeddings"] = sl.Runs.from_arrays(
        N=total, D=D, C=6 * total * D, loss=_noisy(base, 4), N_nonembedding=N)
    return sweeps


def all_sweeps(shared: Path | None = None) -> dict:
    """Every sweep of the study by name, public ones first."""
    shared = shared_dir() if shared is None else shared
    return {"epoch": epoch(shared), **porian(shared), "datablations": datablations(shared),
            "olmo": olmo(shared), **synthetic()}


def with_nonembedding(runs: sl.Runs) -> sl.Runs:
    """The same runs with N = the non-embedding count (C and the held-out folds unchanged)."""
    frame = runs.frame
    return sl.Runs.from_arrays(N=frame["N_nonembedding"].to_numpy(float),
                               D=frame["D"].to_numpy(float), C=frame["C"].to_numpy(float),
                               loss=frame["loss"].to_numpy(float))
