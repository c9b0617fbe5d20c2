"""Fit a learning-curve law to training curves: the estimator and its frozen result.

``fit_curves(curves, "mpl")`` minimises, over the law's parameters,

    sum over every logged point of Huber_delta(log L_hat(s) - log L(s)),   delta = 1e-3,

the objective of Luo et al. (2025, App. D.2) and Tissue et al. (2024), by the package's
batched multi-start engine: the law bound to its schedule sums is an ordinary form
(:meth:`~scalinglaws.laws.curve_laws.CurveLaw.bind`), so :class:`~scalinglaws.LawFitter`
does the work, with the same fixed and tied parameters, bounds, starts, polishing and
diagnostics as every other fit. The starts are the best cells of a grid over the
non-linear parameters, each completed by the least-squares values of the linear ones
(``L0``, ``A`` and ``B`` or ``C``).

:func:`fit_size_scaled` fits a law whose parameters are power laws in N on curves of
several sizes (first each size alone, whose parameters give the joint fit its start).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenOnUnpickle, check_choice, deep_freeze, readonly_array
from .._version import __version__
from ..data.curves import Curves, load_curves
from ..laws.curve_laws import CurveLaw, SizeScaled, get_curve_law, prediction_inputs
from ..laws.losses import get_loss
from .estimator import LawFitter

__all__ = [
    "CurveFitResult",
    "curve_objective",
    "data_fingerprint",
    "fit_curves",
    "fit_size_scaled",
]


@dataclass(frozen=True)
class CurveFitResult(FrozenOnUnpickle):
    """A learning-curve law fitted to curves. Frozen: it never refits.

    Attributes
    ----------
    law : CurveLaw
        The law (not bound to any data).
    params : dict
        Every parameter by name, fixed and tied ones included.
    free_params : tuple of str
    fixed, tied : dict
    objective : float
        Sum of Huber(log residual) at the optimum.
    runs : tuple of str
        The curves fitted, in order.
    n_points : int
        Points fitted.
    success, status, message, at_bounds
        As :class:`~scalinglaws.FitResult`: status 0 converged, 1 a parameter on a
        bound, 2 not converged, 3 no finite start.
    n_starts : int
    local_optima : tuple of dict
        Distinct optima found, best first.
    options : dict
        Loss, delta, quadrature, weights and engine options.
    data_fingerprint : str
    nit, nfev : int
    gradient : float
        Relative projected gradient at the optimum.
    diagnostics : dict
        Identifiability at the optimum (condition number, most correlated pair).
    run_N : dict
        N of each fitted run, when known.
    residuals : ndarray
        Log residuals ``log L_hat - log L`` of every point (read-only).
    package_version : str
    """

    law: CurveLaw
    params: dict
    free_params: tuple
    fixed: dict
    tied: dict
    objective: float
    runs: tuple
    n_points: int
    success: bool
    status: int
    message: str
    at_bounds: tuple = ()
    n_starts: int = 0
    local_optima: tuple = ()
    options: dict = field(default_factory=dict)
    data_fingerprint: str = ""
    nit: int = 0
    nfev: int = 0
    gradient: float = float("nan")
    diagnostics: dict = field(default_factory=dict, repr=False, compare=False)
    run_N: dict = field(default_factory=dict)
    residuals: np.ndarray | None = field(default=None, repr=False, compare=False)
    package_version: str = __version__

    def __post_init__(self):
        # deeply frozen, as every result: mappings read-only, arrays read-only
        for name in ("params", "fixed", "tied", "options", "diagnostics", "run_N",
                     "local_optima", "residuals"):
            object.__setattr__(self, name, deep_freeze(getattr(self, name)))

    @classmethod
    def from_params(cls, law, params: Mapping, **config) -> CurveFitResult:
        """A result holding given parameters (a paper's published values), not a fit."""
        law = get_curve_law(law, **config)
        values = dict(zip(law.param_names, map(float, law.params_vector(params))))
        return cls(law=law, params=values, free_params=law.param_names, fixed={}, tied={},
                   objective=float("nan"), runs=(), n_points=0, success=True, status=0,
                   message="parameters given, not fitted")

    def predict(self, lr, steps=None, *, N: float | None = None, quadrature=None,
                tokens_per_step: float | None = None) -> np.ndarray:
        """Predicted loss at ``steps`` (default: every step) of a run whose per-step LR is
        ``lr`` (an array, or a schedule with ``lr_array()``); ``N`` for a size-scaled law
        or a user law of N, ``tokens_per_step`` for a user law of tokens
        (:func:`~scalinglaws.laws.curve_laws.prediction_inputs`)."""
        lr = np.asarray(lr.lr_array() if hasattr(lr, "lr_array") else lr, dtype=float)
        steps = np.arange(1, len(lr)) if steps is None else np.asarray(steps, dtype=np.int64)
        inputs = prediction_inputs(self.law, steps, N=N, tokens_per_step=tokens_per_step)
        sums = self.law.make_sums([lr], [steps], point_inputs=inputs,
                                  quadrature=quadrature or self.options.get("quadrature"))
        return self.law.predict(self.params, sums)

    def summary(self) -> str:
        """A readable table of the fitted parameters and the fit's status."""
        lines = [(f"law        {self.law.name}  (warmup {self.law.warmup}d in the drop sum)"
                  if hasattr(self.law, "warmup") else f"law        {self.law.name}"),
                 f"formula    {self.law.formula}",
                 (f"objective  {self.objective:.10g}  (sum of Huber(delta="
                  f"{self.options.get('delta')}) on log loss over {self.n_points} points of "
                  f"{len(self.runs)} curves)"),
                 f"status     {self.status}: {self.message}", "",
                 f"{'parameter':<12}{'value':>16}  note", "-" * 40]
        for name in self.law.param_names:
            note = ("fixed" if name in self.fixed else f"= {self.tied[name]}"
                    if name in self.tied else "at bound" if name in self.at_bounds else "")
            lines.append(f"{name:<12}{self.params[name]:>16.8g}  {note}")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _as_curves(curves, load_kwargs) -> Curves:
    if isinstance(curves, Curves):
        if load_kwargs:
            raise InputError(f"{sorted(load_kwargs)} apply when loading curves, not to Curves")
        return curves
    return load_curves(curves, **load_kwargs)


def _weights(weights, curves: Curves):
    """Per-point weights: None, "curve" (every curve weighs as much in total), or values."""
    if weights is None:
        return None
    if isinstance(weights, str):
        check_choice("weights", weights, ("curve",))
        runs = curves.frame["run_id"].to_numpy()
        counts = curves.frame.groupby("run_id", sort=False)["step"].transform("size").to_numpy()
        return len(runs) / (len(curves.runs) * counts)
    values = np.asarray(weights, dtype=float)
    if values.shape != (len(curves),):
        raise InputError(f"`weights` must have one value per point ({len(curves)})")
    return values


def data_fingerprint(curves: Curves, quadrature: Mapping) -> str:
    """The fingerprint a fit records: the curves' and the quadrature's (infinity written as
    None, as JSON holds it)."""
    plain = sorted((k, None if isinstance(v, float) and not np.isfinite(v) else v)
                   for k, v in quadrature.items())
    return f"{curves.fingerprint()}+{plain}"


def curve_objective(law, params: Mapping, curves, *, delta: float = 1e-3, quadrature=None,
                    **config) -> float:
    """Sum of Huber(log residual) of ``params`` on ``curves`` (e.g. a paper's parameters),
    the objective :func:`fit_curves` minimises."""
    law = get_curve_law(law, **config)
    sums = law.prepare(curves, quadrature=quadrature)
    predicted = law.predict(params, sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        residuals = np.log(predicted) - np.log(curves.frame["loss"].to_numpy(dtype=float))
    return _huber_objective(residuals, delta)


def _huber_objective(residuals: np.ndarray, delta: float) -> float:
    """Sum of Huber_delta over log ``residuals``; inf where any is not finite."""
    if not np.all(np.isfinite(residuals)):
        return float("inf")
    return float(np.sum(get_loss("huber", delta).rho(residuals)))


def _run_N(curves: Curves) -> dict:
    """N of each run, when the curves carry it."""
    if not curves.has("N"):
        return {}
    return {run: float(curves.run_value(run, "N")) for run in curves.runs}


def fit_curves(curves, law: str | CurveLaw = "mpl", *, delta: float = 1e-3,
               fixed: Mapping | None = None, tied: Mapping | None = None,
               bounds: Mapping | None = None, starts=None, quadrature: Mapping | None = None,
               weights=None, max_iter: int = 100, keep: int = 4, polish: bool = True,
               warmup: str | None = None, load: Mapping | None = None,
               method: str = "optimum") -> CurveFitResult:
    """Fit a learning-curve law to training curves.

    Parameters
    ----------
    curves : Curves, path or DataFrame
        The curves (every run needs its per-step LR, see :meth:`Curves.lr_array`).
    law : {"mpl", "momentum", "size_scaled"} or CurveLaw
        The law.
    delta : float
        Huber threshold on log residuals (1e-3, as both papers).
    fixed, tied, bounds, starts
        As :class:`~scalinglaws.LawFitter`: e.g. ``fixed={"lambda": 0.999}``,
        ``bounds={"alpha": (0, 1)}``.
    quadrature : dict, optional
        Options of the loss-drop sums (``{"exact": True}`` for the exact sums).
    weights : None, "curve" or array
        Per-point weights; ``"curve"`` gives every curve the same total weight (the
        papers weigh every point alike, the default).
    max_iter, keep, polish
        Engine options: iterations of the batched search, starts it keeps after two
        iterations (the separable starts are good: 4 reach the optimum on every curve set
        we tried, 16 cost 2.5x the time for the same optimum), polishing.
    warmup : {"include", "exclude"}, optional
        The law's warmup convention (default: the law's own).
    load : dict, optional
        Options for :func:`~scalinglaws.data.curves.load_curves` when ``curves`` is a path.
    method : {"optimum", "luo2025"}
        ``"optimum"`` (default): the optimum of the objective, by the package's engine.
        ``"luo2025"``: Luo et al.'s own recipe for the Multi-Power Law, to reproduce
        their fits (their start, then AdamW stopped early by their rule, on the exact
        sums; :mod:`~scalinglaws.fitting.curves_luo`): on their train curves it gives
        their published parameters to every printed digit. Its point is not an optimum
        (status 2, with a ``ConvergenceWarning``); ``fixed``, ``tied``, ``bounds``,
        ``starts``, ``weights`` and ``quadrature`` do not apply to it.

    Returns
    -------
    CurveFitResult

    Notes
    -----
    This is the optimum of the objective. Luo et al.'s published MPL parameters are not:
    they are where their AdamW run (weight decay 0.01) stopped early, 2-13x above this
    objective on their train curves, and happen to predict their held-out curves better
    (PredE 0.78-0.86x the optimum's; README, ``bench/study_mpl_authors.py``).

    Examples
    --------
    >>> from scalinglaws.laws.curve_synthetic import synthetic_curves
    >>> curves, truth = synthetic_curves("momentum", rng=0, noise=0.0)
    >>> fit = fit_curves(curves, "momentum")
    >>> round(fit.params["alpha"], 6), round(float(truth["alpha"]), 6)
    (0.5, 0.5)
    """
    law = get_curve_law(law, **({"warmup": warmup} if warmup else {}))
    curves = _as_curves(curves, dict(load or {}))
    method = check_choice("method", method, ("optimum", "luo2025"))
    if method == "luo2025":
        given = [name for name, value in (("fixed", fixed), ("tied", tied), ("bounds", bounds),
                                          ("starts", starts), ("weights", weights),
                                          ("quadrature", quadrature)) if value is not None]
        if given:
            raise InputError(f"method='luo2025' is Luo et al.'s recipe as they ran it: "
                             f"{', '.join(given)} do not apply to it")
        return _fit_luo2025(curves, law, delta, warmup)
    sums = law.prepare(curves, quadrature=quadrature)
    bound = law.bind(sums)
    fitter = LawFitter(bound, loss="huber", delta=delta, space="log", fixed=fixed, tied=tied,
                       bounds=bounds, starts=starts, max_iter=max_iter, keep=keep,
                       polish=polish)
    target = curves.frame["loss"].to_numpy(dtype=float)
    point_weights = _weights(weights, curves)
    quad = {**law.quadrature, **(quadrature or {})}
    fingerprint = data_fingerprint(curves, quad)
    fit = fitter.fit_arrays({"point": np.arange(sums.n_points, dtype=float)}, target,
                            weights=point_weights, fingerprint=fingerprint)
    residuals = None if fit.residuals is None else readonly_array(fit.residuals)
    run_N = _run_N(curves)
    options = {**{k: v for k, v in fit.options.items() if k != "space"},
               "quadrature": quad, "weights": weights if isinstance(weights, str) or
               weights is None else "given"}
    return CurveFitResult(
        law=law, params=dict(fit.params), free_params=tuple(fit.free_params),
        fixed=dict(fit.fixed), tied=dict(fit.tied), objective=float(fit.objective),
        runs=tuple(curves.runs), n_points=int(sums.n_points), success=bool(fit.success),
        status=int(fit.status), message=fit.message, at_bounds=tuple(fit.at_bounds),
        n_starts=int(fit.n_starts), local_optima=tuple(fit.local_optima), options=options,
        data_fingerprint=fingerprint, nit=int(fit.nit), nfev=int(fit.nfev),
        gradient=float(fit.gradient),
        diagnostics={**dict(fit.diagnostics or {}), "fitted_range": schedule_range(curves)},
        run_N=run_N, residuals=residuals)


def schedule_range(curves: Curves) -> dict:
    """``{"steps": [smallest, largest], "peak_lr": [smallest, largest]}`` over the fitted
    curves: their last logged step and the peak of their LR schedule, and ``"N"`` when the
    curves have sizes, for :func:`scalinglaws.analysis.curves.predict_curve` to say when a
    prediction leaves them."""
    last = [int(np.max(curves.steps(run))) for run in curves.runs]
    peaks = [float(np.max(curves.lr_array(run))) for run in curves.runs]
    out = {"steps": [min(last), max(last)], "peak_lr": [min(peaks), max(peaks)]}
    if curves.has("N"):
        sizes = curves.frame["N"].to_numpy(dtype=float)
        out["N"] = [float(np.nanmin(sizes)), float(np.nanmax(sizes))]
    return out


def _fit_luo2025(curves: Curves, law, delta: float, warmup) -> CurveFitResult:
    """``fit_curves(..., method="luo2025")``: their recipe's point as a result."""
    from .curves_luo import fit_curves_luo2025

    run = fit_curves_luo2025(curves, law, delta=delta, warmup=warmup)
    law = run["law"]
    quad = {**law.quadrature, "exact": True}
    # the residuals are on the recipe's exact sums: the objective without preparing them again
    return CurveFitResult(
        law=law, params=run["params"], free_params=law.param_names, fixed={}, tied={},
        objective=_huber_objective(run["residuals"], delta),
        runs=tuple(curves.runs), n_points=run["n_points"], success=False, status=2,
        message=run["message"], options={**run["options"], "quadrature": quad},
        data_fingerprint=data_fingerprint(curves, quad), nit=run["nit"], nfev=run["nit"],
        run_N=_run_N(curves), residuals=readonly_array(run["residuals"]),
        diagnostics={"fitted_range": schedule_range(curves)})


def fit_size_scaled(curves, base: str = "mpl", *, scaled=None, reference_N: float | None = None,
                    **options: Any) -> CurveFitResult:
    """Fit ``base`` with parameters that are power laws in N to curves of several sizes.

    Each size is fitted alone first (with the law's default starts and bounds, and only
    the ``delta``, ``quadrature``, ``weights`` and ``max_iter`` of ``options``); the power
    laws through those per-size parameters (least squares in log N) are then the one start
    of the joint fit, unless ``starts`` is given. ``fixed``, ``tied`` and ``bounds`` apply
    to the joint fit only. ``scaled`` names the parameters that depend on N (default: all);
    ``reference_N`` defaults to the geometric mean of the sizes.
    """
    curves = _as_curves(curves, dict(options.pop("load", None) or {}))
    if not curves.has("N"):
        raise InputError("a size-scaled fit needs the N of every curve (an N column or N=)")
    sizes = sorted({float(curves.run_value(run, "N")) for run in curves.runs})
    if len(sizes) < 2:
        raise InputError(f"a size-scaled fit needs curves of at least 2 sizes, got {sizes}")
    reference_N = float(np.exp(np.mean(np.log(sizes)))) if reference_N is None else reference_N
    law = SizeScaled(base, scaled=scaled, reference_N=reference_N)
    per_size = []
    for size in sizes:
        runs = [r for r in curves.runs if float(curves.run_value(r, "N")) == size]
        per_size.append(fit_curves(curves.select(runs), law.base,
                                   **{k: v for k, v in options.items() if k in (
                                       "delta", "quadrature", "weights", "max_iter")}))
    log_ratio = np.log(np.array(sizes) / reference_N)
    start = {}
    for name in law.base.param_names:
        values = np.array([f.params[name] for f in per_size])
        if name in law.scaled and np.all(values > 0):
            slope, intercept = np.polyfit(log_ratio, np.log(values), 1)
            start[name], start[f"{name}_N"] = float(np.exp(intercept)), float(slope)
        else:
            start[name] = float(np.exp(np.mean(np.log(np.abs(values) + 1e-300))))
            if name in law.scaled:
                start[f"{name}_N"] = 0.0
    if options.get("starts") is None:
        free = [n for n in law.param_names if n not in (options.get("fixed") or {})
                and n not in (options.get("tied") or {})]
        options["starts"] = np.array([[start[n] for n in free]])
    return fit_curves(curves, law, **options)
