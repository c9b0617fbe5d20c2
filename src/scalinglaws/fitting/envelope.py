r"""Hoffmann et al. (2022) Approach 1: the compute-optimal size from the minimum over training curves.

Every row is a checkpoint of a training run. Each run's loss curve is interpolated
against ``ln C``, the lowest loss across runs at every compute value is the envelope,
the size of the run attaining it is ``N(C)``, and ``N ∝ C^a``, ``D ∝ C^b`` are fitted
through the envelope points (Hoffmann et al. Sec 3.1, Fig 2, App D.1).
:func:`envelope_fit` returns a frozen :class:`EnvelopeResult`. Approach 2 (IsoFLOP
profiles) is :func:`scalinglaws.isoflop_fit`; training curves from a known law for
tests are :func:`scalinglaws.laws.synthetic.synthetic_training_curves`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._draws import check_n_resamples
from .._exceptions import InputError, ScalingLawsWarning
from .._files import atomic_write, check_output_path, json_text
from .._text import named_list
from .._validation import FrozenOnUnpickle
from .._validation import (check_bool, check_confidence_level, check_int, check_positive,
                           check_rng, seed_of, to_plain)
from .._version import __version__
from ..data.run_ids import runs_named_by_caller
from ..data.runs import as_runs
from ._budgets import EXACT_FLOPS_RTOL
from ._optima import OptimaResult, loglog_regression, resampled_intervals

__all__ = ["DOCUMENT_KIND", "SCHEMA_VERSION", "EnvelopeResult", "envelope_fit"]

#: ``kind`` and ``schema_version`` of :meth:`EnvelopeResult.to_dict` (read:
#: outputs.io.envelope); ``kind`` is what ``scalinglaws envelope --out`` always named it.
#: 2: ``flops_per_token`` is null, and ``flops_per_token_range`` gives C/(N D) along the
#: envelope, when C is the table's own FLOP column (``flop_model`` "runs"; 1 wrote the
#: runs' unused k there)
DOCUMENT_KIND, SCHEMA_VERSION = "scalinglaws.envelope", 2


@dataclass(frozen=True, eq=False, kw_only=True)
class EnvelopeResult(OptimaResult, FrozenOnUnpickle):
    r"""Hoffmann et al. (2022) Approach 1: the loss-compute envelope and its power laws. Frozen.

    Attributes
    ----------
    envelope : pandas.DataFrame
        One row per grid compute value: ``C``, ``loss`` (the lowest
        interpolated loss of any run at C), ``N`` (size of the run attaining
        it), ``D`` (that run's tokens at C: ``C/(k N)`` when the runs satisfy
        ``C = k N D``, else interpolated from its own checkpoints), ``run``
        (its run id), ``n_covering`` (runs whose checkpoints span C) and
        ``used`` (entered the regression: with ``bracket``, some run reaching C
        is smaller and some larger than N). A copy on every access.
    a, b, a_interval, b_interval, a_se, b_se, N_coef, D_coef, N_coef_interval, D_coef_interval
        As in :class:`~scalinglaws.fitting.isoflop.IsoFLOPResult`, from OLS over
        the used envelope points. These t intervals treat the grid points as
        independent, which they are not (see :func:`envelope_fit`): they are far
        too narrow.
    a_bootstrap_interval, b_bootstrap_interval : tuple of float or None
        Percentile intervals from resampling whole runs (``n_resamples > 0``).
    a_bootstrap, b_bootstrap : numpy.ndarray or None
        The exponents of every resample (read-only; NaN where a resample's
        envelope had fewer than two sizes).
    N_line_bootstrap, D_line_bootstrap : numpy.ndarray or None
        ``(n_resamples, 2)``: each resample's line (intercept, slope) of ln N* and
        ln D* on ln C, read-only; :meth:`predict_optimal` takes its percentile
        interval from them.
    n_points_used : int
        Envelope points in the regression.
    n_runs, n_sizes, n_checkpoints : int
        Training runs, distinct sizes and rows (checkpoints) read.
    confidence_level, options, regression
        As in :class:`~scalinglaws.fitting.isoflop.IsoFLOPResult`.
    flops_per_token : float or None
        ``k`` of the runs (``C = k N D``); None when C is the table's own FLOP column
        (``flop_model`` ``"runs"``): no one k made it, and :attr:`flops_per_token_range`
        says what C/(N D) is along the envelope.
    flop_model : str
        How ``D`` was obtained: ``"C = k N D"`` or ``"runs"`` (each run's own
        checkpoints, when the logged C is not ``k N D``).
    """

    _envelope: pd.DataFrame = field(repr=False)
    n_points_used: int
    n_runs: int
    n_sizes: int
    n_checkpoints: int
    flop_model: str = "C = k N D"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "_envelope", self._envelope.copy())

    @property
    def envelope(self) -> pd.DataFrame:
        """The envelope table (a copy)."""
        return self._envelope.copy()

    def to_frame(self) -> pd.DataFrame:
        """A copy of the envelope table."""
        return self._envelope.copy()

    @property
    def flops_per_token_range(self) -> tuple[float, float] | None:
        """``(low, high)`` of C/(N D) over the envelope points a run attains when C is the
        table's own FLOP column (``flop_model`` ``"runs"``: not ``k N D`` for any one k,
        e.g. FLOPs that count attention), else None (``C = k N D``, k
        :attr:`flops_per_token`). :meth:`to_dict` and :meth:`predict_optimal`'s ``attrs``
        report it beside a null ``flops_per_token``."""
        if self.flop_model != "runs":
            return None
        env = self._envelope.dropna(subset=["N", "D"])
        ratio = (env["C"] / (env["N"] * env["D"])).to_numpy(float)
        return float(ratio.min()), float(ratio.max())

    def sizes(self) -> pd.DataFrame:
        """Per size on the envelope: the compute range where it is the best run.

        Columns ``N``, ``C_from``, ``C_to``, ``n_points`` (envelope points it
        attains) and ``n_used`` (of those, points in the regression).
        """
        env = self._envelope.dropna(subset=["N"])
        grouped = env.groupby("N", sort=True)
        return pd.DataFrame({"C_from": grouped["C"].min(), "C_to": grouped["C"].max(),
                             "n_points": grouped.size(), "n_used": grouped["used"].sum()}
                            ).reset_index()

    def to_dict(self) -> dict:
        """Every field as plain types (NaN as None); ``envelope`` as a dict of columns: the
        document :meth:`save` writes, which ``outputs.io.envelope`` checks and reads."""
        doc = {
            "kind": DOCUMENT_KIND,
            "schema_version": SCHEMA_VERSION,
            "package_version": __version__,
            "approach": "envelope",
            **self._scalar_dict(),
            "n_points_used": self.n_points_used, "n_runs": self.n_runs,
            "n_sizes": self.n_sizes, "n_checkpoints": self.n_checkpoints,
            "flop_model": self.flop_model,
            "envelope": {c: self._envelope[c].tolist() for c in self._envelope.columns},
        }
        return to_plain(doc)

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON text (``kwargs`` go to :func:`json.dumps`)."""
        return json_text(self.to_dict(), what="the envelope result", **kwargs)

    def save(self, path, *, force: bool = False) -> None:
        """Write :meth:`to_dict` to ``path`` as JSON, atomically (read back by
        ``scalinglaws.load_envelope``); an existing file that is not an Approach 1 document
        (``scalinglaws envelope --out`` writes the same kind) is replaced only with
        ``force``."""
        text = self.to_json() + "\n"
        target = check_output_path(path, kind="json", force=force, argument="`path`",
                                   document=DOCUMENT_KIND)
        atomic_write(target, text)

    def summary(self) -> str:
        """A readable report: the sizes along the envelope and the fitted exponents."""
        used = self._envelope.loc[self._envelope["used"], "C"]
        lines = [
            "Minimum over training curves (Hoffmann et al. 2022, Approach 1)",
            f"runs       {self.n_runs} ({self.n_sizes} sizes, {self.n_checkpoints} checkpoints)",
            (f"envelope   {len(self._envelope)} log-spaced compute values, "
             f"{self.n_points_used} used (C {used.min():.3g}-{used.max():.3g})"),
            "regression OLS of ln N on ln C over the envelope points (dependent points: the "
            "t intervals are too narrow" + ("; see the bootstrap intervals)"
                                           if self.a_bootstrap_interval is not None else ")"),
            "", f"{'N':>10} {'C from':>10} {'C to':>10} {'points':>7} {'used':>5}",
        ]
        for row in self.sizes().itertuples():
            lines.append(f"{row.N:>10.4g} {row.C_from:>10.3g} {row.C_to:>10.3g} "
                         f"{row.n_points:>7d} {row.n_used:>5d}")
        return "\n".join(lines + ["", *self._scalar_lines()])


