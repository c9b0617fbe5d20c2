"""What every analysis function shares: argument checks, evaluating a law for many
parameter rows at once, and summarising the rows (point estimate + draws) into values
and percentile intervals."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import warnings
from collections.abc import Callable, Mapping

import numpy as np

from .._exceptions import (ConvergenceWarning, ExtrapolationWarning,
                           IdentifiabilityWarning, InputError, ScalingLawsWarning,
                           user_stacklevel)
from .._validation import check_confidence_level, check_numbers, given_draws
from ..uncertainty.calibrated import CalibratedFit
from ..uncertainty.draws_caveats import warn_percentile_over
from ..uncertainty.delta import draws_log_predictions
from ..laws.forms import Chinchilla, Form, KaplanND

_METHODS = ("auto", "closed_form", "numerical")
TOKENS_PER_PARAMETER_BOUNDS = (1e-6, 1e8)  # default D/N range searched numerically
COMPUTE_SEARCH = (1.0, 1e70)  # FLOP range searched when inverting the frontier numerically
TOKENS_SEARCH = (1e-10, 1e90)  # tokens searched when solving L(N, D) = target for D
PARAMS_SEARCH = (1e-10, 1e90)  # parameters searched for the asymptote of an iso-loss curve
UNLIMITED = 1e100  # stands for N or D -> infinity when taking a law's limits
NEAREST_ASYMPTOTE = 1e-9  # inference search starts at N = N_asymptote (1 + 1e-9)
BEYOND_OPTIMAL = 10.0  # ... and ends at 10x the compute-optimal N for the target loss
_FLOAT_MAX = np.finfo(float).max
DEFAULT_LEVEL = 0.95  # the level of intervals not drawn from a bootstrap with its own


def check_fit(fit, *, allocatable: bool = False) -> tuple[Form, np.ndarray]:
    """The form and the finite public parameter vector of ``fit``; with ``allocatable``,
    the law must be in N and D (:func:`check_allocatable`)."""
    form = getattr(fit, "form", None)
    params = getattr(fit, "params", None)
    if not isinstance(form, Form) or params is None:
        raise InputError("`fit` must be a FitResult (or have a Form `.form` and a `.params` "
                         f"mapping), got {type(fit).__name__}")
    vector = form.params_vector(params)
    if not np.all(np.isfinite(vector)):
        raise InputError("`fit.params` must all be finite, got "
                         f"{dict(zip(form.param_names, vector))}")
    if allocatable:
        check_allocatable(form)
    return form, vector


def chosen_draws(fit, draws, confidence_level):
    """The draws the intervals rest on and the level to use, by the package's one rule.

    * ``draws=None``: the bootstrap attached to ``fit`` (``fit.bootstrap``, saved with
      the fit), else no draws;
    * ``draws=False``: no draws, hence no intervals;
    * anything else: those draws (a bootstrap result, a DataFrame or an array).

    ``confidence_level=None`` is the bootstrap's own ``confidence_level`` when the draws
    are a bootstrap result (attached or passed), else 0.95; a number always wins.
    Returns ``(draws or None, level)``.
    """
    if draws is None:
        attached = getattr(fit, "bootstrap", None)
        if attached is not None and len(getattr(attached, "draws", ())) > 0:
            draws = attached
    else:
        draws = given_draws(draws)  # False: None (True refused)
    warn_percentile_over(draws)  # these intervals are percentiles, whatever its method
    if confidence_level is None:
        bootstrap_level = (getattr(draws, "confidence_level", None)
                           if draws is not None and hasattr(draws, "draws") else None)
        confidence_level = DEFAULT_LEVEL if bootstrap_level is None else bootstrap_level
    return draws, check_confidence_level(confidence_level)


def parameter_rows(form: Form, point: np.ndarray, draws) -> tuple[np.ndarray, int]:
    """Stack the point estimate (row 0) on the draws (rows 1..m); also return m.

    ``draws`` is None (no draws), a bootstrap result (its ``.draws``), a DataFrame (its
    columns picked by parameter name) or an array ``(m, p)``.
    """
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
                         f"{', '.join(form.param_names)}; got shape {values.shape} (pass "
                         "draws=False for no intervals)")
    return np.vstack([point[None, :], values]), values.shape[0]


def rows_and_level(fit, form: Form, point: np.ndarray, draws, confidence_level, *,
                   needs_frontier: bool = False) -> tuple[np.ndarray, int, float]:
    """:func:`parameter_rows` of the draws :func:`chosen_draws` picks for ``fit`` (its own
    bootstrap by default), and the checked level of the intervals over them; with
    ``needs_frontier`` (the closed form), the point must have a frontier."""
    draws, level = chosen_draws(fit, draws, confidence_level)
    rows, n_draws = parameter_rows(form, point, draws)
    if confidence_level is not None and not n_draws:
        # a level asked for and no draws to make the interval from: say so, rather than
        # return no interval beside the level as if one had been made
        warnings.warn(f"confidence_level={confidence_level!r} was given, but there are no "
                      "draws (the fit has no bootstrap attached, or draws=False), so no "
                      "interval is made: bootstrap the fit (scalinglaws.bootstrap, "
                      "result.with_bootstrap) or pass draws=", ScalingLawsWarning,
                      stacklevel=user_stacklevel())
    if needs_frontier:
        require_frontier(form, point)
    return rows, n_draws, level


def edge_free(at_edge: np.ndarray) -> np.ndarray:
    """1 where a row's optimum is inside the searched range, NaN on its edge: such an
    optimum is the range's, not the law's, so it is no usable draw. Row 0 (the point
    estimate) is always kept; its edge is flagged and warned about instead."""
    mask = np.where(at_edge, np.nan, 1.0)
    mask[0] = 1.0
    return mask


def check_array(name: str, value, *, allow_zero: bool = False) -> np.ndarray:
    """``value`` (numbers, or text such as ``"7B"``) as a float array, finite and positive
    (or non-negative with ``allow_zero``); the package's one check of numeric arguments."""
    return check_numbers(name, value, positive=True, allow_zero=allow_zero)


