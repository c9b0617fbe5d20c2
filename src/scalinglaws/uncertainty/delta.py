r"""Parameter uncertainty of a prediction by the delta method.

For the parameter vector :math:`\theta` (internal units: scale parameters as logs) the
estimator's covariance is taken as the Gauss-Newton one scaled by the robust loss's
asymptotic efficiency,

.. math::

    \widehat{\operatorname{Cov}}(\hat\theta) = v(c)\,
    \Big(\sum_i \frac{g_i g_i^\top}{\operatorname{sd}_i^2}\Big)^{-1},\qquad
    g_i = \frac{\partial \log f(x_i; \theta)}{\partial \theta},

where :math:`\operatorname{sd}_i` is the run-to-run scatter (:mod:`.scatter`) and
:math:`v(c) = E[\psi_c^2] / E[\psi_c']^2` the variance factor of Huber's
:math:`\psi_c` under normal errors with :math:`c = \delta / \sigma` (1 for squared loss;
:math:`\pi/2` when :math:`\delta \ll \sigma`, the least-absolute-deviation limit that
Hoffmann's :math:`\delta = 10^{-3}` is close to). The variance of a log-prediction is
then :math:`g(x)^\top \widehat{\operatorname{Cov}}\, g(x)`.

This is the parameter term of the prediction interval: cheap enough to recompute in
every fold of a rollout, which is how the extrapolation term is calibrated
(:mod:`.calibration`). The bootstrap (:func:`scalinglaws.bootstrap`) remains the
reference for confidence intervals of the law.

**A restricted fit's bias.** A fit with tied parameters (``preset="extrapolate"`` ties
:math:`\beta = \alpha`) or fixed ones (``fixed={"E": 1.69}``) is a restricted estimator:
where the truth breaks the restriction it is biased, and its variance alone says nothing
of that (a fixed parameter has none). The same law fitted without the ties and with the
fixed parameters free (:class:`UnrestrictedLaw`) estimates the bias: with
:math:`d(x) = \log f(x; \hat\theta_u) - \log f(x; \hat\theta_t)`,
:math:`E[d^2] \approx b(x)^2 + \operatorname{Var} d` and, the restricted estimator being
the efficient one when the restriction holds, :math:`\operatorname{Var} d \approx s_u^2 -
s_t^2` (Hausman 1978). The squared-bias allowance

.. math::

    \hat b(x)^2 = \max\!\big(0,\; d(x)^2 - (s_u(x)^2 - s_t(x)^2)\big)

is added to :math:`s_t^2` in the delta-method confidence interval of the mean loss (an
estimate of the mean squared error). On sweeps of known truth this took the tied
interval's coverage of the true mean from 92.6% to 95.1% in range
(tests/uncertainty/test_extrapolate_preset_coverage.py) and, with the tie far from true
(:math:`\beta = 0.30`, :math:`\alpha = 0.3478`), from 81% to 94%; a sandwich covariance
does not help (it sees variance, not bias: 85%). With E fixed 0.10 from the truth it took
the coverage from 59.9% to 96.3% in range and from 0% to 97.4% at 10x the largest budget;
0.05 from the truth, from 82-83% to 92-93% in range but only from 4-10% to 67-70% at 10x,
where a bias about the size of the free fit's own spread is often within its noise and
clipped to zero; at the truth the median interval is unchanged
(tests/uncertainty/test_fixed_parameter_coverage.py).

Where the runs barely estimate what the restriction pins, :math:`s_u` is large, and so
is the noise in :math:`d`: even when the restriction is right, :math:`d^2` exceeds its
expectation in about a third of sweeps (a :math:`\chi^2_1` above 1), and those intervals
widen to about the free fit's: the allowance then costs roughly what fitting the
parameter would have. On sweeps of 3 budgets (6e18-2.4e19 FLOP), where the free fit's
spread at 3e22 FLOP was 6.6 times the fixed fit's, with E fixed at the truth, the
median interval there was unchanged and the mean one 2.47 times wider (60 sweeps; 1.54
times at 10x on the 9-budget design). Where they cannot estimate it at all
(the free fit fails, or, for a fixed parameter freed, ends on a bound or has a singular
information matrix, so that a
pseudo-inverse would give the confounded direction zero variance and the contrast a
spurious bias), :func:`unrestricted_law` raises and the interval goes without the
allowance, saying so.
"""

