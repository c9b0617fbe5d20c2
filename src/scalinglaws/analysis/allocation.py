"""Compute-optimal allocation: the model size and tokens for a budget, the budget for a
loss, the tokens a model needs, iso-loss curves, and inference-aware allocation."""

from __future__ import annotations

import math

import numpy as np

from .._exceptions import InputError
from .._numeric import minimise_1d
from .._validation import check_ratio_bounds as _check_ratio_bounds
from .._validation import broadcast_together, renamed_argument
from ..laws.forms import Chinchilla
from ._common import (warn_far_beyond, BEYOND_OPTIMAL, COMPUTE_SEARCH, NEAREST_ASYMPTOTE,
                      TOKENS_PER_PARAMETER_BOUNDS, check_array, check_fit, check_flops,
                      check_method, check_scalar, check_target, edge_free, edge_out,
                      fit_flops_per_token, law_loss, quiet, rows_and_level, shaped, summarise,
                      warn_edge)
from .restricted import restricted_intervals
from .results import Allocation, InferenceAllocation, IsoLossCurve
from .solvers import (compute_for_loss_rows, optimal_for_compute, params_asymptote,
                      tokens_for_loss_rows)

__all__ = ["compute_optimal", "compute_for_loss", "tokens_for_loss", "iso_loss_curve",
           "inference_optimal"]


