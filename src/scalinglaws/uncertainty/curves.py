"""Bootstrap intervals for curve-law fits: redraw each curve's noise, or resample points.

The points of a training curve are not independent: its residuals from any law are
autocorrelated (a slow misfit of the curve's shape, correlated evaluation noise), so
resampling single points pretends to far more information than the curve holds and gives
intervals that are too narrow. Three schemes respect the dependence:

* ``method="ar1"`` (the default): an AR(1) sieve bootstrap of whole curves (a residual
  bootstrap). Each pseudo-data set keeps every curve's points and schedule and is the
  fitted curve times ``exp`` of new log noise, drawn curve by curve from an AR(1) fitted
  to that curve's residuals (bias-corrected coefficient, innovations resampled:
  :func:`~scalinglaws.uncertainty.run_noise.ar1_noise_draws`, the same pieces
  ``predict_final`` redraws a run's noise with). What it assumes: the law is right and
  each curve's log residuals are a stationary AR(1) (a smooth misfit of the law counts as
  noise with a coefficient near 1, which widens the intervals). Each resample has its own
  targets, so it is refitted on its own (momentum law, 3 curves of 451 points, 100
  resamples: 0.49 s of CPU against 0.18 s for ``"blocks"``);
* ``method="blocks"``: a moving-block bootstrap within each curve: each curve is rebuilt
  from randomly placed runs of ``block_length`` consecutive points (by default 4 times the
  integrated autocorrelation time of the fit's residuals, at least the cube root of the
  curve's length and at most a quarter of it: in the coverage simulation of the tests, 2
  times gave 81% coverage at 90% nominal, 4 times 89%);
* ``method="curves"``: draw whole curves with replacement (the unit is the run; sensible
  with many curves, crude with three).

``method="points"`` (single points, for comparison only) is what not to do, and warns
(:class:`CurveResamplingWarning`), as does ``"curves"`` with fewer than 8 curves. A block
or curve resample is a vector of point multiplicities, so all are refitted together by the
batched engine, each from the full-data optimum (as :func:`scalinglaws.bootstrap` does;
refitting the Multi-Power Law's resamples from the full multistart grid instead gave the
same bands to about 1e-4 nats). A resample whose refit does not converge is left out,
counted in ``n_failed`` and announced; :meth:`CurveBootstrap.describe` says what the
intervals rest on.

Why blocks under-cover, measured (``python bench/bench_curves.py --coverage --method
blocks --quantity params``: AR(1) noise with coefficient 0.7, 100 data sets; the spread
lines): the momentum law's C and lambda are fixed by the short annealing stretches of the
curves, and a block resample that drops or repeats such a stretch changes the design, not
just the noise. Their block draws are heavy-tailed (kurtosis 14, skewness +-1): the core
is 0.81 of the estimate's actual spread (interquartile range) and the tails far wider, so
the percentile interval is often too narrow where it matters (C 82, lambda 81 of 100 at
90%) while the draws' standard deviation is 3 times the actual one. The sieve keeps the
design: its draws are near normal (kurtosis 3.1) and cover C 94 and lambda 97 of 100.
For the Multi-Power Law, whose loss-drop parameters the fitted curves pin down so weakly
that in 22 of 100 data sets the fit ends on a bound (biased: -0.0026 nats on the held-out
final loss, and a fit on a bound warns), blocks covered the final loss 76 of 100 times at
90%, the sieve 92 (93 at 95%): its refits of a fit on a bound spread about as far as the
others'. ``"ar1"`` is the default (``"blocks"`` was before, and stays what
``block_length`` alone asks for): with the law's draws from the sieve, ``predict_final``'s
95% intervals of a part-way run's final loss held the truth in 59 / 57 / 57 of 60
Multi-Power Law data sets (25 / 50 / 75% of the run seen; blocks: 52 / 49 / 48, below the
52-60 that 3 Monte Carlo errors allow) and 195 / 193 / 195 of 200 momentum-law ones
(blocks: 187 / 184 / 184; tests/analysis/test_curve_final_coverage.py). The README gives
the figures for every interval and both levels. With independent noise (``--rho 0``, 200
data sets) both laws' intervals cover within 3 Monte Carlo errors of nominal at both
levels. The Multi-Power Law's used to fall short (held-out final loss 167 / 179 of 200 at
90 / 95% with 40 resamples): numpy's interpolated percentile ends of 40 draws hold on
average only 85.6 / 90.4% of the draws' distribution, and the draws' spread of the final
loss is a median 0.90 of the actual one. The sieve's ends are now the ``(B + 1) a``-th
ordered draws (:meth:`CurveBootstrap.percentile_ends`): 178 / 188 of 200 on the same
draws. Leverage-adjusted residuals and a bootstrap-t were tried and not adopted (README).

The intervals are percentile intervals (ends: :meth:`CurveBootstrap.percentile_ends`) of
the refitted parameters and of anything computed from them (a predicted curve, a final loss): they describe the uncertainty of
the fitted law, not the scatter of one logged loss around it.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._draws import check_n_resamples
from .._exceptions import (ConvergenceWarning, CurveResamplingWarning, InputError,
                           user_stacklevel)
from .._validation import (
    FrozenOnUnpickle,
    check_choice,
    check_confidence_level,
    check_int,
    check_rng,
    deep_freeze,
    freeze_array_fields,
)
from ..data.curves import Curves
from ..fitting.curves import CurveFitResult, _weights, data_fingerprint
from ..fitting.engine import multistart_minimize
from ..fitting.polish import polish
from ..fitting.estimator import GRADIENT_TOLERANCE, LawFitter
from .draws_caveats import few_draws_note, order_statistic_ends_note

__all__ = ["CurveBootstrap", "CurveResamplingWarning", "block_counts", "bootstrap_curves",
           "distinct_curve_resamples", "residual_block_length"]

# Below this many curves, resampling whole curves gives few distinct resamples (3 curves: 10,
# 5: 126, 8: 6,435) and percentile ends that are often the full-data fit itself: with 3
# curves, 72 of 100 nominal 90% intervals of a held-out final loss covered the truth
# (`python bench/bench_curves.py --coverage --method curves`).
MIN_CURVES = 8


_NODE_ROWS = 4_000_000  # resamples x nodes per batch: bounds the engine's working memory


@dataclass(frozen=True)
class CurveBootstrap(FrozenOnUnpickle):
    """Refitted parameters of a curve law under resampling.

    Attributes
    ----------
    law : CurveLaw
    point : dict
        The full-data fit's parameters.
    draws : ndarray, shape (n_ok, p)
        Public parameter vectors of the resamples that converged (read-only).
    n_resamples, n_failed : int
    method : str
        ``"ar1"``, ``"blocks"``, ``"curves"`` or ``"points"``.
    block_lengths : dict
        Points per block of each curve (``"blocks"`` only).
    confidence_level : float
    seed : int or None
    n_distinct : int or None
        Distinct resamples among the ``n_resamples`` drawn (None when loaded from a file
        that did not record it).
    n_curves : int or None
        Curves resampled.
    at_bounds : tuple of str
        Parameters of the full-data fit on a bound (every refit starts there).
    ar1_coefficients : dict
        Each curve's bias-corrected AR(1) coefficient of its residuals (``"ar1"`` only).

    Examples
    --------
    >>> from scalinglaws.fitting.curves import fit_curves
    >>> from scalinglaws.laws.curve_synthetic import synthetic_curves
    >>> curves, _ = synthetic_curves("momentum", rng=5, noise=0.001, every=512)
    >>> draws = bootstrap_curves(fit_curves(curves, "momentum"), curves, 40, rng=0)
    >>> draws.n_draws
    40
    >>> draws.method, draws.describe()[:47]
    ('ar1', '95% bootstrap percentile intervals (AR(1) sieve')

    """

    law: object
    point: dict
    draws: np.ndarray = field(repr=False)
    n_resamples: int
    n_failed: int
    method: str
    block_lengths: dict
    confidence_level: float
    seed: int | None = None
    n_distinct: int | None = None
    n_curves: int | None = None
    at_bounds: tuple = ()
    ar1_coefficients: dict = field(default_factory=dict)

    def __post_init__(self):
        freeze_array_fields(self, ("draws",))
        for name in ("point", "block_lengths", "ar1_coefficients"):
            object.__setattr__(self, name, deep_freeze(getattr(self, name)))

    @property
    def n_draws(self) -> int:
        """Converged resamples: what every interval rests on."""
        return int(self.draws.shape[0])

    def describe(self) -> str:
        """One sentence saying what the intervals are and what they rest on, with the
        scheme's known weakness (printed by ``scalinglaws curves fit --bootstrap``)."""
        scheme = self.method
        if self.method == "ar1":
            scheme = "AR(1) sieve of each curve's residuals"
            if self.ar1_coefficients:
                values = [float(v) for v in self.ar1_coefficients.values()]
                scheme += (f", coefficient {min(values):.2f}" if max(values) == min(values)
                           else f", coefficients {min(values):.2f}-{max(values):.2f}")
        text = (f"{100 * self.confidence_level:g}% bootstrap percentile intervals "
                f"({scheme}, {self.n_resamples} resamples, {self.n_failed} failed): "
                f"percentiles of the fitted law over the {self.n_draws} converged refits")
        if self.n_failed:
            text += " (the failed ones are left out)"
        if self.n_distinct is not None and self.n_distinct < self.n_resamples:
            text += f", {self.n_distinct} distinct resamples"
        if self.at_bounds:
            text += (f"; the full-data fit is on a bound for {', '.join(self.at_bounds)}: "
                     "the intervals miss how far off such a fit can be")
        if self.method == "ar1":
            text += ("; assumes the law is right and each curve's log residuals a stationary "
                     "AR(1)")
        if self.method == "points":
            text += "; single points of a curve are correlated: too narrow"
        elif self.method == "curves" and self.n_curves is not None \
                and self.n_curves < MIN_CURVES:
            text += (f"; only {self.n_curves} curves "
                     f"({distinct_curve_resamples(self.n_curves):,} distinct resamples "
                     "possible): the ends are few values and cover less than nominal")
        return text

    @property
    def intervals(self) -> dict:
        """Percentile interval of every parameter at :attr:`confidence_level`."""
        low, high = self.percentile_ends(self.draws, self.confidence_level)
        return {n: (float(a), float(b)) for n, a, b in zip(self.law.param_names, low, high)}

    def interval(self, function, confidence_level: float | None = None):
        """Percentile interval of ``function(params)`` over the draws; ``params`` maps each
        name to an array of draws."""
        level = self.confidence_level if confidence_level is None else \
            check_confidence_level(confidence_level)
        if confidence_level is not None:  # the bootstrap warned about its own level
            self.warn_few_draws(level)
        values = np.asarray(function({n: self.draws[:, i]
                                      for i, n in enumerate(self.law.param_names)}), dtype=float)
        return self.percentile_ends(values, level)

    def warn_few_draws(self, level: float) -> None:
        """Warn (:class:`~scalinglaws.CurveResamplingWarning`) with :meth:`few_draws_note`
        when the draws are too few for ``level``."""
        note = self.few_draws_note(level)
        if note is not None:
            warnings.warn(f"curve bootstrap: {note}", CurveResamplingWarning,
                          stacklevel=user_stacklevel())

    def few_draws_note(self, level: float) -> str | None:
        """What is wrong with :attr:`n_draws` draws for an interval at ``level`` under
        :meth:`percentile_ends`' rule (None when they are enough): numpy's interpolated
        ends need :func:`~scalinglaws.uncertainty.draws_caveats.draws_needed` draws (151 at
        95%), the sieve's ``(B + 1) a`` ends ``1 / a - 1`` (39 at 95%)."""
        if self.method == "ar1":
            return order_statistic_ends_note(self.n_draws, level)
        return few_draws_note(self.n_draws, level)

    def percentile_ends(self, values, level: float):
        """Ends of the percentile interval at ``level`` of ``values`` (one row per draw;
        nan rows left out), as every interval over these draws takes them
        (:func:`~scalinglaws.analysis.curves.predict_curve`, ``predict_final``).

        The sieve's (``"ar1"``) are the ``(B + 1) a``-th and ``(B + 1)(1 - a)``-th
        ordered of ``B`` draws (``a = (1 - level) / 2``; Hyndman and Fan's type 6,
        interpolated between order statistics): if the truth sits among the estimate's
        draws as one more draw would, it falls below the ``k``-th of them with probability
        ``k / (B + 1)``, so these ends hold ``level`` of the bootstrap distribution on
        average for any ``B`` (Davison and Hinkley 1997, ch. 5, take the
        ``(R + 1) a``-th ordered replicate; Hall 1986). numpy's default interpolation puts
        them at order statistics ``(B - 1) a + 1`` and holds ``level (B - 1) / (B + 1)``
        (:func:`~scalinglaws.uncertainty.draws_caveats.draws_needed`): with 40 draws the
        Multi-Power Law's held-out final loss was covered 167 and 179 of 200 times at 90
        and 95% (that is, 86 and 90% of the distribution), with the ``(B + 1) a`` ends 178
        and 188 (README, **With independent noise**). The other methods keep numpy's
        interpolation, with which their figures were measured.
        """
        tail = (1 - level) / 2
        rule = "weibull" if self.method == "ar1" else "linear"
        return np.nanquantile(values, [tail, 1 - tail], axis=0, method=rule)