from __future__ import annotations

import math
import warnings
from statistics import NormalDist
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import ConvergenceWarning, InputError
from .._validation import FrozenDict, FrozenOnUnpickle, readonly_array
from ..data.runs import Runs
from ..fitting.estimator import LawFitter

__all__ = ["huber_variance_factor", "parameter_covariance", "log_prediction_sd",
           "draws_log_predictions", "free_parameter_expansion", "UnrestrictedLaw",
           "unrestricted_law", "restriction_bias_variance", "restriction_kind",
           "describe_restriction", "UntiedLaw", "untied_law", "tie_bias_variance",
           "unrestricted_law_or_warn"]

_DRAW_CHUNK_ELEMENTS = 2_000_000  # bounds the (draws x points x params) Jacobian memory


def huber_variance_factor(c: float) -> float:
    r"""Asymptotic variance of Huber's M-estimate relative to least squares, normal errors.

    :math:`v(c) = E[\psi_c(Z)^2] / E[\psi_c'(Z)]^2` with :math:`\psi_c(z) = \max(-c, \min(c, z))`:
    :math:`E[\psi_c'] = 2\Phi(c) - 1` and
    :math:`E[\psi_c^2] = 2\Phi(c) - 1 - 2c\phi(c) + 2c^2(1 - \Phi(c))`.

    Examples
    --------
    >>> round(huber_variance_factor(1.345), 3)   # Huber's 95%-efficiency constant
    1.053
    >>> round(huber_variance_factor(1e-9), 4)    # the median: pi / 2
    1.5708
    """
    if not c > 0:
        raise InputError(f"the Huber threshold over the scatter must be positive, got {c!r}")
    if c > 40:
        return 1.0
    pdf = math.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    inside = math.erf(c / math.sqrt(2.0))  # P(|Z| < c), without the cancellation of 2 Phi - 1
    tail = 0.5 * math.erfc(c / math.sqrt(2.0))  # 1 - Phi(c)
    # E[Z^2; |Z| < c] = inside - 2 c phi(c) cancels catastrophically for small c: use its
    # series (2/3) c^3 phi(0) (1 - 3 c^2 / 10) there (relative error below 1e-8 at c < 1e-2)
    if c < 1e-2:
        core = (2.0 / 3.0) * c**3 / math.sqrt(2.0 * math.pi) * (1.0 - 0.3 * c * c)
    else:
        core = inside - 2.0 * c * pdf
    second = core + 2.0 * c * c * tail
    return second / inside ** 2


def free_parameter_expansion(result) -> np.ndarray:
    """Matrix ``T (p, q)`` mapping free internal parameters to the full internal vector."""
    names = result.form.param_names
    free = list(result.free_params)
    T = np.zeros((len(names), len(free)))
    for i, name in enumerate(names):
        if name in result.fixed:
            continue
        T[i, free.index(result.tied.get(name, name))] = 1.0
    return T


def parameter_covariance(result, runs: Runs, scatter) -> np.ndarray:
    """Delta-method covariance ``(p, p)`` of the full internal parameter vector.

    Parameters
    ----------
    result : FitResult
        The fitted law.
    runs : Runs
        The runs it was fitted on.
    scatter : Scatter
        Run-to-run scatter (the residual scale).

    Returns
    -------
    ndarray, shape (p, p)
        In ``result.form.param_names`` order, internal units (logs of scale
        parameters); fixed parameters have zero variance, tied ones equal their source.
    """
    return _expanded_covariance(result, *_free_information(result, runs, scatter))


