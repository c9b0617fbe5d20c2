r"""What is known before the next runs, and the quantity they should pin down.

A sweep is planned against a law known only roughly: published coefficients with their
published spread (:func:`published_prior`), or a fitted law with its bootstrap draws
(:func:`prior_from_fit`). Both become a :class:`Prior`: a centre, draws, the covariance
of the free internal parameters (logs of the scale parameters, the exponents), the
run-to-run scatter a new run will have, and the information the runs already in hand
contribute (none for a fresh sweep).

What a sweep is for is a :class:`Target`: the loss of one model (``"loss"`` at N, D), the
compute-optimal size at a budget (``"N_opt"`` at C) or the compute-optimal exponent
(``"exponent"``, ``d ln N_opt / d ln C`` at C; ``beta / (alpha + beta)`` for the
Chinchilla law). Log-scale targets (loss, N_opt) have widths that are factors.

The linearised criterion
------------------------
For a set of runs :math:`S` (each at inputs :math:`x_j` with scatter :math:`s_j` of its
log loss) and a parameter vector :math:`\theta_b`, the information about the free
internal parameters is

.. math::

    \Lambda_b(S) = \Lambda_0 + \frac{1}{v}\sum_{j \in S}
        \frac{g_j(\theta_b)\, g_j(\theta_b)^\top}{s_j^2},
    \qquad g_j = \frac{\partial \log f(x_j; \theta)}{\partial \theta},

the Gauss-Newton information of the delta method (:mod:`scalinglaws.uncertainty.delta`)
with :math:`v` the variance factor of the robust loss
(:func:`~scalinglaws.uncertainty.delta.huber_variance_factor`; :math:`\pi/2` for Hoffmann's
:math:`\delta = 10^{-3}` at 1% scatter) and :math:`\Lambda_0` the information already in
hand (the inverse of the bootstrap covariance for a fitted law; for a fresh sweep a
millionth of the prior's, only so that the first runs can be ranked). The variance of a
target :math:`q(\theta)` is :math:`t_b^\top \Lambda_b(S)^{-1} t_b` with
:math:`t_b = \partial q / \partial \theta` at :math:`\theta_b`, and the criterion
is its average over the prior's draws (a Bayesian design criterion: the design must work
for every law the prior finds plausible, not only for its centre).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenOnUnpickle
from .._validation import (
    FrozenDict,
    check_choice,
    check_draws,
    check_int,
    check_positive,
    check_rng,
    deep_freeze,
    seed_of,
)
from ..fitting.estimator import FitResult
from ..laws import published
from ..laws.forms import Chinchilla, Form, get_form
from ..laws.synthetic import DEFAULT_BUDGETS, isoflop_grid
from ..uncertainty.delta import free_parameter_expansion, huber_variance_factor, normal_quantile
from ..uncertainty.scatter import Scatter
from ._common import check_allocatable, check_method
from .solvers import optimal_for_compute

__all__ = [
    "PUBLISHED_PRIORS",
    "TARGETS",
    "Prior",
    "Target",
    "information",
    "normal_quantile",
    "prior_from_fit",
    "published_prior",
    "target_gradients",
    "target_values",
    "target_variance",
]

#: Names accepted by :func:`published_prior`.
PUBLISHED_PRIORS = ("hoffmann", "epoch")

#: Kinds of :class:`Target`.
TARGETS = ("N_opt", "loss", "exponent")

#: A fresh sweep is fitted on its own runs; the prior's information enters the criterion
#: only at this weight, so that the first runs (before the law is identified) can be ranked.
FRESH_PRIOR_WEIGHT = 1e-6

_STEP = 1e-5  # central-difference step in internal units (logs and exponents are O(1))


@dataclass(frozen=True)
class Target:
    """The quantity a sweep should pin down. Frozen; make it with :meth:`make`.

    Attributes
    ----------
    kind : {"N_opt", "loss", "exponent"}
        Compute-optimal size at ``C``; loss of a model of ``N`` parameters on ``D``
        tokens; the compute-optimal exponent ``d ln N_opt / d ln C`` at ``C``.
    C, N, D : float or None
        Where the target is evaluated.
    flops_per_token : float
        ``k`` in ``C = k N D``.
    """

    kind: str
    C: float | None = None
    N: float | None = None
    D: float | None = None
    flops_per_token: float = 6.0

    @classmethod
    def make(cls, kind: str = "N_opt", *, C=None, N=None, D=None,
             flops_per_token: float = 6.0) -> Target:
        """A checked target: ``N_opt`` needs ``C``; ``loss`` needs ``N`` and ``D``;
        ``exponent`` takes ``C`` (where the local slope is read; the Chinchilla law's is
        the same at every C, default 1e24).

        Examples
        --------
        >>> Target.make("N_opt", C=1e24).describe()
        'ln N_opt at C = 1e+24 FLOP'
        """
        kind = check_choice("target", kind, TARGETS)
        k = check_positive("flops_per_token", flops_per_token)
        if kind == "N_opt":
            if C is None or N is not None or D is not None:
                raise InputError("target 'N_opt' takes the budget `C` (FLOP) and nothing else")
            return cls(kind, C=check_positive("C", C), flops_per_token=k)
        if kind == "loss":
            if N is None or D is None or C is not None:
                raise InputError("target 'loss' takes `N` and `D` (the model and its tokens)")
            return cls(kind, N=check_positive("N", N), D=check_positive("D", D),
                       flops_per_token=k)
        if N is not None or D is not None:
            raise InputError("target 'exponent' takes at most the budget `C`")
        return cls(kind, C=check_positive("C", 1e24 if C is None else C), flops_per_token=k)

    @property
    def log_scale(self) -> bool:
        """Whether the target is a logarithm (its interval is a factor)."""
        return self.kind != "exponent"

    def describe(self) -> str:
        """One line for summaries."""
        if self.kind == "N_opt":
            return f"ln N_opt at C = {self.C:.4g} FLOP"
        if self.kind == "loss":
            return f"ln loss at N = {self.N:.4g}, D = {self.D:.4g}"
        return f"compute-optimal exponent d ln N_opt / d ln C at C = {self.C:.4g} FLOP"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "C": self.C, "N": self.N, "D": self.D,
                "flops_per_token": self.flops_per_token}


def target_values(target: Target, form: Form, params: np.ndarray) -> np.ndarray:
    """The target for each row of public parameters ``(m, p)``; shape ``(m,)``."""
    params = np.atleast_2d(np.asarray(params, dtype=float))
    k = target.flops_per_token
    with np.errstate(all="ignore"):
        if target.kind == "loss":
            X = {"N": np.array([target.N]), "D": np.array([target.D])}
            log_value, _ = form.log_value_and_jacobian(form.to_internal(params), X)
            return log_value[:, 0]
        method = check_method("auto", form)
        if target.kind == "N_opt":
            n_opt = optimal_for_compute(form, params, np.array([[target.C]]), k, method)[0]
            return np.log(n_opt[:, 0])
        if isinstance(form, Chinchilla):  # beta / (alpha + beta), the same at every C
            return params[:, 4] / (params[:, 3] + params[:, 4])
        step = 0.05  # local slope over a factor e^0.1 of compute around C
        budgets = np.array([[target.C * math.exp(-step), target.C * math.exp(step)]])
        n_opt = optimal_for_compute(form, params, budgets, k, method)[0]
        return (np.log(n_opt[:, 1]) - np.log(n_opt[:, 0])) / (2 * step)


def target_gradients(target: Target, form: Form, theta: np.ndarray,
                     expansion: np.ndarray) -> np.ndarray:
    """``d target / d free internal parameters`` at each internal row ``(m, p)``: ``(m, q)``.

    The loss target uses the form's exact Jacobian; the others central differences of
    :func:`target_values` (step 1e-5 in logs and exponents).
    """
    theta = np.atleast_2d(theta)
    if target.kind == "loss":
        X = {"N": np.array([target.N]), "D": np.array([target.D])}
        with np.errstate(all="ignore"):
            _, jac = form.log_value_and_jacobian(theta, X)
        return jac[:, :, 0] @ expansion
    m, q = theta.shape[0], expansion.shape[1]
    steps = _STEP * expansion.T  # (q, p): one free direction per row
    shifted = np.concatenate([theta[:, None, :] + steps[None], theta[:, None, :] - steps[None]],
                             axis=1).reshape(-1, theta.shape[1])
    values = target_values(target, form, form.to_public(shifted)).reshape(m, 2 * q)
    return (values[:, :q] - values[:, q:]) / (2 * _STEP)


@dataclass(frozen=True)
class Prior(FrozenOnUnpickle):
    """A law known roughly: centre, draws, covariance, scatter of new runs. Frozen.

    Make one with :func:`published_prior` or :func:`prior_from_fit`.

    Attributes
    ----------
    form : Form
    params : Mapping
        The centre (public units).
    draws : ndarray, shape (m, p)
        Plausible laws (public units, ``form.param_names`` order), read-only.
    covariance : ndarray, shape (q, q)
        Covariance of the free internal parameters (``free`` order).
    free : tuple of str
        The free parameters (fixed and tied ones follow them).
    expansion : ndarray, shape (p, q)
        Maps free internal parameters to the full internal vector.
    scatter : Scatter
        Run-to-run scatter of the log loss of a new run.
    huber_factor : float
        Variance factor ``v`` of the estimator that will fit the sweep.
    precision : ndarray, shape (q, q)
        Information already in hand: zero for a fresh sweep, the inverse of
        ``covariance`` when the new runs join a fitted sweep.
    fresh : bool
        Whether the planned runs will be fitted on their own (published priors) or added
        to the runs behind the fit.
    source : str
        Where the prior comes from, in words.
    fitted_range : Mapping
        ``{input: (smallest, largest)}`` of the runs the law was measured on (``N``, ``D``
        and, from a fit, ``N*D``): a fit's ``fitted_range``; for a published prior, the
        range of Hoffmann et al.'s runs
        (:data:`~scalinglaws.laws.published.HOFFMANN_2022_RUN_RANGE`). Empty when unknown.
    seed : int or None
        The seed the draws come from (a published prior's ``rng``; a fit's bootstrap's
        seed), so that the same prior can be drawn again; None when no seed reproduces
        them (a Generator, an array of draws).
    """

    form: Form
    params: Mapping
    draws: np.ndarray = field(repr=False)
    covariance: np.ndarray = field(repr=False)
    free: tuple
    expansion: np.ndarray = field(repr=False)
    scatter: Scatter
    huber_factor: float
    precision: np.ndarray = field(repr=False)
    fresh: bool
    source: str
    seed: int | None = None
    fitted_range: Mapping = field(default_factory=FrozenDict)

    def __post_init__(self):
        object.__setattr__(self, "params", FrozenDict(self.params))
        object.__setattr__(self, "fitted_range", FrozenDict(
            {k: (float(lo), float(hi)) for k, (lo, hi) in dict(self.fitted_range).items()}))
        for name in ("draws", "covariance", "expansion", "precision"):
            object.__setattr__(self, name, deep_freeze(np.asarray(getattr(self, name), float)))
        object.__setattr__(self, "free", tuple(self.free))

    @property
    def centre(self) -> np.ndarray:
        """Internal parameter vector of the centre, ``(p,)``."""
        return self.form.to_internal(self.form.params_vector(self.params))

    def law(self) -> FitResult:
        """The centre as a :class:`~scalinglaws.FitResult` (for predictions and allocation)."""
        return FitResult.from_params(self.form, dict(self.params))

    def design_rows(self, max_draws: int | None, rng) -> np.ndarray:
        """Internal rows the criterion averages over: the draws (at most ``max_draws``,
        chosen with ``rng``), or the centre when there are none."""
        theta = self.form.to_internal(self.draws)
        theta = theta[np.all(np.isfinite(theta), axis=1)]
        if theta.shape[0] == 0:
            return self.centre[None, :]
        if max_draws is not None and theta.shape[0] > max_draws:
            theta = theta[np.sort(rng.choice(theta.shape[0], max_draws, replace=False))]
        return theta

    def target_interval(self, target: Target, confidence_level: float = 0.95):
        """(centre value, low, high) of the target over the draws (percentiles)."""
        centre = float(target_values(target, self.form, self.form.params_vector(self.params))[0])
        values = target_values(target, self.form, self.draws)
        values = values[np.isfinite(values)]
        if values.size < 2:
            return centre, math.nan, math.nan
        tail = 0.5 * (1.0 - confidence_level)
        low, high = np.quantile(values, [tail, 1.0 - tail])
        return centre, float(low), float(high)

    def summary(self) -> str:
        p = ", ".join(f"{k} = {v:.4g}" for k, v in self.params.items())
        sd = np.sqrt(np.diag(self.covariance))
        spread = ", ".join(f"{n}: {s:.3g}" for n, s in zip(self.free, sd))
        return "\n".join([f"prior        {self.source}", f"centre       {p}",
                          f"sd (internal: logs of scales) {spread}",
                          f"draws        {self.draws.shape[0]}",
                          (f"new runs     scatter sd(log loss) = {self.scatter.sigma:.3g} "
                          f"({self.scatter.model}), estimator variance factor "
                          f"{self.huber_factor:.3g}"),
                          "sweep        " + ("fresh (fitted on its own runs)" if self.fresh
                                             else "added to the fitted runs")])

    def __str__(self):
        return self.summary()


def _estimator_factor(loss: str, delta, sigma: float) -> float:
    """``v`` of the estimator: 1 for squared loss, Huber's for ``delta / sigma``."""
    if loss != "huber" or delta is None:
        return 1.0
    return huber_variance_factor(float(delta) / sigma)


