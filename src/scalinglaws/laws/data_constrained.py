r"""Muennighoff et al. (2023)'s data-constrained law as a form, with its published constants.

The law (``"data_constrained"``; ``"data_constrained_linear_decay"`` keeps the decay
constants linear as the authors' notebook did) and its one formula for an effective
amount, ``log X'`` with ``X' = U + U R* (1 - exp(-R/R*))``
(:func:`log_effective_amount`). The paper, the math, the fitting notes and what the law
answers (effective data and parameters, the value of repeated tokens, the allocation under
a unique-token limit) are in :mod:`scalinglaws.laws.datablations`, which re-exports
everything here.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .._exceptions import InputError
from .._validation import deep_freeze
from .forms import Form, _jacobian, _logsumexp, register_form
from .frontier import log_optimal_n_for_tokens

__all__ = ["BUILTIN_FORMS", "MUENNIGHOFF_2023", "DataConstrained", "log_effective_amount"]

_BASE = ("E", "A", "B", "alpha", "beta")
_DECAY = ("R_D_star", "R_N_star")
_DECAY_BOUNDS = (1e-6, 1e10)  # public range of R*_D, R*_N searched by default
_EXPONENT_LOWER = 1e-6  # alpha, beta divide in N_opt(U_D)
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

def log_effective_amount(log_total, log_unique, rstar, *, derivatives: bool):
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
            q = log_effective_amount(lnD, ln_ud, rd_star, derivatives=False)
            p = log_effective_amount(lnN, ln_un, rn_star, derivatives=False)
            value, _ = _logsumexp(a - alpha * p, b - beta * q, e)
            return value, None
        q, _, _, dq_drd = log_effective_amount(lnD, ln_ud, rd_star, derivatives=True)
        p, dp_dun, _, dp_drn = log_effective_amount(lnN, ln_un, rn_star, derivatives=True)
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