def _free_information(result, runs: Runs, scatter):
    """The Gauss-Newton information ``(q, q)`` of the free internal parameters, weighted
    by the scatter, and the loss's variance factor (module notes)."""
    form = result.form
    fitter = LawFitter.from_result(result, space="log")
    inputs = runs.inputs(form.inputs)
    theta = form.to_internal(form.params_vector(result.params))
    free_idx = [form.param_names.index(n) for n in fitter.free]
    residuals = fitter.array_residual_function(inputs, runs.loss)
    _, jac = residuals(theta[free_idx][None, :])
    g = jac[0]  # (q, n)
    columns = {c: np.asarray(runs.frame[c], dtype=float) for c in ("N", "D", "C")
               if c in runs.columns}
    sd = np.asarray(scatter.sd({**columns, **inputs}), dtype=float)
    if not np.all(np.isfinite(g)) or not np.all(sd > 0):
        raise InputError("the law's Jacobian or the scatter is not finite at the optimum: no "
                         "delta-method covariance")
    information = (g / sd**2) @ g.T
    factor = 1.0
    options = result.options or {}
    if options.get("loss", "huber") == "huber" and options.get("delta") is not None:
        # Huber's threshold is in log-residual units when the fit was in log space; in
        # linear space it is in loss units, i.e. about delta / L in log units
        delta = float(options["delta"])
        if options.get("space", "log") == "linear":
            delta = delta / float(np.median(runs.loss))
        factor = huber_variance_factor(delta / float(np.median(sd)))
    return information, factor


def _expanded_covariance(result, information, factor) -> np.ndarray:
    """``factor`` times the pseudo-inverse of the free parameters' ``information``,
    expanded to the full internal vector."""
    with np.errstate(all="ignore"):
        cov_free = factor * np.linalg.pinv(information, hermitian=True)
    T = free_parameter_expansion(result)
    return T @ cov_free @ T.T


def log_prediction_sd(result, covariance: np.ndarray, inputs) -> np.ndarray:
    """Standard deviation of ``log f(x; theta_hat)`` from the parameter covariance.

    ``inputs`` maps the form's input names to arrays of equal length (already
    broadcast); returns one value per element.
    """
    return np.sqrt(_log_value_and_variance(result.form, result.params, covariance, inputs)[1])


def normal_quantile(confidence_level: float) -> float:
    """``z`` of a two-sided normal interval at ``confidence_level`` (1.96 at 0.95): the
    standard library's inverse normal, so no interval needs scipy.stats for it."""
    return NormalDist().inv_cdf(0.5 + float(confidence_level) / 2.0)


def delta_variance(gradient, covariance) -> np.ndarray:
    """The delta method's variance ``g^T Cov g`` of each column of ``gradient`` ``(p, n)``
    (a quantity's gradient in the parameters at ``n`` points), clipped at 0: rounding can
    make a nearly singular covariance's form slightly negative."""
    with np.errstate(all="ignore"):
        variance = np.einsum("pn,pq,qn->n", gradient, np.asarray(covariance), gradient)
    return np.clip(variance, 0.0, None)


def _log_value_and_variance(form, params, covariance, inputs):
    """``log f(x; theta)`` and its delta-method variance ``g^T Cov g`` (clipped at 0)."""
    theta = form.to_internal(form.params_vector(params))[None, :]
    with np.errstate(all="ignore"):
        value, jac = form.log_value_and_jacobian(theta, inputs)
    return value[0], delta_variance(jac[0], covariance)  # jac[0]: (p, n)


#: what a bootstrap percentile interval's method adds for a fit with fixed parameters and no
#: allowance for them: every refit holds the fixed values, so the percentiles take them as exact
FIXED_AS_EXACT = " (fixed-parameter bias excluded)"


def restriction_kind(tied: Mapping, fixed: Mapping) -> str:
    """What a fit's restriction is, for an interval's method: ``'tie'``,
    ``'fixed-parameter'`` or ``'tie and fixed-parameter'`` (``''`` for none)."""
    return " and ".join(kind for kind, present in (("tie", tied), ("fixed-parameter", fixed))
                        if present)


def describe_restriction(tied: Mapping, fixed: Mapping) -> str:
    """A fit's restriction in words: ``'beta = alpha, E fixed at 1.69'``."""
    return ", ".join([f"{name} = {target}" for name, target in tied.items()]
                     + [f"{name} fixed at {float(value):.6g}" for name, value in fixed.items()])


