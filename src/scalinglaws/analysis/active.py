r"""Active design: the next runs that shrink a target's interval most per FLOP.

Given what is known (a :class:`~.prior.Prior`: published coefficients with their spread,
or a fitted law with bootstrap draws), a :class:`~.prior.Target` and a compute budget for
the sweep, :func:`active_design` chooses runs one at a time from a candidate set (by
default an IsoFLOP-like lattice around the prior's optimum, see :func:`candidate_runs`).

Criterion
---------
With :math:`\Sigma_b(S) = \Lambda_b(S)^{-1}` the linearised covariance of the free
parameters after the runs :math:`S` chosen so far, evaluated at the prior's draw
:math:`\theta_b` (:mod:`.prior`), adding a run :math:`j` of cost :math:`c_j` lowers the
variance of the target by (Sherman-Morrison)

.. math::

    \Delta_{bj} = \frac{(t_b^\top \Sigma_b u_{bj})^2}{1 + u_{bj}^\top \Sigma_b u_{bj}},
    \qquad u_{bj} = \frac{g_j(\theta_b)}{\sqrt{v}\, s_j},

and the run chosen next maximises :math:`\bar\Delta_j / c_j`, the decrease of the target's
variance averaged over the draws, per FLOP. Picks repeat until the sweep budget (or ``k``
runs) is spent; a candidate may be picked up to ``max_repeats`` times (seeds). This greedy
rule is the standard heuristic for a budgeted design (it is not guaranteed optimal), and
the variance is linearised: :file:`bench/bench_plan.py` checks, by simulating the sweeps and
refitting them, how far the predicted widths hold.

Because cheap runs give the most information per FLOP when the law is right, the chosen
runs sit at the small budgets and at the ends of each IsoFLOP profile (far from the
optimal tokens per parameter): a design that trusts the law's form most where it is least
tested. Keep the candidate set to runs you believe the law describes (``candidates=``, or
``span`` and ``compute_range``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError
from .._validation import (FrozenDict, check_bool, check_confidence_level, check_int,
                           check_positive, check_rng)
from .designs import Design, prior_optimal_size
from .prior import FRESH_PRIOR_WEIGHT, Prior, Target, information, normal_quantile, target_gradients

__all__ = ["CRITERION", "ActiveDesign", "active_design", "candidate_runs"]

#: The criterion, in words (copied into every result).
CRITERION = ("greedy: each next run maximises the decrease of the target's linearised "
             "variance (Gauss-Newton information of the delta method, robust-loss variance "
             "factor, run-to-run scatter), averaged over the prior's draws, per FLOP")

_NEGLIGIBLE = 1e-12  # a pick lowering the variance by less than this (relative) ends the search


@dataclass(frozen=True)
class ActiveDesign:
    """The runs :func:`active_design` chose, and what they are expected to do. Frozen.

    Attributes
    ----------
    target : Target
    centre_value : float
        The target under the prior's centre (ln N_opt, ln loss or the exponent).
    prior_interval : tuple of float
        Percentile interval of the target over the prior's draws (what is known now).
    sd_before, sd_after : float
        Linearised sd of the target now (the prior's covariance) and after the runs (root
        mean over the draws of the variance).
    width_before, width_after : float
        Interval widths ``2 z sd`` at ``confidence_level``; for log-scale targets the
        interval is a factor ``exp(width)`` from its low to its high end.
    confidence_level : float
    runs : pandas.DataFrame
        In the order chosen (a copy): ``order``, ``N``, ``D``, ``C`` (FLOP), ``repeat``
        (0 for the first run at this point, 1 for its second seed...), ``sd_after`` (the
        linearised sd once this run is in), ``compute_after`` (cumulative FLOP).
    compute_used, sweep_budget : float
    n_candidates, n_draws : int
    fresh : bool
        Whether the runs are planned as a sweep of their own (published prior) or to be
        added to the fitted runs.
    criterion : str
    prior_source : str
    """

    target: Target
    centre_value: float
    prior_interval: tuple
    sd_before: float
    sd_after: float
    confidence_level: float
    _runs: object = field(repr=False)
    compute_used: float
    sweep_budget: float | None
    n_candidates: int
    n_draws: int
    fresh: bool
    prior_source: str
    criterion: str = CRITERION
    options: FrozenDict = field(default_factory=FrozenDict)

    def __post_init__(self):
        object.__setattr__(self, "_runs", self._runs.copy())
        object.__setattr__(self, "options", FrozenDict(self.options))
        object.__setattr__(self, "prior_interval", tuple(float(v) for v in self.prior_interval))

    @property
    def runs(self):
        return self._runs.copy()

    @property
    def n_runs(self) -> int:
        return len(self._runs)

    @property
    def width_before(self) -> float:
        return 2.0 * normal_quantile(self.confidence_level) * self.sd_before

    @property
    def width_after(self) -> float:
        return 2.0 * normal_quantile(self.confidence_level) * self.sd_after

    @property
    def shrink(self) -> float:
        """``sd_after / sd_before``: how much the runs are expected to shrink the interval."""
        return self.sd_after / self.sd_before

    def compute_to_reach(self, sd: float) -> float:
        """Cumulative compute of the first prefix of the chosen runs whose linearised sd is
        at most ``sd`` (NaN if the runs never reach it)."""
        sd = check_positive("sd", sd)
        reached = np.flatnonzero(self._runs["sd_after"].to_numpy() <= sd)
        return math.nan if reached.size == 0 else float(self._runs["compute_after"].iloc[reached[0]])

    def design(self) -> Design:
        """The chosen runs as a :class:`~.designs.Design` (kind ``"active"``)."""
        frame = self._runs[["N", "D", "C"]].copy()
        frame["budget"] = -1
        return Design(kind="active", _runs=frame, predicted_sd=self.sd_after,
                      options={"flops_per_token": self.target.flops_per_token,
                               "target": self.target.to_dict()})

    def to_frame(self):
        return self._runs.copy()

    def to_dict(self) -> dict:
        from .._validation import to_plain

        return to_plain({
            "target": self.target.to_dict(), "centre_value": self.centre_value,
            "prior_interval": list(self.prior_interval), "confidence_level": self.confidence_level,
            "sd_before": self.sd_before, "sd_after": self.sd_after,
            "width_before": self.width_before, "width_after": self.width_after,
            "shrink": self.shrink, "n_runs": self.n_runs, "compute_used": self.compute_used,
            "sweep_budget": self.sweep_budget, "n_candidates": self.n_candidates,
            "n_draws": self.n_draws, "fresh": self.fresh, "criterion": self.criterion,
            "prior_source": self.prior_source, "options": dict(self.options),
            "runs": self._runs.to_dict(orient="records")})

    def summary(self) -> str:
        level = f"{100 * self.confidence_level:g}%"
        if self.target.log_scale:
            def width(w):
                return f"x{math.exp(w):.3g} from low to high end (+-{100 * math.expm1(w / 2):.3g}%)"
        else:
            def width(w):
                return f"{w:.4g} (+-{w / 2:.4g})"
        lines = [f"active design for {self.target.describe()}",
                 f"  prior        {self.prior_source}",
                 f"  runs         {self.n_runs} chosen from {self.n_candidates} candidates, "
                 f"{self.compute_used:.4g} FLOP"
                 + (f" of {self.sweep_budget:.4g}" if self.sweep_budget else ""),
                 f"  {level} width now   {width(self.width_before)}",
                 (f"  {level} width after {width(self.width_after)} "
                 f"(sd x{self.shrink:.3g}; linearised, averaged over {self.n_draws} draws)"),
                 f"  criterion    {self.criterion}"]
        if self.fresh:
            lines.insert(4, "  (a fresh sweep: 'now' is the prior's spread; the runs are "
                            "fitted on their own)")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def candidate_runs(prior: Prior, max_run_compute: float, *, compute_range: float = 500.0,
                   n_budgets: int = 20, n_sizes: int = 25, span: float = 10.0,
                   flops_per_token: float = 6.0):
    """The default candidate runs: an IsoFLOP-like lattice around the prior's optimum.

    ``n_budgets`` budgets log-spaced from ``max_run_compute / compute_range`` to
    ``max_run_compute``, each with ``n_sizes`` sizes log-spaced from ``N0 / span`` to
    ``N0 * span`` around the prior centre's compute-optimal size ``N0``. The defaults span
    what Hoffmann et al.'s Approach-2 layout spans (500x in compute, 10x either side of
    the optimum). Returns a DataFrame with ``N``, ``D``, ``C``.
    """
    import pandas as pd

    top = check_positive("max_run_compute", max_run_compute)
    ratio = check_positive("compute_range", compute_range)
    n_budgets = check_int("n_budgets", n_budgets, 1)
    n_sizes = check_int("n_sizes", n_sizes, 1)
    span = check_positive("span", span)
    k = check_positive("flops_per_token", flops_per_token)
    if span < 1 or ratio < 1:
        raise InputError("`span` and `compute_range` must be at least 1")
    budgets = np.geomspace(top / ratio, top, n_budgets)
    centre = prior_optimal_size(prior, budgets, k)
    N = (centre[:, None] * np.geomspace(1.0 / span, span, n_sizes)[None, :]).ravel()
    C = np.repeat(budgets, n_sizes)
    return pd.DataFrame({"N": N, "D": C / (k * N), "C": C})


def _candidates(candidates, k):
    import pandas as pd

    frame = pd.DataFrame(candidates) if not hasattr(candidates, "columns") else candidates
    if "N" not in frame.columns or "D" not in frame.columns:
        raise InputError("`candidates` must have columns N and D (and optionally C, the cost in "
                         "FLOP)")
    N = np.asarray(frame["N"], dtype=float)
    D = np.asarray(frame["D"], dtype=float)
    C = np.asarray(frame["C"], dtype=float) if "C" in frame.columns else k * N * D
    for name, values in (("N", N), ("D", D), ("C", C)):
        if values.size == 0 or not np.all(np.isfinite(values) & (values > 0)):
            raise InputError(f"`candidates` column {name} must hold finite positive numbers")
    return N, D, C


def active_design(prior: Prior, target: Target, *, sweep_budget: float | None = None,
                  k: int | None = None, candidates=None, max_run_compute: float | None = None,
                  max_repeats: int = 1, confidence_level: float = 0.95,
                  max_draws: int | None = 200, flops_per_token: float = 6.0, rng=0,
                  progress: bool | None = None) -> ActiveDesign:
    """Choose the next runs that most reduce the target's interval width per FLOP.

    Parameters
    ----------
    prior : Prior
        What is known (:func:`~.prior.published_prior`, :func:`~.prior.prior_from_fit`).
    target : Target
        What the runs should pin down (:meth:`~.prior.Target.make`).
    sweep_budget : float, optional
        Compute the chosen runs may spend together (FLOP).
    k : int, optional
        Largest number of runs to choose. Give ``sweep_budget``, ``k`` or both.
    candidates : DataFrame or mapping, optional
        Runs to choose from: columns ``N``, ``D`` and optionally ``C`` (their cost);
        default :func:`candidate_runs` with ``max_run_compute``.
    max_run_compute : float, optional
        Largest budget of one default candidate; default ``sweep_budget / 20`` (one run of
        the largest budget of Hoffmann's layout costs 1/20 of that layout).
    max_repeats : int
        Times one candidate may be chosen (seeds of the same run).
    confidence_level : float
        Level of the widths reported.
    max_draws : int, optional
        Draws of the prior the criterion averages over (a random subset; None: all).
    flops_per_token : float
        ``k`` in ``C = k N D`` for candidates without a cost.
    rng : seed or numpy Generator
        Chooses the subset of draws.
    progress : bool, optional
        Progress bar over the picks (default: on a terminal when there are many).

    Returns
    -------
    ActiveDesign

    Examples
    --------
    >>> from scalinglaws.analysis.prior import published_prior, Target
    >>> prior = published_prior("epoch", n_draws=100)
    >>> plan = active_design(prior, Target.make("N_opt", C=1e24), sweep_budget=1e21,
    ...                      max_draws=50)
    >>> plan.compute_used <= 1e21 and plan.sd_after < plan.sd_before
    True
    """
    if not isinstance(prior, Prior):
        raise InputError(f"`prior` must be a Prior, got {type(prior).__name__}")
    if not isinstance(target, Target):
        raise InputError(f"`target` must be a Target (Target.make(...)), got "
                         f"{type(target).__name__}")
    if sweep_budget is None and k is None:
        raise InputError("give `sweep_budget` (FLOP), `k` (runs) or both")
    budget = math.inf if sweep_budget is None else check_positive("sweep_budget", sweep_budget)
    limit = None if k is None else check_int("k", k, 1)
    repeats = check_int("max_repeats", max_repeats, 1)
    level = check_confidence_level(confidence_level)
    kk = check_positive("flops_per_token", flops_per_token)
    generator = check_rng("rng", rng)
    if max_draws is not None:
        max_draws = check_int("max_draws", max_draws, 1)
    if candidates is None:
        if max_run_compute is None:
            if sweep_budget is None:
                raise InputError("the default candidates need `max_run_compute` or "
                                 "`sweep_budget`; or pass `candidates`")
            max_run_compute = budget / 20.0
        elif check_positive("max_run_compute", max_run_compute) > budget:
            # candidates down to cap/500 only: above the budget, none of them fits it (the
            # audit's cap of 10x the budget planned a width 8x the standard grid's)
            raise InputError(f"`max_run_compute` (--max-run-compute) {max_run_compute:.4g} "
                             f"FLOP is above `sweep_budget` {budget:.4g}: no run can cost "
                             f"more than the whole sweep")
        candidates = candidate_runs(prior, max_run_compute, flops_per_token=kk)
    elif max_run_compute is not None:
        raise InputError("`max_run_compute` sets the default candidates; not with `candidates`")
    N, D, cost = _candidates(candidates, kk)

    theta = prior.design_rows(max_draws, generator)
    t = target_gradients(target, prior.form, theta, prior.expansion)  # (B, q)
    u = information(prior, theta, N, D)  # (B, q, n)
    ok_rows = np.all(np.isfinite(t), axis=1) & np.all(np.isfinite(u), axis=(1, 2))
    if not ok_rows.any():
        raise InputError("the target or the law is not finite at the prior's draws")
    t, u = t[ok_rows], u[ok_rows]
    before = float(np.sqrt(np.mean(np.einsum("bq,qr,br->b", t, prior.covariance, t))))
    start = prior.precision if not prior.fresh else \
        FRESH_PRIOR_WEIGHT * np.linalg.pinv(prior.covariance, hermitian=True)
    sigma = np.broadcast_to(np.linalg.pinv(start, hermitian=True), (t.shape[0],) + start.shape).copy()
    variance = np.einsum("bq,bqr,br->b", t, sigma, t)
    counts = np.zeros(N.size, dtype=int)
    chosen, spent = [], 0.0
    show = _show_progress(progress, budget, limit, cost)
    bar = _bar(show)
    while limit is None or len(chosen) < limit:
        su = np.einsum("bqr,brn->bqn", sigma, u)
        numerator = np.einsum("bq,bqn->bn", t, su) ** 2
        denominator = 1.0 + np.einsum("bqn,bqn->bn", u, su)
        gain = np.mean(numerator / denominator, axis=0)
        affordable = (cost <= budget - spent + 1e-9 * cost) & (counts < repeats)
        if not affordable.any():
            break
        score = np.where(affordable, gain / cost, -np.inf)
        j = int(np.argmax(score))
        if not gain[j] > _NEGLIGIBLE * np.mean(variance):
            break
        sj = su[:, :, j]
        sigma -= np.einsum("bq,br->bqr", sj, sj) / denominator[:, j, None, None]
        variance = np.einsum("bq,bqr,br->b", t, sigma, t)
        spent += cost[j]
        chosen.append((j, counts[j], float(np.sqrt(np.mean(variance))), spent))
        counts[j] += 1
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if not chosen:
        raise InputError("no candidate run fits the sweep budget (the cheapest costs "
                         f"{cost.min():.4g} FLOP)" if not np.any(cost <= budget)
                         else "no candidate run reduces the target's variance")
    import pandas as pd

    index = np.array([c[0] for c in chosen])
    runs = pd.DataFrame({"order": np.arange(len(chosen)), "N": N[index], "D": D[index],
                         "C": cost[index], "repeat": [c[1] for c in chosen],
                         "sd_after": [c[2] for c in chosen],
                         "compute_after": [c[3] for c in chosen]})
    centre, low, high = prior.target_interval(target, level)
    options = {"k": limit, "max_repeats": repeats, "max_draws": max_draws,
               "max_run_compute": max_run_compute, "flops_per_token": kk}
    return ActiveDesign(target=target, centre_value=centre, prior_interval=(low, high),
                        sd_before=before, sd_after=chosen[-1][2], confidence_level=level,
                        _runs=runs, compute_used=spent,
                        sweep_budget=None if sweep_budget is None else budget,
                        n_candidates=int(N.size), n_draws=int(t.shape[0]), fresh=prior.fresh,
                        prior_source=prior.source, options=options)


def _show_progress(progress, budget, limit, cost) -> bool:
    if progress is not None:
        return check_bool("progress", progress, allow_none=True)
    import sys

    picks = limit if limit is not None else budget / float(np.min(cost))
    return sys.stderr.isatty() and picks > 200


def _bar(show: bool):
    if not show:
        return None
    from .._progress import progress_bar as tqdm

    return tqdm(desc="active design", unit="run")
