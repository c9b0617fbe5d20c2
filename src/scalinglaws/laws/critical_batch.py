"""Kaplan et al. (2020)'s critical batch size and the least steps and compute it implies.

``B_crit(L) = B* / L**(1/alpha_B)`` (Kaplan Eq 1.4 / 5.3, after McCandlish et al. 2018),
``S_min = S / (1 + B_crit/B)`` (Eq 5.4) and ``C_min = C / (1 + B/B_crit)`` (Eq 5.5), with
Kaplan's constants ``B*`` and ``alpha_B``. Importable from :mod:`scalinglaws.laws.flops`
as before.
"""

from __future__ import annotations

import numpy as np

from ._quantity_checks import as_output as _out
from ._quantity_checks import check_quantity as _check

__all__ = ["KAPLAN_ALPHA_B", "KAPLAN_B_STAR", "KAPLAN_B_STAR_TABLE5", "critical_batch_size",
           "min_compute", "min_steps"]

KAPLAN_B_STAR = 2e8
"""Kaplan et al. 2020 critical-batch scale B* in tokens, as in Eq 1.4 / 5.3 (default here)."""

KAPLAN_B_STAR_TABLE5 = 2.1e8
"""The same constant as printed in Kaplan et al. 2020 App A Table 5."""

KAPLAN_ALPHA_B = 0.21
"""Kaplan et al. 2020 critical-batch exponent alpha_B (Eq 1.4, Table 5)."""


def critical_batch_size(loss, b_star=KAPLAN_B_STAR, alpha_b=KAPLAN_ALPHA_B):
    """Critical batch size in tokens, ``B_crit(L) = B* / L**(1 / alpha_B)``.

    Kaplan et al. 2020 Eq 1.4 / 5.3, after McCandlish et al. 2018 (arXiv
    1812.06162). Eq 1.4 and 5.3 give ``B* ~ 2e8`` tokens while App A Table 5
    prints ``2.1e8`` (:data:`KAPLAN_B_STAR_TABLE5`); we default to ``2e8``.
    ``alpha_B = 0.21``. Examples: B_crit(3.0) ~ 1.07e6, B_crit(2.0) ~ 7.37e6.

    Parameters
    ----------
    loss : float or array_like
        Loss L in nats per token (positive).
    b_star : float, default 2e8
        Scale B* in tokens.
    alpha_b : float, default 0.21
        Exponent alpha_B.

    Returns
    -------
    float or ndarray
        B_crit in tokens.
    """
    loss = _check("loss", loss)
    b_star = _check("b_star", b_star)
    alpha_b = _check("alpha_b", alpha_b)
    return _out(b_star / loss ** (1.0 / alpha_b))


def min_steps(steps, batch_size, loss, b_star=KAPLAN_B_STAR, alpha_b=KAPLAN_ALPHA_B):
    """Minimum steps to reach ``loss``, ``S_min = S / (1 + B_crit(L) / B)`` (Kaplan Eq 5.4).

    ``S_min`` is approached when training with ``B >> B_crit``; at ``B = B_crit``
    ``S = 2 S_min``.

    Parameters
    ----------
    steps : float or array_like
        Steps S actually taken at batch size B.
    batch_size : float or array_like
        Batch size B in tokens.
    loss : float or array_like
        Loss reached (nats/token), sets B_crit via :func:`critical_batch_size`.
    b_star, alpha_b : float
        See :func:`critical_batch_size`.

    Returns
    -------
    float or ndarray
        S_min.
    """
    s = _check("steps", steps)
    b = _check("batch_size", batch_size)
    b_crit = np.asarray(critical_batch_size(loss, b_star, alpha_b))
    return _out(s / (1.0 + b_crit / b))


def min_compute(compute, batch_size, loss, b_star=KAPLAN_B_STAR, alpha_b=KAPLAN_ALPHA_B):
    """Minimum compute to reach ``loss``, ``C_min = C / (1 + B / B_crit(L))`` (Kaplan Eq 5.5).

    ``C_min`` is approached when training with ``B << B_crit``; at ``B = B_crit``
    ``C = 2 C_min``. Here ``C = 6 N B S``.

    Parameters
    ----------
    compute : float or array_like
        Compute C actually used (FLOP or PF-days; the result has the same unit).
    batch_size : float or array_like
        Batch size B in tokens.
    loss : float or array_like
        Loss reached (nats/token).
    b_star, alpha_b : float
        See :func:`critical_batch_size`.

    Returns
    -------
    float or ndarray
        C_min.
    """
    c = _check("compute", compute)
    b = _check("batch_size", batch_size)
    b_crit = np.asarray(critical_batch_size(loss, b_star, alpha_b))
    return _out(c / (1.0 + b / b_crit))