def _free_columns(form: Form, free) -> list[int]:
    return [form.param_names.index(name) for name in free]


def published_prior(name: str = "epoch", *, scatter: float = 0.01, n_draws: int = 1000,
                    delta: float = 1e-3, rng=0) -> Prior:
    """A prior from published Chinchilla-law coefficients and their published spread.

    Parameters
    ----------
    name : {"epoch", "hoffmann"}
        ``"epoch"``: Besiroglu et al. (2024) Table 1 (E 1.8172, A 482.01, B 2085.43,
        alpha 0.3478, beta 0.3658). ``"hoffmann"``: Hoffmann et al. (2022) unrounded
        Approach-3 values (:data:`~scalinglaws.laws.published.HOFFMANN_2022_TEX`).
    scatter : float
        Run-to-run scatter (sd of log loss) you expect of a new run; 1% is about the
        seed-to-seed spread of final losses.
    n_draws : int
        Draws of plausible laws.
    delta : float
        Huber threshold of the fit the sweep will get (the package's default, Hoffmann's
        1e-3); sets the estimator's variance factor.
    rng : seed or numpy Generator
        Randomness of the draws (default 0: the same prior every time).

    Returns
    -------
    Prior

    Notes
    -----
    The spread is Besiroglu et al.'s bootstrap 95% intervals
    (:data:`~scalinglaws.laws.published.BESIROGLU_2024_INTERVALS`, 4,000 resamples of the
    Chinchilla data): each becomes a normal standard deviation, interval width / 3.92, of
    the internal parameter (log E, log A, log B, alpha, beta). Hoffmann et al. publish no
    intervals for these parameters; ``"hoffmann"`` borrows Besiroglu et al.'s (their refit
    of the same data). Papers give marginal intervals, not correlations, and the
    parameters of this law are strongly correlated (A with alpha, B with beta): the
    correlations are those of the Fisher information of Hoffmann et al.'s nine-budget
    IsoFLOP layout (:func:`~scalinglaws.laws.synthetic.isoflop_grid`) at the centre, 0.998
    for both pairs, as in bootstrap draws on Epoch's data. With independent draws the
    prior on N_opt would be several times too wide. The draws are normal in the internal
    parameters.

    Examples
    --------
    >>> prior = published_prior("epoch", n_draws=200)
    >>> prior.draws.shape, prior.fresh
    ((200, 5), True)
    """
    name = check_choice("name", name, PUBLISHED_PRIORS)
    sigma = check_positive("scatter", scatter)
    n_draws = check_int("n_draws", n_draws, 2)
    delta = check_positive("delta", delta)
    generator = check_rng("rng", rng)
    form = get_form("chinchilla")
    centre = (published.BESIROGLU_2024_TABLE1 if name == "epoch"
              else published.HOFFMANN_2022_TEX)
    intervals = published.BESIROGLU_2024_INTERVALS
    width = 2.0 * normal_quantile(0.95)
    sd = np.array([(math.log(intervals[p][1]) - math.log(intervals[p][0])) / width
                   if p in form.log_params else (intervals[p][1] - intervals[p][0]) / width
                   for p in form.param_names])
    theta = form.to_internal(form.params_vector(centre))
    grid = isoflop_grid(DEFAULT_BUDGETS)
    X = {"N": grid["N"].to_numpy(), "D": grid["D"].to_numpy()}
    _, jac = form.log_value_and_jacobian(theta[None, :], X)
    reference = np.linalg.inv(jac[0] @ jac[0].T)
    scale = np.sqrt(np.diag(reference))
    correlation = reference / np.outer(scale, scale)
    covariance = correlation * np.outer(sd, sd)
    draws = form.to_public(generator.multivariate_normal(theta, covariance, n_draws,
                                                         method="cholesky"))
    source = {"epoch": "Besiroglu et al. 2024 Table 1",
              "hoffmann": "Hoffmann et al. 2022 (unrounded Approach 3)"}[name]
    expansion = np.eye(form.n_params)
    return Prior(form=form, params=dict(centre), draws=draws, covariance=covariance,
                 free=form.param_names, expansion=expansion,
                 scatter=Scatter(sigma=sigma, source="assumed"),
                 huber_factor=_estimator_factor("huber", delta, sigma),
                 precision=np.zeros_like(covariance), fresh=True,
                 source=f"{source}; spread: Besiroglu et al.'s 95% intervals, correlations "
                        "of Hoffmann's IsoFLOP layout", seed=seed_of(rng),
                 fitted_range=published.HOFFMANN_2022_RUN_RANGE)


