"""Hoffmann et al. (2022) Approach 3 on Epoch AI's digitised runs, with bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...analysis._common import far_beyond_shown
from ...analysis.extrapolate import compute_optimal, diagnose
from ...fitting.estimator import FitResult, fit
from ...laws import published as pub
from ...laws.forms import Chinchilla
from ...uncertainty.bootstrap import bootstrap
from ._report import Reproduction

__all__ = ["reproduce_hoffmann", "HOFFMANN_TABLE3"]

#: Hoffmann et al. (2022) Table 3 (Approach 1 projections): parameters, FLOPs, tokens.
HOFFMANN_TABLE3 = pd.DataFrame({
    "params": [400e6, 1e9, 10e9, 67e9, 175e9, 280e9, 520e9, 1e12, 10e12],
    "flops": [1.92e19, 1.21e20, 1.23e22, 5.76e23, 3.85e24, 9.90e24, 3.43e25, 1.27e26, 1.30e28],
    "tokens": [8.0e9, 20.2e9, 205.1e9, 1.5e12, 3.7e12, 5.9e12, 11.0e12, 21.2e12, 216.2e12],
})


@far_beyond_shown()  # the paper's own budgets (to 1e25): the tables are the paper's, not a forecast
def reproduce_hoffmann(path=None, *, n_resamples: int = 1000, rng=0, download: bool = True,
                       n_jobs: int = 1, progress=None,
                       confidence_level: float = 0.95) -> Reproduction:
    """Hoffmann et al. (2022) Approach 3 on Epoch AI's digitised runs, with bootstrap intervals.

    Compares the fit with Hoffmann's coefficients (rounded and unrounded) and
    Besiroglu et al.'s refit, scores every set on the same objective, gives the
    compute-optimal exponents and allocations, and Hoffmann's Table 3 beside
    what the fitted law implies for the same model sizes. The intervals of this fit are
    bootstrap percentiles at ``confidence_level`` (columns ``"95% low"``... name the level;
    Besiroglu et al.'s are their published 95% ones).
    """
    from ..._validation import check_confidence_level
    from ...data.public import epoch_chinchilla

    level = check_confidence_level(confidence_level)
    shown = f"{100 * level:g}%"
    runs = epoch_chinchilla(path, download=download)
    result = fit(runs, "chinchilla")
    boot = None
    if n_resamples:
        # (the bootstrap's warnings, such as too few draws for the level, go through the
        # caller's filters: an override to "default" here showed them to a caller who
        # ignored them and let them pass one who made them errors)
        boot = bootstrap(result, runs, n_resamples, rng=rng, n_jobs=n_jobs, progress=progress,
                         confidence_level=level)
        result = result.with_bootstrap(boot)
    sets = {"this fit": result.params, "Besiroglu 2024 Table 1": pub.BESIROGLU_2024_TABLE1,
            "Hoffmann 2022 (TeX)": pub.HOFFMANN_2022_TEX,
            "Hoffmann 2022 (printed)": pub.HOFFMANN_2022_ROUNDED}
    scored = {**sets, "Besiroglu 2024 notebook (unrounded)": pub.BESIROGLU_2024_NOTEBOOK}
    rows = []
    for name in Chinchilla.param_names:
        row = {"parameter": name}
        for label, params in sets.items():
            row[label] = params[name]
        if boot is not None:
            row[f"{shown} low"], row[f"{shown} high"] = boot.intervals[name]
        row["Besiroglu 95%"] = "[{:.4g}, {:.4g}]".format(*pub.BESIROGLU_2024_INTERVALS[name])
        rows.append(row)
    coefficients = pd.DataFrame(rows)
    loss = result.loss
    objective_rows = []
    for label, params in scored.items():
        pred = Chinchilla().predict(params, N=runs.N, D=runs.D)
        objective_rows.append({"coefficients": label, "sum of Huber(1e-3) on 240 runs":
                               float(np.sum(loss.rho(np.log(pred) - np.log(runs.loss))))})
    exponent_rows = []
    for label, params in sets.items():
        a = params["beta"] / (params["alpha"] + params["beta"])
        exponent_rows.append({"coefficients": label, "a (N_opt ~ C^a)": a, "b": 1 - a})
    exponents = pd.DataFrame(exponent_rows)
    if boot is not None:
        _, low, high = boot.allocation_exponents()["a"]
        exponents[f"a {shown} low"] = [low] + [np.nan] * (len(sets) - 1)
        exponents[f"a {shown} high"] = [high] + [np.nan] * (len(sets) - 1)
    budgets = np.array([1e21, pub.GOPHER_BUDGET, pub.CHINCHILLA_BUDGET_6ND, 1e25])
    allocation_rows = []
    for label, params in sets.items():
        law = result if label == "this fit" else FitResult.from_params("chinchilla", params)
        alloc = compute_optimal(law, budgets,
                                draws=boot if label == "this fit" else None)
        for i, c in enumerate(budgets):
            allocation_rows.append({"coefficients": label, "compute (FLOP)": c,
                                    "N_opt": alloc.N[i], "D_opt": alloc.D[i],
                                    "tokens/param": alloc.tokens_per_parameter[i]})
    gpt3 = _gpt3_rows(sets, result)
    table3 = HOFFMANN_TABLE3.copy()
    implied = diagnose(result, table3["params"].to_numpy(), table3["tokens"].to_numpy())
    table3["FLOPs (this fit)"] = implied.optimal_C_for_N
    table3["tokens (this fit)"] = implied.optimal_D_for_N
    table3["tokens/param (paper)"] = table3["tokens"] / table3["params"]
    table3["tokens/param (this fit)"] = table3["tokens (this fit)"] / table3["params"]
    notes = (
        "Data: Epoch AI's 245 points digitised from Hoffmann et al. Fig. 4, 5 highest-loss runs "
        "dropped (240).",
        "Objective: sum of Huber(delta=1e-3) on log residuals, Hoffmann's 4,500-start grid "
        "(App. D.2); Besiroglu's Table 1 comes from a Huber likelihood with a fitted scale, "
        "hence the 3rd-significant-figure spread in A and B.",
        "Only the unrounded TeX coefficients reproduce Hoffmann's '40B at the Gopher budget'; "
        "the printed ones give 32B.",
        "Table 3 is Approach 1; the Approach-3 law implies fewer tokens per parameter here "
        "(18.4 at Chinchilla's budget in Epoch's refit, the allocation table above).",
        f"Intervals of this fit: bootstrap percentiles over {n_resamples} resamples of the runs "
        f"({shown}); Besiroglu's: their published 95% intervals.",
        "GPT-3 (175B parameters, 300B tokens): C*(N)/C = D*(N)/D exceeds 10 with Hoffmann's "
        "law and with Epoch's printed Table 1 (10.3), but this package's refit of Epoch's data "
        "gives 9.97. The 4.4e24 FLOP and 4.2T tokens often quoted for a compute-optimal 175B "
        "model are Hoffmann et al.'s Section 3.4 text; their Table 3 (Approach 1) gives "
        "3.85e24 FLOP and 3.7T tokens.",
    )
    return Reproduction(
        title="Hoffmann et al. (2022) Approach 3, refitted on Epoch's digitised runs",
        fit=result, notes=notes,
        tables={"coefficients": coefficients, "objective of each set":
                pd.DataFrame(objective_rows), "compute-optimal exponents": exponents,
                "allocation": pd.DataFrame(allocation_rows),
                "GPT-3 (175B, 300B tokens): how far from compute-optimal": gpt3,
                "Hoffmann Table 3 vs this fit": table3})


def _gpt3_rows(sets, result) -> pd.DataFrame:
    """C*(N)/C for GPT-3 under each coefficient set, and Hoffmann's quoted budgets for 175B."""
    rows = []
    for label, params in sets.items():
        law = result if label == "this fit" else FitResult.from_params("chinchilla", params)
        d = diagnose(law, 175e9, 300e9)
        rows.append({"coefficients": label, "C*(N) (FLOP)": float(d.optimal_C_for_N),
                     "D*(N) (tokens)": float(d.optimal_D_for_N),
                     "C*(N)/C = D*(N)/D": float(d.optimal_D_for_N) / 300e9})
    table3 = HOFFMANN_TABLE3.set_index("params").loc[175e9]
    rows.append({"coefficients": "Hoffmann 2022 Table 3 (Approach 1)",
                 "C*(N) (FLOP)": float(table3["flops"]), "D*(N) (tokens)": float(table3["tokens"]),
                 "C*(N)/C = D*(N)/D": float(table3["tokens"]) / 300e9})
    sec34 = pub.HOFFMANN_2022_SEC34_175B
    rows.append({"coefficients": "Hoffmann 2022 Sec. 3.4 text", "C*(N) (FLOP)": sec34["flops"],
                 "D*(N) (tokens)": sec34["tokens"], "C*(N)/C = D*(N)/D": sec34["tokens"] / 300e9})
    return pd.DataFrame(rows)
