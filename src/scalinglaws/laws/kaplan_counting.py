r"""Counting parameters with or without embeddings, and what it does to the allocation.

Kaplan et al. (2020) count non-embedding parameters N (and compute 6ND with that N);
Hoffmann et al. (2022) count all parameters. At small scale the embeddings are a large
share of a model, so the two counts give different compute-optimal exponents for the
same runs. Pearce & Song (2024, arXiv 2406.12907) show that a Chinchilla law in total
parameters, read in non-embedding parameters over Kaplan's range of sizes, gives a
Kaplan-like exponent (0.78 with Epoch's coefficients, 0.74 with Chinchilla's, against
Kaplan's 0.73): :func:`nonembedding_frontier`.

The conversions need the width of each model (``d_model``) or an aspect ratio
``d_model / n_layer`` (then ``d_model = (r N / 12)^(1/3)`` from Kaplan's Eq. 2.1,
``N = 12 n_layer d_model^2``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenOnUnpickle
from .._validation import check_bool, freeze_array_fields
from . import published as pub
from .flops import as_output, check_quantity

__all__ = ["embedding_params", "embedding_coefficient", "depth_for_params",
           "params_with_embeddings", "params_without_embeddings", "NonEmbeddingFrontier",
           "nonembedding_frontier"]


def embedding_params(d_model, n_vocab, n_ctx=0, *, untied=False):
    """Embedding parameters ``(n_vocab + n_ctx) d_model`` (Kaplan et al. 2020 Sec 2.1).

    One token matrix ``n_vocab x d_model`` (input and output tied, or the output layer
    alone as Porian et al. 2024 count it), plus learned positions ``n_ctx x d_model``
    (``n_ctx = 0`` for rotary or relative positions). ``untied=True`` counts separate
    input and output matrices (``2 n_vocab d_model``).

    Examples
    --------
    >>> embedding_params(1600, 50257, 1024)      # GPT-2 1.5B: (50257 + 1024) * 1600
    82049600.0
    """
    untied = check_bool("untied", untied)
    d = check_quantity("d_model", d_model, integer=True)
    v = check_quantity("n_vocab", n_vocab, integer=True)
    ctx = check_quantity("n_ctx", n_ctx, integer=True, allow_zero=True)
    return as_output(((2.0 if untied else 1.0) * v + ctx) * d)


def embedding_coefficient(n_vocab, aspect_ratio, n_ctx=0, *, untied=False):
    """``omega`` of ``N_total = N + omega N^(1/3)`` at a fixed aspect ratio ``d_model/n_layer``.

    With ``N = 12 n_layer d_model^2`` (Kaplan Eq 2.1) and ``d_model = r n_layer``,
    ``d_model = (r N / 12)^(1/3)``, so the embeddings add
    ``(n_vocab + n_ctx) (r / 12)^(1/3) N^(1/3)``. Pearce & Song (2024) fitted
    ``omega = 47,491`` to Chinchilla's shapes; this formula gives 47,481 for their
    vocabulary 32,000 and aspect ratio 39.2 (their script's comment).

    Examples
    --------
    >>> round(embedding_coefficient(32000, 39.2))
    47481
    """
    untied = check_bool("untied", untied)
    v = check_quantity("n_vocab", n_vocab, integer=True)
    r = check_quantity("aspect_ratio", aspect_ratio)
    ctx = check_quantity("n_ctx", n_ctx, integer=True, allow_zero=True)
    return as_output(((2.0 if untied else 1.0) * v + ctx) * np.cbrt(r / 12.0))


def depth_for_params(N, aspect_ratio):
    """Layers of a model of ``N`` non-embedding parameters at ``d_model/n_layer = aspect_ratio``.

    ``n_layer = (N / (12 r^2))^(1/3)`` from ``N = 12 n_layer d_model^2`` (Kaplan Eq 2.1), not
    rounded. Kaplan et al. found the loss nearly independent of the shape over a wide range
    (Sec 3.1, Fig 5), so depth is free to choose; it sets the sequential work per token, a
    proxy for decoding latency (:mod:`scalinglaws.analysis.cost`).

    Examples
    --------
    >>> from scalinglaws.laws.flops import kaplan_params
    >>> round(depth_for_params(kaplan_params(48, 1600), 1600 / 48), 6)
    48.0
    """
    n = check_quantity("N", N)
    r = check_quantity("aspect_ratio", aspect_ratio)
    return as_output(np.cbrt(n / (12.0 * r * r)))


def _embedding_shape(d_model, aspect_ratio):
    if (d_model is None) == (aspect_ratio is None):
        raise InputError("give exactly one of d_model and aspect_ratio")


def params_with_embeddings(N, *, n_vocab, d_model=None, aspect_ratio=None, n_ctx=0,
                           untied=False):
    """Total parameters from non-embedding ones: ``N + (n_vocab + n_ctx) d_model``.

    Kaplan et al. (2020) count non-embedding parameters; Hoffmann et al. (2022) count all.
    Give the width ``d_model`` (an array matching ``N``, e.g. each model of a sweep) or an
    ``aspect_ratio = d_model / n_layer`` (then ``d_model = (r N / 12)^(1/3)``, the relation
    ``N_T = N + omega N^(1/3)`` of Pearce & Song 2024, see :func:`embedding_coefficient`).
    See :func:`embedding_params` for ``n_ctx`` and ``untied``.

    Examples
    --------
    >>> from scalinglaws.laws.flops import kaplan_params
    >>> params_with_embeddings(kaplan_params(48, 1600), n_vocab=50257, d_model=1600, n_ctx=1024)
    1556609600.0
    """
    _embedding_shape(d_model, aspect_ratio)
    n = check_quantity("N", N)
    if d_model is not None:
        return as_output(n + np.asarray(embedding_params(d_model, n_vocab, n_ctx, untied=untied)))
    omega = embedding_coefficient(n_vocab, aspect_ratio, n_ctx, untied=untied)
    return as_output(n + omega * np.cbrt(n))


def params_without_embeddings(N, *, n_vocab, d_model=None, aspect_ratio=None, n_ctx=0,
                              untied=False):
    """Non-embedding parameters from total ones: the inverse of :func:`params_with_embeddings`.

    With ``d_model`` it subtracts the embeddings; with ``aspect_ratio`` it solves
    ``N_T = x^3 + omega x`` for ``x = N^(1/3)`` (one real root, by Cardano's formula).

    Examples
    --------
    >>> n_total = params_with_embeddings(1e9, n_vocab=32000, aspect_ratio=39.2)
    >>> round(params_without_embeddings(n_total, n_vocab=32000, aspect_ratio=39.2) / 1e9, 12)
    1.0
    """
    _embedding_shape(d_model, aspect_ratio)
    total = check_quantity("N", N)
    if d_model is not None:
        n = total - np.asarray(embedding_params(d_model, n_vocab, n_ctx, untied=untied))
    else:
        omega = embedding_coefficient(n_vocab, aspect_ratio, n_ctx, untied=untied)
        # x^3 + omega x - N_T = 0: Cardano's real root, written to avoid cancellation
        half = total / 2.0
        root = np.sqrt(half * half + (omega / 3.0) ** 3)
        x = np.cbrt(half + root) - (omega / 3.0) / np.cbrt(half + root)
        x = x - (x ** 3 + omega * x - total) / (3.0 * x * x + omega)  # one Newton polish
        n = x ** 3
    if np.any(n <= 0):
        raise InputError("N is not larger than the embedding parameters of that shape")
    return as_output(n)


# --------------------------------------------------------------------------- Pearce & Song
def _chinchilla(params):
    if not isinstance(params, Mapping):
        raise InputError("`params` must be a mapping with A, B, alpha, beta (a Chinchilla law)")
    missing = [k for k in ("A", "B", "alpha", "beta") if k not in params]
    if missing:
        raise InputError(f"`params` must give A, B, alpha, beta of L = E + A/N^alpha + B/D^beta; "
                         f"missing {missing}")
    return {k: float(check_quantity(f"params[{k!r}]", params[k]))
            for k in ("A", "B", "alpha", "beta")}


@dataclass(frozen=True)
class NonEmbeddingFrontier(FrozenOnUnpickle):
    """The compute-optimal models of a total-parameter law, counted without embeddings.

    Attributes
    ----------
    compute : ndarray
        Non-embedding compute ``C_nonE = 6 N_nonE D`` (FLOP).
    N, N_total, D : ndarray
        The optimal non-embedding parameters, the same models' total parameters, tokens.
    omega : float
        The embedding coefficient of ``N_total = N + omega N^(1/3)``.
    small_scale_exponent, large_scale_exponent : float
        The limits ``beta/(alpha/3 + beta)`` (embeddings dominate) and ``beta/(alpha + beta)``
        (Chinchilla's; embeddings negligible) of d log N / d log C_nonE.
    """

    compute: np.ndarray
    N: np.ndarray
    N_total: np.ndarray
    D: np.ndarray
    omega: float
    small_scale_exponent: float
    large_scale_exponent: float

    def __post_init__(self):
        freeze_array_fields(self, ("compute", "N", "N_total", "D"))

    def local_exponent(self) -> float:
        """Least-squares slope of log N on log C over these budgets (Pearce & Song's fit)."""
        return float(np.polyfit(np.log(np.ravel(self.compute)), np.log(np.ravel(self.N)), 1)[0])

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"compute": np.ravel(self.compute), "N": np.ravel(self.N),
                             "N_total": np.ravel(self.N_total), "D": np.ravel(self.D)})


def nonembedding_frontier(params, compute, *, omega=None, n_vocab=None, aspect_ratio=None,
                          n_ctx=0) -> NonEmbeddingFrontier:
    r"""Compute-optimal non-embedding size of a Chinchilla law in total parameters.

    Pearce & Song (2024): the loss follows ``L = E + A/N_T^alpha + B/D^beta`` in total
    parameters ``N_T = N + omega N^(1/3)``, while the experimenter counts ``N``
    (non-embedding) and ``C = 6 N D``. At each ``C`` the optimal ``N`` satisfies

    .. math::

        \beta B D^{-\beta} = \alpha A\, N\, N_T'(N)\, N_T^{-\alpha - 1},
        \qquad D = C / (6 N),

    solved here by bisection on ``log N`` (``C`` grows with ``N`` along this curve). The
    local slope d log N / d log C moves from ``beta/(alpha/3 + beta)`` at small scale to
    ``beta/(alpha + beta)``; over Kaplan's range it is Kaplan-like. The authors pick the
    best of 20 models at each budget (10^12.95 to 10^20.7 FLOP) and report 0.78 (Epoch's
    coefficients) and 0.74 (Chinchilla's); the exact optimum over the same budgets gives
    0.775 and 0.740.

    Parameters
    ----------
    params : mapping
        ``A``, ``B``, ``alpha``, ``beta`` of the law in total parameters (``E`` is not
        needed).
    compute : float or array_like
        Non-embedding compute in FLOP.
    omega : float, optional
        Embedding coefficient; default Pearce & Song's 47,491, or
        :func:`embedding_coefficient` of ``n_vocab`` and ``aspect_ratio`` when those are
        given.
    n_vocab, aspect_ratio, n_ctx : optional
        See :func:`embedding_coefficient`.

    Returns
    -------
    NonEmbeddingFrontier

    Examples
    --------
    >>> from scalinglaws.laws.published import BESIROGLU_2024_TABLE1
    >>> front = nonembedding_frontier(BESIROGLU_2024_TABLE1, np.logspace(12.95, 20.7, 100))
    >>> round(front.local_exponent(), 3)
    0.775
    """
    p = _chinchilla(params)
    c = check_quantity("compute", compute)
    if omega is None:
        if n_vocab is None and aspect_ratio is None:
            omega = pub.PEARCE_SONG_2024["omega"]
        elif n_vocab is None or aspect_ratio is None:
            raise InputError("give both n_vocab and aspect_ratio (or omega)")
        else:
            omega = embedding_coefficient(n_vocab, aspect_ratio, n_ctx)
    elif n_vocab is not None or aspect_ratio is not None:
        raise InputError("give omega or n_vocab and aspect_ratio, not both")
    omega = float(check_quantity("omega", omega, allow_zero=True))
    a, b, alpha, beta = p["A"], p["B"], p["alpha"], p["beta"]

    def log_compute(log_n):
        n = np.exp(log_n)
        total = n + omega * np.cbrt(n)
        slope = 1.0 + omega / (3.0 * np.cbrt(n) ** 2)
        log_d = (math.log(beta * b / (alpha * a)) - log_n - np.log(slope)
                 + (alpha + 1.0) * np.log(total)) / beta
        return math.log(6.0) + log_n + log_d

    target = np.log(c)
    low = np.full(target.shape, math.log(1e-6))
    high = np.full(target.shape, math.log(1e30))
    if np.any(log_compute(low) > target) or np.any(log_compute(high) < target):
        raise InputError("`compute` is outside the range this frontier can be solved on "
                         "(1e-6 to 1e30 parameters)")
    for _ in range(200):  # the bracket halves each step: 200 steps reach float resolution
        middle = 0.5 * (low + high)
        below = log_compute(middle) < target
        low, high = np.where(below, middle, low), np.where(below, high, middle)
        if np.all(high - low <= 1e-13 * np.maximum(1.0, np.abs(high))):
            break
    n = np.exp(0.5 * (low + high))
    return NonEmbeddingFrontier(compute=c, N=n, N_total=n + omega * np.cbrt(n), D=c / (6.0 * n),
                                omega=omega,
                                small_scale_exponent=beta / (alpha / 3.0 + beta),
                                large_scale_exponent=beta / (alpha + beta))