@quiet
def compute_optimal(fit, compute, *, flops_per_token=None, flops=None, method="auto",
                    tokens_per_parameter_bounds=None, draws=None, confidence_level=None,
                    tokens_per_param_bounds=None) -> Allocation:
    r"""Model size and tokens that minimise the loss at a compute budget.

    Minimises :math:`L(N, D)` subject to :math:`C = kND` (or ``flops(N, D) = C``).

    * Chinchilla, ``method="closed_form"``: Hoffmann et al. 2022 Sec 3.3 Eq 4,
      :math:`N_{opt} = G (C/k)^a`, :math:`D_{opt} = G^{-1} (C/k)^b` (see
      :func:`chinchilla_frontier`).
    * Any law in (N, D), ``method="numerical"``: minimise :math:`L(N, C/(kN))` over
      :math:`\log N` with :math:`D/N` in ``tokens_per_parameter_bounds``: a dense log grid
      brackets the minimum for every budget at once, then a vectorised golden section
      and finite-difference Newton steps refine it (agrees with the closed form to
      ~1e-9 relative).
    * ``flops(N, D)``: a user FLOP count (vectorised, increasing in D); D is solved from
      ``flops(N, D) = C`` for each N by bisection. Always numerical.

    On Kaplan's ``kaplan_nd`` form this is the optimum *of that law* at C = kND:
    N grows as C^0.575 with Kaplan's exponents
    (:func:`~scalinglaws.laws.kaplan.kaplan_nd_allocation_exponent`), not as Kaplan's
    C^0.73, which comes from training at the critical batch size and stopping early
    (Table 6: :func:`~scalinglaws.laws.kaplan.compute_efficient`).

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    compute : float or array_like
        Budgets C in FLOP (positive).
    flops_per_token : float, optional
        ``k`` in ``C = k N D`` (default: the fit's own, ``fit.flops_per_token``: what the
        runs were loaded with, 6 unless said otherwise); also the guide for the search
        range with ``flops``.
    flops : callable, optional
        ``flops(N, D) -> FLOP`` replacing ``k N D``.
    method : {"auto", "closed_form", "numerical"}
        ``"auto"`` uses the closed form when it exists (Chinchilla without ``flops``).
    tokens_per_parameter_bounds : (float, float), default (1e-6, 1e8)
        Range of D/N searched numerically. An optimum on its edge is flagged in
        ``at_search_edge`` and announced with a :class:`~scalinglaws.ConvergenceWarning`;
        draws whose optimum is on the edge count as failed.
    draws : None, False, BootstrapResult, DataFrame or array (m, p), optional
        Parameter draws for percentile intervals of every quantity. ``None`` (default):
        the bootstrap saved with the fit (``fit.bootstrap``), if any; ``False``: no
        intervals; otherwise the draws to use (see :func:`predict`).
    confidence_level : float, optional
        Coverage of the intervals; by default the bootstrap's own level when the draws
        are a bootstrap result, else 0.95 (see :func:`predict`).

    Returns
    -------
    Allocation
        ``compute, N, D, loss, tokens_per_parameter`` shaped like ``compute``, with
        ``intervals`` and the ``confidence_level`` they were made at.

    Raises
    ------
    InputError
        Bad arguments; a law with a single input (it cannot allocate); ``closed_form``
        requested where it does not exist.

    Examples
    --------
    Hoffmann's unrounded coefficients give N_opt = 4.04e10 at the Gopher budget 5.76e23
    (Fig 4 caption: ~40B); the printed, rounded ones give 3.22e10:

    >>> from scalinglaws import FitResult
    >>> from scalinglaws.laws.published import HOFFMANN_2022_ROUNDED, HOFFMANN_2022_TEX
    >>> for coefficients in (HOFFMANN_2022_TEX, HOFFMANN_2022_ROUNDED):
    ...     law = FitResult.from_params("chinchilla", coefficients)
    ...     print(f"{float(compute_optimal(law, 5.76e23).N):.3g}")
    4.04e+10
    3.22e+10

    A fit that carries a bootstrap gives intervals at the bootstrap's level by itself:

    >>> import scalinglaws as sl
    >>> runs = sl.generate_sweep(rng=0)
    >>> result = sl.fit(runs)
    >>> result = result.with_bootstrap(sl.bootstrap(result, runs, 100, rng=0,
    ...                                             confidence_level=0.8, progress=False))
    >>> allocation = compute_optimal(result, [1e22, 1e23])
    >>> allocation.confidence_level, sorted(allocation.intervals)
    (0.8, ['D', 'N', 'loss', 'tokens_per_parameter'])
    >>> compute_optimal(result, 1e22, draws=False).intervals
    {}
    """
    form, point = check_fit(fit, allocatable=True)
    budgets = check_array("compute", compute)
    k = fit_flops_per_token(fit, flops_per_token)
    flops = check_flops(flops)
    method = check_method(method, form, flops)
    ratio_bounds = _check_ratio_bounds(renamed_argument(
        "tokens_per_param_bounds", "tokens_per_parameter_bounds", tokens_per_param_bounds,
        tokens_per_parameter_bounds, TOKENS_PER_PARAMETER_BOUNDS))
    rows, n_draws, level = rows_and_level(fit, form, point, draws, confidence_level,
                                          needs_frontier=method == "closed_form")
    shape = budgets.shape
    def evaluate(parameter_rows):
        N, D, loss, at_edge = optimal_for_compute(
            form, parameter_rows, budgets.reshape(1, -1), k, method, flops=flops,
            ratio_bounds=ratio_bounds)
        usable = edge_free(at_edge)
        return {"N": N * usable, "D": D * usable, "loss": loss * usable,
                "tokens_per_parameter": D / N * usable}, at_edge

    values, at_edge = evaluate(rows)
    N, D = values["N"], values["D"]
    point_values, intervals, failed = summarise(values, shape, level, n_draws)
    intervals, interval_method = restricted_intervals(
        fit, lambda parameter_rows: evaluate(parameter_rows)[0], intervals, level)
    warn_edge(at_edge[0], "the compute-optimal model size",
               "widen `tokens_per_parameter_bounds` (the optimum of the law lies outside it)")
    warn_far_beyond(fit, {"N": N[0], "D": D[0]}, typed=("C",))
    return Allocation(question="compute_optimal", C=shaped(budgets, shape),
                      **point_values, method=method, flops_per_token=k,
                      at_search_edge=edge_out(at_edge[0], shape), intervals=intervals,
                      confidence_level=level, n_draws=n_draws, n_failed_draws=failed,
                      interval_method=interval_method)


