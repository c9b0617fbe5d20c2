"""Kaplan et al. (2020): each quoted result beside this package's value, and the allocation
exponent recovered, re-counted and removed on Porian et al.'s (2024) IsoFLOP sweeps."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..._exceptions import ScalingLawsWarning
from ...laws import kaplan as K
from ...laws import published as pub
from ...laws.flops import KAPLAN_ALPHA_B, PF_DAY, kaplan_params
from ...laws.forms import KaplanND, PowerLaw
from ...laws.kaplan_counting import nonembedding_frontier, params_with_embeddings
from ._report import Reproduction

__all__ = ["reproduce_kaplan", "kaplan_quoted_results", "recount_kaplan_runs"]

#: Porian et al. settings whose runs are counted both ways (same runs, same budgets)
_PAIRED = {"rw/base/long/kaplan/kaplan/train": "rw/base/long/kaplan/standard/val",
           "owt2/base/long/kaplan/kaplan/train": "owt2/base/long/kaplan/standard/val"}


def _row(result, paper, value, where):
    return {"result": result, "paper": paper, "this package": float(value), "where": where}


def kaplan_quoted_results() -> pd.DataFrame:
    """Kaplan et al.'s (2020) quoted numbers beside this package's value at their constants.

    Columns ``result``, ``paper`` (as printed, or as quoted by the source named in
    ``where``), ``this package`` and ``where``.
    """
    one = K.compute_efficient(PF_DAY)
    ten = K.compute_efficient(10 * PF_DAY)
    theory = K.allocation_exponents()
    frontier = K.ns_frontier(np.array([PF_DAY, 1e4 * PF_DAY]))
    frontier_slope = np.diff(np.log(frontier.N))[0] / np.diff(np.log(frontier.compute))[0]
    point = K.contradiction_point()
    rule = K.overfitting_rule()
    epoch = nonembedding_frontier(pub.BESIROGLU_2024_TABLE1, np.logspace(12.95, 20.7, 100))
    chinchilla = nonembedding_frontier(pub.HOFFMANN_2022_TEX, np.logspace(12.95, 20.7, 100))
    rows = [
        _row("L(N = 1e9) = (8.8e13/N)^0.076", "2.376", PowerLaw("N").predict(
            pub.KAPLAN_2020["N"], N=1e9), "Eq. 1.1, Table 5 (2.376: the seed text)"),
        _row("loss factor per doubling of N, 2^-0.076", "0.95", 2 ** -0.076, "Sec. 1.2"),
        _row("L(D = 2.3e10) = (5.4e13/D)^0.095", "-", PowerLaw("D").predict(
            pub.KAPLAN_2020["D"], D=2.3e10), "Eq. 1.2, Table 5 (not quoted)"),
        _row("L(N = 1e9, D = 2e10), Eq. 1.5", "-", KaplanND().predict(
            pub.KAPLAN_2020_ND, N=1e9, D=2e10), "Table 2 constants (not quoted)"),
        _row("L(N = 1e9, S_min = 1e5), Eq. 1.6", "-", K.KaplanNS().predict(
            pub.KAPLAN_2020_NS, N=1e9, S_min=1e5), "Table 3 constants (not quoted)"),
        _row("N_opt at C_min = 1 PF-day", "1.3e9", one.N, "Table 6, Eq. 6.1"),
        _row("N exponent, N ~ C_min^p_N", "0.73", np.log10(ten.N / one.N), "Table 6"),
        _row("B exponent, B_crit ~ C_min^p_B", "0.24", np.log10(ten.batch_size / one.batch_size),
             "Table 6"),
        _row("S exponent, S_min ~ C_min^p_S", "0.03", np.log10(ten.min_steps / one.min_steps),
             "Table 6, Eq. 6.2"),
        _row("D exponent, D ~ C_min^p_D", "0.27", np.log10(ten.D / one.D), "Table 6"),
        _row("model growth per 10x compute", "5x (5.5x)", ten.N / one.N,
             "Fig. 14 caption (Hoffmann et al.'s summary)"),
        _row("data growth per 10x compute", "2x (1.8x)", ten.D / one.D,
             "Fig. 14 caption (Hoffmann et al.'s summary)"),
        _row("6 N B S at 1 PF-day, in PF-days", "1 (C_min = 6 N B_crit S_min)",
             6 * one.N * one.batch_size * one.min_steps / PF_DAY, "Table 6 prefactors"),
        _row("alpha_C^min = 1/(1/a_S + 1/a_B + 1/a_N)", "0.054 (0.052)", theory["alpha_C_min"],
             "Eq. 1.7, 6.4 (App. B.7)"),
        _row("theory's N exponent alpha_C^min/alpha_N", "0.71", theory["N"], "Eq. 1.8, 6.5"),
        _row("N exponent of the L(N, S_min) frontier", "0.71-0.73", frontier_slope,
             "App. B with Table 3 constants"),
        _row("compute-efficient stop above converged loss", "~10%", _stop_above_converged(),
             "Eq. B.5, alpha_N/alpha_S"),
        _row("contradiction point C* (PF-days)", "~1e4", point.compute_pf_days, "Eq. 6.8"),
        _row("contradiction point N*", "~1e12", point.N, "Eq. 6.8"),
        _row("contradiction point D* (tokens)", "~1e12", point.D,
             "Eq. 6.8 (L(D*) = L* forces 2.5e11)"),
        _row("contradiction point L* (nats/token)", "~1.7", point.loss, "Eq. 6.8"),
        _row("overfitting rule prefactor, D >~ k N^0.74", "5e3", rule.prefactor,
             "Eq. 4.4 from Eq. 4.3 at delta L = 0.02"),
        _row("overfitting rule exponent alpha_N/alpha_D", "0.74", rule.exponent, "Eq. 4.4"),
        _row("data for an 8x larger model", "~5x", rule.data_multiplier(8), "Sec. 1.1"),
        _row("tokens to keep a 1B model from overfitting", "2.29e10 (5e3 N^0.74)",
             rule.tokens(1e9), "Eq. 4.4 vs Eq. 4.3"),
        _row("loss drop that doubles B_crit, 1 - 2^-alpha_B", "13%", 1 - 2 ** -KAPLAN_ALPHA_B,
             "Fig. 10 caption"),
        _row("non-embedding N of (n_layer 48, d_model 1600)", "1.5e9", kaplan_params(48, 1600),
             "Eq. 2.1 (12 n_layer d_model^2)"),
        _row("same with embeddings (V 50,257, n_ctx 1,024)", "-",
             params_with_embeddings(kaplan_params(48, 1600), n_vocab=50257, d_model=1600,
                                    n_ctx=1024), "Sec. 2.1"),
        _row("kaplan_nd optimum under C = 6ND, N ~ C^a", "(not 0.73)",
             K.kaplan_nd_allocation_exponent(), "alpha_D/(alpha_N + alpha_D), Table 2"),
        _row("Pearce & Song: local exponent, Epoch's law", "0.78", epoch.local_exponent(),
             "Pearce & Song 2024 (their 20-model grid)"),
        _row("Pearce & Song: local exponent, Chinchilla's law", "0.74",
             chinchilla.local_exponent(), "Pearce & Song 2024 (their 20-model grid)"),
    ]
    return pd.DataFrame(rows)


def _stop_above_converged() -> float:
    """alpha_N / alpha_S of Table 3: how far above the converged loss efficient runs stop."""
    return pub.KAPLAN_2020_NS["alpha_N"] / pub.KAPLAN_2020_NS["alpha_S"]


def recount_kaplan_runs(frame: pd.DataFrame, widths: dict, n_vocab: int) -> pd.DataFrame:
    """Kaplan-counted long runs re-counted with the output layer and re-read at the budgets.

    ``frame`` holds one setting's rows (N, D, C, loss) read from long runs at a grid of
    budgets (each model's rows form its loss curve). Each model's N becomes
    ``N + n_vocab * width`` (:func:`~scalinglaws.laws.kaplan_counting.params_with_embeddings`),
    so its compute per token grows; the loss at each budget of the same grid is read off the
    model's curve at ``D = C / (6 N_total)`` by log-log interpolation between the logged
    points (as Porian et al. read their runs), never extrapolated.
    """
    budgets = np.sort(frame["C"].unique())
    rows = []
    for n, curve in frame.groupby("N"):
        total = float(params_with_embeddings(n, n_vocab=n_vocab, d_model=widths[n]))
        curve = curve.sort_values("D")
        log_d, log_loss = np.log(curve["D"].to_numpy()), np.log(curve["loss"].to_numpy())
        if len(log_d) < 2:
            continue
        for c in budgets:
            d = c / (6.0 * total)
            if log_d[0] <= np.log(d) <= log_d[-1]:
                rows.append({"N": total, "D": d, "C": c,
                             "loss": float(np.exp(np.interp(np.log(d), log_d, log_loss)))})
    return pd.DataFrame(rows)


def _porian_tables(path):
    from ...data.public import porian2024
    from ...fitting.isoflop import isoflop_fit

    runs = porian2024(path)
    frame = runs.to_frame()
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
        recount = []
        for kaplan, standard in _PAIRED.items():
            ours = frame[frame["setting"] == kaplan]
            theirs = frame[frame["setting"] == standard]
            if ours.empty or theirs.empty:
                continue
            small, large = np.sort(ours["N"].unique()), np.sort(theirs["N"].unique())
            if len(small) != len(large):
                continue
            vocab = pub.PORIAN_2024_SHAPE["n_vocab"]
            widths = dict(zip(small, np.round((large - small) / vocab)))
            recounted = isoflop_fit(recount_kaplan_runs(ours, widths, vocab), curve="akima")
            before = table.set_index("setting").loc[kaplan]
            recount.append({"runs": kaplan, "a, non-embedding N (as run)": before["a"],
                            "a, N with the output layer (re-counted here)": recounted.a,
                            "95% low": recounted.a_interval[0],
                            "95% high": recounted.a_interval[1],
                            "authors' a, standard count": pub.PORIAN_2024_A[standard]})
    return table, pd.DataFrame(recount)


def reproduce_kaplan(path=None) -> Reproduction:
    """Kaplan et al. (2020): quoted results at the paper's constants; with Porian et al.'s
    (2024) sweeps, their allocation exponent recovered, re-counted and removed.

    ``path``: Porian et al.'s IsoFLOP CSV, its folder, or the folder of the authors'
    ``summary_df*.pickle.xz`` files (converted safely, see :mod:`scalinglaws.data.public`).
    Without it only the first table (no data needed) is produced. With it, Approach 2
    (Akima interpolation of each IsoFLOP profile, budgets whose minimum is not bracketed
    excluded, log-log OLS) runs per setting against the authors' exponents, and the
    Kaplan-counted runs are re-counted with the output layer
    (:func:`recount_kaplan_runs`).
    """
    tables = {"Kaplan et al. (2020): quoted results at the paper's constants":
              kaplan_quoted_results(),
              "compute-efficient allocation (Table 6; N non-embedding, C_min)":
              K.compute_efficient(np.array([1.0, 1e2, 1e4]) * PF_DAY).to_frame()}
    notes = [
        "Kaplan's N counts non-embedding parameters and his allocation is in C_min, the "
        "compute of training well below the critical batch, stopping early (Sec. 6).",
        "The contradiction point (Eq. 6.8) solves L(C_min) = L(D(C_min)) with Table 6's "
        "D(C_min); the paper gives orders of magnitude only and warns they may be off by 10x "
        "either way. D* can only be 2.5e11 where L* = 1.67, whatever the rounding.",
        "The overfitting rule inverted exactly from Eq. 4.3 is 5.5e3 N^0.738: the printed "
        "5e3 asks about 10% less data.",
        "compute_optimal on a fitted kaplan_nd law gives N ~ C^0.575 (converged loss, C = 6ND): "
        "not Kaplan's 0.73, which comes from early stopping at the critical batch.",
    ]
    if path is None:
        from ...data.public import DATASETS

        notes.append("Porian et al.'s sweeps were not given: " + DATASETS["porian2024"].how_to_get
                     + " (pass it as --data).")
    else:
        table, recount = _porian_tables(path)
        tables["Approach 2 per setting (Porian et al. data)"] = table
        if not recount.empty:
            tables["same runs, N counted with the output layer"] = recount
        kaplan_style = table.set_index("setting").loc["rw/base/long/kaplan/kaplan/train", "a"]
        notes += [
            f"Kaplan-style setting (long warmup, long LR schedule, non-embedding N): a = "
            f"{kaplan_style:.3f}, above Kaplan's 0.73 (Porian et al.'s table lists 0.88 for "
            "Kaplan's law on WebText2).",
            "Re-counting the same runs with the output layer (Pearce & Song's and Porian et "
            "al.'s point: count the parameters that cost compute) moves a toward Chinchilla's "
            "0.5, to about 0.70 on both datasets, as the authors' standard-count settings "
            "show; the rest of the gap closes with their warmup, decay and tuning corrections "
            "(down to 0.497 on RefinedWeb).",
        ]
    return Reproduction(title="Kaplan et al. (2020) and Porian et al. (2024): the allocation "
                              "exponent", fit=None, notes=tuple(notes), tables=tables)