def check_scalar(name: str, value) -> float:
    array = check_array(name, value)
    if array.ndim != 0:
        raise InputError(f"`{name}` must be a single number, got {value!r}")
    return float(array)


def fit_flops_per_token(fit, flops_per_token=None) -> float:
    """``k`` in ``C = k N D``: ``flops_per_token`` when given, else the one the fit records
    (``FitResult.flops_per_token``: the runs' accounting at fit time; 6 for a fit that
    records none), so that an allocation uses the FLOP count the law was fitted with."""
    if flops_per_token is None:
        flops_per_token = getattr(fit, "flops_per_token", 6.0)
    return check_scalar("flops_per_token", flops_per_token)


def check_method(method: str, form: Form, flops=None) -> str:
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


def check_allocatable(form: Form) -> None:
    if set(form.inputs) != {"N", "D"}:
        hint = ("; for a limited supply of unique tokens U use "
                "scalinglaws.laws.datablations.data_constrained_optimal (or `scalinglaws "
                "optimal FIT --C ... --U ...`)" if set(form.inputs) == {"N", "D", "U"} else "")
        raise InputError(f"form {form.name!r} has inputs ({', '.join(form.inputs)}); allocating "
                         "compute between parameters and tokens needs a law in both N and D"
                         + hint)


def check_flops(flops) -> Callable | None:
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


def check_target(form, point, target_loss, name="target_loss") -> np.ndarray:
    """Target losses, each above the law's infimum (InputError otherwise)."""
    target = check_array(name, target_loss)
    floor = float(irreducible(form, point[None, :])[0, 0])
    if np.any(target <= floor):
        what = (f"the irreducible loss E = {floor:.6g}" if isinstance(form, Chinchilla)
                else f"the infimum of the law (~{floor:.3g})")
        raise InputError(f"`{name}` must be above {what}: no finite model reaches "
                         f"{np.min(target):.6g}")
    return target