def residual_block_length(residuals, n: int, multiple: float = 4.0) -> int:
    """Block length for a curve of ``n`` points: ``multiple`` times the integrated
    autocorrelation time of its ``residuals`` (summed until the autocorrelation first turns
    negative), at least ``n**(1/3)`` and at most ``n // 4`` (a resample of fewer than 4
    blocks is half the curve twice, and its refit is not a draw of the fit's spread)."""
    r = np.asarray(residuals, dtype=float) - np.mean(residuals)
    variance = np.dot(r, r)
    tau = 1.0
    if variance > 0 and len(r) > 2:
        for lag in range(1, len(r) // 2):
            rho = np.dot(r[:-lag], r[lag:]) / variance
            if rho <= 0:
                break
            tau += 2 * rho
    return int(min(max(np.ceil(multiple * tau), np.ceil(n ** (1 / 3)), 1), max(n // 4, 1)))


def distinct_curve_resamples(n_curves: int) -> int:
    """Distinct resamples of ``n_curves`` whole curves drawn with replacement (multisets:
    C(2k - 1, k)).

    Examples
    --------
    >>> distinct_curve_resamples(3)
    10
    """
    from math import comb

    return comb(2 * n_curves - 1, n_curves)


def block_counts(n: int, block_length: int, n_resamples: int, rng) -> np.ndarray:
    """Multiplicity of each of ``n`` points in ``n_resamples`` moving-block resamples
    (blocks of ``block_length`` consecutive points, placed uniformly, until ``n``).

    Examples
    --------
    >>> import numpy as np
    >>> counts = block_counts(10, 5, 2, np.random.default_rng(0))
    >>> counts.sum(axis=1).tolist()
    [10.0, 10.0]
    """
    block_length = min(max(int(block_length), 1), n)
    n_blocks = int(np.ceil(n / block_length))
    starts = rng.integers(0, n - block_length + 1, size=(n_resamples, n_blocks))
    picks = (starts[:, :, None] + np.arange(block_length)[None, None, :]).reshape(n_resamples, -1)
    picks = picks[:, :n]
    counts = np.zeros((n_resamples, n))
    np.add.at(counts, (np.arange(n_resamples)[:, None], picks), 1.0)
    return counts


def _counts(curves: Curves, method, block_length, residuals, n_resamples, rng):
    runs = curves.frame["run_id"].to_numpy()
    counts = np.zeros((n_resamples, len(curves)))
    lengths = {}
    if method == "curves":
        picks = rng.integers(0, len(curves.runs), size=(n_resamples, len(curves.runs)))
        for j, run in enumerate(curves.runs):
            counts[:, runs == run] = (picks == j).sum(axis=1)[:, None]
        return counts, lengths
    for run in curves.runs:
        rows = np.flatnonzero(runs == run)
        if method == "points":
            picks = rng.integers(0, len(rows), size=(n_resamples, len(rows)))
            part = np.zeros((n_resamples, len(rows)))
            np.add.at(part, (np.arange(n_resamples)[:, None], picks), 1.0)
        else:
            length = block_length if block_length is not None else residual_block_length(
                residuals[rows] if residuals is not None else np.zeros(len(rows)), len(rows))
            lengths[run] = int(length)
            part = block_counts(len(rows), length, n_resamples, rng)
        counts[:, rows] = part
    return counts, lengths


def _relative_gradients(fitter, residuals, x, weights) -> np.ndarray:
    """Projected gradient of each row's objective relative to the magnitude of its terms."""
    r, jac = residuals(x)
    psi = weights * fitter.loss.psi(r)
    grad = np.einsum("kpn,kn->kp", jac, psi)
    gross = np.einsum("kpn,kn->kp", np.abs(jac), np.abs(psi)) + 1e-300
    tolerance = 1e-8 * (1 + np.abs(x))
    blocked = ((x <= fitter.lower + tolerance) & (grad > 0)) | (
        (x >= fitter.upper - tolerance) & (grad < 0))
    return np.max(np.where(blocked, 0.0, np.abs(grad)) / gross, axis=1)


def _refit(fitter, residuals, start, counts, max_iter):
    """Refit every resample (a row of point multiplicities) from the full-data optimum in
    one batch; a resample the batch leaves short of a stationary point is polished."""
    n = counts.shape[0]
    out = multistart_minimize(residuals, np.repeat(start, n, axis=0), fitter.loss,
                              fitter.lower, fitter.upper, max_iter=max_iter, prune_after=0,
                              weights=counts, groups=np.arange(n))
    x = np.array(out.x)
    finite = np.isfinite(out.fun)
    gradient = np.full(n, np.inf)
    if finite.any():
        gradient[finite] = _relative_gradients(fitter, residuals, x[finite], counts[finite])
    ok = finite & (gradient <= GRADIENT_TOLERANCE)
    for i in np.flatnonzero(~ok):
        # polish where the batch stopped, or from the full-data optimum if the batch ended on
        # a non-finite objective. (Polishing again from the optimum was tried on the
        # Multi-Power Law's failures and recovered none: their refits run along a ridge,
        # log C growing from 0.9 to 15-37 as beta and gamma follow, with no finite optimum
        # in reach; they are counted, announced and left out.)
        origin = x[i] if finite[i] else start[0]
        x[i], _, _, g = polish(residuals, origin, fitter.loss, fitter.lower, fitter.upper,
                               weights=counts[i])
        ok[i] = g <= GRADIENT_TOLERANCE
    return x, ok


def _sieve_targets(residuals, start, target, curves: Curves, n_resamples: int, rng):
    """Pseudo-curves of an AR(1) sieve bootstrap: the fitted curves times ``exp`` of log
    noise redrawn, curve by curve, from a bias-corrected AR(1) fit to each curve's residuals
    (:func:`~scalinglaws.uncertainty.run_noise.ar1_noise_draws`). Returns the targets,
    ``(n_resamples, n)``, and each curve's AR(1) coefficient."""
    from .run_noise import ar1_noise_draws

    r, jac = residuals(start)  # log fit - log loss at the optimum, and its Jacobian
    noise, design = -r[0], jac[0].T
    log_fit = np.log(target) + r[0]
    runs = curves.frame["run_id"].to_numpy()
    series = np.zeros((n_resamples, len(target)))
    coefficients = {}
    for run in curves.runs:
        rows = np.flatnonzero(runs == run)
        # the directions the law's refit can remove from this curve's residuals (its
        # parameters' derivatives there; a parameter the curve does not inform, e.g. an
        # LR-drop term on a constant-LR curve, adds none)
        u, s, _ = np.linalg.svd(design[rows], full_matrices=False)
        basis = u[:, s > 1e-10 * s[0]] if s.size and s[0] > 0 else np.ones((len(rows), 1))
        if len(rows) < basis.shape[1] + 3:
            raise InputError(f"method='ar1' needs at least {basis.shape[1] + 3} points per "
                             f"curve to estimate its noise; curve {run!r} has {len(rows)}: "
                             "use method='blocks'")
        draw = ar1_noise_draws(noise[rows], basis, n_resamples, studentize=False, rng=rng)
        series[:, rows] = draw.draws
        coefficients[run] = round(draw.coefficient, 6)
    return np.exp(log_fit[None, :] + series), coefficients


def bootstrap_curves(result: CurveFitResult, curves: Curves, n_resamples: int = 200, *,
                     method: str | None = None, block_length: int | None = None,
                     confidence_level: float = 0.95, rng=None, max_iter: int = 100,
                     progress: bool | None = None) -> CurveBootstrap:
    """Bootstrap a curve-law fit: redraw each curve's noise (AR(1) sieve) or resample
    blocks of points or whole curves, and refit each resample (module docstring).

    Parameters
    ----------
    result : CurveFitResult
        The full-data fit (its options are reused).
    curves : Curves
        The curves it was fitted on (checked against its data fingerprint).
    n_resamples : int
    method : {"ar1", "blocks", "curves", "points"}, optional
        ``"ar1"`` (the default): the fitted curves with their noise redrawn from an AR(1)
        fitted to each curve's residuals (needs a few more points per curve than the
        parameters it informs); ``"blocks"`` (the default when only ``block_length`` is
        given, and the default before): moving blocks of each curve's points;
        ``"curves"``: whole curves; ``"points"``: single points (too narrow, warns).
    block_length : int, optional
        Points per block of ``method="blocks"`` (default: per curve, from the residuals'
        autocorrelation).
    confidence_level : float
    rng : None, int or Generator
        The same seed gives the same draws.
    max_iter : int
        Iterations of the batched search per resample.
    progress : bool, optional
        tqdm bar over batches (default: in a terminal, above 200 resamples).
    """
    from .._progress import progress_bar as tqdm

    if not isinstance(result, CurveFitResult):
        raise InputError(f"`result` must be a CurveFitResult, got {type(result).__name__}")
    if not isinstance(curves, Curves):
        raise InputError(f"`curves` must be Curves, got {type(curves).__name__}")
    n_resamples = check_n_resamples(n_resamples)
    if block_length is not None:
        block_length = check_int("block_length", block_length, 1)
    if method is None:  # block_length alone still means the blocks it sizes, as before
        method = "ar1" if block_length is None else "blocks"
    method = check_choice("method", method, ("ar1", "blocks", "curves", "points"))
    if method == "ar1" and block_length is not None:
        raise InputError("`block_length` sizes the blocks of method='blocks'; method='ar1' "
                         "redraws whole curves and has none")
    level = check_confidence_level(confidence_level)
    seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    generator = check_rng("rng", rng)
    law = result.law
    sums = law.prepare(curves, quadrature=result.options.get("quadrature"))
    fingerprint = data_fingerprint(curves, result.options.get("quadrature") or {})
    if result.data_fingerprint and fingerprint != result.data_fingerprint:
        raise InputError("`curves` are not the curves `result` was fitted on (fingerprints "
                         "differ); pass the same curves, with the same schedules")
    if method == "curves" and len(curves.runs) < 2:
        raise InputError("resampling whole curves needs at least 2 curves")
    if method == "curves" and len(curves.runs) < MIN_CURVES:
        k = len(curves.runs)
        warnings.warn(f"curve bootstrap: resampling whole curves with only {k} curves "
                      f"({distinct_curve_resamples(k):,} distinct resamples possible): the "
                      "interval's ends are few values, often the full-data fit itself, and "
                      f"cover less than nominal (3 curves: 72% at 90% in a simulation); use "
                      f"method='ar1' (the default) or at least {MIN_CURVES} curves",
                      CurveResamplingWarning, stacklevel=2)
    if result.at_bounds:
        warnings.warn(f"curve bootstrap: the fit is on a bound for {', '.join(result.at_bounds)}"
                      "; every refit starts there, so the interval cannot show how far off "
                      "such a fit is (in a Multi-Power Law simulation such fits were biased "
                      "and their 90% intervals covered less often than the others)",
                      CurveResamplingWarning, stacklevel=2)
    if method == "points":
        warnings.warn("curve bootstrap: method='points' resamples single points, but the "
                      "points of a curve are correlated, so the interval is too narrow "
                      "(56% coverage at 90% nominal in a simulation with AR(1) noise); "
                      "for comparison only, use method='ar1' (the default)",
                      CurveResamplingWarning, stacklevel=2)
    if method == "ar1":
        counts, lengths = np.ones((n_resamples, len(curves))), {}
    else:
        counts, lengths = _counts(curves, method, block_length, result.residuals,
                                  n_resamples, generator)
    if result.options.get("weights") == "curve":  # keep the fit's per-point weights
        counts = counts * _weights("curve", curves)[None, :]
    elif result.options.get("weights") not in (None, "curve"):
        raise InputError("a fit with per-point weights cannot be bootstrapped here")
    options = {k: v for k, v in result.options.items()
               if k in ("loss", "delta", "fixed", "tied", "bounds")}
    fitter = LawFitter(law.bind(sums), space="log", fixed=result.fixed, tied=result.tied,
                       **{k: v for k, v in options.items() if k not in ("fixed", "tied")})
    free = [law.param_names.index(n) for n in fitter.free]
    start = law.to_internal(law.params_vector(result.params))[free][None, :]
    target = curves.frame["loss"].to_numpy(dtype=float)
    inputs = {"point": np.arange(sums.n_points, dtype=float)}
    per_batch = max(1, int(_NODE_ROWS // max(sums.n_nodes + sums.n_points, 1)))
    batches = [counts[i:i + per_batch] for i in range(0, n_resamples, per_batch)]
    show = (sys.stderr.isatty() and n_resamples > 200) if progress is None else bool(progress)
    residuals = fitter.array_residual_function(inputs, target)
    xs, oks, coefficients = [], [], {}
    if method == "ar1":
        targets, coefficients = _sieve_targets(residuals, start, target, curves, n_resamples,
                                               generator)
        # a pseudo-curve per resample: the engine's residual function holds one target,
        # so each resample is refitted on its own
        for k in tqdm(range(n_resamples), disable=not show, desc="curve bootstrap"):
            x, ok = _refit(fitter, fitter.array_residual_function(inputs, targets[k]), start,
                           counts[k:k + 1], max_iter)
            xs.append(x)
            oks.append(ok)
    else:
        for batch in tqdm(batches, disable=not show, desc="curve bootstrap", unit="batch"):
            x, ok = _refit(fitter, residuals, start, batch, max_iter)
            xs.append(x)
            oks.append(ok)
    x, ok = np.concatenate(xs), np.concatenate(oks)
    draws = law.to_public(fitter._expand(x[ok]))
    n_failed = int(np.sum(~ok))
    if n_failed:
        warnings.warn(f"curve bootstrap: {n_failed} of {n_resamples} resamples did not converge "
                      "and are left out of the intervals", ConvergenceWarning, stacklevel=2)
    boot = CurveBootstrap(law=law, point=dict(result.params), draws=draws,
                          n_resamples=n_resamples, n_failed=n_failed, method=method,
                          block_lengths=lengths, confidence_level=level, seed=seed,
                          n_distinct=n_resamples if method == "ar1" else len(np.unique(counts, axis=0)),
                          n_curves=len(curves.runs), at_bounds=tuple(result.at_bounds),
                          ar1_coefficients=coefficients)
    boot.warn_few_draws(level)
    return boot