def _envelope(matrix: np.ndarray, sizes: np.ndarray, rows: np.ndarray, bracket: bool):
    """Lower envelope of the ``rows`` of ``matrix`` (runs x grid).

    Returns (loss, run index, N, used mask) per grid point; NaN / -1 where no
    selected run covers the point. With ``bracket`` a point is used only if some
    run reaching that compute is smaller, and some larger, than the one attaining
    the envelope.
    """
    sub = matrix[rows]
    finite = np.isfinite(sub)
    covered = finite.any(axis=0)
    best = np.argmin(np.where(finite, sub, np.inf), axis=0)
    run = np.where(covered, rows[best], -1)
    loss = np.where(covered, sub[best, np.arange(sub.shape[1])], np.nan)
    n = np.where(covered, sizes[np.maximum(run, 0)], np.nan)
    used = covered.copy()
    if bracket:
        reach = sizes[rows][:, None]
        smallest = np.where(finite, reach, np.inf).min(axis=0)
        largest = np.where(finite, reach, -np.inf).max(axis=0)
        used &= (n > smallest) & (n < largest)
    return loss, run, n, used


def _log_tokens(grid, run, n, log_k, log_tokens_matrix):
    """ln D of the envelope points: ``ln C - ln k - ln N`` when ``log_k`` is given (the
    runs satisfy C = k N D), else the attaining run's own ln D interpolated at ln C."""
    if log_k is not None:
        return grid - log_k - np.log(n)
    columns = np.arange(len(grid))
    return np.where(run >= 0, log_tokens_matrix[np.maximum(run, 0), columns], np.nan)


