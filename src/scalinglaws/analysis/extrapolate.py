r"""Extrapolation and allocation: predictions, compute-optimal models, under-training.

Every function takes a fitted law ``fit`` (a :class:`~scalinglaws.FitResult`, or anything
with ``.form`` and ``.params``) and answers one question about it:

===========================  ==========================================================
:func:`predict`              the loss at given inputs
:func:`chinchilla_frontier`  Hoffmann's efficient-frontier coefficients G, a, b
:func:`compute_optimal`      the model size and tokens minimising the loss at a budget C
:func:`compute_for_loss`     the smallest budget (and its N, D) that reaches a loss
:func:`tokens_for_loss`      the tokens a model of N parameters needs to reach a loss
:func:`iso_loss_curve`       every (N, D) reaching one loss
:func:`diagnose`             how far an existing (N, D) is from compute-optimal
:func:`inference_optimal`    the allocation minimising training plus inference compute
===========================  ==========================================================

Compute is counted as ``C = k N D`` with ``k = flops_per_token`` (6 by default:
Kaplan et al. 2020 Sec 2.1, Hoffmann et al. 2022 Sec 3). For the Chinchilla form
the allocation has a closed form (Hoffmann et al. 2022 Sec 3.3 Eq 4); every other
law with inputs ``(N, D)`` is solved numerically, vectorised over budgets.

Uncertainty
-----------
Every function takes ``draws``: an array ``(m, p)`` of public parameter vectors in
``fit.form.param_names`` order (e.g. bootstrap re-fits). Each returned quantity is
then recomputed for every draw and summarised by percentile intervals at
``confidence_level``. A draw under which a target is out of reach gives ``inf``
(it needs unlimited data or compute), which enters the percentiles and can make a
bound infinite; a draw whose computation fails (nan, or a numerical optimum on the
edge of the searched range) is left out. ``n_failed_draws`` counts the draws with
any non-finite result.

Results are frozen dataclasses with ``to_dict()`` (plain JSON-safe types) and
``to_frame()`` (a pandas DataFrame, one row per element).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import ConvergenceWarning, InputError
from .._validation import check_confidence_level as _check_level
from .._validation import check_ratio_bounds as _check_ratio_bounds
from .._validation import to_plain as _plain
from ..laws.flops import PF_DAY, critical_batch_size  # noqa: F401  (critical_batch_size re-exported)
from ..laws.forms import Chinchilla, Form, KaplanND

__all__ = [
    "Prediction",
    "FrontierCoefficients",
    "Allocation",
    "IsoLossCurve",
    "Diagnosis",
    "InferenceAllocation",
    "predict",
    "chinchilla_frontier",
    "compute_optimal",
    "compute_for_loss",
    "tokens_for_loss",
    "iso_loss_curve",
    "diagnose",
    "inference_optimal",
    "irreducible_loss",
    "critical_batch_size",
]

_METHODS = ("auto", "closed_form", "numerical")
_TOKENS_PER_PARAM_BOUNDS = (1e-6, 1e8)  # default D/N range searched numerically
_N_GRID = 401  # points of the dense log-N grid that brackets each optimum
_N_GOLDEN = 30  # golden-section steps: shrink the 2-cell bracket 0.618**30 ~ 5e-7-fold
_N_NEWTON = 2  # finite-difference Newton steps after the golden section
_FD_STEP = 1e-4  # log-space step of the Newton finite differences
_N_BISECT = 64  # bisection steps on a log scale (width / 2**64 is below float resolution)
_COMPUTE_SEARCH = (1.0, 1e70)  # FLOP range searched when inverting the frontier numerically
_TOKENS_SEARCH = (1e-10, 1e90)  # tokens searched when solving L(N, D) = target for D
_PARAMS_SEARCH = (1e-10, 1e90)  # parameters searched for the asymptote of an iso-loss curve
_UNLIMITED = 1e100  # stands for N or D -> infinity when taking a law's limits
_NEAREST_ASYMPTOTE = 1e-9  # inference search starts at N = N_asymptote (1 + 1e-9)
_BEYOND_OPTIMAL = 10.0  # ... and ends at 10x the compute-optimal N for the target loss
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
_FLOAT_MAX = np.finfo(float).max
_ROWS_PER_CHUNK_ELEMENTS = 2_000_000  # bounds the (draws x points) Jacobian memory in predict


# =========================================================================== validation
def _check_fit(fit) -> tuple[Form, np.ndarray]:
    """The form and the finite public parameter vector of ``fit``."""
    form = getattr(fit, "form", None)
    params = getattr(fit, "params", None)
    if not isinstance(form, Form) or params is None:
        raise InputError("`fit` must be a FitResult (or have a Form `.form` and a `.params` "
                         f"mapping), got {type(fit).__name__}")
    vector = form.params_vector(params)
    if not np.all(np.isfinite(vector)):
        raise InputError("`fit.params` must all be finite, got "
                         f"{dict(zip(form.param_names, vector))}")
    return form, vector


def _parameter_rows(form: Form, point: np.ndarray, draws) -> tuple[np.ndarray, int]:
    """Stack the point estimate (row 0) on the draws (rows 1..m); also return m."""
    if draws is None:
        return point[None, :], 0
    draws = getattr(draws, "draws", draws)  # a Bootstrap object passes through
    columns = getattr(draws, "columns", None)
    if columns is not None:  # a DataFrame: pick the columns by name
        missing = [n for n in form.param_names if n not in columns]
        if missing:
            raise InputError(f"`draws` lacks column(s) {missing} of form {form.name!r}")
        draws = draws[list(form.param_names)]
    try:
        values = np.asarray(draws, dtype=float)
    except (TypeError, ValueError):
        raise InputError("`draws` must be a numeric 2-D array of parameter vectors") from None
    if values.ndim != 2 or values.shape[1] != form.n_params or values.shape[0] < 1:
        raise InputError(f"`draws` must have shape (n_draws, {form.n_params}) with columns "
                         f"{', '.join(form.param_names)}; got shape {values.shape}")
    return np.vstack([point[None, :], values]), values.shape[0]


def _check_array(name: str, value, *, allow_zero: bool = False) -> np.ndarray:
    """``value`` as a float array, finite and positive (or non-negative)."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise InputError(f"`{name}` must be a number or an array of numbers, got {value!r}")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be a number or an array of numbers, "
                         f"got {value!r}") from None
    if array.size == 0:
        raise InputError(f"`{name}` must not be empty")
    if not np.all(np.isfinite(array)):
        raise InputError(f"`{name}` must be finite, got {value!r}")
    if np.any(array < 0) if allow_zero else np.any(array <= 0):
        raise InputError(f"`{name}` must be {'non-negative' if allow_zero else 'positive'}, "
                         f"got {value!r}")
    return array


def _check_scalar(name: str, value) -> float:
    array = _check_array(name, value)
    if array.ndim != 0:
        raise InputError(f"`{name}` must be a single number, got {value!r}")
    return float(array)


def _check_method(method: str, form: Form, flops=None) -> str:
    """Resolve ``method`` to "closed_form" or "numerical" for this form."""
    if method not in _METHODS:
        raise InputError(f"`method` must be one of {', '.join(_METHODS)}, got {method!r}")
    closed_available = isinstance(form, Chinchilla) and flops is None
    if method == "closed_form" and not closed_available:
        why = "a user `flops` function" if flops is not None else f"form {form.name!r}"
        raise InputError(f"`method='closed_form'` is only available for the chinchilla form with "
                         f"C = k N D, not with {why}; use method='numerical'")
    if method == "auto":
        return "closed_form" if closed_available else "numerical"
    return method


def _check_allocatable(form: Form) -> None:
    if set(form.inputs) != {"N", "D"}:
        raise InputError(f"form {form.name!r} has inputs ({', '.join(form.inputs)}); allocating "
                         "compute between parameters and tokens needs a law in both N and D")


def _check_flops(flops) -> Callable | None:
    if flops is None:
        return None
    if not callable(flops):
        raise InputError("`flops` must be a callable flops(N, D) -> FLOP, "
                         f"got {type(flops).__name__}")
    probe = np.asarray(flops(np.array([1e9, 2e9]), np.array([2e10, 4e10])), dtype=float)
    if probe.shape != (2,) or not np.all(np.isfinite(probe)) or np.any(probe <= 0):
        raise InputError("`flops(N, D)` must return finite positive FLOP broadcast over array "
                         f"inputs; flops([1e9, 2e9], [2e10, 4e10]) gave {probe!r}")
    return flops


