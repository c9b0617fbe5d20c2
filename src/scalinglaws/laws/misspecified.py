r"""Synthetic sweeps whose true law is *not* the Chinchilla form: test beds for extrapolation.

A fitted law extrapolates well when its form is right; real sweeps are never exactly
Chinchilla-shaped. These generators make IsoFLOP sweeps (the layout of
:func:`~scalinglaws.laws.synthetic.isoflop_grid`) from laws that differ from
:math:`E + A N^{-\alpha} + B D^{-\beta}` in the ways real sweeps do, so that interval
coverage and estimators can be checked where the truth is known:

* ``"exact"``: the Chinchilla law itself (the control);
* ``"embeddings"``: the law holds in non-embedding parameters, but the table reports the
  total count including a 50k-token embedding matrix whose width follows a fixed shape
  rule (``d_model = 64 n_layer``; small models are embedding-heavy, as Kaplan et al.
  and Pearce & Song point out);
* ``"extra_term"``: a third, slowly decaying term in N the form lacks,
  :math:`+\,1 / N^{0.1}`;
* ``"shape"``: small models are penalised by an architecture effect,
  :math:`\times (1 + 0.02 \max(0, \log_{10}(10^9/N)))`.

Each returns the runs (log-normal noise of sd ``noise`` on the loss) and the true mean
loss function, so a test can score predictions of new runs and of the true law.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._exceptions import InputError
from ..data.runs import Runs
from .synthetic import DEFAULT_BUDGETS, DEFAULT_TRUTH, isoflop_grid

__all__ = ["KINDS", "true_loss", "misspecified_sweep", "non_embedding_parameters"]

KINDS = ("exact", "embeddings", "extra_term", "shape")
_TRUTH = DEFAULT_TRUTH["chinchilla"]
_VOCAB = 50_000
_ASPECT = 64  # d_model / n_layer
_BISECTION_STEPS = 200


def non_embedding_parameters(total, vocab: int = _VOCAB, aspect: int = _ASPECT) -> np.ndarray:
    """Non-embedding parameters ``12 n_layer d_model^2`` of a model with ``total`` parameters.

    The shape rule ``d_model = aspect * n_layer`` and one ``vocab x d_model`` embedding
    matrix give ``total = 12 d^3 / aspect + vocab d``, solved for ``d`` by bisection.
    """
    total = np.asarray(total, dtype=float)
    if np.any(total <= 0):
        raise InputError("`total` parameters must be positive")
    low, high = np.zeros_like(total), np.cbrt(total * aspect / 12.0)
    for _ in range(_BISECTION_STEPS):
        width = 0.5 * (low + high)
        too_big = 12.0 * width**3 / aspect + vocab * width > total
        low, high = np.where(too_big, low, width), np.where(too_big, width, high)
    width = 0.5 * (low + high)
    return 12.0 * width**3 / aspect


def true_loss(kind: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The true mean loss ``L(N, D)`` of sweep ``kind`` (N as the table reports it)."""
    if kind not in KINDS:
        raise InputError(f"`kind` must be one of {', '.join(KINDS)}, got {kind!r}")
    E, A, B, alpha, beta = (_TRUTH[k] for k in ("E", "A", "B", "alpha", "beta"))

    def chinchilla(N, D):
        return E + A / N**alpha + B / D**beta

    if kind == "exact":
        return chinchilla
    if kind == "embeddings":
        return lambda N, D: E + A / non_embedding_parameters(N) ** alpha + B / D**beta
    if kind == "extra_term":
        return lambda N, D: chinchilla(N, D) + 1.0 / N**0.1
    return lambda N, D: chinchilla(N, D) * (1 + 0.02 * np.clip(np.log10(1e9 / N), 0, None))


def misspecified_sweep(kind: str, budgets: Sequence[float] = DEFAULT_BUDGETS, *,
                       n_sizes: int = 12, span: float = 10.0, noise: float = 0.01,
                       rng=None) -> Runs:
    """An IsoFLOP sweep from the true law ``kind`` with log-normal noise.

    Parameters
    ----------
    kind : {"exact", "embeddings", "extra_term", "shape"}
        The true law (module notes).
    budgets : sequence of float
        Compute budgets (FLOP).
    n_sizes, span : int, float
        Sizes per budget and their spread (see ``isoflop_grid``).
    noise : float
        Standard deviation of the log-normal noise on the loss.
    rng : seed or numpy Generator

    Returns
    -------
    Runs
        Columns N, D, C (= 6 N D), loss.

    Examples
    --------
    >>> runs = misspecified_sweep("embeddings", rng=0)
    >>> len(runs)
    108
    """
    truth = true_loss(kind)
    if not (np.isfinite(noise) and noise >= 0):
        raise InputError(f"`noise` must be a non-negative number, got {noise!r}")
    generator = np.random.default_rng(rng)
    grid = isoflop_grid(budgets, n_sizes=n_sizes, span=span)
    N, D, C = (grid[c].to_numpy(dtype=float) for c in ("N", "D", "C"))
    loss = truth(N, D) * np.exp(noise * generator.standard_normal(N.size))
    return Runs.from_arrays(N=N, D=D, C=C, loss=loss)
