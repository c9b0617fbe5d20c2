r"""Kaplan et al. (2020): the laws, allocations and rules beyond the single power laws.

Kaplan, McCandlish et al., "Scaling Laws for Neural Language Models" (arXiv 2001.08361).
Their N counts **non-embedding** parameters and their compute-efficient frontier is in
``C_min``, the compute of training far below the critical batch. Everything here takes
compute in FLOP (this package's unit) and converts to PF-days (8.64e19 FLOP) where the
paper's constants need it.

======================================  ===================================================
:class:`KaplanNS` (``"kaplan_ns"``)      L(N, S_min), Eq. 1.6 / 5.6, a fittable form
:func:`overfitting`                      the overfitting penalty delta L(N, D), Eq. 4.3
:func:`tokens_to_avoid_overfitting`      the D that keeps delta L under a threshold (4.3-4.4)
:func:`overfitting_rule`                 that D as ``prefactor * N**exponent`` (Eq. 4.4)
:func:`compute_efficient`                Table 6: N, B, S_min, D and L at a C_min (Sec. 6)
:func:`allocation_exponents`             the theory's exponents, Eq. 1.7-1.8 (and 6.4-6.5)
:func:`ns_frontier`                      the frontier of L(N, S_min) at B_crit, App. B
:func:`contradiction_point`              where L(C_min) meets L(D(C_min)), Eq. 6.8
:func:`kaplan_nd_allocation_exponent`    N_opt ~ C^a of the L(N, D) form under C = 6ND
======================================  ===================================================

The critical batch ``B_crit(L)`` (Eq. 1.4 / 5.3) and the conversions ``S_min = S / (1 +
B_crit/B)`` (Eq. 5.4) and ``C_min = C / (1 + B/B_crit)`` (Eq. 5.5) are
:func:`~scalinglaws.laws.flops.critical_batch_size`, :func:`~scalinglaws.laws.flops.min_steps`
and :func:`~scalinglaws.laws.flops.min_compute`. Counting parameters with or without
embeddings, and its effect on the allocation exponent, is :mod:`.kaplan_counting`.

Why Kaplan's 0.73 is not what ``compute_optimal`` gives for ``kaplan_nd``
------------------------------------------------------------------------
``compute_optimal`` on the fitted ``kaplan_nd`` law minimises the *converged* loss
L(N, D) under C = 6ND with a free batch: N_opt ~ C^(alpha_D/(alpha_N + alpha_D)), 0.575
with Table 2's exponents (:func:`kaplan_nd_allocation_exponent`). Kaplan's N ~ C_min^0.73
(Table 6, Eq. 6.1) comes from another experiment: training at the critical batch and
stopping early, far from convergence (Sec. 6, App. B). Use :func:`compute_efficient` for
the paper's allocation and say which one you quote.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenOnUnpickle
from .._validation import deep_freeze, freeze_array_fields
from . import published as pub
from .flops import (
    KAPLAN_ALPHA_B,
    KAPLAN_B_STAR,
    PF_DAY,
    as_output,
    check_quantity,
    critical_batch_size,
)
from .forms import Form, _jacobian, _logsumexp, register_form

__all__ = ["KaplanNS", "overfitting", "tokens_to_avoid_overfitting", "OverfittingRule",
           "overfitting_rule", "KaplanAllocation", "compute_efficient", "allocation_exponents",
           "ns_frontier", "ContradictionPoint", "contradiction_point",
           "kaplan_nd_allocation_exponent"]


# --------------------------------------------------------------------------- L(N, S_min)
class KaplanNS(Form):
    r"""Kaplan et al. (2020) loss in parameters and minimum steps (Eq. 1.6 / 5.6).

    .. math::

        L(N, S_{min}) = \left(\frac{N_c}{N}\right)^{\alpha_N}
                        + \left(\frac{S_c}{S_{min}}\right)^{\alpha_S}

    ``N`` non-embedding parameters; ``S_min`` the steps the run would need at a batch far
    above the critical one, ``S_min = S / (1 + B_crit(L)/B)`` (Eq. 5.4,
    :func:`~scalinglaws.laws.flops.min_steps`) for a run that took ``S`` steps at batch
    ``B``. Table 3: alpha_N = 0.077, alpha_S = 0.76, N_c = 6.5e13, S_c = 2.1e3
    (:data:`~scalinglaws.laws.published.KAPLAN_2020_NS`). Inputs ``N`` and ``S_min``;
    fit it with ``LawFitter("kaplan_ns").fit_arrays({"N": ..., "S_min": ...}, loss)``.

    Internally ``log L = LSE(alpha_N (log N_c - log N), alpha_S (log S_c - log S_min))``.

    Examples
    --------
    >>> from scalinglaws.laws.published import KAPLAN_2020_NS
    >>> round(float(KaplanNS().predict(KAPLAN_2020_NS, N=1e9, S_min=1e5)), 4)
    2.4005
    """

    name = "kaplan_ns"
    inputs = ("N", "S_min")
    param_names = ("N_c", "S_c", "alpha_N", "alpha_S")
    log_params = frozenset({"N_c", "S_c"})
    formula = "L = (N_c / N)**alpha_N + (S_c / S_min)**alpha_S"

    def log_value_and_jacobian(self, theta, X):
        ln_n = np.log(X["N"])[None, :]
        ln_s = np.log(X["S_min"])[None, :]
        log_nc, log_sc, alpha_n, alpha_s = (theta[:, i:i + 1] for i in range(4))
        gap_n, gap_s = log_nc - ln_n, log_sc - ln_s
        value, (w_n, w_s) = _logsumexp(alpha_n * gap_n, alpha_s * gap_s)
        return value, _jacobian([alpha_n * w_n, alpha_s * w_s, w_n * gap_n, w_s * gap_s],
                                value.shape)

    def start_grid(self, X, loss):
        # each term starts at a share of the observed loss, for a grid of exponents
        ln_n, ln_s = np.log(X["N"]), np.log(X["S_min"])
        starts = []
        for alpha_n, alpha_s, share in itertools.product([0.03, 0.08, 0.2, 0.5],
                                                         [0.2, 0.5, 0.8, 1.5],
                                                         [0.25, 0.5, 0.75]):
            log_nc = np.median(ln_n + np.log(share * loss) / alpha_n)
            log_sc = np.median(ln_s + np.log((1.0 - share) * loss) / alpha_s)
            starts.append([log_nc, log_sc, alpha_n, alpha_s])
        return np.array(starts, dtype=float)


#: the forms this module adds to the registry (see ``forms._BUILTIN_MODULES``)
BUILTIN_FORMS = (KaplanNS(),)
register_form(BUILTIN_FORMS[0])


# --------------------------------------------------------------------------- overfitting
def _nd_params(params):
    params = pub.KAPLAN_2020_ND if params is None else params
    missing = [k for k in ("N_c", "D_c", "alpha_N", "alpha_D") if k not in params]
    if missing:
        raise InputError(f"`params` must give N_c, D_c, alpha_N, alpha_D (Kaplan Eq. 1.5); "
                         f"missing {missing}")
    return {k: float(check_quantity(f"params[{k!r}]", params[k])) for k in
            ("N_c", "D_c", "alpha_N", "alpha_D")}


def _threshold(threshold):
    value = check_quantity("threshold", threshold)
    if value.ndim:
        raise InputError("`threshold` must be one number")
    return float(value)


def overfitting(N, D, params=None):
    r"""The overfitting penalty of Kaplan et al. (2020) Eq. 4.3.

    .. math::

        \delta L(N, D) = \frac{L(N, D)}{L(N, \infty)} - 1
        = \left[1 + \left(\frac{N}{N_c}\right)^{\alpha_N/\alpha_D}\frac{D_c}{D}\right]^{\alpha_D} - 1

    with the L(N, D) law of Eq. 1.5 (Table 2 constants by default,
    :data:`~scalinglaws.laws.published.KAPLAN_2020_ND`). The relation is exact for that
    law: it is the relative loss a finite dataset costs a model of N parameters
    (non-embedding) trained to early stopping.

    Parameters
    ----------
    N, D : float or array_like
        Non-embedding parameters and tokens (positive), broadcast together.
    params : mapping, optional
        ``N_c``, ``D_c``, ``alpha_N``, ``alpha_D``.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(overfitting(1e9, 2.3e10), 4)     # a 1B model on WebText2's 23B tokens
    0.0209
    """
    p = _nd_params(params)
    n, d = np.broadcast_arrays(check_quantity("N", N), check_quantity("D", D))
    ratio = p["alpha_N"] / p["alpha_D"]
    log_inner = np.log1p(np.exp(ratio * (np.log(n) - math.log(p["N_c"]))
                                + math.log(p["D_c"]) - np.log(d)))
    return as_output(np.expm1(p["alpha_D"] * log_inner))


def tokens_to_avoid_overfitting(N, *, threshold=0.02, params=None):
    r"""Tokens that keep the overfitting penalty (Eq. 4.3) at ``threshold``: Eq. 4.4 unrounded.

    Solving :func:`overfitting` ``= delta`` for D gives

    .. math::

        D = \frac{D_c\,(N/N_c)^{\alpha_N/\alpha_D}}{(1 + \delta)^{1/\alpha_D} - 1},

    a power law in N; with ``delta = 0.02`` (the seed-to-seed spread Kaplan use) and
    Table 2's constants it is ``5.52e3 * N^0.738``; the paper prints
    ``D >~ 5e3 N^0.74`` (Eq. 4.4), about 10% less data than Eq. 4.3 implies. See :func:`overfitting_rule`.

    Examples
    --------
    >>> round(tokens_to_avoid_overfitting(1e9) / 1e9, 1)   # billions of tokens for 1B
    24.1
    """
    rule = overfitting_rule(threshold=threshold, params=params)
    return rule.tokens(N)


@dataclass(frozen=True)
class OverfittingRule:
    """``D >~ prefactor * N**exponent`` keeps the overfitting penalty under ``threshold``.

    ``published_prefactor`` and ``published_exponent`` are Eq. 4.4's rounded 5e3 and 0.74.
    """

    prefactor: float
    exponent: float
    threshold: float
    published_prefactor: float = pub.KAPLAN_2020_OVERFITTING["prefactor"]
    published_exponent: float = pub.KAPLAN_2020_OVERFITTING["exponent"]

    def tokens(self, N):
        """Tokens for models of ``N`` non-embedding parameters."""
        return as_output(self.prefactor * check_quantity("N", N) ** self.exponent)

    def data_multiplier(self, model_multiplier):
        """How much more data a ``model_multiplier`` times larger model needs ("8x -> ~5x")."""
        return as_output(check_quantity("model_multiplier", model_multiplier) ** self.exponent)

    def to_dict(self) -> dict:
        return {"prefactor": self.prefactor, "exponent": self.exponent,
                "threshold": self.threshold, "published_prefactor": self.published_prefactor,
                "published_exponent": self.published_exponent}


def overfitting_rule(*, threshold=0.02, params=None) -> OverfittingRule:
    """Eq. 4.4 derived from Eq. 4.3: the prefactor and exponent of the data requirement.

    Examples
    --------
    >>> rule = overfitting_rule()
    >>> round(rule.prefactor), round(rule.exponent, 4)
    (5519, 0.7379)
    >>> round(rule.data_multiplier(8), 2)          # "8x the model needs ~5x the data"
    4.64
    """
    p = _nd_params(params)
    delta = _threshold(threshold)
    ratio = p["alpha_N"] / p["alpha_D"]
    denominator = math.expm1(math.log1p(delta) / p["alpha_D"])
    prefactor = p["D_c"] * p["N_c"] ** (-ratio) / denominator
    return OverfittingRule(prefactor=prefactor, exponent=ratio, threshold=delta)


# --------------------------------------------------------------------------- allocation
@dataclass(frozen=True)
class KaplanAllocation(FrozenOnUnpickle):
    """A compute-efficient allocation in Kaplan's sense (non-embedding N, compute C_min).

    Attributes
    ----------
    compute : ndarray
        C_min in FLOP (``compute_pf_days`` in PF-days).
    N : ndarray
        Non-embedding parameters.
    batch_size : ndarray
        The critical batch B_crit in tokens (train at or below it).
    min_steps : ndarray
        S_min, the steps at a batch far above B_crit; at B = B_crit a run takes
        ``2 * min_steps`` steps and ``2 * compute`` FLOP (Sec. 5.1, 6.3).
    D : ndarray
        Training tokens (one epoch, no reuse).
    loss : ndarray
        The loss the allocation reaches (nats/token).
    source : str
        Which of the paper's results produced it.
    """

    compute: np.ndarray
    compute_pf_days: np.ndarray
    N: np.ndarray
    batch_size: np.ndarray
    min_steps: np.ndarray
    D: np.ndarray
    loss: np.ndarray
    source: str
    notes: tuple = field(default=())

    def __post_init__(self):
        freeze_array_fields(self, self._COLUMNS)

    _COLUMNS = ("compute", "compute_pf_days", "N", "batch_size", "min_steps", "D", "loss")

    def to_dict(self) -> dict:
        """Plain JSON-safe values."""
        out = {name: getattr(self, name).tolist() for name in self._COLUMNS}
        return {**out, "source": self.source, "notes": list(self.notes)}

    def to_frame(self):
        """A DataFrame, one row per budget."""
        import pandas as pd

        return pd.DataFrame({name: np.ravel(getattr(self, name)) for name in self._COLUMNS})


def _compute_pf_days(compute):
    return check_quantity("compute", compute) / PF_DAY


def compute_efficient(compute) -> KaplanAllocation:
    r"""Kaplan et al. (2020) compute-efficient allocation, App. A Table 6 and Sec. 6.1.

    With ``C_min`` in PF-days (``compute`` is given in FLOP):

    ====  =========================  ======================
    N     1.3e9 * C_min^0.73         Eq. 6.1 (non-embedding)
    B     2.0e6 * C_min^0.24 tokens  the critical batch
    S     5.4e3 * C_min^0.03 steps   S_min, Eq. 6.2
    D     2e10 * C_min^0.27 tokens   one epoch
    ====  =========================  ======================

    and the loss ``L = (C_c/C_min)^0.050`` with ``C_c = 3.1e8`` PF-days (Eq. 1.3). Per 10x
    compute the model grows 10^0.73 = 5.4x and the data 10^0.27 = 1.9x. These are
    Kaplan's empirical fits for training at the critical batch and stopping early, not the
    optimum of a converged L(N, D) (see the module notes). The prefactors are one-figure
    roundings: ``6 N B S`` at 1 PF-day is 8.4e19 FLOP (C_min = 6 N B_crit S_min, 2.6% off
    8.64e19), and ``2 B S`` is 2.2e10 against D's 2e10.

    Parameters
    ----------
    compute : float or array_like
        C_min in FLOP (positive).

    Returns
    -------
    KaplanAllocation

    Examples
    --------
    >>> alloc = compute_efficient(8.64e19)             # one PF-day
    >>> float(alloc.N), float(alloc.batch_size), float(alloc.min_steps), float(alloc.D)
    (1300000000.0, 2000000.0, 5400.0, 20000000000.0)
    """
    c = _compute_pf_days(compute)
    table = pub.KAPLAN_2020_TABLE6
    law = pub.KAPLAN_2020["C_min_pf_days"]
    values = {key: coefficient * c ** exponent for key, (coefficient, exponent) in table.items()
              if key != "N"}
    values["N"] = pub.kaplan_2020_frontier(c * PF_DAY)  # Eq. 6.1, the frontier the plots draw
    return KaplanAllocation(compute=c * PF_DAY, compute_pf_days=c, N=values["N"],
                            batch_size=values["B"], min_steps=values["S_min"], D=values["D"],
                            loss=(law["C_c"] / c) ** law["alpha_C"],
                            source="Kaplan et al. (2020) Table 6 and Eq. 1.3")


def allocation_exponents(alpha_N=pub.KAPLAN_2020["N"]["alpha_N"], alpha_B=KAPLAN_ALPHA_B,
                         alpha_S=pub.KAPLAN_2020_NS["alpha_S"]) -> dict:
    r"""The theory's compute-efficient exponents, Kaplan et al. (2020) Eq. 1.7-1.8.

    .. math::

        \alpha_C^{min} = \frac{1}{1/\alpha_S + 1/\alpha_B + 1/\alpha_N},\quad
        N \propto C_{min}^{\alpha_C^{min}/\alpha_N},\;
        B \propto C_{min}^{\alpha_C^{min}/\alpha_B},\;
        S \propto C_{min}^{\alpha_C^{min}/\alpha_S},\; D = B S.

    With Table 5's exponents (0.076, 0.21, 0.76) alpha_C^min = 0.0520 and N ~ C^0.684; the
    paper quotes alpha_C^min ~ 0.054 and N ~ C^0.71 (Eq. 6.4-6.5, 0.054/0.076) and fits
    0.73 empirically (Table 6).

    Returns
    -------
    dict
        ``alpha_C_min`` and the exponents of ``N``, ``B``, ``S_min`` and ``D``.

    Examples
    --------
    >>> {k: round(v, 4) for k, v in allocation_exponents().items()}
    {'alpha_C_min': 0.052, 'N': 0.684, 'B': 0.2476, 'S_min': 0.0684, 'D': 0.316}
    """
    a_n = float(check_quantity("alpha_N", alpha_N))
    a_b = float(check_quantity("alpha_B", alpha_B))
    a_s = float(check_quantity("alpha_S", alpha_S))
    alpha_c = 1.0 / (1.0 / a_s + 1.0 / a_b + 1.0 / a_n)
    return {"alpha_C_min": alpha_c, "N": alpha_c / a_n, "B": alpha_c / a_b,
            "S_min": alpha_c / a_s, "D": alpha_c / a_b + alpha_c / a_s}


def ns_frontier(compute, params=None, *, b_star=KAPLAN_B_STAR,
                alpha_b=KAPLAN_ALPHA_B) -> KaplanAllocation:
    r"""The compute-efficient frontier of L(N, S_min) at the critical batch (App. B).

    Minimising L(N, S_min) (Eq. 1.6) subject to ``C_min = 6 N B_crit(L) S_min`` puts the
    two terms in the fixed ratio ``(S_c/S)^alpha_S / (N_c/N)^alpha_N = alpha_N/alpha_S``
    (so compute-efficient runs stop alpha_N/alpha_S ~ 10% above the converged loss, Eq.
    B.5), and every quantity becomes an exact power law of C_min with the exponents of
    :func:`allocation_exponents`. Solved in closed form here; Table 3 constants by default.

    Parameters
    ----------
    compute : float or array_like
        C_min in FLOP.
    params : mapping, optional
        ``N_c``, ``S_c``, ``alpha_N``, ``alpha_S`` (default Table 3).
    b_star, alpha_b : float
        The critical batch law, :func:`~scalinglaws.laws.flops.critical_batch_size`.

    Returns
    -------
    KaplanAllocation
        ``D = 2 B_crit S_min`` (training at B_crit, Eq. 6.7).
    """
    p = pub.KAPLAN_2020_NS if params is None else params
    try:
        n_c, s_c, a_n, a_s = (float(check_quantity(f"params[{k!r}]", p[k]))
                              for k in ("N_c", "S_c", "alpha_N", "alpha_S"))
    except KeyError as missing:
        raise InputError(f"`params` must give N_c, S_c, alpha_N, alpha_S; missing {missing}") \
            from None
    b_star = float(check_quantity("b_star", b_star))
    alpha_b = float(check_quantity("alpha_b", alpha_b))
    c = check_quantity("compute", compute)
    ratio = a_n / a_s

    def log_compute(log_n):
        # terms at the optimum: a = (N_c/N)^alpha_N, b = ratio * a, L = a + b
        log_a = a_n * (math.log(n_c) - log_n)
        log_s = math.log(s_c) - (math.log(ratio) + log_a) / a_s
        log_loss = log_a + math.log1p(ratio)
        log_b = math.log(b_star) - log_loss / alpha_b
        return math.log(6.0) + log_n + log_b + log_s

    slope = 1.0 + a_n / alpha_b + a_n / a_s   # d log C / d log N, exactly
    log_n = (np.log(c) - log_compute(0.0)) / slope
    n = np.exp(log_n)
    a = (n_c / n) ** a_n
    loss = a * (1.0 + ratio)
    steps = s_c / (ratio * a) ** (1.0 / a_s)
    batch = np.asarray(critical_batch_size(loss, b_star, alpha_b))
    return KaplanAllocation(compute=c, compute_pf_days=c / PF_DAY, N=n, batch_size=batch,
                            min_steps=steps, D=2.0 * batch * steps, loss=loss,
                            source="Kaplan et al. (2020) App. B: L(N, S_min) at B_crit")


# --------------------------------------------------------------------------- contradiction
@dataclass(frozen=True)
class ContradictionPoint:
    """Where L(C_min) (Eq. 1.3) meets L(D(C_min)) (Eq. 1.2 at the data of Sec. 6): Eq. 6.8.

    ``compute`` in FLOP and ``compute_pf_days``; ``N`` non-embedding parameters and ``D``
    tokens of the compute-efficient allocation there; ``loss`` in nats/token; ``data_law``
    names the D(C_min) used; ``published`` holds Eq. 6.8's orders of magnitude.
    """

    compute: float
    compute_pf_days: float
    N: float
    D: float
    loss: float
    data_law: str
    published: dict = field(default_factory=lambda: dict(pub.KAPLAN_2020_CONTRADICTION))

    def __post_init__(self):
        # frozen all the way down: ``point.published["L"] = 99`` must not rewrite the paper
        object.__setattr__(self, "published", deep_freeze(dict(self.published)))

    def to_dict(self) -> dict:
        return {"compute": self.compute, "compute_pf_days": self.compute_pf_days, "N": self.N,
                "D": self.D, "loss": self.loss, "data_law": self.data_law,
                "published": dict(self.published)}


_DATA_LAWS = {"table6": (pub.KAPLAN_2020_TABLE6["D"], "D = 2e10 C_min^0.27 (Table 6)"),
              "eq6.7": (pub.KAPLAN_2020_EQ_6_7, "D = 4e10 C_min^0.26 (Eq. 6.7)")}


def contradiction_point(data_law: str = "table6") -> ContradictionPoint:
    r"""Kaplan et al. (2020) Eq. 6.8: where the compute law undercuts the data law.

    Compute-efficient training uses data D(C_min) = D_e C_min^p_D, which grows slowly; the
    loss it can reach is bounded by L(D) = (D_c/D)^alpha_D (Eq. 1.2). L(C_min) =
    (C_c/C_min)^alpha_C (Eq. 1.3) falls faster, so the two meet at

    .. math::

        \log C^* = \frac{\alpha_C \log C_c - \alpha_D \log(D_c / D_e)}{\alpha_C - \alpha_D p_D}

    (C in PF-days), with N* = N(C*) from Table 6 and D* = D(C*). The paper prints C* ~ 1e4
    PF-days, N* ~ 1e12, D* ~ 1e12 tokens, L* ~ 1.7 and says the values are uncertain by an
    order of magnitude either way. ``data_law="table6"`` (D_e = 2e10, p_D = 0.27, which is
    2 C_min / (6 N(C_min)) with Table 6's N) gives C* = 1.1e4 PF-days, N* = 1.2e12, D* = 2.5e11,
    L* = 1.668; ``"eq6.7"`` uses Eq. 6.7 as printed (4e10, 0.26) and gives C* = 1.1e5 PF-days,
    N* = 6.1e12, D* = 8.1e11, L* = 1.49. Note D* cannot be 1e12 at L* = 1.7: L(D) = 1.7 needs D = 2.4e11 (Eq. 1.2).

    Examples
    --------
    >>> point = contradiction_point()
    >>> round(point.compute_pf_days, -2), round(point.loss, 3)
    (11200.0, 1.668)
    """
    if data_law not in _DATA_LAWS:
        raise InputError(f"`data_law` must be one of {', '.join(_DATA_LAWS)}, got {data_law!r}")
    (d_e, p_d), label = _DATA_LAWS[data_law]
    compute_law = pub.KAPLAN_2020["C_min_pf_days"]
    data = pub.KAPLAN_2020["D"]
    c_c, a_c = compute_law["C_c"], compute_law["alpha_C"]
    d_c, a_d = data["D_c"], data["alpha_D"]
    log_c = (a_c * math.log(c_c) - a_d * math.log(d_c / d_e)) / (a_c - a_d * p_d)
    c_star = math.exp(log_c)
    return ContradictionPoint(compute=c_star * PF_DAY, compute_pf_days=c_star,
                              N=float(pub.kaplan_2020_frontier(c_star * PF_DAY)),
                              D=d_e * c_star ** p_d,
                              loss=(c_c / c_star) ** a_c, data_law=label)


def kaplan_nd_allocation_exponent(alpha_N=pub.KAPLAN_2020_ND["alpha_N"],
                                  alpha_D=pub.KAPLAN_2020_ND["alpha_D"]) -> float:
    r"""N_opt ~ C^a of Kaplan's L(N, D) (Eq. 1.5) under C = 6ND: ``a = alpha_D/(alpha_N + alpha_D)``.

    At fixed C = 6ND the bracket of Eq. 1.5, ``(N_c/N)^(alpha_N/alpha_D) + 6 D_c N / C``,
    is smallest where ``N^(1 + alpha_N/alpha_D) ~ C``. With Table 2's exponents a = 0.575:
    what ``compute_optimal`` returns for a ``kaplan_nd`` fit, and not Kaplan's 0.73, which
    comes from early stopping at the critical batch (:func:`compute_efficient`).

    Examples
    --------
    >>> round(kaplan_nd_allocation_exponent(), 3)
    0.575
    """
    a_n = float(check_quantity("alpha_N", alpha_N))
    a_d = float(check_quantity("alpha_D", alpha_D))
    return a_d / (a_n + a_d)