# =========================================================================== law evaluation
def _loss(form: Form, params: np.ndarray, N, D) -> np.ndarray:
    """Loss of each parameter row ``params[i]`` at its own inputs ``N[i], D[i]``.

    ``params`` is ``(m, p)``; ``N`` and ``D`` broadcast to ``(m, ...)`` (leading axis 1 or
    m). Rows with non-finite parameters or inputs give nan.
    """
    N, D = np.broadcast_arrays(np.asarray(N, dtype=float), np.asarray(D, dtype=float))
    m = params.shape[0]
    shape = (m,) + N.shape[1:]
    with np.errstate(all="ignore"):
        # The two built-in laws in (N, D) are written out, vectorised over rows: a form's own
        # evaluation shares one set of points across parameter rows, which the per-row
        # searches here cannot use, and a Python loop over draws is ~100x slower.
        # tests/test_extrapolate.py checks both against Form.predict.
        columns = params.reshape(params.shape + (1,) * (N.ndim - 1))
        if isinstance(form, Chinchilla):
            E, A, B, alpha, beta = (columns[:, i] for i in range(5))
            return E + A * N ** -alpha + B * D ** -beta
        if isinstance(form, KaplanND):
            N_c, D_c, alpha_N, alpha_D = (columns[:, i] for i in range(4))
            return ((N_c / N) ** (alpha_N / alpha_D) + D_c / D) ** alpha_D
        out = np.full(shape, np.nan)
        N, D = np.broadcast_to(N, shape), np.broadcast_to(D, shape)
        theta = form.to_internal(params)
        for i in np.flatnonzero(np.all(np.isfinite(theta), axis=1)):
            X = {"N": N[i].ravel(), "D": D[i].ravel()}
            log_value, _ = form.log_value_and_jacobian(theta[i:i + 1], X)
            out[i] = np.exp(log_value[0]).reshape(shape[1:])
    return out