def envelope_fit(runs: Any, *, run_column: str = "run_id", n_points: int = 1500,
                 bracket: bool = True, n_resamples: int = 0, rng=None,
                 confidence_level: float = 0.95,
                 flops_per_token: float | None = None) -> EnvelopeResult:
    r"""Hoffmann et al. (2022) Approach 1: fit N_opt ∝ C^a from the minimum over training curves.

    Every row is a checkpoint of a training run: its run id, the run's size
    ``N``, the tokens seen so far ``D`` and the loss there, so compute so far
    is ``C = k N D`` (or the ``C`` column when given). Following Hoffmann et
    al. (Sec 3.1, Fig 2; App D.1):

    1. each run's loss curve is linearly interpolated against ``ln C`` onto
       ``n_points`` log-spaced compute values spanning all checkpoints (a run
       contributes only between its first and last checkpoint: no
       extrapolation);
    2. at every grid value the lowest loss across runs is the envelope, and
       the size of the run attaining it is ``N(C)``, with ``D(C)`` its tokens
       there (``C/(k N)`` when the runs satisfy ``C = k N D``; otherwise, e.g.
       for logged FLOPs that include attention, the run's own ``ln D``
       interpolated against ``ln C``: see ``flop_model`` in the result);
    3. ``ln N = ln G_N + a ln C`` and ``ln D = ln G_D + b ln C`` are fitted by
       OLS (statsmodels) over the envelope points (``b = 1 - a`` when
       ``C = k N D``).

    Parameters
    ----------
    runs : Runs, DataFrame, dict or path
        Checkpoint rows with ``N``, ``loss``, tokens ``D`` (or ``C``) and the
        run id column.
    run_column : str
        Column identifying the run of each checkpoint (``N`` must be constant
        within a run).
    n_points : int
        Log-spaced compute values of the envelope (1,500 as Hoffmann et al.).
    bracket : bool
        Use only envelope points whose size is bracketed (default): some run
        that reaches that compute is smaller, and some larger, than the run
        attaining the envelope. Elsewhere the envelope is pinned to the
        smallest or largest size available there (at the lowest compute, say,
        only the early checkpoints of a few runs exist), which says nothing
        about the optimum; this is Approach 2's edge rule applied per compute.
    n_resamples : int
        Bootstrap over runs: resample the runs with replacement this many
        times, rebuild the envelope and refit, giving percentile intervals
        ``a_bootstrap_interval`` and ``b_bootstrap_interval``. 0 (default) for none,
        else at least 2, as :func:`~scalinglaws.bootstrap`; fewer draws than the level
        needs (151 at 95%) are warned about as the bootstrap's are
        (:class:`~scalinglaws.BootstrapResamplingWarning`).
    rng : None, int or numpy.random.Generator
        Randomness of the bootstrap; an integer seed is recorded as ``options["seed"]``
        (None otherwise), as :func:`~scalinglaws.isoflop_fit` records it.
    confidence_level : float
        Two-sided level of every interval.
    flops_per_token : float, optional
        ``k``, for loading ``runs`` and ``D = C/(k N)``; default that of the runs.

    Returns
    -------
    EnvelopeResult

    Raises
    ------
    InputError
        For a bad argument, a missing run column, a run whose ``N`` changes, or
        an envelope attained by fewer than two sizes inside the edges.

    Warns
    -----
    ScalingLawsWarning
        When runs with a single checkpoint are skipped (they cannot be
        interpolated).

    Notes
    -----
    *Dependence.* The envelope's N is a step function of C (one step per
    trained size) evaluated at ~1,500 points, and neighbouring points share
    the same runs. OLS treats them as 1,500 independent observations, so its
    intervals understate the uncertainty by roughly the square root of the
    points per step; they are reported because they are what a naive fit
    gives, but the bootstrap over runs (``n_resamples``) is the honest
    interval. Hoffmann et al. bootstrap 80% subsamples of the runs for Table 2.

    *Discreteness.* With sizes spaced by a factor r the envelope N is off by up
    to a factor sqrt(r) from the continuous optimum; the regression through the
    staircase recovers the exponent when several steps are used.

    References
    ----------
    Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
    Sec 3.1, Fig 2, Table 2 (a = 0.50, b = 0.50), App D.1.

    Examples
    --------
    >>> from scalinglaws.laws.synthetic import synthetic_training_curves
    >>> result = envelope_fit(synthetic_training_curves(noise=0.0))
    >>> round(result.a, 3)  # the law's 0.513 less the staircase of 12 sizes (Notes)
    0.502
    """
    with runs_named_by_caller():  # run_column names the runs, whatever the loader reads
        runs = as_runs(runs) if flops_per_token is None else \
            as_runs(runs, flops_per_token=check_positive("flops_per_token", flops_per_token))
    if not isinstance(run_column, str) or run_column not in runs.frame.columns:
        raise InputError(f"`run_column`: no column {run_column!r} identifying the run of each "
                         f"checkpoint; columns: {runs.columns}")
    n_points = check_int("n_points", n_points, 10)
    bracket = check_bool("bracket", bracket)
    n_resamples = check_n_resamples(n_resamples, none=True)  # the bootstrap's minimum
    level = check_confidence_level(confidence_level)
    generator = check_rng("rng", rng)
    k = runs.flops_per_token
    runs.labels(run_column, "run_column")
    N, C, L = runs.N, runs.C, runs.loss
    exact = runs.compute_mismatch() <= EXACT_FLOPS_RTOL
    log_c = np.log(C)
    log_d_all = None if exact else np.log(runs.D)
    grid = np.linspace(log_c.min(), log_c.max(), n_points)
    curves, token_curves, sizes, names, single = [], [], [], [], []
    for key, index in runs.frame.groupby(run_column, sort=True).indices.items():
        key = key.item() if isinstance(key, np.generic) else key
        n_run = N[index]
        if not np.all(n_run == n_run[0]):
            raise InputError(f"`run_column`: run {key!r} has several sizes N "
                             f"({n_run.min():.4g}-{n_run.max():.4g}); column {run_column!r} must "
                             "identify one training run")
        order = np.argsort(log_c[index], kind="stable")
        x, y = log_c[index][order], L[index][order]
        if np.unique(x).size < 2:
            single.append(key)
            continue
        x, first = np.unique(x, return_index=True)  # repeated C: keep the first checkpoint
        curves.append(np.interp(grid, x, y[first], left=np.nan, right=np.nan))
        if not exact:
            tokens = log_d_all[index][order][first]
            token_curves.append(np.interp(grid, x, tokens, left=np.nan, right=np.nan))
        sizes.append(n_run[0])
        names.append(key)
    if single:
        warnings.warn(f"envelope_fit: skipped {len(single)} run(s) with a single checkpoint "
                      f"(cannot interpolate): {named_list([repr(run) for run in single])}",
                      ScalingLawsWarning, stacklevel=2)
    if len(curves) < 2:
        raise InputError(f"envelope_fit needs at least two runs with two or more checkpoints, "
                         f"found {len(curves)}")
    matrix, sizes = np.vstack(curves), np.asarray(sizes, float)
    log_k = math.log(k) if exact else None
    token_matrix = None if exact else np.vstack(token_curves)
    all_rows = np.arange(len(sizes))
    loss, run, n_env, used = _envelope(matrix, sizes, all_rows, bracket)
    log_d_env = _log_tokens(grid, run, n_env, log_k, token_matrix)
    c_grid = np.exp(grid)
    covering = np.isfinite(matrix).sum(axis=0)
    d_env = c_grid / (k * n_env) if exact else np.exp(log_d_env)
    table = pd.DataFrame({"C": c_grid, "loss": loss, "N": n_env, "D": d_env,
                          "run": [names[i] if i >= 0 else None for i in run],
                          "n_covering": covering, "used": used})
    on_envelope = np.unique(n_env[used])
    if on_envelope.size < 2:
        raise InputError(
            f"envelope_fit: the bracketed envelope is attained by "
            f"{on_envelope.size} size(s); at least two are needed for a slope (train more sizes, "
            "longer runs, or pass bracket=False)")
    log_cu = grid[used]
    reg_n = loglog_regression(log_cu, np.log(n_env[used]), None, level)
    log_d_used = np.log(c_grid[used] / (k * n_env[used])) if exact else log_d_env[used]
    reg_d = loglog_regression(log_cu, log_d_used, None, level)

    a_draws = b_draws = a_boot = b_boot = n_lines = d_lines = None
    if n_resamples:
        # each resample's lines (intercept, slope) of ln N* and ln D* on ln C
        n_lines, d_lines = np.full((n_resamples, 2), np.nan), np.full((n_resamples, 2), np.nan)
        for r in range(n_resamples):
            rows = np.unique(generator.integers(0, len(sizes), len(sizes)))
            _, run_r, n_r, used_r = _envelope(matrix, sizes, rows, bracket)
            if np.unique(n_r[used_r]).size >= 2:
                x = grid[used_r]
                n_lines[r] = np.polyfit(x, np.log(n_r[used_r]), 1)[::-1]
                # exact: ln D* = ln C - ln k - ln N*
                d_lines[r] = ((-log_k - n_lines[r, 0], 1.0 - n_lines[r, 1]) if exact else
                              np.polyfit(x, _log_tokens(grid, run_r, n_r, log_k,
                                                        token_matrix)[used_r], 1)[::-1])
        a_draws, b_draws = n_lines[:, 1].copy(), d_lines[:, 1].copy()
        a_boot, b_boot = resampled_intervals(a_draws, b_draws, level, "envelope_fit")

    options = {"run_column": run_column, "n_points": n_points,
               "bracket": bracket, "n_resamples": n_resamples,
               "interpolation": "linear loss against ln C",
               "seed": seed_of(rng)}  # as isoflop_fit records it: None for no integer seed
    return EnvelopeResult(
        _envelope=table, a=reg_n["exponent"], a_interval=reg_n["exponent_interval"],
        a_se=reg_n["exponent_se"], b=reg_d["exponent"], b_interval=reg_d["exponent_interval"],
        b_se=reg_d["exponent_se"], N_coef=reg_n["coef"], N_coef_interval=reg_n["coef_interval"],
        D_coef=reg_d["coef"], D_coef_interval=reg_d["coef_interval"],
        n_points_used=int(used.sum()), n_runs=len(sizes), n_sizes=int(np.unique(sizes).size),
        n_checkpoints=len(runs), confidence_level=level,
        flops_per_token=k if exact else None,  # the table's own C: no one k made it
        options=options,
        regression={"N": reg_n, "D": reg_d}, a_bootstrap_interval=a_boot,
        b_bootstrap_interval=b_boot, a_bootstrap=a_draws, b_bootstrap=b_draws,
        N_line_bootstrap=n_lines, D_line_bootstrap=d_lines,
        flop_model="C = k N D" if exact else "runs")
