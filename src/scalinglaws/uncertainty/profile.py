"""Profile-likelihood intervals of a fitted law's exponents (beside the bootstrap's).

For one parameter ``theta_j`` the profile objective is ``P(v) = min f(theta)`` over
every other free parameter with ``theta_j = v`` held. The interval is the set of ``v``
whose *robust likelihood-ratio* statistic stays below the chi-square quantile:

.. math::

    \\Lambda(v) = \\frac{2\\,[P(v) - f(\\hat\\theta)]}{c} \\le \\chi^2_{1,\\,1-a},
    \\qquad c = \\frac{\\sum_i \\psi(r_i)^2 / (n - p)}{\\sum_i \\psi'(r_i) / n},

the drop-in-dispersion test of Schrader & Hettmansperger (1980, Biometrika 67, 93-101)
for M-estimators: for squared loss (``rho = r^2/2``) ``c`` is the residual variance
and ``Lambda`` the usual likelihood-ratio statistic; for Huber's loss ``c`` rescales the
objective so that ``Lambda`` is again asymptotically chi-square with one degree of
freedom. It is an *asymptotic, homoscedastic* interval: it assumes independent runs with
one error distribution, where the bootstrap assumes only independent runs. Unlike the
sandwich's Wald interval it follows the curved valley of the objective, so it is not
symmetric about the estimate.

For the Chinchilla form every profile point is solved from the previous point (a
continuation), from the full-data optimum, and from the best cells of the
variable-projection exponent grid (:mod:`scalinglaws.fitting.varpro`), then polished.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._exceptions import ConvergenceWarning, InputError
from .._text import counted
from .._validation import FrozenOnUnpickle
from .._validation import check_confidence_level, freeze_array_fields
from ..data.runs import as_runs
from ..fitting.engine import multistart_minimize
from ..fitting.polish import polish
from ..fitting.estimator import FitResult
from ..fitting.varpro import EXPONENT_GRID, linear_inner_solve, profile_objective
from .asymptotic import fitted_objective

__all__ = ["INTERVAL_METHOD", "ProfileInterval", "ProfileMap", "profile_interval",
           "profile_intervals", "profile_map", "profile_scale"]

#: the kind of a :class:`ProfileInterval` (Schrader & Hettmansperger's robust
#: likelihood-ratio test inverted along the profile objective)
INTERVAL_METHOD = "profile likelihood"

_MAX_STEPS = 40  # outward steps (doubling) before an interval side is declared open


@dataclass(frozen=True)
class ProfileInterval(FrozenOnUnpickle):
    """A profile-likelihood interval of one parameter. Frozen.

    Attributes
    ----------
    parameter : str
    estimate, low, high : float
        The fit's value and the interval (``nan`` on a side that did not close
        before the parameter's bound: ``open_low`` / ``open_high`` say so).
    confidence_level : float
    threshold : float
        Rise of the objective above its minimum that bounds the interval,
        ``c * chi2 / 2``.
    scale : float
        ``c`` of the module docstring.
    values, objectives : ndarray
        Every profile point evaluated (parameter value, profile objective).
    open_low, open_high : bool
        The profile stayed below the threshold up to the parameter's bound.
    method : str
        What kind of interval this is: ``"profile likelihood"`` (the robust
        likelihood-ratio test of the module docstring; asymptotic, homoscedastic).
        Intervals pickled before this field existed read it as that, the only kind made
        here.
    """

    parameter: str
    estimate: float
    low: float
    high: float
    confidence_level: float
    threshold: float
    scale: float
    values: np.ndarray = field(repr=False)
    objectives: np.ndarray = field(repr=False)
    open_low: bool = False
    open_high: bool = False
    method: str = INTERVAL_METHOD

    def __post_init__(self):
        freeze_array_fields(self, ("values", "objectives"))


def profile_scale(result: FitResult, runs) -> float:
    """``c = [sum psi^2 / (n - p)] / [sum psi' / n]`` at the fit (module docstring)."""
    fitter, theta, inputs, target = _setup(result, as_runs(runs))
    r, _ = fitter.array_residual_function(inputs, target)(theta[None, :])
    return _scale(fitter, r[0])


def _scale(fitter, r):
    n, p = r.size, len(fitter.free)
    if n <= p:
        raise InputError(f"{counted(n, 'run')} for {p} free parameters: no residual degrees of "
                         "freedom, so the profile likelihood ratio has no scale (fit more runs, "
                         "or fix or tie parameters)")
    curvature = fitter.loss.psi_deriv(r).sum() / n
    if curvature <= 0:
        raise InputError("no run is in Huber's quadratic zone at the optimum: the profile "
                         "likelihood ratio has no scale (use the bootstrap)")
    return float((fitter.loss.psi(r) ** 2).sum() / (n - p) / curvature)


def _setup(result, runs):
    if not isinstance(result, FitResult):
        raise InputError(f"`result` must be a FitResult, got {type(result).__name__}")
    fitter, theta = fitted_objective(result, runs)
    return fitter, theta, runs.inputs(fitter.form.inputs), runs.loss


class _Profile:
    """``P(v)`` for one free parameter: the objective minimised over the others."""

    def __init__(self, fitter, theta, inputs, target, j):
        self.fitter, self.j = fitter, j
        self.full = fitter.array_residual_function(inputs, target)
        self.others = [i for i in range(len(theta)) if i != j]
        self.lower, self.upper = fitter.lower[self.others], fitter.upper[self.others]
        self.theta = theta
        self.previous = theta[self.others]
        self.inputs, self.target = inputs, target
        chinchilla = fitter.form.name == "chinchilla" and fitter.free == fitter.form.param_names
        self.varpro = chinchilla and fitter.free[j] in ("alpha", "beta")

    def residuals(self, v):
        def reduced(theta_others):
            full = np.empty((theta_others.shape[0], len(self.theta)))
            full[:, self.others] = theta_others
            full[:, self.j] = v
            r, jac = self.full(full)
            return r, jac[:, self.others, :]
        return reduced

    def starts(self, v):
        points = [self.previous, self.theta[self.others]]
        if self.varpro:
            weights = 1.0 / self.target**2 if self.fitter.space == "log" else None
            fixed = [v] if self.fitter.free[self.j] == "alpha" else EXPONENT_GRID
            other = EXPONENT_GRID if self.fitter.free[self.j] == "alpha" else [v]
            scales, sse = linear_inner_solve(self.inputs["N"], self.inputs["D"], self.target,
                                             fixed, other, weights)
            exponents = np.array(other if self.fitter.free[self.j] == "alpha" else fixed)
            for cell in np.argsort(sse.ravel(), kind="stable")[:2]:
                point = np.concatenate([scales.reshape(-1, 3)[cell], [exponents[cell]]])
                points.append(point)
        return points

    def __call__(self, v):
        reduced = self.residuals(v)
        search = multistart_minimize(reduced, np.array(self.starts(v)), self.fitter.loss,
                                     self.lower, self.upper, prune_after=0)
        if not np.isfinite(search.fun).any():
            return np.inf
        x, f, _, _ = polish(reduced, search.x[search.best], self.fitter.loss, self.lower,
                            self.upper)
        self.previous = x
        return f


def profile_interval(result: FitResult, runs, parameter: str = "alpha", *,
                     confidence_level: float = 0.95) -> ProfileInterval:
    """Profile-likelihood interval of one free parameter (see the module docstring).

    Parameters
    ----------
    result : FitResult
    runs : Runs, DataFrame or path
        The runs of the fit (checked against its data fingerprint).
    parameter : str
        A free parameter; exponents (``alpha``, ``beta``) are what it is made for.
    confidence_level : float

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep(noise=0.01, rng=5)
    >>> result = sl.fit(runs)
    >>> interval = profile_interval(result, runs, "alpha")
    >>> bool(interval.low < result.params["alpha"] < interval.high)
    True
    """
    from scipy import optimize, stats

    runs = as_runs(runs)
    level = check_confidence_level(confidence_level)
    fitter, theta, inputs, target = _setup(result, runs)
    if parameter not in fitter.free:
        raise InputError(f"`parameter` must be a free parameter of the fit "
                         f"({', '.join(fitter.free)}), got {parameter!r}")
    j = fitter.free.index(parameter)
    r, _ = fitter.array_residual_function(inputs, target)(theta[None, :])
    best = float(fitter.loss.rho(r[0]).sum())
    scale = _scale(fitter, r[0])
    threshold = scale * stats.chi2.ppf(level, 1) / 2.0
    profile = _Profile(fitter, theta, inputs, target, j)
    values, objectives = [theta[j]], [best]
    to_public = (np.exp if parameter in fitter.form.log_params else (lambda v: v))

    def gap(v):
        f = profile(v)
        values.append(v)
        objectives.append(f)
        return f - best - threshold

    sides = {}
    for direction in (-1.0, 1.0):
        profile.previous = theta[profile.others]
        bound = fitter.lower[j] if direction < 0 else fitter.upper[j]
        step = 0.01 * max(abs(theta[j]), 0.1)
        inside = theta[j]
        closed = None
        for _ in range(_MAX_STEPS):
            v = theta[j] + direction * step
            if (direction < 0 and v <= bound) or (direction > 0 and v >= bound):
                v = bound
            if gap(v) > 0:
                closed = v
                break
            inside = v
            if v == bound:
                break
            step *= 1.6
        if closed is None:
            sides[direction] = (float("nan"), True)
            continue
        # continuation from the last point inside keeps the inner solves in the basin
        profile(inside)
        # the end point to 1e-6 relative: far below the interval's own sampling error
        root = optimize.brentq(gap, min(inside, closed), max(inside, closed),
                               xtol=1e-6 * max(abs(inside), 1e-3), rtol=1e-6, maxiter=100)
        sides[direction] = (float(to_public(root)), False)
    if any(side[1] for side in sides.values()):
        import warnings

        warnings.warn(f"profile interval of {parameter}: the profile stays below the threshold "
                      "up to the parameter's bound on one side (reported as nan)",
                      ConvergenceWarning, stacklevel=2)
    order = np.argsort(values)
    return ProfileInterval(parameter=parameter, estimate=float(result.params[parameter]),
                           low=sides[-1.0][0], high=sides[1.0][0], confidence_level=level,
                           threshold=float(threshold), scale=scale,
                           values=to_public(np.array(values)[order]),
                           objectives=np.array(objectives)[order],
                           open_low=sides[-1.0][1], open_high=sides[1.0][1])


def profile_intervals(result: FitResult, runs, parameters=("alpha", "beta"), *,
                      confidence_level: float = 0.95) -> dict:
    """``{name: ProfileInterval}`` for several parameters (default the two exponents)."""
    runs = as_runs(runs)
    return {name: profile_interval(result, runs, name, confidence_level=confidence_level)
            for name in parameters}


@dataclass(frozen=True)
class ProfileMap(FrozenOnUnpickle):
    """The profile objective of a Chinchilla fit over a grid of exponents. Frozen.

    Attributes
    ----------
    alphas, betas : ndarray
        The grid axes.
    objective : ndarray, shape (len(alphas), len(betas))
        ``min over (E, A, B)`` of the fit's objective with ``(alpha, beta)`` held.
    statistic : ndarray, same shape
        The robust likelihood-ratio statistic ``2 [objective - minimum] / scale``
        (chi-square with 2 degrees of freedom for the joint region).
    minimum, scale : float
        The fit's objective and ``c`` of the module docstring.
    """

    alphas: np.ndarray = field(repr=False)
    betas: np.ndarray = field(repr=False)
    objective: np.ndarray = field(repr=False)
    statistic: np.ndarray = field(repr=False)
    minimum: float
    scale: float

    def __post_init__(self):
        freeze_array_fields(self, ("alphas", "betas", "objective", "statistic"))


def profile_map(result: FitResult, runs, alphas, betas) -> ProfileMap:
    """The profile objective and its robust likelihood-ratio statistic over ``alphas x betas``
    (variable projection: ``E, A, B`` solved in every cell by the batched engine)."""
    runs = as_runs(runs)
    fitter, theta, inputs, target = _setup(result, runs)
    alphas = np.asarray(alphas, dtype=float).ravel()
    betas = np.asarray(betas, dtype=float).ravel()
    objective, _ = profile_objective(fitter, inputs, target, alphas, betas)
    r, _ = fitter.array_residual_function(inputs, target)(theta[None, :])
    minimum = float(fitter.loss.rho(r[0]).sum())
    scale = _scale(fitter, r[0])
    statistic = 2.0 * np.maximum(objective - minimum, 0.0) / scale
    return ProfileMap(alphas=alphas, betas=betas, objective=objective, statistic=statistic,
                      minimum=minimum, scale=scale)
