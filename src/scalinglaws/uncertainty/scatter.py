r"""Run-to-run scatter: how far a single new run lands from the law, in log loss.

Two runs of the same (N, D) with different seeds or data orders reach slightly
different losses, and a fitted law leaves residuals of the same size. A prediction
interval for a *new run* must include that scatter; a confidence interval for the
law itself must not.

The scatter is modelled on log loss as

.. math::

    \log L_{\text{run}} = \log f(x; \hat\theta) + \varepsilon,\qquad
    \operatorname{sd}(\varepsilon) = \sigma\, h(x),

with a variance function :math:`h` chosen by ``model``:

* ``"constant"``: :math:`h = 1`;
* ``"power"``: :math:`h = (x_{\text{axis}} / x_{\text{ref}})^{s}` (larger runs are
  often less noisy);
* ``"ratio"``: :math:`h = \exp\{c\,(\log(D/N) - m)^2\}`, :math:`c \ge 0`: runs far
  from the sweep's typical tokens per parameter :math:`e^m` (the ends of an IsoFLOP
  profile) scatter more around a Chinchilla law, which does not fit them as well.

The shape of :math:`h` is a least-squares regression of :math:`\log|r_i|` on its
feature (the residuals :math:`r_i` of the fit). The scale :math:`\sigma` is the
root-mean-square of the standardised residuals :math:`r_i / h_i`, corrected for the
:math:`p` fitted parameters (:math:`\sqrt{\sum r^2 / (n - p)}`), after setting aside
gross outliers (standardised residuals more than 5 robust standard deviations, 1.4826
MAD, from their median: a diverged run should not widen every interval). The second
moment, not the MAD, is what a prediction interval needs: residuals of scaling-law fits
are heavier-tailed than normal, and the MAD understates their spread (on Epoch's
Chinchilla runs by 40%).

When the runs have a column of seed labels, ``replicates=`` takes :math:`\sigma` instead
from the pooled within-replica spread of log loss at equal inputs.

**Checkpoints of one run** (``clusters=``: rows sharing a ``run_id``, or another column,
read by :func:`~.resampling.resolve_clusters`) share that run's error, so they are not
independent runs: a residual is :math:`z_{ij} = u_i + e_{ij}`, a run's deviation
:math:`u_i` shared by its rows plus each row's own noise :math:`e_{ij}`, and a new run's
loss scatters about the law by both, :math:`\sigma^2 = \sigma_u^2 + \sigma_e^2`. With
clusters, :math:`\sigma_e^2` is the pooled within-run variance
:math:`\sum_{ij} (z_{ij} - \bar z_i)^2 / (n - G)` of the :math:`n` kept rows of
:math:`G` runs, and :math:`\sigma_u^2 = \max(0, \sum_i \bar z_i^2 / (G - p) -
\sigma_e^2\, \overline{1/m_i})`, the spread of the run means (:math:`m_i` rows each)
less their share of the row noise, corrected for the :math:`p` fitted parameters in runs,
not rows; the degrees of freedom are :math:`G - p`. Counted as rows, the fit, which
follows a run's rows, hides part of the :math:`u_i` in its parameters while the
correction spreads :math:`p` over every row (on 200 simulated sweeps of 20 runs x 4
checkpoints, 1% per run and 0.2% per row, a new run scatters by 1.02%: rows gave a mean
0.96% on 75 degrees of freedom, whole runs 1.07% on 15; tests/uncertainty/
test_cluster_calibrate_coverage.py). The shape :math:`h` and the gross outliers are still
read row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._exceptions import InputError
from .._text import counted
from ..data.runs import Runs, as_runs
from ..fitting.outliers import SET_ASIDE, gross_outliers
from .resampling import resolve_clusters

__all__ = ["Scatter", "estimate_scatter", "log_residuals", "outlier_runs", "MODELS"]

MODELS = ("constant", "power", "ratio")
_AXES = ("C", "N", "D")


@dataclass(frozen=True)
class Scatter:
    """Scatter of single runs around the law, in natural-log loss. Frozen.

    Attributes
    ----------
    sigma : float
        Standard deviation of ``log L`` of one run where ``h = 1``.
    model : {"constant", "power", "ratio"}
        The variance function (module notes).
    coefficient : float
        ``s`` (power) or ``c`` (ratio); 0 for constant scatter.
    axis : {"C", "N", "D"}
        The input the power model scales with.
    reference : float
        ``x_ref`` of the power model (the geometric mean of the runs' axis values).
    ratio_center : float
        ``m`` of the ratio model (mean log tokens per parameter of the runs).
    dof : float
        Degrees of freedom of ``sigma``.
    source : {"residuals", "replicates"}
        Where ``sigma`` came from.
    n_runs, n_outliers : int
        Runs used (whole runs with ``clusters``, else rows), and gross outliers set aside
        (rows).
    clusters : str or None
        The column whose rows are one run (``sigma`` is then a new run's scatter and
        ``dof`` counts runs, module notes); None when every row is a run.
    """

    sigma: float
    model: str = "constant"
    coefficient: float = 0.0
    axis: str = "C"
    reference: float = 1.0
    ratio_center: float = 0.0
    dof: float = np.inf
    source: str = "residuals"
    n_runs: int = 0
    n_outliers: int = 0
    clusters: str | None = None

    def shape(self, inputs) -> np.ndarray:
        """The variance function ``h`` at ``inputs`` (a mapping of arrays)."""
        if self.model == "constant" or self.coefficient == 0.0:
            first = next(iter(inputs.values())) if inputs else 0.0
            return np.ones(np.shape(first))
        if self.model == "power":
            if self.axis not in inputs:
                raise InputError(f"the scatter scales with {self.axis}; `inputs` must include it")
            return (np.asarray(inputs[self.axis], dtype=float) / self.reference) ** self.coefficient
        if "N" not in inputs or "D" not in inputs:
            raise InputError("the scatter depends on tokens per parameter; `inputs` must "
                             "include N and D")
        log_ratio = np.log(np.asarray(inputs["D"], dtype=float) / np.asarray(inputs["N"], dtype=float))
        return np.exp(self.coefficient * (log_ratio - self.ratio_center) ** 2)

    def sd(self, inputs) -> np.ndarray:
        """Scatter standard deviation (log loss) at ``inputs``."""
        return self.sigma * self.shape(inputs)

    def to_dict(self) -> dict:
        """Plain-type record (for JSON)."""
        return {"sigma": float(self.sigma), "model": self.model,
                "coefficient": float(self.coefficient), "axis": self.axis,
                "reference": float(self.reference), "ratio_center": float(self.ratio_center),
                "dof": None if not np.isfinite(self.dof) else float(self.dof),
                "source": self.source, "n_runs": int(self.n_runs),
                "n_outliers": int(self.n_outliers),
                # only when set: a file of runs without checkpoints is what it was
                **({} if self.clusters is None else {"clusters": self.clusters})}


def _axis_values(runs: Runs, axis: str) -> np.ndarray:
    if axis not in _AXES:
        raise InputError(f"`axis` must be one of {', '.join(_AXES)}, got {axis!r}")
    if axis not in runs.columns:
        raise InputError(f"`axis` {axis!r} is not a column of the runs")
    return np.asarray(runs.frame[axis], dtype=float)


def log_residuals(result, runs: Runs) -> np.ndarray:
    """``log f(x_i) - log L_i`` of the fitted law at every run."""
    inputs = runs.inputs(result.form.inputs)
    with np.errstate(all="ignore"):
        predicted = np.asarray(result.predict(**inputs), dtype=float)
    return np.log(predicted) - np.log(runs.loss)


def _gross_outliers(z: np.ndarray) -> np.ndarray:
    """Which of ``z`` lie more than 5 robust standard deviations from the median (the
    rule and its threshold live in :mod:`scalinglaws.fitting.outliers`)."""
    return gross_outliers(z, SET_ASIDE)


def outlier_runs(result, runs, scatter: Scatter) -> np.ndarray:
    """Which runs ``scatter`` set aside as gross outliers of ``result`` (none when it
    came from replicas): the rollout of a calibration leaves the same runs out."""
    runs = as_runs(runs)
    if scatter.source != "residuals" or not scatter.n_outliers:
        return np.zeros(len(runs), bool)
    shape = scatter.shape({c: np.asarray(runs.frame[c], float) for c in _AXES if c in runs.columns})
    return _gross_outliers(log_residuals(result, runs) / shape)


def _trimmed_rms(z: np.ndarray, n_params: int) -> tuple[float, int, int]:
    """RMS of ``z`` over the non-outliers, with ``n - p`` in the denominator."""
    keep = ~_gross_outliers(z)
    dof = int(keep.sum()) - n_params
    if dof < 1:
        raise InputError(f"{int(keep.sum())} usable residuals leave no degrees of freedom for "
                         f"{n_params} fitted parameters: the scatter cannot be estimated")
    return float(np.sqrt(np.sum(z[keep] ** 2) / dof)), dof, int(z.size - keep.sum())


def estimate_scatter(result, runs, *, model: str = "constant", axis: str = "C",
                     replicates: str | None = None, clusters: str | None = None) -> Scatter:
    """Estimate the run-to-run scatter of log loss around a fitted law.

    Parameters
    ----------
    result : FitResult
        The fitted law.
    runs : Runs, DataFrame or path
        The runs it was fitted on.
    model : {"constant", "power", "ratio"}
        The variance function (module notes).
    axis : {"C", "N", "D"}
        The column the power model scales with.
    replicates : str, optional
        A column labelling seed replicas (e.g. ``"seed"``). Runs with equal inputs and
        different labels are replicas; ``sigma`` is then their pooled within-group
        standard deviation of log loss (constant model; the residuals are not used).
    clusters : "auto", str or None
        Rows that are checkpoints of one run (:func:`~.resampling.resolve_clusters`:
        ``"auto"`` is ``run_id`` when it repeats): ``sigma`` is then a new run's scatter,
        run deviation plus row noise, with degrees of freedom counted in runs (module
        notes). None (default): every row is a run. With ``replicates``, ``sigma`` is the
        replicas' spread all the same; the clusters only count the runs (``n_runs``).

    Returns
    -------
    Scatter

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep(noise=0.01, rng=0)
    >>> scatter = estimate_scatter(sl.fit(runs), runs)
    >>> 0.008 < scatter.sigma < 0.012    # the sweep's 1% log-normal noise
    True
    """
    runs = as_runs(runs)
    if model not in MODELS:
        raise InputError(f"`model` must be one of {', '.join(MODELS)}, got {model!r}")
    x = _axis_values(runs, axis)
    reference = float(np.exp(np.mean(np.log(x))))
    column, codes = resolve_clusters(runs, clusters)
    if replicates is not None:
        sigma, dof = _replica_spread(runs, result.form.inputs, replicates)
        # runs counted as everywhere: whole runs (the clusters) when rows share a run
        return Scatter(sigma=sigma, axis=axis, reference=reference, dof=dof,
                       source="replicates", clusters=column,
                       n_runs=len(runs) if codes is None else int(codes.max()) + 1)
    r = log_residuals(result, runs)
    n, p = r.size, len(result.free_params)
    if n <= p:
        raise InputError(f"{counted(n, 'run')} for {p} fitted parameters: no residual degrees of "
                         "freedom, so the scatter cannot be estimated")
    coefficient, center = 0.0, 0.0
    if model == "power":
        feature = np.log(x / reference)
    elif model == "ratio":
        if not {"N", "D"} <= set(runs.columns):
            raise InputError("model='ratio' needs N and D columns")
        log_ratio = np.log(np.asarray(runs.frame["D"], float) / np.asarray(runs.frame["N"], float))
        center = float(np.mean(log_ratio))
        feature = (log_ratio - center) ** 2
    if model != "constant":
        if np.ptp(feature) == 0:
            raise InputError(f"every run has the same {axis if model == 'power' else 'D/N'}: "
                             f"the {model!r} scatter model cannot be fitted")
        keep = np.abs(r) > 0  # exact fits carry no information on the shape
        coefficient = float(np.polyfit(feature[keep], np.log(np.abs(r[keep])), 1)[0])
        if model == "ratio":
            coefficient = max(coefficient, 0.0)  # never narrower away from the sweep's centre
    scatter = Scatter(sigma=1.0, model=model, coefficient=coefficient, axis=axis,
                      reference=reference, ratio_center=center)
    shape = scatter.shape({c: np.asarray(runs.frame[c], float) for c in _AXES if c in runs.columns})
    if codes is None:
        sigma, dof, outliers = _trimmed_rms(r / shape, p)
    else:
        sigma, dof, outliers, n = _run_and_row_spread(r / shape, codes, p)
    return Scatter(sigma=sigma, model=model, coefficient=coefficient, axis=axis,
                   reference=reference, ratio_center=center, dof=float(dof),
                   source="residuals", n_runs=n, n_outliers=outliers, clusters=column)


def _run_and_row_spread(z: np.ndarray, codes: np.ndarray,
                        n_params: int) -> tuple[float, int, int, int]:
    """``(sigma, dof, outliers, runs)``: a new run's scatter ``sqrt(sigma_u^2 +
    sigma_e^2)`` from the standardised residuals ``z`` of rows grouped by ``codes`` (one
    number per run), over the non-outlier rows, with ``G - p`` degrees of freedom (module
    notes)."""
    keep = ~_gross_outliers(z)
    z, codes = z[keep], np.unique(codes[keep], return_inverse=True)[1].ravel()
    n_runs = int(codes.max()) + 1 if codes.size else 0
    dof = n_runs - n_params
    if dof < 1:
        raise InputError(f"{counted(n_runs, 'run')} (whole runs: rows sharing a run id are one "
                         "run) for "
                         f"{n_params} fitted parameters: no degrees of freedom, so the scatter "
                         "cannot be estimated")
    rows = np.bincount(codes, minlength=n_runs).astype(float)
    means = np.bincount(codes, weights=z, minlength=n_runs) / rows
    within_dof = z.size - n_runs
    row_variance = (float(np.sum((z - means[codes]) ** 2)) / within_dof if within_dof > 0
                    else 0.0)
    run_variance = max(0.0, float(np.sum(means**2)) / dof - row_variance * float(np.mean(1 / rows)))
    return (float(np.sqrt(run_variance + row_variance)), dof, int(keep.size - keep.sum()),
            n_runs)


def _replica_spread(runs: Runs, inputs: tuple, column: str) -> tuple[float, float]:
    """Pooled within-replica standard deviation of log loss, and its degrees of freedom."""
    if column not in runs.columns:
        raise InputError(f"`replicates` names column {column!r}, which the runs do not have; "
                         f"columns: {list(runs.columns)}")
    frame = runs.frame[list(inputs)].copy()
    frame["log_loss"] = np.log(runs.loss)
    keys = frame[list(inputs)].round(12)  # equal inputs up to float noise
    groups = frame.groupby([keys[c] for c in inputs])["log_loss"]
    sizes = groups.size()
    squares = groups.apply(lambda v: float(np.sum((v - v.mean()) ** 2)))
    dof = float((sizes - 1).sum())
    if dof < 1:
        raise InputError(f"no two runs share the same inputs ({', '.join(inputs)}) with "
                         f"different {column!r}: there are no replicas to estimate the scatter")
    return float(np.sqrt(squares.sum() / dof)), dof
