r"""Muennighoff et al. (2023): the data-constrained law (repeated tokens, excess parameters).

*Scaling Data-Constrained Language Models*, Muennighoff, Rush, Barak, Le Scao, Piktus,
Tazi, Pyysalo, Wolf, Raffel, arXiv:2305.16264 (NeurIPS 2023). The form, the constants
and the worked examples below are read from the authors' code,
``github.com/huggingface/datablations``: README section "Parametric Fit" and
``utils/parametric_fit.ipynb`` (the data-constrained fit is its cell 29); the paper's
App. A prints the rounded law (per secondary sources).

The law replaces Chinchilla's N and D by *effective* amounts that discount repeated
tokens and parameters in excess of what the unique data can use:

.. math::

    L(N, D, U) = E + \frac{A}{N'^{\alpha}} + \frac{B}{D'^{\beta}},

    D' = U_D + U_D R_D^* \left(1 - e^{-R_D / R_D^*}\right),\qquad
    U_D = \min(U, D),\quad R_D = D / U_D - 1,

    N' = U_N + U_N R_N^* \left(1 - e^{-R_N / R_N^*}\right),\qquad
    U_N = \min\{N, N_{opt}(U_D)\},\quad R_N = N / U_N - 1,

where ``N_opt(U_D)`` is the model size for which ``U_D`` tokens are compute-optimal
under the base law ``E + A/N^alpha + B/D^beta`` (:func:`compute_optimal_n`).
``R_D`` counts repetitions (epochs - 1); the value of the r-th repetition decays like
``exp(-r / R_D^*)``, so ``D'`` can never exceed ``(1 + R_D^*) U_D``; likewise for
parameters beyond ``U_N`` with ``R_N^*``.

Contents
--------
:class:`DataConstrained`          the law as a :class:`~scalinglaws.Form` (``"data_constrained"``)
:data:`MUENNIGHOFF_2023`          the published constants, one copy for tests and notebooks
:func:`compute_optimal_n`         ``N_opt(D)`` of the base law (``U_N`` before the ``min``)
:func:`effective_data`            ``D'``
:func:`effective_params`          ``N'``
:func:`repeated_data_value`       ``D'/D``: average value of a token repeated for ``epochs``
:func:`data_constrained_optimal`  the ``(N, D)`` minimising the loss at a budget under a
                                  unique-token limit

The form, its constants and the effective-amount formula live in
:mod:`scalinglaws.laws.data_constrained` and are importable from here; this module holds
what the law answers (the functions above).

Fitting ``R_D^*`` and ``R_N^*`` with the base constants held, as the paper did::

    from scalinglaws import fit
    from scalinglaws.laws.datablations import MUENNIGHOFF_2023
    base = {k: MUENNIGHOFF_2023["params"][k] for k in ("E", "A", "B", "alpha", "beta")}
    result = fit(runs, "data_constrained", fixed=base)   # runs need N, D, U and loss

Tie the exponents as the paper's base fit did with ``tied={"beta": "alpha"}``.

Fitting notes, measured on the 182 runs the authors fitted (``in_paper_fit_set`` of the
datablations CSV):

* The notebook's objective is Huber with ``delta = 1e-3`` on log residuals of the
  log-sum-exp form (Hoffmann et al.'s convention and this package's default): at the
  published constants it is 0.01582594, the notebook prints 0.0158259366. ``delta = 1e-2``
  or linear residuals give values 3-10 times larger.
* The published ``(R_D^*, R_N^*) = (15.39, 5.31)`` is a *local* minimum of that objective
  (polished: 15.372, 5.315; the notebook's float32 L-BFGS stopped 0.1% away), reached
  from 8 of the notebook's 9 usable starts. It is not the global one: ``(95.4, 1.71)``
  scores 0.0158047 (0.13% lower), with other minima near ``(47.0, 2.33)`` and
  ``(52.2, 2.20)``. The objective is flat (within 0.2%) along a valley trading ``R_D^*``
  against ``R_N^*`` from ``R_D^* ~ 15`` to ``~ 250``, and a bootstrap bounds ``R_D^*`` from
  below only. A multi-start fit therefore returns the valley's deepest point, not the
  published one; pass ``starts=`` near (15.4, 5.3) to land on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._validation import (FrozenDict, FrozenOnUnpickle, broadcast_together,
                           check_ratio_bounds, renamed_argument)
# the law itself, its constants and the forms it registers live in data_constrained.py;
# re-exported here, the module users import (forms.load_builtin_forms reads BUILTIN_FORMS)
from .data_constrained import BUILTIN_FORMS, MUENNIGHOFF_2023, DataConstrained  # noqa: F401
from .data_constrained import _BASE, _DECAY, log_effective_amount
from .frontier import log_optimal_n_for_tokens

__all__ = [
    "MUENNIGHOFF_2023",
    "DataConstrained",
    "DataConstrainedAllocation",
    "allocate_rows",
    "compute_optimal_n",
    "data_constrained_optimal",
    "effective_data",
    "effective_params",
    "repeated_data_value",
]

_SEARCH_RANGE = (1e-4, 1e8)  # default D/N range of the allocation search
_N_GRID = 1201  # points of the dense log-N grid bracketing each optimum
_N_GOLDEN = 48  # golden-section steps: the 2-cell bracket shrinks 0.618**48 ~ 1e-10-fold
# parameter rows searched together: the golden steps evaluate every row of a block at every
# row's points (the form shares points across rows) and keep the diagonal, so a block costs
# b^2 evaluations per point; 16 rows keep that small and the arrays in cache
_ROW_BLOCK = 16


# -- public helpers -------------------------------------------------------------------------

def _positive(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be a positive number or array, got {value!r}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"`{name}` must be finite and positive, got {value!r}")
    return arr


def _public_params(params, needed=_BASE + _DECAY) -> dict:
    """Public parameter values from a mapping or a fit (``.form`` and ``.params``)."""
    form = getattr(params, "form", None)
    if form is not None:
        if not isinstance(form, DataConstrained):
            raise InputError(f"`params` must be a data_constrained fit or a mapping of its "
                             f"parameters, got a fit of form {getattr(form, 'name', form)!r}")
        params = params.params
    if not isinstance(params, Mapping):
        raise InputError("`params` must be a mapping of parameter values (e.g. "
                         "MUENNIGHOFF_2023['params']) or a data_constrained FitResult, got "
                         f"{type(params).__name__}")
    missing = [k for k in needed if k not in params]
    if missing:
        raise InputError(f"`params` lacks {', '.join(missing)}")
    out = {}
    for k in needed:
        try:
            v = float(params[k])
        except (TypeError, ValueError):
            raise InputError(f"`params[{k!r}]` must be a number, got {params[k]!r}") from None
        if not np.isfinite(v) or v <= 0:
            raise InputError(f"`params[{k!r}]` must be finite and positive, got {v!r}")
        out[k] = v
    return out


def compute_optimal_n(params, tokens):
    r"""Model size for which ``tokens`` are the compute-optimal data under the base law.

    .. math::

        N_{opt}(D) = \left(\frac{\alpha A}{\beta B}\right)^{1/\alpha} D^{\beta/\alpha}
                   = G^{(\alpha+\beta)/\alpha} D^{\beta/\alpha}

    (the first-order condition ``alpha A / N^alpha = beta B / D^beta`` of minimising
    ``A/N^alpha + B/D^beta`` at ``N D`` fixed). ``U_N = min(N, N_opt(U_D))`` in the
    data-constrained law. With ``alpha = beta`` it is ``G^2 D``.

    Parameters
    ----------
    params : mapping or FitResult
        Needs ``A``, ``B``, ``alpha``, ``beta`` (public units).
    tokens : float or array_like
        Tokens (positive).

    Examples
    --------
    >>> round(float(compute_optimal_n(MUENNIGHOFF_2023["params"], 1.0)), 4)  # G^2
    0.051
    """
    p = _public_params(params, ("A", "B", "alpha", "beta"))
    d = _positive("tokens", tokens)
    log_n = log_optimal_n_for_tokens(math.log(p["A"]), math.log(p["B"]), p["alpha"], p["beta"],
                                     np.log(d))
    out = np.exp(log_n)
    return out[()] if out.ndim == 0 else out


def effective_data(tokens, unique_tokens, R_D_star):
    r"""Effective data ``D' = U_D + U_D R_D^* (1 - e^{-R_D/R_D^*})`` (Muennighoff 2023).

    ``U_D = min(U, D)``, ``R_D = D/U_D - 1``. Bounded by ``(1 + R_D^*) U_D`` however
    often the data is repeated; equals ``D`` without repetition.

    Parameters
    ----------
    tokens, unique_tokens : float or array_like
        Training tokens ``D`` and unique tokens ``U`` (positive; broadcast).
    R_D_star : float or array_like
        Decay constant of repeated tokens (15.39 in Muennighoff et al.).

    Returns
    -------
    float or ndarray
        ``D'`` in tokens.
    """
    return _effective_amount(("tokens", tokens), ("unique_tokens", unique_tokens),
                             ("R_D_star", R_D_star))


def effective_params(params_count, unique_params, R_N_star):
    r"""Effective parameters ``N' = U_N + U_N R_N^* (1 - e^{-R_N/R_N^*})`` (Muennighoff 2023).

    ``U_N = min(N, unique_params)`` and ``R_N = N/U_N - 1``. Bounded by
    ``(1 + R_N^*) U_N``; equals ``N`` when ``N <= unique_params``.

    Parameters
    ----------
    params_count : float or array_like
        Parameters ``N``.
    unique_params : float or array_like
        The most parameters the unique data can use; the law takes
        ``compute_optimal_n(params, min(U, D))``.
    R_N_star : float or array_like
        Decay constant of excess parameters (5.31 in Muennighoff et al.).

    Returns
    -------
    float or ndarray
        ``N'``.
    """
    return _effective_amount(("params_count", params_count), ("unique_params", unique_params),
                             ("R_N_star", R_N_star))


def _effective_amount(amount, unique, decay):
    """Muennighoff's one formula for both :func:`effective_data` and
    :func:`effective_params`: ``U + U R* (1 - exp(-R/R*))`` with ``U = min(amount, unique)``
    and ``R = amount/U - 1``; each argument a ``(name, value)`` pair, checked positive."""
    x, cap, r = (_positive(name, value) for name, value in (amount, unique, decay))
    ln_x = np.log(x)
    out = np.exp(log_effective_amount(ln_x, np.minimum(np.log(cap), ln_x), r, derivatives=False))
    return out[()] if out.ndim == 0 else out


def repeated_data_value(epochs, R_D_star=MUENNIGHOFF_2023["R_D_star"]):
    r"""Average value of a token, relative to unique data, when ``U`` is seen ``epochs`` times.

    .. math::

        \frac{D'}{D} = \frac{1 + R_D^* (1 - e^{-(\text{epochs} - 1)/R_D^*})}{\text{epochs}}

    (``D = epochs U``; 1 for ``epochs <= 1``). With ``R_D^* = 15.39``: 0.984 at 2 epochs,
    0.931 at 4, 0.828 at 8, 0.661 at 16, 0.379 at 40 (the reference sheet's derived values).

    Parameters
    ----------
    epochs : float or array_like
        ``D / U`` (positive).
    R_D_star : float, default ``MUENNIGHOFF_2023["R_D_star"]``
        Decay constant of repeated tokens.

    Returns
    -------
    float or ndarray
        ``D' / D``.
    """
    ep = _positive("epochs", epochs)
    value = effective_data(ep, 1.0, R_D_star) / ep
    return value[()] if np.ndim(value) == 0 else value


# -- allocation under a unique-token limit --------------------------------------------------

@dataclass(frozen=True)
class DataConstrainedAllocation(FrozenOnUnpickle):
    """The loss-minimising ``(N, D)`` at a compute budget with ``U`` unique tokens available.

    Attributes
    ----------
    N, D : float or ndarray
        Parameters and training tokens (``k N D = compute``).
    epochs : float or ndarray
        ``D / U`` (below 1 when the budget cannot use all unique tokens).
    loss : float or ndarray
        Predicted loss at the optimum.
    compute, unique_tokens : float or ndarray
        The budgets and unique-token limits (broadcast).
    flops_per_token : float
        ``k``.
    at_search_edge : bool or ndarray
        The minimum sits on the edge of the searched ``D/N`` range (widen
        ``tokens_per_parameter_bounds``).
    intervals : dict
        ``{quantity: (low, high)}`` for ``N``, ``D``, ``epochs``, ``loss`` and
        ``tokens_per_parameter``: empty from :func:`data_constrained_optimal` (a point
        estimate); bootstrap percentile confidence intervals from
        :func:`scalinglaws.analysis.data_constrained.data_constrained_allocation`.
    confidence_level : float or None
        Two-sided level of the intervals (None without intervals).
    interval : str
        What the intervals are, e.g. ``"95% bootstrap percentile confidence interval"``;
        ``"none"`` without intervals.
    n_draws, n_failed_draws : int
        Parameter draws the intervals rest on, and those without a usable optimum
        (non-finite, or on the edge of the searched range), left out.
    """

    N: Any
    D: Any
    epochs: Any
    loss: Any
    compute: Any
    unique_tokens: Any
    flops_per_token: float = 6.0
    at_search_edge: Any = False
    params: dict = field(default_factory=dict, repr=False)
    intervals: dict = field(default_factory=dict)
    confidence_level: float | None = None
    interval: str = "none"
    n_draws: int = 0
    n_failed_draws: int = 0

    def __post_init__(self):
        # the intervals' (low, high) pairs are tuples already (read-only); only the mapping
        object.__setattr__(self, "intervals", FrozenDict(self.intervals))

    def to_dict(self) -> dict:
        """Plain JSON-safe types."""
        def plain(v):
            return np.asarray(v).tolist() if isinstance(v, np.ndarray) else (
                bool(v) if isinstance(v, (bool, np.bool_)) else float(v))
        out = {k: plain(getattr(self, k)) for k in ("N", "D", "epochs", "loss", "compute",
                                                    "unique_tokens", "at_search_edge")}
        out["flops_per_token"] = float(self.flops_per_token)
        out["params"] = dict(self.params)
        out["intervals"] = {name: {"low": plain(low), "high": plain(high)}
                            for name, (low, high) in self.intervals.items()}
        out.update(confidence_level=self.confidence_level, interval=self.interval,
                   n_draws=int(self.n_draws), n_failed_draws=int(self.n_failed_draws))
        return out

    def to_frame(self):
        """One row per (budget, ``U``): ``C, U, N, D, epochs, loss, tokens_per_parameter,
        at_search_edge``, then ``<name>_low`` / ``<name>_high`` for each interval; what the
        intervals are in ``attrs``, as in every allocation table (``interval``, the kind:
        "confidence"; ``method``, e.g. "bootstrap percentile"; ``confidence_level``,
        ``n_draws``; none of these without intervals). The words of :attr:`interval`
        ("95% bootstrap percentile confidence interval") are the result's, not the table's."""
        import pandas as pd

        columns = {"C": self.compute, "U": self.unique_tokens, "N": self.N, "D": self.D,
                   "epochs": self.epochs, "loss": self.loss,
                   "tokens_per_parameter": np.asarray(self.D) / np.asarray(self.N),
                   "at_search_edge": self.at_search_edge}
        for name, (low, high) in self.intervals.items():
            columns[f"{name}_low"], columns[f"{name}_high"] = low, high
        arrays = np.broadcast_arrays(*(np.asarray(v) for v in columns.values()))
        frame = pd.DataFrame({k: a.ravel() for k, a in zip(columns, arrays)})
        frame["at_search_edge"] = frame["at_search_edge"].astype(bool)
        frame.attrs.update(question="data_constrained_optimal",
                           flops_per_token=float(self.flops_per_token))
        if self.intervals:
            # an Interval says how it was made; a bare (low, high) pair, from the draws
            method = getattr(next(iter(self.intervals.values())), "method", "")
            frame.attrs.update(interval="confidence", method=method or "bootstrap percentile",
                               confidence_level=self.confidence_level, n_draws=self.n_draws,
                               n_failed_draws=self.n_failed_draws)
        return frame


def data_constrained_optimal(params, compute, unique_tokens, flops_per_token=6.0, *,
                             tokens_per_parameter_bounds=None,
                             tokens_per_param_bounds=None) -> DataConstrainedAllocation:
    r"""Allocation minimising the data-constrained loss at a budget, given ``U`` unique tokens.

    Minimises :math:`L(N, D, U)` subject to :math:`k N D = C` (Muennighoff et al. 2023,
    the allocation behind their Fig. 1; the README finds it by a 1,000-point multiplicative grid
    search around a base configuration). Here: for every (budget, ``U``) pair at once,
    a dense grid of 1,201 points over :math:`\log N` with ``D/N`` in
    ``tokens_per_parameter_bounds`` brackets the minimum, then a vectorised golden-section
    search narrows the bracket ~1e-10-fold.

    Parameters
    ----------
    params : mapping or FitResult
        All seven :class:`DataConstrained` parameters in public units, e.g.
        ``MUENNIGHOFF_2023["params"]``, or a ``data_constrained`` fit.
    compute : float or array_like
        Budgets ``C`` in FLOP.
    unique_tokens : float or array_like
        Unique tokens ``U`` available; broadcast against ``compute``.
    flops_per_token : float, default 6
        ``k`` in ``C = k N D``.
    tokens_per_parameter_bounds : (float, float)
        Range of ``D/N`` searched.

    Returns
    -------
    DataConstrainedAllocation
        ``N``, ``D``, ``epochs = D/U``, ``loss`` (scalars for scalar input): the point
        estimate of ``params``, with no interval (a fit's bootstrap is not used here;
        :func:`scalinglaws.analysis.data_constrained.data_constrained_allocation` gives
        bootstrap percentile intervals).

    Examples
    --------
    The README's worked example (a grid search gives 7.0224e9 parameters and
    2.3734e11 tokens, 9.49 epochs):

    >>> best = data_constrained_optimal(MUENNIGHOFF_2023["params"], 1e22, 25e9)
    >>> f"{best.N:.4g} {best.D:.4g} {best.epochs:.3g}"
    '7.026e+09 2.372e+11 9.49'
    """
    p = _public_params(params)
    budgets = _positive("compute", compute)
    unique = _positive("unique_tokens", unique_tokens)
    if np.ndim(flops_per_token) != 0:
        raise InputError(f"`flops_per_token` must be a scalar, got {flops_per_token!r}")
    k = float(_positive("flops_per_token", flops_per_token))
    bounds = check_ratio_bounds(renamed_argument(
        "tokens_per_param_bounds", "tokens_per_parameter_bounds", tokens_per_param_bounds,
        tokens_per_parameter_bounds, _SEARCH_RANGE))
    budgets, unique = broadcast_together("compute", budgets, "unique_tokens", unique)
    shape = budgets.shape
    form = DataConstrained()
    n, d, loss, edge = (v[0] for v in allocate_rows(
        form.params_vector(p)[None, :], budgets.ravel(), unique.ravel(), k, bounds))

    def shaped(v):
        v = np.asarray(v).reshape(shape)
        return v.item() if v.ndim == 0 else v

    return DataConstrainedAllocation(
        N=shaped(n), D=shaped(d), epochs=shaped(d / unique.ravel()), loss=shaped(loss),
        compute=shaped(budgets.ravel()), unique_tokens=shaped(unique.ravel()),
        flops_per_token=k, at_search_edge=shaped(edge), params=p)


def allocate_rows(param_rows, budgets, unique, flops_per_token, bounds=None):
    r"""The search behind :func:`data_constrained_optimal`, for many parameter vectors at once.

    For every row of ``param_rows`` (public units, :class:`DataConstrained` order) and every
    (budget, ``U``) pair: a dense grid of 1,201 points over :math:`\log N` with ``D/N`` in
    ``bounds`` brackets the minimum of :math:`L(N, C/(kN), U)`, then a vectorised
    golden-section search narrows the bracket ~1e-10-fold; never a point worse than the
    best grid point. Inputs are trusted (checked by the callers).

    Parameters
    ----------
    param_rows : ndarray (m, 7)
        Finite positive parameter vectors.
    budgets, unique : ndarray (c,)
        Budgets in FLOP and unique tokens, paired.
    flops_per_token : float
        ``k``.
    bounds : (float, float), optional
        ``D/N`` range searched; default 1e-4 to 1e8.

    Returns
    -------
    N, D, loss, at_search_edge : ndarray (m, c)
    """
    bounds = _SEARCH_RANGE if bounds is None else bounds
    form = DataConstrained()
    theta = form.to_internal(np.atleast_2d(np.asarray(param_rows, dtype=float)))
    ln_c = np.log(np.asarray(budgets, dtype=float) / flops_per_token)  # log(N D)
    ln_u = np.log(np.asarray(unique, dtype=float))
    out = [np.empty((theta.shape[0], ln_c.size)) for _ in range(3)]
    edge = np.empty((theta.shape[0], ln_c.size), bool)
    for start in range(0, theta.shape[0], _ROW_BLOCK):
        block = slice(start, start + _ROW_BLOCK)
        ln_n, ln_loss, edge[block] = _allocate_block(form, theta[block], ln_c, ln_u, bounds)
        out[0][block] = np.exp(ln_n)
        out[1][block] = np.exp(ln_c - ln_n)
        out[2][block] = np.exp(ln_loss)
    return (*out, edge)


def _allocate_block(form, theta, ln_c, ln_u, bounds):
    """``log N``, ``log L`` and the edge flags ``(b, c)`` of the optima of ``b`` internal
    parameter rows at ``c`` (budget, ``U``) pairs."""
    rows = np.arange(theta.shape[0])

    def log_loss(ln_n):
        """log L of row i at its own points ``ln_n[i]`` ``(c, q)``, for ``ln_n`` ``(b or 1,
        c, q)``: the form evaluates every row at every point, and row i keeps its own; with
        one row of points (the shared grid) that is every row's answer."""
        ln_n, ln_cc, ln_uu = np.broadcast_arrays(ln_n, ln_c[None, :, None], ln_u[None, :, None])
        X = {"N": np.exp(ln_n.ravel()), "D": np.exp((ln_cc - ln_n).ravel()),
             "U": np.exp(ln_uu.ravel())}
        values = form.log_value(theta, X).reshape((theta.shape[0],) + ln_n.shape)
        return values[:, 0] if ln_n.shape[0] == 1 else values[rows, rows]

    low, high = bounds
    # ln N = (ln C' - ln r) / 2 for r = D/N
    lo_n = 0.5 * (ln_c - math.log(high))[None, :, None]
    hi_n = 0.5 * (ln_c - math.log(low))[None, :, None]
    grid = lo_n + (hi_n - lo_n) * np.linspace(0.0, 1.0, _N_GRID)  # (1, c, q): shared
    with np.errstate(all="ignore"):
        values = log_loss(grid)
    values = np.where(np.isfinite(values), values, np.inf)
    best = np.argmin(values, axis=2)  # (b, c)
    edge = (best == 0) | (best == _N_GRID - 1)
    grid = np.broadcast_to(grid[0], values.shape)
    b, c = np.indices(best.shape)
    left = grid[b, c, np.maximum(best - 1, 0)][..., None]
    right = grid[b, c, np.minimum(best + 1, _N_GRID - 1)][..., None]
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    x1 = right - ratio * (right - left)
    x2 = left + ratio * (right - left)
    with np.errstate(all="ignore"):
        f1, f2 = log_loss(x1), log_loss(x2)
        for _ in range(_N_GOLDEN):
            move_right = f1 > f2  # the minimum lies in [x1, right], else in [left, x2]
            left = np.where(move_right, x1, left)
            right = np.where(move_right, right, x2)
            x_new = np.where(move_right, left + ratio * (right - left),
                             right - ratio * (right - left))
            f_new = log_loss(x_new)
            x1, f1, x2, f2 = (np.where(move_right, x2, x_new), np.where(move_right, f2, f_new),
                              np.where(move_right, x_new, x1), np.where(move_right, f_new, f1))
        ln_n = 0.5 * (left + right)
        ln_loss = log_loss(ln_n)
    # never report a point worse than the best grid point
    grid_best = values[b, c, best][..., None]
    take_grid = ~(ln_loss <= grid_best)
    ln_n = np.where(take_grid, grid[b, c, best][..., None], ln_n)
    ln_loss = np.where(take_grid, grid_best, ln_loss)
    return ln_n[..., 0], ln_loss[..., 0], edge
