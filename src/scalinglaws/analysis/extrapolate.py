r"""Extrapolation and allocation: predictions, compute-optimal models, under-training.

Every function takes a fitted law ``fit`` (a :class:`~scalinglaws.FitResult`, or anything
with ``.form`` and ``.params``) and answers one question about it:

===========================  ==========================================================
:func:`predict`              the loss at given inputs
:func:`chinchilla_frontier`  Hoffmann's efficient-frontier coefficients G, a, b
:func:`compute_optimal`      the model size and tokens minimising the loss at a budget C
:func:`compute_for_loss`     the smallest budget (and its N, D) that reaches a loss
:func:`tokens_for_loss`      the tokens a model of N parameters needs to reach a loss
:func:`iso_loss_curve`       every (N, D) reaching one loss
:func:`diagnose`             how far an existing (N, D) is from compute-optimal
:func:`inference_optimal`    the allocation minimising training plus inference compute
===========================  ==========================================================

Compute is counted as ``C = k N D`` with ``k = flops_per_token`` (6 by default:
Kaplan et al. 2020 Sec 2.1, Hoffmann et al. 2022 Sec 3). For the Chinchilla form
the allocation has a closed form (Hoffmann et al. 2022 Sec 3.3 Eq 4); every other
law with inputs ``(N, D)`` is solved numerically, vectorised over budgets.

Uncertainty
-----------
Every function takes ``draws``: an array ``(m, p)`` of public parameter vectors in
``fit.form.param_names`` order (e.g. bootstrap re-fits). Each returned quantity is
then recomputed for every draw and summarised by percentile intervals at
``confidence_level``. A draw under which a target is out of reach gives ``inf``
(it needs unlimited data or compute), which enters the percentiles and can make a
bound infinite; a draw whose computation fails (nan, or a numerical optimum on the
edge of the searched range) is left out. ``n_failed_draws`` counts the draws with
any non-finite result.

The functions live in :mod:`.predict`, :mod:`.allocation` and :mod:`.diagnose`, the results
in :mod:`.results`; this module gathers them (``from scalinglaws import extrapolate as ex``).

Results are frozen dataclasses with ``to_dict()`` (plain JSON-safe types) and
``to_frame()`` (a pandas DataFrame, one row per element).
"""

from __future__ import annotations

from ..laws.flops import critical_batch_size
from ._common import check_fit as _check_fit  # noqa: F401  (kept for code that used it)
from ._common import law_loss as _loss  # noqa: F401
from .allocation import (compute_for_loss, compute_optimal, inference_optimal, iso_loss_curve,
                         tokens_for_loss)
from .diagnose import diagnose
from .predict import chinchilla_frontier, irreducible_loss, predict
from .results import (Allocation, Diagnosis, FrontierCoefficients, InferenceAllocation,
                      IsoLossCurve, Prediction)

__all__ = [
    "Prediction",
    "FrontierCoefficients",
    "Allocation",
    "IsoLossCurve",
    "Diagnosis",
    "InferenceAllocation",
    "predict",
    "chinchilla_frontier",
    "compute_optimal",
    "compute_for_loss",
    "tokens_for_loss",
    "iso_loss_curve",
    "diagnose",
    "inference_optimal",
    "irreducible_loss",
    "critical_batch_size",
]
