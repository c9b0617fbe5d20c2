"""Synthetic sweeps from a known law: the project's own default data and test truth.

:func:`generate_sweep` lays runs out like a real IsoFLOP study (Hoffmann et
al. 2022, Approach 2): for each compute budget ``C`` a range of model sizes
``N`` around the compute-optimal size, with ``D = C / (k N)`` tokens, and a
loss from a known form times log-normal noise. Randomness comes only through
``rng``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._exceptions import InputError
from .forms import Form, get_form
from ..data.runs import Runs

__all__ = ["DEFAULT_BUDGETS", "DEFAULT_TRUTH", "isoflop_grid", "generate_sweep"]

#: Approach-2 budgets quoted for Hoffmann et al. (2022), FLOP.
DEFAULT_BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)

#: Parameters used when none are given: Besiroglu et al. (2024) Table 1 for
#: Chinchilla, Kaplan et al. (2020) Tables 2 and 5 for the Kaplan forms
#: (C_c converted from 1.6e7 PF-days to FLOP).
DEFAULT_TRUTH: dict[str, dict[str, float]] = {
    "chinchilla": {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658},
    "kaplan_n": {"N_c": 8.8e13, "alpha_N": 0.076},
    "kaplan_d": {"D_c": 5.4e13, "alpha_D": 0.095},
    "kaplan_c": {"C_c": 1.6e7 * 8.64e19, "alpha_C": 0.057},
    "kaplan_n_offset": {"E": 1.7, "N_c": 2.0e9, "alpha_N": 0.35},
    "kaplan_d_offset": {"E": 1.7, "D_c": 4.0e10, "alpha_D": 0.3},
    "kaplan_c_offset": {"E": 1.7, "C_c": 1.0e20, "alpha_C": 0.18},
    "kaplan_nd": {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103},
}


def isoflop_grid(budgets: Sequence[float] = DEFAULT_BUDGETS, n_sizes: int = 12,
                 span: float = 10.0, tokens_per_param: float = 20.0,
                 flops_per_token: float = 6.0) -> pd.DataFrame:
    """Model sizes and token counts of an IsoFLOP study.

    For each budget ``C`` (FLOP), ``n_sizes`` log-spaced sizes from
    ``N0 / span`` to ``N0 * span`` around ``N0 = sqrt(C / (k r))``, the size
    at ``r`` tokens per parameter; ``D = C / (k N)``.

    Returns
    -------
    DataFrame with columns ``N``, ``D``, ``C`` and ``budget`` (the budget index).
    """
    budgets = np.asarray(budgets, dtype=float)
    if budgets.ndim != 1 or budgets.size == 0 or not np.all(np.isfinite(budgets)) or np.any(budgets <= 0):
        raise InputError("`budgets` must be a non-empty list of positive FLOP counts")
    if not isinstance(n_sizes, (int, np.integer)) or n_sizes < 2:
        raise InputError(f"`n_sizes` must be an integer >= 2, got {n_sizes!r}")
    for name, value in (("span", span), ("tokens_per_param", tokens_per_param),
                        ("flops_per_token", flops_per_token)):
        if not np.isfinite(value) or value <= 0 or (name == "span" and value <= 1):
            raise InputError(f"`{name}` must be a finite number > {1 if name == 'span' else 0}, "
                             f"got {value!r}")
    rows = []
    for index, budget in enumerate(budgets):
        centre = np.sqrt(budget / (flops_per_token * tokens_per_param))
        sizes = centre * np.geomspace(1 / span, span, n_sizes)
        for n in sizes:
            rows.append((n, budget / (flops_per_token * n), budget, index))
    return pd.DataFrame(rows, columns=["N", "D", "C", "budget"])


def generate_sweep(form: str | Form = "chinchilla", params: Mapping[str, float] | None = None, *,
                   budgets: Sequence[float] = DEFAULT_BUDGETS, n_sizes: int = 12,
                   span: float = 10.0, noise: float = 0.01, flops_per_token: float = 6.0,
                   rng=None) -> Runs:
    """A synthetic IsoFLOP sweep whose losses follow a known law.

    Parameters
    ----------
    form : str or Form
        The true law (any form whose inputs are among N, D, C).
    params : dict, optional
        True parameters in public units; default :data:`DEFAULT_TRUTH`.
    budgets, n_sizes, span
        Layout, see :func:`isoflop_grid`.
    noise : float
        Standard deviation of the multiplicative log-normal noise on the loss
        (0.01 is about 1%, typical seed-to-seed spread of final losses).
    flops_per_token : float
        ``k`` in ``C = k N D``.
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same sweep.

    Returns
    -------
    Runs
        Columns ``N``, ``D``, ``C``, ``loss`` and ``budget``.

    Examples
    --------
    >>> runs = generate_sweep(rng=0)
    >>> len(runs)
    108
    """
    form = get_form(form)
    if not set(form.inputs) <= {"N", "D", "C"}:
        raise InputError(f"form {form.name!r} needs inputs {form.inputs}; the generator makes N, D, C")
    if params is None:
        if form.name not in DEFAULT_TRUTH:
            raise InputError(f"no default parameters for form {form.name!r}; pass `params`")
        params = DEFAULT_TRUTH[form.name]
    if not np.isfinite(noise) or noise < 0:
        raise InputError(f"`noise` must be a finite number >= 0, got {noise!r}")
    generator = np.random.default_rng(rng)
    grid = isoflop_grid(budgets, n_sizes, span, flops_per_token=flops_per_token)
    clean = form.predict(dict(params), **{name: grid[name].to_numpy() for name in form.inputs})
    grid["loss"] = clean * np.exp(noise * generator.standard_normal(len(grid)))
    return Runs.from_arrays(N=grid["N"].to_numpy(), D=grid["D"].to_numpy(),
                            C=grid["C"].to_numpy(), loss=grid["loss"].to_numpy(),
                            budget=grid["budget"].to_numpy())
