"""Published coefficients, typed in from the papers (each with its source).

These are facts from papers' tables, used as reference lines in reproductions,
plots and comparisons. Parameters are in this package's public units and names
(``E``, ``A``, ``B``, ``alpha``, ``beta`` for the Chinchilla form).
"""

from __future__ import annotations

import math

__all__ = ["HOFFMANN_2022_ROUNDED", "HOFFMANN_2022_TEX", "BESIROGLU_2024_TABLE1",
           "BESIROGLU_2024_INTERVALS", "KAPLAN_2020", "KAPLAN_2020_ND", "KAPLAN_2020_FRONTIER",
           "GOPHER_BUDGET", "CHINCHILLA_BUDGET_6ND", "PORIAN_2024_A"]

#: Hoffmann et al. (2022), arXiv 2203.15556, App. D.2 Eq. 10, as printed.
HOFFMANN_2022_ROUNDED = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}

#: Hoffmann et al. (2022), unrounded values from the arXiv TeX source (log-space
#: e = 0.5267228, a = 6.0073404, b = 6.0179186), as used by Epoch's replication.
HOFFMANN_2022_TEX = {"E": math.exp(0.5267228), "A": math.exp(6.0073404),
                     "B": math.exp(6.0179186), "alpha": 0.33917084, "beta": 0.2849083}

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
