"""The efficient frontier: compute-optimal model size against compute, with the published
frontiers and well-known models.

The figure only draws. The fit's frontier comes from
:func:`scalinglaws.compute_optimal`; Hoffmann et al.'s is the same function applied to
their published coefficients (:data:`~scalinglaws.laws.published.HOFFMANN_2022_TEX`);
Kaplan et al.'s is :func:`~scalinglaws.laws.published.kaplan_2020_frontier`; the models
are :func:`~scalinglaws.laws.published.known_models`.
"""

from __future__ import annotations

import numpy as np

from ..._validation import check_bool, check_confidence_level
from ...laws.published import KAPLAN_2020_FRONTIER, kaplan_2020_frontier
from ...laws.published import known_models as known_models_table
from ._checks import range_shown, check_canvas, check_result, positive_array, require_allocatable
from ._labels import place_labels
from ._style import LABELS, new_axes, sci

__all__ = ["efficient_frontier", "hoffmann_frontier", "kaplan_frontier"]

#: Kept for code that used ``plot.kaplan_frontier`` (and ``plot.known_models_table``,
#: imported above and re-exported by the package); the implementations live in
#: :mod:`scalinglaws.laws.published`.
kaplan_frontier = kaplan_2020_frontier


def _hoffmann_fit():
    """Hoffmann et al. (2022) Approach 3 with the unrounded (TeX source) coefficients."""
    from ...fitting.result import FitResult
    from ...laws.published import HOFFMANN_2022_TEX

    return FitResult.from_params("chinchilla", HOFFMANN_2022_TEX)


@range_shown
def hoffmann_frontier(compute):
    """Hoffmann et al. (2022) compute-optimal N at ``compute`` FLOP (C = 6ND, Eq 4), from the
    unrounded Approach-3 coefficients: :func:`scalinglaws.compute_optimal` of
    :data:`~scalinglaws.laws.published.HOFFMANN_2022_TEX` (about ``1.3000 (C/6)^0.4565``)."""
    from ...analysis.extrapolate import compute_optimal

    return compute_optimal(_hoffmann_fit(), compute, draws=False).N