def prior_from_fit(law, *, draws=None, scatter=None, fresh: bool = False) -> Prior:
    """A prior from a fitted law and its bootstrap draws.

    Parameters
    ----------
    law : FitResult or CalibratedFit
        The fit (a law in N and D). A :class:`~scalinglaws.CalibratedFit` brings its
        scatter model (e.g. scatter growing away from the sweep's tokens per parameter).
    draws : BootstrapResult or array, optional
        Parameter draws (public units); default the bootstrap attached to ``law``
        (``result.with_bootstrap(...)``, or the CalibratedFit's). ``False`` (no draws)
        is refused: a prior is made of draws.
    scatter : float, optional
        Sd of the log loss of a new run; default the CalibratedFit's scatter, else the
        root-mean-square log residual of the fit (with ``n - q`` degrees of freedom).
    fresh : bool
        False (default): the new runs join the runs behind the fit, whose information is
        the inverse of the draws' covariance. True: plan a new sweep that will be fitted
        on its own, using the fit only as a guess of where the law is.

    Returns
    -------
    Prior

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep(rng=0)
    >>> result = sl.fit(runs)
    >>> prior = prior_from_fit(result.with_bootstrap(sl.bootstrap(result, runs, 50, rng=0)))
    >>> prior.draws.shape, prior.fresh
    ((50, 5), False)
    """
    fit = getattr(law, "fit", law)
    if not isinstance(fit, FitResult):
        raise InputError(f"`law` must be a FitResult or a CalibratedFit, got {type(law).__name__}")
    form = fit.form
    check_allocatable(form)
    if not isinstance(fresh, (bool, np.bool_)):
        raise InputError(f"`fresh` must be True or False, got {fresh!r}")
    if isinstance(check_draws(draws), (bool, np.bool_)):  # False (True is refused)
        raise InputError("`draws`=False gives no draws, and a prior is made of draws: pass "
                         "`draws=` (a bootstrap or an array of parameter vectors) or leave it "
                         "None for the bootstrap attached to `law`")
    if draws is None:
        draws = getattr(law, "bootstrap", None) or getattr(fit, "bootstrap", None)
        if draws is None:
            raise InputError("`law` carries no bootstrap draws: pass `draws=` or attach them "
                             "with result.with_bootstrap(scalinglaws.bootstrap(result, runs))")
    values = np.asarray(getattr(draws, "draws", draws), dtype=float)
    if values.ndim != 2 or values.shape[1] != form.n_params or values.shape[0] < 3:
        raise InputError(f"`draws` must have shape (n_draws >= 3, {form.n_params}), got "
                         f"{values.shape}")
    values = values[np.all(np.isfinite(values), axis=1)]
    expansion = free_parameter_expansion(fit)
    free = tuple(fit.free_params)
    internal = form.to_internal(values)[:, _free_columns(form, free)]
    covariance = np.atleast_2d(np.cov(internal, rowvar=False))
    spread = _law_scatter(law, fit, scatter)
    options = fit.options or {}
    factor = _estimator_factor(options.get("loss", "huber"), options.get("delta"), spread.sigma)
    if options.get("space", "log") != "log":
        raise InputError("the planner's criterion is written for fits in log space (the "
                         "package's default); refit with space='log'")
    precision = np.zeros_like(covariance) if fresh else np.linalg.pinv(covariance,
                                                                       hermitian=True)
    n_boot = values.shape[0]
    return Prior(form=form, params=dict(fit.params), draws=values, covariance=covariance,
                 free=free, expansion=expansion, scatter=spread, huber_factor=factor,
                 precision=precision, fresh=bool(fresh),
                 source=f"fitted {form.name} law with {n_boot} bootstrap draws",
                 seed=seed_of(getattr(draws, "seed", None)),  # a BootstrapResult's
                 fitted_range=dict(getattr(fit, "fitted_range", None) or {}))


