r"""IsoFLOP budgets: which runs share a compute budget, and how many tokens an optimum gets.

Two questions :func:`scalinglaws.isoflop_fit` (Hoffmann et al. 2022, Approach 2) asks
of the runs before and after it finds each budget's optimal size ``N*``:

* :func:`group_budgets`: which runs form one budget (equal C within a relative
  tolerance, bins of log C, or a budget column);
* :class:`TokenModel`: the tokens ``D*`` a model of size ``N*`` trains on at the
  budget's C. With ``C = k N D`` that is ``C / (k N*)``; when the logged C is not
  ``6 N D`` (FLOP counts that include attention, say), it follows the runs' own
  ``C/(N D)`` or a FLOP model the user gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._validation import check_int, check_positive
from ..data.runs import Runs

#: Default relative tolerance of ``budget="C"``: runs whose C lie within 0.1% of the
#: smallest C of their budget share it. Logged FLOP counts of runs meant for one budget
#: differ by rounding to whole steps (under 1e-3 relative for runs of 1,000 steps or
#: more); the budgets of an IsoFLOP study are spaced by factors of 1.5 or more.
BUDGET_RTOL = 1e-3

#: Largest relative gap ``|C - k N D| / C`` for which runs count as ``C = k N D``.
EXACT_FLOPS_RTOL = 1e-6

_PROPORTIONAL_RTOL = 1e-9  # flops(N, 2D) = 2 flops(N, D) to this relative accuracy
_FLOPS_MISMATCH = 1e-2  # a user FLOP model this far from the logged C is probably wrong


def _cluster(values: np.ndarray, rtol: float) -> np.ndarray:
    """Labels 0..g-1: sorted values join the current group while within ``rtol`` of its
    smallest member (so a group never spans more than ``rtol``, however dense the values)."""
    order = np.argsort(values, kind="stable")
    labels = np.empty(len(values), dtype=int)
    label, start = -1, -math.inf
    for i in order:
        if values[i] > start * (1.0 + rtol):
            label, start = label + 1, values[i]
        labels[i] = label
    return labels


def group_budgets(runs: Runs, budget: Any, n_bins: Any, bin_width_dex: Any,
                  budget_rtol: Any) -> tuple[np.ndarray, str]:
    """Return (the budget key of every run, a description of the grouping)."""
    log_c = np.log10(runs.C)
    if budget is None and (n_bins is not None or bin_width_dex is not None):
        budget = "bin"
    if budget in (None, "C"):
        if n_bins is not None or bin_width_dex is not None:
            raise InputError("`n_bins`/`bin_width_dex` apply only with budget='bin'")
        rtol = check_positive("budget_rtol", budget_rtol)
        if rtol >= 0.1:
            raise InputError(f"`budget_rtol` must be below 0.1 (budgets 10% apart are "
                             f"different budgets), got {budget_rtol!r}")
        labels = _cluster(runs.C, rtol)
        n_distinct = int(labels.max()) + 1
        if budget is None and n_distinct > len(runs) / 3:
            raise InputError(
                f"`budget`: column 'C' takes {n_distinct} distinct values (within a relative "
                f"`budget_rtol` of {rtol:g}) over {len(runs)} runs, too many to be IsoFLOP "
                "budgets; pass budget='bin' with `bin_width_dex` or `n_bins` to group them by "
                "log compute, or budget='<column>' naming a budget column"
            )
        centres = np.array([np.exp(np.mean(np.log(runs.C[labels == g]))) for g in range(n_distinct)])
        return centres[labels], f"C (equal within {rtol:g} relative)"
    if budget == "bin":
        if n_bins is not None and bin_width_dex is not None:
            raise InputError("give one of `n_bins` and `bin_width_dex`, not both")
        if n_bins is None and bin_width_dex is None:
            raise InputError("budget='bin' needs `n_bins` or `bin_width_dex`")
        low, high = log_c.min(), log_c.max()
        if n_bins is not None:
            n_bins = check_int("n_bins", n_bins, 1)
            width = (high - low) / n_bins if high > low else 1.0
            description = f"{n_bins} log10(C) bins of {width:.3g} dex"
        else:
            width = check_positive("bin_width_dex", bin_width_dex)
            description = f"log10(C) bins of {width:g} dex from {low:.3f}"
        index = np.floor((log_c - low) / width).astype(int)
        if n_bins is not None:
            index = np.minimum(index, n_bins - 1)  # the maximum closes the last bin
        return index, description
    if not isinstance(budget, str):
        raise InputError(f"`budget` must be None, 'C', 'bin' or a column name, got {budget!r}")
    if n_bins is not None or bin_width_dex is not None:
        raise InputError("`n_bins`/`bin_width_dex` apply only with budget='bin'")
    return runs.labels(budget, "budget"), f"column {budget!r}"


class TokenModel:
    """The tokens ``D`` a model of size ``N`` trains on at a budget ``C``.

    ``kind`` says which relation is used (stored as ``flop_model`` in the result):

    * ``"flops_per_token"``: the runs satisfy ``C = k N D`` (to 1e-6 relative), so
      ``D = C / (k N)`` with the runs' ``flops_per_token``;
    * ``"runs"``: the logged C is not ``k N D`` for one k; within each budget the
      runs' own ``ln(C / (N D))`` is interpolated linearly in ``ln N`` (held at the
      end values outside the sampled sizes) and ``D = C / (k(N) N)``;
    * ``"flops"``: the user's ``flops(N, D)``, which must be proportional to ``D``
      (training FLOP = FLOP per token x tokens), so ``D = C / flops(N, 1)``.
    """

    def __init__(self, runs: Runs, flops: Callable | None):
        self.k = runs.flops_per_token
        self.flops = flops
        if flops is not None:
            if not callable(flops):
                raise InputError(f"`flops` must be a callable flops(N, D) -> FLOP, got {flops!r}")
            N, D, C = runs.N, runs.D, runs.C
            try:
                with np.errstate(all="ignore"):
                    value = np.asarray(flops(N, D), dtype=float)
                    doubled = np.asarray(flops(N, 2.0 * D), dtype=float)
            except Exception as error:  # a user callable may raise anything
                raise InputError(f"`flops` failed on the runs' N and D: {error}") from error
            if value.shape != N.shape or not np.all(np.isfinite(value) & (value > 0)):
                raise InputError("`flops(N, D)` must return finite positive FLOP counts, one "
                                 f"per run (shape {N.shape}), got shape {value.shape}")
            if not np.allclose(doubled, 2.0 * value, rtol=_PROPORTIONAL_RTOL, atol=0.0):
                raise InputError("`flops(N, D)` must be proportional to D (training FLOP = "
                                 "FLOP per token x tokens): flops(N, 2D) != 2 flops(N, D)")
            self.kind = "flops"
            self.mismatch = float(np.max(np.abs(value / C - 1.0)))
        elif runs.compute_mismatch() <= EXACT_FLOPS_RTOL:
            self.kind, self.mismatch = "flops_per_token", 0.0
        else:
            self.kind, self.mismatch = "runs", runs.compute_mismatch()
        self.warning = None
        if self.kind == "flops" and self.mismatch > _FLOPS_MISMATCH:
            self.warning = (f"`flops(N, D)` differs from the runs' logged C by up to "
                            f"{100 * self.mismatch:.3g}%; D* follows flops, the budgets the "
                            "logged C")

    def describe(self) -> str:
        """One line for summaries."""
        if self.kind == "flops_per_token":
            return f"D* = C/({self.k:g} N*)"
        if self.kind == "runs":
            return ("D* = C/(k(N*) N*), k(N) the runs' own C/(N D) interpolated in ln N "
                    f"(C differs from {self.k:g} N D by up to {100 * self.mismatch:.3g}%)")
        return "D* = C/flops(N*, 1), the user's FLOP model"

    def for_budget(self, c_value: float, n: np.ndarray, d: np.ndarray, c: np.ndarray):
        """``log_tokens(x)``: ln D at ``x = ln N`` (any shape) for one budget of compute
        ``c_value`` whose runs have sizes ``n``, tokens ``d`` and logged compute ``c``."""
        log_c = math.log(c_value)
        if self.kind == "flops_per_token":
            log_k = math.log(self.k)
            return lambda x: log_c - log_k - x
        if self.kind == "flops":
            flops = self.flops
            return lambda x: log_c - np.log(np.asarray(flops(np.exp(x), np.ones_like(x)), float))
        log_n, inverse = np.unique(np.log(n), return_inverse=True)
        log_k = np.bincount(inverse, np.log(c / (n * d))) / np.bincount(inverse)  # mean per size
        return lambda x: log_c - x - np.interp(x, log_n, log_k)

    def tokens(self, log_tokens, x: float, c_value: float, n_opt: float) -> float:
        """D* at ``x = ln N*`` (with ``C = k N D`` exactly the closed form ``C/(k N*)``)."""
        if self.kind == "flops_per_token":
            return c_value / (self.k * n_opt)
        return math.exp(float(log_tokens(np.float64(x))))