@dataclass(frozen=True)
class UnrestrictedLaw(FrozenOnUnpickle):
    """A restricted fit's law fitted again without its ties and with its fixed parameters
    free, kept to estimate the restriction's bias (module notes). Made by
    :func:`unrestricted_law`; frozen. ``UntiedLaw`` is its former name (what it was while
    only ties were dropped).

    Attributes
    ----------
    ties : mapping
        The ties the restricted fit made and this one drops (``{"beta": "alpha"}``).
    params : mapping
        The unrestricted fit's parameters (public units).
    covariance : ndarray, shape (p, p)
        Its delta-method covariance (internal units, :func:`parameter_covariance`, with
        the restricted fit's scatter).
    fixed : mapping
        The values the restricted fit held and this one frees (``{"E": 1.69}``, public
        units; empty in laws saved before fixed parameters were freed).
    """

    ties: Mapping
    params: Mapping
    covariance: np.ndarray = field(repr=False)
    fixed: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "ties", FrozenDict({str(k): str(v) for k, v in
                                                     dict(self.ties).items()}))
        object.__setattr__(self, "fixed", FrozenDict({str(k): float(v) for k, v in
                                                      dict(self.fixed).items()}))
        object.__setattr__(self, "params", FrozenDict({str(k): float(v) for k, v in
                                                       dict(self.params).items()}))
        object.__setattr__(self, "covariance", readonly_array(self.covariance))

    def __setstate__(self, state: dict) -> None:
        # an UntiedLaw pickled before fixed parameters were freed has no `fixed`
        super().__setstate__({"fixed": FrozenDict({}), **state})

    def describe(self) -> str:
        """The restriction in words: ``'beta = alpha, E fixed at 1.69'``."""
        return describe_restriction(self.ties, self.fixed)

    def describe_ties(self) -> str:
        """The ties alone in words: ``'beta = alpha'``."""
        return describe_restriction(self.ties, {})

    @property
    def kind(self) -> str:
        """``'tie'``, ``'fixed-parameter'`` or ``'tie and fixed-parameter'``: what the
        allowance is for (the interval's method names it)."""
        return restriction_kind(self.ties, self.fixed)

    def bias_variance(self, result, covariance: np.ndarray, inputs) -> np.ndarray:
        """The squared-bias allowance of the restricted ``result`` (its delta-method
        ``covariance``) at ``inputs``: :func:`restriction_bias_variance`."""
        return restriction_bias_variance(result.form, result.params, covariance, self.params,
                                         self.covariance, inputs)

    def to_dict(self) -> dict:
        """Plain-type record (for JSON)."""
        return {"ties": dict(self.ties), "fixed": dict(self.fixed), "params": dict(self.params),
                "covariance": [[float(v) for v in row] for row in np.asarray(self.covariance)]}


def restriction_bias_variance(form, restricted_params, restricted_covariance,
                              unrestricted_params, unrestricted_covariance,
                              inputs) -> np.ndarray:
    r"""Squared-bias allowance of a restricted (tied or fixed) fit's log-prediction
    (Hausman's contrast).

    :math:`\max(0,\, d^2 - (s_u^2 - s_t^2))` with :math:`d` the unrestricted minus the
    restricted log-prediction and :math:`s_u, s_t` their delta-method standard deviations
    (module notes): an estimate of the squared bias, zero where the two fits agree within
    the noise the restriction's own efficiency predicts, and near zero where the data
    hardly identify what the restriction pins (:math:`s_u` is then large). One value per
    element of ``inputs``. ``tie_bias_variance`` is its former name.
    """
    log_t, var_t = _log_value_and_variance(form, restricted_params, restricted_covariance,
                                           inputs)
    log_u, var_u = _log_value_and_variance(form, unrestricted_params, unrestricted_covariance,
                                           inputs)
    difference = log_u - log_t
    with np.errstate(invalid="ignore"):
        return np.clip(difference**2 - np.clip(var_u - var_t, 0.0, None), 0.0, None)


