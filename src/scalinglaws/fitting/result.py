"""The frozen result of a fit: parameters, objective, status and diagnostics."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._files import atomic_write, check_output_path, json_text
from .._validation import FrozenOnUnpickle
from .._validation import deep_freeze, to_plain
from .._version import __version__
from ..laws.flops import inputs_from_compute
from ..laws.forms import Form, get_form
from ..laws.losses import Loss, get_loss
from .lack_of_fit import misfit_text, size_text
from .outliers import DIVERGED, outliers_text

__all__ = ["FitResult", "SCHEMA_VERSION", "DOCUMENT_KIND", "check_fitted_on", "check_same_point",
           "fitted_range", "law_inputs"]

#: version of the fit document written (see outputs/io for the versions read)
SCHEMA_VERSION = 3  # 2: fitted_range (version 1 files are read: no range); 3:
# options.rows.columns, the column mapping (version 2 files are read: none recorded)
DOCUMENT_KIND = "scalinglaws.fit"


def fitted_range(inputs: Mapping) -> dict:
    """``{input: (smallest, largest)}`` of the fitted runs, with ``"N*D"`` for a law of N
    and D: the largest N and the largest D come from different runs of an IsoFLOP sweep,
    so how far a prediction reaches is measured in N*D (C / k), run by run."""
    out = {k: (float(np.min(v)), float(np.max(v))) for k, v in inputs.items()}
    if {"N", "D"} <= set(inputs):
        product = np.asarray(inputs["N"], dtype=float) * np.asarray(inputs["D"], dtype=float)
        out["N*D"] = (float(np.min(product)), float(np.max(product)))
    return out


def law_inputs(form: Form, inputs: Mapping, flops_per_token: float) -> dict:
    """The inputs of ``form`` from ``inputs``: the one of N and D missing derived from ``C``
    (:func:`~scalinglaws.laws.flops.inputs_from_compute`); an input the form does not take
    is refused by name rather than ignored."""
    out = inputs_from_compute(inputs, form.inputs, flops_per_token)
    unknown = [name for name in out if name not in form.inputs]
    if not unknown:
        return out
    takes = f"form {form.name!r} takes {', '.join(form.inputs)}"
    if unknown == ["C"] and {"N", "D"} <= set(form.inputs):
        given = [name for name in ("N", "D") if name in out]
        raise InputError(f"{takes}: C (FLOP) is used to derive the one of N and D not given "
                         f"(C = k N D, k = {flops_per_token:g}); "
                         + ("drop C, or one of N and D" if len(given) == 2
                            else "give N or D with it"))
    raise InputError(f"{takes}; unknown input{'s' * (len(unknown) > 1)} {', '.join(unknown)}")


def check_fitted_on(result, runs) -> str:
    """The fingerprint of ``runs`` (the law's inputs and the loss), after checking that they
    are the data ``result`` was fitted on (a result without a fingerprint takes any runs)."""
    fingerprint = runs.fingerprint(result.form.inputs + ("loss",))
    if result.data_fingerprint == f"{fingerprint}+weights":
        # The result does not keep its weights, so a resample or a covariance would be
        # that of an unweighted fit: refuse rather than answer another question.
        raise InputError("`result` was fitted with `weights`; bootstrap, calibrate and the "
                         "sandwich covariance take unweighted fits only: refit without "
                         "`weights`, or repeat each run in `runs` as often as its weight")
    if result.data_fingerprint and fingerprint != result.data_fingerprint:
        raise InputError("`runs` are not the data `result` was fitted on (data fingerprints "
                         "differ); pass the same runs, after the same exclusions")
    return fingerprint


def check_same_point(stored, params, source: str, field: str) -> None:
    """Refuse a section of a fit file (bootstrap draws, a covariance) computed at another
    point estimate than the file's ``params``: after a hand edit of the parameters, the
    stored intervals would no longer belong to the law that predicts.

    ``stored`` is the section's own copy of the parameters (None in files written before
    it was kept: nothing to compare). Values must agree to 1e-12 relative (a JSON round
    trip is exact; the margin is for files rewritten by other tools).
    """
    if stored is None:
        return
    if not isinstance(stored, Mapping) or set(stored) != set(params):
        raise InputError(f"{source}: field {field} must name the parameters "
                         f"{', '.join(params)}")
    for name, value in params.items():
        kept = stored[name]
        if isinstance(kept, bool) or not isinstance(kept, (int, float)) or not math.isclose(
                float(kept), float(value), rel_tol=1e-12, abs_tol=0.0):
            raise InputError(f"{source}: field {field}.{name} is {kept!r} but params.{name} "
                             f"is {value!r}: the section was computed for other parameters "
                             "(edited by hand?); refit, or remove the section")


@dataclass(frozen=True)
class FitResult(FrozenOnUnpickle):
    """A fitted scaling law. Frozen: it never refits.

    Attributes
    ----------
    form : Form
        The law that was fitted.
    params : dict
        Every parameter by name (public units: ``E``, ``A``, ``alpha``...),
        fixed and tied ones included.
    free_params : tuple of str
        Parameters the optimiser varied.
    fixed, tied : dict
        Parameters held at a value, and parameters set equal to another.
    objective : float
        ``sum_i rho(r_i)`` at the optimum.
    n_runs : int
        Runs used.
    success : bool
        The optimum is a stationary point of the objective (projected
        gradient small relative to its terms).
    status : int
        0 converged inside the bounds; 1 converged with a parameter on a
        bound; 2 not converged; 3 no start gave a finite objective.
    message : str
        Human-readable status.
    at_bounds : tuple of str
        Parameters whose optimum sits on a bound.
    n_starts : int
        Starting points tried.
    best_basin_starts : tuple of int
        Indices (into the start set) of the starts that reached the best optimum.
    local_optima : tuple of dict
        Distinct optima found, best first: ``params``, ``objective``, ``n_starts``.
    options : dict
        The options that produced this fit (loss, delta, space, bounds...).
    data_fingerprint : str
        Hash of the input columns the fit used (see :meth:`Runs.fingerprint`).
    nit, nfev : int
        Batched iterations and residual evaluations (per start).
    gradient : float
        Relative projected gradient at the optimum.
    package_version : str
        Version of scalinglaws that made the fit.
    fitted_range : dict
        ``{input: (smallest, largest)}`` of the fitted runs (empty for given parameters
        and for fit files written before it was kept); predictions far beyond it warn.
    diagnostics : dict
        Identifiability: ``condition_number`` of the correlation-scaled
        design ``J J^T`` at the optimum, the ``most_correlated`` pair of
        estimates and ``identifiable`` (condition number <= 1e8; otherwise an
        :class:`IdentifiabilityWarning` was emitted); ``outliers``, when some runs lie
        more than 25 robust standard deviations off the law (a diverged run: its
        ``rows`` in the table, ``lines`` in the file, ``log_residuals``, ``robust_sd``;
        :mod:`scalinglaws.fitting.outliers`), which :func:`scalinglaws.fit` warned of;
        ``residuals`` (``rms`` and ``max`` of the log residuals) and, when they trend with
        C, N or D, ``lack_of_fit`` (:mod:`scalinglaws.fitting.lack_of_fit`), which
        :func:`scalinglaws.fit` warned of with a :class:`~scalinglaws.LackOfFitWarning`.
    bootstrap : BootstrapResult or None
        Bootstrap draws attached with :meth:`with_bootstrap` (saved in the JSON).
    """

    form: Form
    params: dict
    free_params: tuple
    fixed: dict
    tied: dict
    objective: float
    n_runs: int
    success: bool
    status: int
    message: str
    at_bounds: tuple = ()
    n_starts: int = 0
    best_basin_starts: tuple = ()
    local_optima: tuple = ()
    options: dict = field(default_factory=dict)
    data_fingerprint: str = ""
    nit: int = 0
    nfev: int = 0
    gradient: float = float("nan")
    package_version: str = __version__
    fitted_range: dict = field(default_factory=dict, compare=False)
    residuals: np.ndarray | None = field(default=None, repr=False, compare=False)
    bootstrap: Any = field(default=None, repr=False, compare=False)
    diagnostics: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        # deeply frozen: no mapping, list or array of a result can be changed in place
        for name in ("params", "fixed", "tied", "options", "diagnostics", "local_optima",
                     "best_basin_starts", "at_bounds", "free_params", "residuals",
                     "fitted_range"):
            object.__setattr__(self, name, deep_freeze(getattr(self, name)))

    @classmethod
    def from_params(cls, form: str | Form, params: Mapping[str, float]) -> FitResult:
        """A result holding given parameters (e.g. a paper's published coefficients), not a fit.

        Examples
        --------
        >>> hoffmann = FitResult.from_params("chinchilla", dict(E=1.69, A=406.4, B=410.7,
        ...                                                     alpha=0.34, beta=0.28))
        >>> round(float(hoffmann.predict(N=70e9, D=1.4e12)), 4)
        1.9366
        """
        form = get_form(form)
        values = dict(zip(form.param_names, map(float, form.params_vector(params))))
        # what a fit file would refuse on loading is refused here (a negative E or A was
        # accepted, predicted NaN and saved a file sl.load then rejected)
        bad = [f"{n}={v!r}" for n, v in values.items()
               if not math.isfinite(v) or (n in form.log_params and v <= 0)]
        if bad:
            raise InputError(f"`params` of form {form.name!r}: {', '.join(bad)} (every value "
                             "finite; scale parameters "
                             f"{', '.join(sorted(form.log_params))} positive)")
        return cls(form=form, params=values, free_params=form.param_names, fixed={}, tied={},
                   objective=float("nan"), n_runs=0, success=True, status=0,
                   message="parameters given, not fitted")

    # -- use -------------------------------------------------------------
    def predict(self, **inputs) -> np.ndarray:
        """Predicted loss at the given inputs (arrays broadcast), e.g. ``predict(N=1e9, D=2e10)``.

        The law evaluated, nothing more: no intervals and no range check, so library
        code (back-tests, calibration) can evaluate a law anywhere without noise. Use
        :func:`scalinglaws.predict` for intervals and for the
        :class:`~scalinglaws.ExtrapolationWarning` beyond 100x the fitted runs.

        A law of N and D also takes ``C`` (FLOP) with one of them: the other is derived
        from ``C = k N D`` with the fit's :attr:`flops_per_token`, e.g. ``predict(N=7e9,
        C=1e22)``. An input the law does not take raises :class:`~scalinglaws.InputError`
        naming it (``C`` with both N and D too: it would not be used).
        """
        return self.form.predict(self.params, **law_inputs(self.form, inputs,
                                                           self.flops_per_token))

    def with_bootstrap(self, bootstrap) -> FitResult:
        """A copy of this result carrying ``bootstrap`` (exported with the fit's JSON)."""
        if bootstrap is not None and (bootstrap.form != self.form
                                      or dict(bootstrap.point) != dict(self.params)):
            raise InputError("`bootstrap` was not computed from this fit")
        return dataclasses.replace(self, bootstrap=bootstrap)

    def with_diagnostics(self, entries: Mapping, **named) -> FitResult:
        """A copy whose ``diagnostics`` also hold ``entries`` and the ``named`` ones that
        are not empty (``outliers=[]`` adds nothing); this result itself if none are."""
        extra = {**entries, **{key: value for key, value in named.items() if value}}
        if not extra:
            return self
        return dataclasses.replace(self, diagnostics={**self.diagnostics, **extra})

    @property
    def flops_per_token(self) -> float:
        """``k`` in ``C = k N D`` of the runs this law was fitted on (``options``; 6 for a
        fit that records none: an older file, published coefficients, plain arrays).
        :func:`~scalinglaws.compute_optimal` and :func:`~scalinglaws.diagnose` default to it."""
        return float(self.options.get("flops_per_token", 6.0))

    @property
    def residual_df(self) -> int:
        """Residual degrees of freedom: runs used minus free parameters. At 0 (or below)
        the law passes through every run: its residuals say nothing of the scatter, so
        no interval can be made from them (the bootstrap, the scatter and the profile
        likelihood refuse)."""
        return int(self.n_runs) - len(self.free_params)

    @property
    def loss(self) -> Loss:
        """The residual loss used."""
        return get_loss(self.options.get("loss", "huber"), self.options.get("delta", 1e-3))

    def summary(self) -> str:
        """A readable table of the fitted coefficients and fit diagnostics."""
        lines = [f"form       {self.form.name}:  {self.form.formula}",
                 f"objective  {self.objective:.10g}  (sum of {self.options.get('loss')} "
                 f"loss, delta={self.options.get('delta')}, {self.options.get('space')} space)",
                 f"runs       {self.n_runs}",
                 *([f"identify   condition number {self.diagnostics['condition_number']:.3g}"
                    + ("" if self.diagnostics.get("identifiable", True)
                       else "  (ILL-CONDITIONED: parameters not separable)")]
                   if self.diagnostics else []),
                 f"status     {self.status}: {self.message}",
                 *self._fit_lines(),
                 *([f"outliers   {outliers_text(self.diagnostics['outliers'])} (more than "
                    f"{self.diagnostics['outliers'].get('threshold', DIVERGED):g} robust sd "
                    "off the law)"]
                   if (self.diagnostics or {}).get("outliers") else []),
                 f"starts     {self.n_starts} ({len(self.best_basin_starts)} reached the best optimum)",
                 "", f"{'parameter':<12}{'value':>16}  note", "-" * 40]
        intervals = self.bootstrap.intervals if self.bootstrap is not None else {}
        if intervals:
            b = self.bootstrap
            degenerate = getattr(b, "n_degenerate", 0)  # the grouped bootstrap's has none
            # whole runs resampled (checkpoints of one run together) are said; rows are not
            whole = f", {b.resampled}" if getattr(b, "clusters", None) is not None else ""
            lines[-2] = (f"{'parameter':<12}{'value':>16}  [{100 * b.confidence_level:g}% {b.method} "
                         f"interval, {b.n_resamples} resamples, {b.n_failed} failed"
                         + (f", {degenerate} degenerate" if degenerate else "") + whole + "]")
        for name in self.form.param_names:
            note = ("fixed" if name in self.fixed else f"= {self.tied[name]}" if name in self.tied
                    else "at bound" if name in self.at_bounds else "")
            if name in intervals and name not in self.fixed and name not in self.tied:
                low, high = intervals[name]
                note = f"[{low:.6g}, {high:.6g}]  {note}".rstrip()
            lines.append(f"{name:<12}{self.params[name]:>16.6g}  {note}")
        caveat = getattr(self.bootstrap, "caveat", None)  # e.g. too few draws for the level
        if intervals and caveat:
            lines.append(f"warning: {caveat}")
        return "\n".join(lines)

    def _fit_lines(self) -> list:
        """The summary's lines on how well the law fits its runs: the size of the log
        residuals and, when they trend, the lack of fit (:mod:`.lack_of_fit`)."""
        diagnostics = self.diagnostics or {}
        lines = []
        if diagnostics.get("residuals"):
            lines.append(f"residuals  {size_text(diagnostics['residuals'])} (log residuals, "
                         "% of the loss)")
        if diagnostics.get("lack_of_fit"):
            import textwrap

            lines.append(textwrap.fill(f"misfit     {misfit_text(diagnostics['lack_of_fit'])}",
                                       width=96, subsequent_indent=" " * 11))
        return lines

    def to_frame(self):
        """The parameters as a table, one row per parameter in ``form.param_names`` order.

        Columns ``name``, ``value`` (``params``), ``fixed`` (held at a value), ``tied_to``
        (the parameter it is set equal to, else missing) and ``at_bound`` (its optimum
        sits on a bound): what :meth:`summary` prints. With a bootstrap attached
        (:meth:`with_bootstrap`, a fit file saved with one), also its ``low``, ``high``
        and ``standard_error``, and in ``attrs`` what the interval is (kind, method,
        level, resamples: :meth:`BootstrapResult.to_frame
        <scalinglaws.uncertainty.bootstrap_result.BootstrapResult.to_frame>`). A fixed
        parameter's interval is its value: it does not vary. A new DataFrame each time.

        Examples
        --------
        >>> hoffmann = FitResult.from_params("chinchilla", dict(E=1.69, A=406.4, B=410.7,
        ...                                                     alpha=0.34, beta=0.28))
        >>> hoffmann.to_frame()[["name", "value"]]
            name   value
        0      E    1.69
        1      A  406.40
        2      B  410.70
        3  alpha    0.34
        4   beta    0.28
        """
        import pandas as pd

        names = list(self.form.param_names)
        frame = pd.DataFrame({"name": names,
                              "value": [float(self.params[n]) for n in names],
                              "fixed": [n in self.fixed for n in names],
                              "tied_to": [self.tied.get(n) for n in names],
                              "at_bound": [n in self.at_bounds for n in names]})
        if self.bootstrap is not None:
            intervals = self.bootstrap.to_frame()  # one formula: the bootstrap's own table
            for column in ("low", "high", "standard_error"):
                frame[column] = intervals[column].to_numpy()
            frame.attrs.update(intervals.attrs)
        return frame

    def __str__(self):
        return self.summary()

    def __repr__(self):
        # one line a notebook can show (the dataclass default ran to 1,000+ characters of
        # diagnostics); print(result) or result.summary() gives the table
        params = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        draws = "" if self.bootstrap is None else \
            f", bootstrap={len(self.bootstrap.draws)} draws"
        return (f"FitResult(form={self.form.name!r}, {params}, objective={self.objective:.6g}, "
                f"n_runs={self.n_runs}, status={self.status}{draws})")

    # -- export ------------------------------------------------------------
    def to_dict(self) -> dict:
        """The fit as a document of plain types: what a fit file holds (the JSON Schema
        ``scalinglaws/schema/fit.schema.json``; reading it back, with every check, is
        :func:`scalinglaws.load` / :func:`scalinglaws.from_json`)."""
        options = self.options
        loss = {"name": options.get("loss"), "delta": options.get("delta")}
        if options.get("ratio") is not None:
            loss["ratio"] = options["ratio"]
        doc = {
            "schema_version": SCHEMA_VERSION,
            "kind": DOCUMENT_KIND,
            "package_version": self.package_version,
            "form": self.form.to_dict(),
            "params": self.params,
            "free_params": list(self.free_params),
            "fixed": self.fixed,
            "tied": self.tied,
            "loss": loss,
            "space": options.get("space"),
            "objective": self.objective,
            "n_runs": self.n_runs,
            "data_fingerprint": self.data_fingerprint,
            "fitted_range": {k: list(v) for k, v in self.fitted_range.items()},
            "success": self.success,
            "status": self.status,
            "message": self.message,
            "at_bounds": list(self.at_bounds),
            "optimizer": {"n_starts": self.n_starts,
                          "n_best_basin": len(self.best_basin_starts),
                          "best_basin_starts": list(self.best_basin_starts),
                          "nit": self.nit, "nfev": self.nfev, "gradient": self.gradient},
            "local_optima": list(self.local_optima),
            "diagnostics": self.diagnostics,
            "options": options,
            "bootstrap": None if self.bootstrap is None else self.bootstrap.to_dict(),
        }
        return to_plain(doc)

    def to_json(self, **kwargs) -> str:
        """The fit's document as JSON text; ``kwargs`` go to :func:`json.dumps`."""
        return json_text(self.to_dict(), what="the fit", **kwargs)

    def save(self, path, *, force: bool = False) -> None:
        """Write the fit to ``path`` as JSON, atomically (the same as
        ``scalinglaws.save(result, path)``; never pickle). An existing file that is not a
        fit (a table of runs, say) is replaced only with ``force=True``."""
        target = check_output_path(path, kind="fit", force=force, argument="`path`")
        atomic_write(target, self.to_json() + "\n")
