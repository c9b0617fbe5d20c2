r"""Plan a sweep: which runs to train, so the prediction at the target scale is as sure as
possible per FLOP spent.

:func:`plan_sweep` puts the pieces together for one target compute and one sweep budget:

1. the **standard** IsoFLOP grid habit gives (Hoffmann et al.'s layout scaled to the
   budget, :func:`~.designs.standard_design`);
2. the **planned** IsoFLOP grid: centred on the prior's optimum, bracketing it at every
   budget, the layout chosen to pin the target down (:func:`~.designs.planned_design`);
3. the **active** design: runs chosen one at a time for the largest variance reduction
   per FLOP (:func:`~.active.active_design`), and the share of the budget it needs to
   match the standard grid's predicted width;
4. optionally, real model **shapes** for every run (:func:`~scalinglaws.laws.shapes.
   propose_shapes`): layers, width, heads, batch, steps, exact FLOP and hours.

Every predicted width is linearised (:mod:`.prior`): :file:`bench/bench_plan.py` simulates
the sweeps, refits them and reports how far the predictions hold (README, "Planning a
sweep").
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import ExtrapolationWarning, InputError, user_stacklevel
from .._text import counted
from .._validation import FrozenDict, check_confidence_level, check_positive, seed_of, to_plain
from ..laws.shapes import propose_shapes
from .active import ActiveDesign, active_design
from .designs import Design, design_sd, planned_design, standard_design
from .prior import Prior, Target, normal_quantile

__all__ = ["SHAPE_TOLERANCE", "SweepPlan", "plan_sweep", "shapes_for_runs"]

#: A run whose best shape misses its planned size by more than this is flagged.
SHAPE_TOLERANCE = 0.05

_INTEGER_COLUMNS = ("n_layer", "d_model", "n_heads", "d_head", "d_ff", "n_vocab", "n_ctx",
                    "d_attn", "batch_sequences", "steps")


@dataclass(frozen=True)
class SweepPlan:
    """Three designs of one sweep, compared at equal compute, with shapes. Frozen.

    Attributes
    ----------
    target : Target
    prior : Prior
    sweep_budget : float
    confidence_level : float
    standard, planned : Design
        The habitual and the planned IsoFLOP grids (``predicted_sd`` filled in).
    active : ActiveDesign
    active_compute_to_match : float
        Compute the active design needs for the standard grid's predicted sd (NaN if it
        never gets there).
    shapes : pandas.DataFrame or None
        One row per run of the active design and of the planned grid (column ``design``)
        with its best real shape and training plan (``N_error``: how far the shape's count
        is from the planned N); ``n_layer`` empty where no shape comes within a factor 2.
    """

    target: Target
    prior: Prior = field(repr=False)
    sweep_budget: float
    confidence_level: float
    standard: Design = field(repr=False)
    planned: Design = field(repr=False)
    active: ActiveDesign = field(repr=False)
    active_compute_to_match: float
    _shapes: object = field(default=None, repr=False)
    options: FrozenDict = field(default_factory=FrozenDict)

    def __post_init__(self):
        object.__setattr__(self, "options", FrozenDict(self.options))
        if self._shapes is not None:
            object.__setattr__(self, "_shapes", self._shapes.copy())

    @property
    def shapes(self):
        return None if self._shapes is None else self._shapes.copy()

    def shape_costs(self):
        """``(design, exact FLOP of its shapes, FLOP planned as k N D)`` per design with
        shapes: 6 N D leaves out the output layer and attention, which weigh most at small
        scale (runs without a shape are left out of both sums)."""
        if self._shapes is None or "C" not in self._shapes:
            return []
        out = []
        for name, part in self._shapes.groupby("design", sort=False):
            part = part.dropna(subset=["C"])
            nominal = float((self.target.flops_per_token * part["N_planned"]
                             * part["D_planned"]).sum())
            out.append((name, float(part["C"].sum()), nominal))
        return out

    def comparison(self):
        """One row per design: runs, compute, predicted sd and interval width."""
        import pandas as pd

        z = normal_quantile(self.confidence_level)
        rows = []
        for name, design, sd in (("standard", self.standard, self.standard.predicted_sd),
                                 ("planned", self.planned, self.planned.predicted_sd),
                                 ("active", self.active.design(), self.active.sd_after)):
            width = 2 * z * sd
            rows.append({"design": name, "n_runs": design.n_runs,
                         "compute": design.total_compute, "predicted_sd": sd,
                         "width": width,
                         "width_factor": math.exp(width) if self.target.log_scale else math.nan})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        centre, low, high = self.prior.target_interval(self.target, self.confidence_level)
        return to_plain({
            "target": self.target.to_dict(), "sweep_budget": self.sweep_budget,
            "confidence_level": self.confidence_level,
            "prior": {"source": self.prior.source, "params": dict(self.prior.params),
                      "scatter": self.prior.scatter.sigma, "fresh": self.prior.fresh,
                      "n_draws": int(self.prior.draws.shape[0]), "seed": self.prior.seed,
                      "target": centre, "target_interval": [low, high]},
            "comparison": self.comparison().to_dict(orient="records"),
            "active_compute_to_match_standard": self.active_compute_to_match,
            "standard": self.standard.to_dict(), "planned": self.planned.to_dict(),
            "active": self.active.to_dict(),
            "shapes": None if self._shapes is None else self._shapes.astype(object).where(
                self._shapes.notna(), None).to_dict(orient="records"),
            "shape_costs": [{"design": d, "exact_flops": e, "planned_flops": n}
                            for d, e, n in self.shape_costs()],
            "options": dict(self.options)})

    def summary(self) -> str:
        t = self.target
        centre, low, high = self.prior.target_interval(t, self.confidence_level)
        shown = (lambda v: f"{math.exp(v):.4g}") if t.kind in ("N_opt", "loss") else \
            (lambda v: f"{v:.4g}")
        level = f"{100 * self.confidence_level:g}%"
        lines = [f"Sweep plan: {t.describe()}, sweep budget {self.sweep_budget:.4g} FLOP",
                 f"prior        {self.prior.source}",
                 (f"             {t.kind} = {shown(centre)} ({level} over the prior's draws "
                 f"{shown(low)} ... {shown(high)})"), "",
                 f"{'design':<10} {'runs':>5} {'compute':>10} {'pred. sd':>9} {level + ' width':>14}"]
        for row in self.comparison().itertuples():
            width = f"x{row.width_factor:.3g}" if t.log_scale else f"{row.width:.4g}"
            lines.append(f"{row.design:<10} {row.n_runs:>5d} {row.compute:>10.4g} "
                         f"{row.predicted_sd:>9.4g} {width:>14}")
        match = self.active_compute_to_match
        lines += ["", "active design matches the standard grid's predicted width with "
                  + (f"{match:.4g} FLOP ({match / self.sweep_budget:.0%} of the budget)"
                     if np.isfinite(match) else "no prefix of its runs")]
        brackets = self.planned.brackets
        if brackets is not None:
            lines.append(f"planned grid: {len(brackets)} budgets, all usable by isoflop_fit on "
                         "the prior's losses" if (brackets["status"] == "ok").all() else
                         "planned grid: some budgets fail isoflop_fit's guard rails (see "
                         "planned.brackets)")
        if self._shapes is not None:
            error = self._shapes["N_error"].abs().fillna(np.inf) if "N_error" in \
                self._shapes else np.full(len(self._shapes), np.inf)
            off = int(np.sum(error > SHAPE_TOLERANCE))
            lines.append(f"shapes: {counted(len(self._shapes), 'run')}"
                         + (f", {off} with no shape within {SHAPE_TOLERANCE:.0%} of the planned "
                            "size (the embeddings of the smallest width weigh too much)"
                            if off else ""))
            for name, exact, nominal in self.shape_costs():
                lines.append(f"  {name:<8} exact training FLOP of the shapes {exact:.4g}, "
                             f"{exact / nominal:.3g}x the {nominal:.4g} planned as k N D")
        lines += ["", ("Widths are linearised predictions (Gauss-Newton information averaged "
                  "over the prior's draws); the active design leans on the law's form at the "
                  "cheapest runs and the ends of each profile (README: 'Planning a sweep').")]
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def shapes_for_runs(N, D, *, loss=None, **shape_options):
    """The best real shape and training plan for each run ``(N, D)``: a DataFrame, one row
    per run (``N_planned``, ``D_planned`` and the :class:`~scalinglaws.laws.shapes.ShapeTable`
    columns, ``N_error`` the shape's miss); runs no shape comes within a factor 2 of get empty
    shape columns.

    ``loss`` (one per run, or None) sets the critical batch; ``shape_options`` go to
    :func:`~scalinglaws.laws.shapes.propose_shapes` (``n_shapes`` is 1).
    """
    import pandas as pd

    N = np.asarray(N, dtype=float).ravel()
    D = np.asarray(D, dtype=float).ravel()
    losses = np.full(N.size, np.nan) if loss is None else np.broadcast_to(
        np.asarray(loss, dtype=float), N.shape)
    cache, rows = {}, []
    for n, d, value in zip(N, D, losses):
        key = (float(n), float(d), float(value))
        if key not in cache:
            try:
                table = propose_shapes(n, D=d, loss=None if not np.isfinite(value) else value,
                                       n_shapes=1, **shape_options)
                cache[key] = dict(table.rows[0])
            except InputError as error:
                if "no shape" not in str(error):
                    raise
                cache[key] = {}
        rows.append({"N_planned": n, "D_planned": d, **cache[key]})
    frame = pd.DataFrame(rows)
    if "n_layer" not in frame.columns:
        frame["n_layer"] = np.nan
    for column in _INTEGER_COLUMNS:  # whole numbers for a launcher, empty where no shape
        if column in frame.columns:
            frame[column] = frame[column].astype("Int64")
    return frame


def plan_sweep(prior: Prior, *, target_compute: float | None = None, sweep_budget: float,
               target: Target | None = None, shapes: bool = False, shape_options=None,
               max_run_compute: float | None = None, confidence_level: float = 0.95,
               max_draws: int | None = 200, rng=0, progress: bool | None = None) -> SweepPlan:
    """Compare the standard, planned and active designs of a sweep at equal compute.

    Parameters
    ----------
    prior : Prior
        :func:`~.prior.published_prior` or :func:`~.prior.prior_from_fit`.
    target_compute : float, optional
        The budget (FLOP) of the model the sweep is for; needed unless ``target`` says it
        (a loss target's model has k N D). Given with a target of its own compute, it must
        agree with it to the digits it is written with (6e21 for k N D = 5.88e21; 1e22 is
        refused).
    sweep_budget : float
        Compute (FLOP) the sweep may spend.
    target : Target, optional
        Default ``Target.make("N_opt", C=target_compute)``.
    shapes : bool
        Propose a real shape and training plan for every run of the planned and active
        designs (the loss for the critical batch from the prior's centre).
    shape_options : mapping, optional
        Options of :func:`~scalinglaws.laws.shapes.propose_shapes` (``accounting``,
        ``n_vocab``, ``n_ctx``, ``d_head``, ``throughput``...). ``include_embeddings``
        defaults to True whatever the accounting: the planned N is the law's, and the
        Chinchilla law counts every parameter.
    max_run_compute : float, optional
        Largest single run of the active design's candidates (default ``sweep_budget / 20``).
    confidence_level : float
    max_draws : int, optional
        Prior draws the criteria average over.
    rng : seed
        Randomness of the subset of draws.
    progress : bool, optional
        Progress bar of the active design.

    Returns
    -------
    SweepPlan

    Examples
    --------
    >>> from scalinglaws.analysis.prior import published_prior
    >>> plan = plan_sweep(published_prior("epoch", n_draws=100), target_compute=1e24,
    ...                   sweep_budget=1e21, max_draws=50)
    >>> bool(plan.active.sd_after < plan.standard.predicted_sd)
    True
    """
    if not isinstance(prior, Prior):
        raise InputError(f"`prior` must be a Prior, got {type(prior).__name__}")
    sweep_budget = check_positive("sweep_budget", sweep_budget)
    level = check_confidence_level(confidence_level)
    if target is not None and not isinstance(target, Target):
        raise InputError(f"`target` must be a Target, got {type(target).__name__}")
    if target_compute is None and target is None:
        raise InputError("give `target_compute` (the FLOP of the model the sweep is for) or "
                         "a `target`")
    if target_compute is not None:
        target_compute = check_positive("target_compute", target_compute)
    target = Target.make("N_opt", C=target_compute) if target is None else target
    target_compute = _target_compute(target, target_compute)
    if not isinstance(shapes, (bool, np.bool_)):
        raise InputError(f"`shapes` must be True or False, got {shapes!r}")
    shape_options = dict(shape_options or {})
    # the planned N is the law's N: the Chinchilla law (and Hoffmann's fits) count embeddings
    shape_options.setdefault("include_embeddings", True)
    standard = standard_design(sweep_budget, flops_per_token=target.flops_per_token)
    standard = Design(kind=standard.kind, _runs=standard.runs, options=standard.options,
                      predicted_sd=design_sd(standard, prior, target, max_draws=max_draws,
                                             rng=rng))
    planned = planned_design(prior, target, sweep_budget, max_draws=max_draws, rng=rng,
                             flops_per_token=target.flops_per_token)
    active = active_design(prior, target, sweep_budget=sweep_budget,
                           max_run_compute=max_run_compute, confidence_level=level,
                           max_draws=max_draws, rng=rng, progress=progress,
                           flops_per_token=target.flops_per_token)
    match = active.compute_to_reach(standard.predicted_sd)
    _warn_below_prior(prior, (standard.runs, planned.runs, active.runs), sweep_budget)
    table = None
    if shapes:
        import pandas as pd

        parts = []
        law = prior.law()
        for name, design in (("active", active.design()), ("planned", planned)):
            loss = law.predict(N=design.N, D=design.D)
            part = shapes_for_runs(design.N, design.D, loss=loss, **shape_options)
            part.insert(0, "design", name)
            parts.append(part)
        table = pd.concat(parts, ignore_index=True)
    options = {"target_compute": target_compute, "max_run_compute": max_run_compute,
               "max_draws": max_draws, "shapes": bool(shapes), "shape_options": shape_options,
               "seed": seed_of(rng)}
    return SweepPlan(target=target, prior=prior, sweep_budget=sweep_budget,
                     confidence_level=level, standard=standard, planned=planned, active=active,
                     active_compute_to_match=match, _shapes=table, options=options)


def _target_compute(target: Target, given: float | None) -> float:
    """The compute of the model ``target`` is about (a loss target's k N D; the others'
    C), checked against ``given`` (``target_compute``) to the significant digits it is
    written with: a plan of one model's loss recorded under another model's compute (before,
    ``--target-compute`` was required with ``--target loss`` and then ignored)."""
    own = target.flops_per_token * target.N * target.D if target.kind == "loss" else target.C
    if given is None:
        return float(own)
    digits = len(f"{given:.14e}".split("e")[0].replace(".", "").rstrip("0")) or 1
    if not math.isclose(float(f"{own:.{digits - 1}e}"), given, rel_tol=1e-9):
        what = (f"k N D = {target.flops_per_token:g} x {target.N:.4g} x {target.D:.4g} = "
                f"{own:.4g} FLOP, the compute of the model whose loss is the target"
                if target.kind == "loss" else f"the target's C = {own:.4g} FLOP")
        raise InputError(f"`target_compute` {given:.4g} FLOP disagrees with {what}: leave "
                         "`target_compute` out, or make the two agree")
    return float(given)


def _warn_below_prior(prior: Prior, designs, sweep_budget: float) -> None:
    """Warn (:class:`~scalinglaws.ExtrapolationWarning`) when every run of the ``designs``
    (tables with ``N`` and ``D``) lies below the runs the prior's law was measured on
    (``prior.fitted_range``) in ``N*D``, ``N`` or ``D``: the sweep never reaches the data,
    so its widths rest on the law's form holding where nobody measured it."""
    ranges = prior.fitted_range
    frames = [d for d in designs if len(d)]
    if not ranges or not frames:
        return
    values = {"N": np.concatenate([d["N"].to_numpy(float) for d in frames]),
              "D": np.concatenate([d["D"].to_numpy(float) for d in frames])}
    values["N*D"] = values["N"] * values["D"]
    below = [f"{name} below {ranges[name][0]:.3g}, the smallest {name} of the runs behind "
             f"the prior ({ranges[name][0]:.3g} to {ranges[name][1]:.3g})"
             for name in ("N*D", "N", "D")
             if name in ranges and float(np.max(values[name])) < ranges[name][0]]
    if below:
        warnings.warn(f"`sweep_budget` {sweep_budget:.3g}: every run of the designs has "
                      f"{'; and '.join(below)}: the plan extrapolates the law downward, "
                      "where it was not measured, and its widths take the law's form to hold "
                      "there; give a larger sweep budget, or a prior fitted on runs at this "
                      "scale", ExtrapolationWarning, stacklevel=user_stacklevel())