@range_shown
def efficient_frontier(result, compute=None, draws=None, known_models=True, published=True, *,
                       models=None, confidence_level: float | None = None,
                       label_models: bool = True,
                       ax=None, figsize=None):
    """Compute-optimal model size N_opt against training compute, with comparisons.

    Draws the fit's N_opt(C) (:func:`scalinglaws.compute_optimal`, C = kND with the fit's
    own k, ``result.flops_per_token``, which the C axis's label states) with its
    bootstrap band, the published frontiers of Kaplan et al. (2020) and Hoffmann et al.
    (2022), and well-known models at their (C, N). A model above the fit's line has more
    parameters than its compute warrants: it is under-trained (too few tokens). A grey
    band marks the compute of the fitted runs (a fit that records its range): beyond it
    the line is the law's extrapolation.

    Parameters
    ----------
    result : FitResult
        A law in N and D (chinchilla, kaplan_nd, ...).
    compute : array_like, optional
        Budgets in FLOP (at least two); by default 1e18 to 1e26 (widened to the models
        shown).
    draws : BootstrapResult or array (m, p), optional
        Parameter draws for the band; by default ``result.bootstrap`` when attached.
    known_models : bool
        Show the models of ``models``.
    published : bool
        Show Kaplan's frontier ``N_opt = 1.3e9 * C_min^0.73`` (C_min in PF-days, N
        non-embedding parameters: not directly comparable) and Hoffmann's
        ``N_opt = G (C/6)^a`` from the unrounded Approach-3 coefficients (G = 1.3000,
        a = 0.4565).
    models : DataFrame or path, optional
        Table with ``name``, ``params``, ``tokens`` and optionally ``flops`` (else 6ND).
        Default: the table shipped with the package (``scalinglaws/data/known_models.csv``).
    confidence_level : float, optional
        Coverage of the band (default: the level the fit's bootstrap was made at, else
        0.95).
    label_models : bool
        Write each model's name beside its marker.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Size in inches of the new figure (default 7.2 x 5.4); not with ``ax``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from scalinglaws import fit, generate_sweep, plot
    >>> ax = plot.efficient_frontier(fit(generate_sweep(rng=0), "chinchilla"))
    >>> ax.get_legend().get_texts()[2].get_text()
    'Hoffmann et al. 2022: 1.30·(C/6)^0.4565'
    """
    from ...analysis._common import fit_flops_per_token
    from ...analysis.extrapolate import chinchilla_frontier, compute_optimal

    form = check_result(result)
    require_allocatable(form, "the efficient frontier")
    show_models = check_bool("known_models", known_models)
    published = check_bool("published", published)
    label_models = check_bool("label_models", label_models)
    if confidence_level is not None:
        confidence_level = check_confidence_level(confidence_level)
    figsize = check_canvas(ax, figsize)
    table = known_models_table(models) if show_models else None
    if compute is None:
        low, high = 1e18, 1e26
        if table is not None and len(table):
            low = min(low, table["flops"].min() / 3)
            high = max(high, table["flops"].max() * 3)
        compute = np.geomspace(low, high, 81)
    compute = np.sort(positive_array("compute", compute, minimum_size=2))
    # draws as given (None: the fit's own bootstrap, at its level), as compute_optimal reads them
    alloc = compute_optimal(result, compute, draws=draws, confidence_level=confidence_level)
    if table is not None and len(table):
        predicted = np.asarray(compute_optimal(result, table["flops"].to_numpy(float),
                                               draws=False).N,
                               dtype=float)

    ax = new_axes(ax, figsize, default=(7.2, 5.4))
    # where the fit has runs: the line and band beyond are the law's extrapolation
    fitted = (getattr(result, "fitted_range", None) or {}).get("N*D")
    k = fit_flops_per_token(result)  # compute_optimal's C = k N D: the fit's own k
    if fitted is not None:
        ax.axvspan(k * fitted[0], k * fitted[1], color="0.82", alpha=0.55, lw=0, zorder=1,
                   label="compute of the fitted runs")
    ax.plot(compute, alloc.N, color="tab:blue", lw=2.2, zorder=4,
            label=f"this fit ({form.name}): N_opt(C)")
    if "N" in alloc.intervals:
        low, high = alloc.intervals["N"]
        ax.fill_between(compute, low, high, color="tab:blue", alpha=0.2, lw=0, zorder=3,
                        label=f"{100 * alloc.confidence_level:g}% " + (
                            f"bootstrap percentile interval ({alloc.n_draws} draws)"
                            if alloc.interval_method in ("", "bootstrap percentile")
                            else f"interval: {alloc.interval_method}; {alloc.n_draws} draws"))
    if published:
        hoffmann = _hoffmann_fit()
        coefficients = chinchilla_frontier(hoffmann)
        ax.plot(compute, compute_optimal(hoffmann, compute).N, color="tab:green",
                ls="--", lw=1.5, zorder=3,
                label=f"Hoffmann et al. 2022: {coefficients.G:.2f}·(C/6)^{coefficients.a:.4f}")
        ax.plot(compute, kaplan_2020_frontier(compute), color="tab:purple", ls=":", lw=1.8,
                zorder=3,
                label=f"Kaplan et al. 2020: {sci(KAPLAN_2020_FRONTIER['N_e'], 2)}·C_min^"
                      f"{KAPLAN_2020_FRONTIER['p_N']:g}\n(C_min in PF-days; non-embedding N)")
    if table is not None and len(table):
        ratio = table["params"].to_numpy(float) / predicted
        over = ratio > 1
        xs, ys = table["flops"].to_numpy(float), table["params"].to_numpy(float)
        if over.any():
            ax.scatter(xs[over], ys[over], marker="^", s=46, color="tab:red", zorder=5,
                       edgecolors="black", linewidths=0.5,
                       label="models above the fit's N_opt (under-trained)")
        if (~over).any():
            ax.scatter(xs[~over], ys[~over], marker="v", s=46, color="tab:orange", zorder=5,
                       edgecolors="black", linewidths=0.5,
                       label="models at/below the fit's N_opt (more tokens per parameter)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(compute.min(), compute.max())
    ax.set_xlabel(LABELS["C"] + f", C = {k:g}ND")
    ax.set_ylabel("parameters N (lines: compute-optimal N_opt)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small", framealpha=0.92)
    ax.set_title("Efficient frontier: model size for a compute budget", fontsize="medium")
    if table is not None and len(table) and label_models:
        place_labels(ax, xs, ys, list(table["name"].astype(str)), fontsize=7.5)
    return ax
