"""Reproductions of published scaling-law results from public data.

Each ``reproduce_*`` function loads the public data (a path the user gives, or
a checked download, see :mod:`scalinglaws.datasets`), refits, and returns a
report object whose ``str()`` is a side-by-side comparison with the published
numbers and whose ``tables`` hold the same as DataFrames.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..laws import published as pub
from .._exceptions import ScalingLawsWarning
from ..uncertainty.bootstrap import bootstrap
from ..analysis.extrapolate import compute_optimal, diagnose
from ..fitting.estimator import FitResult, fit
from ..laws.forms import Chinchilla

__all__ = ["Reproduction", "reproduce_hoffmann", "reproduce_kaplan", "reproduce_muennighoff",
           "HOFFMANN_TABLE3"]

#: Hoffmann et al. (2022) Table 3 (Approach 1 projections): parameters, FLOPs, tokens.
HOFFMANN_TABLE3 = pd.DataFrame({
    "params": [400e6, 1e9, 10e9, 67e9, 175e9, 280e9, 520e9, 1e12, 10e12],
    "flops": [1.92e19, 1.21e20, 1.23e22, 5.76e23, 3.85e24, 9.90e24, 3.43e25, 1.27e26, 1.30e28],
    "tokens": [8.0e9, 20.2e9, 205.1e9, 1.5e12, 3.7e12, 5.9e12, 11.0e12, 21.2e12, 216.2e12],
})


@dataclass(frozen=True)
class Reproduction:
    """A reproduction: the fit(s), comparison tables and a printable report."""

    title: str
    fit: FitResult | None
    tables: dict = field(default_factory=dict)
    notes: tuple = ()

    def __str__(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        for name, table in self.tables.items():
            lines += ["", name, "-" * len(name),
                      table.to_string(index=False, float_format=lambda v: f"{v:.4g}")]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        import json

        return {"title": self.title, "notes": list(self.notes),
                "tables": {k: json.loads(v.to_json(orient="records")) for k, v in
                           self.tables.items()},
                "fit": None if self.fit is None else self.fit.to_dict()}


def reproduce_hoffmann(path=None, *, n_resamples: int = 1000, rng=0, download: bool = True,
                       n_jobs: int = 1, progress=None) -> Reproduction:
    """Hoffmann et al. (2022) Approach 3 on Epoch AI's digitised runs, with bootstrap intervals.

    Compares the fit with Hoffmann's coefficients (rounded and unrounded) and
    Besiroglu et al.'s refit, scores every set on the same objective, gives the
    compute-optimal exponents and allocations, and Hoffmann's Table 3 beside
    what the fitted law implies for the same model sizes.
    """
    from ..data.public import epoch_chinchilla

    runs = epoch_chinchilla(path, download=download)
    result = fit(runs, "chinchilla")
    boot = None
    if n_resamples:
        with warnings.catch_warnings():
            warnings.simplefilter("default", ScalingLawsWarning)
            boot = bootstrap(result, runs, n_resamples, rng=rng, n_jobs=n_jobs, progress=progress)
        result = result.with_bootstrap(boot)
    sets = {"this fit": result.params, "Besiroglu 2024 Table 1": pub.BESIROGLU_2024_TABLE1,
            "Hoffmann 2022 (TeX)": pub.HOFFMANN_2022_TEX,
            "Hoffmann 2022 (printed)": pub.HOFFMANN_2022_ROUNDED}
    rows = []
    for name in Chinchilla.param_names:
        row = {"parameter": name}
        for label, params in sets.items():
            row[label] = params[name]
        if boot is not None:
            row["95% low"], row["95% high"] = boot.intervals[name]
        row["Besiroglu 95%"] = "[{:.4g}, {:.4g}]".format(*pub.BESIROGLU_2024_INTERVALS[name])
        rows.append(row)
    coefficients = pd.DataFrame(rows)
    loss = result.loss
    objective_rows = []
    for label, params in sets.items():
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
        exponents["a 95% low"] = [low] + [np.nan] * (len(sets) - 1)
        exponents["a 95% high"] = [high] + [np.nan] * (len(sets) - 1)
    budgets = np.array([1e21, pub.GOPHER_BUDGET, pub.CHINCHILLA_BUDGET_6ND, 1e25])
    allocation_rows = []
    for label, params in sets.items():
        law = result if label == "this fit" else FitResult.from_params("chinchilla", params)
        alloc = compute_optimal(law, budgets,
                                draws=boot if label == "this fit" else None)
        for i, c in enumerate(budgets):
            allocation_rows.append({"coefficients": label, "compute (FLOP)": c,
                                    "N_opt": alloc.n_params[i], "D_opt": alloc.n_tokens[i],
                                    "tokens/param": alloc.tokens_per_param[i]})
    table3 = HOFFMANN_TABLE3.copy()
    implied = diagnose(result, table3["params"].to_numpy(), table3["tokens"].to_numpy())
    table3["FLOPs (this fit)"] = implied.optimal_compute_for_n_params
    table3["tokens (this fit)"] = implied.optimal_tokens_for_n_params
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
        "(about 20 at Chinchilla's budget in Epoch's refit).",
    )
    return Reproduction(
        title="Hoffmann et al. (2022) Approach 3, refitted on Epoch's digitised runs",
        fit=result, notes=notes,
        tables={"coefficients": coefficients, "objective of each set":
                pd.DataFrame(objective_rows), "compute-optimal exponents": exponents,
                "allocation": pd.DataFrame(allocation_rows),
                "Hoffmann Table 3 vs this fit": table3})


def reproduce_kaplan(path) -> Reproduction:
    """Kaplan et al. (2020) laws, and their allocation exponent recovered and then removed on
    Porian et al.'s (2024) IsoFLOP sweeps.

    ``path``: the Porian IsoFLOP CSV (columns setting, N, D, C, loss, ...) or its folder.
    Approach 2 (Akima interpolation of each IsoFLOP profile, budgets whose minimum is not
    bracketed excluded, log-log OLS) is run per setting and compared with the authors' values.
    """
    from ..data.public import porian2024
    from ..laws.forms import KaplanND, PowerLaw
    from ..fitting.isoflop import isoflop_fit

    laws = pd.DataFrame([
        {"law": "L(N) = (N_c/N)^alpha_N, N = 1e9", "value": PowerLaw("N").predict(
            pub.KAPLAN_2020["N"], N=1e9), "seed": "(8.8e13/1e9)^0.076 = 2.376"},
        {"law": "L(D) = (D_c/D)^alpha_D, D = 2.3e10", "value": PowerLaw("D").predict(
            pub.KAPLAN_2020["D"], D=2.3e10), "seed": "(5.4e13/2.3e10)^0.095"},
        {"law": "L(N, D) Eq 1.5, N = 1e9, D = 2e10", "value": KaplanND().predict(
            pub.KAPLAN_2020_ND, N=1e9, D=2e10), "seed": "Table 2 constants"},
        {"law": "D ~ N^(alpha_N/alpha_D) (Sec 1.2)", "value": 0.076 / 0.103, "seed": "0.74"},
    ])
    runs = porian2024(path)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingLawsWarning)
        for setting, group in runs.groupby("setting"):
            result = isoflop_fit(group, curve="akima")
            rows.append({"setting": setting, "a": result.a, "a 95% low": result.a_interval[0],
                         "a 95% high": result.a_interval[1],
                         "authors' a": pub.PORIAN_2024_A.get(setting, np.nan),
                         "budgets used": result.n_budgets_used,
                         "budgets excluded": result.n_budgets_excluded})
    table = pd.DataFrame(rows)
    table["difference"] = table["a"] - table["authors' a"]
    counting = table[table["setting"].str.startswith("rw/base/long/kaplan/")][
        ["setting", "a", "authors' a"]]
    notes = (
        "Kaplan-style setting (long warmup, long LR schedule, non-embedding parameters): "
        "a ~ 0.83, close to Kaplan's 0.73 (and 0.88 for WebText2 in Porian's table).",
        "Walking through Porian et al.'s corrections (count the output layer, short warmup, "
        "cosine decay matched to each budget, tuned hyperparameters) moves a to ~0.5, "
        "Chinchilla's value.",
        "Parameter counting alone (same runs, N without vs with the output layer) moves a "
        "from ~0.83 to ~0.71: Pearce & Song (2024) trace most of the Kaplan-Chinchilla gap to "
        "counting non-embedding parameters at small scale.",
    )
    return Reproduction(title="Kaplan et al. (2020) and Porian et al. (2024): the allocation "
                              "exponent", fit=None, notes=notes,
                        tables={"Kaplan's laws at the seed's points": laws,
                                "Approach 2 per setting (Porian et al. data)": table,
                                "same runs, different parameter counting": counting})


def reproduce_muennighoff(path) -> Reproduction:
    """Muennighoff et al. (2023) data-constrained law on the datablations runs.

    With A, B, E and alpha = beta fixed at the paper's values (fitted by the authors on
    Chinchilla's C4 curves), R*_D and R*_N are refitted on the 182 runs of the paper's fit
    set, from the paper's start grid and from the package's default grid.
    """
    from ..laws.datablations import MUENNIGHOFF_2023, DataConstrained, data_constrained_optimal
    from ..data.public import muennighoff2023

    runs = muennighoff2023(path, fit_set_only=True)
    paper = MUENNIGHOFF_2023["params"]
    base = {k: paper[k] for k in ("E", "A", "B", "alpha", "beta")}
    grid = np.linspace(0, 20, 4)[1:]  # the notebook's L-BFGS starts (R* = 0 excluded)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingLawsWarning)
        from_paper = fit(runs, "data_constrained", fixed=base,
                         starts={"R_D_star": grid, "R_N_star": grid})
        default = fit(runs, "data_constrained", fixed=base)
    popular = max(from_paper.local_optima, key=lambda o: o["n_starts"])
    decays = pd.DataFrame([
        {"fit": "paper (notebook)", "R_D*": paper["R_D_star"], "R_N*": paper["R_N_star"],
         "objective": MUENNIGHOFF_2023["fit"]["objective"]},
        {"fit": "paper's start grid, most starts", "R_D*": popular["params"]["R_D_star"],
         "R_N*": popular["params"]["R_N_star"], "objective": popular["objective"]},
        {"fit": "default grid, global optimum", "R_D*": default.params["R_D_star"],
         "R_N*": default.params["R_N_star"], "objective": default.objective},
    ])
    law = DataConstrained()
    checks = pd.DataFrame([
        {"case": "L(N=6.34e9, D=242e9, U=25e9)", "published": 2.2256440889984477,
         "this package": float(law.predict(paper, N=6.34e9, D=242e9, U=25e9))},
        {"case": "L(N=8.67e9, D=178e9, U=25e9)", "published": 2.2269634075087867,
         "this package": float(law.predict(paper, N=8.67e9, D=178e9, U=25e9))},
    ])
    best = data_constrained_optimal(paper, 1e22, 25e9)
    allocation = pd.DataFrame([{"C (FLOP)": 1e22, "U (tokens)": 25e9, "N": float(best.N),
                                "D": float(best.D), "epochs": float(best.epochs),
                                "published N": 7.0224e9, "published D": 2.3734e11}])
    notes = (
        "The decay constants are weakly identified: the objective stays within ~0.2% of its "
        "minimum along a valley from R*_D ~ 15 to ~250. Most of the paper's starts end at "
        "the published (15.4, 5.3); the lowest objective on this data is elsewhere on the "
        "valley. Quote R* with that caveat (a bootstrap interval for R*_D is very wide).",
    )
    return Reproduction(title="Muennighoff et al. (2023) data-constrained scaling law",
                        fit=default, notes=notes,
                        tables={"decay constants (A, B, E, alpha = beta fixed)": decays,
                                "worked predictions": checks,
                                "allocation under a unique-token limit": allocation})
