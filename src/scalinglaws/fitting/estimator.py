"""Fit a scaling-law form to a table of runs: the estimator and its frozen result.

``fit(runs, form)`` minimises ``sum_i rho(r_i)`` with ``r_i`` the residual of
run ``i`` in log space (``log f(x_i) - log L_i``, Hoffmann et al.'s choice) or
linear space (``f(x_i) - L_i``), over the form's free parameters, from many
starting points at once (see :mod:`scalinglaws.optimize`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._text import counted
from .._validation import check_bool, check_bounds, check_fits_in_memory, check_number_mapping
from ..laws.forms import Form, get_form
from ..laws.losses import Loss, get_loss
from ..data.run_ids import checkpoint_runs
from ..data.runs import Runs, as_runs, fingerprint_arrays
from ._best_optimum import result_from_search
# GRADIENT_TOLERANCE is imported from here by the uncertainty stage
from .engine import GRADIENT_TOLERANCE, MultiStartResult, distinct_optima  # noqa: F401
from .engine import multistart_minimize, row_blocks
from .lack_of_fit import misfit_diagnostics, warn_lack_of_fit
from .outliers import diverged_runs, warn_diverged
# the warnings fit() gives about the runs themselves
from .run_warnings import warn_checkpoints, warn_floor_units, warn_pooled_groups
from .omitted_input import warn_omitted_input
# fitted_range is imported from here by compare; it lives with the result, whose field it
# fills, so that the grouped fit (which must not import this module) records it too
from .result import FitResult, fitted_range
from .varpro import separable_starts

__all__ = ["LawFitter", "FitResult", "fit"]

_SPACES = ("log", "linear")
# Above this many rows the search runs first on an evenly spaced subsample of this many
# rows, and only its distinct end points iterate on every row. Of the datasets of the
# tests and of ../shared only the OLMo checkpoint table (3,848 rows) is that large; its
# objective is the previous engine's, 3e-17 lower (bench/bench_objectives.py).
_RANK_ROWS = 2048
_REFINED = 8  # distinct end points of the subsample search refined on every row
# Memory a fit needs per run on top of the data, five free parameters: 1,000,000 runs
# peaked about 330 MB above the data (bench/bench_rows.py); with a margin
_BYTES_PER_RUN = 600


class LawFitter:
    """Estimator: holds a form and fitting options; :meth:`fit` returns a :class:`FitResult`.

    Parameters
    ----------
    form : str or Form
        ``"chinchilla"``, ``"kaplan_n"``, ``"kaplan_nd"``... (see
        :func:`scalinglaws.forms.available_forms`) or a :class:`Form`.
    loss : {"huber", "squared"} or Loss
        Loss applied to each residual. Default Huber, as Hoffmann et al.
    delta : float
        Huber threshold in residual units (1e-3 on log residuals, as Hoffmann).
    space : {"log", "linear"}
        Residuals ``log f - log L`` (default) or ``f - L``.
    fixed : dict, optional
        Parameters held at a value, in public units, e.g. ``{"E": 1.69}``.
    tied : dict, optional
        Parameters set equal to another, e.g. ``{"beta": "alpha"}``.
    bounds : dict, optional
        ``{name: (low, high)}`` in public units; ``None`` for either side
        keeps the default. Defaults: exponents in [0, 10], scale parameters
        in [e^-30, e^300].
    starts : None, dict or array, optional
        Starting points. ``None`` uses the form's grid (Hoffmann's 4,500-point
        grid for Chinchilla); a dict ``{name: values}`` of public values makes
        a product grid over the free parameters (missing ones take the form's
        grid values); an array ``(m, n_free)`` gives the points directly.
    max_iter : int
        Iterations of the batched Levenberg-Marquardt loop.
    rank : int
        One value-only pass scores every start; only the ``rank`` best iterate.
    prune_after, keep : int
        After ``prune_after`` iterations only the ``keep`` best starts go on.
    polish : bool
        Refine the best few optima with L-BFGS-B on the exact objective
        (default). Without it the batched search's end points are reported.
    preset : {"hoffmann", "extrapolate"}, optional
        A named estimator. ``"hoffmann"`` (the default) is Hoffmann et al.'s objective
        as is. ``"extrapolate"`` ties the two exponents (``beta = alpha``) of the
        Chinchilla law: in the rollout study on 18 public sweeps
        (``bench/bench_extrapolation.py``, README "Which estimator extrapolates best")
        it predicted the larger held-out runs better than the default on 14 of 18 and
        with the lowest error per source (3.5% against 4.3%). Explicit options still
        apply on top of a preset.
    """

    def __init__(self, form: str | Form = "chinchilla", *, loss: str | Loss = "huber",
                 delta: float = 1e-3, space: str = "log", fixed: Mapping | None = None,
                 tied: Mapping | None = None, bounds: Mapping | None = None, starts=None,
                 max_iter: int = 100, prune_after: int = 2, keep: int = 16, rank: int = 64,
                 polish: bool = True, preset: str | None = None):
        self.form = get_form(form)
        self.preset = _check_preset(preset, self.form)
        if self.preset == "extrapolate":
            tied = {"beta": "alpha", **dict(tied or {})}
        self.loss = get_loss(loss, delta)
        if space not in _SPACES:
            raise InputError(f"`space` must be one of {', '.join(_SPACES)}, got {space!r}")
        self.space = space
        names = self.form.param_names
        self.fixed = check_number_mapping("fixed", fixed, keys=names,
                                          positive=self.form.log_params)
        self.tied = self._check_names(tied, "tied")
        for name, target in self.tied.items():
            if target not in names or target in self.tied or target in self.fixed:
                raise InputError(f"`tied[{name!r}]` must name a free parameter of form "
                                 f"{self.form.name!r}, got {target!r}")
            if (name in self.form.log_params) != (target in self.form.log_params):
                raise InputError(f"cannot tie {name!r} to {target!r}: one is a scale and one an "
                                 "exponent parameter")
            if name in self.fixed:
                raise InputError(f"parameter {name!r} is both fixed and tied")
        self.free = tuple(n for n in names if n not in self.fixed and n not in self.tied)
        if not self.free:
            raise InputError("every parameter is fixed or tied: nothing to fit")
        self.lower, self.upper = self._bounds(bounds)
        self.starts = self._check_starts(starts)
        for arg, value in (("max_iter", max_iter), ("keep", keep), ("rank", rank)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise InputError(f"`{arg}` must be a positive integer, got {value!r}")
        if not isinstance(prune_after, (int, np.integer)) or prune_after < 0:
            raise InputError(f"`prune_after` must be a non-negative integer, got {prune_after!r}")
        self.max_iter, self.prune_after, self.keep = int(max_iter), int(prune_after), int(keep)
        self.rank = int(rank)
        self.polish = check_bool("polish", polish)
        self._bounds_arg = {k: list(v) for k, v in (bounds or {}).items()}

    #: options of a FitResult that define its objective: the law, loss, space, constraints
    OBJECTIVE_OPTIONS = ("loss", "delta", "space", "fixed", "tied", "bounds")
    #: options of a FitResult that rebuild the estimator that made it
    REFIT_OPTIONS = OBJECTIVE_OPTIONS + ("max_iter", "prune_after", "keep", "polish", "preset")

    @classmethod
    def from_result(cls, result, **overrides) -> LawFitter:
        """The estimator that made ``result`` (its form and recorded options), with
        ``overrides`` replacing some options (e.g. ``space="log"``)."""
        recorded = result.options or {}
        options = {k: v for k, v in recorded.items() if k in cls.REFIT_OPTIONS}
        if recorded.get("ratio") is not None:  # a loss with more than a threshold
            options["loss"] = get_loss({"name": recorded.get("loss"), "delta": recorded.get("delta"),
                                        "ratio": recorded["ratio"]})
        options.update(overrides)
        return cls(result.form, **options)

    # -- validation helpers ------------------------------------------------
    def _check_names(self, mapping, arg) -> dict:
        if mapping is None:
            return {}
        if not isinstance(mapping, Mapping):
            raise InputError(f"`{arg}` must be a dict of parameter names, got {type(mapping).__name__}")
        unknown = [k for k in mapping if k not in self.form.param_names]
        if unknown:
            raise InputError(f"`{arg}` names unknown parameter(s) {unknown}; form "
                             f"{self.form.name!r} has {', '.join(self.form.param_names)}")
        return dict(mapping)

    def _bounds(self, bounds):
        lo, hi = self.form.default_bounds()
        checked = check_bounds("bounds", bounds, keys=self.form.param_names,
                               positive=self.form.log_params)
        for name, (low, high) in checked.items():
            i = self.form.param_names.index(name)
            is_log = name in self.form.log_params
            for value, target in ((low, lo), (high, hi)):
                if value is not None:
                    target[i] = np.log(value) if is_log else value
            if lo[i] >= hi[i]:
                raise InputError(f"`bounds[{name!r}]` = {bounds[name]!r} is empty with the "
                                 "default on its open side (low >= high)")
        free_idx = [self.form.param_names.index(n) for n in self.free]
        return lo[free_idx], hi[free_idx]

    # -- parameter maps ----------------------------------------------------
    def _expand(self, theta_free: np.ndarray) -> np.ndarray:
        """Free internal vectors ``(k, q)`` to full internal vectors ``(k, p)``."""
        names = self.form.param_names
        full = np.empty((theta_free.shape[0], len(names)))
        for i, name in enumerate(names):
            if name in self.fixed:
                value = self.fixed[name]
                full[:, i] = np.log(value) if name in self.form.log_params else value
            else:
                source = self.tied.get(name, name)
                full[:, i] = theta_free[:, self.free.index(source)]
        return full

    def _contract(self, jac_full: np.ndarray) -> np.ndarray:
        """Jacobian w.r.t. full internal params ``(k, p, n)`` to free params ``(k, q, n)``."""
        names = self.form.param_names
        if self.free == names:
            return jac_full
        # a tied parameter adds its derivative to its source's; a fixed one drops out
        columns = [[i for i, name in enumerate(names)
                    if name not in self.fixed and self.tied.get(name, name) == free]
                   for free in self.free]
        if all(len(c) == 1 for c in columns):
            return jac_full[:, [c[0] for c in columns]]
        return np.stack([jac_full[:, c].sum(axis=1) for c in columns], axis=1)

    def _check_starts(self, starts):
        """``starts`` checked up front (a string was accepted here and failed inside fit)."""
        if starts is None:
            return None
        try:
            if isinstance(starts, Mapping):
                for name, values in starts.items():
                    np.asarray(values, dtype=float)
            else:
                values = np.asarray(starts, dtype=float)
                if values.ndim not in (1, 2) or values.shape[-1] != len(self.free):
                    raise InputError(f"`starts` must have shape (m, {len(self.free)}) for the "
                                     f"free parameters {', '.join(self.free)}, got "
                                     f"{values.shape}")
        except InputError:
            raise
        except (TypeError, ValueError):
            raise InputError("`starts` must be None, a dict of parameter name -> value(s), or "
                             f"an (m, {len(self.free)}) array of numbers, got "
                             f"{type(starts).__name__} {str(starts)[:40]!r}") from None
        return starts

    def _start_points(self, X, loss) -> np.ndarray:
        grid_full = self.form.start_grid(X, loss)
        free_idx = [self.form.param_names.index(n) for n in self.free]
        if self.starts is None:
            points = grid_full[:, free_idx]
        elif isinstance(self.starts, Mapping):
            unknown = [k for k in self.starts if k not in self.free]
            if unknown:
                raise InputError(f"`starts` names {unknown}, which are not free parameters "
                                 f"({', '.join(self.free)})")
            axes = []
            for name, column in zip(self.free, grid_full[:, free_idx].T):
                if name in self.starts:
                    values = np.atleast_1d(np.asarray(self.starts[name], dtype=float))
                    if name in self.form.log_params:
                        values = np.log(values)
                    axes.append(values)
                else:
                    axes.append(np.unique(column))
            points = np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(axes), -1).T
        else:
            values = np.atleast_2d(np.asarray(self.starts, dtype=float))  # shape checked
            log_cols = np.array([n in self.form.log_params for n in self.free])
            with np.errstate(divide="ignore", invalid="ignore"):
                points = np.where(log_cols, np.log(values), values)
        points = points[np.all(np.isfinite(points), axis=1)]
        if len(points) == 0:
            raise InputError("`starts` holds no finite starting point")
        # fixing parameters collapses grid points onto each other
        _, first = np.unique(points, axis=0, return_index=True)
        return points[np.sort(first)]

    def options(self) -> dict:
        """Plain-type record of the options (stored in the result and the JSON)."""
        return {"loss": self.loss.name, "delta": getattr(self.loss, "delta", None),
                "space": self.space, "fixed": dict(self.fixed), "tied": dict(self.tied),
                "bounds": self._bounds_arg,
                "starts": "default" if self.starts is None else "user",
                "max_iter": self.max_iter, "prune_after": self.prune_after, "keep": self.keep,
                "polish": self.polish, "preset": self.preset, "rank": self.rank,
                **({"ratio": self.loss.ratio} if hasattr(self.loss, "ratio") else {})}

    # -- fitting -------------------------------------------------------------
    def residual_function(self, runs: Runs):
        """``theta_free (k, q) -> (residuals (k, n), Jacobian (k, q, n))`` for these runs."""
        return self.array_residual_function(runs.inputs(self.form.inputs), runs.loss)

    def array_residual_function(self, inputs, target):
        """The residual function for input arrays ``inputs`` (dict) and observed ``target``."""
        target = np.asarray(target, dtype=float)
        log_target = np.log(target) if self.space == "log" else None

        def residuals(theta_free):
            full = self._expand(theta_free)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                if self.space == "log":
                    value, jac = self.form.log_value_and_jacobian(full, inputs)
                    r = value - log_target
                else:
                    value, jac = self.form.value_and_jacobian(full, inputs)
                    r = value - target
            return r, self._contract(jac)

        return residuals

    def fit(self, runs, *, weights=None, **load_kwargs) -> FitResult:
        """Fit the form to ``runs`` (a :class:`Runs`, DataFrame or path).

        ``weights`` (optional) is a non-negative weight per run, or the name of a column
        of ``runs`` holding them: the objective becomes ``sum_i w_i rho(r_i)``. The
        result does not keep the weights, so the uncertainty stage (bootstrap,
        calibrate, the sandwich covariance) refuses a weighted fit with an InputError.
        """
        runs = as_runs(runs, **load_kwargs)
        if len(runs) < len(self.free):
            raise InputError(f"{runs.source}: {self._too_few_runs(len(runs))}")
        inputs = runs.inputs(self.form.inputs)  # raises InputError naming a missing column
        if isinstance(weights, str):
            if weights not in runs.columns:
                raise InputError(f"`weights` names column {weights!r}, which the runs do not "
                                 f"have; columns: {list(runs.columns)}")
            weights = runs.frame[weights].to_numpy(dtype=float)
        result = self.fit_arrays(inputs, runs.loss, weights=weights,
                                 fingerprint=runs.fingerprint(self.form.inputs + ("loss",)))
        outliers = diverged_runs(result, runs)  # runs far off the law, by their rows
        # the residuals' size, and a trend of them that says the form misfits
        misfit = misfit_diagnostics(result, inputs, runs.loss,
                                    runs.C if runs.has("C") else None, checkpoint_runs(runs))
        result = result.with_diagnostics(misfit, outliers=outliers)
        recorded = {}
        if {"N", "D"} <= set(self.form.inputs):
            # the FLOP accounting the runs were loaded with (C = k N D): allocation and
            # diagnosis of this fit default to it instead of assuming 6
            recorded["flops_per_token"] = float(runs.flops_per_token)
        if runs.selection:  # which rows of their table the runs are (Runs.selection)
            recorded["rows"] = runs.selection
        if recorded:
            result = dataclasses.replace(result, options={**result.options, **recorded})
        return result

    def _too_few_runs(self, n: int) -> str:
        """Fewer runs than free parameters: what to do (fix or tie some, add runs)."""
        fix = "E=1.69" if "E" in self.free else f"{self.free[0]}=VALUE"
        tie = " (e.g. beta=alpha)" if {"alpha", "beta"} <= set(self.free) else ""
        return (f"{counted(n, 'run')} cannot determine {len(self.free)} free parameters "
                f"({', '.join(self.free)}) of form {self.form.name!r}: fix some with `fixed` "
                f"(e.g. {fix}) or tie one to another with `tied`{tie}, leaving at most {n} "
                f"free, or add runs")

    def fit_arrays(self, inputs, target, *, weights=None,
                   fingerprint: str | None = None) -> FitResult:
        """Fit to plain arrays: ``inputs`` maps the form's input names to arrays, ``target``
        is the observed value (the loss), ``weights`` an optional non-negative weight per
        value. The path for data that is not a table of runs, e.g. NIST's reference
        problems with an input ``x`` and a response ``y``.
        """
        inputs, target = self._check_arrays(inputs, target)
        weights = _check_weights(weights, len(target))
        if weights is not None:
            fingerprint = None if fingerprint is None else f"{fingerprint}+weights"
        if len(target) < len(self.free):
            raise InputError(self._too_few_runs(len(target)))
        if fingerprint is None:
            fingerprint = fingerprint_arrays([*inputs.items(), ("loss", target)]
                                             + ([("weights", weights)] if weights is not None else []))
        n = len(target)
        # what the fit holds per run beyond the data (the polish's Jacobian and its copies,
        # residuals): refuse up front rather than fail with a raw MemoryError part-way
        check_fits_in_memory(n, _BYTES_PER_RUN * (1 + len(self.free) / 5), what="runs",
                             task="the fit", advice="fit an evenly spaced subsample of the "
                             "runs, or group them (e.g. one row per run's final checkpoint)")
        residuals = self.array_residual_function(inputs, target)
        x0 = self._start_points(inputs, target)
        # Above _RANK_ROWS rows the whole search first runs on an evenly spaced subsample
        # of rows; its distinct end points are then refined on every row. Memory stays
        # bounded (row blocks) and the cost of the many starts does not grow with rows.
        coarse = n > _RANK_ROWS
        sample = np.unique(np.linspace(0, n - 1, _RANK_ROWS).round().astype(int)) \
            if coarse else slice(None)
        sub_inputs = {k: v[sample] for k, v in inputs.items()}
        sub_weights = None if weights is None else weights[sample]
        if self.starts is None and self.form.name == "chinchilla" and \
                self.free == self.form.param_names:
            # variable projection: the best cells of an exhaustive exponent grid, each
            # with its inner least-squares (E, A, B), join Hoffmann's grid
            x0 = np.concatenate([x0, separable_starts(sub_inputs, target[sample],
                                                      space=self.space, weights=sub_weights)])
        blocks = row_blocks(lambda rows: self.array_residual_function(
            {k: v[rows] for k, v in inputs.items()}, target[rows]), n)
        options = dict(max_iter=self.max_iter, prune_after=self.prune_after, keep=self.keep)
        if not coarse:
            search = multistart_minimize(blocks, x0, self.loss, self.lower, self.upper,
                                         rank=self.rank, weights=weights, **options)
        else:
            sampled = self.array_residual_function(sub_inputs, target[sample])
            first = multistart_minimize(sampled, x0, self.loss, self.lower, self.upper,
                                        rank=self.rank, weights=sub_weights, **options)
            chosen = np.array([g[0] for g in distinct_optima(first)][:_REFINED])
            fine = multistart_minimize(blocks, first.x[chosen], self.loss, self.lower,
                                       self.upper, weights=weights, max_iter=self.max_iter,
                                       prune_after=0)
            search = _merge(first, fine, chosen)
        return result_from_search(self, n, fingerprint, residuals, search, len(x0), weights,
                                  fitted_range(inputs))

    def _check_arrays(self, inputs, target):
        if not isinstance(inputs, Mapping):
            raise InputError(f"`inputs` must be a dict of arrays named {', '.join(self.form.inputs)}")
        missing = [n for n in self.form.inputs if n not in inputs]
        if missing:
            raise InputError(f"`inputs` lacks {', '.join(missing)} needed by form {self.form.name!r}")
        target = np.asarray(target, dtype=float).ravel()
        arrays = {}
        for name in self.form.inputs:
            arr = np.asarray(inputs[name], dtype=float).ravel()
            if arr.shape != target.shape:
                raise InputError(f"input {name!r} has {arr.size} values but the target has "
                                 f"{target.size}")
            if not np.all(np.isfinite(arr)):
                raise InputError(f"input {name!r} has a non-finite value at row "
                                 f"{int(np.flatnonzero(~np.isfinite(arr))[0])}")
            if self.form.positive_inputs and np.any(arr <= 0):
                raise InputError(f"input {name!r} has a value <= 0 at row "
                                 f"{int(np.flatnonzero(arr <= 0)[0])}; form "
                                 f"{self.form.name!r} takes its logarithm")
            arrays[name] = arr
        bad = ~np.isfinite(target) | ((target <= 0) if self.space == "log" else False)
        if np.any(bad):
            raise InputError(f"target value at row {int(np.flatnonzero(bad)[0])} is "
                             + ("not finite and positive (needed in log space)"
                                if self.space == "log" else "not finite"))
        return arrays, target


def _merge(first: MultiStartResult, fine: MultiStartResult, chosen) -> MultiStartResult:
    """The subsample search with its ``chosen`` starts replaced by their refinement on every
    row; every other start counts as pruned (start indices stay those of the grid)."""
    x, fun = first.x.copy(), np.full(len(first.fun), np.inf)
    x[chosen], fun[chosen] = fine.x, fine.fun
    pruned = np.ones(len(fun), bool)
    pruned[chosen] = fine.pruned
    flags = {}
    for name in ("converged", "stalled"):
        flags[name] = np.zeros(len(fun), bool)
        flags[name][chosen] = getattr(fine, name)
    gradient = np.full(len(fun), np.nan)
    gradient[chosen] = fine.gradient
    return MultiStartResult(x=x, fun=fun, pruned=pruned, nit=first.nit + fine.nit,
                            nfev=first.nfev + fine.nfev, x0=first.x0, gradient=gradient, **flags)


#: named estimators (see LawFitter's ``preset``)
PRESETS = ("hoffmann", "extrapolate")


def _check_preset(preset, form: Form) -> str:
    if preset is None:
        return "hoffmann"
    if preset not in PRESETS:
        raise InputError(f"`preset` must be one of {', '.join(PRESETS)}, got {preset!r}")
    if preset == "extrapolate" and not {"alpha", "beta"} <= set(form.param_names):
        raise InputError(f"preset='extrapolate' ties beta to alpha; form {form.name!r} has no "
                         "such pair of exponents")
    return preset


def _check_weights(weights, n: int):
    """``weights`` as a float array of ``n`` finite non-negative values (not all 0), or None."""
    if weights is None:
        return None
    try:
        values = np.asarray(weights, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError(f"`weights` must be numbers, got {weights!r:.80}") from None
    if values.shape != (n,):
        raise InputError(f"`weights` must have one value per run ({n}), got {values.size}")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise InputError(f"`weights` must be finite and non-negative; row {int(np.flatnonzero(bad)[0])} "
                         f"has {values[bad][0]!r}")
    if not values.any():
        raise InputError("`weights` are all zero")
    return values



def fit(runs, form: str | Form = "chinchilla", **options: Any) -> FitResult:
    """Fit a scaling law to a table of runs.

    Shorthand for ``LawFitter(form, **options).fit(runs)``; options that are
    not fitting options (``columns``, ``flops_per_token``, ``nan_policy``) go
    to :func:`scalinglaws.load_runs`. With ``groups="column"`` (and optionally
    ``shared=["alpha", "beta"]``) every group of runs is fitted at once and a
    :class:`~scalinglaws.fitting.grouped.GroupedFitResult` is returned
    (:func:`scalinglaws.fitting.grouped.fit`). When rows are checkpoints of the same
    runs (a ``run_id`` repeats), a :class:`~scalinglaws.ScalingLawsWarning` says so once:
    the fit weighs every row alike, and :func:`scalinglaws.bootstrap` resamples whole runs.
    Runs more than 25 robust standard deviations off the fitted law (a diverged run) are
    named in a warning and in ``result.diagnostics["outliers"]`` (:mod:`.outliers`); the
    size of the log residuals goes to ``result.diagnostics["residuals"]``, and residuals
    that trend with C, N or D (a form that misfits, however well it converged) to
    ``result.diagnostics["lack_of_fit"]`` with a :class:`~scalinglaws.LackOfFitWarning`
    (:mod:`.lack_of_fit`).

    Examples
    --------
    >>> from scalinglaws import fit, generate_sweep
    >>> runs = generate_sweep(rng=0)
    >>> result = fit(runs, "chinchilla")
    >>> sorted(result.params)
    ['A', 'B', 'E', 'alpha', 'beta']
    """
    if options.get("groups") is not None or options.get("shared"):
        from .grouped import fit as fit_groups  # groups of runs, some parameters shared

        return fit_groups(runs, form, estimator=LawFitter, **options)
    options.pop("groups", None)
    options.pop("shared", None)
    load_keys = {"columns", "flops_per_token", "nan_policy", "format", "sep", "loss_units",
                 "duplicates", "zero_tokens"}
    load_kwargs = {k: options.pop(k) for k in list(options) if k in load_keys}
    weights = options.pop("weights", None)
    _check_option_names(options, load_keys | {"weights", "groups", "shared"})
    fitter = LawFitter(form, **options)
    runs = as_runs(runs, **load_kwargs)
    warn_checkpoints(runs)
    warn_pooled_groups(runs)
    result = fitter.fit(runs, weights=weights)
    warn_diverged(result, runs)
    warn_lack_of_fit(result, runs.source)
    warn_floor_units(result, runs)
    warn_omitted_input(result, runs)  # L(N) on runs whose D varies and matters
    return result


def _check_option_names(options, others) -> None:
    """An InputError naming an option ``fit`` does not know, with the closest known name
    (``tie=`` -> ``tied``), instead of Python's TypeError from ``LawFitter``."""
    import difflib
    import inspect

    known = set(inspect.signature(LawFitter.__init__).parameters) - {"self", "form"} | others
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            raise InputError(f"fit() got an unknown option {name!r}"
                             + (f"; did you mean {close[0]!r}?" if close else "")
                             + f" (options: {', '.join(sorted(known))})")
