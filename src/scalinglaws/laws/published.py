"""Published coefficients, typed in from the papers (each with its source).

These are facts from papers' tables, used as reference lines in reproductions,
plots and comparisons. Parameters are in this package's public units and names
(``E``, ``A``, ``B``, ``alpha``, ``beta`` for the Chinchilla form).

Every table here is read-only (a :class:`~scalinglaws._validation.FrozenDict`, nested
ones too): ``KAPLAN_2020_FRONTIER["p_N"] = 0.5`` raises ``TypeError`` instead of
changing every later result in the session. To vary a value, copy it:
``{**HOFFMANN_2022_TEX, "E": 1.8}`` or ``dict(KAPLAN_2020_ND)``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from .._validation import deep_freeze

__all__ = ["HOFFMANN_2022_ROUNDED", "HOFFMANN_2022_TEX", "HOFFMANN_2022_RUN_RANGE",
           "BESIROGLU_2024_TABLE1",
           "BESIROGLU_2024_INTERVALS", "KAPLAN_2020", "KAPLAN_2020_ND", "KAPLAN_2020_FRONTIER",
           "GOPHER_BUDGET", "CHINCHILLA_BUDGET_6ND", "PORIAN_2024_A", "KNOWN_MODELS_CSV",
           "kaplan_2020_frontier", "known_models",
           # Kaplan et al. (2020) beyond the single laws, and the papers that explain them
           "KAPLAN_2020_NS", "KAPLAN_2020_TABLE6", "KAPLAN_2020_EQ_6_7", "KAPLAN_2020_CONTRADICTION",
           "KAPLAN_2020_OVERFITTING", "KAPLAN_2020_THEORY", "PEARCE_SONG_2024", "PORIAN_2024_SHAPE",
           "HOFFMANN_2022_SEC34_175B", "BESIROGLU_2024_NOTEBOOK", "LUO_2025_MPL"]

#: Hoffmann et al. (2022), arXiv 2203.15556, App. D.2 Eq. 10, as printed.
HOFFMANN_2022_ROUNDED = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}

#: Hoffmann et al. (2022), unrounded values from the arXiv TeX source (log-space
#: e = 0.5267228, a = 6.0073404, b = 6.0179186), as used by Epoch's replication.
HOFFMANN_2022_TEX = {"E": math.exp(0.5267228), "A": math.exp(6.0073404),
                     "B": math.exp(6.0179186), "alpha": 0.33917084, "beta": 0.2849083}

#: Hoffmann et al. (2022), arXiv 2203.15556, abstract: the runs behind the Chinchilla law,
#: "over 400 language models ranging from 70 million to over 16 billion parameters on 5 to
#: 500 billion tokens" (N counts embeddings). Besiroglu et al. refit runs read from the
#: same paper's Figure 4, so their law rests on the same range.
HOFFMANN_2022_RUN_RANGE = {"N": (7e7, 1.6e10), "D": (5e9, 5e11)}

#: Besiroglu, Erdil, Barnett, You (2024), arXiv 2404.10102, Table 1.
BESIROGLU_2024_TABLE1 = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}

#: Besiroglu et al. (2024) bootstrap 95% intervals (authors' notebook, 4,000 resamples).
BESIROGLU_2024_INTERVALS = {"E": (1.769, 1.871), "A": (285.2, 743.6), "B": (1042.4, 5810.3),
                            "alpha": (0.317, 0.373), "beta": (0.331, 0.415)}

#: Kaplan et al. (2020), arXiv 2001.08361, Eq. 1.1-1.3 and Table 5 (C_c in PF-days).
KAPLAN_2020 = {"N": {"N_c": 8.8e13, "alpha_N": 0.076},
               "D": {"D_c": 5.4e13, "alpha_D": 0.095},
               "C_min_pf_days": {"C_c": 3.1e8, "alpha_C": 0.050}}

#: Kaplan et al. (2020) Eq. 1.5 with Table 2 constants (the kaplan_nd form).
KAPLAN_2020_ND = {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103}

#: Kaplan et al. (2020) Table 6: N_opt = 1.3e9 * C_min^0.73, C_min in PF-days,
#: non-embedding parameters.
KAPLAN_2020_FRONTIER = {"N_e": 1.3e9, "p_N": 0.73}

#: Porian et al. (2024), arXiv 2406.19146: exponent a of N_opt ~ C^a per setting, the
#: authors' weighted bootstrap-median fits stored in formll/resolving-scaling-law-discrepancies
#: (match their Table 1 as quoted by secondary summaries).
PORIAN_2024_A = {
    "rw/base/long/kaplan/kaplan/train": 0.835,
    "rw/base/long/kaplan/standard/val": 0.706,
    "rw/base/short/kaplan/standard/val": 0.602,
    "rw/base/short/chinchilla/standard/val": 0.571,
    "rw/tuned/short/const/standard/val": 0.497,
    "owt2/base/long/kaplan/kaplan/train": 0.864,
    "owt2/base/long/kaplan/standard/val": 0.699,
    "owt2/base/short/kaplan/standard/val": 0.603,
    "owt2/base/short/chinchilla/standard/val": 0.574,
    "owt2/tuned/short/const/standard/val": 0.518,
    "rw/base/long/kaplan/attention/train": 0.717,
    "rw/base/short/kaplan/attention/train": 0.622,
    "rw/base/short/chinchilla/attention/train": 0.577,
    "rw/tuned/short/const/attention/train": 0.505,
    "rw/tuned/long/const/kaplan/train": 0.711,
}

#: Training compute of Gopher and Chinchilla as reported by Rae et al. (Hoffmann Fig. 2), FLOP.
GOPHER_BUDGET = 5.76e23
#: 6 N D for Chinchilla (70B parameters, 1.4T tokens), FLOP.
CHINCHILLA_BUDGET_6ND = 6 * 70e9 * 1.4e12


# ----------------------------------------------------------------- the Kaplan frontier
def kaplan_2020_frontier(compute):
    """Kaplan et al. (2020) compute-efficient model size, App. A Table 6 / Eq. 6.1.

    ``N_opt = N_e * C_min^p_N`` with :data:`KAPLAN_2020_FRONTIER` (``N_e = 1.3e9``,
    ``p_N = 0.73``), ``C_min`` in PF-days (``compute`` is in FLOP, converted by
    :func:`~scalinglaws.laws.flops.flops_to_pf_days`) and N non-embedding parameters.
    It assumes training at the critical batch size and stopping early, so it is not the
    allocation of a loss law under ``C = 6ND`` (for that, use
    :func:`~scalinglaws.compute_optimal`).

    Examples
    --------
    >>> round(kaplan_2020_frontier(8.64e19) / 1e9, 6)  # one PF-day
    1.3
    """
    from .flops import flops_to_pf_days

    return KAPLAN_2020_FRONTIER["N_e"] * flops_to_pf_days(compute) ** KAPLAN_2020_FRONTIER["p_N"]


# ----------------------------------------------------------------- well-known models
#: The table of well-known models shipped with the package: name, params, tokens, flops
#: (training FLOP where the paper prints it) and source, typed in from each paper.
KNOWN_MODELS_CSV = Path(__file__).resolve().parents[1] / "data" / "known_models.csv"


def known_models(models=None):
    """The table of well-known models: ``name``, ``params``, ``tokens``, ``flops``.

    Parameters
    ----------
    models : DataFrame, path or None
        A table with columns ``name``, ``params``, ``tokens`` and optionally ``flops``
        (``#`` comment lines allowed). None reads :data:`KNOWN_MODELS_CSV`.

    Returns
    -------
    DataFrame
        Missing ``flops`` are filled with ``6 * params * tokens``
        (:func:`~scalinglaws.laws.flops.training_flops`).

    Examples
    --------
    >>> table = known_models().set_index("name")
    >>> float(table.loc["Chinchilla", "params"])
    70000000000.0
    """
    import numpy as np
    import pandas as pd

    from .._exceptions import InputError
    from .flops import training_flops

    if models is None:
        models = KNOWN_MODELS_CSV
    if isinstance(models, (str, os.PathLike)):
        try:
            models = pd.read_csv(models, comment="#", skipinitialspace=True)
        except (OSError, ValueError) as error:
            raise InputError(f"{os.fspath(models)}: cannot read the models table ({error})") from None
    if not isinstance(models, pd.DataFrame):
        raise InputError(f"`models` must be a DataFrame or a path, got {type(models).__name__}")
    missing = [c for c in ("name", "params", "tokens") if c not in models.columns]
    if missing:
        raise InputError(f"the models table lacks column(s) {missing}; it needs name, params, "
                         "tokens and optionally flops")
    table = models.copy()
    for column in ("params", "tokens", "flops"):
        if column in table.columns:
            table[column] = pd.to_numeric(table[column], errors="coerce")
    if "flops" not in table.columns:
        table["flops"] = np.nan
    params = np.array(table["params"], dtype=float)
    tokens = np.array(table["tokens"], dtype=float)
    flops = np.array(table["flops"], dtype=float)  # a copy: filled below
    fill = ~np.isfinite(flops) & np.isfinite(params) & (params > 0) & np.isfinite(tokens) \
        & (tokens > 0)
    if fill.any():
        flops[fill] = training_flops(params[fill], tokens[fill])
    table["flops"] = flops
    bad = ~(np.isfinite(params) & (params > 0) & np.isfinite(flops) & (flops > 0))
    if bad.any():
        rows = np.flatnonzero(bad).tolist()
        names = table["name"].astype(str).to_numpy()[bad].tolist()
        raise InputError(f"models table row(s) {rows} ({', '.join(names)}) lack positive params "
                         "and tokens/flops")
    return table.reset_index(drop=True)


# ----------------------------------------------------------------- Kaplan et al. (2020), more
# (laws.kaplan uses these; each value is in ../shared/reference/published_coefficients.md §1)

#: Kaplan et al. (2020) Eq. 1.6 / 5.6 with Table 3 constants: L(N, S_min) =
#: (N_c/N)^alpha_N + (S_c/S_min)^alpha_S (non-embedding N, steps at B >> B_crit).
KAPLAN_2020_NS = {"N_c": 6.5e13, "S_c": 2.1e3, "alpha_N": 0.077, "alpha_S": 0.76}

#: Kaplan et al. (2020) App. A Table 6: X = X_e * C_min^p_X with C_min in PF-days, for the
#: model size N (Eq. 6.1), the batch B (= B_crit), the minimum steps S_min (Eq. 6.2) and the
#: data D (one epoch). N's pair is KAPLAN_2020_FRONTIER's.
KAPLAN_2020_TABLE6 = {"N": (KAPLAN_2020_FRONTIER["N_e"], KAPLAN_2020_FRONTIER["p_N"]),
                      "B": (2.0e6, 0.24), "S_min": (5.4e3, 0.03), "D": (2e10, 0.27)}

#: Kaplan et al. (2020) Eq. 6.7: D(C_min) = 2 C_min / (6 N(C_min)) ~ 4e10 * C_min^0.26 tokens
#: (C_min in PF-days), as printed (Table 6's D row is 2e10 * C_min^0.27).
KAPLAN_2020_EQ_6_7 = (4e10, 0.26)

#: Kaplan et al. (2020) Eq. 6.8, the "contradiction point" where L(C_min) meets L(D(C_min)),
#: as printed (orders of magnitude): C* ~ 1e4 PF-days, N* ~ 1e12, D* ~ 1e12, L* ~ 1.7.
KAPLAN_2020_CONTRADICTION = {"C_pf_days": 1e4, "N": 1e12, "D": 1e12, "L": 1.7}

#: Kaplan et al. (2020) Eq. 4.4: to keep the overfitting penalty (Eq. 4.3) under the 0.02
#: seed-to-seed noise, D >~ 5e3 * N^0.74; Sec. 1.1: "8x the model needs ~5x the data".
KAPLAN_2020_OVERFITTING = {"prefactor": 5e3, "exponent": 0.74, "threshold": 0.02}

#: Kaplan et al. (2020) Eq. 6.4-6.5: the theory's alpha_C^min ~ 0.054 and N ~ C_min^0.71
#: (App. B.7 quotes 0.052); Eq. B.5: compute-efficient runs stop alpha_N/alpha_S ~ 10%
#: above the converged loss.
KAPLAN_2020_THEORY = {"alpha_C_min": 0.054, "p_N": 0.71, "stop_above_converged": 0.10}

#: Pearce & Song (2024), arXiv 2406.12907, authors' script: N_T = N_nonE + omega N_nonE^(1/3)
#: with omega = 47,491 (vocabulary 32,000, aspect ratio d_model/n_layer 39.2); the local
#: exponent of N_opt(C) in non-embedding counting over Kaplan's range is 0.78 with Epoch's
#: coefficients and 0.74 with Chinchilla's (secondary; re-derived in the reference sheet).
PEARCE_SONG_2024 = {"omega": 47491.0, "n_vocab": 32000, "aspect_ratio": 39.2,
                    "local_exponent": {"epoch": 0.78, "chinchilla": 0.74}}

#: Porian et al. (2024) models (data.py of formll/resolving-scaling-law-discrepancies):
#: GPT-NeoX vocabulary 50,432, sequence length 2,048.
PORIAN_2024_SHAPE = {"n_vocab": 50432, "seq_len": 2048}

#: Hoffmann et al. (2022) Sec. 3.4 text for a 175B model: 4.41e24 FLOP and 4.2T tokens
#: (Table 3, Approach 1, prints 3.85e24 FLOP and 3.7T tokens for the same size).
HOFFMANN_2022_SEC34_175B = {"flops": 4.41e24, "tokens": 4.2e12}

#: Besiroglu et al. (2024) unrounded estimate from the authors' notebook (log-space a, b, e;
#: verified-code): E = 1.81686, A = 482.006, B = 2085.43; Table 1 prints these rounded.
BESIROGLU_2024_NOTEBOOK = {"E": math.exp(0.59711196), "A": math.exp(6.17795598),
                           "B": math.exp(7.64273236), "alpha": 0.34781303, "beta": 0.36585412}


#: Luo et al. (2025) Multi-Power Law fits (their repository's README / ``src/config.py``,
#: commit 8da9f19; the fits behind ``logs/{25,100,400}.log``), repository convention
#: (warmup included in the loss-drop sum), by non-embedding size label.
LUO_2025_MPL = {
    "25M": {"L0": 3.04045406, "A": 0.52468604, "alpha": 0.50786857, "B": 363.78751622,
            "C": 2.06560812, "beta": 0.58279013, "gamma": 0.64142257},
    "100M": {"L0": 2.6514477, "A": 0.60115152, "alpha": 0.45295811, "B": 437.9464276,
             "C": 2.13245612, "beta": 0.59785199, "gamma": 0.65523644},
    "400M": {"L0": 2.37474466, "A": 0.65421216, "alpha": 0.42878731, "B": 523.42464371,
             "C": 2.02462735, "beta": 0.59350493, "gamma": 0.63472457},
}


# Typed in once, read-only from here on: a table a script could edit in place would change
# what every later call in the session quotes as the paper's value.
for _name in __all__:
    if isinstance(globals()[_name], dict):
        globals()[_name] = deep_freeze(globals()[_name])
del _name
