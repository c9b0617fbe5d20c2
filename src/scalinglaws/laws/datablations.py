r"""Muennighoff et al. (2023): the data-constrained law (repeated tokens, excess parameters).

*Scaling Data-Constrained Language Models*, Muennighoff, Rush, Barak, Le Scao, Piktus,
Tazi, Pyysalo, Wolf, Raffel, arXiv:2305.16264 (NeurIPS 2023). The form, the constants
and the worked examples below are read from the authors' code,
``github.com/huggingface/datablations``: README section "Parametric Fit" and
``utils/parametric_fit.ipynb`` (the data-constrained fit is its cell 29); the paper's
App. A prints the rounded law (per secondary sources).

The law replaces Chinchilla's N and D by *effective* amounts that discount repeated
tokens and parameters in excess of what the unique data can use:

.. math::

    L(N, D, U) = E + \frac{A}{N'^{\alpha}} + \frac{B}{D'^{\beta}},

    D' = U_D + U_D R_D^* \left(1 - e^{-R_D / R_D^*}\right),\qquad
    U_D = \min(U, D),\quad R_D = D / U_D - 1,

    N' = U_N + U_N R_N^* \left(1 - e^{-R_N / R_N^*}\right),\qquad
    U_N = \min\{N, N_{opt}(U_D)\},\quad R_N = N / U_N - 1,

where ``N_opt(U_D)`` is the model size for which ``U_D`` tokens are compute-optimal
under the base law ``E + A/N^alpha + B/D^beta`` (:func:`compute_optimal_n`).
``R_D`` counts repetitions (epochs - 1); the value of the r-th repetition decays like
``exp(-r / R_D^*)``, so ``D'`` can never exceed ``(1 + R_D^*) U_D``; likewise for
parameters beyond ``U_N`` with ``R_N^*``.

Contents
--------
:class:`DataConstrained`          the law as a :class:`~scalinglaws.Form` (``"data_constrained"``)
:data:`MUENNIGHOFF_2023`          the published constants, one copy for tests and notebooks
:func:`compute_optimal_n`         ``N_opt(D)`` of the base law (``U_N`` before the ``min``)
:func:`effective_data`            ``D'``
:func:`effective_params`          ``N'``
:func:`repeated_data_value`       ``D'/D``: average value of a token repeated for ``epochs``
:func:`data_constrained_optimal`  the ``(N, D)`` minimising the loss at a budget under a
                                  unique-token limit

Fitting ``R_D^*`` and ``R_N^*`` with the base constants held, as the paper did::

    from scalinglaws import fit
    from scalinglaws.laws.datablations import MUENNIGHOFF_2023
    base = {k: MUENNIGHOFF_2023["params"][k] for k in ("E", "A", "B", "alpha", "beta")}
    result = fit(runs, "data_constrained", fixed=base)   # runs need N, D, U and loss

Tie the exponents as the paper's base fit did with ``tied={"beta": "alpha"}``.

Fitting notes, measured on the 182 runs the authors fitted (``in_paper_fit_set`` of the
datablations CSV):

* The notebook's objective is Huber with ``delta = 1e-3`` on log residuals of the
  log-sum-exp form (Hoffmann et al.'s convention and this package's default): at the
  published constants it is 0.01582594, the notebook prints 0.0158259366. ``delta = 1e-2``
  or linear residuals give values 3-10 times larger.
* The published ``(R_D^*, R_N^*) = (15.39, 5.31)`` is a *local* minimum of that objective
  (polished: 15.372, 5.315; the notebook's float32 L-BFGS stopped 0.1% away), reached
  from 8 of the notebook's 9 usable starts. It is not the global one: ``(95.4, 1.71)``
  scores 0.0158047 (0.13% lower), with other minima near ``(47.0, 2.33)`` and
  ``(52.2, 2.20)``. The objective is flat (within 0.2%) along a valley trading ``R_D^*``
  against ``R_N^*`` from ``R_D^* ~ 15`` to ``~ 250``, and a bootstrap bounds ``R_D^*`` from
  below only. A multi-start fit therefore returns the valley's deepest point, not the
  published one; pass ``starts=`` near (15.4, 5.3) to land on it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._validation import (FrozenOnUnpickle, broadcast_together, check_ratio_bounds,
                           deep_freeze, renamed_argument)
from .forms import Form, _jacobian, _logsumexp, register_form
from .frontier import log_optimal_n_for_tokens

__all__ = [
    "MUENNIGHOFF_2023",
    "DataConstrained",
    "DataConstrainedAllocation",
    "compute_optimal_n",
    "data_constrained_optimal",
    "effective_data",
    "effective_params",
    "repeated_data_value",
]

_BASE = ("E", "A", "B", "alpha", "beta")
_DECAY = ("R_D_star", "R_N_star")
_DECAY_BOUNDS = (1e-6, 1e10)  # public range of R*_D, R*_N searched by default
_EXPONENT_LOWER = 1e-6  # alpha, beta divide in N_opt(U_D)
_SEARCH_RANGE = (1e-4, 1e8)  # default D/N range of the allocation search
_N_GRID = 1201  # points of the dense log-N grid bracketing each optimum
_N_GOLDEN = 48  # golden-section steps: the 2-cell bracket shrinks 0.618**48 ~ 1e-10-fold
_EXP_LIMIT = 700.0  # exp(-x) is taken as 0 beyond this (x e^-x underflows anyway)


_LOG_CONSTANTS = {"a": 6.255414, "b": 7.3049974, "e": 0.6254804,
                  "alpha": 0.3526596, "beta": 0.3526596}

#: Published constants of Muennighoff et al. (2023), read-only.
#:
#: * ``"a"``, ``"b"``, ``"e"``, ``"alpha"``, ``"beta"``: the log-space base law
#:   ``(log A, log B, log E, alpha = beta)``, a tied-exponent Chinchilla-form fit to 54
#:   points digitised from Chinchilla's C4 IsoFLOP curves (notebook cell "FIT CHINCHILLA C4
#:   ISOFLOP DOTS"); *not* fitted on the datablations runs.
#: * ``"R_D_star"``, ``"R_N_star"``: the decay constants fitted on 182 runs with the base
#:   law held (notebook cell 29, Huber delta = 1e-3 on log residuals, objective
#:   ``"objective"`` = 0.015825936570763588).
#: * ``"params"``: all seven in :class:`DataConstrained`'s public units
#:   (``E = e^e`` ...), ready for ``predict`` or ``fixed=``.
#:
#: The paper's rounded form (App. A, per secondary sources) is
#: ``L = 521/N'^0.35 + 1488/D'^0.35 + 1.87`` with ``R*_D = 15.4``, ``R*_N = 5.3``.
MUENNIGHOFF_2023 = deep_freeze({
    **_LOG_CONSTANTS,
    "R_D_star": 15.387756,
    "R_N_star": 5.309743,
    "params": {"E": math.exp(_LOG_CONSTANTS["e"]), "A": math.exp(_LOG_CONSTANTS["a"]),
               "B": math.exp(_LOG_CONSTANTS["b"]), "alpha": _LOG_CONSTANTS["alpha"],
               "beta": _LOG_CONSTANTS["beta"], "R_D_star": 15.387756, "R_N_star": 5.309743},
    "fit": {"loss": "huber", "delta": 1e-3, "space": "log", "n_runs": 182,
            "objective": 0.015825936570763588, "free": ("R_D_star", "R_N_star")},
    "source": ("Muennighoff et al. 2023, arXiv:2305.16264; huggingface/datablations "
               "README 'Parametric Fit' and utils/parametric_fit.ipynb (commit 1370131) output: "
               "a, b, e, alpha, beta, R_D*, R_N* = 6.255414, 7.3049974, 0.6254804, 0.3526596, "
               "0.3526596, 15.387756, 5.309743"),
})


# -- the law's building blocks --------------------------------------------------------------

def _effective(log_total, log_unique, rstar, *, derivatives: bool):
    r"""``log X'`` for ``X' = U + U R* (1 - exp(-R/R*))``, ``R = X/U - 1 >= 0``.

    With ``derivatives``, also return the partials of ``log X'`` with respect to
    ``log U`` (``X`` held), ``log X`` (``U`` held) and ``R*``:

    .. math::

        \frac{\partial \log X'}{\partial \log U} = 1 - \frac{(1+R) e^{-R/R^*}}{g},\quad
        \frac{\partial \log X'}{\partial \log X} = \frac{(1+R) e^{-R/R^*}}{g},\quad
        \frac{\partial \log X'}{\partial R^*} = \frac{1 - e^{-x} - x e^{-x}}{g}

    with ``g = X'/U`` and ``x = R/R*``. At ``R = 0`` the first is 0 and the second 1,
    so ``log X'`` is continuously differentiable across the ``min`` that sets ``U``.
    """
    gap = log_total - log_unique  # log(1 + R) >= 0
    with np.errstate(over="ignore", invalid="ignore"):
        repeats = np.expm1(gap)
        x = repeats / rstar
        saved = -np.expm1(-x)  # 1 - e^{-x}
        log_g = np.log1p(rstar * saved)
        value = log_unique + log_g
        if not derivatives:
            return value
        g = np.exp(log_g)
        # (1 + R) e^{-x} = exp(gap - x): finite even when R overflows
        d_total = np.exp(gap - x) / g
        x_emx = np.where(x < _EXP_LIMIT, x * np.exp(-np.minimum(x, _EXP_LIMIT)), 0.0)
        d_rstar = (saved - x_emx) / g
    return value, 1.0 - d_total, d_total, d_rstar


class DataConstrained(Form):
    r"""Muennighoff et al. (2023) data-constrained law (datablations README "Parametric Fit").

    .. math::

        L(N, D, U) = E + \frac{A}{N'^{\alpha}} + \frac{B}{D'^{\beta}}

    with ``D' = U_D (1 + R_D^* (1 - e^{-R_D/R_D^*}))``, ``U_D = min(U, D)``,
    ``R_D = D/U_D - 1``, and ``N' = U_N (1 + R_N^* (1 - e^{-R_N/R_N^*}))``,
    ``U_N = min(N, N_opt(U_D))``, ``R_N = N/U_N - 1`` (see the module docstring).

    Inputs ``N`` (parameters), ``D`` (training tokens) and ``U`` (unique tokens).
    ``U > D`` is allowed and means only ``D`` unique tokens were seen
    (``U_D = min(U, D)``, the convention of the datablations README's allocation
    search; the notebook's ``R_D = max(D/U - 1, 0)`` agrees whenever ``D >= U``, as in
    every published run). With ``R_D^*, R_N^* -> inf`` the law is Chinchilla's.

    ``N_opt(U_D)`` follows from the base law's frontier (Hoffmann et al. 2022 Eq. 4),
    ``N_opt = G (C/6)^a``, ``D_opt = G^{-1} (C/6)^b``, ``G = (alpha A / beta B)^{1/(alpha+beta)}``,
    ``a = beta/(alpha+beta)``, ``b = alpha/(alpha+beta)``: eliminating ``C``,

    .. math::

        N_{opt}(U_D) = G^{(\alpha+\beta)/\alpha}\, U_D^{\beta/\alpha}
                     = \left(\frac{\alpha A}{\beta B}\right)^{1/\alpha} U_D^{\beta/\alpha},

    which for ``alpha = beta`` is ``G^2 U_D`` (``0.0510 U_D`` with the published
    constants; README ``D_to_N``). It moves with ``A, B, alpha, beta`` when those are
    fitted, and the Jacobian carries that dependence.

    Internally ``(e, a, b) = log(E, A, B)``, and with ``log_decay=True`` (the default)
    also ``log R_D^*, log R_N^*``; ``log L = LSE(a - alpha log N', b - beta log D', e)``,
    with an analytic Jacobian. ``log N'`` and ``log D'`` are continuously
    differentiable across the ``min`` kinks (their derivative through ``U_N`` vanishes at
    ``R_N = 0``), so only the second derivative jumps there.

    Parameters
    ----------
    log_decay : bool, default True
        Store ``R_D^*`` and ``R_N^*`` as logs (positive, scale-free steps). ``False``
        keeps them linear as the authors' notebook did (registered as
        ``"data_constrained_linear_decay"``); the optimum is the same.

    Examples
    --------
    >>> law = DataConstrained()
    >>> round(float(law.predict(MUENNIGHOFF_2023["params"], N=6.34e9, D=242e9, U=25e9)), 12)
    2.225644088998
    """

    inputs = ("N", "D", "U")
    param_names = _BASE + _DECAY
    formula = ("L = E + A / N'**alpha + B / D'**beta;  D' = U_D (1 + R_D_star (1 - exp(-R_D / "
               "R_D_star))), U_D = min(U, D), R_D = D / U_D - 1;  N' = U_N (1 + R_N_star (1 - "
               "exp(-R_N / R_N_star))), U_N = min(N, N_opt(U_D)), R_N = N / U_N - 1")

    def __init__(self, log_decay: bool = True):
        if not isinstance(log_decay, (bool, np.bool_)):
            raise InputError(f"`log_decay` must be True or False, got {log_decay!r}")
        self.log_decay = bool(log_decay)
        self.log_params = frozenset({"E", "A", "B"} | (set(_DECAY) if self.log_decay else set()))
        self.name = "data_constrained" if self.log_decay else "data_constrained_linear_decay"

    def config(self) -> dict:
        return {"log_decay": self.log_decay}

    def default_bounds(self):
        lo, hi = super().default_bounds()
        for name in ("alpha", "beta"):
            lo[self.param_names.index(name)] = _EXPONENT_LOWER
        for name in _DECAY:
            i = self.param_names.index(name)
            lo[i], hi[i] = (np.log(_DECAY_BOUNDS) if self.log_decay else _DECAY_BOUNDS)
        return lo, hi

    # -- evaluation ------------------------------------------------------------------------
    def _evaluate(self, theta, X, *, jacobian: bool):
        theta = np.asarray(theta, dtype=float)
        lnN = np.log(np.asarray(X["N"], dtype=float))[None, :]
        lnD = np.log(np.asarray(X["D"], dtype=float))[None, :]
        lnU = np.log(np.asarray(X["U"], dtype=float))[None, :]
        e, a, b, alpha, beta, rho_d, rho_n = (theta[:, i:i + 1] for i in range(7))
        with np.errstate(over="ignore"):
            rd_star = np.exp(rho_d) if self.log_decay else rho_d
            rn_star = np.exp(rho_n) if self.log_decay else rho_n
        with np.errstate(divide="ignore", invalid="ignore"):
            ln_ud = np.minimum(lnU, lnD)
            ell = log_optimal_n_for_tokens(a, b, alpha, beta, ln_ud)
            over = ell < lnN  # excess parameters: U_N = N_opt(U_D) < N
            ln_un = np.where(over, ell, lnN)
        if not jacobian:
            q = _effective(lnD, ln_ud, rd_star, derivatives=False)
            p = _effective(lnN, ln_un, rn_star, derivatives=False)
            value, _ = _logsumexp(a - alpha * p, b - beta * q, e)
            return value, None
        q, _, _, dq_drd = _effective(lnD, ln_ud, rd_star, derivatives=True)
        p, dp_dun, _, dp_drn = _effective(lnN, ln_un, rn_star, derivatives=True)
        value, (s_a, s_b, s_e) = _logsumexp(a - alpha * p, b - beta * q, e)
        h = np.where(over, dp_dun, 0.0)  # d log N' / d log N_opt(U_D): zero left of the kink
        with np.errstate(invalid="ignore", divide="ignore"):
            dell_dalpha = (1.0 - alpha * ell) / (alpha * alpha)
            dell_dbeta = (beta * ln_ud - 1.0) / (alpha * beta)
        # d ell / da = 1/alpha, d ell / db = -1/alpha: times alpha h in the N term
        columns = [
            s_e,
            s_a * (1.0 - h),
            s_b + s_a * h,
            -s_a * (p + alpha * h * dell_dalpha),
            -s_b * q - s_a * alpha * h * dell_dbeta,
            -s_b * beta * dq_drd * (rd_star if self.log_decay else 1.0),
            -s_a * alpha * dp_drn * (rn_star if self.log_decay else 1.0),
        ]
        return value, _jacobian(columns, value.shape)

    def log_value_and_jacobian(self, theta, X):
        return self._evaluate(theta, X, jacobian=True)

    def log_value(self, theta, X) -> np.ndarray:
        """``log L`` ``(k, n)`` for internal parameter vectors ``theta`` ``(k, p)``, no Jacobian."""
        return self._evaluate(theta, X, jacobian=False)[0]

    # -- starts ----------------------------------------------------------------------------
    def start_grid(self, X, loss):
        """Two blocks of internal starting points, stacked.

        1. The base constants on a Hoffmann-style grid (e in {-1, -0.5, ..., 1};
           a, b in {0, 5, ..., 25}; alpha, beta in {0.1, 0.5, 1, 1.5, 2}; alpha = 0 is
           excluded because ``N_opt`` divides by it) with ``R_D^* = 15``, ``R_N^* = 5``.
        2. The decay constants on a log grid {0.5, 2, 5, 15, 50, 200}^2 with the base at
           the published C4 values.

        With the base fixed (the paper's fit) the fitter's de-duplication collapses the
        grid onto block 2; with the decays fixed, onto block 1.
        """
        exponents = [0.1, 0.5, 1.0, 1.5, 2.0]
        base = np.array(list(itertools.product(np.arange(-1, 1.01, 0.5), np.arange(0, 26, 5),
                                               np.arange(0, 26, 5), exponents, exponents)),
                        dtype=float)
        block1 = np.column_stack([base, np.full(len(base), self._decay_internal(15.0)),
                                  np.full(len(base), self._decay_internal(5.0))])
        decays = self._decay_internal(np.array([0.5, 2.0, 5.0, 15.0, 50.0, 200.0]))
        published = np.array([_LOG_CONSTANTS[k] for k in ("e", "a", "b", "alpha", "beta")])
        block2 = np.array([[*published, rd, rn] for rd in decays for rn in decays])
        return np.vstack([block1, block2])

    def _decay_internal(self, value):
        return np.log(value) if self.log_decay else np.asarray(value, dtype=float)


#: the forms this module adds to the registry (see ``forms._BUILTIN_MODULES``)
BUILTIN_FORMS = (DataConstrained(), DataConstrained(log_decay=False))
for _form in BUILTIN_FORMS:
    register_form(_form)


# -- public helpers -------------------------------------------------------------------------

def _positive(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be a positive number or array, got {value!r}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"`{name}` must be finite and positive, got {value!r}")
    return arr


def _public_params(params, needed=_BASE + _DECAY) -> dict:
    """Public parameter values from a mapping or a fit (``.form`` and ``.params``)."""
    form = getattr(params, "form", None)
    if form is not None:
        if not isinstance(form, DataConstrained):
            raise InputError(f"`params` must be a data_constrained fit or a mapping of its "
                             f"parameters, got a fit of form {getattr(form, 'name', form)!r}")
        params = params.params
    if not isinstance(params, Mapping):
        raise InputError("`params` must be a mapping of parameter values (e.g. "
                         "MUENNIGHOFF_2023['params']) or a data_constrained FitResult, got "
                         f"{type(params).__name__}")
    missing = [k for k in needed if k not in params]
    if missing:
        raise InputError(f"`params` lacks {', '.join(missing)}")
    out = {}
    for k in needed:
        try:
            v = float(params[k])
        except (TypeError, ValueError):
            raise InputError(f"`params[{k!r}]` must be a number, got {params[k]!r}") from None
        if not np.isfinite(v) or v <= 0:
            raise InputError(f"`params[{k!r}]` must be finite and positive, got {v!r}")
        out[k] = v
    return out


def compute_optimal_n(params, tokens):
    r"""Model size for which ``tokens`` are the compute-optimal data under the base law.

    .. math::

        N_{opt}(D) = \left(\frac{\alpha A}{\beta B}\right)^{1/\alpha} D^{\beta/\alpha}
                   = G^{(\alpha+\beta)/\alpha} D^{\beta/\alpha}

    (the first-order condition ``alpha A / N^alpha = beta B / D^beta`` of minimising
    ``A/N^alpha + B/D^beta`` at ``N D`` fixed). ``U_N = min(N, N_opt(U_D))`` in the
    data-constrained law. With ``alpha = beta`` it is ``G^2 D``.

    Parameters
    ----------
    params : mapping or FitResult
        Needs ``A``, ``B``, ``alpha``, ``beta`` (public units).
    tokens : float or array_like
        Tokens (positive).

    Examples
    --------
    >>> round(float(compute_optimal_n(MUENNIGHOFF_2023["params"], 1.0)), 4)  # G^2
    0.051
    """
    p = _public_params(params, ("A", "B", "alpha", "beta"))
    d = _positive("tokens", tokens)
    log_n = log_optimal_n_for_tokens(math.log(p["A"]), math.log(p["B"]), p["alpha"], p["beta"],
                                     np.log(d))
    out = np.exp(log_n)
    return out[()] if out.ndim == 0 else out


def effective_data(tokens, unique_tokens, R_D_star):
    r"""Effective data ``D' = U_D + U_D R_D^* (1 - e^{-R_D/R_D^*})`` (Muennighoff 2023).

    ``U_D = min(U, D)``, ``R_D = D/U_D - 1``. Bounded by ``(1 + R_D^*) U_D`` however
    often the data is repeated; equals ``D`` without repetition.

    Parameters
    ----------
    tokens, unique_tokens : float or array_like
        Training tokens ``D`` and unique tokens ``U`` (positive; broadcast).
    R_D_star : float or array_like
        Decay constant of repeated tokens (15.39 in Muennighoff et al.).

    Returns
    -------
    float or ndarray
        ``D'`` in tokens.
    """
    return _effective_amount(("tokens", tokens), ("unique_tokens", unique_tokens),
                             ("R_D_star", R_D_star))


def effective_params(params_count, unique_params, R_N_star):
    r"""Effective parameters ``N' = U_N + U_N R_N^* (1 - e^{-R_N/R_N^*})`` (Muennighoff 2023).

    ``U_N = min(N, unique_params)`` and ``R_N = N/U_N - 1``. Bounded by
    ``(1 + R_N^*) U_N``; equals ``N`` when ``N <= unique_params``.

    Parameters
    ----------
    params_count : float or array_like
        Parameters ``N``.
    unique_params : float or array_like
        The most parameters the unique data can use; the law takes
        ``compute_optimal_n(params, min(U, D))``.
    R_N_star : float or array_like
        Decay constant of excess parameters (5.31 in Muennighoff et al.).

    Returns
    -------
    float or ndarray
        ``N'``.
    """
    return _effective_amount(("params_count", params_count), ("unique_params", unique_params),
                             ("R_N_star", R_N_star))


def _effective_amount(amount, unique, decay):
    """Muennighoff's one formula for both :func:`effective_data` and
    :func:`effective_params`: ``U + U R* (1 - exp(-R/R*))`` with ``U = min(amount, unique)``
    and ``R = amount/U - 1``; each argument a ``(name, value)`` pair, checked positive."""
    x, cap, r = (_positive(name, value) for name, value in (amount, unique, decay))
    ln_x = np.log(x)
    out = np.exp(_effective(ln_x, np.minimum(np.log(cap), ln_x), r, derivatives=False))
    return out[()] if out.ndim == 0 else out


def repeated_data_value(epochs, R_D_star=MUENNIGHOFF_2023["R_D_star"]):
    r"""Average value of a token, relative to unique data, when ``U`` is seen ``epochs`` times.

    .. math::

        \frac{D'}{D} = \frac{1 + R_D^* (1 - e^{-(\text{epochs} - 1)/R_D^*})}{\text{epochs}}

    (``D = epochs U``; 1 for ``epochs <= 1``). With ``R_D^* = 15.39``: 0.984 at 2 epochs,
    0.931 at 4, 0.828 at 8, 0.661 at 16, 0.379 at 40 (the reference sheet's derived values).

    Parameters
    ----------
    epochs : float or array_like
        ``D / U`` (positive).
    R_D_star : float, default ``MUENNIGHOFF_2023["R_D_star"]``
        Decay constant of repeated tokens.

    Returns
    -------
    float or ndarray
        ``D' / D``.
    """
    ep = _positive("epochs", epochs)
    value = effective_data(ep, 1.0, R_D_star) / ep
    return value[()] if np.ndim(value) == 0 else value


# -- allocation under a unique-token limit --------------------------------------------------

@dataclass(frozen=True)
class DataConstrainedAllocation(FrozenOnUnpickle):
    """The loss-minimising ``(N, D)`` at a compute budget with ``U`` unique tokens available.

    Attributes
    ----------
    N, D : float or ndarray
        Parameters and training tokens (``k N D = compute``).
    epochs : float or ndarray
        ``D / U`` (below 1 when the budget cannot use all unique tokens).
    loss : float or ndarray
        Predicted loss at the optimum.
    compute, unique_tokens : float or ndarray
        The budgets and unique-token limits (broadcast).
    flops_per_token : float
        ``k``.
    at_search_edge : bool or ndarray
        The minimum sits on the edge of the searched ``D/N`` range (widen
        ``tokens_per_parameter_bounds``).
    """

    N: Any
    D: Any
    epochs: Any
    loss: Any
    compute: Any
    unique_tokens: Any
    flops_per_token: float = 6.0
    at_search_edge: Any = False
    params: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """Plain JSON-safe types."""
        def plain(v):
            return np.asarray(v).tolist() if isinstance(v, np.ndarray) else (
                bool(v) if isinstance(v, (bool, np.bool_)) else float(v))
        out = {k: plain(getattr(self, k)) for k in ("N", "D", "epochs", "loss", "compute",
                                                    "unique_tokens", "at_search_edge")}
        out["flops_per_token"] = float(self.flops_per_token)
        out["params"] = dict(self.params)
        return out


def data_constrained_optimal(params, compute, unique_tokens, flops_per_token=6.0, *,
                             tokens_per_parameter_bounds=None,
                             tokens_per_param_bounds=None) -> DataConstrainedAllocation:
    r"""Allocation minimising the data-constrained loss at a budget, given ``U`` unique tokens.

    Minimises :math:`L(N, D, U)` subject to :math:`k N D = C` (Muennighoff et al. 2023,
    the allocation behind their Fig. 1; the README finds it by a 1,000-point multiplicative grid
    search around a base configuration). Here: for every (budget, ``U``) pair at once,
    a dense grid of 1,201 points over :math:`\log N` with ``D/N`` in
    ``tokens_per_parameter_bounds`` brackets the minimum, then a vectorised golden-section
    search narrows the bracket ~1e-10-fold.

    Parameters
    ----------
    params : mapping or FitResult
        All seven :class:`DataConstrained` parameters in public units, e.g.
        ``MUENNIGHOFF_2023["params"]``, or a ``data_constrained`` fit.
    compute : float or array_like
        Budgets ``C`` in FLOP.
    unique_tokens : float or array_like
        Unique tokens ``U`` available; broadcast against ``compute``.
    flops_per_token : float, default 6
        ``k`` in ``C = k N D``.
    tokens_per_parameter_bounds : (float, float)
        Range of ``D/N`` searched.

    Returns
    -------
    DataConstrainedAllocation
        ``N``, ``D``, ``epochs = D/U``, ``loss`` (scalars for scalar input).

    Examples
    --------
    The README's worked example (a grid search gives 7.0224e9 parameters and
    2.3734e11 tokens, 9.49 epochs):

    >>> best = data_constrained_optimal(MUENNIGHOFF_2023["params"], 1e22, 25e9)
    >>> f"{best.N:.4g} {best.D:.4g} {best.epochs:.3g}"
    '7.026e+09 2.372e+11 9.49'
    """
    p = _public_params(params)
    budgets = _positive("compute", compute)
    unique = _positive("unique_tokens", unique_tokens)
    if np.ndim(flops_per_token) != 0:
        raise InputError(f"`flops_per_token` must be a scalar, got {flops_per_token!r}")
    k = float(_positive("flops_per_token", flops_per_token))
    low, high = check_ratio_bounds(renamed_argument(
        "tokens_per_param_bounds", "tokens_per_parameter_bounds", tokens_per_param_bounds,
        tokens_per_parameter_bounds, _SEARCH_RANGE))
    budgets, unique = broadcast_together("compute", budgets, "unique_tokens", unique)
    shape = budgets.shape
    ln_c = np.log(budgets.ravel() / k)[:, None]  # log(N D)
    ln_u = np.log(unique.ravel())[:, None]
    form = DataConstrained()
    theta = form.to_internal(form.params_vector(p))[None, :]

    def log_loss(ln_n):
        ln_n, ln_cc, ln_uu = np.broadcast_arrays(ln_n, ln_c, ln_u)
        X = {"N": np.exp(ln_n.ravel()), "D": np.exp((ln_cc - ln_n).ravel()),
             "U": np.exp(ln_uu.ravel())}
        return form.log_value(theta, X)[0].reshape(ln_n.shape)

    # ln N = (ln C' - ln r) / 2 for r = D/N
    lo_n = 0.5 * (ln_c - math.log(high))
    hi_n = 0.5 * (ln_c - math.log(low))
    steps = np.linspace(0.0, 1.0, _N_GRID)[None, :]
    grid = lo_n + (hi_n - lo_n) * steps
    with np.errstate(all="ignore"):
        values = log_loss(grid)
    values = np.where(np.isfinite(values), values, np.inf)
    best = np.argmin(values, axis=1)
    edge = (best == 0) | (best == _N_GRID - 1)
    rows = np.arange(grid.shape[0])
    left = grid[rows, np.maximum(best - 1, 0)][:, None]
    right = grid[rows, np.minimum(best + 1, _N_GRID - 1)][:, None]
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    x1 = right - ratio * (right - left)
    x2 = left + ratio * (right - left)
    with np.errstate(all="ignore"):
        f1, f2 = log_loss(x1), log_loss(x2)
        for _ in range(_N_GOLDEN):
            move_right = f1 > f2  # the minimum lies in [x1, right], else in [left, x2]
            left = np.where(move_right, x1, left)
            right = np.where(move_right, right, x2)
            x_new = np.where(move_right, left + ratio * (right - left),
                             right - ratio * (right - left))
            f_new = log_loss(x_new)
            x1, f1, x2, f2 = (np.where(move_right, x2, x_new), np.where(move_right, f2, f_new),
                              np.where(move_right, x_new, x1), np.where(move_right, f_new, f1))
        ln_n = 0.5 * (left + right)
        ln_loss = log_loss(ln_n)
    # never report a point worse than the best grid point
    grid_best = values[rows, best][:, None]
    take_grid = ~(ln_loss <= grid_best)
    ln_n = np.where(take_grid, grid[rows, best][:, None], ln_n)
    ln_loss = np.where(take_grid, grid_best, ln_loss)

    def shaped(v):
        v = np.asarray(v).reshape(shape)
        return v.item() if v.ndim == 0 else v

    n = np.exp(ln_n[:, 0])
    d = np.exp(ln_c[:, 0] - ln_n[:, 0])
    return DataConstrainedAllocation(
        N=shaped(n), D=shaped(d), epochs=shaped(d / np.exp(ln_u[:, 0])),
        loss=shaped(np.exp(ln_loss[:, 0])), compute=shaped(budgets.ravel()),
        unique_tokens=shaped(unique.ravel()), flops_per_token=k,
        at_search_edge=shaped(edge), params=p)