def law_loss(form: Form, params: np.ndarray, N, D) -> np.ndarray:
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


def loss_at_shared_inputs(form: Form, params: np.ndarray, X: Mapping[str, np.ndarray]) -> np.ndarray:
    """Loss ``(m, n)`` of every parameter row at the same ``n`` points (chunked over rows)."""
    return np.exp(draws_log_predictions(form, params, X))


def require_frontier(form: Form, point: np.ndarray) -> None:
    """Raise when the point estimate has no compute-optimal frontier."""
    if isinstance(form, Chinchilla):
        values = dict(zip(form.param_names, point))
        bad = [n for n in ("A", "B", "alpha", "beta") if not values[n] > 0]
        if bad:
            raise InputError("compute-optimal allocation needs A, B, alpha, beta > 0; the fit has "
                             + ", ".join(f"{n}={values[n]!r}" for n in bad))


def irreducible(form: Form, params: np.ndarray) -> np.ndarray:
    """Infimum of the law per row ``(m, 1)``: E for Chinchilla, else L(N, D) at N = D = 1e100."""
    if isinstance(form, Chinchilla):
        return params[:, :1].copy()
    return law_loss(form, params, np.full((1, 1), UNLIMITED), np.full((1, 1), UNLIMITED))


def shaped(values: np.ndarray, shape: tuple):
    array = np.asarray(values, dtype=float).reshape(shape)
    return float(array) if array.ndim == 0 else array


def summarise(values: Mapping[str, np.ndarray], shape: tuple, level: float, n_draws: int):
    """Point estimates (row 0), percentile intervals over rows 1.., and failed-draw count."""
    point = {name: shaped(v[0], shape) for name, v in values.items()}
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
        intervals[name] = (shaped(low, shape), shaped(high, shape))
    return point, intervals, int(failed.sum())


def warn_edge(at_edge, what: str, remedy: str) -> None:
    if np.any(at_edge):
        warnings.warn(f"{what} lies at the edge of the searched range for "
                      f"{int(np.sum(at_edge))} element(s); {remedy}", ConvergenceWarning,
                      stacklevel=4)  # warn_edge, the @quiet function, its wrapper, the caller


def edge_out(flags, shape):
    array = np.asarray(flags, bool).reshape(shape)
    return bool(array) if array.ndim == 0 else array


def quiet(function):
    @functools.wraps(function)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):  # a fresh context per call: safe to nest
            return function(*args, **kwargs)

    return quiet


#: set inside :func:`far_beyond_shown`: the caller shows the range itself
_RANGE_SHOWN = contextvars.ContextVar("range_shown", default=False)


@contextlib.contextmanager
def far_beyond_shown():
    """Within this block :func:`warn_far_beyond` is quiet: for figures and reports that
    draw a law across a range of their own choosing and mark the fitted runs on it."""
    token = _RANGE_SHOWN.set(True)
    try:
        yield
    finally:
        _RANGE_SHOWN.reset(token)


#: how far beyond its runs a plain fit may predict before it warns: N*D over the largest
#: N*D of a run (= C / C_max for any k in C = k N D), or x / x_max for a one-input law; the
#: rollouts behind the README's studies measured laws up to 100x beyond their runs
FAR_BEYOND = 100.0
#: ...and how far each input of a law of several may leave its own fitted range: a factor
#: 10 below the smallest value (a 1M model from a sweep that starts at 22M: nobody has
#: measured the law there) or 30 above the largest. 30 lets a compute-optimal N or D reach
#: 100x the largest run's compute (FAR_BEYOND) quietly: it grows as C^a, 100^0.73 = 29 for
#: Kaplan's a = 0.73, the steepest published; D at 50x the only token count trained is not
#: allowed by the product alone
FAR_BELOW_INPUT = 10.0
FAR_ABOVE_INPUT = 30.0
#: ...and how far below the smallest run's compute (N*D): as far as FAR_BEYOND above it
#: (``compute_optimal`` at 1e15 FLOP from runs of 6e18 and up answered without a word, its
#: N and D each less than 10x below their runs')
FAR_BELOW = 100.0
#: a value the caller typed this many times below the fitted range is more likely written
#: in other units than a question about models that small (7 for 7B parameters, 3640 for
#: 3640 PF-days): the warning asks, in the loader's words (data._plausibility.UNIT_ADVICE)
UNIT_SLIP = 1e3


