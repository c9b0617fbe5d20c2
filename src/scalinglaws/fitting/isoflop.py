r"""Hoffmann et al. (2022) Approach 2: compute-optimal allocation from IsoFLOP profiles.

For every compute budget the runs trace an IsoFLOP profile (loss against model size at
fixed compute). A curve through each profile gives the budget's optimal size ``N*``,
its tokens ``D*`` and loss, and power laws are fitted through the optima:

.. math::

    N_{opt}(C) = G_N\, C^{a}, \qquad D_{opt}(C) = G_D\, C^{b}

(Hoffmann et al. 2022, Sec 3.2 and Table 2), instead of fitting a law ``L(N, D)`` and
differentiating it (Approach 3, :func:`scalinglaws.fit` then
:func:`scalinglaws.compute_optimal`).

=====================================  ======================================================
:func:`isoflop_fit`                    fit the profiles and the power laws; with
                                       ``groups=`` one analysis per group
:class:`IsoFLOPResult`                 the frozen result (per-budget table, exponents,
                                       ``predict_optimal``)
:class:`GroupedIsoFLOPResult`          per-group results and a table of their exponents
                                       (:mod:`scalinglaws.fitting.isoflop_groups`)
=====================================  ======================================================

The pieces live beside this module: the curve through one profile in ``_profile``,
budgets and the tokens of an optimum in ``_budgets``, the log-log regression shared with
Approach 1 in ``_optima``. Approach 1 (minimum over training curves) is
:mod:`scalinglaws.fitting.envelope`; its names (:func:`envelope_fit`,
:class:`EnvelopeResult`) and :func:`synthetic_training_curves` (now in
:mod:`scalinglaws.laws.synthetic`) are re-exported here so that
``from scalinglaws.isoflop import isoflop_fit, envelope_fit`` keeps working.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import InputError, ScalingLawsWarning, user_stacklevel
from .._files import atomic_write, check_output_path, json_text
from .._text import counted
from .._validation import FrozenOnUnpickle
from .._validation import check_confidence_level, check_positive, check_rng, seed_of, to_plain
from .._version import __version__
from ..data.runs import Runs, as_runs
from ..laws.synthetic import DEFAULT_CURVE_SIZES, DEFAULT_HORIZONS, synthetic_training_curves
from ._budgets import BUDGET_RTOL, TokenModel, group_budgets
from ._isoflop_text import isoflop_summary, merged
from ._optima import (OptimaResult, bootstrap_lines, frozen_array, loglog_regression,
                      minima_line_error, resampled_intervals)
from ._profile import (CURVES, MISFIT_RESIDUAL_SD, check_profile_options, fit_profile,
                       warn_misfits)
from .envelope import EnvelopeResult, envelope_fit
from .isoflop_groups import GroupedIsoFLOPResult

__all__ = [
    "BUDGET_RTOL",
    "CURVES",
    "DOCUMENT_KIND",
    "SCHEMA_VERSION",
    "STATUSES",
    "GroupedIsoFLOPResult",
    "IsoFLOPResult",
    "isoflop_fit",
    # moved, re-exported for `from scalinglaws.isoflop import ...`
    "DEFAULT_CURVE_SIZES",
    "DEFAULT_HORIZONS",
    "EnvelopeResult",
    "envelope_fit",
    "synthetic_training_curves",
]

#: Per-budget statuses of :func:`isoflop_fit`; only ``"ok"`` budgets enter the regression.
STATUSES = ("ok", "too_few_points", "edge_minimum", "not_convex", "unstable", "outlier")

#: ``flop_model`` values: how D* was obtained from N* and the budget's C
FLOP_MODELS = ("flops_per_token", "runs", "flops")

#: ``kind`` and ``schema_version`` of :meth:`IsoFLOPResult.to_dict` (read: outputs.io.isoflop).
#: 2: ``flops_per_token`` is null, and ``flops_per_token_range`` gives C/(N_opt D_opt) over
#: the used budgets, when D* did not come from one k (``flop_model`` "runs" or "flops"; 1
#: wrote the runs' unused k there), as the envelope's version 2
DOCUMENT_KIND, SCHEMA_VERSION = "scalinglaws.isoflop", 2


@dataclass(frozen=True, eq=False, kw_only=True)
class IsoFLOPResult(OptimaResult, FrozenOnUnpickle):
    r"""Hoffmann et al. (2022) Approach 2: IsoFLOP minima and their power laws. Frozen.

    Attributes
    ----------
    budgets : pandas.DataFrame
        One row per compute budget (a copy on every access): ``budget`` (the
        group key: the budget's C, a bin's index or the value of the budget
        column), ``C`` (geometric mean of the runs' compute), ``C_spread_dex``
        (log10 max/min of C in the group, 0 for exact budgets), ``n_points``
        (runs), ``n_fitted`` (runs the curve was fitted to, fewer with
        ``window``), ``N_min``, ``N_max`` (sampled sizes), ``N_opt`` (the
        curve's minimum), ``ln_N_opt_se`` (standard error of ``ln N_opt``,
        natural log; NaN when not estimated), ``D_opt`` (the tokens of a model
        of size ``N_opt`` at C, see ``flop_model``), ``flops_per_token`` (``C /
        (N_opt D_opt)``), ``loss_opt`` (the curve at its minimum),
        ``edge_fraction`` (share of resamples whose minimum fell on the edge;
        NaN without resamples), ``status`` (one of :data:`STATUSES`), ``reason``
        (text, empty when ok) and ``used`` (entered the regression).
    a, b : float
        Exponents of ``N_opt ∝ C^a`` and ``D_opt ∝ C^b`` (``b = 1 - a`` when
        ``C = k N D``).
    a_interval, b_interval : tuple of float
        t confidence intervals of the slopes at ``confidence_level`` (NaN with
        two budgets).
    a_se, b_se : float
        Standard errors of the slopes.
    N_coef, D_coef : float
        ``G_N`` and ``G_D`` in ``N_opt = G_N C^a``, ``D_opt = G_D C^b`` (C in FLOP).
    N_coef_interval, D_coef_interval : tuple of float
        Their intervals (exponentiated intercept intervals; wide, since the
        intercept sits at C = 1 FLOP).
    a_bootstrap_interval, b_bootstrap_interval : tuple of float or None
        Percentile intervals of the slopes over the per-budget resamples
        (``n_resamples > 0``), else None.
    a_bootstrap, b_bootstrap : numpy.ndarray or None
        The slopes of every resample (read-only, NaN where fewer than two
        budgets had an interior minimum), else None.
    N_line_bootstrap, D_line_bootstrap : numpy.ndarray or None
        ``(n_resamples, 2)``: each resample's line (intercept, slope) of ln N* and
        ln D* on ln C, read-only; :meth:`predict_optimal` takes its percentile
        interval from them.
    log_N_opt_draws : numpy.ndarray or None
        ``ln N*`` of every used budget (rows, in the order of the used rows of
        ``budgets``) in every resample (columns); NaN where the resampled
        minimum was not interior. Read-only; None without resampling.
    n_budgets_used, n_budgets_excluded : int
        Budgets in the regression, and budgets reported but left out.
    n_runs : int
        Runs read.
    confidence_level : float
        Coverage of the intervals.
    flops_per_token : float or None
        ``k`` of the runs (``C = k N D``) when ``D_opt = C/(k N_opt)`` (``flop_model``
        ``"flops_per_token"``); None when D* followed the runs' own ``C/(N D)`` or the
        user's FLOP model: no one k made it, and :attr:`flops_per_token_range` says what
        ``C/(N_opt D_opt)`` was.
    flop_model : str
        How ``D_opt`` follows from ``N_opt`` and the budget's C (see
        :func:`isoflop_fit`, argument ``flops``): ``"flops_per_token"``
        (``C/(k N_opt)``: the runs satisfy ``C = k N D``), ``"runs"`` (the runs'
        own ``C/(N D)`` at ``N_opt``, when their logged C is not ``k N D``) or
        ``"flops"`` (the user's FLOP model).
    options : Mapping
        The options of :func:`isoflop_fit` that produced this result (read-only).
    regression : Mapping
        ``{"N": ..., "D": ...}``: intercept/slope (``params``, ln units), their
        covariance ``cov``, ``df_resid``, ``r_squared``, ``residual_sd`` and
        ``n`` of each log-log regression (used by :meth:`predict_optimal`).
    """

    _budgets: pd.DataFrame = field(repr=False)
    n_budgets_used: int
    n_budgets_excluded: int
    n_runs: int
    log_N_opt_draws: np.ndarray | None = field(default=None, repr=False)
    flop_model: str = "flops_per_token"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "_budgets", self._budgets.copy())
        object.__setattr__(self, "log_N_opt_draws", frozen_array(self.log_N_opt_draws))

    @property
    def budgets(self) -> pd.DataFrame:
        """The per-budget table (a copy)."""
        return self._budgets.copy()

    @property
    def excluded(self) -> pd.DataFrame:
        """The per-budget rows left out of the regression, with their reason."""
        return self._budgets.loc[~self._budgets["used"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the per-budget table :attr:`budgets`."""
        return self._budgets.copy()

    @property
    def flops_per_token_range(self) -> tuple[float, float] | None:
        """``(low, high)`` of ``C/(N_opt D_opt)`` (the table's ``flops_per_token``) over the
        used budgets when D* did not come from one k (``flop_model`` ``"runs"`` or
        ``"flops"``: :attr:`flops_per_token` is None), else None. :meth:`to_dict`,
        :meth:`summary` and :meth:`predict_optimal`'s ``attrs`` report it."""
        if self.flop_model == "flops_per_token":
            return None
        ratio = self._budgets.loc[self._budgets["used"], "flops_per_token"].to_numpy(float)
        return float(ratio.min()), float(ratio.max())

    def to_dict(self) -> dict:
        """Every field as plain types (NaN as None; ``budgets`` as row records): the
        document :meth:`save` writes, which ``outputs.io.isoflop`` checks and reads."""
        doc = {
            "kind": DOCUMENT_KIND,
            "schema_version": SCHEMA_VERSION,
            "package_version": __version__,
            "approach": "isoflop",
            **self._scalar_dict(),
            "n_budgets_used": self.n_budgets_used,
            "n_budgets_excluded": self.n_budgets_excluded,
            "n_runs": self.n_runs,
            "flop_model": self.flop_model,
            "budgets": self._budgets.to_dict(orient="records"),
            "log_N_opt_draws": self.log_N_opt_draws,
        }
        return to_plain(doc)

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON text (``kwargs`` go to :func:`json.dumps`)."""
        return json_text(self.to_dict(), what="the IsoFLOP result", **kwargs)

    def save(self, path, *, force: bool = False) -> None:
        """Write :meth:`to_dict` to ``path`` as JSON, atomically, as ``scalinglaws isoflop
        --out`` does (read back by ``scalinglaws.outputs.io.isoflop.load_isoflop``); an
        existing file that is not an IsoFLOP document is replaced only with ``force``."""
        text = self.to_json() + "\n"
        target = check_output_path(path, kind="json", force=force, argument="`path`",
                                   document=DOCUMENT_KIND)
        atomic_write(target, text)

    def _minima_error(self, compute, name):
        """The line's error at ``compute`` from the minima's own ``ln_N_opt_se``
        (:func:`~scalinglaws.fitting._optima.minima_line_error`): only for polynomial
        profiles with at least 3 residual df each and the unweighted regression; for
        ``ln D`` only when ``D = C / (k N)``, whose minimum shares ``ln N``'s error."""
        o = self.options
        if (not self._polynomial_minima() or o.get("weighted")
                or (name == "D" and self.flop_model != "flops_per_token")):
            return None
        used = self._budgets.loc[self._budgets["used"]].astype({"n_fitted": float})
        return minima_line_error(used["C"], used["ln_N_opt_se"],
                                 used["n_fitted"] - o.get("degree", 2) - 1, compute)

    def _polynomial_minima(self) -> bool:
        """Every minimum a polynomial's on 3+ residual df (not Akima, not a short window)."""
        o = self.options
        few = o.get("window") is not None and o["window"] - o.get("degree", 2) - 1 < 3
        return o.get("curve") != "akima" and not few

    def _bootstrap_covers(self) -> bool:
        """``predict_optimal(interval="auto")`` takes the bootstrap only where its resampling
        held the truth (200 sweeps of known truth, N_opt at 10x/100x the largest budget,
        tests/fitting/test_isoflop_variants_coverage.py): not for Akima's seed-noise
        resamples (200/200 of 200, far too wide) nor for windows leaving each parabola
        under 3 residual degrees of freedom (window=5: 175/173, too narrow), where the
        regression's t interval held it 188-191 times on the same resampled fits."""
        return self._polynomial_minima()

    def summary(self) -> str:
        """A readable report: options, how D* was counted, the per-budget table, and the
        fitted exponents."""
        return isoflop_summary(self)


def isoflop_fit(runs: Any, *, budget: str | None = None, n_bins: int | None = None,
                bin_width_dex: float | None = None, budget_rtol: float = BUDGET_RTOL,
                curve: str = "parabola", degree: int = 2,
                window: int | None = None, log_loss: bool | None = None, min_points: int = 5,
                bracket: bool = True,
                weighted: bool = False, n_resamples: int = 0, seed_noise: float | None = None,
                rng=None, confidence_level: float = 0.95,
                flops_per_token: float | None = None, flops=None,
                groups: str | None = None) -> IsoFLOPResult | GroupedIsoFLOPResult:
    r"""Hoffmann et al. (2022) Approach 2: fit N_opt ∝ C^a from IsoFLOP profiles.

    For every compute budget C the runs trace an IsoFLOP profile, the loss
    against model size at fixed compute (Hoffmann et al. Sec 3.2, Fig 3). A
    curve is fitted to each profile against ``x = ln N`` and its minimum gives
    ``N*(C)``, the tokens ``D*(C)`` of a model of that size at C (``C / (k
    N*)`` when ``C = k N D``; see ``flops``) and ``L*(C)``. Then

    .. math:: \ln N^* = \ln G_N + a \ln C, \qquad \ln D^* = \ln G_D + b \ln C

    are fitted by least squares (statsmodels), giving ``a``, ``b`` (= 1 - a
    when ``C = k N D``) and their t intervals.

    Parameters
    ----------
    runs : Runs, DataFrame, dict or path
        Runs with ``N``, ``loss`` and compute (``C``, or ``N`` and ``D``).
    budget : None, "C", "bin" or str
        How runs are grouped into budgets. ``"C"``: runs whose C lie within a
        relative ``budget_rtol`` of the smallest C of their budget. ``None``
        (default): the same, but an :class:`~scalinglaws.InputError` if that
        gives more than one budget per three runs (then C is not a set of
        budgets). ``"bin"``: bins of log10 C (with ``n_bins`` equal bins
        between the smallest and largest C, or ``bin_width_dex`` wide from the
        smallest). Any other string: a column of ``runs`` holding the budget
        label (e.g. ``"budget"`` from :func:`scalinglaws.generate_sweep`). A
        budget's C is the geometric mean of its runs' C; ``C_spread_dex`` in
        the table shows how far they differ.
    n_bins, bin_width_dex : int, float, optional
        Binning for ``budget="bin"`` (giving either implies it).
    budget_rtol : float
        Relative tolerance of equal C for ``budget`` None or ``"C"``, in (0,
        0.1); default 1e-3 (:data:`BUDGET_RTOL`): logged FLOP counts of runs
        meant for one budget differ by rounding to whole steps, while the
        budgets of a study are spaced by factors of 1.5 or more. A budget never
        spans more than ``budget_rtol`` however densely its C values lie.
    curve : {"parabola", "poly", "akima"}
        ``"parabola"`` (default, Hoffmann et al.): least-squares quadratic in
        ln N. ``"poly"``: polynomial of ``degree``. ``"akima"``: the Akima
        interpolant of the profile (Porian et al. 2024; ``interpolation`` in
        their released ``analysis.py``): it passes through every point, is local
        (each piece depends on the neighbouring points only, so the far tails of
        a wide, asymmetric sweep do not pull the minimum) and is minimised on a
        2001-point grid refined by a three-point parabola.
    degree : int
        Polynomial degree for ``curve="poly"`` (2 for the parabola).
    window : int, optional
        Fit the polynomial only to the ``window`` consecutive sizes centred on
        the lowest sampled loss (a local quadratic); default all of them.
        Useful when the sweep is wide and the profile asymmetric.
    log_loss : bool, optional
        Fit ``ln loss`` instead of ``loss``; default False for polynomials
        (Hoffmann) and True for ``"akima"`` (Porian et al.).
    min_points : int
        Budgets with fewer runs are reported with status ``"too_few_points"``
        and left out (at least ``degree + 1``, and 3).
    bracket : bool
        Also require the lowest *sampled* loss of a budget to lie strictly
        inside its sizes (default). With False only the fitted curve's minimum
        must be inside, as in Porian et al.'s code; an interpolant can then
        overshoot and place a "minimum" between the two smallest sizes of a
        profile whose data only rise.
    weighted : bool
        Weighted least squares with weights ``1 / se²`` of ``ln N*`` (needs
        standard errors: polynomials, or ``n_resamples > 0``). The residual
        scale is still estimated, so the weights are relative.
    n_resamples : int
        With ``n_resamples > 0`` each budget's profile is resampled that many
        times and re-minimised: by adding log-normal seed noise of relative size
        ``seed_noise`` to every loss (a simplified form of Porian et al.'s
        bootstrap, whose noise SD grows with the loss) or, for
        polynomials without ``seed_noise``, by a residual bootstrap. The minima's
        SD replaces the delta-method SE, a budget whose resampled minimum falls
        outside its sizes (or, with ``bracket``, whose resampled lowest loss is
        at an end) in more than half of the resamples is excluded
        (``"unstable"``), and the regression is repeated per resample to give
        ``a_bootstrap_interval`` (and the draws ``a_bootstrap``).
    seed_noise : float, optional
        Relative seed-to-seed SD of the loss for the resampling (e.g. 0.005);
        required with ``curve="akima"`` and ``n_resamples > 0``.
    rng : None, int or numpy.random.Generator
        Randomness of the resampling.
    confidence_level : float
        Two-sided level of every interval.
    flops_per_token : float, optional
        ``k`` for loading ``runs`` and for ``D* = C/(k N*)``; default that of
        the runs (6). The result states it only when D* used it (``flop_model``
        ``"flops_per_token"``; else None, with ``flops_per_token_range``).
    flops : callable, optional
        ``flops(N, D) -> FLOP``, the training compute of a model of N
        parameters on D tokens (vectorised, proportional to D), as in
        :func:`scalinglaws.compute_optimal`; then ``D* = C / flops(N*, 1)``.
        Without it D* follows the runs: ``C/(k N*)`` when every run satisfies
        ``C = k N D`` (to 1e-6), else, for logged FLOP counts that are not
        ``k N D`` (attention included, say), the runs' own ``k = C/(N D)``
        interpolated linearly in ln N within the budget. ``flop_model`` in the
        result says which was used.
    groups : str, optional
        A column of ``runs``: fit each of its values separately (same options,
        independent random streams) and return a :class:`GroupedIsoFLOPResult`.

    Returns
    -------
    IsoFLOPResult, or GroupedIsoFLOPResult with ``groups``

    Raises
    ------
    InputError
        For a bad argument, a missing column, or fewer than two usable budgets
        (the message lists every budget's status, identical lines once with
        their count).

    Warns
    -----
    ScalingLawsWarning
        When budgets are excluded (listing them with the reason), when only
        two budgets remain (no intervals), or when ``flops`` differs from the
        logged C by more than 1%.

    Notes
    -----
    *Guard rails.* A budget enters the regression only if it has at least
    ``min_points`` runs, its lowest sampled loss is not at its smallest or
    largest size (``bracket``), the fitted curve has an interior minimum (a
    parabola opening upward) strictly inside the sizes it was fitted to, and
    (with resampling) that stays so in at least half of the resamples. Others
    are reported in :attr:`IsoFLOPResult.budgets` and never extrapolated.

    *Uncertainty of N\*.* For polynomials without resampling the standard error
    of ``x* = ln N*`` is the delta method on the OLS covariance ``V`` of the
    coefficients ``θ`` (``σ²`` estimated from the residuals): ``x*`` solves
    ``p'(x*) = 0``, so ``∂x*/∂θ_j = -j x*^{j-1} / p''(x*)``, which for the
    parabola ``θ_0 + θ_1 x + θ_2 x²`` is the gradient of ``-θ_1 / (2 θ_2)``.
    It is NaN when there are no more points than coefficients and for the
    Akima interpolant without resampling.

    *Shape bias.* Around its minimum an IsoFLOP profile of the Chinchilla law is
    ``A N^-α + B (C/kN)^-β`` (plus E), not a parabola in ln N: a parabola fitted
    over a wide or off-centre sweep puts its vertex away from the true minimum.
    The shift is the same at every budget when the sweeps sit at the same
    offset from the optimum, so it biases ``G_N`` but not ``a``; it biases
    ``a`` when the offset drifts with C. ``window`` or ``curve="akima"`` make
    the estimate local.

    References
    ----------
    Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models",
    Sec 3.2, Fig 3, Table 2 (a = 0.49, b = 0.51). Porian et al. (2024),
    "Resolving Discrepancies in Compute-Optimal Scaling of Language Models",
    arXiv:2406.19146, and their code (github.com/formll/resolving-scaling-law-
    discrepancies, ``analysis.py``): Akima interpolation of ln loss against
    ln N per budget, a bootstrap adding seed noise to the losses, budgets whose
    minimum is at the end of the grid dropped, then (weighted) least squares of
    ln N* on ln C.

    Examples
    --------
    >>> from scalinglaws import generate_sweep
    >>> result = isoflop_fit(generate_sweep(rng=0), budget="budget")
    >>> round(result.a, 2)
    0.52
    >>> result.predict_optimal(1e22).columns.tolist()
    ['C', 'N', 'N_low', 'N_high', 'D', 'D_low', 'D_high', 'tokens_per_parameter']
    """
    runs = as_runs(runs) if flops_per_token is None else \
        as_runs(runs, flops_per_token=check_positive("flops_per_token", flops_per_token))
    options = check_profile_options(curve=curve, degree=degree, window=window,
                                    log_loss=log_loss, min_points=min_points, bracket=bracket,
                                    weighted=weighted, n_resamples=n_resamples,
                                    seed_noise=seed_noise)
    level = check_confidence_level(confidence_level)
    grouping = {"budget": budget, "n_bins": n_bins, "bin_width_dex": bin_width_dex,
                "budget_rtol": budget_rtol}
    generator = check_rng("rng", rng)
    options["seed"] = seed_of(rng)  # (with groups: the analysis's; group i takes child i)
    if groups is None:
        return _fit_one(runs, grouping, options, level, flops, generator, "isoflop_fit")
    runs.labels(groups, "groups")
    parts = runs.groupby(groups)
    streams = generator.spawn(len(parts))
    results = {}
    for (key, part), stream in zip(parts, streams):
        key = key.item() if isinstance(key, np.generic) else key
        results[key] = _fit_one(part, grouping, options, level, flops, stream,
                                f"isoflop_fit [{groups}={key!r}]")
    return GroupedIsoFLOPResult(group_column=groups, results=results, confidence_level=level,
                                n_runs=len(runs), options=next(iter(results.values())).options)


def _fit_one(runs: Runs, grouping: dict, o: dict, level: float, flops, generator,
             label: str) -> IsoFLOPResult:
    """Approach 2 on one set of runs (all of them, or one group)."""
    keys, grouping_text = group_budgets(runs, **grouping)
    tokens = TokenModel(runs, flops)
    if tokens.warning:
        warnings.warn(f"{label}: {tokens.warning}", ScalingLawsWarning,
                      stacklevel=user_stacklevel())
    N, C, L = runs.N, runs.C, runs.loss
    D = runs.D if tokens.kind == "runs" else None
    degree = o["degree"]
    rows, draws, token_functions, misfits = [], [], [], []
    for key in pd.unique(pd.Series(keys)):
        member = np.asarray(keys == key)
        order = np.argsort(N[member], kind="stable")
        n_b, l_b, c_b = N[member][order], L[member][order], C[member]
        c_value = float(c_b[0] if c_b.min() == c_b.max() else np.exp(np.mean(np.log(c_b))))
        row = {"budget": key.item() if isinstance(key, np.generic) else key, "C": c_value,
               "C_spread_dex": float(np.log10(c_b.max() / c_b.min())),
               "n_points": int(member.sum()), "n_fitted": 0,
               "N_min": float(n_b.min()), "N_max": float(n_b.max()),
               "N_opt": math.nan, "ln_N_opt_se": math.nan, "D_opt": math.nan,
               "flops_per_token": math.nan, "loss_opt": math.nan, "edge_fraction": math.nan,
               "status": "ok", "reason": ""}
        log_tokens = tokens.for_budget(c_value, N[member], None if D is None else D[member], c_b)
        token_functions.append(log_tokens)
        draws.append(None)
        rows.append(row)
        distinct = np.unique(n_b).size
        if member.sum() < o["min_points"] or distinct < max(3, degree + 1):
            # no keyword in backticks: the command line shows this text in a warning and in
            # the table alike, and reads the same in both (the flag named beside the keyword)
            row.update(status="too_few_points", reason=f"{counted(int(member.sum()), 'run')} "
                       f"({counted(distinct, 'distinct size')}); a budget needs {o['min_points']} "
                       f"runs and {max(3, degree + 1)} distinct sizes (min_points= in Python, "
                       f"--min-points on the command line)")
            continue
        if distinct < len(n_b):  # repeated sizes: keep the best run of each (as Porian et al.)
            first = np.unique(n_b, return_index=True)[1]
            best = np.array([l_b[n_b == value].min() for value in n_b[first]])
            n_b, l_b = n_b[first], best
        fitted = fit_profile(np.log(n_b), np.log(l_b) if o["log_loss"] else l_b,
                             curve=o["curve"], degree=degree, window=o["window"],
                             bracket=o["bracket"], n_resamples=o["n_resamples"],
                             seed_noise=o["seed_noise"], log_loss=o["log_loss"],
                             generator=generator)
        row.update(status=fitted["status"], reason=fitted["reason"],
                   n_fitted=fitted["n_fitted"], edge_fraction=fitted["edge_fraction"],
                   ln_N_opt_se=fitted["se"])
        if np.isfinite(fitted["x"]):
            n_opt = math.exp(fitted["x"])
            d_opt = tokens.tokens(log_tokens, fitted["x"], c_value, n_opt)
            row.update(N_opt=n_opt, D_opt=d_opt, flops_per_token=c_value / (n_opt * d_opt),
                       loss_opt=math.exp(fitted["y"]) if o["log_loss"] else fitted["y"])
        if fitted["status"] == "ok" and fitted["residual_sd"] > MISFIT_RESIDUAL_SD:
            misfits.append((c_value, fitted["residual_sd"], row["loss_opt"], l_b.min()))
        draws[-1] = fitted["draws"]

    table = pd.DataFrame(rows).sort_values("C", kind="stable")
    order = table.index.to_numpy()
    table = table.reset_index(drop=True)
    draws = [draws[i] for i in order]
    token_functions = [token_functions[i] for i in order]
    table["used"] = table["status"] == "ok"
    if o["weighted"]:
        bad = table["used"] & ~(np.isfinite(table["ln_N_opt_se"]) & (table["ln_N_opt_se"] > 0))
        if bad.any():
            raise InputError(
                f"{label}: `weighted`=True: no positive standard error for the minimum at "
                f"budget(s) {', '.join(f'{c:.4g}' for c in table.loc[bad, 'C'])}; use "
                "weighted=False")
    used = table.loc[table["used"]]
    excluded = table.loc[~table["used"]]
    describe = [f"C={r.C:.4g}: {r.status}" + (f" ({r.reason})" if r.reason else "")
                for r in table.itertuples()]
    if len(used) < 2:
        raise InputError(f"{label} needs at least two usable budgets, found {len(used)} "
                         f"of {len(table)}: {merged(describe)}")
    if len(excluded):
        warnings.warn(f"{label}: excluded {len(excluded)} of {len(table)} budgets: "
                      + merged([f"C={r.C:.4g} ({r.status}: {r.reason})"
                                for r in excluded.itertuples()]),
                      ScalingLawsWarning, stacklevel=user_stacklevel())
    if len(used) == 2:
        warnings.warn(f"{label}: only two usable budgets; the exponents have no intervals",
                      ScalingLawsWarning, stacklevel=user_stacklevel())
    if misfits:
        warn_misfits(label, misfits, len(used), merged)

    log_c = np.log(used["C"].to_numpy())
    log_n = np.log(used["N_opt"].to_numpy())
    log_d = np.log(used["D_opt"].to_numpy())
    weights = 1.0 / used["ln_N_opt_se"].to_numpy() ** 2 if o["weighted"] else None
    reg_n = loglog_regression(log_c, log_n, weights, level)
    reg_d = loglog_regression(log_c, log_d, weights, level)

    matrix = a_draws = b_draws = a_boot = b_boot = n_lines = d_lines = None
    if o["n_resamples"]:
        index = np.flatnonzero(table["used"].to_numpy())
        matrix = np.vstack([draws[i] for i in index])  # (budgets, R) of ln N*
        n_lines = bootstrap_lines(log_c, matrix, weights)
        if tokens.kind == "flops_per_token":  # ln D* = ln C - ln k - ln N*: b = 1 - a
            d_lines = np.column_stack([-math.log(tokens.k) - n_lines[:, 0], 1.0 - n_lines[:, 1]])
        else:
            with np.errstate(invalid="ignore"):
                log_d_draws = np.vstack([token_functions[i](matrix[j])
                                         for j, i in enumerate(index)])
            d_lines = bootstrap_lines(log_c, np.where(np.isfinite(matrix), log_d_draws, np.nan),
                                      weights)
        a_draws, b_draws = n_lines[:, 1], d_lines[:, 1]
        a_boot, b_boot = resampled_intervals(a_draws, b_draws, level, label)

    options = {"budget": grouping_text, **o,
               "se_method": ("none" if o["curve"] == "akima" and not o["n_resamples"]
                             else "resampling SD" if o["n_resamples"] else "delta method"),
               "tokens": tokens.describe()}
    return IsoFLOPResult(
        _budgets=table, a=reg_n["exponent"], a_interval=reg_n["exponent_interval"],
        a_se=reg_n["exponent_se"], b=reg_d["exponent"], b_interval=reg_d["exponent_interval"],
        b_se=reg_d["exponent_se"], N_coef=reg_n["coef"], N_coef_interval=reg_n["coef_interval"],
        D_coef=reg_d["coef"], D_coef_interval=reg_d["coef_interval"],
        n_budgets_used=len(used), n_budgets_excluded=len(excluded),
        n_runs=len(runs), confidence_level=level, options=options,
        # only C = k N D gives D* from one k; else the table's C/(N_opt D_opt) says what it was
        flops_per_token=tokens.k if tokens.kind == "flops_per_token" else None,
        regression={"N": reg_n, "D": reg_d}, a_bootstrap_interval=a_boot,
        b_bootstrap_interval=b_boot, a_bootstrap=a_draws, b_bootstrap=b_draws,
        N_line_bootstrap=n_lines, D_line_bootstrap=d_lines,
        log_N_opt_draws=matrix, flop_model=tokens.kind)