@quiet
def compute_for_loss(fit, target_loss, *, flops_per_token=None, method="auto",
                     tokens_per_parameter_bounds=None, draws=None, confidence_level=None,
                     tokens_per_param_bounds=None) -> Allocation:
    r"""Smallest training compute that reaches a loss, and its compute-optimal N, D.

    The frontier loss :math:`L^*(C) = \min_{kND=C} L(N, D)` decreases with C, so the
    answer is its inverse. For Chinchilla it is closed (Hoffmann et al. 2022 Eq 4
    substituted into Eq 2): :math:`L^*(C) = E + K (C/k)^{-\gamma}`, so
    :math:`C = k \left(K / (L - E)\right)^{1/\gamma}` with
    :math:`\gamma = \alpha\beta/(\alpha+\beta)`, :math:`K = A G^{-\alpha} + B G^\beta`.
    Otherwise a vectorised bisection on :math:`\log C` over 1 to 1e70 FLOP.

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    target_loss : float or array_like
        Losses to reach; each must be above the irreducible loss (E for Chinchilla; the
        law's infimum otherwise).
    flops_per_token, method, tokens_per_parameter_bounds, draws, confidence_level :
        See :func:`compute_optimal`. A draw whose irreducible loss is above the
        target counts as failed.

    Returns
    -------
    Allocation

    Raises
    ------
    InputError
        A target at or below the irreducible loss, or unreachable below 1e70 FLOP.
    """
    form, point = check_fit(fit, allocatable=True)
    target = check_target(form, point, target_loss)
    k = fit_flops_per_token(fit, flops_per_token)
    method = check_method(method, form)
    ratio_bounds = _check_ratio_bounds(renamed_argument(
        "tokens_per_param_bounds", "tokens_per_parameter_bounds", tokens_per_param_bounds,
        tokens_per_parameter_bounds, TOKENS_PER_PARAMETER_BOUNDS))
    rows, n_draws, level = rows_and_level(fit, form, point, draws, confidence_level,
                                          needs_frontier=method == "closed_form")
    shape = target.shape

    def evaluate(parameter_rows):
        compute, N, D, at_edge = compute_for_loss_rows(
            form, parameter_rows, target.reshape(1, -1), k, method, ratio_bounds)
        usable = edge_free(at_edge)
        loss = law_loss(form, parameter_rows, N, D)
        return {"C": compute * usable, "N": N * usable, "D": D * usable,
                "loss": loss * usable, "tokens_per_parameter": D / N * usable}, at_edge

    values, at_edge = evaluate(rows)
    if not np.all(np.isfinite(values["C"][0])):
        raise InputError(f"`target_loss` {target.min():.6g} is not reached with less than "
                         f"{COMPUTE_SEARCH[1]:.0e} FLOP")
    point_values, intervals, failed = summarise(values, shape, level, n_draws)
    # the loss reached is the target in every draw (to rounding): not an interval to show
    intervals.pop("loss", None)
    intervals, interval_method = restricted_intervals(
        fit, lambda parameter_rows: evaluate(parameter_rows)[0], intervals, level)
    warn_edge(at_edge[0], "the compute-optimal model for this loss",
               "widen `tokens_per_parameter_bounds` or check the target loss")
    return Allocation(question="compute_for_loss", **point_values, method=method,
                      flops_per_token=k, at_search_edge=edge_out(at_edge[0], shape),
                      intervals=intervals, confidence_level=level, n_draws=n_draws,
                      n_failed_draws=failed, interval_method=interval_method)


