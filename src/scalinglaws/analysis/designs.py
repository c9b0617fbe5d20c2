r"""Grid designs of a sweep: IsoFLOP grids that bracket the minimum, Chinchilla-style grids.

A design is a table of runs (N, D, C = k N D) with its total compute. Three ways to lay one
out, from habit to plan:

* :func:`standard_design`: Hoffmann et al.'s Approach-2 layout as usually copied: their
  nine budgets (6e18 ... 3e21 FLOP, scaled to your sweep's compute), twelve sizes per
  budget over a factor 10 either side of 20 tokens per parameter
  (:func:`~scalinglaws.laws.synthetic.isoflop_grid`).
* :func:`planned_design`: the IsoFLOP layout (number of budgets, their range, sizes per
  budget, spread of sizes) that minimises the linearised variance of a target
  (:mod:`.prior`) at the same compute, among layouts whose sizes are centred on the
  prior's optimum and bracket it at every budget for most of the prior's draws.
* :func:`nd_grid_design`: every model size at every token count (Hoffmann's Approach 1
  and 3 runs; the Chinchilla grid of sizes x horizons).

:func:`check_brackets` applies :func:`scalinglaws.isoflop_fit`'s guard rails to the
prior's noise-free losses of a design (the same rules, by running it) and says, per
budget, for what share of the prior's draws the lowest loss of the budget is not at its
smallest or largest size.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError, ScalingLawsWarning
from .._text import counted
from .._validation import FrozenDict, check_int, check_numbers, check_positive, check_rng
from ..data.runs import Runs
from ..fitting.isoflop import isoflop_fit
from ..laws.synthetic import DEFAULT_BUDGETS, isoflop_grid
from ._common import check_method, law_loss
from .prior import Prior, Target, target_variance
from .solvers import optimal_for_compute

__all__ = [
    "DEFAULT_LAYOUTS",
    "Design",
    "check_brackets",
    "design_sd",
    "isoflop_design",
    "nd_grid_design",
    "planned_design",
    "prior_optimal_size",
    "standard_design",
]

#: The IsoFLOP layouts :func:`planned_design` compares (every combination): budgets,
#: ratio of the largest to the smallest budget, sizes per budget, and spread of sizes
#: (largest/smallest size at a budget is ``span**2``).
DEFAULT_LAYOUTS = {"n_budgets": (4, 5, 6, 8, 10, 12), "compute_range": (30.0, 100.0, 300.0, 1000.0),
                   "n_sizes": (5, 7, 9, 12, 15), "span": (3.0, 5.0, 10.0)}


@dataclass(frozen=True)
class Design:
    """A sweep design: the runs and what they cost. Frozen.

    Attributes
    ----------
    kind : str
        ``"standard"``, ``"isoflop"``, ``"planned"``, ``"nd_grid"`` or ``"active"``.
    runs : pandas.DataFrame
        One row per run (a copy on each access): ``N``, ``D``, ``C`` (= k N D, FLOP),
        ``budget`` (index of the IsoFLOP budget; -1 outside an IsoFLOP grid).
    options : Mapping
        How the design was made (read-only).
    brackets : pandas.DataFrame or None
        The bracket check (:func:`check_brackets`), when a prior was given.
    predicted_sd : float
        Linearised sd of the target the design was planned for (NaN if none).
    """

    kind: str
    _runs: object = field(repr=False)
    options: FrozenDict = field(default_factory=FrozenDict)
    _brackets: object = field(default=None, repr=False)
    predicted_sd: float = math.nan

    def __post_init__(self):
        object.__setattr__(self, "_runs", self._runs.copy())
        object.__setattr__(self, "options", FrozenDict(self.options))
        if self._brackets is not None:
            object.__setattr__(self, "_brackets", self._brackets.copy())

    @property
    def runs(self):
        return self._runs.copy()

    @property
    def brackets(self):
        return None if self._brackets is None else self._brackets.copy()

    @property
    def N(self) -> np.ndarray:
        return self._runs["N"].to_numpy(dtype=float)

    @property
    def D(self) -> np.ndarray:
        return self._runs["D"].to_numpy(dtype=float)

    @property
    def total_compute(self) -> float:
        """Training FLOP of every run together."""
        return float(self._runs["C"].sum())

    @property
    def n_runs(self) -> int:
        return len(self._runs)

    def to_frame(self):
        """The runs (a copy)."""
        return self._runs.copy()

    def to_dict(self) -> dict:
        """Plain types: kind, totals, options, runs and the bracket check."""
        from .._validation import to_plain

        return to_plain({"kind": self.kind, "n_runs": self.n_runs,
                         "total_compute": self.total_compute, "predicted_sd": self.predicted_sd,
                         "options": dict(self.options),
                         "runs": self._runs.to_dict(orient="records"),
                         "brackets": None if self._brackets is None
                         else self._brackets.to_dict(orient="records")})

    def summary(self) -> str:
        iso = self._runs.loc[self._runs["budget"] >= 0]
        lines = [f"{self.kind} design: {counted(self.n_runs, 'run')}, {self.total_compute:.4g} "
                 "FLOP"]
        if len(iso):
            lines.append(f"  {iso['budget'].nunique()} IsoFLOP budgets {iso['C'].min():.3g} ... "
                         f"{iso['C'].max():.3g} FLOP, {len(iso) // iso['budget'].nunique()} "
                         "sizes each" if len(iso) % iso["budget"].nunique() == 0 else
                         f"  {iso['budget'].nunique()} IsoFLOP budgets {iso['C'].min():.3g} ... "
                         f"{iso['C'].max():.3g} FLOP")
        lines.append(f"  N {self._runs['N'].min():.3g} ... {self._runs['N'].max():.3g}, "
                     f"D {self._runs['D'].min():.3g} ... {self._runs['D'].max():.3g}")
        if np.isfinite(self.predicted_sd):
            lines.append(f"  predicted sd of the target {self.predicted_sd:.4g}")
        if self._brackets is not None:
            ok = int((self._brackets["status"] == "ok").sum())
            lines.append(f"  guard rails on the prior's losses: {ok} of {len(self._brackets)} "
                         f"budgets usable; bracketed for "
                         f"{100 * self._brackets['bracketed_fraction'].min():.0f}% or more of "
                         "the prior's draws at every budget")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _frame(N, D, k, budget):
    import pandas as pd

    N = np.asarray(N, dtype=float)
    D = np.asarray(D, dtype=float)
    return pd.DataFrame({"N": N, "D": D, "C": k * N * D,
                         "budget": np.asarray(budget, dtype=int)})


def prior_optimal_size(prior: Prior, budgets, flops_per_token: float = 6.0,
                       params=None) -> np.ndarray:
    """Compute-optimal N of the prior's centre (or of rows ``params``) at ``budgets``:
    ``(n,)`` for the centre, ``(m, n)`` for rows."""
    rows = prior.form.params_vector(prior.params)[None, :] if params is None else params
    budgets = np.asarray(budgets, dtype=float).reshape(1, -1)
    method = check_method("auto", prior.form)
    n_opt = optimal_for_compute(prior.form, rows, budgets, flops_per_token, method)[0]
    return n_opt[0] if params is None else n_opt


def isoflop_design(budgets, *, n_sizes: int = 12, span: float = 10.0, prior: Prior | None = None,
                   tokens_per_parameter: float = 20.0, flops_per_token: float = 6.0,
                   kind: str = "isoflop") -> Design:
    """An IsoFLOP grid: ``n_sizes`` log-spaced sizes from ``N0 / span`` to ``N0 * span`` at
    each budget, ``D = C / (k N)``.

    ``N0`` is the prior centre's compute-optimal size when ``prior`` is given, else the size
    at ``tokens_per_parameter`` (exactly :func:`~scalinglaws.laws.synthetic.isoflop_grid`).

    Examples
    --------
    >>> design = isoflop_design([1e19, 1e20], n_sizes=5, span=4.0)
    >>> design.n_runs, round(design.total_compute / 1.1e20, 12)
    (10, 5.0)
    """
    budgets = check_numbers("budgets", budgets, positive=True).ravel()
    n_sizes = check_int("n_sizes", n_sizes, 3)
    span = check_positive("span", span)
    if span <= 1:
        raise InputError(f"`span` must be > 1, got {span!r}")
    k = check_positive("flops_per_token", flops_per_token)
    if prior is None:
        grid = isoflop_grid(budgets, n_sizes, span, tokens_per_parameter, k)
        N, D, index = grid["N"], grid["D"], grid["budget"]
        centre = f"{tokens_per_parameter:g} tokens per parameter"
    else:
        n0 = prior_optimal_size(prior, budgets, k)
        sizes = n0[:, None] * np.geomspace(1.0 / span, span, n_sizes)[None, :]
        N = sizes.ravel()
        index = np.repeat(np.arange(budgets.size), n_sizes)
        D = budgets[index] / (k * N)
        centre = "the prior's compute-optimal size"
    options = {"budgets": budgets.tolist(), "n_sizes": n_sizes, "span": span,
               "centre": centre, "flops_per_token": k}
    return Design(kind=kind, _runs=_frame(N, D, k, index), options=options)


def standard_design(sweep_budget: float, *, budgets: Sequence[float] = DEFAULT_BUDGETS,
                    n_sizes: int = 12, span: float = 10.0, tokens_per_parameter: float = 20.0,
                    flops_per_token: float = 6.0) -> Design:
    """Hoffmann et al.'s IsoFLOP layout, as habit copies it, scaled to ``sweep_budget``.

    The budgets keep their ratios (default the nine Approach-2 budgets 6e18 ... 3e21) and
    are multiplied by one factor so that ``n_sizes`` runs at each cost ``sweep_budget`` in
    total; sizes as :func:`isoflop_design` around ``tokens_per_parameter``.

    Examples
    --------
    >>> design = standard_design(1e21)
    >>> design.n_runs, round(design.total_compute / 1e21, 12)
    (108, 1.0)
    """
    sweep_budget = check_positive("sweep_budget", sweep_budget)
    n_sizes = check_int("n_sizes", n_sizes, 3)
    relative = check_numbers("budgets", budgets, positive=True).ravel()
    scaled = relative * sweep_budget / (n_sizes * relative.sum())
    design = isoflop_design(scaled, n_sizes=n_sizes, span=span,
                            tokens_per_parameter=tokens_per_parameter,
                            flops_per_token=flops_per_token, kind="standard")
    return Design(kind="standard", _runs=design.runs,
                  options={**design.options, "sweep_budget": sweep_budget})


def nd_grid_design(N, *, D=None, tokens_per_parameter=None,
                   flops_per_token: float = 6.0) -> Design:
    """Every model size trained on every token count: a Chinchilla-style (N, D) grid.

    Give the token counts ``D`` (the same for every size), or ``tokens_per_parameter``
    ratios (``D = r N`` per size, as Hoffmann's horizons spanning 16x).

    Examples
    --------
    >>> grid = nd_grid_design([1e8, 4e8], tokens_per_parameter=[5, 20, 80])
    >>> grid.n_runs, f"{grid.total_compute:.4g}"
    (6, '1.071e+20')
    """
    sizes = check_numbers("N", N, positive=True).ravel()
    k = check_positive("flops_per_token", flops_per_token)
    if (D is None) == (tokens_per_parameter is None):
        raise InputError("give `D` (token counts) or `tokens_per_parameter` (ratios), one of them")
    if D is not None:
        tokens = check_numbers("D", D, positive=True).ravel()
        n_grid, d_grid = np.meshgrid(sizes, tokens, indexing="ij")
    else:
        ratios = check_numbers("tokens_per_parameter", tokens_per_parameter, positive=True).ravel()
        n_grid, r_grid = np.meshgrid(sizes, ratios, indexing="ij")
        d_grid = n_grid * r_grid
    options = {"N": sizes.tolist(), "flops_per_token": k,
               "D": None if D is None else tokens.tolist(),
               "tokens_per_parameter": None if tokens_per_parameter is None else ratios.tolist()}
    return Design(kind="nd_grid", _runs=_frame(n_grid.ravel(), d_grid.ravel(), k,
                                                np.full(n_grid.size, -1)), options=options)


def design_sd(design: Design, prior: Prior, target: Target, *, max_draws: int | None = 200,
              rng=0) -> float:
    """Linearised sd of ``target`` after fitting a law to ``design`` (:mod:`.prior`): the
    root mean over the prior's draws (at most ``max_draws``) of the variance."""
    theta = prior.design_rows(max_draws, check_rng("rng", rng))
    variance = target_variance(prior, target, design.N, design.D, theta=theta)
    return float(np.sqrt(np.mean(variance)))


def check_brackets(design: Design, prior: Prior, *, min_points: int = 5) -> object:
    """Per budget of an IsoFLOP design: are the prior's minima bracketed, and would
    :func:`scalinglaws.isoflop_fit` use it?

    Returns a DataFrame, one row per budget: ``budget``, ``C``, ``n_points``, ``N_min``,
    ``N_max``, ``N_opt`` (the prior centre's optimum), ``status`` and ``reason``
    (:func:`scalinglaws.isoflop_fit` on the centre's noise-free losses: its guard rails
    exactly), and ``bracketed_fraction``: the share of the prior's draws whose lowest loss
    at that budget is at neither the smallest nor the largest sampled size.
    """
    import pandas as pd

    frame = design.runs
    frame = frame.loc[frame["budget"] >= 0]
    if frame.empty:
        raise InputError("`design` has no IsoFLOP budgets to check")
    k = float(design.options.get("flops_per_token", 6.0))
    centre = prior.form.params_vector(prior.params)
    loss = law_loss(prior.form, centre[None, :], frame["N"].to_numpy()[None, :],
                    frame["D"].to_numpy()[None, :])[0]
    runs = Runs.from_arrays(N=frame["N"].to_numpy(), D=frame["D"].to_numpy(),
                            C=frame["C"].to_numpy(), loss=loss, budget=frame["budget"].to_numpy(),
                            flops_per_token=k)
    statuses, failure = {}, ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScalingLawsWarning)
            table = isoflop_fit(runs, budget="budget", min_points=min_points).budgets
        statuses = {int(r.budget): (r.status, r.reason) for r in table.itertuples()}
    except InputError as error:  # fewer than two usable budgets: the message says why
        failure = str(error)
    draw_loss = law_loss(prior.form, prior.draws, frame["N"].to_numpy()[None, :],
                         frame["D"].to_numpy()[None, :])
    rows = []
    budgets = sorted(frame["budget"].unique())
    n_opt = prior_optimal_size(prior, [frame.loc[frame["budget"] == b, "C"].iloc[0]
                                       for b in budgets], k)
    for b, optimum in zip(budgets, n_opt):
        member = np.flatnonzero(frame["budget"].to_numpy() == b)
        order = member[np.argsort(frame["N"].to_numpy()[member], kind="stable")]
        lowest = np.nanargmin(draw_loss[:, order], axis=1)
        inside = (lowest > 0) & (lowest < len(order) - 1)
        status, reason = statuses.get(int(b), ("not_fitted", failure))
        rows.append({"budget": int(b), "C": float(frame["C"].to_numpy()[member[0]]),
                     "n_points": len(member), "N_min": float(frame["N"].to_numpy()[order[0]]),
                     "N_max": float(frame["N"].to_numpy()[order[-1]]), "N_opt": float(optimum),
                     "status": status, "reason": reason,
                     "bracketed_fraction": float(np.mean(inside))})
    return pd.DataFrame(rows)