def _loss_shared_inputs(form: Form, params: np.ndarray, X: Mapping[str, np.ndarray]) -> np.ndarray:
    """Loss ``(m, n)`` of every parameter row at the same ``n`` points (chunked over rows)."""
    n_points = len(next(iter(X.values()))) if X else 1
    rows_per_chunk = max(1, _ROWS_PER_CHUNK_ELEMENTS // max(1, n_points * form.n_params))
    out = np.empty((params.shape[0], n_points))
    with np.errstate(all="ignore"):
        theta = form.to_internal(params)
        for start in range(0, params.shape[0], rows_per_chunk):
            chunk = theta[start:start + rows_per_chunk]
            log_value, _ = form.log_value_and_jacobian(chunk, X)
            out[start:start + rows_per_chunk] = np.exp(log_value)
    return out


def _chinchilla_columns(params: np.ndarray):
    """E, A, B, alpha, beta as ``(m, 1)`` columns."""
    return tuple(params[:, i:i + 1] for i in range(5))


def _frontier_terms(params: np.ndarray) -> dict[str, np.ndarray]:
    r"""Hoffmann Eq 4 coefficients per row, ``(m, 1)`` each; nan where they do not exist.

    ``G = (alpha A / (beta B))^(1/(alpha+beta))``, ``a = beta/(alpha+beta)``,
    ``b = alpha/(alpha+beta)``; along the frontier
    ``L*(C) = E + K (C/k)^(-gamma)`` with ``gamma = alpha beta/(alpha+beta)`` and
    ``K = A G^-alpha + B G^beta``.
    """
    E, A, B, alpha, beta = _chinchilla_columns(params)
    valid = (A > 0) & (B > 0) & (alpha > 0) & (beta > 0)
    with np.errstate(all="ignore"):
        total = alpha + beta
        log_G = (np.log(alpha * A) - np.log(beta * B)) / total
        terms = {
            "E": E, "alpha": alpha, "beta": beta, "A": A, "B": B,
            "log_G": log_G,
            "a": beta / total,
            "b": alpha / total,
            "gamma": alpha * beta / total,
            "log_K": np.log(A * np.exp(-alpha * log_G) + B * np.exp(beta * log_G)),
        }
    return {k: np.where(valid, v, np.nan) for k, v in terms.items()}


def _require_frontier(form: Form, point: np.ndarray) -> None:
    """Raise when the point estimate has no compute-optimal frontier."""
    if isinstance(form, Chinchilla):
        values = dict(zip(form.param_names, point))
        bad = [n for n in ("A", "B", "alpha", "beta") if not values[n] > 0]
        if bad:
            raise InputError("compute-optimal allocation needs A, B, alpha, beta > 0; the fit has "
                             + ", ".join(f"{n}={values[n]!r}" for n in bad))


def _irreducible(form: Form, params: np.ndarray) -> np.ndarray:
    """Infimum of the law per row ``(m, 1)``: E for Chinchilla, else L(N, D) at N = D = 1e100."""
    if isinstance(form, Chinchilla):
        return params[:, :1].copy()
    return _loss(form, params, np.full((1, 1), _UNLIMITED), np.full((1, 1), _UNLIMITED))


# =========================================================================== 1-D solvers
def _minimise_1d(objective, lower, upper, *, polish=True):
    """Minimise ``objective`` elementwise over ``[lower, upper]``, all problems at once.

    ``objective`` maps ``x`` of shape ``S + (j,)`` to values of the same shape (``lower``
    and ``upper`` have shape ``S``). A dense grid brackets the minimum (so a non-convex
    law still gives its global minimum on the grid), a golden section narrows the
    bracket, and finite-difference Newton steps finish: the golden section alone stops
    near ``sqrt(eps)`` in ``x`` because the loss is flat at its minimum, while the
    Newton step uses the slope, which is accurate to ``eps / step``.

    Returns ``x`` (nan where no grid point is finite) and a flag marking minima on the
    first or last grid point (the search range, not the law, decided them).
    """
    fraction = np.linspace(0.0, 1.0, _N_GRID)
    grid = lower[..., None] + (upper - lower)[..., None] * fraction
    values = objective(grid)
    values = np.where(np.isfinite(values), values, np.inf)
    best = np.argmin(values, axis=-1)
    found = np.isfinite(np.take_along_axis(values, best[..., None], -1)[..., 0])
    at_edge = found & ((best == 0) | (best == _N_GRID - 1))

    def f(x):
        value = objective(x[..., None])[..., 0]
        return np.where(np.isfinite(value), value, np.inf)

    a = np.take_along_axis(grid, np.clip(best - 1, 0, _N_GRID - 1)[..., None], -1)[..., 0]
    b = np.take_along_axis(grid, np.clip(best + 1, 0, _N_GRID - 1)[..., None], -1)[..., 0]
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(_N_GOLDEN):
        keep_left = fc < fd  # the minimum lies in [a, d]
        a, b = np.where(keep_left, a, c), np.where(keep_left, d, b)
        new = np.where(keep_left, b - _GOLDEN * (b - a), a + _GOLDEN * (b - a))
        f_new = f(new)
        c, d, fc, fd = (np.where(keep_left, new, d), np.where(keep_left, c, new),
                        np.where(keep_left, f_new, fd), np.where(keep_left, fc, f_new))
    x = 0.5 * (a + b)
    if polish:
        offsets = np.array([-_FD_STEP, 0.0, _FD_STEP])
        for _ in range(_N_NEWTON):
            with np.errstate(all="ignore"):
                minus, centre, plus = np.moveaxis(objective(x[..., None] + offsets), -1, 0)
                slope = (plus - minus) / (2 * _FD_STEP)
                curvature = (plus - 2 * centre + minus) / _FD_STEP ** 2
                step = -slope / curvature
            # the golden bracket already holds the minimum to ~1e-7: a longer step is noise
            usable = np.isfinite(step) & (curvature > 0) & (np.abs(step) < 1e-3)
            x = np.clip(x + np.where(usable, step, 0.0), lower, upper)
    return np.where(found, x, np.nan), at_edge


def _bisect_decreasing(function, lower, upper, target, unreachable=np.nan):
    """Solve ``function(x) = target`` for a decreasing function between ``lower`` and ``upper``.

    Returns the solution (``unreachable`` where ``function(upper) > target``: not reached
    in the range) and a flag where ``function(lower) <= target`` (the answer is at or below
    ``lower``; ``lower`` is returned).
    """
    low, high = np.array(lower, dtype=float), np.array(upper, dtype=float)
    reachable = function(high) <= target
    below_range = function(low) <= target
    for _ in range(_N_BISECT):
        middle = 0.5 * (low + high)
        reached = function(middle) <= target
        low, high = np.where(reached, low, middle), np.where(reached, middle, high)
    x = np.where(below_range, lower, 0.5 * (low + high))
    return np.where(reachable, x, unreachable), below_range & reachable


# =========================================================================== core solvers
# Each takes parameter rows (m, p) and arrays broadcastable to (m, n); returns (m, n).
def _tokens_from_flops(flops, n_params, compute, flops_per_token):
    """D with ``flops(N, D) = C`` (flops increasing in D) by bisection on log D."""
    with np.errstate(all="ignore"):
        guess = np.log(compute / (flops_per_token * n_params))
        log_d, _ = _bisect_decreasing(lambda x: -np.asarray(flops(n_params, np.exp(x)), float),
                                      guess - 40.0, guess + 40.0, -compute)
    return np.exp(log_d)


def _optimal_for_compute(form, params, compute, flops_per_token, method, *, flops=None,
                         ratio_bounds=_TOKENS_PER_PARAM_BOUNDS, polish=True):
    """Compute-optimal N, D, loss and search-edge flag at budgets ``compute``."""
    m = params.shape[0]
    compute = np.broadcast_to(compute, (m,) + np.shape(compute)[1:])
    if method == "closed_form":
        terms = _frontier_terms(params)
        with np.errstate(all="ignore"):
            log_budget = np.log(compute / flops_per_token)
            n_params = np.exp(terms["log_G"] + terms["a"] * log_budget)
            n_tokens = np.exp(terms["b"] * log_budget - terms["log_G"])
        at_edge = np.zeros(compute.shape, bool)
    else:
        with np.errstate(all="ignore"):
            log_budget = np.log(compute / flops_per_token)
        # with C = k N D and D/N = r: log N = (log(C/k) - log r) / 2
        lower = 0.5 * (log_budget - math.log(ratio_bounds[1]))
        upper = 0.5 * (log_budget - math.log(ratio_bounds[0]))

        def tokens(log_n):
            n = np.exp(log_n)
            budget = compute[..., None]
            if flops is None:
                return budget / (flops_per_token * n)
            return _tokens_from_flops(flops, n, np.broadcast_to(budget, n.shape), flops_per_token)

        log_n, at_edge = _minimise_1d(lambda x: _loss(form, params, np.exp(x), tokens(x)),
                                      lower, upper, polish=polish)
        n_params = np.exp(log_n)
        n_tokens = tokens(log_n[..., None])[..., 0]
    return n_params, n_tokens, _loss(form, params, n_params, n_tokens), at_edge


def _compute_for_loss(form, params, target, flops_per_token, method,
                      ratio_bounds=_TOKENS_PER_PARAM_BOUNDS):
    """Smallest compute reaching ``target`` on the frontier, its N, D, and an edge flag."""
    m = params.shape[0]
    target = np.broadcast_to(target, (m,) + np.shape(target)[1:])
    if method == "closed_form":
        terms = _frontier_terms(params)
        with np.errstate(all="ignore"):
            excess = target - terms["E"]
            # invert L*(C) = E + K (C/k)^-gamma
            log_compute = (math.log(flops_per_token)
                           + (terms["log_K"] - np.log(np.where(excess > 0, excess, 0.0)))
                           / terms["gamma"])  # at or below E: log(0) = -inf, C = inf
        compute = np.exp(log_compute)
        at_edge = np.zeros(target.shape, bool)
    else:
        def frontier_loss(log_c):
            return _optimal_for_compute(form, params, np.exp(log_c), flops_per_token, method,
                                        ratio_bounds=ratio_bounds, polish=False)[2]

        log_compute, at_edge = _bisect_decreasing(
            frontier_loss, np.full(target.shape, math.log(_COMPUTE_SEARCH[0])),
            np.full(target.shape, math.log(_COMPUTE_SEARCH[1])), target, unreachable=np.inf)
        compute = np.exp(log_compute)
    n_params, n_tokens, _, edge = _optimal_for_compute(form, params, compute, flops_per_token,
                                                       method, ratio_bounds=ratio_bounds)
    return compute, n_params, n_tokens, at_edge | edge


def _optimal_compute_for_params(form, params, n_params, flops_per_token, method,
                                ratio_bounds=_TOKENS_PER_PARAM_BOUNDS):
    """C*(N): the budget at which ``n_params`` is compute-optimal (N_opt(C) = N)."""
    m = params.shape[0]
    n_params = np.broadcast_to(n_params, (m,) + np.shape(n_params)[1:])
    if method == "closed_form":
        terms = _frontier_terms(params)
        # N = G (C/k)^a  =>  C = k (N/G)^(1/a)
        with np.errstate(all="ignore"):
            return flops_per_token * np.exp((np.log(n_params) - terms["log_G"]) / terms["a"])

    def minus_optimal_n(log_c):  # N_opt(C) increases with C
        return -_optimal_for_compute(form, params, np.exp(log_c), flops_per_token, method,
                                     ratio_bounds=ratio_bounds)[0]

    # N is optimal somewhere with D/N inside the searched range: C = k N^2 (D/N)
    base = math.log(flops_per_token) + 2 * np.log(n_params)
    log_c, _ = _bisect_decreasing(minus_optimal_n, base + math.log(ratio_bounds[0]),
                                  base + math.log(ratio_bounds[1]), -n_params)
    return np.exp(log_c)


def _tokens_for_loss(form, params, target, n_params):
    """D with L(N, D) = target (inf where N cannot reach the target)."""
    m = params.shape[0]
    shape = (m,) + np.broadcast_shapes(np.shape(target), np.shape(n_params))[1:]
    target, n_params = np.broadcast_to(target, shape), np.broadcast_to(n_params, shape)
    if isinstance(form, Chinchilla):
        E, A, B, alpha, beta = _chinchilla_columns(params)
        if len(shape) > 2:
            E, A, B, alpha, beta = (c.reshape((m,) + (1,) * (len(shape) - 1))
                                    for c in (E, A, B, alpha, beta))
        with np.errstate(all="ignore"):
            remaining = target - E - A * n_params ** -alpha  # what the data term may add
            return np.where(remaining > 0, (B / remaining) ** (1.0 / beta), np.inf)
    log_d, _ = _bisect_decreasing(lambda x: _loss(form, params, n_params, np.exp(x)),
                                  np.full(shape, math.log(_TOKENS_SEARCH[0])),
                                  np.full(shape, math.log(_TOKENS_SEARCH[1])), target,
                                  unreachable=np.inf)
    return np.exp(log_d)


def _params_asymptote(form, params, target):
    """N below which ``target`` is out of reach with any data: L(N, infinity) = target."""
    m = params.shape[0]
    target = np.broadcast_to(target, (m,) + np.shape(target)[1:])
    if isinstance(form, Chinchilla):
        E, A, _, alpha, _ = _chinchilla_columns(params)
        with np.errstate(all="ignore"):
            excess = np.where(target > E, target - E, 0.0)
            return (A / excess) ** (1.0 / alpha)  # target at or below E: inf
    log_n, _ = _bisect_decreasing(lambda x: _loss(form, params, np.exp(x), _UNLIMITED),
                                  np.full(target.shape, math.log(_PARAMS_SEARCH[0])),
                                  np.full(target.shape, math.log(_PARAMS_SEARCH[1])), target,
                                  unreachable=np.inf)
    return np.exp(log_n)


# =========================================================================== summaries
def _shaped(values: np.ndarray, shape: tuple):
    array = np.asarray(values, dtype=float).reshape(shape)
    return float(array) if array.ndim == 0 else array


def _summarise(values: Mapping[str, np.ndarray], shape: tuple, level: float, n_draws: int):
    """Point estimates (row 0), percentile intervals over rows 1.., and failed-draw count."""
    point = {name: _shaped(v[0], shape) for name, v in values.items()}
    if n_draws == 0:
        return point, {}, 0
    failed = np.zeros(n_draws, bool)
    intervals = {}
    tail = 50.0 * (1.0 - level)
    for name, v in values.items():
        samples = np.asarray(v[1:], dtype=float).reshape(n_draws, -1)
        failed |= ~np.isfinite(samples).all(axis=1)
        # +-inf is a real answer ("never reached under this draw") and must widen the
        # interval; numpy interpolates inf to nan, so stand in the largest float and map
        # anything interpolated towards it back to inf (real values stay far below 1e298).
        stand_in = np.clip(samples, -_FLOAT_MAX, _FLOAT_MAX)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all draws nan: nan interval
            low, high = np.nanpercentile(stand_in, [tail, 100 - tail], axis=0)
        low, high = (np.where(np.abs(b) > _FLOAT_MAX * 1e-10, np.sign(b) * np.inf, b)
                     for b in (low, high))
        intervals[name] = (_shaped(low, shape), _shaped(high, shape))
    return point, intervals, int(failed.sum())


def _warn_edge(at_edge, what: str, remedy: str) -> None:
    if np.any(at_edge):
        warnings.warn(f"{what} lies at the edge of the searched range for "
                      f"{int(np.sum(at_edge))} element(s); {remedy}", ConvergenceWarning,
                      stacklevel=3)


class _ResultMixin:
    """``to_dict``, ``to_frame`` and ``interval`` shared by the result dataclasses.

    Subclasses list their per-element fields in ``_ELEMENT_FIELDS``; those become the
    columns of :meth:`to_frame`, followed by ``<name>_low`` / ``<name>_high``.
    """

    _ELEMENT_FIELDS: tuple = ()

    def interval(self, name: str):
        """``(low, high)`` percentile interval of quantity ``name`` (needs draws)."""
        if name not in self.intervals:
            raise InputError(f"no interval for {name!r}: pass `draws` to get intervals"
                             if not self.intervals else
                             f"no interval for {name!r}; available: {', '.join(self.intervals)}")
        return self.intervals[name]

    def to_dict(self) -> dict:
        """Every field as plain types (lists, floats, None for non-finite), for ``--json``."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "intervals":
                value = {k: {"low": lo, "high": hi} for k, (lo, hi) in value.items()}
            out[f.name] = value
        return _plain(out)

    def to_frame(self):
        """One row per element: the per-element quantities and their interval bounds."""
        import pandas as pd

        columns = {name: getattr(self, name) for name in self._ELEMENT_FIELDS}
        for name, (low, high) in self.intervals.items():
            columns[f"{name}_low"], columns[f"{name}_high"] = low, high
        arrays = np.broadcast_arrays(*(np.asarray(v) for v in columns.values()))
        return pd.DataFrame({k: a.ravel() for k, a in zip(columns, arrays)})


_INTERVAL_FIELDS_DOC = """intervals : dict
        ``{quantity: (low, high)}`` percentile intervals over the draws (empty without draws).
    confidence_level : float
        Coverage of the intervals.
    n_draws, n_failed_draws : int
        Draws used, and draws for which some quantity was not finite (ignored)."""


# =========================================================================== results
@dataclass(frozen=True, eq=False)
class Prediction(_ResultMixin):
    """Predicted loss at broadcast inputs (see :func:`predict`).

    Attributes
    ----------
    inputs : dict
        The broadcast inputs by name (``N``, ``D``...).
    loss : float or ndarray
        Predicted loss at the point estimate.
    low, high : float or ndarray or None
        Percentile interval of the loss over the draws (None without draws).
    """

    inputs: dict
    loss: Any
    low: Any = None
    high: Any = None
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0

    def to_frame(self):
        import pandas as pd

        columns = dict(self.inputs, loss=self.loss)
        if self.low is not None:
            columns.update(loss_low=self.low, loss_high=self.high)
        arrays = np.broadcast_arrays(*(np.asarray(v) for v in columns.values()))
        return pd.DataFrame({k: a.ravel() for k, a in zip(columns, arrays)})


@dataclass(frozen=True, eq=False)
class FrontierCoefficients(_ResultMixin):
    r"""Hoffmann et al. 2022 Eq 4 efficient frontier of a Chinchilla law.

    ``N_opt = G (C/k)^a``, ``D_opt = G^-1 (C/k)^b`` and, along it,
    ``L*(C) = E + K (C/k)^-gamma``.

    Attributes
    ----------
    G, a, b : float
        ``G = (alpha A/(beta B))^(1/(alpha+beta))``, ``a = beta/(alpha+beta)``,
        ``b = alpha/(alpha+beta)``.
    gamma, K : float
        ``gamma = alpha beta/(alpha+beta)``, ``K = A G^-alpha + B G^beta``.
    """

    G: float
    a: float
    b: float
    gamma: float
    K: float
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    _ELEMENT_FIELDS = ("G", "a", "b", "gamma", "K")


@dataclass(frozen=True, eq=False)
class Allocation(_ResultMixin):
    """A point (C, N, D, loss) on or off the frontier.

    Returned by :func:`compute_optimal` (given C), :func:`compute_for_loss` (given the
    loss) and :func:`tokens_for_loss` (given the loss and N).

    Attributes
    ----------
    question : str
        ``"compute_optimal"``, ``"compute_for_loss"`` or ``"tokens_for_loss"``.
    compute : float or ndarray
        Training FLOP (``k N D``, or ``flops(N, D)`` for a user function).
    n_params, n_tokens : float or ndarray
        Parameters N and training tokens D.
    loss : float or ndarray
        Predicted loss at (N, D).
    tokens_per_param : float or ndarray
        ``D / N``.
    method : str
        ``"closed_form"`` or ``"numerical"``.
    flops_per_token : float
        ``k`` in ``C = k N D``.
    at_search_edge : bool or ndarray
        The numerical optimum sits at the edge of the searched range (not an optimum of
        the law; widen ``tokens_per_param_bounds``).
    """

    question: str
    compute: Any
    n_params: Any
    n_tokens: Any
    loss: Any
    tokens_per_param: Any
    method: str
    flops_per_token: float
    at_search_edge: Any = False
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    _ELEMENT_FIELDS = ("compute", "n_params", "n_tokens", "loss", "tokens_per_param",
                       "at_search_edge")


@dataclass(frozen=True, eq=False)
class IsoLossCurve(_ResultMixin):
    """The (N, D) pairs that reach one loss (see :func:`iso_loss_curve`).

    Attributes
    ----------
    target_loss : float
    n_params, n_tokens, compute, tokens_per_param : ndarray
        Points of the curve; ``compute = k N D``.
    n_params_asymptote : float
        N below which no amount of data reaches the loss.
    optimal_n_params, optimal_n_tokens, optimal_compute : float
        The cheapest point of the curve (the compute-optimal model for this loss).
    """

    target_loss: float
    n_params: Any
    n_tokens: Any
    compute: Any
    tokens_per_param: Any
    n_params_asymptote: float
    optimal_n_params: float
    optimal_n_tokens: float
    optimal_compute: float
    flops_per_token: float
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    _ELEMENT_FIELDS = ("n_params", "n_tokens", "compute", "tokens_per_param")


@dataclass(frozen=True, eq=False)
class Diagnosis(_ResultMixin):
    """How far a model (N, D) is from compute-optimal (see :func:`diagnose`).

    Attributes
    ----------
    n_params, n_tokens, compute, loss :
        The model, its training compute ``k N D`` and its predicted loss.
    optimal_n_params, optimal_n_tokens, optimal_loss :
        The compute-optimal model for the same compute.
    optimal_compute_for_n_params :
        ``C*(N)``: the budget at which N parameters would be compute-optimal.
    optimal_tokens_for_n_params :
        ``D*(N) = C*(N) / (k N)``: the tokens that budget implies.
    compute_ratio, tokens_ratio :
        ``C*(N) / (k N D)`` and ``D*(N) / D`` (equal under ``C = k N D``); above 1 the
        model is under-trained for its size, below 1 over-trained.
    compute_for_same_loss, n_params_for_same_loss, n_tokens_for_same_loss :
        The compute-optimal model reaching the model's predicted loss.
    compute_saving_factor :
        ``k N D / compute_for_same_loss`` (at least 1).
    """

    n_params: Any
    n_tokens: Any
    compute: Any
    loss: Any
    optimal_n_params: Any
    optimal_n_tokens: Any
    optimal_loss: Any
    optimal_compute_for_n_params: Any
    optimal_tokens_for_n_params: Any
    compute_ratio: Any
    tokens_ratio: Any
    compute_for_same_loss: Any
    n_params_for_same_loss: Any
    n_tokens_for_same_loss: Any
    compute_saving_factor: Any
    flops_per_token: float
    method: str
    form: str = ""
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    _ELEMENT_FIELDS = ("n_params", "n_tokens", "compute", "loss", "optimal_n_params",
                       "optimal_n_tokens", "optimal_loss", "optimal_compute_for_n_params",
                       "optimal_tokens_for_n_params", "compute_ratio", "tokens_ratio",
                       "compute_for_same_loss", "n_params_for_same_loss",
                       "n_tokens_for_same_loss", "compute_saving_factor")

    def _range(self, name: str, index, fmt) -> str:
        if name not in self.intervals:
            return ""
        low, high = (np.ravel(v)[index] for v in self.intervals[name])
        return f" [{fmt(low)}, {fmt(high)}]"

    def __str__(self) -> str:
        k = self.flops_per_token
        elements = np.broadcast_arrays(*(np.asarray(getattr(self, n), float)
                                         for n in self._ELEMENT_FIELDS))
        rows = [dict(zip(self._ELEMENT_FIELDS, (e.ravel()[i] for e in elements)))
                for i in range(elements[0].size)]
        blocks = []
        for i, row in enumerate(rows):
            r = lambda name, fmt: self._range(name, i, fmt)  # noqa: E731
            state = ("under-trained" if row["tokens_ratio"] > 1.0 else "over-trained"
                     if row["tokens_ratio"] < 1.0 else "compute-optimal")
            lines = [
                f"Compute-optimality diagnosis ({self.form or 'law'}, C = {k:g} N D, "
                f"{self.method.replace('_', ' ')})",
                f"  model                  N = {_count(row['n_params'])} parameters, "
                f"D = {_count(row['n_tokens'])} tokens "
                f"({row['n_tokens'] / row['n_params']:.3g} tokens/parameter)",
                f"  training compute       C = {_flop(row['compute'])} "
                f"({row['compute'] / PF_DAY:,.4g} PF-days)",
                f"  predicted loss         {row['loss']:.4f}{r('loss', _loss_fmt)}",
                f"  optimal at this C      N = {_count(row['optimal_n_params'])}"
                f"{r('optimal_n_params', _count)}, D = {_count(row['optimal_n_tokens'])}"
                f"{r('optimal_n_tokens', _count)}, loss {row['optimal_loss']:.4f}",
                f"  N would be optimal at  C*(N) = {_flop(row['optimal_compute_for_n_params'])}"
                f"{r('optimal_compute_for_n_params', _flop)} with D*(N) = "
                f"{_count(row['optimal_tokens_for_n_params'])} tokens"
                f"{r('optimal_tokens_for_n_params', _count)}",
                f"  ratios                 C*(N)/C = {row['compute_ratio']:.3g}"
                f"{r('compute_ratio', _ratio)}, D*(N)/D = {row['tokens_ratio']:.3g}"
                f"{r('tokens_ratio', _ratio)}  -> {state}",
                f"  same loss, optimally   C = {_flop(row['compute_for_same_loss'])}"
                f"{r('compute_for_same_loss', _flop)} (N = "
                f"{_count(row['n_params_for_same_loss'])}, D = "
                f"{_count(row['n_tokens_for_same_loss'])}): "
                f"{row['compute_saving_factor']:.3g}x less compute"
                f"{r('compute_saving_factor', _ratio)}",
            ]
            if self.n_draws:
                lines.append(f"  intervals              {100 * self.confidence_level:g}% over "
                             f"{self.n_draws} draws ({self.n_failed_draws} failed)")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


@dataclass(frozen=True, eq=False)
class InferenceAllocation(_ResultMixin):
    """Training plus inference compute minimised at a target loss (Sardana et al. 2024).

    Attributes
    ----------
    target_loss, inference_tokens :
        The loss to reach and the tokens processed at inference over the model's life.
    n_params, n_tokens :
        The chosen model and its training tokens.
    training_compute, inference_compute, total_compute :
        ``k N D``, ``k_inf N D_inf`` and their sum.
    chinchilla_n_params, chinchilla_n_tokens, chinchilla_total_compute :
        The compute-optimal model for the same loss and its training plus inference cost.
    saving, saving_fraction :
        ``chinchilla_total_compute - total_compute`` and its ratio to the former.
    at_search_edge :
        The optimum sits at the edge of the searched N range.
    """

    target_loss: Any
    inference_tokens: Any
    n_params: Any
    n_tokens: Any
    training_compute: Any
    inference_compute: Any
    total_compute: Any
    chinchilla_n_params: Any
    chinchilla_n_tokens: Any
    chinchilla_total_compute: Any
    saving: Any
    saving_fraction: Any
    flops_per_token: float
    inference_flops_per_token: float
    at_search_edge: Any = False
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    _ELEMENT_FIELDS = ("target_loss", "inference_tokens", "n_params", "n_tokens",
                       "training_compute", "inference_compute", "total_compute",
                       "chinchilla_n_params", "chinchilla_n_tokens", "chinchilla_total_compute",
                       "saving", "saving_fraction", "at_search_edge")


for _cls in (Prediction, FrontierCoefficients, Allocation, IsoLossCurve, Diagnosis,
             InferenceAllocation):
    _cls.__doc__ = _cls.__doc__.rstrip() + "\n    " + _INTERVAL_FIELDS_DOC + "\n    "


def _count(x) -> str:
    """175e9 -> '175B', 1.4e12 -> '1.4T' (3 significant digits); 1e15 and up as 1e+15."""
    x = float(x)
    if not math.isfinite(x) or abs(x) >= 1e15:
        return f"{x:.3g}"
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _flop(x) -> str:
    return f"{float(x):.3g} FLOP" if math.isfinite(float(x)) else "nan"


def _ratio(x) -> str:
    return f"{float(x):.3g}"


def _loss_fmt(x) -> str:
    return f"{float(x):.4f}"


# =========================================================================== public API
# Unreachable targets are carried as inf and failed draws as nan on purpose (inf / inf ->
# nan, log(0) -> -inf); numpy's floating-point warnings about them are noise here.
def _quiet(function):
    @functools.wraps(function)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):  # a fresh context per call: safe to nest
            return function(*args, **kwargs)

    return quiet


@_quiet
def irreducible_loss(fit) -> float:
    """Infimum of the law over N and D: ``E`` for Chinchilla, ``L(1e100, 1e100)`` otherwise.

    For a law without an offset (Kaplan's) the infimum is 0 and the value returned is
    the law at N = D = 1e100, a tiny positive number.
    """
    form, point = _check_fit(fit)
    if set(form.inputs) == {"N", "D"}:
        return float(_irreducible(form, point[None, :])[0, 0])
    values = dict(zip(form.param_names, point))
    return float(values.get("E", 0.0))


@_quiet
def predict(fit, draws=None, confidence_level=0.95, **inputs) -> Prediction:
    """Predicted loss at broadcast inputs, with percentile intervals over ``draws``.

    Parameters
    ----------
    fit : FitResult
        The law (``.form`` and ``.params``).
    draws : array (m, p), optional
        Parameter vectors in ``fit.form.param_names`` order (e.g. ``bootstrap.draws``).
    confidence_level : float, default 0.95
        Coverage of the intervals: the ``(1 - level)/2`` and ``(1 + level)/2`` percentiles.
    **inputs : array_like
        The form's inputs by name (``N=..., D=...``); arrays broadcast.

    Returns
    -------
    Prediction

    Examples
    --------
    >>> from scalinglaws import Chinchilla, FitResult
    >>> law = FitResult(form=Chinchilla(), params=dict(E=1.69, A=406.4, B=410.7, alpha=0.34,
    ...                 beta=0.28), free_params=(), fixed={}, tied={}, objective=0.0, n_runs=0,
    ...                 success=True, status=0, message="")
    >>> round(predict(law, N=70e9, D=1.4e12).loss, 4)
    1.9366
    """
    form, point = _check_fit(fit)
    rows, n_draws = _parameter_rows(form, point, draws)
    level = _check_level(confidence_level)
    unknown = [name for name in inputs if name not in form.inputs]
    if unknown:
        raise InputError(f"form {form.name!r} takes inputs {', '.join(form.inputs)}; "
                         f"unknown input(s) {', '.join(unknown)}")
    X, shape = form._broadcast_inputs(inputs)
    values = _loss_shared_inputs(form, rows, X)
    point_values, intervals, failed = _summarise({"loss": values}, shape, level, n_draws)
    low, high = intervals.get("loss", (None, None))
    broadcast = {name: _shaped(X[name], shape) for name in form.inputs}
    return Prediction(inputs=broadcast, loss=point_values["loss"], low=low, high=high,
                      intervals=intervals, confidence_level=level, n_draws=n_draws,
                      n_failed_draws=failed)


@_quiet
def chinchilla_frontier(fit, draws=None, confidence_level=0.95) -> FrontierCoefficients:
    r"""Efficient-frontier coefficients of a Chinchilla law (Hoffmann et al. 2022 Eq 4).

    .. math::

        N_{opt}(C) = G \left(\frac{C}{k}\right)^a,\quad
        D_{opt}(C) = G^{-1} \left(\frac{C}{k}\right)^b,\quad
        G = \left(\frac{\alpha A}{\beta B}\right)^{\frac{1}{\alpha+\beta}},\quad
        a = \frac{\beta}{\alpha+\beta},\quad b = \frac{\alpha}{\alpha+\beta}

    and the frontier loss :math:`L^*(C) = E + K (C/k)^{-\gamma}` with
    :math:`\gamma = \alpha\beta/(\alpha+\beta)`, :math:`K = A G^{-\alpha} + B G^{\beta}`.

    Examples
    --------
    With Hoffmann's printed coefficients (App D.2 Eq 10) ``G = 1.3447, a = 0.4516``; with
    the unrounded TeX values ``G = 1.3000, a = 0.4565``.
    """
    form, point = _check_fit(fit)
    if not isinstance(form, Chinchilla):
        raise InputError(f"`fit` must use the chinchilla form for its closed-form frontier, "
                         f"got form {form.name!r}; use compute_optimal(..., method='numerical')")
    _require_frontier(form, point)
    rows, n_draws = _parameter_rows(form, point, draws)
    level = _check_level(confidence_level)
    terms = _frontier_terms(rows)
    values = {"G": np.exp(terms["log_G"]), "a": terms["a"], "b": terms["b"],
              "gamma": terms["gamma"], "K": np.exp(terms["log_K"])}
    point_values, intervals, failed = _summarise(values, (), level, n_draws)
    return FrontierCoefficients(**point_values, intervals=intervals, confidence_level=level,
                                n_draws=n_draws, n_failed_draws=failed)


@_quiet
def compute_optimal(fit, compute, *, flops_per_token=6.0, flops=None, method="auto",
                    tokens_per_param_bounds=_TOKENS_PER_PARAM_BOUNDS, draws=None,
                    confidence_level=0.95) -> Allocation:
    r"""Model size and tokens that minimise the loss at a compute budget.

    Minimises :math:`L(N, D)` subject to :math:`C = kND` (or ``flops(N, D) = C``).

    * Chinchilla, ``method="closed_form"``: Hoffmann et al. 2022 Sec 3.3 Eq 4,
      :math:`N_{opt} = G (C/k)^a`, :math:`D_{opt} = G^{-1} (C/k)^b` (see
      :func:`chinchilla_frontier`).
    * Any law in (N, D), ``method="numerical"``: minimise :math:`L(N, C/(kN))` over
      :math:`\log N` with :math:`D/N` in ``tokens_per_param_bounds``: a dense log grid
      brackets the minimum for every budget at once, then a vectorised golden section
      and finite-difference Newton steps refine it (agrees with the closed form to
      ~1e-9 relative).
    * ``flops(N, D)``: a user FLOP count (vectorised, increasing in D); D is solved from
      ``flops(N, D) = C`` for each N by bisection. Always numerical.

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    compute : float or array_like
        Budgets C in FLOP (positive).
    flops_per_token : float, default 6
        ``k`` in ``C = k N D``; also the guide for the search range with ``flops``.
    flops : callable, optional
        ``flops(N, D) -> FLOP`` replacing ``k N D``.
    method : {"auto", "closed_form", "numerical"}
        ``"auto"`` uses the closed form when it exists (Chinchilla without ``flops``).
    tokens_per_param_bounds : (float, float), default (1e-6, 1e8)
        Range of D/N searched numerically. An optimum on its edge is flagged in
        ``at_search_edge`` and announced with a :class:`~scalinglaws.ConvergenceWarning`;
        draws whose optimum is on the edge count as failed.
    draws, confidence_level :
        See :func:`predict`.

    Returns
    -------
    Allocation
        ``compute, n_params, n_tokens, loss, tokens_per_param`` shaped like ``compute``.

    Raises
    ------
    InputError
        Bad arguments; a law with a single input (it cannot allocate); ``closed_form``
        requested where it does not exist.

    Examples
    --------
    Hoffmann's unrounded coefficients give N_opt = 4.04e10 at the Gopher budget 5.76e23
    (Fig 4 caption: ~40B); the printed, rounded ones give 3.22e10.
    """
    form, point = _check_fit(fit)
    _check_allocatable(form)
    budgets = _check_array("compute", compute)
    k = _check_scalar("flops_per_token", flops_per_token)
    flops = _check_flops(flops)
    method = _check_method(method, form, flops)
    ratio_bounds = _check_ratio_bounds(tokens_per_param_bounds)
    rows, n_draws = _parameter_rows(form, point, draws)
    level = _check_level(confidence_level)
    if method == "closed_form":
        _require_frontier(form, point)
    shape = budgets.shape
    n_params, n_tokens, loss, at_edge = _optimal_for_compute(
        form, rows, budgets.reshape(1, -1), k, method, flops=flops, ratio_bounds=ratio_bounds)
    # an optimum on the search edge is the range's, not the law's: not a usable draw
    edge_free = np.where(at_edge, np.nan, 1.0)
    edge_free[0] = 1.0
    values = {"n_params": n_params * edge_free, "n_tokens": n_tokens * edge_free,
              "loss": loss * edge_free, "tokens_per_param": n_tokens / n_params * edge_free}
    point_values, intervals, failed = _summarise(values, shape, level, n_draws)
    _warn_edge(at_edge[0], "the compute-optimal model size",
               "widen `tokens_per_param_bounds` (the optimum of the law lies outside it)")
    return Allocation(question="compute_optimal", compute=_shaped(budgets, shape),
                      **point_values, method=method, flops_per_token=k,
                      at_search_edge=_edge_out(at_edge[0], shape), intervals=intervals,
                      confidence_level=level, n_draws=n_draws, n_failed_draws=failed)


def _edge_out(flags, shape):
    array = np.asarray(flags, bool).reshape(shape)
    return bool(array) if array.ndim == 0 else array


def _check_target(form, point, target_loss, name="target_loss") -> np.ndarray:
    """Target losses, each above the law's infimum (InputError otherwise)."""
    target = _check_array(name, target_loss)
    floor = float(_irreducible(form, point[None, :])[0, 0])
    if np.any(target <= floor):
        what = (f"the irreducible loss E = {floor:.6g}" if isinstance(form, Chinchilla)
                else f"the infimum of the law (~{floor:.3g})")
        raise InputError(f"`{name}` must be above {what}: no finite model reaches "
                         f"{np.min(target):.6g}")
    return target


@_quiet
def compute_for_loss(fit, target_loss, *, flops_per_token=6.0, method="auto",
                     tokens_per_param_bounds=_TOKENS_PER_PARAM_BOUNDS, draws=None,
                     confidence_level=0.95) -> Allocation:
    r"""Smallest training compute that reaches a loss, and its compute-optimal N, D.

    The frontier loss :math:`L^*(C) = \min_{kND=C} L(N, D)` decreases with C, so the
    answer is its inverse. For Chinchilla it is closed (Hoffmann et al. 2022 Eq 4
    substituted into Eq 2): :math:`L^*(C) = E + K (C/k)^{-\gamma}`, so
    :math:`C = k \left(K / (L - E)\right)^{1/\gamma}` with
    :math:`\gamma = \alpha\beta/(\alpha+\beta)`, :math:`K = A G^{-\alpha} + B G^\beta`.
    Otherwise a vectorised bisection on :math:`\log C` over 1 to 1e70 FLOP.

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    target_loss : float or array_like
        Losses to reach; each must be above the irreducible loss (E for Chinchilla; the
        law's infimum otherwise).
    flops_per_token, method, tokens_per_param_bounds, draws, confidence_level :
        See :func:`compute_optimal`. A draw whose irreducible loss is above the
        target counts as failed.

    Returns
    -------
    Allocation

    Raises
    ------
    InputError
        A target at or below the irreducible loss, or unreachable below 1e70 FLOP.
    """
    form, point = _check_fit(fit)
    _check_allocatable(form)
    target = _check_target(form, point, target_loss)
    k = _check_scalar("flops_per_token", flops_per_token)
    method = _check_method(method, form)
    ratio_bounds = _check_ratio_bounds(tokens_per_param_bounds)
    rows, n_draws = _parameter_rows(form, point, draws)
    level = _check_level(confidence_level)
    if method == "closed_form":
        _require_frontier(form, point)
    shape = target.shape
    compute, n_params, n_tokens, at_edge = _compute_for_loss(form, rows, target.reshape(1, -1),
                                                             k, method, ratio_bounds)
    if not np.all(np.isfinite(compute[0])):
        raise InputError(f"`target_loss` {target.min():.6g} is not reached with less than "
                         f"{_COMPUTE_SEARCH[1]:.0e} FLOP")
    edge_free = np.where(at_edge, np.nan, 1.0)
    edge_free[0] = 1.0
    loss = _loss(form, rows, n_params, n_tokens)
    values = {"compute": compute * edge_free, "n_params": n_params * edge_free,
              "n_tokens": n_tokens * edge_free, "loss": loss * edge_free,
              "tokens_per_param": n_tokens / n_params * edge_free}
    point_values, intervals, failed = _summarise(values, shape, level, n_draws)
    _warn_edge(at_edge[0], "the compute-optimal model for this loss",
               "widen `tokens_per_param_bounds` or check the target loss")
    return Allocation(question="compute_for_loss", **point_values, method=method,
                      flops_per_token=k, at_search_edge=_edge_out(at_edge[0], shape),
                      intervals=intervals, confidence_level=level, n_draws=n_draws,
                      n_failed_draws=failed)


@_quiet
def tokens_for_loss(fit, target_loss, n_params, *, flops_per_token=6.0, draws=None,
                    confidence_level=0.95) -> Allocation:
    r"""Training tokens a model of ``n_params`` parameters needs to reach a loss.

    Answers "if I halve N, how many tokens do I need?". For Chinchilla
    :math:`D = \left(B / (L - E - A N^{-\alpha})\right)^{1/\beta}`, which needs
    :math:`N > (A/(L-E))^{1/\alpha}`; otherwise a bisection on :math:`\log D`.

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    target_loss, n_params : float or array_like
        Broadcast together.
    flops_per_token : float, default 6
        ``k`` for the reported compute ``k N D``.
    draws, confidence_level :
        See :func:`predict`; a draw for which N cannot reach the loss counts as failed.

    Returns
    -------
    Allocation

    Raises
    ------
    InputError
        N too small to ever reach the target (with any amount of data).
    """
    form, point = _check_fit(fit)
    _check_allocatable(form)
    target = _check_target(form, point, target_loss)
    n = _check_array("n_params", n_params)
    k = _check_scalar("flops_per_token", flops_per_token)
    rows, n_draws = _parameter_rows(form, point, draws)
    level = _check_level(confidence_level)
    try:
        target, n = np.broadcast_arrays(target, n)
    except ValueError:
        raise InputError(f"`target_loss` {target.shape} and `n_params` {n.shape} do not "
                         "broadcast") from None
    shape = target.shape
    n_tokens = _tokens_for_loss(form, rows, target.reshape(1, -1), n.reshape(1, -1))
    if not np.all(np.isfinite(n_tokens[0])):
        asymptote = _params_asymptote(form, rows[:1], target.reshape(1, -1))[0]
        bad = np.flatnonzero(~np.isfinite(n_tokens[0]))[0]
        raise InputError(f"`n_params` = {n.ravel()[bad]:.4g} cannot reach `target_loss` = "
                         f"{target.ravel()[bad]:.6g} with any number of tokens: it needs "
                         f"N > {asymptote[bad]:.4g}")
    n_rows = np.broadcast_to(n.reshape(1, -1), n_tokens.shape)
    values = {"compute": k * n_rows * n_tokens, "n_tokens": n_tokens,
              "tokens_per_param": n_tokens / n_rows}
    point_values, intervals, failed = _summarise(values, shape, level, n_draws)
    return Allocation(question="tokens_for_loss", n_params=_shaped(n, shape),
                      loss=_shaped(target, shape), **point_values, method=(
                          "closed_form" if isinstance(form, Chinchilla) else "numerical"),
                      flops_per_token=k, at_search_edge=_edge_out(np.zeros(shape, bool), shape),
                      intervals=intervals, confidence_level=level, n_draws=n_draws,
                      n_failed_draws=failed)


@_quiet
def iso_loss_curve(fit, target_loss, n_params=None, n_points=50, *, flops_per_token=6.0,
                   draws=None, confidence_level=0.95) -> IsoLossCurve:
    r"""The (N, D) pairs that reach one loss: the iso-loss trade-off.

    For Chinchilla :math:`D(N) = \left(B / (L - E - A N^{-\alpha})\right)^{1/\beta}` for N
    above the asymptote :math:`N_\infty = (A/(L-E))^{1/\alpha}` (Hoffmann et al. 2022
    Sec 3.3 Eq 2 solved for D); other laws are solved numerically. The cheapest point of
    the curve in ``k N D`` is the compute-optimal model (:func:`compute_for_loss`).

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    target_loss : float
        One loss, above the irreducible loss.
    n_params : array_like, optional
        Model sizes at which to evaluate the curve; each must exceed the asymptote. By
        default ``n_points`` log-spaced sizes from ``max(N_opt/20, 1.02 N_inf)`` to
        ``20 N_opt``.
    n_points : int, default 50
        Points of the default grid.
    flops_per_token : float, default 6
        ``k`` in ``C = k N D``.
    draws, confidence_level :
        See :func:`predict`. Intervals are for ``n_tokens``, ``compute`` and
        ``tokens_per_param`` at the given sizes.

    Returns
    -------
    IsoLossCurve
    """
    form, point = _check_fit(fit)
    _check_allocatable(form)
    target = _check_target(form, point, target_loss)
    if target.ndim != 0:
        raise InputError("`target_loss` must be a single number for one curve, "
                         f"got {target_loss!r}")
    if isinstance(n_points, (bool, np.bool_)) or not isinstance(n_points, (int, np.integer)) \
            or n_points < 2:
        raise InputError(f"`n_points` must be an integer >= 2, got {n_points!r}")
    k = _check_scalar("flops_per_token", flops_per_token)
    rows, n_draws = _parameter_rows(form, point, draws)
    level = _check_level(confidence_level)
    method = _check_method("auto", form)
    target_row = np.full((1, 1), float(target))
    optimal_c, optimal_n, optimal_d, _ = _compute_for_loss(form, rows[:1], target_row, k, method)
    asymptote = float(_params_asymptote(form, rows[:1], target_row)[0, 0])
    if n_params is None:
        low = max(float(optimal_n[0, 0]) / 20.0, 1.02 * asymptote)
        sizes = np.geomspace(low, 20.0 * float(optimal_n[0, 0]), int(n_points))
    else:
        sizes = _check_array("n_params", n_params)
        if sizes.ndim > 1:
            raise InputError("`n_params` must be one number or a 1-D array, "
                             f"got shape {sizes.shape}")
        if np.any(sizes <= asymptote):
            raise InputError(f"`n_params` must all exceed {asymptote:.4g}: a smaller model never "
                             f"reaches `target_loss` = {float(target):.6g}")
    shape = sizes.shape
    n_tokens = _tokens_for_loss(form, rows, target_row, sizes.reshape(1, -1))
    values = {"n_tokens": n_tokens, "compute": k * sizes.reshape(1, -1) * n_tokens,
              "tokens_per_param": n_tokens / sizes.reshape(1, -1)}
    point_values, intervals, failed = _summarise(values, shape, level, n_draws)
    return IsoLossCurve(target_loss=float(target), n_params=_shaped(sizes, shape), **point_values,
                        n_params_asymptote=asymptote, optimal_n_params=float(optimal_n[0, 0]),
                        optimal_n_tokens=float(optimal_d[0, 0]),
                        optimal_compute=float(optimal_c[0, 0]), flops_per_token=k,
                        intervals=intervals, confidence_level=level, n_draws=n_draws,
                        n_failed_draws=failed)


@_quiet
def diagnose(fit, n_params, n_tokens, *, flops_per_token=6.0, method="auto", draws=None,
             confidence_level=0.95) -> Diagnosis:
    r"""Under-training diagnosis of an existing model (N, D).

    With ``C = k N D`` the model's compute, reports:

    * the compute-optimal model for C (:func:`compute_optimal`);
    * :math:`C^*(N)`, the budget at which N parameters are compute-optimal, and
      :math:`D^*(N) = C^*(N)/(kN)`. For Chinchilla, inverting Hoffmann et al. 2022 Eq 4
      :math:`N = G (C/k)^a` gives :math:`C^*(N) = k (N/G)^{1/a}`;
    * the ratios :math:`C^*(N)/(kND)` and :math:`D^*(N)/D` (equal under C = kND): above 1
      the model is under-trained for its size (Hoffmann et al. 2022 Sec 1 and 3.4 make
      this case for GPT-3 and Gopher);
    * the compute a compute-optimal model needs for the same predicted loss
      (:func:`compute_for_loss`) and the saving factor ``kND`` / that compute.

    ``str(result)`` prints a readable report.

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    n_params, n_tokens : float or array_like
        The model(s); broadcast together.
    flops_per_token, method, draws, confidence_level :
        See :func:`compute_optimal`.

    Returns
    -------
    Diagnosis
    """
    form, point = _check_fit(fit)
    _check_allocatable(form)
    n = _check_array("n_params", n_params)
    d = _check_array("n_tokens", n_tokens)
    k = _check_scalar("flops_per_token", flops_per_token)
    method = _check_method(method, form)
    rows, n_draws = _parameter_rows(form, point, draws)
    level = _check_level(confidence_level)
    if method == "closed_form":
        _require_frontier(form, point)
    try:
        n, d = np.broadcast_arrays(n, d)
    except ValueError:
        raise InputError(f"`n_params` {n.shape} and `n_tokens` {d.shape} "
                         "do not broadcast") from None
    shape = n.shape
    n_row, d_row = n.reshape(1, -1), d.reshape(1, -1)
    compute = k * n_row * d_row
    loss = _loss(form, rows, n_row, d_row)
    optimal_n, optimal_d, optimal_loss, edge_1 = _optimal_for_compute(form, rows, compute, k,
                                                                      method)
    optimal_c_for_n = _optimal_compute_for_params(form, rows, n_row, k, method)
    optimal_d_for_n = optimal_c_for_n / (k * n_row)
    same_c, same_n, same_d, edge_2 = _compute_for_loss(form, rows, loss, k, method)
    at_edge = edge_1 | edge_2
    edge_free = np.where(at_edge, np.nan, 1.0)
    edge_free[0] = 1.0
    compute_rows = np.broadcast_to(compute, loss.shape)
    values = {
        "loss": loss, "optimal_n_params": optimal_n, "optimal_n_tokens": optimal_d,
        "optimal_loss": optimal_loss, "optimal_compute_for_n_params": optimal_c_for_n,
        "optimal_tokens_for_n_params": optimal_d_for_n,
        "compute_ratio": optimal_c_for_n / compute_rows,
        "tokens_ratio": optimal_d_for_n / d_row,
        "compute_for_same_loss": same_c, "n_params_for_same_loss": same_n,
        "n_tokens_for_same_loss": same_d, "compute_saving_factor": compute_rows / same_c,
    }
    values = {name: v * edge_free for name, v in values.items()}
    point_values, intervals, failed = _summarise(values, shape, level, n_draws)
    _warn_edge(at_edge[0], "a compute-optimal model in the diagnosis",
               "the law's optimum lies outside the default tokens-per-parameter range")
    return Diagnosis(n_params=_shaped(n, shape), n_tokens=_shaped(d, shape),
                     compute=_shaped(compute, shape), **point_values, flops_per_token=k,
                     method=method, form=form.name, intervals=intervals, confidence_level=level,
                     n_draws=n_draws, n_failed_draws=failed)


@_quiet
def inference_optimal(fit, target_loss, inference_tokens, *, flops_per_token=6.0,
                      inference_flops_per_token=2.0, draws=None,
                      confidence_level=0.95) -> InferenceAllocation:
    r"""Allocation minimising training plus inference compute at a target loss.

    Sardana et al. 2024 (arXiv 2401.00448, Sec 2): choose N and training tokens D to

    .. math::

        \min_{N, D}\; k N D + k_{inf} N D_{inf}
        \quad\text{subject to}\quad L(N, D) = L_{target},

    with ``k = flops_per_token`` (6) and ``k_inf = inference_flops_per_token`` (2 FLOP per
    parameter per token, :func:`scalinglaws.flops.inference_flops_per_token`). Along the
    iso-loss curve D is a function of N (:func:`tokens_for_loss`), leaving a 1-D
    minimisation over N between the asymptote N_inf and 10x the compute-optimal N (the
    inference term grows with N, so the optimum is never above the compute-optimal N).
    For Chinchilla the optimum satisfies (with k = 6, k_inf = 2)
    :math:`\alpha A N^{-\alpha} = \beta B D^{-\beta} (1 + D_{inf}/(3D))`; with
    ``inference_tokens = 0`` it is the compute-optimal model.

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    target_loss : float or array_like
        Loss to reach, above the irreducible loss.
    inference_tokens : float or array_like
        Tokens processed at inference over the model's life (non-negative); broadcast
        with ``target_loss``.
    flops_per_token, inference_flops_per_token : float
        Training and inference FLOP per parameter per token.
    draws, confidence_level :
        See :func:`predict`.

    Returns
    -------
    InferenceAllocation
    """
    form, point = _check_fit(fit)
    _check_allocatable(form)
    target = _check_target(form, point, target_loss)
    inference = _check_array("inference_tokens", inference_tokens, allow_zero=True)
    k = _check_scalar("flops_per_token", flops_per_token)
    k_inf = _check_scalar("inference_flops_per_token", inference_flops_per_token)
    rows, n_draws = _parameter_rows(form, point, draws)
    level = _check_level(confidence_level)
    method = _check_method("auto", form)
    if method == "closed_form":
        _require_frontier(form, point)
    try:
        target, inference = np.broadcast_arrays(target, inference)
    except ValueError:
        raise InputError(f"`target_loss` {target.shape} and `inference_tokens` "
                         f"{inference.shape} do not broadcast") from None
    shape = target.shape
    target_row, inference_row = target.reshape(1, -1), inference.reshape(1, -1)
    _, optimal_n, optimal_d, _ = _compute_for_loss(form, rows, target_row, k, method)
    asymptote = _params_asymptote(form, rows, target_row)
    # search t = log(N/N_inf - 1): N -> N_inf needs unbounded data, so resolve it on a log scale
    with np.errstate(all="ignore"):
        lower = np.full(asymptote.shape, math.log(_NEAREST_ASYMPTOTE))
        upper = np.log(_BEYOND_OPTIMAL * optimal_n / asymptote - 1.0)

    def sizes(t):
        return asymptote[..., None] * (1.0 + np.exp(t))

    def log_total_cost(t):
        n = sizes(t)
        d = _tokens_for_loss(form, rows, target_row[..., None], n)
        with np.errstate(all="ignore"):
            return np.log(n) + np.log(k * d + k_inf * inference_row[..., None])

    t, at_edge = _minimise_1d(log_total_cost, lower, upper)
    n_params = sizes(t[..., None])[..., 0]
    n_tokens = _tokens_for_loss(form, rows, target_row, n_params)
    training = k * n_params * n_tokens
    serving = k_inf * n_params * inference_row
    total = training + serving
    chinchilla_total = k * optimal_n * optimal_d + k_inf * optimal_n * inference_row
    saving = chinchilla_total - total
    # The compute-optimal model is itself on the iso-loss curve, so the true minimum never
    # costs more; a deficit at rounding level (D_inf = 0) is reported as no saving.
    saving = np.where((saving < 0) & (saving > -1e-9 * chinchilla_total), 0.0, saving)
    edge_free = np.where(at_edge, np.nan, 1.0)
    edge_free[0] = 1.0
    values = {"n_params": n_params, "n_tokens": n_tokens, "training_compute": training,
              "inference_compute": serving, "total_compute": total,
              "chinchilla_n_params": optimal_n, "chinchilla_n_tokens": optimal_d,
              "chinchilla_total_compute": chinchilla_total, "saving": saving,
              "saving_fraction": saving / chinchilla_total}
    values = {name: v * edge_free for name, v in values.items()}
    point_values, intervals, failed = _summarise(values, shape, level, n_draws)
    _warn_edge(at_edge[0], "the inference-aware model size",
               "the inference demand pushes N to the asymptote of the target loss")
    return InferenceAllocation(target_loss=_shaped(target, shape),
                               inference_tokens=_shaped(inference, shape), **point_values,
                               flops_per_token=k, inference_flops_per_token=k_inf,
                               at_search_edge=_edge_out(at_edge[0], shape), intervals=intervals,
                               confidence_level=level, n_draws=n_draws, n_failed_draws=failed)