@quiet
def tokens_for_loss(fit, target_loss, N=None, *, flops_per_token=None, draws=None,
                    confidence_level=None, n_params=None) -> Allocation:
    r"""Training tokens a model of ``N`` parameters needs to reach a loss.

    Answers "if I halve N, how many tokens do I need?". For Chinchilla
    :math:`D = \left(B / (L - E - A N^{-\alpha})\right)^{1/\beta}`, which needs
    :math:`N > (A/(L-E))^{1/\alpha}`; otherwise a bisection on :math:`\log D`.

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    target_loss, N : float or array_like
        Broadcast together.
    flops_per_token : float, optional
        ``k`` for the reported compute ``k N D``.
    draws, confidence_level :
        See :func:`compute_optimal` (by default the fit's own bootstrap, at its level);
        a draw for which N cannot reach the loss counts as failed.

    Returns
    -------
    Allocation

    Raises
    ------
    InputError
        N too small to ever reach the target (with any amount of data).
    """
    form, point = check_fit(fit, allocatable=True)
    target = check_target(form, point, target_loss)
    n = check_array("N", renamed_argument("n_params", "N", n_params, N))
    k = fit_flops_per_token(fit, flops_per_token)
    rows, n_draws, level = rows_and_level(fit, form, point, draws, confidence_level)
    target, n = broadcast_together("target_loss", target, "N", n)
    shape = target.shape

    def evaluate(parameter_rows):
        D = tokens_for_loss_rows(form, parameter_rows, target.reshape(1, -1), n.reshape(1, -1))
        n_rows = np.broadcast_to(n.reshape(1, -1), D.shape)
        return {"C": k * n_rows * D, "D": D, "tokens_per_parameter": D / n_rows}

    values = evaluate(rows)
    D = values["D"]
    if not np.all(np.isfinite(D[0])):
        asymptote = params_asymptote(form, rows[:1], target.reshape(1, -1))[0]
        bad = np.flatnonzero(~np.isfinite(D[0]))[0]
        raise InputError(f"`N` = {n.ravel()[bad]:.4g} cannot reach `target_loss` = "
                         f"{target.ravel()[bad]:.6g} with any number of tokens: it needs "
                         f"N > {asymptote[bad]:.4g}")
    point_values, intervals, failed = summarise(values, shape, level, n_draws)
    intervals, interval_method = restricted_intervals(fit, evaluate, intervals, level)
    return Allocation(question="tokens_for_loss", N=shaped(n, shape),
                      loss=shaped(target, shape), **point_values, method=(
                          "closed_form" if isinstance(form, Chinchilla) else "numerical"),
                      flops_per_token=k, at_search_edge=edge_out(np.zeros(shape, bool), shape),
                      intervals=intervals, confidence_level=level, n_draws=n_draws,
                      n_failed_draws=failed, interval_method=interval_method)