def _law_scatter(law, fit: FitResult, scatter) -> Scatter:
    if scatter is not None:
        return Scatter(sigma=check_positive("scatter", scatter), source="assumed")
    calibrated = getattr(law, "scatter", None)
    if isinstance(calibrated, Scatter):
        return calibrated
    residuals = fit.residuals
    n_free = len(fit.free_params)
    if residuals is None or len(residuals) <= n_free:
        raise InputError("the run-to-run scatter of a new run is unknown for this fit (a loaded "
                         "fit keeps no residuals): pass `scatter=` (sd of log loss, e.g. 0.01) "
                         "or a calibrated fit, which keeps its scatter (scalinglaws.calibrate; "
                         "on the command line a fit file written by `fit --uncertainty --out`)")
    residuals = np.asarray(residuals, dtype=float)
    sigma = float(np.sqrt(np.sum(residuals ** 2) / (residuals.size - n_free)))
    return Scatter(sigma=sigma, dof=float(residuals.size - n_free), n_runs=int(residuals.size))


# ----------------------------------------------------------------------------- criterion
def information(prior: Prior, theta: np.ndarray, N, D) -> np.ndarray:
    """Scaled Jacobians ``u_j = g_j / (sqrt(v) s_j)`` of runs at ``(N, D)``: ``(m, q, n)``.

    ``theta`` holds internal rows ``(m, p)``; the information of the runs at row ``b`` is
    ``u_b u_b^T`` summed over runs (module notes).
    """
    N = np.asarray(N, dtype=float).ravel()
    D = np.asarray(D, dtype=float).ravel()
    with np.errstate(all="ignore"):
        _, jac = prior.form.log_value_and_jacobian(np.atleast_2d(theta), {"N": N, "D": D})
    g = np.einsum("mpn,pq->mqn", jac, prior.expansion)
    sd = np.asarray(prior.scatter.sd({"N": N, "D": D, "C": 6.0 * N * D}), dtype=float)
    return g / (math.sqrt(prior.huber_factor) * np.broadcast_to(sd, N.shape))


