"""The allocation solvers: each takes parameter rows ``(m, p)`` (the point estimate and
any draws) and arrays broadcastable to ``(m, n)``, and returns ``(m, n)`` arrays. The
Chinchilla law uses its closed-form frontier (:mod:`scalinglaws.laws.frontier`); any other
law in (N, D) is solved numerically, vectorised over rows and elements."""

from __future__ import annotations

import math

import numpy as np

from .._numeric import bisect_decreasing, minimise_1d
from ..laws.forms import Chinchilla
from ..laws.frontier import chinchilla_columns, frontier_terms
from ._common import (COMPUTE_SEARCH, PARAMS_SEARCH, TOKENS_PER_PARAMETER_BOUNDS, TOKENS_SEARCH,
                      UNLIMITED, law_loss)


def tokens_from_flops(flops, n_params, compute, flops_per_token):
    """D with ``flops(N, D) = C`` (flops increasing in D) by bisection on log D."""
    with np.errstate(all="ignore"):
        guess = np.log(compute / (flops_per_token * n_params))
        log_d, _ = bisect_decreasing(lambda x: -np.asarray(flops(n_params, np.exp(x)), float),
                                      guess - 40.0, guess + 40.0, -compute)
    return np.exp(log_d)


def optimal_for_compute(form, params, compute, flops_per_token, method, *, flops=None,
                         ratio_bounds=TOKENS_PER_PARAMETER_BOUNDS, polish=True):
    """Compute-optimal N, D, loss and search-edge flag at budgets ``compute``."""
    m = params.shape[0]
    compute = np.broadcast_to(compute, (m,) + np.shape(compute)[1:])
    if method == "closed_form":
        terms = frontier_terms(params)
        with np.errstate(all="ignore"):
            log_budget = np.log(compute / flops_per_token)
            n_params = np.exp(terms["log_G"] + terms["a"] * log_budget)
            n_tokens = np.exp(terms["b"] * log_budget - terms["log_G"])
        at_edge = np.zeros(compute.shape, bool)
    else:
        with np.errstate(all="ignore"):
            log_budget = np.log(compute / flops_per_token)
        # with C = k N D and D/N = r: log N = (log(C/k) - log r) / 2
        lower = 0.5 * (log_budget - math.log(ratio_bounds[1]))
        upper = 0.5 * (log_budget - math.log(ratio_bounds[0]))

        def tokens(log_n):
            n = np.exp(log_n)
            budget = compute[..., None]
            if flops is None:
                return budget / (flops_per_token * n)
            return tokens_from_flops(flops, n, np.broadcast_to(budget, n.shape), flops_per_token)

        log_n, at_edge = minimise_1d(lambda x: law_loss(form, params, np.exp(x), tokens(x)),
                                      lower, upper, polish=polish)
        n_params = np.exp(log_n)
        n_tokens = tokens(log_n[..., None])[..., 0]
    return n_params, n_tokens, law_loss(form, params, n_params, n_tokens), at_edge


def compute_for_loss_rows(form, params, target, flops_per_token, method,
                      ratio_bounds=TOKENS_PER_PARAMETER_BOUNDS):
    """Smallest compute reaching ``target`` on the frontier, its N, D, and an edge flag."""
    m = params.shape[0]
    target = np.broadcast_to(target, (m,) + np.shape(target)[1:])
    if method == "closed_form":
        terms = frontier_terms(params)
        with np.errstate(all="ignore"):
            excess = target - terms["E"]
            # invert L*(C) = E + K (C/k)^-gamma
            log_compute = (math.log(flops_per_token)
                           + (terms["log_K"] - np.log(np.where(excess > 0, excess, 0.0)))
                           / terms["gamma"])  # at or below E: log(0) = -inf, C = inf
        compute = np.exp(log_compute)
        at_edge = np.zeros(target.shape, bool)
    else:
        def frontier_loss(log_c):
            return optimal_for_compute(form, params, np.exp(log_c), flops_per_token, method,
                                        ratio_bounds=ratio_bounds, polish=False)[2]

        log_compute, at_edge = bisect_decreasing(
            frontier_loss, np.full(target.shape, math.log(COMPUTE_SEARCH[0])),
            np.full(target.shape, math.log(COMPUTE_SEARCH[1])), target, unreachable=np.inf)
        compute = np.exp(log_compute)
    n_params, n_tokens, _, edge = optimal_for_compute(form, params, compute, flops_per_token,
                                                       method, ratio_bounds=ratio_bounds)
    return compute, n_params, n_tokens, at_edge | edge


