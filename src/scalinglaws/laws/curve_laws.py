r"""Learning-curve laws over the LR schedule: the Multi-Power Law and the momentum law.

A curve law predicts the loss at every step of a run from the LR of every step. With
:math:`S_1(s) = \sum_{t \le s} \eta_t` (warmup included) and :math:`g_k = \eta_k -
\eta_{k-1}`:

* **Multi-Power Law** (Luo et al. 2025, ICLR, arXiv 2503.12811, their code's convention)

  .. math::

      L(s) = L_0 + A\,S_1(s)^{-\alpha}
             + B \sum_{k=1}^{s} g_k \left[1 - \left(1 + C\,\eta_k^{-\gamma}
               \bigl(S_1(s) - S_1(k-1)\bigr)\right)^{-\beta}\right]

* **momentum law** (Tissue et al. 2024, arXiv 2408.11029: :math:`L = L_0 + A S_1^{-\alpha}
  - C S_2`, :math:`S_2 = \sum_{i \le s} m_i`, :math:`m_i = \lambda m_{i-1} + \eta_{i-1}
  - \eta_i`), which is

  .. math::

      L(s) = L_0 + A\,S_1(s)^{-\alpha} + C \sum_{k=1}^{s} g_k\,
             \frac{1 - \lambda^{s-k+1}}{1 - \lambda}

For the Multi-Power Law ``warmup="include"`` (its default) sums the warmup's LR increases
too, as Luo et al.'s code does (only that convention reproduces their published parameters
and scores); ``"exclude"`` sums from the end of warmup, as their paper writes it (its
:math:`L_0` is then larger by about :math:`B\eta_{max}`). The momentum law excludes the
warmup by default (see :class:`MomentumLaw`). Both laws are fitted in log space with
Huber(:math:`\delta` = 1e-3), the objective of both papers.

A law is evaluated on :class:`~scalinglaws.laws.schedule_sums.ScheduleSums` (made by
:meth:`CurveLaw.prepare` from :class:`~scalinglaws.data.curves.Curves`, or by
:meth:`CurveLaw.make_sums` from LR arrays), vectorised over parameter vectors and points,
with an analytic Jacobian. For the fitting engine a law is *bound* to its sums
(:meth:`CurveLaw.bind`): it is then an ordinary :class:`~scalinglaws.laws.forms.Form`
of one input, the point index, so fixed and tied parameters, bounds, starts, polishing
and diagnostics work exactly as for every other form.
"""

from __future__ import annotations

import copy
import itertools

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenDict, check_choice, check_positive
from .forms import Form, log_from_linear, register_named
from .schedule_sums import DEFAULT_QUADRATURE, ScheduleSums, schedule_sums

__all__ = [
    "CurveLaw",
    "MomentumLaw",
    "MultiPowerLaw",
    "SizeScaled",
    "available_curve_laws",
    "get_curve_law",
    "prediction_inputs",
    "register_curve_law",
]

_LN_TINY = np.log(1e-300)
_N_GRID_STARTS = 24  # best cells of the separable start grid handed to the engine