def _unit_hint(name: str, below: float, typed) -> str:
    """``; is it parameters written in millions or billions (...)?`` for a value of
    ``name`` typed by the caller (``typed``) :data:`UNIT_SLIP` times or more below the
    fitted range, else ""."""
    from ..data._plausibility import UNIT_ADVICE

    if name not in typed or name not in UNIT_ADVICE or below < UNIT_SLIP:
        return ""
    return f" ({_UNITS_ASKED}{UNIT_ADVICE[name]}?)"


#: the words that open :func:`_unit_hint`'s question, and close the warning that asks it
_UNITS_ASKED = "is it "
_COUNTS = "N, D and C are counts: parameters, tokens and FLOP (7B, 1.4T, 1e24)"


def _outside(name, values, low, high, above_factor=FAR_ABOVE_INPUT, typed=()) -> str:
    """A phrase for the farthest point of input ``name`` outside its fitted range by more
    than :data:`FAR_BELOW_INPUT` below or ``above_factor`` above, or ""; far below, with
    ``name`` in ``typed``, it asks whether the value is in other units (:func:`_unit_hint`)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0 or low <= 0:
        return ""  # a signed input: no ratio to speak of
    span = f"the fitted runs' {name} spans {low:.3g} to {high:.3g}"
    below, above = low / float(np.min(values)), float(np.max(values)) / high
    if below > FAR_BELOW_INPUT and below >= above:
        return (f"{name} = {float(np.min(values)):.3g}, {below:.3g}x below the smallest "
                f"({span}){_unit_hint(name, below, typed)}")
    if above > above_factor:
        return f"{name} = {float(np.max(values)):.3g}, {above:.3g}x above the largest ({span})"
    return ""


def warn_far_beyond(fit, X, *, stacklevel: int = 4, subject: str = "",
                    unsettled: bool = True, typed=(), below_only: bool = False) -> None:
    """Warn when a plain fit predicts far outside its runs: more than :data:`FAR_BEYOND`
    times above or :data:`FAR_BELOW` times below their compute (N*D, or the input of a
    one-input law), or an input more than :data:`FAR_BELOW_INPUT` times below or
    :data:`FAR_ABOVE_INPUT` times above its own fitted range; and, on every use, a fit
    whose own status or diagnostics say its parameters were not determined
    (:func:`warn_unsettled`). ``stacklevel``: the frame of the user's call; 4 from a
    :func:`quiet` function: this one, the function, its wrapper, the caller. ``subject``
    names the law in the message (a group's); ``unsettled=False`` leaves the status to the
    caller (a grouped fit reports its own). ``typed`` names the quantities the caller gave
    (``("N", "D")`` for a prediction, ``("C",)`` for an allocation, whose N and D are the
    law's answer): one of them :data:`UNIT_SLIP` times below the runs (C through N*D) is
    asked about as a value in other units. ``below_only``: the checks below the runs only
    (a calibrated law's prediction says itself how far above them its rollout measured)."""
    if unsettled:
        warn_unsettled(fit, stacklevel=stacklevel + 1, subject=subject)
    if _RANGE_SHOWN.get():
        return
    ranges = getattr(fit, "fitted_range", None) or {}
    reasons = []
    if "N*D" in ranges and {"N", "D"} <= set(X):
        scale = np.asarray(X["N"], dtype=float) * np.asarray(X["D"], dtype=float)
        largest, what = ranges["N*D"][1], "compute (C = k N D)"
    elif len(X) == 1 and next(iter(X)) in ranges:
        (name, values), = X.items()
        scale, largest, what = np.asarray(values, dtype=float), ranges[name][1], name
    else:
        scale, largest, what = np.empty(0), 0.0, ""
    if largest > 0 and scale.size:  # a law of signed inputs: no ratio to speak of
        worst = float(np.max(scale)) / largest
        if worst > FAR_BEYOND and not below_only:
            reasons.append(f"at up to {worst:.3g}x the largest {what} of the fitted runs, "
                           f"further than any back-test measured ({FAR_BEYOND:g}x)")
        low = float(np.min(scale[scale > 0], initial=np.inf))
        below = ranges["N*D"][0] / low if what.startswith("compute") else 0.0
        if below > FAR_BELOW:  # (a one-input law: its input's own check, below)
            reasons.append(f"at down to {below:.3g}x below the smallest {what} of the fitted "
                           f"runs{_unit_hint('C', below, typed)}")
    for name, values in X.items():
        if name in ranges:
            # a one-input law's own ratio above is the compute check's (100x)
            phrase = _outside(name, values, *ranges[name],
                              above_factor=FAR_ABOVE_INPUT if len(X) > 1 and not below_only
                              else np.inf, typed=typed)
            if phrase:
                reasons.append(f"at {phrase}")
    if any(f"({_UNITS_ASKED}" in reason for reason in reasons):  # said once, at the end
        reasons[-1] += f". {_COUNTS}"
    if reasons:
        if isinstance(fit, CalibratedFit):  # calibrated already: where its answer is
            advice = ("its prediction intervals (scalinglaws.predict; predict on the "
                      "command line) add the extrapolation error its rollout measured and "
                      "flag what lies beyond it")
        else:
            advice = ("scalinglaws.calibrate(result, runs) (fit --uncertainty) gives "
                      "prediction intervals and flags what it cannot vouch for")
        warnings.warn(f"{subject + ': ' if subject else ''}predicting "
                      f"{'; and '.join(reasons)} (warned beyond "
                      f"{FAR_BEYOND:g}x above or {FAR_BELOW:g}x below the compute, "
                      f"{FAR_BELOW_INPUT:g}x below or "
                      f"{FAR_ABOVE_INPUT:g}x above an input's range); a "
                      "confidence interval holds the parameters' uncertainty only, not the "
                      f"law's own error out there: {advice}", ExtrapolationWarning,
                      stacklevel=stacklevel)


def warn_unsettled(fit, *, stacklevel: int = 4, subject: str = "") -> None:
    """Warn that ``fit`` is used although its own status or diagnostics say the runs did
    not determine it: a nonzero status (a parameter on a bound, no convergence), a
    parameter flat to its bound, an ill-conditioned design or a design that cannot
    determine the law (``diagnostics["design"]``). The fit warned when it was made; a fit
    file passed on, or loaded in another session, would otherwise predict in silence."""
    status = getattr(fit, "status", 0)
    diagnostics = getattr(fit, "diagnostics", None) or {}
    problems = []
    if status not in (0, None):
        problems.append(f"status {status}: {getattr(fit, 'message', '')}")
    if diagnostics.get("flat_to_bound") and status == 0:
        problems.append(f"{', '.join(diagnostics['flat_to_bound'])} not identified")
    if not diagnostics.get("identifiable", True) and not diagnostics.get("flat_to_bound"):
        problems.append(f"the runs cannot separate the parameters (condition number "
                        f"{diagnostics.get('condition_number', float('nan')):.3g})")
    problems += list(diagnostics.get("design") or ())
    if not problems:
        return
    unidentified = bool(diagnostics.get("design") or diagnostics.get("flat_to_bound")
                        or not diagnostics.get("identifiable", True))
    warnings.warn(f"{subject + ': ' if subject else ''}this {fit.form.name} fit was not determined by its runs ("
                  + "; ".join(problems) + "): its answers are the form's, not the data's, "
                  "wherever the runs did not reach", IdentifiabilityWarning if unidentified
                  else ConvergenceWarning, stacklevel=stacklevel)