def unrestricted_law(result, runs: Runs, scatter) -> UnrestrictedLaw:
    """``result``'s law fitted on ``runs`` with the same objective but none of its ties
    and none of its fixed parameters, and its delta-method covariance with ``scatter``.

    Raises :class:`~scalinglaws.InputError` when there is no restriction, or when that
    fit cannot estimate the bias: it fails, or (when the restriction fixes parameters,
    which the runs may not identify at all) it ends on a bound of a parameter (the delta
    method does not hold there) or the runs do not identify every parameter (its
    information matrix is singular, so the covariance would miss a direction). The
    caller then leaves the restriction's bias unestimated (:func:`~.calibrated.calibrate`
    warns). ``untied_law`` is its former name.
    """
    if not result.tied and not result.fixed:
        raise InputError("the fit ties and fixes no parameters: there is no restriction's "
                         "bias to estimate")
    what = describe_restriction(result.tied, result.fixed)
    fitter = LawFitter.from_result(result, tied={}, fixed={}, preset=None)
    with warnings.catch_warnings():  # the auxiliary fit's own warnings are not the user's
        warnings.simplefilter("ignore")
        free = fitter.fit(runs)
    if not free.success or not all(np.isfinite(v) for v in free.params.values()):
        raise InputError(f"the fit without the restriction ({what}) did not converge "
                         f"({free.message})")
    # the bound and rank checks are for freed fixed parameters, which the runs may not
    # identify at all (a covariance missing that direction would invent a bias); a tie's
    # free refit is kept as measured before them (tests/uncertainty/
    # test_extrapolate_preset_coverage.py; on OLMo's ladder its refit sits on a bound and
    # the allowance lifts the tied fit's confidence coverage from 60.0% to 73.3%,
    # bench/prediction_intervals_record.json)
    checked = bool(result.fixed)
    if checked and free.at_bounds:
        raise InputError(f"the fit without the restriction ({what}) ends on the bound of "
                         f"{', '.join(free.at_bounds)}: the runs do not estimate "
                         f"{'them' if len(free.at_bounds) > 1 else 'it'} there")
    information, factor = _free_information(free, runs, scatter)
    q = information.shape[0]
    if checked and (not np.all(np.isfinite(information)) or np.linalg.matrix_rank(
            information, hermitian=True) < q):
        raise InputError(f"the runs do not identify every parameter of the fit without the "
                         f"restriction ({what}): its information matrix is singular")
    covariance = _expanded_covariance(free, information, factor)
    if not np.all(np.isfinite(covariance)):
        raise InputError(f"the fit without the restriction ({what}) has no finite "
                         "delta-method covariance")
    return UnrestrictedLaw(ties=result.tied, fixed=result.fixed, params=free.params,
                           covariance=covariance)


# former names, from when only ties were dropped (saved pickles refer to UntiedLaw)
UntiedLaw = UnrestrictedLaw
untied_law = unrestricted_law
tie_bias_variance = restriction_bias_variance


def draws_log_predictions(form, draws: np.ndarray, inputs) -> np.ndarray:
    """``log f(x; theta_b)`` for every draw (rows, public units) at shared ``inputs``."""
    draws = np.asarray(draws, dtype=float)
    n_points = len(next(iter(inputs.values()))) if inputs else 1
    chunk = max(1, _DRAW_CHUNK_ELEMENTS // max(1, n_points * form.n_params))
    out = np.empty((draws.shape[0], n_points))
    with np.errstate(all="ignore"):
        theta = form.to_internal(draws)
        for start in range(0, draws.shape[0], chunk):
            out[start:start + chunk], _ = form.log_value_and_jacobian(
                theta[start:start + chunk], inputs)
    return out


def unrestricted_law_or_warn(result, runs, spread) -> UnrestrictedLaw | None:
    """The tied or fixed ``result``'s law refitted without its ties and with its fixed
    parameters free (None for a fit with neither); when that cannot be done, a warning that
    the delta-method confidence interval leaves the restriction's bias out (for
    :func:`~.calibrated.calibrate`, whose caller the warning names)."""
    if not result.tied and not result.fixed:
        return None
    try:
        return unrestricted_law(result, runs, spread)
    except InputError as exc:
        what = " and of ".join(
            ([f"the tie{'s' if len(result.tied) > 1 else ''} "
              f"{describe_restriction(result.tied, {})}"] if result.tied else [])
            + ([describe_restriction({}, result.fixed)] if result.fixed else []))
        advice = (f"the delta-method confidence interval (n_resamples=0) excludes the bias of "
                  f"{what}")
        if result.tied:  # the bootstrap's percentiles widen with a wrong tie (README)
            advice += (", which under-covers the mean loss where the truth breaks it: attach "
                       "a bootstrap (n_resamples > 0)")
        if result.fixed:  # the bootstrap holds them fixed too: only the user can vouch
            advice += ("; intervals take the fixed value"
                       f"{'s' if len(result.fixed) > 1 else ''} as exact")
        warnings.warn(f"{exc}; {advice}", ConvergenceWarning, stacklevel=3)
        return None