def planned_design(prior: Prior, target: Target, sweep_budget: float, *, layouts=None,
                   bracket_level: float = 0.95, max_draws: int | None = 200,
                   n_finalists: int = 8, flops_per_token: float = 6.0, rng=0) -> Design:
    """The IsoFLOP layout that pins ``target`` down best at ``sweep_budget``, and brackets.

    Every combination of ``layouts`` (default :data:`DEFAULT_LAYOUTS`) is laid out with
    :func:`isoflop_design` around the prior centre's optimum, its budgets log-spaced over
    ``compute_range`` and scaled so the runs cost ``sweep_budget`` together. A layout is
    admissible when, at every budget, at least ``bracket_level`` of the prior's draws have
    their lowest loss strictly inside the sampled sizes (so the guard rails of
    :func:`scalinglaws.isoflop_fit` keep the budget). Among admissible layouts the one with
    the smallest linearised sd of the target (at the centre, then averaged over the draws
    for the ``n_finalists`` best) is returned, with its bracket check.

    Examples
    --------
    >>> from scalinglaws.analysis.prior import published_prior, Target
    >>> prior = published_prior("epoch", n_draws=100)
    >>> design = planned_design(prior, Target.make("N_opt", C=1e24), 1e21)
    >>> bool((design.brackets["status"] == "ok").all()), round(design.total_compute / 1e21, 9)
    (True, 1.0)
    """
    sweep_budget = check_positive("sweep_budget", sweep_budget)
    k = check_positive("flops_per_token", flops_per_token)
    if not 0 < bracket_level < 1:
        raise InputError(f"`bracket_level` must be in (0, 1), got {bracket_level!r}")
    n_finalists = check_int("n_finalists", n_finalists, 1)
    generator = check_rng("rng", rng)
    layouts = DEFAULT_LAYOUTS if layouts is None else layouts
    missing = [key for key in DEFAULT_LAYOUTS if key not in layouts]
    if missing:
        raise InputError(f"`layouts` must give {', '.join(DEFAULT_LAYOUTS)}; missing {missing}")
    tail = 0.5 * (1.0 - bracket_level)
    scored = []
    for n_budgets, ratio, n_sizes, span in itertools.product(
            *(tuple(layouts[key]) for key in DEFAULT_LAYOUTS)):
        n_budgets = check_int("layouts['n_budgets']", n_budgets, 2)
        relative = np.geomspace(1.0, float(ratio), n_budgets)
        budgets = relative * sweep_budget / (n_sizes * relative.sum())
        draws_opt = np.log(prior_optimal_size(prior, budgets, k, params=prior.draws))
        low, high = np.nanquantile(draws_opt, [tail, 1.0 - tail], axis=0)
        centre = np.log(prior_optimal_size(prior, budgets, k))
        step = 2.0 * math.log(span) / (n_sizes - 1)
        # a draw is bracketed when a sampled size lies beyond its optimum on both sides by
        # more than half a step (then its lowest sampled loss is not at an end)
        if np.any(low < centre - math.log(span) + 0.5 * step) or \
                np.any(high > centre + math.log(span) - 0.5 * step):
            continue
        N = (np.exp(centre)[:, None] * np.geomspace(1.0 / span, span, n_sizes)[None, :]).ravel()
        D = np.repeat(budgets, n_sizes) / (k * N)
        sd = float(np.sqrt(target_variance(prior, target, N, D)[0]))
        scored.append((sd, (int(n_budgets), float(ratio), int(n_sizes), float(span)), budgets))
    if not scored:
        raise InputError("no IsoFLOP layout brackets the prior's optimum at every budget for "
                         f"{bracket_level:.0%} of its draws; widen `layouts['span']` or lower "
                         "`bracket_level`")
    scored.sort(key=lambda item: item[0])
    theta = prior.design_rows(max_draws, generator)
    finalists = []
    for _, layout, budgets in scored[:n_finalists]:
        design = isoflop_design(budgets, n_sizes=layout[2], span=layout[3], prior=prior,
                                flops_per_token=k, kind="planned")
        variance = target_variance(prior, target, design.N, design.D, theta=theta)
        finalists.append((float(np.sqrt(np.mean(variance))), layout, design))
    sd, layout, design = min(finalists, key=lambda item: item[0])
    options = {**design.options, "sweep_budget": sweep_budget, "bracket_level": bracket_level,
               "layout": dict(zip(DEFAULT_LAYOUTS, layout)), "target": target.to_dict(),
               "layouts_compared": len(scored)}
    return Design(kind="planned", _runs=design.runs, options=options,
                  _brackets=check_brackets(design, prior), predicted_sd=sd)