def optimal_compute_for_params(form, params, n_params, flops_per_token, method,
                                ratio_bounds=TOKENS_PER_PARAMETER_BOUNDS):
    """C*(N): the budget at which ``n_params`` is compute-optimal (N_opt(C) = N)."""
    m = params.shape[0]
    n_params = np.broadcast_to(n_params, (m,) + np.shape(n_params)[1:])
    if method == "closed_form":
        terms = frontier_terms(params)
        # N = G (C/k)^a  =>  C = k (N/G)^(1/a)
        with np.errstate(all="ignore"):
            return flops_per_token * np.exp((np.log(n_params) - terms["log_G"]) / terms["a"])

    def minus_optimal_n(log_c):  # N_opt(C) increases with C
        return -optimal_for_compute(form, params, np.exp(log_c), flops_per_token, method,
                                     ratio_bounds=ratio_bounds)[0]

    # N is optimal somewhere with D/N inside the searched range: C = k N^2 (D/N)
    base = math.log(flops_per_token) + 2 * np.log(n_params)
    log_c, _ = bisect_decreasing(minus_optimal_n, base + math.log(ratio_bounds[0]),
                                  base + math.log(ratio_bounds[1]), -n_params)
    return np.exp(log_c)


def tokens_for_loss_rows(form, params, target, n_params):
    """D with L(N, D) = target (inf where N cannot reach the target)."""
    m = params.shape[0]
    shape = (m,) + np.broadcast_shapes(np.shape(target), np.shape(n_params))[1:]
    target, n_params = np.broadcast_to(target, shape), np.broadcast_to(n_params, shape)
    if isinstance(form, Chinchilla):
        E, A, B, alpha, beta = chinchilla_columns(params)
        if len(shape) > 2:
            E, A, B, alpha, beta = (c.reshape((m,) + (1,) * (len(shape) - 1))
                                    for c in (E, A, B, alpha, beta))
        with np.errstate(all="ignore"):
            remaining = target - E - A * n_params ** -alpha  # what the data term may add
            return np.where(remaining > 0, (B / remaining) ** (1.0 / beta), np.inf)
    log_d, _ = bisect_decreasing(lambda x: law_loss(form, params, n_params, np.exp(x)),
                                  np.full(shape, math.log(TOKENS_SEARCH[0])),
                                  np.full(shape, math.log(TOKENS_SEARCH[1])), target,
                                  unreachable=np.inf)
    return np.exp(log_d)


def params_asymptote(form, params, target):
    """N below which ``target`` is out of reach with any data: L(N, infinity) = target."""
    m = params.shape[0]
    target = np.broadcast_to(target, (m,) + np.shape(target)[1:])
    if isinstance(form, Chinchilla):
        E, A, _, alpha, _ = chinchilla_columns(params)
        with np.errstate(all="ignore"):
            excess = np.where(target > E, target - E, 0.0)
            return (A / excess) ** (1.0 / alpha)  # target at or below E: inf
    log_n, _ = bisect_decreasing(lambda x: law_loss(form, params, np.exp(x), UNLIMITED),
                                  np.full(target.shape, math.log(PARAMS_SEARCH[0])),
                                  np.full(target.shape, math.log(PARAMS_SEARCH[1])), target,
                                  unreachable=np.inf)
    return np.exp(log_n)
