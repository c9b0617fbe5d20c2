r"""The data-constrained compute-optimal allocation with bootstrap intervals.

:func:`data_constrained_allocation` answers what
:func:`scalinglaws.laws.datablations.data_constrained_optimal` answers (the ``(N, D)``
minimising Muennighoff et al. 2023's loss at a budget ``C = k N D`` under a limit of ``U``
unique tokens) for the fit's point estimate *and* for each of its parameter draws (by
default the bootstrap saved with the fit), and cuts each quantity's draws at the
``(1 - level)/2`` and ``(1 + level)/2`` percentiles: the same bootstrap percentile
confidence intervals as :func:`scalinglaws.compute_optimal`, made by the same code (the
draws chosen by ``analysis._common.rows_and_level``, summarised by ``summarise``).
"""

from __future__ import annotations

import numpy as np

from .._exceptions import InputError
from .._validation import broadcast_together, check_ratio_bounds
from ..laws.datablations import (DataConstrained, DataConstrainedAllocation, allocate_rows,
                                 data_constrained_optimal)
from ..uncertainty.prediction import Interval, describe_interval
from ._common import (check_array, check_fit, edge_free, quiet, rows_and_level, summarise,
                      warn_edge, warn_far_beyond)
from ._common import fit_flops_per_token

__all__ = ["INTERVAL_METHOD", "data_constrained_allocation"]

#: how the intervals are made (and the words that say so in results and the CLI)
INTERVAL_METHOD = "bootstrap percentile"

@quiet
def data_constrained_allocation(fit, compute, unique_tokens, *, flops_per_token=None,
                                tokens_per_parameter_bounds=None, draws=None,
                                confidence_level=None) -> DataConstrainedAllocation:
    r"""Allocation minimising a data-constrained fit's loss at a budget, with intervals.

    The point estimate is :func:`~scalinglaws.laws.datablations.data_constrained_optimal`
    of the fit's parameters; every parameter draw is allocated the same way, and each of
    ``N``, ``D``, ``epochs = D/U``, ``loss`` and ``tokens_per_parameter`` gets the
    percentile interval of its draws (a bootstrap percentile confidence interval when the
    draws are a bootstrap: where the law's optimum is, given the runs' scatter; not where
    a new model's loss will land).

    Parameters
    ----------
    fit : FitResult
        A ``data_constrained`` fit (or anything with that ``.form`` and ``.params``).
    compute : float or array_like
        Budgets ``C`` in FLOP.
    unique_tokens : float or array_like
        Unique tokens ``U`` available; broadcast against ``compute``.
    flops_per_token : float, optional
        ``k`` in ``C = k N D``; by default the fit's own (``fit.flops_per_token``: the
        runs' accounting at fit time, 6 for a fit that records none), as
        :func:`scalinglaws.compute_optimal`.
    tokens_per_parameter_bounds : (float, float), optional
        Range of ``D/N`` searched (default 1e-4 to 1e8). A draw whose optimum lies on its
        edge is left out (counted in ``n_failed_draws``); the point estimate's is flagged
        in ``at_search_edge`` and warned about.
    draws : None, False, BootstrapResult, DataFrame or array (m, 7), optional
        Parameter draws. ``None`` (default): the bootstrap saved with the fit, if any;
        ``False``: no intervals; otherwise the draws to use (as
        :func:`scalinglaws.compute_optimal`).
    confidence_level : float, optional
        Two-sided level; by default the bootstrap's own, else 0.95.

    Returns
    -------
    DataConstrainedAllocation
        The point estimate, ``intervals`` (``{name: Interval(low, high)}``, empty without
        draws), ``confidence_level``, ``interval`` (what the intervals are, e.g.
        ``"95% bootstrap percentile confidence interval"``), ``n_draws`` and
        ``n_failed_draws``.

    Examples
    --------
    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep("data_constrained", epochs=[1, 4, 16], noise=0.01, rng=0)
    >>> result = sl.fit(runs, "data_constrained")
    >>> result = result.with_bootstrap(sl.bootstrap(result, runs, 50, rng=0, progress=False))
    >>> best = data_constrained_allocation(result, 1e21, 5e9)
    >>> best.interval
    '95% bootstrap percentile confidence interval'
    >>> sorted(best.intervals)
    ['D', 'N', 'epochs', 'loss', 'tokens_per_parameter']
    >>> low, high = best.intervals["N"]
    >>> bool(low <= best.N <= high)
    True
    """
    form, point = check_fit(fit)
    if not isinstance(form, DataConstrained):
        raise InputError(f"`fit` must be a data_constrained fit, got form {form.name!r} (for "
                         "a law in N and D use scalinglaws.compute_optimal)")
    budgets = check_array("compute", compute)
    unique = check_array("unique_tokens", unique_tokens)
    k = fit_flops_per_token(fit, flops_per_token)
    bounds = None if tokens_per_parameter_bounds is None else check_ratio_bounds(
        tokens_per_parameter_bounds)
    budgets, unique = broadcast_together("compute", budgets, "unique_tokens", unique)
    shape = budgets.shape
    rows, n_draws, level = rows_and_level(fit, form, point, draws, confidence_level)
    best = data_constrained_optimal(dict(zip(form.param_names, point)), budgets, unique,
                                    flops_per_token=k, tokens_per_parameter_bounds=bounds)
    # row 0 the point estimate, then the draws, each allocated by the same search; a draw
    # with no usable parameters (non-finite, or not positive) has no optimum: nan, failed
    N, D, loss = (np.full((rows.shape[0], budgets.size), np.nan) for _ in range(3))
    at_edge = np.zeros((rows.shape[0], budgets.size), bool)
    N[0], D[0], loss[0] = (np.ravel(getattr(best, name)) for name in ("N", "D", "loss"))
    at_edge[0] = np.ravel(best.at_search_edge)
    valid = np.flatnonzero(np.all(np.isfinite(rows) & (rows > 0), axis=1)[1:]) + 1
    if valid.size:
        N[valid], D[valid], loss[valid], at_edge[valid] = allocate_rows(
            rows[valid], budgets.ravel(), unique.ravel(), k, bounds)
    usable = edge_free(at_edge)
    values = {"N": N * usable, "D": D * usable, "epochs": D / unique.reshape(1, -1) * usable,
              "loss": loss * usable, "tokens_per_parameter": D / N * usable}
    _, intervals, failed = summarise(values, shape, level, n_draws)
    warn_edge(at_edge[0], "the data-constrained compute-optimal model size",
              "widen `tokens_per_parameter_bounds` (the optimum of the law lies outside it)")
    warn_far_beyond(fit, {"N": N[0], "D": D[0]}, typed=("C",))
    described = {name: Interval(low, high, confidence_level=level, method=INTERVAL_METHOD)
                 for name, (low, high) in intervals.items()}
    return DataConstrainedAllocation(
        N=best.N, D=best.D, epochs=best.epochs, loss=best.loss, compute=best.compute,
        unique_tokens=best.unique_tokens, flops_per_token=best.flops_per_token,
        at_search_edge=best.at_search_edge, params=best.params, intervals=described,
        confidence_level=level if n_draws else None,
        interval=describe_interval(level, INTERVAL_METHOD) if n_draws else "none",
        n_draws=n_draws, n_failed_draws=failed)