@quiet
def iso_loss_curve(fit, target_loss, N=None, n_points=50, *, flops_per_token=None,
                   draws=None, confidence_level=None, n_params=None) -> IsoLossCurve:
    r"""The (N, D) pairs that reach one loss: the iso-loss trade-off.

    For Chinchilla :math:`D(N) = \left(B / (L - E - A N^{-\alpha})\right)^{1/\beta}` for N
    above the asymptote :math:`N_\infty = (A/(L-E))^{1/\alpha}` (Hoffmann et al. 2022
    Sec 3.3 Eq 2 solved for D); other laws are solved numerically. The cheapest point of
    the curve in ``k N D`` is the compute-optimal model (:func:`compute_for_loss`).

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    target_loss : float
        One loss, above the irreducible loss.
    N : array_like, optional
        Model sizes at which to evaluate the curve; each must exceed the asymptote. By
        default ``n_points`` log-spaced sizes from ``max(N_opt/20, 1.02 N_inf)`` to
        ``20 N_opt``.
    n_points : int, default 50
        Points of the default grid.
    flops_per_token : float, optional
        ``k`` in ``C = k N D``.
    draws, confidence_level :
        See :func:`compute_optimal` (by default the fit's own bootstrap, at its level).
        Intervals are for ``D``, ``compute`` and
        ``tokens_per_parameter`` at the given sizes.

    Returns
    -------
    IsoLossCurve
    """
    form, point = check_fit(fit, allocatable=True)
    target = check_target(form, point, target_loss)
    if target.ndim != 0:
        raise InputError("`target_loss` must be a single number for one curve, "
                         f"got {target_loss!r}")
    if isinstance(n_points, (bool, np.bool_)) or not isinstance(n_points, (int, np.integer)) \
            or n_points < 2:
        raise InputError(f"`n_points` must be an integer >= 2, got {n_points!r}")
    k = fit_flops_per_token(fit, flops_per_token)
    rows, n_draws, level = rows_and_level(fit, form, point, draws, confidence_level)
    method = check_method("auto", form)
    target_row = np.full((1, 1), float(target))
    optimal_c, optimal_n, optimal_d, _ = compute_for_loss_rows(form, rows[:1], target_row, k, method)
    asymptote = float(params_asymptote(form, rows[:1], target_row)[0, 0])
    N = renamed_argument("n_params", "N", n_params, N)
    if N is None:
        low = max(float(optimal_n[0, 0]) / 20.0, 1.02 * asymptote)
        sizes = np.geomspace(low, 20.0 * float(optimal_n[0, 0]), int(n_points))
    else:
        sizes = check_array("N", N)
        if sizes.ndim > 1:
            raise InputError("`N` must be one number or a 1-D array, "
                             f"got shape {sizes.shape}")
        if np.any(sizes <= asymptote):
            raise InputError(f"`N` must all exceed {asymptote:.4g}: a smaller model never "
                             f"reaches `target_loss` = {float(target):.6g}")
    shape = sizes.shape

    def evaluate(parameter_rows):
        D = tokens_for_loss_rows(form, parameter_rows, target_row, sizes.reshape(1, -1))
        return {"D": D, "C": k * sizes.reshape(1, -1) * D,
                "tokens_per_parameter": D / sizes.reshape(1, -1)}

    point_values, intervals, failed = summarise(evaluate(rows), shape, level, n_draws)
    intervals, interval_method = restricted_intervals(fit, evaluate, intervals, level)
    return IsoLossCurve(target_loss=float(target), N=shaped(sizes, shape), **point_values,
                        N_asymptote=asymptote, optimal_N=float(optimal_n[0, 0]),
                        optimal_D=float(optimal_d[0, 0]),
                        optimal_C=float(optimal_c[0, 0]), flops_per_token=k,
                        intervals=intervals, confidence_level=level, n_draws=n_draws,
                        n_failed_draws=failed, interval_method=interval_method)