class CurveLaw(Form):
    """Base class of learning-curve laws (a :class:`Form` whose input is a point index).

    Subclasses set ``name``, ``param_names``, ``log_params``, ``linear_params`` (the
    three parameters the prediction is linear in, used for starting points), ``grading``
    and implement :meth:`_terms` and :meth:`_basis`.
    """

    inputs = ("point",)
    positive_inputs = False
    grading = "area"
    #: this law's quadrature options (see :func:`~scalinglaws.laws.schedule_sums.schedule_sums`)
    quadrature = FrozenDict({})
    default_warmup = "include"
    linear_params: tuple = ()
    _sums: ScheduleSums | None = None
    _subset_cache: tuple | None = None

    def __init__(self, warmup: str | None = None):
        self.warmup = check_choice("warmup", warmup or self.default_warmup,
                                   ("include", "exclude"))

    def config(self) -> dict:
        return {"warmup": self.warmup}

    # -- schedule sums -----------------------------------------------------------------
    def make_sums(self, lr_arrays, steps, *, point_inputs=None, quadrature=None) -> ScheduleSums:
        """Sums for evaluation ``steps`` of runs with per-step ``lr_arrays``.

        ``quadrature`` overrides :data:`~scalinglaws.laws.schedule_sums.DEFAULT_QUADRATURE`
        (``{"exact": True}`` for the exact sums); ``point_inputs`` adds per-point values
        such as ``N``.
        """
        options = {**DEFAULT_QUADRATURE, **self.quadrature, **(quadrature or {})}
        unknown = sorted(set(options) - {"ratio", "lr_ratio", "nodes", "exact"})
        if unknown:
            raise InputError(f"`quadrature` has unknown option(s) {unknown}")
        sums = schedule_sums(lr_arrays, steps, grading=self.grading, warmup=self.warmup,
                             **options)
        if np.any(sums.lr_area <= 0):
            i = int(np.flatnonzero(sums.lr_area <= 0)[0])
            raise InputError(f"run {int(sums.run[i])} step {int(sums.step[i])}: no LR has been "
                             "applied yet (the LR area is 0), where a curve law is infinite; "
                             "drop the points before the first step with a positive LR")
        return sums.with_inputs(**(point_inputs or {}))

    def prepare(self, curves, *, quadrature=None) -> ScheduleSums:
        """Sums at every point of ``curves`` (a :class:`~scalinglaws.data.curves.Curves`),
        runs in ``curves.runs`` order; ``N`` and ``tokens`` go along when known."""
        runs = curves.runs
        inputs = {}
        for name in ("N", "tokens"):
            if curves.has(name):
                inputs[name] = curves.frame[name].to_numpy(dtype=float)
        lr_arrays = []
        for run in runs:
            lr = curves.lr_array(run)
            last = int(curves.steps(run).max())
            if len(lr) <= last:
                raise InputError(f"run {run!r} logs step {last:,} but its LR array has "
                                 f"{len(lr):,} steps")
            lr_arrays.append(lr)
        return self.make_sums(lr_arrays, [curves.steps(r) for r in runs], point_inputs=inputs,
                              quadrature=quadrature)

    def bind(self, sums: ScheduleSums) -> CurveLaw:
        """This law evaluated on ``sums``: a form whose input ``point`` indexes them."""
        if not isinstance(sums, ScheduleSums):
            raise InputError(f"`sums` must be ScheduleSums, got {type(sums).__name__}")
        if sums.options.get("warmup") != self.warmup:
            raise InputError(f"these sums were made with warmup={sums.options.get('warmup')!r}, "
                             f"the law uses warmup={self.warmup!r}")
        bound = copy.copy(self)
        bound._sums, bound._subset_cache = sums, None
        return bound

    def _points(self, X) -> ScheduleSums:
        if X is not None and isinstance(X.get("sums"), ScheduleSums):
            sums = X["sums"]
        elif self._sums is not None:
            sums = self._sums
        else:
            raise InputError(f"curve law {self.name!r} is not bound to schedule sums: use "
                             "law.bind(law.prepare(curves)) or fit it with fit_curves")
        if X is None or "point" not in X:
            return sums
        points = np.asarray(X["point"]).astype(np.int64)
        if len(points) == sums.n_points and np.array_equal(points, np.arange(sums.n_points)):
            return sums
        key = (points.tobytes(), id(sums))
        if self._subset_cache is None or self._subset_cache[0] != key:
            self._subset_cache = (key, sums.subset(points))
        return self._subset_cache[1]

    # -- evaluation --------------------------------------------------------------------
    def evaluate(self, theta, sums: ScheduleSums):
        """Prediction ``(k, n)`` and its Jacobian ``(k, p, n)`` w.r.t. internal parameters."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        public = self.to_public(theta)
        params = {name: public[:, i:i + 1] for i, name in enumerate(self.param_names)}
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, derivatives = self._terms(params, sums)
        jac = np.empty((theta.shape[0], self.n_params, sums.n_points))
        for i, name in enumerate(self.param_names):
            jac[:, i, :] = derivatives[name]
        return value, jac

    def _terms(self, params: dict, sums: ScheduleSums):
        """``(value (k, n), {name: d value / d internal parameter (k, n)})`` for public
        ``params`` given as ``(k, 1)`` or per-point ``(k, n)`` arrays."""
        raise NotImplementedError  # pragma: no cover

    def value_and_jacobian(self, theta, X):
        return self.evaluate(theta, self._points(X))

    def log_value_and_jacobian(self, theta, X):
        """``log L`` and ``J / L``; NaN where the prediction is not positive."""
        return log_from_linear(*self.value_and_jacobian(theta, X))

    def predict(self, params, sums: ScheduleSums | None = None, **inputs) -> np.ndarray:
        """Predicted loss at every point of ``sums`` (default: the bound sums) for public
        ``params`` (a mapping or a vector)."""
        sums = self._points({"sums": sums} if sums is not None else None)
        theta = self.to_internal(self.params_vector(params))[None, :]
        value, _ = self.evaluate(theta, sums)
        return value[0]

    def predict_runs(self, params, lr_arrays, steps, *, point_inputs=None, quadrature=None,
                     max_nodes: int = 2_000_000) -> np.ndarray:
        """Predicted loss at ``steps`` of runs with per-step ``lr_arrays`` (concatenated in
        run order). Exact sums (``quadrature={"exact": True}``) are made a chunk of points
        at a time, at most about ``max_nodes`` nodes each, so memory stays bounded."""
        exact = bool((quadrature or {}).get("exact"))
        inputs = {k: np.asarray(v, dtype=float) for k, v in (point_inputs or {}).items()}
        out, offset = [], 0
        for lr, points in zip(lr_arrays, steps):
            points = np.asarray(points, dtype=np.int64)
            if exact:
                changes = np.flatnonzero(np.diff(np.asarray(lr, dtype=float))) + 1
                cost = np.searchsorted(changes, points, side="right") + 1
                bounds = np.searchsorted(np.cumsum(cost), np.arange(max_nodes, cost.sum(),
                                                                    max_nodes))
                chunks = np.split(np.arange(len(points)), np.unique(bounds))
            else:
                chunks = [np.arange(len(points))]
            for rows in chunks:
                if not len(rows):
                    continue
                part = {k: v[offset + rows] for k, v in inputs.items()}
                sums = self.make_sums([lr], [points[rows]], point_inputs=part,
                                      quadrature=quadrature)
                out.append(self.predict(params, sums))
            offset += len(points)
        return np.concatenate(out) if out else np.zeros(0)

    def predict_curves(self, params, curves, *, quadrature=None) -> np.ndarray:
        """Predicted loss at every point of ``curves`` (in their order)."""
        inputs = {name: curves.frame[name].to_numpy(dtype=float) for name in ("N", "tokens")
                  if curves.has(name)}
        return self.predict_runs(params, [curves.lr_array(r) for r in curves.runs],
                                 [curves.steps(r) for r in curves.runs], point_inputs=inputs,
                                 quadrature=quadrature)

    # -- starting points ---------------------------------------------------------------
    def _basis(self, nonlinear: np.ndarray, sums: ScheduleSums) -> np.ndarray:
        """Columns ``(g, n, 3)`` multiplying :attr:`linear_params` at each of ``g`` values of
        the other parameters ``nonlinear`` ``(g, p - 3)`` (public units)."""
        raise NotImplementedError  # pragma: no cover

    def _nonlinear_grid(self) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    def start_grid(self, X, loss) -> np.ndarray:
        """The best cells of a grid over the non-linear parameters, each completed by the
        least-squares values of the three linear ones (variable projection), best first."""
        sums = self._points(X)
        loss = np.asarray(loss, dtype=float)
        nonlinear_names = [n for n in self.param_names if n not in self.linear_params]
        grid = self._nonlinear_grid()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            basis = self._basis(grid, sums)  # (g, n, 3)
        scaled = basis / loss[None, :, None]  # relative residuals ~ log residuals
        gram = np.einsum("gni,gnj->gij", scaled, scaled) + 1e-12 * np.eye(3)
        rhs = np.einsum("gni,n->gi", scaled, np.ones_like(loss))
        try:
            coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:
            coef = np.stack([np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(gram, rhs)])
        coef = np.where(np.isfinite(coef) & (coef > 0), coef, 1e-3 * np.abs(coef).max() + 1e-3)
        fitted = np.einsum("gni,gi->gn", basis, coef)
        with np.errstate(invalid="ignore", divide="ignore"):
            misfit = np.nansum(np.minimum(np.abs(np.log(fitted / loss)), 1.0), axis=1)
        misfit = np.where(np.isfinite(misfit), misfit, np.inf)
        order = np.argsort(misfit, kind="stable")[:_N_GRID_STARTS]
        public = np.empty((len(order), self.n_params))
        for i, name in enumerate(self.param_names):
            public[:, i] = (coef[order, self.linear_params.index(name)] if name in self.linear_params
                            else grid[order, nonlinear_names.index(name)])
        return self.to_internal(public)


def _at_nodes(values: np.ndarray, sums: ScheduleSums) -> np.ndarray:
    """A ``(k, 1)`` parameter as is, a per-point ``(k, n)`` one gathered to the nodes."""
    return values if values.shape[-1] == 1 else values[:, sums.node_point]


def _power(A, alpha, sums):
    log_area = np.log(sums.lr_area)[None, :]
    power = np.exp(-alpha * log_area)
    return power, A * power, -A * power * log_area


class MultiPowerLaw(CurveLaw):
    r"""The Multi-Power Law of Luo et al. (2025); see the module docstring.

    Parameters ``L0, A, alpha, B, C, beta, gamma`` (``L0``, ``A``, ``B``, ``C`` stored as
    logs). Luo et al.'s fits: alpha ~ 0.45, beta ~ 0.6, gamma ~ 0.65, C ~ 2 at 25M–400M.
    """

    name = "mpl"
    # within 1e-5 nats of the exact sums on Luo et al.'s curves (tested)
    quadrature = FrozenDict({"ratio": 2.0, "lr_ratio": 8.0, "nodes": 2})
    param_names = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
    log_params = frozenset({"L0", "A", "B", "C"})
    linear_params = ("L0", "A", "B")
    grading = "area"
    formula = ("L = L0 + A*S1^-alpha + B*sum_k (lr_k - lr_k-1)"
               "*(1 - (1 + C*lr_k^-gamma*(S1 - S1(k-1)))^-beta)")

    def _drop(self, C, beta, gamma, sums, *, derivatives=True):
        # log z = log C - gamma log lr_k + log(S1(s) - S1(k-1)); the arithmetic is done in
        # place on (starts, nodes) arrays, the largest the fit handles
        log_lr = np.log(np.maximum(sums.node_lr, 1e-300))
        with np.errstate(divide="ignore"):
            log_area = np.log(sums.node_area)  # -inf where the area is 0: no drop yet
        z = _at_nodes(gamma, sums) * -log_lr
        z += _at_nodes(np.log(C), sums)
        z += log_area
        np.minimum(z, 700.0, out=z)
        np.exp(z, out=z)
        log1p_z = np.log1p(z)
        beta_n = _at_nodes(beta, sums)
        remaining = np.multiply(log1p_z, -beta_n)
        np.exp(remaining, out=remaining)  # (1 + z)^-beta
        weight = sums.node_weight
        if not derivatives:
            np.subtract(1.0, remaining, out=remaining)
            remaining *= weight
            return sums.segment_sum(remaining), None
        # the drop sum_k w_k (1 - (1+z)^-beta) = sum_k w_k - sum_k w_k (1+z)^-beta
        weighted = remaining * weight
        drop = sums.segment_sum(weight[None, :]) - sums.segment_sum(weighted)
        z /= 1.0 + z  # z / (1 + z): d log(1+z) / d log z
        z *= weighted
        slope = np.multiply(z, beta_n, out=z)  # d drop / d log z, per node
        weighted *= log1p_z
        gradients = sums.segment_sum(np.stack([slope, weighted, slope * -log_lr]))
        return drop, {"C": gradients[0], "beta": gradients[1], "gamma": gradients[2]}

    def _terms(self, p, sums):
        power, d_logA, d_alpha = _power(p["A"], p["alpha"], sums)
        drop, d = self._drop(p["C"], p["beta"], p["gamma"], sums)
        B = p["B"]
        value = p["L0"] + p["A"] * power + B * drop
        return value, {"L0": np.broadcast_to(p["L0"], value.shape), "A": d_logA,
                       "alpha": d_alpha, "B": B * drop, "C": B * d["C"],
                       "beta": B * d["beta"], "gamma": B * d["gamma"]}

    def _nonlinear_grid(self):
        # alpha, C, beta, gamma around the values Luo et al. report
        return np.array(list(itertools.product([0.2, 0.4, 0.6, 0.8], [0.3, 1.0, 3.0, 10.0],
                                               [0.2, 0.45, 0.7, 1.0], [0.2, 0.45, 0.7, 0.95])))

    def _basis(self, grid, sums):
        combos, where = np.unique(grid[:, 1:], axis=0, return_inverse=True)
        drops, _ = self._drop(combos[:, :1], combos[:, 1:2], combos[:, 2:3], sums,
                              derivatives=False)
        power = np.exp(-grid[:, :1] * np.log(sums.lr_area)[None, :])
        return np.stack([np.ones_like(power), power, drops[where.ravel()]], axis=-1)


class MomentumLaw(CurveLaw):
    r"""The momentum (LR-annealing) law of Tissue et al. (2024); see the module docstring.

    Parameters ``L0, A, alpha, C, lambda`` (``L0``, ``A``, ``C`` stored as logs;
    ``lambda`` in [0, 0.99999], the paper's decay factor, typically 0.999). :math:`S_2`
    is an *annealing* area, so by default it starts after warmup (``warmup="exclude"``):
    with ``"include"`` the warmup's rise counts as negative annealing, adding a nearly
    constant :math:`C\eta_{max}/(1-\lambda)` that :math:`L_0` absorbs. On Luo et al.'s
    curves the two conventions fit about equally well.
    """

    name = "momentum"
    # the kernel does not depend on the LR: no LR bands; 3 nodes (within 1e-6, tested)
    quadrature = FrozenDict({"ratio": 2.0, "lr_ratio": float("inf"), "nodes": 3})
    default_warmup = "exclude"
    param_names = ("L0", "A", "alpha", "C", "lambda")
    log_params = frozenset({"L0", "A", "C"})
    linear_params = ("L0", "A", "C")
    grading = "steps"
    formula = "L = L0 + A*S1^-alpha - C*S2,  S2 = sum_i m_i,  m_i = lambda*m_(i-1) + lr_(i-1) - lr_i"

    def default_bounds(self):
        lo, hi = super().default_bounds()
        hi[self.param_names.index("lambda")] = 0.99999
        return lo, hi

    def _drop(self, lam, sums, *, derivatives=True):
        lam_n = _at_nodes(lam, sums)
        log_lam = np.log(np.maximum(lam_n, 1e-300))
        steps = sums.node_steps
        kept = 1.0 - lam_n
        kernel = -np.expm1(steps * log_lam) / kept  # (1 - lambda^d) / (1 - lambda)
        weight = sums.node_weight
        drop = sums.segment_sum(weight * kernel)
        if not derivatives:
            return drop, None
        d_kernel = (kernel - steps * np.exp((steps - 1.0) * log_lam)) / kept
        return drop, sums.segment_sum(weight * d_kernel)

    def _terms(self, p, sums):
        power, d_logA, d_alpha = _power(p["A"], p["alpha"], sums)
        drop, d_lam = self._drop(p["lambda"], sums)
        C = p["C"]
        value = p["L0"] + p["A"] * power + C * drop
        return value, {"L0": np.broadcast_to(p["L0"], value.shape), "A": d_logA,
                       "alpha": d_alpha, "C": C * drop, "lambda": C * d_lam}

    def _nonlinear_grid(self):
        # the paper's lambda grid (Luo et al. 2025, App. D) and a spread of alpha
        return np.array(list(itertools.product([0.2, 0.35, 0.5, 0.65, 0.8],
                                               [0.95, 0.99, 0.995, 0.999, 0.9995])))

    def _basis(self, grid, sums):
        drops, _ = self._drop(grid[:, 1:2], sums, derivatives=False)
        power = np.exp(-grid[:, :1] * np.log(sums.lr_area)[None, :])
        return np.stack([np.ones_like(power), power, drops], axis=-1)


class SizeScaled(CurveLaw):
    r"""A curve law whose parameters are power laws in the model size N.

    Each parameter ``p`` in ``scaled`` becomes :math:`p(N) = p\,(N / N_{ref})^{p_N}` with
    a new parameter ``p_N``; the others are shared by all sizes. Fitted on curves of a
    few sizes (the curves need ``N``), it predicts the curve of another size. Parameters:
    the base law's (their values at ``reference_N``), then ``<p>_N`` for each scaled one.

    Parameters
    ----------
    base : str or CurveLaw
        The law, e.g. ``"mpl"``.
    scaled : sequence of str, optional
        Parameters that depend on N (default: all).
    reference_N : float
        N at which the base parameters are quoted.
    """

    name = "size_scaled"

    def __init__(self, base="mpl", scaled=None, reference_N: float = 1e8, **base_config):
        base = get_curve_law(base, **base_config)
        if isinstance(base, SizeScaled) or not hasattr(base, "_terms"):
            raise InputError("`base` must be a built-in curve law such as 'mpl' or 'momentum'")
        scaled = base.param_names if scaled is None else tuple(scaled)
        unknown = [p for p in scaled if p not in base.param_names]
        if unknown or not scaled:
            raise InputError(f"`scaled` must name some of {', '.join(base.param_names)}, "
                             f"got {list(scaled)}")
        self.base = base
        self.scaled = tuple(p for p in base.param_names if p in scaled)
        self.reference_N = check_positive("reference_N", reference_N)
        self.warmup, self.grading, self.quadrature = base.warmup, base.grading, base.quadrature
        self.param_names = base.param_names + tuple(f"{p}_N" for p in self.scaled)
        self.log_params = base.log_params
        self.formula = (f"{base.formula};  p(N) = p*(N/{self.reference_N:g})^p_N for p in "
                        f"{', '.join(self.scaled)}")

    def config(self) -> dict:
        return {"base": self.base.name, "base_config": self.base.config(),
                "scaled": list(self.scaled), "reference_N": self.reference_N}

    @classmethod
    def from_config(cls, config) -> SizeScaled:
        config = dict(config)
        base_config = config.pop("base_config", {}) or {}
        return cls(config.pop("base", "mpl"), **config, **base_config)

    def default_bounds(self):
        lo, hi = self.base.default_bounds()
        k = len(self.scaled)
        return np.concatenate([lo, np.full(k, -3.0)]), np.concatenate([hi, np.full(k, 3.0)])

    def base_params(self, params, N) -> dict:
        """The base law's parameters at size(s) ``N`` from this law's public ``params``."""
        values = dict(zip(self.param_names, self.params_vector(params)))
        ratio = np.asarray(N, dtype=float) / self.reference_N
        return {p: values[p] * ratio ** values[f"{p}_N"] if p in self.scaled else values[p]
                for p in self.base.param_names}

    def evaluate(self, theta, sums):
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        if "N" not in sums.point_inputs:
            raise InputError("a size-scaled law needs the N of every curve (load the curves "
                             "with an N column or N=...)")
        log_ratio = np.log(sums.point_inputs["N"] / self.reference_N)[None, :]
        base_names = self.base.param_names
        n_base = len(base_names)
        public = {}
        for i, name in enumerate(base_names):
            column = theta[:, i:i + 1]
            if name in self.scaled:
                exponent = theta[:, n_base + self.scaled.index(name)][:, None]
                column = (column + exponent * log_ratio if name in self.log_params
                          else column * np.exp(exponent * log_ratio))
            public[name] = np.exp(column) if name in self.log_params else column
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, derivs = self.base._terms(public, sums)
        jac = np.empty((theta.shape[0], self.n_params, sums.n_points))
        for i, name in enumerate(base_names):
            d = np.broadcast_to(derivs[name], value.shape)
            if name in self.log_params or name not in self.scaled:
                jac[:, i] = d
            else:  # p(N) = p * r^e: dp(N)/dp = r^e
                exponent = theta[:, n_base + self.scaled.index(name)][:, None]
                jac[:, i] = d * np.exp(exponent * log_ratio)
            if name in self.scaled:
                j = n_base + self.scaled.index(name)
                jac[:, j] = d * log_ratio * (1.0 if name in self.log_params else public[name])
        return value, jac

    def start_grid(self, X, loss):
        """The base law's starts (fitted to all sizes at once), with every exponent 0."""
        base = self.base.bind(self._points(X))
        grid = base.start_grid({"point": np.arange(base._sums.n_points)}, loss)
        return np.concatenate([grid, np.zeros((len(grid), len(self.scaled)))], axis=1)


# ----------------------------------------------------------------------------- registry

_BUILT_IN = {"mpl": MultiPowerLaw, "multi_power": MultiPowerLaw, "momentum": MomentumLaw}
_REGISTRY: dict[str, CurveLaw] = {}


def prediction_inputs(law: CurveLaw, steps: np.ndarray, *, N=None,
                      tokens_per_step=None) -> dict:
    """The per-point inputs beyond the schedule that ``law`` predicts a new run's ``steps``
    with: ``N`` for a size-scaled law or a user law of ``N``, ``tokens`` (step ×
    ``tokens_per_step``, as ``load_curves`` derives steps from tokens) for a user law of
    ``tokens``. Refuses a missing one, and one the law would ignore (``N`` for a law of
    one size would print the fitted size's curve as N's)."""
    features = set(getattr(law, "features", ()))  # a user-defined law's inputs
    inputs = {}
    if isinstance(law, SizeScaled) or "N" in features:
        if N is None:
            raise InputError(f"the {law.name!r} law is a function of the model size: pass "
                             "N= (the model size to predict)")
        inputs["N"] = np.full(np.shape(steps), check_positive("N", N))
    elif N is not None:
        raise InputError(f"`N` is given, but the fit is of the {law.name!r} law for one model "
                         "size (the size of the curves it was fitted on), which N does not "
                         "change; to predict other sizes, fit curves of several sizes, each "
                         "with its N, with fit_size_scaled (a size-scaled law), or leave out N")
    if "tokens" in features:
        if tokens_per_step is None:
            raise InputError(f"the {law.name!r} law is a function of the tokens seen: pass "
                             "tokens_per_step= (tokens at step t = t x tokens_per_step)")
        inputs["tokens"] = np.asarray(steps, dtype=float) * check_positive(
            "tokens_per_step", tokens_per_step)
    elif tokens_per_step is not None:
        raise InputError(f"`tokens_per_step` is given, but the {law.name!r} law is not a "
                         "function of the tokens seen")
    return inputs


def register_curve_law(law: CurveLaw, *, overwrite: bool = False) -> CurveLaw:
    """Make a user-defined curve law available by name (to JSON loading and the CLI)."""
    if not isinstance(law, CurveLaw):
        raise InputError(f"`law` must be a CurveLaw, got {type(law).__name__}")
    if law.name in _BUILT_IN:
        raise InputError(f"{law.name!r} is a built-in curve law")
    return register_named(_REGISTRY, law, overwrite=overwrite, what="curve law")


def available_curve_laws() -> list[str]:
    """Names accepted by :func:`get_curve_law`."""
    return sorted(set(_BUILT_IN) | set(_REGISTRY) | {"size_scaled"})


def get_curve_law(law, **config) -> CurveLaw:
    """A curve law by name (``"mpl"``, ``"momentum"``, a registered one) with its config,
    or a :class:`CurveLaw` passed through."""
    if isinstance(law, CurveLaw):
        if config:
            raise InputError("configuration applies to a law given by name")
        return law
    key = str(law).strip().lower()
    if key in _BUILT_IN:
        unknown = sorted(set(config) - {"warmup"})
        if unknown:
            raise InputError(f"curve law {key!r} takes only `warmup`, got {unknown}")
        return _BUILT_IN[key](**config)
    if key == "size_scaled":
        return SizeScaled.from_config(config)
    if key in _REGISTRY:
        registered = _REGISTRY[key]
        if config and registered.config() != config:
            raise InputError(f"curve law {key!r} is registered with config {registered.config()}, "
                             f"not {config}")
        return registered
    raise InputError(f"`law` must be one of {', '.join(available_curve_laws())}, got {law!r} "
                     "(a user-defined law must be registered with register_curve_law)")
