"""The frozen results of the analysis functions, and their text and table forms."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import readonly_array
from ..laws.flops import PF_DAY

# Prediction is made at the uncertainty stage (BootstrapResult.predict returns one too); it is
# imported here, where it was defined before, so this path and pickles made under it work
from ..uncertainty.prediction import (  # noqa: F401
    _INTERVAL_FIELDS_DOC,
    IntervalKind,
    Prediction,
    _ResultMixin,
)


@dataclass(frozen=True, eq=False)
class FrontierCoefficients(_ResultMixin):
    r"""Hoffmann et al. 2022 Eq 4 efficient frontier of a Chinchilla law.

    ``N_opt = G (C/k)^a``, ``D_opt = G^-1 (C/k)^b`` and, along it,
    ``L*(C) = E + K (C/k)^-gamma``.

    Attributes
    ----------
    G, a, b : float
        ``G = (alpha A/(beta B))^(1/(alpha+beta))``, ``a = beta/(alpha+beta)``,
        ``b = alpha/(alpha+beta)``.
    gamma, K : float
        ``gamma = alpha beta/(alpha+beta)``, ``K = A G^-alpha + B G^beta``.
    interval_method : str
        How ``intervals`` were made, as :attr:`Allocation.interval_method` says (a tied
        fit's a = b = 0.5 in every draw).
    """

    G: float
    a: float
    b: float
    gamma: float
    K: float
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    interval_method: str = ""
    _ELEMENT_FIELDS = ("G", "a", "b", "gamma", "K")


@dataclass(frozen=True, eq=False)
class Allocation(_ResultMixin):
    """A point (C, N, D, loss) on or off the frontier.

    Returned by :func:`compute_optimal` (given C), :func:`compute_for_loss` (given the
    loss) and :func:`tokens_for_loss` (given the loss and N).

    Attributes
    ----------
    question : str
        ``"compute_optimal"``, ``"compute_for_loss"`` or ``"tokens_for_loss"``.
    C : float or ndarray
        Training FLOP (``k N D``, or ``flops(N, D)`` for a user function).
    N, D : float or ndarray
        Parameters N and training tokens D.
    loss : float or ndarray
        Predicted loss at (N, D).
    tokens_per_parameter : float or ndarray
        ``D / N``.
    method : str
        ``"closed_form"`` or ``"numerical"``.
    flops_per_token : float
        ``k`` in ``C = k N D``.
    at_search_edge : bool or ndarray
        The numerical optimum sits at the edge of the searched range (not an optimum of
        the law; widen ``tokens_per_parameter_bounds``).
    interval_method : str
        How ``intervals`` were made: ``"bootstrap percentile"``; for a fit with tied or
        fixed parameters ``"bootstrap percentile (tie bias excluded)"`` (every refit kept
        the restriction, so the intervals hold it as exact) or, from a calibrated law,
        ``"bootstrap percentile, widened to the fit without the tie (delta method)"``
        (:mod:`scalinglaws.analysis.restricted`); ``""`` without intervals. The same in
        :class:`IsoLossCurve`, :class:`Diagnosis`, :class:`InferenceAllocation` and
        :class:`FrontierCoefficients`.
    """

    question: str
    C: Any
    N: Any
    D: Any
    loss: Any
    tokens_per_parameter: Any
    method: str
    flops_per_token: float
    at_search_edge: Any = False
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    interval_method: str = ""
    _ELEMENT_FIELDS = ("C", "N", "D", "loss", "tokens_per_parameter",
                       "at_search_edge")


@dataclass(frozen=True, eq=False)
class IsoLossCurve(_ResultMixin):
    """The (N, D) pairs that reach one loss (see :func:`iso_loss_curve`).

    Attributes
    ----------
    target_loss : float
    N, D, C, tokens_per_parameter : ndarray
        Points of the curve; ``C = k N D``.
    N_asymptote : float
        N below which no amount of data reaches the loss.
    optimal_N, optimal_D, optimal_C : float
        The cheapest point of the curve (the compute-optimal model for this loss).
    interval_method : str
        How ``intervals`` were made, as :attr:`Allocation.interval_method` says.
    """

    target_loss: float
    N: Any
    D: Any
    C: Any
    tokens_per_parameter: Any
    N_asymptote: float
    optimal_N: float
    optimal_D: float
    optimal_C: float
    flops_per_token: float
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    interval_method: str = ""
    _ELEMENT_FIELDS = ("N", "D", "C", "tokens_per_parameter")


@dataclass(frozen=True, eq=False)
class Diagnosis(_ResultMixin):
    """How far a model (N, D) is from compute-optimal (see :func:`diagnose`).

    Attributes
    ----------
    N, D, C, loss :
        The model, its training compute ``k N D`` and its predicted loss.
    optimal_N, optimal_D, optimal_loss :
        The compute-optimal model for the same compute.
    optimal_C_for_N :
        ``C*(N)``: the budget at which N parameters would be compute-optimal.
    optimal_D_for_N :
        ``D*(N) = C*(N) / (k N)``: the tokens that budget implies.
    compute_ratio, tokens_ratio :
        ``C*(N) / (k N D)`` and ``D*(N) / D`` (equal under ``C = k N D``); above 1 the
        model is under-trained for its size, below 1 over-trained.
    C_for_same_loss, N_for_same_loss, D_for_same_loss :
        The compute-optimal model reaching the model's predicted loss.
    compute_saving_factor :
        ``k N D / C_for_same_loss`` (at least 1).
    verdict : str or ndarray of str
        What the data say, per model (:func:`training_verdict`): ``"under-trained"``
        (``tokens_ratio`` above 1), ``"over-trained"`` (below 1), ``"compute-optimal"``
        (exactly 1) or, with draws, ``"undetermined"`` when the interval of
        ``tokens_ratio`` includes 1 (or could not be computed): the model may then be
        compute-optimal, whatever side the point estimate is on. Without draws the
        verdict is the point estimate's. ``str(result)`` prints the same verdict.
    interval_method : str
        How ``intervals`` were made, as :attr:`Allocation.interval_method` says.
    """

    N: Any
    D: Any
    C: Any
    loss: Any
    optimal_N: Any
    optimal_D: Any
    optimal_loss: Any
    optimal_C_for_N: Any
    optimal_D_for_N: Any
    compute_ratio: Any
    tokens_ratio: Any
    C_for_same_loss: Any
    N_for_same_loss: Any
    D_for_same_loss: Any
    compute_saving_factor: Any
    flops_per_token: float
    method: str
    form: str = ""
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    interval_method: str = ""
    verdict: Any = field(default=None, init=False)
    _NUMBER_FIELDS = ("N", "D", "C", "loss", "optimal_N",
                      "optimal_D", "optimal_loss", "optimal_C_for_N",
                      "optimal_D_for_N", "compute_ratio", "tokens_ratio",
                      "C_for_same_loss", "N_for_same_loss",
                      "D_for_same_loss", "compute_saving_factor")
    _ELEMENT_FIELDS = _NUMBER_FIELDS + ("verdict",)

    def __post_init__(self):
        super().__post_init__()
        # the verdict follows from the ratio and its interval, never given apart from them
        interval = self.intervals.get("tokens_ratio") if self.intervals else None
        verdict = training_verdict(self.tokens_ratio, interval)
        object.__setattr__(self, "verdict", verdict if isinstance(verdict, str)
                           else readonly_array(verdict, dtype=None))

    def _range(self, name: str, index, fmt) -> str:
        if name not in self.intervals:
            return ""
        low, high = (np.ravel(v)[index] for v in self.intervals[name])
        return f" [{fmt(low)}, {fmt(high)}]"

    def __repr__(self) -> str:
        # the report, not a dump of fifteen arrays (a bare ``diagnose(...)`` in a REPL)
        return str(self)

    def __str__(self) -> str:
        k = self.flops_per_token
        elements = np.broadcast_arrays(*(np.asarray(getattr(self, n), float)
                                         for n in self._NUMBER_FIELDS))
        verdicts = np.broadcast_to(np.asarray(self.verdict), elements[0].shape).ravel()
        rows = [dict(zip(self._NUMBER_FIELDS, (e.ravel()[i] for e in elements)))
                for i in range(elements[0].size)]
        blocks = []
        for i, row in enumerate(rows):
            r = lambda name, fmt: self._range(name, i, fmt)  # noqa: E731
            state = str(verdicts[i])
            if state == "undetermined":
                leaning = training_verdict(row["tokens_ratio"])
                bounds = [np.ravel(b)[i] for b in self.intervals["tokens_ratio"]]
                state += (f"\n{'':25}({leaning} by the point estimate, but the "
                          f"{100 * self.confidence_level:g}% interval "
                          + ("could not be computed)" if np.any(np.isnan(bounds))
                             else "includes 1: it may be compute-optimal)"))
            elif self.n_draws and state != "compute-optimal":
                state += (f" ({100 * self.confidence_level:g}% interval "
                          f"{'above' if state == 'under-trained' else 'below'} 1)")
            lines = [
                f"Compute-optimality diagnosis ({self.form or 'law'}, C = {k:g} N D, "
                f"{self.method.replace('_', ' ')})",
                f"  model                  N = {fmt_count(row['N'])} parameters, "
                f"D = {fmt_count(row['D'])} tokens "
                f"({row['D'] / row['N']:.3g} tokens/parameter)",
                f"  training compute       C = {fmt_flop(row['C'])} "
                f"({row['C'] / PF_DAY:,.4g} PF-days)",
                f"  predicted loss         {row['loss']:.4f}{r('loss', fmt_loss)}",
                f"  optimal at this C      N = {fmt_count(row['optimal_N'])}"
                f"{r('optimal_N', fmt_count)}, D = {fmt_count(row['optimal_D'])}"
                f"{r('optimal_D', fmt_count)}, loss {row['optimal_loss']:.4f}",
                f"  N would be optimal at  C*(N) = {fmt_flop(row['optimal_C_for_N'])}"
                f"{r('optimal_C_for_N', fmt_flop)} with D*(N) = "
                f"{fmt_count(row['optimal_D_for_N'])} tokens"
                f"{r('optimal_D_for_N', fmt_count)}",
                f"  ratios                 C*(N)/C = {row['compute_ratio']:.3g}"
                f"{r('compute_ratio', fmt_ratio)}, D*(N)/D = {row['tokens_ratio']:.3g}"
                f"{r('tokens_ratio', fmt_ratio)}  -> {state}",
                f"  same loss, optimally   C = {fmt_flop(row['C_for_same_loss'])}"
                f"{r('C_for_same_loss', fmt_flop)} (N = "
                f"{fmt_count(row['N_for_same_loss'])}, D = "
                f"{fmt_count(row['D_for_same_loss'])}): "
                f"{row['compute_saving_factor']:.3g}x less compute"
                f"{r('compute_saving_factor', fmt_ratio)}",
            ]
            if self.n_draws:
                how = ("" if self.interval_method in ("", "bootstrap percentile")
                       else f" {self.interval_method},")  # a restricted fit's, said
                lines.append(f"  intervals              {100 * self.confidence_level:g}%{how} "
                             f"over {self.n_draws} draws ({self.n_failed_draws} failed)")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


@dataclass(frozen=True, eq=False)
class InferenceAllocation(_ResultMixin):
    """Training plus inference compute minimised at a target loss (Sardana et al. 2024).

    Attributes
    ----------
    target_loss, inference_tokens :
        The loss to reach and the tokens processed at inference over the model's life.
    N, D :
        The chosen model and its training tokens.
    training_compute, inference_compute, total_compute :
        ``k N D``, ``k_inf N D_inf`` and their sum.
    chinchilla_N, chinchilla_D, chinchilla_total_compute :
        The compute-optimal model for the same loss and its training plus inference cost.
    saving, saving_fraction :
        ``chinchilla_total_compute - total_compute`` and its ratio to the former.
    at_search_edge :
        The optimum sits at the edge of the searched N range.
    interval_method : str
        How ``intervals`` were made, as :attr:`Allocation.interval_method` says.
    """

    target_loss: Any
    inference_tokens: Any
    N: Any
    D: Any
    training_compute: Any
    inference_compute: Any
    total_compute: Any
    chinchilla_N: Any
    chinchilla_D: Any
    chinchilla_total_compute: Any
    saving: Any
    saving_fraction: Any
    flops_per_token: float
    inference_flops_per_token: float
    at_search_edge: Any = False
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    interval_method: str = ""
    _ELEMENT_FIELDS = ("target_loss", "inference_tokens", "N", "D",
                       "training_compute", "inference_compute", "total_compute",
                       "chinchilla_N", "chinchilla_D", "chinchilla_total_compute",
                       "saving", "saving_fraction", "at_search_edge")


for _cls in (FrontierCoefficients, Allocation, IsoLossCurve, Diagnosis, InferenceAllocation):
    _cls.__doc__ = _cls.__doc__.rstrip() + "\n    " + _INTERVAL_FIELDS_DOC + "\n    "


def training_verdict(tokens_ratio, interval=None):
    """Under- or over-trained, from ``D*(N)/D`` and, when given, its ``(low, high)``.

    ``"under-trained"`` above 1, ``"over-trained"`` below 1, ``"compute-optimal"`` at
    exactly 1; with an interval, a side is stated only when the point estimate and the
    whole interval are on it, else ``"undetermined"`` (an interval that includes 1, or
    a nan bound: the data cannot tell). Element-wise over arrays; a str
    for a single model.

    Examples
    --------
    >>> training_verdict(1.58), training_verdict(1.58, (0.421, 4.7))
    ('under-trained', 'undetermined')
    >>> training_verdict(0.5, (0.3, 0.8))
    'over-trained'
    """
    ratio = np.asarray(tokens_ratio, dtype=float)
    verdict = np.where(ratio > 1.0, "under-trained",
                       np.where(ratio < 1.0, "over-trained", "compute-optimal"))
    if interval is not None:
        low, high = (np.asarray(b, dtype=float) for b in interval)
        with np.errstate(invalid="ignore"):
            decided = (((ratio > 1.0) & (low > 1.0) & ~np.isnan(high))
                       | ((ratio < 1.0) & (high < 1.0) & ~np.isnan(low)))
        verdict = np.where(decided, verdict, "undetermined")
    return str(verdict) if verdict.ndim == 0 else verdict


def fmt_count(x) -> str:
    """175e9 -> '175B', 1.4e12 -> '1.4T' (3 significant digits); 1e15 and up as 1e+15."""
    x = float(x)
    if not math.isfinite(x) or abs(x) >= 1e15:
        return f"{x:.3g}"
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def fmt_flop(x) -> str:
    return f"{float(x):.3g} FLOP" if math.isfinite(float(x)) else "nan"


def fmt_ratio(x) -> str:
    return f"{float(x):.3g}"


def fmt_loss(x) -> str:
    return f"{float(x):.4f}"
