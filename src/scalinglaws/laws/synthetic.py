"""Synthetic sweeps from a known law: the project's own default data and test truth.

:func:`generate_sweep` lays runs out like a real IsoFLOP study (Hoffmann et
al. 2022, Approach 2): for each compute budget ``C`` a range of model sizes
``N`` around the compute-optimal size, with ``D = C / (k N)`` tokens, and a
loss from a known form times log-normal noise. Randomness comes only through
``rng``.

:func:`synthetic_training_curves` gives per-checkpoint training curves instead (the
input of Hoffmann et al.'s Approach 1, :func:`scalinglaws.envelope_fit`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._exceptions import InputError, ScalingLawsDeprecationWarning
from .._validation import check_int, check_nonnegative, check_numbers, check_positive
from ..data.runs import Runs
from .data_constrained import MUENNIGHOFF_2023
from .forms import Form, get_form

__all__ = ["DEFAULT_BUDGETS", "DEFAULT_CURVE_SIZES", "DEFAULT_HORIZONS", "DEFAULT_TRUTH",
           "generate_sweep", "isoflop_grid", "synthetic_training_curves"]

#: Approach-2 budgets quoted for Hoffmann et al. (2022), FLOP.
DEFAULT_BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)

#: Parameters used when none are given: Besiroglu et al. (2024) Table 1 for
#: Chinchilla, Kaplan et al. (2020) Tables 2 and 5 for the Kaplan forms
#: (C_c converted from 1.6e7 PF-days to FLOP), Muennighoff et al. (2023)'s published
#: constants for the data-constrained law (:data:`~scalinglaws.laws.datablations.MUENNIGHOFF_2023`).
DEFAULT_TRUTH: dict[str, dict[str, float]] = {
    "chinchilla": {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658},
    "kaplan_n": {"N_c": 8.8e13, "alpha_N": 0.076},
    "kaplan_d": {"D_c": 5.4e13, "alpha_D": 0.095},
    "kaplan_c": {"C_c": 1.6e7 * 8.64e19, "alpha_C": 0.057},
    "kaplan_n_offset": {"E": 1.7, "N_c": 2.0e9, "alpha_N": 0.35},
    "kaplan_d_offset": {"E": 1.7, "D_c": 4.0e10, "alpha_D": 0.3},
    "kaplan_c_offset": {"E": 1.7, "C_c": 1.0e20, "alpha_C": 0.18},
    "kaplan_nd": {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103},
    "data_constrained": dict(MUENNIGHOFF_2023["params"]),
    "data_constrained_linear_decay": dict(MUENNIGHOFF_2023["params"]),
}


def isoflop_grid(budgets: Sequence[float] = DEFAULT_BUDGETS, n_sizes: int = 12,
                 span: float = 10.0, tokens_per_parameter: float = 20.0,
                 flops_per_token: float = 6.0, *, tokens_per_param: float | None = None
                 ) -> pd.DataFrame:
    """Model sizes and token counts of an IsoFLOP study.

    For each budget ``C`` (FLOP), ``n_sizes`` log-spaced sizes from
    ``N0 / span`` to ``N0 * span`` around ``N0 = sqrt(C / (k r))``, the size
    at ``r = tokens_per_parameter`` tokens per parameter; ``D = C / (k N)``.
    ``tokens_per_param`` is the former name of ``tokens_per_parameter``
    (deprecated, ``FutureWarning``).

    Returns
    -------
    DataFrame with columns ``N``, ``D``, ``C`` and ``budget`` (the budget index).

    Examples
    --------
    >>> grid = isoflop_grid([1e20], n_sizes=3, span=2.0)
    >>> bool(((6 * grid.N * grid.D / grid.C - 1).abs() < 1e-12).all())
    True
    """
    if tokens_per_param is not None:
        warnings.warn("`tokens_per_param` is now `tokens_per_parameter`; the old name will be "
                      "removed", ScalingLawsDeprecationWarning, stacklevel=2)
        tokens_per_parameter = tokens_per_param
    budgets = np.asarray(budgets, dtype=float)
    if budgets.ndim != 1 or budgets.size == 0 or not np.all(np.isfinite(budgets)) or np.any(budgets <= 0):
        raise InputError("`budgets` must be a non-empty list of positive FLOP counts")
    n_sizes = check_int("n_sizes", n_sizes, 2)
    for name, value in (("span", span), ("tokens_per_parameter", tokens_per_parameter),
                        ("flops_per_token", flops_per_token)):
        if not np.isfinite(value) or value <= 0 or (name == "span" and value <= 1):
            raise InputError(f"`{name}` must be a finite number > {1 if name == 'span' else 0}, "
                             f"got {value!r}")
    rows = []
    for index, budget in enumerate(budgets):
        centre = np.sqrt(budget / (flops_per_token * tokens_per_parameter))
        sizes = centre * np.geomspace(1 / span, span, n_sizes)
        for n in sizes:
            rows.append((n, budget / (flops_per_token * n), budget, index))
    return pd.DataFrame(rows, columns=["N", "D", "C", "budget"])


def generate_sweep(form: str | Form = "chinchilla", params: Mapping[str, float] | None = None, *,
                   budgets: Sequence[float] = DEFAULT_BUDGETS, n_sizes: int = 12,
                   span: float = 10.0, noise: float = 0.01, flops_per_token: float = 6.0,
                   unique_tokens=None, unique_grid: Sequence[float] | None = None,
                   epochs: Sequence[float] | None = None, rng=None) -> Runs:
    """A synthetic IsoFLOP sweep whose losses follow a known law.

    Parameters
    ----------
    form : str or Form
        The true law (any form whose inputs are among N, D, C, and U for the
        data-constrained law of Muennighoff et al. 2023, ``"data_constrained"``).
    params : dict, optional
        True parameters in public units; default :data:`DEFAULT_TRUTH`.
    budgets, n_sizes, span
        Layout, see :func:`isoflop_grid`.
    noise : float
        Standard deviation of the multiplicative log-normal noise on the loss
        (0.01 is about 1%, typical seed-to-seed spread of final losses).
    flops_per_token : float
        ``k`` in ``C = k N D``.
    unique_tokens : float or sequence, optional
        For a law of unique tokens ``U``: one ``U`` for every run, or one per run of the
        IsoFLOP grid (``len(budgets) * n_sizes`` values, in :func:`isoflop_grid`'s order).
    unique_grid : sequence of float, optional
        A grid of ``U`` values: every run of the IsoFLOP grid is trained once on each.
    epochs : sequence of float, optional
        A grid of epoch counts ``D/U``: every run is trained once at each, on
        ``U = D / epochs`` unique tokens (an epoch count below 1 means ``U > D``:
        only ``D`` of them are seen).
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same sweep.

    Give exactly one of ``unique_tokens``, ``unique_grid`` and ``epochs`` for a law of
    ``U``, and none otherwise. The noise is the same log-normal noise for every form.

    Returns
    -------
    Runs
        Columns ``N``, ``D``, ``C``, ``loss`` and ``budget``; for a law of ``U`` also ``U``
        and ``epochs`` (``D/U``).

    Examples
    --------
    >>> runs = generate_sweep(rng=0)
    >>> len(runs)
    108
    >>> repeated = generate_sweep("data_constrained", epochs=[1, 4, 16], rng=0)
    >>> len(repeated), sorted(set(repeated.frame["epochs"].round(6)))
    (324, [1.0, 4.0, 16.0])
    """
    form = get_form(form)
    if not set(form.inputs) <= {"N", "D", "C", "U"}:
        raise InputError(f"form {form.name!r} needs inputs {form.inputs}; the generator makes "
                         "N, D, C (and U)")
    if params is None:
        if form.name not in DEFAULT_TRUTH:
            raise InputError(f"no default parameters for form {form.name!r}; pass `params`")
        params = DEFAULT_TRUTH[form.name]
    noise = check_nonnegative("noise", noise)
    grid = isoflop_grid(budgets, n_sizes, span, flops_per_token=flops_per_token)
    grid = _with_unique_tokens(grid, "U" in form.inputs, unique_tokens, unique_grid, epochs)
    generator = np.random.default_rng(rng)
    clean = form.predict(dict(params), **{name: grid[name].to_numpy() for name in form.inputs})
    grid["loss"] = clean * np.exp(noise * generator.standard_normal(len(grid)))
    extra = {name: grid[name].to_numpy() for name in ("U", "epochs") if name in grid}
    return Runs.from_arrays(N=grid["N"].to_numpy(), D=grid["D"].to_numpy(),
                            C=grid["C"].to_numpy(), loss=grid["loss"].to_numpy(),
                            budget=grid["budget"].to_numpy(), flops_per_token=flops_per_token,
                            **extra)


def _with_unique_tokens(grid: pd.DataFrame, needs_unique: bool, unique_tokens, unique_grid,
                        epochs) -> pd.DataFrame:
    """The IsoFLOP ``grid`` with the unique tokens ``U`` (and ``epochs = D/U``) of each run
    from exactly one of ``unique_tokens`` (one, or one per run), ``unique_grid`` (every run
    once per value) and ``epochs`` (every run once per epoch count); unchanged for a law
    without ``U``."""
    given = {name: value for name, value in (("unique_tokens", unique_tokens),
                                             ("unique_grid", unique_grid), ("epochs", epochs))
             if value is not None}
    if not needs_unique:
        if given:
            raise InputError(f"`{next(iter(given))}` is for a law of unique tokens U (form "
                             "'data_constrained'); this form does not take U")
        return grid
    if len(given) != 1:
        raise InputError("a law of unique tokens U needs exactly one of `unique_tokens`, "
                         "`unique_grid` and `epochs`, got "
                         + (", ".join(f"`{name}`" for name in given) or "none"))
    (name, value), = given.items()
    values = check_numbers(name, value, positive=True)
    if name == "unique_tokens":
        if values.ndim == 0 or values.size == 1:
            one = float(values.ravel()[0])
            return grid.assign(U=one, epochs=grid["D"] / one)
        if values.ndim != 1 or values.size != len(grid):
            raise InputError(f"`unique_tokens` must be one number or one per run ({len(grid)} "
                             f"runs: len(budgets) * n_sizes), got shape {values.shape}; pass "
                             "`unique_grid` to train every run on each of several U")
        return grid.assign(U=values, epochs=grid["D"].to_numpy() / values)
    if values.ndim > 1 or values.size == 0:
        raise InputError(f"`{name}` must be a non-empty list of positive numbers, got {value!r}")
    values = values.ravel()
    crossed = grid.loc[grid.index.repeat(values.size)].reset_index(drop=True)
    column = np.tile(values, len(grid))
    if name == "unique_grid":
        return crossed.assign(U=column, epochs=crossed["D"].to_numpy() / column)
    return crossed.assign(U=crossed["D"].to_numpy() / column, epochs=column)


#: Default sizes of :func:`synthetic_training_curves`: 70M to 10B, as Hoffmann's Approach 1.
DEFAULT_CURVE_SIZES = tuple(np.geomspace(7e7, 1e10, 12).tolist())
#: Default horizons, tokens per parameter at the end of the cosine schedule: four
#: spanning 16x, as Hoffmann et al. (App D.1).
DEFAULT_HORIZONS = tuple(np.geomspace(5.0, 80.0, 4).tolist())


def synthetic_training_curves(form: str | Form = "chinchilla",
                              params: Mapping[str, float] | None = None, *,
                              sizes: Sequence[float] = DEFAULT_CURVE_SIZES,
                              horizons: Sequence[float] = DEFAULT_HORIZONS,
                              n_checkpoints: int = 40, first_fraction: float = 0.01,
                              noise: float = 0.005, flops_per_token: float = 6.0,
                              rng=None) -> Runs:
    r"""Per-checkpoint training curves from a known law (input for :func:`scalinglaws.envelope_fit`).

    For every size ``N`` in ``sizes`` and horizon ``h`` in ``horizons`` there is
    one run trained to ``D_H = h N`` tokens, logged at ``n_checkpoints``
    log-spaced fractions ``t`` of its horizon from ``first_fraction`` to 1.
    The checkpoint at ``D_t = t D_H`` gets the loss ``L(N, D_t)`` of the law
    times log-normal noise of relative SD ``noise`` (independent per
    checkpoint).

    Parameters
    ----------
    form : str or Form
        The true law; its inputs must be ``N`` and ``D`` (e.g. ``"chinchilla"``).
    params : dict, optional
        True parameters; default :data:`DEFAULT_TRUTH`.
    sizes : sequence of float
        Model sizes (default 12 from 70M to 10B).
    horizons : sequence of float
        Tokens per parameter at the end of each run (default 5 to 80).
    n_checkpoints : int
        Checkpoints per run.
    first_fraction : float
        Fraction of the horizon at the first checkpoint, in (0, 1).
    noise : float
        Relative SD of the multiplicative noise on each checkpoint's loss.
    flops_per_token : float
        ``k`` in ``C = k N D``.
    rng : None, int or numpy.random.Generator
        Source of the noise.

    Returns
    -------
    Runs
        Columns ``N``, ``D``, ``C``, ``loss``, ``step`` (checkpoint index),
        ``run_id`` and ``horizon`` (the run's final tokens ``D_H``).

    Notes
    -----
    Simplification: a checkpoint at fraction ``t`` of a cosine schedule is
    given the loss of a run *trained to* ``t D_H`` with its own matched
    schedule, which is what the law describes (Hoffmann et al. fit it to
    final losses). Real mid-schedule checkpoints are worse, since their
    learning rate has not decayed, which is why Hoffmann et al. train several
    horizons per size and take the envelope (Sec 3.1, App D.1); here the
    horizons only set how far each run reaches, and the envelope is
    ``min_i L(N_i, C/(k N_i))`` over the sizes that reach C, whose optimum
    follows ``N_opt ∝ C^{β/(α+β)}`` for the Chinchilla law.
    """
    form = get_form(form)
    if set(form.inputs) != {"N", "D"}:
        raise InputError(f"`form` {form.name!r} has inputs {form.inputs}; training curves need "
                         "a law of N and D")
    if params is None:
        if form.name not in DEFAULT_TRUTH:
            raise InputError(f"no default parameters for form {form.name!r}; pass `params`")
        params = DEFAULT_TRUTH[form.name]
    arrays = {}
    for name, value in (("sizes", sizes), ("horizons", horizons)):
        array = np.asarray(value, dtype=float).ravel()
        if array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
            raise InputError(f"`{name}` must be a non-empty list of positive numbers, got {value!r}")
        arrays[name] = array
    n_checkpoints = check_int("n_checkpoints", n_checkpoints, 2)
    first_fraction = check_positive("first_fraction", first_fraction)
    if first_fraction >= 1:
        raise InputError(f"`first_fraction` must be in (0, 1), got {first_fraction!r}")
    noise = check_nonnegative("noise", noise)
    k = check_positive("flops_per_token", flops_per_token)
    generator = np.random.default_rng(rng)
    fractions = np.geomspace(first_fraction, 1.0, n_checkpoints)
    size, horizon, fraction = np.meshgrid(arrays["sizes"], arrays["horizons"], fractions,
                                          indexing="ij")
    n_runs = arrays["sizes"].size * arrays["horizons"].size
    N = size.ravel()
    final = (horizon * size).ravel()
    D = fraction.ravel() * final
    clean = form.predict(dict(params), N=N, D=D)
    loss = clean * np.exp(noise * generator.standard_normal(N.size))
    return Runs.from_arrays(N=N, D=D, C=k * N * D, loss=loss, flops_per_token=k,
                            run_id=np.repeat(np.arange(n_runs), n_checkpoints),
                            step=np.tile(np.arange(n_checkpoints), n_runs), horizon=final)