@quiet
def inference_optimal(fit, target_loss, inference_tokens, *, flops_per_token=None,
                      inference_flops_per_token=2.0, draws=None,
                      confidence_level=None) -> InferenceAllocation:
    r"""Allocation minimising training plus inference compute at a target loss.

    Sardana et al. 2024 (arXiv 2401.00448, Sec 2): choose N and training tokens D to

    .. math::

        \min_{N, D}\; k N D + k_{inf} N D_{inf}
        \quad\text{subject to}\quad L(N, D) = L_{target},

    with ``k = flops_per_token`` (default the fit's, usually 6) and
    ``k_inf = inference_flops_per_token`` (2 FLOP per parameter per token,
    :func:`scalinglaws.flops.inference_flops_per_token`). Along the
    iso-loss curve D is a function of N (:func:`tokens_for_loss`), leaving a 1-D
    minimisation over N between the asymptote N_inf and 10x the compute-optimal N (the
    inference term grows with N, so the optimum is never above the compute-optimal N).
    For Chinchilla the optimum satisfies (with k = 6, k_inf = 2)
    :math:`\alpha A N^{-\alpha} = \beta B D^{-\beta} (1 + D_{inf}/(3D))`; with
    ``inference_tokens = 0`` it is the compute-optimal model.

    Parameters
    ----------
    fit : FitResult
        A law with inputs ``N`` and ``D``.
    target_loss : float or array_like
        Loss to reach, above the irreducible loss.
    inference_tokens : float or array_like
        Tokens processed at inference over the model's life (non-negative); broadcast
        with ``target_loss``.
    flops_per_token, inference_flops_per_token : float
        Training and inference FLOP per parameter per token.
    draws, confidence_level :
        See :func:`compute_optimal` (by default the fit's own bootstrap, at its level).

    Returns
    -------
    InferenceAllocation
    """
    form, point = check_fit(fit, allocatable=True)
    target = check_target(form, point, target_loss)
    inference = check_array("inference_tokens", inference_tokens, allow_zero=True)
    k = fit_flops_per_token(fit, flops_per_token)
    k_inf = check_scalar("inference_flops_per_token", inference_flops_per_token)
    method = check_method("auto", form)
    rows, n_draws, level = rows_and_level(fit, form, point, draws, confidence_level,
                                          needs_frontier=method == "closed_form")
    target, inference = broadcast_together("target_loss", target, "inference_tokens", inference)
    shape = target.shape
    target_row, inference_row = target.reshape(1, -1), inference.reshape(1, -1)

    def evaluate(parameter_rows):
        """Every quantity of the allocation at each parameter row, and where a row's
        optimum sat on the searched range's edge."""
        _, optimal_n, optimal_d, _ = compute_for_loss_rows(form, parameter_rows, target_row,
                                                           k, method)
        asymptote = params_asymptote(form, parameter_rows, target_row)
        # search t = log(N/N_inf - 1): N -> N_inf needs unbounded data, so resolve it on a
        # log scale
        with np.errstate(all="ignore"):
            lower = np.full(asymptote.shape, math.log(NEAREST_ASYMPTOTE))
            upper = np.log(BEYOND_OPTIMAL * optimal_n / asymptote - 1.0)

        def sizes(t):
            return asymptote[..., None] * (1.0 + np.exp(t))

        def log_total_cost(t):
            n = sizes(t)
            d = tokens_for_loss_rows(form, parameter_rows, target_row[..., None], n)
            with np.errstate(all="ignore"):
                return np.log(n) + np.log(k * d + k_inf * inference_row[..., None])

        t, at_edge = minimise_1d(log_total_cost, lower, upper)
        N = sizes(t[..., None])[..., 0]
        D = tokens_for_loss_rows(form, parameter_rows, target_row, N)
        training = k * N * D
        serving = k_inf * N * inference_row
        total = training + serving
        chinchilla_total = k * optimal_n * optimal_d + k_inf * optimal_n * inference_row
        saving = chinchilla_total - total
        # The compute-optimal model is itself on the iso-loss curve, so the true minimum
        # never costs more; a deficit at rounding level (D_inf = 0) is reported as no saving.
        saving = np.where((saving < 0) & (saving > -1e-9 * chinchilla_total), 0.0, saving)
        usable = edge_free(at_edge)
        values = {"N": N, "D": D, "training_compute": training,
                  "inference_compute": serving, "total_compute": total,
                  "chinchilla_N": optimal_n, "chinchilla_D": optimal_d,
                  "chinchilla_total_compute": chinchilla_total, "saving": saving,
                  "saving_fraction": saving / chinchilla_total}
        return {name: v * usable for name, v in values.items()}, at_edge

    values, at_edge = evaluate(rows)
    point_values, intervals, failed = summarise(values, shape, level, n_draws)
    intervals, interval_method = restricted_intervals(fit, lambda r: evaluate(r)[0],
                                                      intervals, level)
    warn_edge(at_edge[0], "the inference-aware model size",
               "the inference demand pushes N to the asymptote of the target loss")
    return InferenceAllocation(target_loss=shaped(target, shape),
                               inference_tokens=shaped(inference, shape), **point_values,
                               flops_per_token=k, inference_flops_per_token=k_inf,
                               at_search_edge=edge_out(at_edge[0], shape), intervals=intervals,
                               confidence_level=level, n_draws=n_draws, n_failed_draws=failed,
                               interval_method=interval_method)
