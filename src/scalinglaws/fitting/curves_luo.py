"""Luo et al. (2025)'s own fitting recipe for the Multi-Power Law, to reproduce their fits.

``fit_curves(curves, "mpl", method="luo2025")`` re-runs, step for step, how Luo et al.
fitted the Multi-Power Law (their public code, github ``thu-yao-01-luo/MultiPowerLaw``:
``src/fitting.py`` ``initialize_params``, ``generate_init_params`` and ``mpl_adam_fit``,
``src/utils.py`` ``preprocess_data``, ``compute_loss`` and ``torch_huber``, ``src/config.py``):

1. a start: a log-log regression of ``L - min L + 0.01`` on the LR area ``S1`` sets a grid
   over ``L0``, ``A``, ``alpha`` (``B`` in 100..1000; 135 cells); each cell is minimised by
   L-BFGS-B (finite-difference gradient, as scipy's default) on the 4-parameter surrogate
   ``L0 + A S1^-alpha - B (peak LR - LR)``; the best gives ``L0, A, alpha, B``, with
   ``C = 1`` and ``beta = gamma = 0.5``;
2. ``torch.optim.AdamW`` (here in numpy: decoupled weight decay 0.01, betas 0.9/0.999, eps
   1e-8; learning rate 5e-2 on ``L0, A, B, C`` and 5e-3 on the exponents) on the sum over
   every logged point of ``Huber_1e-3(log L - log L_hat)`` with the exact loss-drop sums
   and the losses rounded to float32 (their ``preprocess_data``), stopped after 200 steps,
   after 20 steps without a new best, or when the gradient's norm falls below 1e-5; the
   parameters kept are those *after* the step that followed the best objective (their
   loop keeps them so).

On Luo et al.'s 3 train curves per size this gives their published parameters to every
printed digit (relative differences 1.6e-6 / 2.0e-6 / 3.6e-6 at 25M / 100M / 400M, within
their 4-significant-digit rounding; ``tests/fitting/test_curves_luo.py``). The point is
**not an optimum** of the objective: the run stops after 91-108 steps while the objective
still oscillates, 2-13x above the optimum that ``fit_curves`` (the default,
``method="optimum"``) reaches; the stop is sensitive to the last digits of the sums (with
the package's quadrature, within 1e-5 nats of the exact sums, the 400M run stops after 88
steps elsewhere). On their 6 held-out curves it happens to predict better (README, "Why:
only the optimiser differs"). Use it to reproduce the paper; report the optimum otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._exceptions import ConvergenceWarning, InputError, user_stacklevel

__all__ = ["LuoObjective", "luo2025_start", "luo2025_adamw", "fit_curves_luo2025"]

DELTA = 1e-3  # their torch_huber's threshold (src/utils.py)
# src/config.py: FIT_LR1 on L0, A, B, C and FIT_LR2 on the exponents, FIT_MAX_STEPS,
# FIT_PATIENCE, FIT_GRAD_NORM_THR, FIT_LOSS_THR; torch.optim.AdamW's defaults, which
# mpl_adam_fit does not override (betas, eps, weight_decay)
_LR_SCALES, _LR_EXPONENTS = 5e-2, 5e-3
MAX_STEPS, PATIENCE, GRAD_NORM_THR, LOSS_THR = 200, 20, 1e-5, 0.0
WEIGHT_DECAY, BETAS, EPS = 0.01, (0.9, 0.999), 1e-8


class LuoObjective:
    """Their objective on ``curves``: sum over every point of Huber_delta(log L - log L_hat),
    with the losses rounded to float32 as their ``preprocess_data`` stores them; called
    with public parameters (the law's order), it returns the value and, with
    ``gradient=True``, the gradient in those public parameters (what AdamW steps).

    ``exact=False`` takes the package's quadrature of the loss-drop sums instead of the
    exact sums (within 1e-5 nats); ``warmup`` is the law's warmup convention.
    """

    def __init__(self, curves, *, exact: bool = True, warmup: str = "include",
                 delta: float = DELTA):
        from ..laws.curve_laws import get_curve_law

        self.law = get_curve_law("mpl", warmup=warmup)
        self.delta = float(delta)
        self.sums = self.law.prepare(curves, quadrature={"exact": True} if exact else None)
        loss = curves.frame["loss"].to_numpy(dtype=float).astype(np.float32)
        self.log_loss = np.log(loss).astype(float)
        self._is_log = np.array([n in self.law.log_params for n in self.law.param_names])

    def predict(self, params) -> np.ndarray:
        """The law's loss at every point of the curves."""
        return self.law.predict(np.asarray(params, dtype=float), self.sums)

    def __call__(self, params, gradient: bool = False):
        params = np.asarray(params, dtype=float)
        p = len(params)
        if np.any(params[self._is_log] <= 0):
            return (np.inf, np.full(p, np.nan)) if gradient else np.inf
        value, jac = self.law.evaluate(self.law.to_internal(params)[None, :], self.sums)
        pred = value[0]
        if np.any(~np.isfinite(pred)) or np.any(pred <= 0):
            return (np.inf, np.full(p, np.nan)) if gradient else np.inf
        r = self.log_loss - np.log(pred)
        small = np.abs(r) < self.delta
        total = float(np.sum(np.where(small, 0.5 * r * r,
                                      self.delta * (np.abs(r) - 0.5 * self.delta))))
        if not gradient:
            return total
        psi = np.where(small, r, self.delta * np.sign(r))
        grad_internal = jac[0] @ (-psi / pred)
        # d/dp = (d/dlog p) / p for the parameters the law stores as logs
        return total, np.where(self._is_log, grad_internal / params, grad_internal)


def luo2025_start(curves, *, delta: float = DELTA) -> np.ndarray:
    """Their start (``initialize_params`` + ``generate_init_params``): ``L0, A, alpha, B``
    from the best of 135 L-BFGS-B runs on the surrogate ``L0 + A S1^-alpha - B (peak -
    LR)`` over a grid set by a log-log regression, then ``C = 1``, ``beta = gamma = 0.5``
    (the MPL's parameter order). The peak LR is the largest LR of the curves (3e-4, their
    config's, on their data)."""
    from scipy.optimize import minimize
    from scipy.special import huber
    from scipy.stats import linregress

    data = []
    for run in curves.runs:
        lr = curves.lr_array(run)
        steps = curves.steps(run)
        data.append((np.cumsum(lr)[steps], lr[steps], curves.loss(run)))
    peak = max(float(curves.lr_array(run).max()) for run in curves.runs)
    min_loss = min(loss.min() for _, _, loss in data)
    slope, intercept, *_ = linregress(np.concatenate([np.log(a) for a, _, _ in data]),
                                      np.concatenate([np.log(y - min_loss + 0.01)
                                                      for _, _, y in data]))

    def surrogate(p):
        L0, A, alpha, B = p
        total = 0.0
        for area, lr, loss in data:
            pred = L0 + A * area ** (-alpha) - B * (peak - lr)
            with np.errstate(invalid="ignore", divide="ignore"):
                total += huber(delta, np.log(loss) - np.log(pred)).sum()
        return total

    grid = [(a, b, c, d) for a in np.linspace(min_loss - 0.2, min_loss + 0.2, 5)
            for b in np.linspace(np.exp(intercept) - 0.1, np.exp(intercept) + 0.1, 3)
            for c in np.linspace(-slope - 0.1, -slope + 0.1, 3)
            for d in np.linspace(100, 1000, 3)]
    best, best_value = None, np.inf
    for start in grid:
        res = minimize(surrogate, start, method="L-BFGS-B", bounds=[(0, np.inf)] * 4,
                       options={"maxiter": 100000, "ftol": 1e-9, "gtol": 1e-6, "eps": 1e-8})
        if res.fun < best_value:
            best, best_value = res.x, res.fun
    if best is None:
        raise InputError("Luo et al.'s start: no cell of their grid gave a finite surrogate "
                         "objective on these curves")
    return np.array([*best, 1.0, 0.5, 0.5])


def luo2025_adamw(objective, start, max_steps: int = MAX_STEPS, *, early_stopping: bool = True,
                  record_every: int = 0, weight_decay: float = WEIGHT_DECAY):
    """Their ``mpl_adam_fit`` loop with ``torch.optim.AdamW``'s update written in numpy.

    As in their code, the objective is evaluated before each step and the parameters kept
    as the best are those *after* the step that followed the best objective. Returns the
    kept parameters, the best objective, the steps run and (every ``record_every`` steps)
    ``(step, parameters before it, objective)``.
    """
    p = np.array(start, dtype=float)
    is_log = objective._is_log if hasattr(objective, "_is_log") else np.zeros(len(p), bool)
    rates = np.where(is_log, _LR_SCALES, _LR_EXPONENTS)
    m, v = np.zeros(len(p)), np.zeros(len(p))
    best, best_loss, min_loss, no_improve = None, np.inf, np.inf, 0
    path = []
    step = -1
    for step in range(max_steps):
        loss, g = objective(p, gradient=True)
        if record_every and step % record_every == 0:
            path.append((step, p.copy(), loss))
        if not np.isfinite(loss):
            break
        # torch.optim.AdamW: decoupled decay, then the bias-corrected Adam step
        t = step + 1
        p = p * (1 - rates * weight_decay)
        m = BETAS[0] * m + (1 - BETAS[0]) * g
        v = BETAS[1] * v + (1 - BETAS[1]) * g * g
        m_hat, v_hat = m / (1 - BETAS[0] ** t), v / (1 - BETAS[1] ** t)
        p = p - rates * m_hat / (np.sqrt(v_hat) + EPS)
        if early_stopping:
            if loss < min_loss - LOSS_THR:
                min_loss, no_improve = loss, 0
            else:
                no_improve += 1
            if step > PATIENCE and no_improve >= PATIENCE:
                break
            if np.linalg.norm(g) < GRAD_NORM_THR:
                break
        if loss < best_loss:
            best_loss, best = loss, p.copy()
    return best, best_loss, step + 1, path


def fit_curves_luo2025(curves, law, *, delta: float = DELTA, warmup: str | None = None) -> dict:
    """The fields of :func:`~scalinglaws.fitting.curves.fit_curves`'s result with
    ``method="luo2025"`` (module notes): their start, then their early-stopped AdamW on the
    exact sums. Warns with :class:`~scalinglaws.ConvergenceWarning`: the result is where
    their rule stopped, not an optimum (status 2)."""
    if getattr(law, "name", None) != "mpl":
        raise InputError(f"method='luo2025' is Luo et al.'s recipe for the Multi-Power Law; "
                         f"got law {getattr(law, 'name', law)!r} (use method='optimum')")
    objective = LuoObjective(curves, exact=True, warmup=warmup or law.warmup, delta=delta)
    start = luo2025_start(curves, delta=delta)
    kept, best, n_steps, _ = luo2025_adamw(objective, start)
    if kept is None:
        raise InputError("Luo et al.'s recipe: the objective was not finite at their start")
    law = objective.law
    _, gradient = objective(kept, gradient=True)
    message = (f"Luo et al. (2025)'s recipe: their start, then AdamW stopped by their rule "
               f"after {n_steps} steps, keeping, as their code does, the parameters one "
               f"step after the best objective ({best:.6g} on float32 losses), not those "
               f"of the best; an early-stopped point, not an optimum (gradient norm "
               f"{float(np.linalg.norm(gradient)):.3g})")
    warnings.warn(f"fit_curves(method='luo2025'): {message}; fit_curves' default method "
                  "gives the optimum of the objective", ConvergenceWarning,
                  stacklevel=user_stacklevel())
    with np.errstate(divide="ignore", invalid="ignore"):
        residuals = np.log(objective.predict(kept)) - np.log(
            curves.frame["loss"].to_numpy(dtype=float))
    return {"law": law, "params": dict(zip(law.param_names, map(float, kept))),
            "n_points": int(objective.sums.n_points), "message": message, "nit": n_steps,
            "residuals": residuals,
            "options": {"loss": "huber", "delta": delta, "weights": None, "method": "luo2025",
                        "max_steps": MAX_STEPS, "patience": PATIENCE,
                        "weight_decay": WEIGHT_DECAY, "steps_run": n_steps}}
