r"""The compute-optimal frontier of the Chinchilla law (Hoffmann et al. 2022 Sec 3.3 Eq 4).

Minimising :math:`L = E + A N^{-\alpha} + B D^{-\beta}` subject to :math:`C = kND` gives
:math:`N_{opt} = G (C/k)^a`, :math:`D_{opt} = G^{-1} (C/k)^b` with
:math:`G = (\alpha A / (\beta B))^{1/(\alpha+\beta)}`, :math:`a = \beta/(\alpha+\beta)`,
:math:`b = \alpha/(\alpha+\beta)`, and along it :math:`L^*(C) = E + K (C/k)^{-\gamma}`.
This module is the one implementation of that formula: allocation, the bootstrap's
tokens per parameter and the data-constrained law's allocation all call it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["chinchilla_columns", "frontier_terms", "tokens_per_parameter", "log_optimal_n_for_tokens"]


def chinchilla_columns(params: np.ndarray):
    """E, A, B, alpha, beta as ``(m, 1)`` columns."""
    return tuple(params[:, i:i + 1] for i in range(5))


def frontier_terms(params: np.ndarray) -> dict[str, np.ndarray]:
    r"""Hoffmann Eq 4 coefficients per row, ``(m, 1)`` each; nan where they do not exist.

    ``G = (alpha A / (beta B))^(1/(alpha+beta))``, ``a = beta/(alpha+beta)``,
    ``b = alpha/(alpha+beta)``; along the frontier
    ``L*(C) = E + K (C/k)^(-gamma)`` with ``gamma = alpha beta/(alpha+beta)`` and
    ``K = A G^-alpha + B G^beta``.
    """
    E, A, B, alpha, beta = chinchilla_columns(params)
    valid = (A > 0) & (B > 0) & (alpha > 0) & (beta > 0)
    with np.errstate(all="ignore"):
        total = alpha + beta
        log_G = (np.log(alpha * A) - np.log(beta * B)) / total
        terms = {
            "E": E, "alpha": alpha, "beta": beta, "A": A, "B": B,
            "log_G": log_G,
            "a": beta / total,
            "b": alpha / total,
            "gamma": alpha * beta / total,
            "log_K": np.log(A * np.exp(-alpha * log_G) + B * np.exp(beta * log_G)),
        }
    return {k: np.where(valid, v, np.nan) for k, v in terms.items()}


def tokens_per_parameter(params: np.ndarray, compute, flops_per_token: float = 6.0) -> np.ndarray:
    """``D_opt / N_opt`` at budget ``compute`` per row: ``G^-2 (C/k)^(b - a)``, shape ``(m, ...)``."""
    terms = frontier_terms(params)
    with np.errstate(all="ignore"):
        log_budget = np.log(np.asarray(compute, dtype=float) / flops_per_token)
        return np.exp((terms["b"] - terms["a"]) * log_budget - 2 * terms["log_G"])


def log_optimal_n_for_tokens(log_A, log_B, alpha, beta, log_D):
    r"""``log N`` of the model for which ``D`` tokens are compute-optimal (Eq 4 solved for N).

    From :math:`N = G (C/k)^a`, :math:`D = G^{-1} (C/k)^b`:
    :math:`\log N = [\log(\alpha A / (\beta B)) + \beta \log D] / \alpha`.
    """
    return (np.log(alpha) - np.log(beta) + log_A - log_B + beta * log_D) / alpha