def target_variance(prior: Prior, target: Target, N=(), D=(), *, theta=None,
                    counts=None) -> np.ndarray:
    """Linearised variance of the target after runs at ``(N, D)`` (each ``counts`` times),
    one value per internal row of ``theta`` (default the centre): ``(m,)``.

    ``inf`` where the runs (with the information in hand) cannot identify the target.
    """
    theta = prior.centre[None, :] if theta is None else np.atleast_2d(theta)
    t = target_gradients(target, prior.form, theta, prior.expansion)
    total = np.broadcast_to(prior.precision, (theta.shape[0],) + prior.precision.shape).copy()
    N = np.asarray(N, dtype=float).ravel()
    if N.size:
        u = information(prior, theta, N, D)
        weights = np.ones(N.size) if counts is None else np.asarray(counts, dtype=float).ravel()
        total += np.einsum("mqn,n,mrn->mqr", u, weights, u)
    out = np.full(theta.shape[0], np.inf)
    for b in range(theta.shape[0]):
        scale = np.sqrt(np.diag(total[b]))
        if not np.all(scale > 0) or not np.all(np.isfinite(t[b])):
            continue
        scaled = total[b] / np.outer(scale, scale)  # Jacobi scaling: condition numbers of 1e8+
        if np.linalg.cond(scaled) > 1e13:
            continue
        solved = np.linalg.solve(scaled, t[b] / scale)
        out[b] = float((t[b] / scale) @ solved)
    return out
