r"""Whether a fitted law fits its runs: the size of the log residuals, and a test that they
trend with compute, model size or data.

A law can converge (the optimiser found the best parameters of the form) and still not
fit: Porian et al.'s ``rw/tuned/short/const/standard/val`` runs lie 12% below the
Chinchilla law at the smallest budget, 8% above it at 4e17 FLOP and 4% below at the
largest, and the law predicts 3.28 nats where the largest runs reach 3.10. Both
quantities below go into ``result.diagnostics`` and :meth:`FitResult.summary
<scalinglaws.FitResult.summary>`:

* ``"residuals"``: ``rms`` and ``max`` of the log residuals :math:`z_i = \log f(x_i) -
  \log L_i` (0.05 is 5% of the loss), :func:`residual_size`;
* ``"lack_of_fit"``: present when the residuals trend (:func:`lack_of_fit`).

**The test** (a binned-means test, once per axis: ``C``, then each input of the law).
The runs are binned along the log of the axis: by its distinct values (an IsoFLOP
sweep's budgets) when there are 3 to :data:`MAX_LEVELS` of them with at least
:data:`MIN_BIN` runs each, else in quantile bins of about 10 runs (3 to 8 bins). Each
bin's mean residual :math:`\bar z_b` is compared with the mean of all, in units of the
bin's own standard error :math:`s_b / \sqrt{n_b}` (its within-bin scatter; when rows are
seeds or checkpoints of fewer runs, a bin's units are its runs, each the mean of its
rows in the bin):
:math:`t_b = (\bar z_b - \bar z) / (s_b/\sqrt{n_b})`. Each ``t_b`` goes through its
t distribution (``n_b - 1`` degrees of freedom) to a two-sided p-value and back to a
normal score :math:`q_b`; under a law that fits, :math:`\sum_b q_b^2` is at most
:math:`\chi^2` with one degree of freedom per bin (at most: the mean of all is taken
from the same residuals, and the fit absorbs part of any pattern). The law misfits along
that axis when the p-value of the sum is below :data:`P_VALUE` divided by the number of
axes tested (Bonferroni) **and** some bin's mean lies at least :data:`MIN_SHIFT` (0.5% of
the loss) from the mean of all: a trend too small to matter is not named, however many
runs establish it.

**Calibration** (``tests/fitting/test_lack_of_fit.py``; the README's 2-core machine,
2026-12-03): on 3,600 synthetic sweeps of the correct law (:func:`scalinglaws.generate_sweep`,
Chinchilla; 4 layouts of 4 to 12 budgets and 5 to 12 sizes; noise of 0.25%, 0.5%, 1%, 2%
and 5%, Gaussian and t(3); 90 seeds each) the test named a misfit in 1 (0.03%): a 5% t(3)
sweep whose smallest p-value, 3.26e-4, fell just under 3.33e-4. The smallest p-value
over the three axes fell below 1e-3 in 0.11% of the sweeps: the threshold holds its
nominal rate. :data:`MIN_SHIFT` is half the seed-to-seed spread of a final loss (about
1%): Epoch's 240 Chinchilla runs trend along N significantly (p = 6e-5) but by 0.4%,
and are not named; a sweep whose smallest models count a large embedding matrix
(:func:`~scalinglaws.laws.misspecified.misspecified_sweep` ``"embeddings"``, 0.25%
noise: those models lie up to 7% above the law) has its smallest-N bin 1.0% off, and is.
On the public sweeps in ``../shared`` the test names all 15 of Porian et al.'s settings
(p from 3e-5 to 4e-23; bins off by 1.2% to 14%: residuals of 2% to 9% RMS where Epoch's
are 0.75%), Muennighoff et al.'s 182 runs under their data-constrained law (p = 5e-13,
bins 3% below and 6% above), and Epoch's full 245 rows (the five of highest loss kept,
two of them diverged runs, which pull the law 0.7% off the runs of largest D).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._exceptions import LackOfFitWarning, user_stacklevel
from .._text import counted
from .outliers import diverged_mask, log_residuals

__all__ = ["P_VALUE", "MIN_SHIFT", "MIN_BIN", "MAX_LEVELS", "residual_size", "binned_trend",
           "lack_of_fit", "misfit_diagnostics", "misfit_text", "size_text", "warn_lack_of_fit",
           "warn_lack_of_fit_groups"]

P_VALUE = 1e-3  # all axes together (each is tested at P_VALUE / number of axes)
MIN_SHIFT = 0.005  # some bin's mean residual at least this far (log loss) from the mean
MIN_BIN = 3  # runs a bin needs for its own scatter (2 degrees of freedom)
MAX_LEVELS = 30  # more distinct values than this: quantile bins
_RUNS_PER_BIN, _FEWEST_BINS, _MOST_BINS = 10, 3, 8


def residual_size(z) -> dict | None:
    """``{"rms": ..., "max": ...}`` of the finite log residuals ``z`` (None when none is
    finite): the root mean square and the largest absolute value, in log loss."""
    z = np.asarray(z, dtype=float)
    z = z[np.isfinite(z)]
    if z.size == 0:
        return None
    return {"rms": float(np.sqrt(np.mean(z ** 2))), "max": float(np.max(np.abs(z)))}


def _bins(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Each run's bin along ``log(values)`` and whether the bins are the distinct values."""
    logs = np.log(values)
    levels, codes, counts = np.unique(np.round(logs, 6), return_inverse=True,
                                      return_counts=True)
    if _FEWEST_BINS <= levels.size <= MAX_LEVELS and counts.min() >= MIN_BIN:
        return codes.ravel(), True
    n_bins = int(np.clip(values.size // _RUNS_PER_BIN, _FEWEST_BINS, _MOST_BINS))
    edges = np.quantile(logs, np.linspace(0.0, 1.0, n_bins + 1))
    return np.clip(np.searchsorted(edges, logs, side="right") - 1, 0, n_bins - 1), False


def _run_means(z, codes, clusters):
    """Each (bin, run) pair's mean residual and its bin: the units of the test when rows
    are several of one run's (``clusters``: each row's run number)."""
    pairs, which = np.unique(np.column_stack([codes, clusters]), axis=0, return_inverse=True)
    which = which.ravel()
    means = np.bincount(which, weights=z) / np.bincount(which)
    return means, pairs[:, 0]


def binned_trend(z, values, axis: str, clusters=None) -> dict | None:
    """The binned-means test of the residuals ``z`` along ``values`` (positive, one per
    row) named ``axis`` (module notes). None when fewer than 3 bins hold
    :data:`MIN_BIN` runs. Otherwise ``axis``, ``p_value``, ``shift`` (the largest
    ``|mean of a bin - mean of all|``) and ``bins``: per bin ``low`` and ``high`` (its
    smallest and largest value), ``n`` and ``mean`` (its mean log residual).

    ``clusters`` (each row's run number, when rows are seeds or checkpoints of fewer
    runs) makes a bin's units its runs, each the mean of its rows in the bin: rows of one
    run share its deviation from the law, and counted as independent they made a law
    that fits misfit (two seeds of each of the bundled sweep's configurations: p =
    8.7e-6, where one seed gave no trend)."""
    from scipy import special

    z, values = np.asarray(z, dtype=float), np.asarray(values, dtype=float)
    keep = np.isfinite(z) & np.isfinite(values) & (values > 0)
    z, values = z[keep], values[keep]
    if z.size < _FEWEST_BINS * MIN_BIN:
        return None
    codes, _ = _bins(values)
    # each bin's range of values, from its rows (before they become runs' means)
    low, high = {}, {}
    for b in np.unique(codes):
        low[b], high[b] = float(values[codes == b].min()), float(values[codes == b].max())
    if clusters is not None:
        z, codes = _run_means(z, codes, np.asarray(clusters)[keep])
    used = [b for b in np.unique(codes) if np.sum(codes == b) >= MIN_BIN]
    if len(used) < _FEWEST_BINS:
        return None
    inside = np.isin(codes, used)
    centre = float(np.mean(z[inside]))
    bins, scores = [], []
    for b in used:
        part = z[codes == b]
        n, mean, sd = part.size, float(np.mean(part)), float(np.std(part, ddof=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = abs(mean - centre) / (sd / np.sqrt(n)) if sd > 0 else (
                np.inf if mean != centre else 0.0)
        tail = special.stdtr(n - 1, -t)  # one tail of t(n - 1)
        scores.append(special.ndtri(tail) ** 2 if tail > 0 else np.inf)
        bins.append({"low": low[b], "high": high[b], "n": int(n), "mean": mean})
    statistic = float(np.sum(scores))
    return {"axis": axis, "p_value": float(special.chdtrc(len(scores), statistic)),
            "n_bins": len(scores),
            "shift": float(max(abs(b["mean"] - centre) for b in bins)), "bins": bins}


def lack_of_fit(z, axes: dict, clusters=None) -> dict | None:
    """Whether the residuals ``z`` trend along any of ``axes`` (``{name: values}``, e.g.
    ``{"C": ..., "N": ..., "D": ...}``; ``clusters``: each row's run, see
    :func:`binned_trend`): the :func:`binned_trend` of the axis with the
    smallest p-value among those whose p-value is below :data:`P_VALUE` / (axes tested)
    and whose ``shift`` reaches :data:`MIN_SHIFT`, with ``also`` (the other axes that
    misfit) and ``threshold``; None when the law fits along every axis."""
    tests = [t for t in (binned_trend(z, v, name, clusters) for name, v in axes.items()) if t]
    if not tests:
        return None
    threshold = P_VALUE / len(tests)
    misfit = sorted((t for t in tests if t["p_value"] < threshold and t["shift"] >= MIN_SHIFT),
                    key=lambda t: t["p_value"])
    if not misfit:
        return None
    return {**misfit[0], "threshold": threshold, "min_shift": MIN_SHIFT,
            "also": [t["axis"] for t in misfit[1:]]}


def misfit_diagnostics(result, inputs: dict, loss, compute=None, clusters=None) -> dict:
    """What a fit adds to its diagnostics about its fit to the runs (``inputs``: the law's
    inputs by name, ``loss``, ``compute``: each run's FLOP, None to take ``k N D`` for a
    law of N and D; ``clusters``: each row's run when rows are seeds or checkpoints of
    fewer runs): ``"residuals"`` (:func:`residual_size`) and, when the law misfits,
    ``"lack_of_fit"`` (:func:`lack_of_fit`, the axes ``C`` and the law's inputs)."""
    z = log_residuals(result, inputs, loss)
    if z is None:
        return {}
    out = {}
    size = residual_size(z)
    if size is not None:
        out["residuals"] = size
    # a diverged run is named by its own warning (.outliers) and left out of the trend
    z = np.where(diverged_mask(z), np.nan, z)
    axes = {}
    if compute is None and {"N", "D"} <= set(inputs):
        compute = result.flops_per_token * np.asarray(inputs["N"], dtype=float) * np.asarray(
            inputs["D"], dtype=float)
    if compute is not None:
        axes["C"] = compute
    axes.update({name: values for name, values in inputs.items() if name != "C"})
    trend = lack_of_fit(z, axes, clusters)
    if trend is not None:
        low = float(np.min(np.asarray(loss, dtype=float)))
        floor = (result.params or {}).get("E")
        if floor is not None and floor > low:  # a floor above runs the law was fitted on
            trend = {**trend, "floor_above_runs": {"E": float(floor), "lowest_loss": low}}
        out["lack_of_fit"] = trend
    return out


def _where(axis: str, b: dict) -> str:
    same = np.isclose(b["low"], b["high"], rtol=1e-6)
    return f"{axis} = {b['low']:.3g}" if same else f"{axis} {b['low']:.3g}-{b['high']:.3g}"


def _offset(mean: float) -> str:
    """The runs of a bin against the law: mean log residual ``log f - log L`` as "12%
    below" (the runs' loss below the law's) or "8.1% above"."""
    with np.errstate(over="ignore"):  # a hand-edited file's mean may be anything
        percent = 100.0 * (np.exp(-mean) - 1.0)
    return f"{abs(percent):.2g}% {'above' if percent > 0 else 'below'}"


def _bins_text(trend: dict) -> str:
    """The bins furthest below and above the law and the last bin (the largest values:
    where the law is extrapolated from): ``"runs at C = 1.25e+16 lie 12% below the law
    (8 runs), at C = 4e+17 8.1% above (13 runs), at the largest, C = 2.56e+19, 4.4%
    below (6 runs)"``."""
    axis, bins = trend["axis"], trend["bins"]
    order = sorted(range(len(bins)), key=lambda i: bins[i]["mean"])
    named = list(dict.fromkeys((order[-1], order[0], len(bins) - 1)))
    words = []
    for k, i in enumerate(named):
        b = bins[i]
        where = _where(axis, b)
        if i == len(bins) - 1:
            where = f"the largest, {where},"
        words.append(f"{'runs ' if k == 0 else ''}at {where} "
                     f"{'lie ' if k == 0 else ''}{_offset(b['mean'])}"
                     f"{' the law' if k == 0 else ''} ({counted(b['n'], 'run')})")
    return ", ".join(words)


def misfit_text(trend: dict) -> str:
    """A ``diagnostics["lack_of_fit"]`` in words: the axis, the p-value and the bins that
    show the trend (``"the residuals trend with C (binned means against their within-bin
    scatter, p = 1.8e-11): runs at C = 1.25e+16 lie 12% below the law (8 runs), ..."``),
    and the fitted floor when it lies above runs the law was fitted on."""
    also = trend.get("also") or []
    text = (f"the residuals trend with {trend['axis']} (binned means against their "
            f"within-bin scatter, p = {trend['p_value']:.2g}"
            + (f"; also with {', '.join(also)}" if also else "") + "): " + _bins_text(trend))
    floor = trend.get("floor_above_runs")
    if floor:
        text += (f"; the fitted floor E = {floor['E']:.4g} lies above the lowest loss of the "
                 f"runs ({floor['lowest_loss']:.4g})")
    return text


def size_text(size: dict) -> str:
    """A ``diagnostics["residuals"]`` in words: ``"RMS 8.6%, largest 31%"`` (log residuals
    in percent of the loss)."""
    return f"RMS {100 * size['rms']:.2g}%, largest {100 * size['max']:.2g}%"


_CONSEQUENCE = ("Predictions beyond the runs, compute-optimal allocations and every interval "
                "assume the form fits. Check the runs that stray (undertrained small budgets, a "
                "change of schedule or recipe) and fit the range where the form holds "
                "(Runs.query), or another form")


def warn_lack_of_fit(result, source: str, *, group: str | None = None,
                     consequence: str = _CONSEQUENCE) -> None:
    """A :class:`~scalinglaws.LackOfFitWarning` when ``result.diagnostics`` hold a
    ``"lack_of_fit"`` (:func:`misfit_diagnostics`); ``source`` names the runs, ``group``
    (``"setting='a'"``) the group of a grouped fit whose law ``result`` is, and
    ``consequence`` says what rests on the law."""
    diagnostics = result.diagnostics or {}
    trend = diagnostics.get("lack_of_fit")
    if not trend:
        return
    where = source if group is None else f"{source}, group {group}"
    size = diagnostics.get("residuals")
    # status 0: the misfit is the form's, not the search's; otherwise the status has its
    # own warning, and the sentence is the plain finding
    lead = "the fit converged, but the law's form" if result.status == 0 else "the law's form"
    warnings.warn(f"{where}: {lead} misfits the runs: "
                  f"{misfit_text(trend)}" + (f"; residuals {size_text(size)}" if size else "")
                  + f". {consequence}; result.diagnostics['lack_of_fit'] holds the bins",
                  LackOfFitWarning, stacklevel=user_stacklevel())


def warn_lack_of_fit_groups(results: dict, source: str, column: str, *, shown: int = 5,
                            consequence: str = _CONSEQUENCE) -> list:
    """One :class:`~scalinglaws.LackOfFitWarning` for the groups of a grouped fit
    (``results``: group -> FitResult) whose law misfits, naming each (the first
    ``shown`` with their trend in words); one such group is warned of as a single fit
    is. Returns those groups."""
    misfit = [key for key, res in results.items() if (res.diagnostics or {}).get("lack_of_fit")]
    if len(misfit) == 1:
        warn_lack_of_fit(results[misfit[0]], source, group=f"{column}={misfit[0]!r}",
                         consequence=consequence)
    if len(misfit) < 2:
        return misfit
    words = []
    for key in misfit[:shown]:
        diagnostics = results[key].diagnostics
        trend, size = diagnostics["lack_of_fit"], diagnostics.get("residuals")
        words.append(f"{key!r} (with {trend['axis']}, p = {trend['p_value']:.2g}: "
                     f"{_bins_text(trend)}" + (f"; residuals {size_text(size)}" if size else "")
                     + ")")
    more = (f"; and {', '.join(map(repr, misfit[shown:]))}" if len(misfit) > shown else "")
    warnings.warn(f"{source}: the law's form misfits the runs of {len(misfit)} of "
                  f"{len(results)} groups of column {column!r}, whose residuals trend "
                  "(binned means against their within-bin scatter): "
                  + "; ".join(words) + more + f". {consequence}; "
                  "result[group].diagnostics['lack_of_fit'] holds the bins",
                  LackOfFitWarning, stacklevel=user_stacklevel())
    return misfit
