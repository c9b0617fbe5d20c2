r"""Many groups of runs in one batch: stacked residuals and the block Levenberg-Marquardt step.

A grouped fit (:mod:`scalinglaws.fitting.grouped`) minimises one objective over ``G``
groups of runs, some parameters ``u`` shared by every group and the others ``v_g`` per
group:

.. math:: F(u, v_1, \dots, v_G) = \sum_g \sum_{i \in g} w_i\, \rho(r_i(u, v_g)).

Group ``g``'s residuals depend on ``u`` and ``v_g`` only, so the Gauss-Newton matrix
``J^T W J`` is an *arrowhead*: a shared block, one small block per group, and the
couplings between the shared block and each group's. :func:`block_lm` takes the
Levenberg-Marquardt step of the batched engine (:mod:`.engine`: Gauss-Newton curvature
``J^T diag(psi') J``, Marquardt damping scaled by the diagonal of the IRLS majoriser,
box bounds by freezing and projection) and solves it through the Schur complement of
the group blocks: ``G`` solves of the per-group size and one of the shared size, so a
step costs time linear in the number of groups instead of cubic in the total number
of parameters.

:class:`StackedGroups` lays the runs out as ``(G, n_max)`` (shorter groups padded with
rows whose residual and Jacobian are zero, so they add nothing) and evaluates every
group at its own parameters, in one call of the form when the form computes run by run
(every built-in form; see :class:`_RowInputs`) and otherwise in one call per distinct
set of inputs. :func:`labelled_residuals` exposes the same data to the
batched multi-start engine, whose residual function sees only parameter vectors: the
group of a start rides along as an extra parameter column with a zero Jacobian, which
the engine therefore never moves (the device :mod:`.varpro` uses to hold exponents).
:func:`separable_starts_by_group` gives the Chinchilla starts of many groups (variable
projection on an exponent grid) in batched passes, the same as one group at a time.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ..laws.losses import Loss
from .engine import _relative, solve_each
from .varpro import _ROWS_PER_BLOCK, linear_inner_solve

__all__ = ["StackedGroups", "block_lm", "joint_bounds", "joint_residuals", "labelled_residuals"]

_SINGULAR_FLOOR = 1e-12  # damping scale floor relative to the largest diagonal (as the engine)
_STALL_RTOL = 1e-12  # relative gain below which an iteration does not count as progress
_SWITCH_RTOL = 1e-3  # relative gain below which a problem switches to Gauss-Newton steps
_STALL_ITERATIONS = 12  # ...and this many such iterations in a row end a problem (a stall)
_ROW_ELEMENTS = 1 << 18  # runs x parameter vectors per call of the form on row inputs
_START_ELEMENTS = 1 << 22  # groups x exponent cells x runs per batched start pass


class StackedGroups:
    """The runs of ``G`` groups as padded ``(G, n_max)`` arrays, evaluated per group.

    Parameters
    ----------
    fitter : LawFitter
        Supplies the residual function of each group (form, space, fixed and tied
        parameters); parameter vectors are its free internal vectors ``(q,)``.
    inputs : sequence of dict
        Per group, the form's input arrays.
    targets : sequence of ndarray
        Per group, the observed losses.
    weights : sequence of ndarray, optional
        Per group, a non-negative weight per run (default 1).
    """

    def __init__(self, fitter, inputs: Sequence[dict], targets: Sequence[np.ndarray],
                 weights: Sequence[np.ndarray] | None = None):
        self.fitter = fitter
        self.n_groups = len(targets)
        self.counts = np.array([len(t) for t in targets], dtype=int)
        self.n_max = int(self.counts.max())
        self.q = len(fitter.free)
        self.functions = [fitter.array_residual_function(x, t) for x, t in zip(inputs, targets)]
        self.weighted = weights is not None
        self.weights = np.zeros((self.n_groups, self.n_max))
        for g, count in enumerate(self.counts):
            self.weights[g, :count] = 1.0 if weights is None else weights[g]
        self._designs(inputs, targets)
        self._row_layout(inputs, targets)

    def _designs(self, inputs, targets):
        """Groups measured at the same inputs (the same runs scored on several tasks or
        domains) share one call of the form: a residual is ``value - target`` (``log f -
        log L`` or ``f - L``), so group ``g``'s residuals are the first member's plus
        ``offset_g = target_first - target_g`` (in the fit's space), with the same
        Jacobian."""
        keys: dict = {}
        self.design = np.empty(self.n_groups, dtype=int)
        for g, x in enumerate(inputs):
            key = tuple(np.ascontiguousarray(x[name], dtype=float).tobytes() for name in sorted(x))
            self.design[g] = keys.setdefault(key, len(keys))
        first = [int(np.flatnonzero(self.design == d)[0]) for d in range(len(keys))]
        self.design_functions = [self.functions[g] for g in first]

        def space(t):
            t = np.asarray(t, dtype=float)
            return np.log(t) if self.fitter.space == "log" else t

        self.offsets = np.zeros((self.n_groups, self.n_max))
        for g, t in enumerate(targets):
            self.offsets[g, :self.counts[g]] = space(targets[first[self.design[g]]]) - space(t)

    def _row_layout(self, inputs, targets):
        """The inputs as ``(G, n_max)`` arrays (a short group padded with copies of its last
        run, so the form sees only valid inputs; those columns are zeroed afterwards) for
        :meth:`_rows`, used when a probe shows that the form gives, bit for bit, what the
        per-design calls give."""
        self.valid = np.arange(self.n_max)[None, :] < self.counts[:, None]
        last = np.minimum(np.arange(self.n_max)[None, :], self.counts[:, None] - 1)
        names = sorted(inputs[0])
        self.row_inputs = {name: np.array([np.take(np.asarray(x[name], dtype=float), row)
                                           for x, row in zip(inputs, last)]) for name in names}
        first = [int(np.flatnonzero(self.design == d)[0]) for d in range(len(self.design_functions))]
        targets_first = [np.asarray(targets[first[self.design[g]]], dtype=float)
                         for g in range(self.n_groups)]
        padded_targets = np.array([np.take(t, row) for t, row in zip(targets_first, last)])
        # the target of each group's design in the fit's space, subtracted as the per-design
        # residual function subtracts it (value - log target), then the design's offset
        with np.errstate(divide="ignore", invalid="ignore"):
            self.row_targets = (np.log(padded_targets) if self.fitter.space == "log"
                                else padded_targets)
        self.paired = self._rows_agree()

    def _rows_agree(self) -> bool:
        """Whether one call of the form on :class:`_RowInputs` gives the per-design calls'
        residuals and Jacobian exactly, at a probe point on a few groups of distinct inputs."""
        groups = np.array([int(np.flatnonzero(self.design == d)[0])
                           for d in range(min(len(self.design_functions), 4))])
        lower, upper = self.fitter.lower, self.fitter.upper
        spread = 0.3 + 0.1 * (np.arange(self.q) % 3) + 0.07 * np.arange(len(groups))[:, None]
        probe = np.clip(spread, lower, upper)[None]
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                r, jac = self._rows(probe[0], groups)
                r_each, jac_each = self._each(probe, groups)
        except Exception:  # noqa: BLE001 - a form that cannot take row inputs: one call per design
            return False
        return (r.shape == r_each[0].shape and jac.shape == jac_each[0].shape
                and np.array_equal(r, r_each[0], equal_nan=True)
                and np.array_equal(jac, jac_each[0], equal_nan=True))

    def _rows(self, theta: np.ndarray, groups: np.ndarray):
        """Residuals ``(m, n_max)`` and Jacobian ``(m, q, n_max)`` of ``theta`` ``(m, q)``, row
        ``i`` on the runs of group ``groups[i]``: one call of the form per block of rows
        (about ``_ROW_ELEMENTS`` values each, which bounds the form's temporaries)."""
        m, step = len(groups), max(1, _ROW_ELEMENTS // self.n_max)
        if m <= step:
            return self._row_block(theta, groups)
        r, jac = np.empty((m, self.n_max)), np.empty((m, self.q, self.n_max))
        for lo in range(0, m, step):
            r[lo:lo + step], jac[lo:lo + step] = self._row_block(theta[lo:lo + step],
                                                                groups[lo:lo + step])
        return r, jac

    def _row_block(self, theta: np.ndarray, groups: np.ndarray):
        """:meth:`_rows` in one call of the form."""
        inputs = {name: values[groups].view(_RowInputs) for name, values in self.row_inputs.items()}
        # against a zero target (log 1 = 0) the residual function returns the form's value
        # itself; the group's target and offset are then subtracted as in the per-design path
        function = self.fitter.array_residual_function(
            inputs, 1.0 if self.fitter.space == "log" else 0.0)
        value, jac = function(theta)
        with np.errstate(invalid="ignore", over="ignore"):
            r = np.asarray(value) - self.row_targets[groups]
            if self.offsets.any():
                r += self.offsets[groups]
        jac = np.array(jac, copy=None)
        if not (jac.flags.writeable and jac.flags.owndata):
            jac = jac.copy()
        padding = ~self.valid[groups]
        if padding.any():
            r[padding] = 0.0
            np.copyto(jac, 0.0, where=padding[:, None, :])
        return r, jac

    def spread(self, per_group: np.ndarray) -> np.ndarray:
        """Per-run values ``(K, N_total)`` (runs in group order) as ``(K, G, n_max)``."""
        out = np.zeros(per_group.shape[:1] + (self.n_groups, self.n_max))
        start = 0
        for g, count in enumerate(self.counts):
            out[:, g, :count] = per_group[:, start:start + count]
            start += count
        return out

    def evaluate(self, theta: np.ndarray, groups: np.ndarray | None = None):
        """Residuals ``(K, G', n_max)`` and Jacobian ``(K, G', q, n_max)`` of ``theta``
        ``(K, G', q)``: every group (or those listed in ``groups``) at its own parameters."""
        groups = np.arange(self.n_groups) if groups is None else np.asarray(groups)
        if not self.paired:
            return self._each(theta, groups)
        k, m = theta.shape[:2]
        r, jac = self._rows(theta.reshape(k * m, self.q), np.tile(groups, k))
        return r.reshape(k, m, self.n_max), jac.reshape(k, m, self.q, self.n_max)

    def _each(self, theta: np.ndarray, groups: np.ndarray):
        """:meth:`evaluate` by one call of the form per distinct set of inputs."""
        k = theta.shape[0]
        r = np.zeros((k, len(groups), self.n_max))
        jac = np.zeros((k, len(groups), self.q, self.n_max))
        designs = self.design[groups]
        for d in np.unique(designs):
            members = np.flatnonzero(designs == d)
            count = self.counts[groups[members[0]]]
            values, derivative = self.design_functions[d](
                theta[:, members].reshape(k * members.size, self.q))
            r[:, members, :count] = values.reshape(k, members.size, count) + \
                self.offsets[groups[members], :count]
            jac[:, members, :, :count] = derivative.reshape(k, members.size, self.q, count)
        return r, jac

    def labelled(self, theta: np.ndarray, labels: np.ndarray, extra_rows: int = 0):
        """Residuals ``(k, n_max)`` and Jacobian ``(k, q + extra_rows, n_max)`` of starts
        ``theta`` ``(k, q)``, start ``i`` on the runs of group ``labels[i]``."""
        k = theta.shape[0]
        if self.paired:
            r, derivative = self._rows(theta, labels)
            if not extra_rows:
                return r, derivative
            jac = np.zeros((k, self.q + extra_rows, self.n_max))
            jac[:, :self.q] = derivative
            return r, jac
        r = np.zeros((k, self.n_max))
        jac = np.zeros((k, self.q + extra_rows, self.n_max))
        designs = self.design[labels]
        for d in np.unique(designs):
            rows = np.flatnonzero(designs == d)
            count = self.counts[labels[rows[0]]]
            values, derivative = self.design_functions[d](theta[rows])
            r[rows, :count] = values + self.offsets[labels[rows], :count]
            jac[rows, :self.q, :count] = derivative
        return r, jac


class _RowInputs(np.ndarray):
    """An input array ``(m, n)`` holding one row of runs per parameter vector.

    A form evaluates parameter vectors ``theta`` ``(m, p)`` on inputs ``(n,)`` by lining
    them up as ``theta[:, i:i+1]`` against ``x[None, :]``: every vector on every run. Here
    ``x[None, :]`` returns the ``(m, n)`` array unchanged, so the same elementwise code
    pairs vector ``i`` with row ``i`` only: many groups, each with its own runs, in one
    call. A form written otherwise (a reshape, a sum over runs) gives other shapes or
    values; :meth:`StackedGroups._rows_agree` checks that and falls back to one call per
    group.
    """

    def __getitem__(self, key):
        if (type(key) is tuple and len(key) == 2 and key[0] is None
                and isinstance(key[1], slice) and key[1] == slice(None)):
            return self
        return super().__getitem__(key)


def labelled_residuals(stack: StackedGroups):
    """Residual function for the engine: ``theta (k, q + 1)`` whose last column is the
    group of each start (its Jacobian column is zero, so the engine never moves it;
    rounding makes the label exact even so)."""
    last = stack.n_groups - 1

    def residuals(theta):
        labels = np.clip(np.rint(theta[:, -1]), 0, last).astype(int)
        return stack.labelled(theta[:, :-1], labels, extra_rows=1)

    return residuals


def joint_bounds(lower, upper, shared, per, n_groups: int):
    """Bounds of the joint vector (the shared parameters once, then each group's own), from
    one group's ``lower`` and ``upper``: the layout :func:`joint_residuals` packs."""
    return (np.concatenate([lower[shared], np.tile(lower[per], n_groups)]),
            np.concatenate([upper[shared], np.tile(upper[per], n_groups)]))


def joint_residuals(stack: StackedGroups, shared, per):
    """The grouped problem as one residual function of the joint vector, for scipy.

    The joint vector is the shared parameters (positions ``shared``) once, then each
    group's own (positions ``per``) in group order. Returns ``(residuals, pack, unpack,
    rows)``: ``residuals(vectors (k, s + G p))`` gives the runs' residuals ``(k,
    N_total)`` and the dense Jacobian ``(k, s + G p, N_total)`` (runs in group order,
    padding dropped); ``pack(theta (G, q))`` the joint vector and ``unpack(vectors)``
    ``(k, G, q)``; ``rows`` picks the runs out of a flattened ``(G, n_max)`` array.
    """
    shared, per = np.asarray(shared, dtype=int), np.asarray(per, dtype=int)
    n_groups, s, p = stack.n_groups, shared.size, per.size
    rows = np.concatenate([np.arange(c) + g * stack.n_max for g, c in enumerate(stack.counts)])

    def unpack(vector):
        full = np.empty((vector.shape[0], n_groups, stack.q))
        full[:, :, shared] = vector[:, None, :s]
        full[:, :, per] = vector[:, s:].reshape(-1, n_groups, p)
        return full

    def pack(theta):
        return np.concatenate([theta[0, shared], theta[:, per].ravel()])

    def residuals(vector):
        r, jac = stack.evaluate(unpack(vector))
        k = vector.shape[0]
        dense = np.zeros((k, s + n_groups * p, n_groups, stack.n_max))
        dense[:, :s] = np.moveaxis(jac[:, :, shared], 2, 1)
        for g in range(n_groups):
            dense[:, s + g * p:s + (g + 1) * p, g] = jac[:, g, per]
        return (r.reshape(k, -1)[:, rows],
                dense.reshape(k, s + n_groups * p, -1)[:, :, rows])

    return residuals, pack, unpack, rows


def _moments(stack: StackedGroups, theta, loss: Loss, weights, groups=None, majoriser=True):
    """Per (start, group): objective, gradient, Gauss-Newton matrix ``J^T diag(psi') J``,
    IRLS diagonal, gross gradient ``|J|^T |psi|`` and the IRLS majoriser
    ``J^T diag(psi / r) J`` at ``theta`` ``(K, G', q)`` (groups ``groups``); with
    ``majoriser=False`` only its diagonal (the same numbers) and None for the matrix."""
    r, jac = stack.evaluate(theta, groups)
    with np.errstate(over="ignore", invalid="ignore"):
        f = (loss.rho(r) * weights).sum(axis=-1)
        psi = loss.psi(r) * weights
        curvature = loss.psi_deriv(r) * weights
        irls = loss.weights(r) * weights
        grad = np.einsum("kgpn,kgn->kgp", jac, psi)
        gross = np.einsum("kgpn,kgn->kgp", np.abs(jac), np.abs(psi))
        hess = np.einsum("kgpn,kgn,kgqn->kgpq", jac, curvature, jac)
        if majoriser:
            matrix = np.einsum("kgpn,kgn,kgqn->kgpq", jac, irls, jac)
            scale = np.einsum("kgpp->kgp", matrix)
            finite = np.all(np.isfinite(matrix), axis=(-1, -2))
        else:
            matrix = None
            scale = np.einsum("kgpn,kgn,kgpn->kgp", jac, irls, jac)
            finite = np.all(np.isfinite(scale), axis=-1)
    bad = (~np.isfinite(f) | ~np.all(np.isfinite(grad), axis=-1)
           | ~np.all(np.isfinite(hess), axis=(-1, -2)) | ~finite)
    f = np.where(bad, np.inf, f)
    return f, grad, hess, scale, gross, matrix


def _blocked(x, grad, lower, upper):
    """Parameters on a bound whose gradient pushes outward: frozen for this step."""
    return ((x <= lower) & (grad > 0)) | ((x >= upper) & (grad < 0))


def block_lm(stack: StackedGroups, theta0: np.ndarray, loss: Loss, lower: np.ndarray,
             upper: np.ndarray, shared: Sequence[int], *, hold_shared: bool = False,
             weights: np.ndarray | None = None, max_iter: int = 200, gtol: float = 1e-10,
             ftol: float = 1e-10, xtol: float = 1e-8) -> dict:
    """Levenberg-Marquardt on the grouped objective from ``theta0`` ``(K, G, q)``.

    ``K`` independent problems are stepped together (joint starts, or bootstrap
    resamples with ``weights`` ``(K, G, n_max)``). The parameters at positions
    ``shared`` are one value per problem (``theta0[k, g, shared]`` must agree across
    ``g``); with ``hold_shared`` they stay where they are and the groups decouple.

    Convergence is the engine's test (:func:`~scalinglaws.fitting.engine.multistart_minimize`,
    same defaults): a relative projected gradient at most ``gtol``, or an accepted step
    that gains less than ``ftol`` (relative) and moves no parameter by more than ``xtol``.

    Coupled problems (shared parameters free) accept or reject a step for the whole
    problem; decoupled ones (no shared parameter, or ``hold_shared``) per group, each
    with its own damping, exactly as separate fits.

    Returns a dict: ``theta`` ``(K, G, q)``, ``f`` ``(K, G)`` (each group's part of the
    objective), ``converged`` and ``gradient`` (relative projected gradient) per
    problem ``(K,)`` when coupled or per group ``(K, G)`` when decoupled, ``nit``,
    ``nfev``.
    """
    shared = np.asarray(shared, dtype=int)
    q = stack.q
    per = np.setdiff1d(np.arange(q), shared)
    coupled = shared.size > 0 and not hold_shared
    k, n_groups = theta0.shape[:2]
    w = np.broadcast_to(stack.weights if weights is None else weights,
                        (k, n_groups, stack.n_max))
    theta = np.clip(np.array(theta0, dtype=float), lower, upper)
    # joint problems step with Gauss-Newton only (below): of the majoriser they need the diagonal
    f, grad, newton, scale, gross, majoriser = _moments(stack, theta, loss, w,
                                                        majoriser=not coupled)
    units = (k,) if coupled else (k, n_groups)
    # Far from the optimum the Gauss-Newton matrix of a robust loss sees only the runs in
    # its quadratic zone and overshoots; the IRLS majoriser sees every run and only
    # descends. Separate groups (left mid-way by the batched search) step with the
    # majoriser until a step gains less than _SWITCH_RTOL (relative), then with
    # Gauss-Newton, which converges fast near the end; joint problems, started close to
    # their optimum (the pooled start), use Gauss-Newton throughout.
    careful = np.full(units, not coupled)
    # a joint start is far from the joint optimum (its shared values are a compromise):
    # start cautious there; separate fits start from the engine's end points
    lam = np.full(units, 1.0 if coupled else 1e-3)
    nu = np.full(units, 2.0)
    converged = np.zeros(units, bool)
    done = np.zeros(units, bool)
    best = _total(f, coupled)
    since_gain = np.zeros(units, int)
    gradient = _gradient(grad, gross, theta, lower, upper, shared, per, coupled)
    converged |= gradient <= gtol
    done |= converged | ~np.isfinite(best)
    nfev, nit = 1, 0
    for nit in range(1, max_iter + 1):
        if done.all():
            break
        # decoupled groups that are done drop out of the batch: stragglers cost only themselves
        live = np.arange(n_groups) if coupled else np.flatnonzero((~done).any(axis=0))
        active = ~done
        act = np.broadcast_to(active[:, None] if coupled else active[:, live], (k, live.size))
        mode = careful[:, None] if coupled else careful[:, live]
        hess = newton[:, live] if coupled else np.where(mode[..., None, None],
                                                        majoriser[:, live], newton[:, live])
        step = _step(theta[:, live], grad[:, live], hess, scale[:, live],
                     lam if coupled else lam[:, live], lower, upper, shared, per, coupled)
        trial = np.clip(theta[:, live] + np.where(act[..., None], step, 0.0), lower, upper)
        taken = trial - theta[:, live]
        model = -(np.einsum("kgp,kgp->kg", grad[:, live], taken)
                  + 0.5 * np.einsum("kgp,kgpq,kgq->kg", taken, hess, taken))
        # the majoriser matrix serves only groups still stepping carefully (never again
        # once they switch), so it is computed only while one of them is live
        wanted = not coupled and bool(careful[:, live].any())
        fn, gn, hn, sn, grn, mn = _moments(stack, trial, loss, w[:, live], live,
                                           majoriser=wanted)
        nfev += 1
        if coupled:
            old, new = f.sum(axis=1), fn.sum(axis=1)
            accept = active & (new < old)
            keep = np.broadcast_to(accept[:, None], (k, live.size))
        else:
            old, new = f[:, live], fn
            accept = act & (new < old)
            keep = accept
        sel = keep[..., None]
        theta[:, live] = np.where(sel, trial, theta[:, live])
        f[:, live] = np.where(keep, fn, f[:, live])
        grad[:, live] = np.where(sel, gn, grad[:, live])
        gross[:, live] = np.where(sel, grn, gross[:, live])
        scale[:, live] = np.where(sel, sn, scale[:, live])
        newton[:, live] = np.where(sel[..., None], hn, newton[:, live])
        if wanted:
            majoriser[:, live] = np.where(sel[..., None], mn, majoriser[:, live])
        if coupled:
            lam, nu = _damping(lam, nu, accept, active, old - new, model.sum(axis=1))
            moved = (np.abs(step) / (1.0 + np.abs(theta))).max(axis=(1, 2))
        else:
            lam[:, live], nu[:, live] = _damping(lam[:, live], nu[:, live], accept, act,
                                                 old - new, model)
            accept_all = np.zeros((k, n_groups), bool)
            accept_all[:, live] = accept
            accept, old, new = accept_all, _widen(old, live, n_groups), _widen(new, live, n_groups)
            moved = _widen((np.abs(step) / (1.0 + np.abs(theta[:, live]))).max(axis=2), live,
                           n_groups, fill=np.inf)
        gradient = _gradient(grad, gross, theta, lower, upper, shared, per, coupled)
        tiny_gain = (old - new) <= ftol * np.abs(old)
        careful &= ~(accept & ((old - new) <= _SWITCH_RTOL * np.abs(old)))
        small = accept & tiny_gain & (moved <= xtol)
        stuck = active & ~accept & (lam > 1e10)
        now = _total(f, coupled)
        gained = now < best - _STALL_RTOL * np.abs(best)
        since_gain = np.where(gained, 0, since_gain + active)
        best = np.minimum(best, now)
        converged |= active & (small | (gradient <= gtol) | (stuck & (gradient <= 1e-6)))
        done |= converged | stuck | (since_gain >= _STALL_ITERATIONS)
    return {"theta": theta, "f": f, "converged": converged, "gradient": gradient,
            "nit": nit, "nfev": nfev}


def _total(f, coupled):
    return f.sum(axis=1) if coupled else f


def _damping(lam, nu, accept, active, actual, predicted):
    """Nielsen's update of the damping from the gain ratio ``actual / predicted``: shrink it
    up to 3x after a step the quadratic model predicted well, grow it (2x, 4x, 8x...)
    after each rejected step."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(predicted > 0, actual / predicted, 0.0)
    factor = np.maximum(1.0 / 3.0, 1.0 - (2.0 * ratio - 1.0) ** 3)
    lam = np.where(accept, np.maximum(lam * factor, 1e-12),
                   np.where(active, np.minimum(lam * nu, 1e16), lam))
    nu = np.where(accept, 2.0, np.where(active, nu * 2.0, nu))
    return lam, nu


def _widen(values, live, n_groups, fill=0.0):
    """``(K, G')`` values of the groups ``live`` as ``(K, G)`` (``fill`` elsewhere)."""
    out = np.full((values.shape[0], n_groups), fill, dtype=float)
    out[:, live] = values
    return out


def _gradient(grad, gross, theta, lower, upper, shared, per, coupled):
    """Relative projected gradient (the engine's measure) per problem or per group."""
    k, n_groups = grad.shape[:2]
    if not coupled:
        free = per
        flat = _relative(grad[..., free].reshape(-1, free.size),
                         gross[..., free].reshape(-1, free.size),
                         theta[..., free].reshape(-1, free.size), lower[free], upper[free])
        return flat.reshape(k, n_groups)
    joint_grad = np.concatenate([grad[:, :, shared].sum(axis=1),
                                 grad[:, :, per].reshape(k, -1)], axis=1)
    joint_gross = np.concatenate([gross[:, :, shared].sum(axis=1),
                                  gross[:, :, per].reshape(k, -1)], axis=1)
    joint_x = np.concatenate([theta[:, 0, shared], theta[:, :, per].reshape(k, -1)], axis=1)
    return _relative(joint_grad, joint_gross, joint_x,
                     *joint_bounds(lower, upper, shared, per, n_groups))


def _step(theta, grad, hess, scale, lam, lower, upper, shared, per, coupled):
    """The damped Gauss-Newton step ``(K, G, q)``: per group, or through the Schur
    complement of the group blocks when the shared parameters move."""
    step = np.zeros_like(theta)
    blocked = _blocked(theta, grad, lower, upper)
    top = np.maximum(scale.max(axis=(1, 2)) if coupled else scale.max(axis=2), 1e-300)
    floor = _SINGULAR_FLOOR * (top[:, None, None] if coupled else top[..., None])
    damping = np.maximum(scale, floor)
    lam_g = (lam[:, None, None] if coupled else lam[..., None]) * damping

    # per-group blocks, damped and with frozen parameters replaced by identity rows
    hp = hess[..., per[:, None], per[None, :]]
    fp = ~blocked[..., per]
    system = hp + np.eye(per.size) * lam_g[..., per][..., None, :]
    system = system * (fp[..., :, None] & fp[..., None, :]) + np.eye(per.size) * (~fp)[..., None, :]
    rhs_p = np.where(fp, -grad[..., per], 0.0)
    if not coupled:
        step[..., per] = solve_each(system, rhs_p[..., None])[..., 0]
        return step

    grad_s = grad[..., shared].sum(axis=1)
    blocked_s = ((theta[:, 0, shared] <= lower[shared]) & (grad_s > 0)) | (
        (theta[:, 0, shared] >= upper[shared]) & (grad_s < 0))
    fs = ~blocked_s
    coupling = hess[..., shared[:, None], per[None, :]]  # (K, G, s, p)
    coupling = coupling * fs[:, None, :, None] * fp[..., None, :]
    # A_g^-1 [H_PS, rhs_P] in one batched solve
    solved = solve_each(system, np.concatenate([np.swapaxes(coupling, -1, -2), rhs_p[..., None]],
                                           axis=-1))
    a_inv_h, a_inv_g = solved[..., :shared.size], solved[..., shared.size]
    damping_s = np.maximum(scale[..., shared].sum(axis=1), floor[:, 0, :1])
    hs = hess[..., shared[:, None], shared[None, :]].sum(axis=1)
    hs = hs + np.eye(shared.size) * (lam[:, None] * damping_s)[:, None, :]
    schur = hs - np.einsum("kgsp,kgpt->kst", coupling, a_inv_h)
    rhs_s = np.where(fs, -grad_s, 0.0) - np.einsum("kgsp,kgp->ks", coupling, a_inv_g)
    schur = schur * (fs[:, :, None] & fs[:, None, :]) + np.eye(shared.size) * (~fs)[:, None, :]
    rhs_s = np.where(fs, rhs_s, 0.0)
    du = solve_each(schur, rhs_s[..., None])[..., 0]
    dv = a_inv_g - np.einsum("kgps,ks->kgp", a_inv_h, du)
    step[..., per] = np.where(fp, dv, 0.0)
    step[..., shared] = du[:, None, :]
    return step


# ------------------------------------------------------------------ starts of many groups
def separable_starts_by_group(inputs: Sequence[dict], targets: Sequence[np.ndarray], *,
                              space: str, weights=None, alphas, betas, count: int) -> list:
    """:func:`~scalinglaws.fitting.varpro.separable_starts` of every group, the groups with
    the same number of runs in one batched pass: the same starts, bit for bit (every sum
    runs over one group's runs in the same order; the 3x3 solves are LAPACK's, one system
    at a time). ``weights`` is None or one array per group. Returns a list of ``(m, 5)``.

    The variable-projection solve is :func:`~scalinglaws.fitting.varpro.linear_inner_solve`
    with a leading axis of groups.
    """
    alphas = np.atleast_1d(np.asarray(alphas, float))
    betas = np.atleast_1d(np.asarray(betas, float))
    counts = np.array([len(t) for t in targets])
    out = [None] * len(targets)
    aa, bb = np.meshgrid(alphas, betas, indexing="ij")
    batches = []
    for n in np.unique(counts):  # groups of n runs, so many at a time that memory stays bounded
        same = np.flatnonzero(counts == n)
        size = max(1, _START_ELEMENTS // (len(alphas) * len(betas) * min(int(n), _ROWS_PER_BLOCK)))
        batches += [same[i:i + size] for i in range(0, len(same), size)]
    for members in batches:
        L = np.array([np.asarray(targets[g], dtype=float).ravel() for g in members])
        w = np.ones_like(L) if weights is None else np.array(
            [np.asarray(weights[g], dtype=float).ravel() for g in members])
        if space == "log":
            w = w / (L * L)
        columns = [np.array([np.asarray(inputs[g][name], dtype=float).ravel() for g in members])
                   for name in ("N", "D")]
        logs, sse = linear_inner_solve(*columns, L, alphas, betas, w)
        exponents = np.broadcast_to(np.stack([aa, bb], axis=-1), logs.shape[:-1] + (2,))
        points = np.concatenate([logs, exponents], axis=-1).reshape(len(members), -1, 5)
        flat = sse.reshape(len(members), -1)
        order = np.argsort(flat, axis=1, kind="stable")
        for i, g in enumerate(members):
            chosen = order[i][np.isfinite(flat[i][order[i]])][:count]
            out[g] = points[i][chosen]
    return out

