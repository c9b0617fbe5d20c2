"""Identifiability of a fit: how well the runs separate the free parameters.

One routine, used by the fit's diagnostics and by the sandwich covariance
(:mod:`scalinglaws.uncertainty.asymptotic`), so "condition number" has one
meaning in the package: the 2-norm condition number of the *correlation-scaled*
information matrix

.. math::

    I = \\sum_i w_i J_i J_i^\\top, \\qquad
    \\kappa = \\operatorname{cond}(S^{-1} I S^{-1}), \\quad S = \\operatorname{diag}(I)^{1/2},

with ``J_i`` the gradient of run ``i``'s residual in the internal parameters
(logs of scale parameters). It is 1 for parameters the runs separate perfectly
and grows without bound as two parameters become interchangeable; scaling by
the diagonal makes it independent of the parameters' units. What differs between
callers is only the weights ``w``, and each says which it uses: the fit's
diagnostics use ``w = 1`` (the design, ``J J^T``), the sandwich uses Huber's
``psi'(r)`` (the bread ``A``: only runs in the quadratic zone carry information).
"""

from __future__ import annotations

import numpy as np

from .._text import counted

__all__ = ["design_limits", "identifiability", "information_matrix", "scaled_condition_number",
           "ILL_CONDITIONED", "ONE_VALUE_SPREAD"]

ILL_CONDITIONED = 1e8  # condition number of the scaled information matrix beyond which we warn
#: runs whose largest value of a quantity is within this factor of the smallest share one
#: value of it (a sweep's logged budgets are rounded: "6e18" runs differ by well under 10%)
ONE_VALUE_SPREAD = 1.1


def information_matrix(jac: np.ndarray, weights=None) -> np.ndarray:
    """``sum_i w_i J_i J_i^T`` for a Jacobian ``(p, n)`` and weights ``(n,)`` (default 1)."""
    jac = np.asarray(jac, dtype=float)
    weighted = jac if weights is None else jac * np.asarray(weights, dtype=float)
    return weighted @ jac.T


def _scaled(info: np.ndarray) -> np.ndarray:
    scale = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    return info / np.outer(scale, scale)


def scaled_condition_number(info: np.ndarray) -> float:
    """Condition number of the correlation-scaled ``info`` (``inf`` when singular)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        condition = float(np.linalg.cond(_scaled(info)))
    return condition if np.isfinite(condition) else float("inf")


def identifiability(jac: np.ndarray, names: tuple, weights=None) -> dict:
    """How well the runs separate the free parameters ``names``.

    Returns a plain dict: ``condition_number`` (of the correlation-scaled
    information matrix, see the module docstring), ``most_correlated`` (the pair
    of estimates whose implied correlation is strongest, or None with one
    parameter), ``identifiable`` (condition number at most 1e8).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(1, 2, 20)
    >>> identifiability(np.stack([x, -x]), ("a", "b"))["identifiable"]  # a - b only
    False
    >>> identifiability(np.stack([x, x**2 - 3 * x]), ("a", "b"))["identifiable"]
    True
    """
    info = information_matrix(jac, weights)
    condition = scaled_condition_number(info)
    out = {"condition_number": condition, "most_correlated": None, "identifiable": True}
    if len(names) > 1:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            cov = np.linalg.pinv(_scaled(info), hermitian=True)
            sd = np.sqrt(np.clip(np.abs(np.diag(cov)), 1e-300, None))
            corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
        np.fill_diagonal(corr, 0.0)
        i, j = np.unravel_index(np.argmax(np.abs(np.nan_to_num(corr))), corr.shape)
        out["most_correlated"] = {"params": [names[i], names[j]], "correlation": float(corr[i, j])}
    out["identifiable"] = bool(condition <= ILL_CONDITIONED)
    return out


def design_limits(fitted_range, n_runs: int, free: tuple) -> list:
    """What the runs' design cannot determine, whatever the optimiser finds: one sentence
    per limit (empty when none).

    A condition number measures how well the runs separate the parameters *near the
    optimum*; a design can be well conditioned and still say nothing about a direction
    the law extrapolates along. Two such designs are flagged here:

    - at most as many runs as free parameters: the law passes through every run, so
      nothing is left to measure its error (the bootstrap and the delta method refuse it);
    - every run at one compute (N*D within a factor :data:`ONE_VALUE_SPREAD`, a single
      IsoFLOP budget), or at one N, or at one D, with more than two free parameters: how
      the loss changes along that quantity is not measured, it comes from the form alone.

    ``fitted_range`` is the fit's ``{input: (smallest, largest)}`` (with ``"N*D"`` for a
    law of N and D).

    Examples
    --------
    >>> design_limits({"N": (1e7, 1e9), "D": (2e10, 2e10), "N*D": (2e17, 2e19)}, 10,
    ...               ("E", "A", "B", "alpha", "beta"))[0][:33]
    'every run has D = 2e+10: the runs'
    >>> design_limits({"N": (1e7, 1e9)}, 2, ("A", "alpha"))[0][:44]
    '2 runs for 2 free parameters: no residual de'
    """
    limits = []
    if 0 < n_runs <= len(free):
        limits.append(f"{counted(n_runs, 'run')} for {len(free)} free parameters: no residual "
                      "degrees of freedom, so the law passes through the runs and nothing measures "
                      "its error; add runs or fix parameters")
    if len(free) <= 2:
        return limits
    ranges = dict(fitted_range or {})
    for name, what in (("N*D", "compute (N*D)"), ("N", "N"), ("D", "D")):
        if name not in ranges or "N*D" not in ranges:
            continue  # only for a law of N and D
        low, high = ranges[name]
        if low > 0 and high <= ONE_VALUE_SPREAD * low:
            if name == "N*D":
                limits.append(f"every run has the same compute (N*D {low:.3g} to {high:.3g}, "
                              "one IsoFLOP budget): the runs cannot determine how the loss "
                              "falls with compute, so E and the exponents rest on the "
                              "shape of one curve; add budgets (3 or more) before "
                              "predicting at another compute")
            else:
                limits.append(f"every run has {name} = {low:.3g}: the runs cannot determine "
                              f"how the loss depends on {name}; vary {name}, or fix the "
                              f"parameters of its term")
    return limits
