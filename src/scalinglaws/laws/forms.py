"""Scaling-law forms: each a small class with its formula in the docstring.

A form maps named inputs (``N``, ``D``, ``C``) and named parameters to a
predicted loss. For fitting, every form is evaluated in an *internal*
parametrisation where scale parameters (``E``, ``A``, ``B``, ``N_c``...) are
stored as natural logs; the optimiser works on a batch of internal parameter
vectors at once (``theta`` of shape ``(k, p)``) and needs the log-prediction and
its Jacobian, of shapes ``(k, n)`` and ``(k, p, n)`` (parameters before runs,
so that each parameter's derivative is a contiguous block).

Forms are referred to by name in JSON files; :func:`get_form` looks them up.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Mapping

import numpy as np

from .._exceptions import InputError
from .._validation import check_numbers

__all__ = [
    "Form",
    "Chinchilla",
    "PowerLaw",
    "KaplanND",
    "get_form",
    "register_form",
    "available_forms",
]

_LOG_BOUNDS = (-30.0, 300.0)  # internal bounds of a log-stored scale parameter
_EXPONENT_BOUNDS = (0.0, 10.0)
# Chinchilla rows with log E at least this take the divided-by-E evaluation: its error in
# log L is about 1e-16 (2|e| + |log L|), within twice the stable log-sum-exp's from here up
_DIVIDE_BY_E_FROM = -1.0


def _logsumexp(*terms):
    """Stable log(sum(exp(t))) of broadcastable arrays, and the softmax weight of each term."""
    top = terms[0]
    for term in terms[1:]:
        top = np.maximum(top, term)
    exps = [np.exp(term - top) for term in terms]
    total = exps[0]
    for extra in exps[1:]:
        total = total + extra
    inverse = 1.0 / total
    return top + np.log(total), [e * inverse for e in exps]


def _jacobian(columns, shape):
    """Stack per-parameter derivative arrays into the engine's ``(k, p, n)`` layout."""
    jac = np.empty((shape[0], len(columns), shape[1]))
    for i, column in enumerate(columns):
        jac[:, i, :] = column
    return jac


def _chinchilla_divided_by_e(theta, lnN, lnD):
    """Chinchilla's ``log L`` and Jacobian as ``e + log1p(p_a + p_b)``, every term divided by
    ``E`` (overflows far off; see :meth:`Chinchilla.log_value_and_jacobian`)."""
    e = theta[:, 0:1]
    jac = np.empty((theta.shape[0], 5, lnN.shape[1]))
    s_e, p_a, p_b = jac[:, 0], jac[:, 1], jac[:, 2]
    np.multiply(theta[:, 3:4], lnN, out=p_a)
    np.subtract(theta[:, 1:2] - e, p_a, out=p_a)
    np.exp(p_a, out=p_a)
    np.multiply(theta[:, 4:5], lnD, out=p_b)
    np.subtract(theta[:, 2:3] - e, p_b, out=p_b)
    np.exp(p_b, out=p_b)
    total = p_a + p_b
    value = np.log1p(total)
    value += e
    total += 1.0
    np.divide(1.0, total, out=s_e)
    p_a *= s_e  # now the softmax weights s_a, s_b
    p_b *= s_e
    np.multiply(p_a, -lnN, out=jac[:, 3])
    np.multiply(p_b, -lnD, out=jac[:, 4])
    return value, jac


def _rows_of(inputs, rows):
    """``inputs`` ``(1, n)`` as they are, or the ``rows`` of per-row inputs ``(m, n)`` (a
    grouped fit evaluates each parameter vector on its own row of runs)."""
    return inputs if inputs.shape[0] == 1 else np.asarray(inputs)[rows]


def log_from_linear(value, jac):
    """``log f`` ``(k, n)`` and ``J / f`` ``(k, p, n)`` of a law evaluated in linear space
    (``f`` and its Jacobian ``J``); NaN where ``f <= 0``."""
    positive = value > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_value = np.where(positive, np.log(np.where(positive, value, 1.0)), np.nan)
        return log_value, np.where(positive[:, None, :], jac / value[:, None, :], np.nan)


class Form:
    """Base class of a scaling-law form.

    Subclasses set :attr:`name`, :attr:`inputs`, :attr:`param_names`,
    :attr:`log_params` and implement :meth:`log_value_and_jacobian` and
    :meth:`start_grid`.
    """

    name: str = "form"
    inputs: tuple[str, ...] = ()
    param_names: tuple[str, ...] = ()
    log_params: frozenset = frozenset()
    formula: str = ""
    #: built-in laws take logs of their inputs; a user-defined one may accept any real input
    positive_inputs: bool = True

    # -- parametrisation -------------------------------------------------
    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def internal_names(self) -> tuple[str, ...]:
        return tuple(f"log({p})" if p in self.log_params else p for p in self.param_names)

    def _log_mask(self) -> np.ndarray:
        return np.array([p in self.log_params for p in self.param_names])

    def to_internal(self, values) -> np.ndarray:
        """Public parameter values (array ``(..., p)``) to the internal parametrisation."""
        values = np.asarray(values, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self._log_mask(), np.log(values), values)

    def to_public(self, theta) -> np.ndarray:
        """Internal parameter vectors (array ``(..., p)``) to public values."""
        theta = np.asarray(theta, dtype=float)
        with np.errstate(over="ignore"):
            return np.where(self._log_mask(), np.exp(theta), theta)

    def default_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Internal lower and upper bounds used unless the user gives others."""
        lo = np.array([_LOG_BOUNDS[0] if p in self.log_params else _EXPONENT_BOUNDS[0]
                       for p in self.param_names])
        hi = np.array([_LOG_BOUNDS[1] if p in self.log_params else _EXPONENT_BOUNDS[1]
                       for p in self.param_names])
        return lo, hi

    def params_vector(self, params: Mapping[str, float]) -> np.ndarray:
        """Public parameter vector in :attr:`param_names` order from a mapping."""
        if not isinstance(params, Mapping):
            values = np.asarray(params, dtype=float)
            if values.shape != (self.n_params,):
                raise InputError(f"`params` must have {self.n_params} values for form "
                                 f"{self.name!r} ({', '.join(self.param_names)})")
            return values
        missing = [p for p in self.param_names if p not in params]
        unknown = [p for p in params if p not in self.param_names]
        if missing or unknown:
            raise InputError(f"`params` for form {self.name!r} must name exactly "
                             f"{', '.join(self.param_names)}; missing {missing}, unknown {unknown}")
        return np.array([float(params[p]) for p in self.param_names])

    # -- evaluation ------------------------------------------------------
    def log_value_and_jacobian(self, theta: np.ndarray, X: Mapping[str, np.ndarray]):
        """Log-prediction ``(k, n)`` and its Jacobian ``(k, p, n)`` w.r.t. internal parameters."""
        raise NotImplementedError  # pragma: no cover

    def value_and_jacobian(self, theta, X):
        """Prediction in linear space and its Jacobian w.r.t. internal parameters."""
        logf, jac = self.log_value_and_jacobian(theta, X)
        f = np.exp(logf)
        return f, jac * f[:, None, :]

    def predict(self, params, **inputs) -> np.ndarray:
        """Predicted loss for public ``params`` (mapping or vector) at broadcast ``inputs``.

        Examples
        --------
        >>> loss = Chinchilla().predict(dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28),
        ...                             N=70e9, D=1.4e12)
        >>> round(float(loss), 4)
        1.9366
        """
        X, shape = self._broadcast_inputs(inputs)
        theta = self.to_internal(self.params_vector(params))[None, :]
        logf, _ = self.log_value_and_jacobian(theta, X)
        out = np.exp(logf[0]).reshape(shape)
        return out[()] if out.ndim == 0 else out

    def _broadcast_inputs(self, inputs):
        missing = [name for name in self.inputs if inputs.get(name) is None]
        if missing:
            raise InputError(f"form {self.name!r} needs inputs {', '.join(self.inputs)}; "
                             f"missing {', '.join(missing)}")
        # numbers or text such as "7B"; finite, and positive where the law takes logs
        arrays = [check_numbers(name, inputs[name], positive=self.positive_inputs)
                  for name in self.inputs]
        try:
            arrays = np.broadcast_arrays(*arrays)
        except ValueError as exc:
            raise InputError(f"inputs {', '.join(self.inputs)} do not broadcast: {exc}") from None
        shape = arrays[0].shape if arrays else ()
        return {n: a.ravel() for n, a in zip(self.inputs, arrays)}, shape

    # -- starts ------------------------------------------------------------
    def start_grid(self, X: Mapping[str, np.ndarray], loss: np.ndarray) -> np.ndarray:
        """Internal starting points ``(m, p)`` for the multi-start search."""
        raise NotImplementedError  # pragma: no cover

    # -- identity ----------------------------------------------------------
    def config(self) -> dict:
        """Constructor arguments that, with :attr:`name`, rebuild this form."""
        return {}

    def to_dict(self) -> dict:
        return {"name": self.name, "config": self.config(), "inputs": list(self.inputs),
                "param_names": list(self.param_names), "formula": self.formula}

    def __eq__(self, other):
        return type(other) is type(self) and other.config() == self.config()

    def __hash__(self):
        return hash((self.name, tuple(sorted(self.config().items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Chinchilla(Form):
    r"""Hoffmann et al. (2022) parametric loss, Approach 3.

    .. math::

        L(N, D) = E + \frac{A}{N^\alpha} + \frac{B}{D^\beta}

    with ``N`` parameters (Hoffmann counts embeddings) and ``D`` training
    tokens. Internally ``(e, a, b) = log(E, A, B)`` and
    ``log L = LSE(a - alpha log N, b - beta log D, e)``, the form Hoffmann et
    al. fit (App. D.2, Eq. 11). The default starts are their 4,500-point grid:
    alpha, beta in {0, 0.5, ..., 2}; e in {-1, -0.5, ..., 1}; a, b in
    {0, 5, ..., 25}.
    """

    name = "chinchilla"
    inputs = ("N", "D")
    param_names = ("E", "A", "B", "alpha", "beta")
    log_params = frozenset({"E", "A", "B"})
    formula = "L = E + A / N**alpha + B / D**beta"

    def log_value_and_jacobian(self, theta, X):
        lnN = np.log(X["N"])[None, :]
        lnD = np.log(X["D"])[None, :]
        # log L = e + log1p(p_a + p_b) with p_a = exp(a - e - alpha lnN): about half the
        # array passes of the general log-sum-exp, written in place into the Jacobian
        # (the form is evaluated millions of times in a fit and a bootstrap). Its rounding
        # error grows with |e|, so rows with a small E (e < -1), and rows where p_a or p_b
        # overflow (an iterate far off), take the stable log-sum-exp instead.
        divide = theta[:, 0] >= _DIVIDE_BY_E_FROM
        with np.errstate(over="ignore", invalid="ignore"):
            if divide.all():
                value, jac = _chinchilla_divided_by_e(theta, lnN, lnD)
            else:
                value = np.empty((theta.shape[0], lnN.shape[1]))
                jac = np.empty((theta.shape[0], 5, lnN.shape[1]))
                rows = np.flatnonzero(divide)
                value[rows], jac[rows] = _chinchilla_divided_by_e(
                    theta[rows], _rows_of(lnN, rows), _rows_of(lnD, rows))
        stable = np.flatnonzero(~divide | ~np.isfinite(value).all(axis=1))
        if stable.size:
            ln_n, ln_d = _rows_of(lnN, stable), _rows_of(lnD, stable)
            e, a, b, alpha, beta = (theta[stable, i:i + 1] for i in range(5))
            value[stable], (s_a, s_b, s_e) = _logsumexp(a - alpha * ln_n, b - beta * ln_d, e)
            jac[stable] = _jacobian([s_e, s_a, s_b, -s_a * ln_n, -s_b * ln_d],
                                    value[stable].shape)
        return value, jac

    def start_grid(self, X, loss):
        grid = itertools.product(np.arange(-1, 1.01, 0.5), np.arange(0, 26, 5),
                                 np.arange(0, 26, 5), np.arange(0, 2.01, 0.5),
                                 np.arange(0, 2.01, 0.5))
        return np.array(list(grid), dtype=float)


class PowerLaw(Form):
    r"""Kaplan et al. (2020) single-variable power law, optionally with an irreducible loss.

    .. math::

        L(X) = \left(\frac{X_c}{X}\right)^{\alpha_X}
        \qquad\text{or, with ``offset=True``,}\qquad
        L(X) = E + \left(\frac{X_c}{X}\right)^{\alpha_X}

    for ``X`` one of ``N`` (Kaplan counts non-embedding parameters), ``D``
    (tokens) or ``C`` (FLOP; Kaplan quotes ``C_c`` in PF-days, 1 PF-day =
    8.64e19 FLOP). Parameters are named ``X_c`` and ``alpha_X``, e.g.
    ``N_c`` and ``alpha_N``.

    Parameters
    ----------
    variable : {"N", "D", "C"}
    offset : bool
        Add the irreducible term ``E``.
    """

    def __init__(self, variable: str = "N", offset: bool = False):
        if variable not in ("N", "D", "C"):
            raise InputError(f"`variable` must be one of 'N', 'D', 'C', got {variable!r}")
        self.variable = variable
        self.offset = bool(offset)
        self.inputs = (variable,)
        names = (f"{variable}_c", f"alpha_{variable}")
        self.param_names = (("E",) if self.offset else ()) + names
        self.log_params = frozenset({"E", f"{variable}_c"})
        self.name = f"kaplan_{variable.lower()}" + ("_offset" if self.offset else "")
        core = f"({variable}_c / {variable})**alpha_{variable}"
        self.formula = f"L = E + {core}" if self.offset else f"L = {core}"

    def config(self):
        return {"variable": self.variable, "offset": self.offset}

    def log_value_and_jacobian(self, theta, X):
        lnX = np.log(X[self.variable])[None, :]
        log_xc, alpha = theta[:, -2:-1], theta[:, -1:]
        power = alpha * (log_xc - lnX)
        jac_power = [alpha, log_xc - lnX]
        if not self.offset:
            return power, _jacobian(jac_power, power.shape)
        value, (s_e, s_p) = _logsumexp(theta[:, :1], power)
        return value, _jacobian([s_e] + [s_p * j for j in jac_power], value.shape)

    def start_grid(self, X, loss):
        lnX = np.log(X[self.variable])
        lnL = np.log(loss)
        offsets = [None] if not self.offset else np.min(loss) * np.array(
            [1e-3, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99])
        starts = []
        for E in offsets:
            target = lnL if E is None else np.log(loss - E)
            slope = np.polyfit(lnX, target, 1)[0] if np.ptp(lnX) > 0 else -0.1
            for alpha in {max(-slope, 1e-3), 0.05, 0.1, 0.3, 1.0}:
                log_xc = np.mean(target) / alpha + np.mean(lnX)
                starts.append(([] if E is None else [np.log(E)]) + [log_xc, alpha])
        return np.array(starts, dtype=float)


class KaplanND(Form):
    r"""Kaplan et al. (2020) joint law in parameters and data (Eq. 1.5).

    .. math::

        L(N, D) = \left[\left(\frac{N_c}{N}\right)^{\alpha_N/\alpha_D}
                  + \frac{D_c}{D}\right]^{\alpha_D}

    Kaplan's Table 2 values: alpha_N = 0.076, alpha_D = 0.103, N_c = 6.4e13,
    D_c = 1.8e13 (non-embedding parameters, tokens).
    """

    name = "kaplan_nd"
    inputs = ("N", "D")
    param_names = ("N_c", "D_c", "alpha_N", "alpha_D")
    log_params = frozenset({"N_c", "D_c"})
    formula = "L = ((N_c / N)**(alpha_N / alpha_D) + D_c / D)**alpha_D"

    def default_bounds(self):
        lo, hi = super().default_bounds()
        lo[3] = 1e-6  # alpha_D divides
        return lo, hi

    def log_value_and_jacobian(self, theta, X):
        lnN = np.log(X["N"])[None, :]
        lnD = np.log(X["D"])[None, :]
        log_nc, log_dc, alpha_n, alpha_d = (theta[:, i:i + 1] for i in range(4))
        gap_n = log_nc - lnN
        u = (alpha_n / alpha_d) * gap_n
        total, (s_u, s_v) = _logsumexp(u, log_dc - lnD)
        value = alpha_d * total
        return value, _jacobian([alpha_n * s_u, alpha_d * s_v, s_u * gap_n, total - s_u * u],
                                value.shape)

    def start_grid(self, X, loss):
        lnL = np.log(loss)
        starts = []
        for alpha_n, alpha_d in itertools.product([0.03, 0.076, 0.15, 0.3],
                                                  [0.05, 0.1, 0.2, 0.4]):
            base_n = np.median(np.log(X["N"]) + lnL / alpha_n)
            base_d = np.median(np.log(X["D"]) + lnL / alpha_d)
            for shift_n, shift_d in itertools.product([-3.0, 0.0, 3.0], [-3.0, 0.0, 3.0]):
                starts.append([base_n + shift_n, base_d + shift_d, alpha_n, alpha_d])
        return np.array(starts, dtype=float)


_REGISTRY: dict[str, Form] = {}


def register_named(registry: dict, item, *, overwrite: bool, what: str):
    """Put ``item`` in ``registry`` under ``item.name``: the same item again is a no-op, a
    different one under that name replaces it only with ``overwrite`` (the rule of the
    form and the curve-law registries; ``what`` names the kind in the message)."""
    if item.name in registry and not overwrite and registry[item.name] != item:
        raise InputError(f"a different {what} named {item.name!r} is already registered; "
                         "pass overwrite=True to replace it")
    registry[item.name] = item
    return item


def register_form(form: Form, *, overwrite: bool = False) -> Form:
    """Make ``form`` available by its name (to :func:`get_form` and JSON loading)."""
    if not isinstance(form, Form):
        raise InputError(f"`form` must be a Form instance, got {type(form).__name__}")
    return register_named(_REGISTRY, form, overwrite=overwrite, what="form")


for _form in (Chinchilla(), KaplanND(),
              *(PowerLaw(v, o) for v in ("N", "D", "C") for o in (False, True))):
    register_form(_form)


#: modules of this stage that define more built-in forms (in ``BUILTIN_FORMS``); imported
#: by name on first lookup, so importing this module stays light and acyclic
_BUILTIN_MODULES = ("datablations", "kaplan", "tasks")


def load_builtin_forms() -> None:
    """Register every built-in form (those defined in other modules of this stage too)."""
    for name in _BUILTIN_MODULES:
        module = importlib.import_module(f"{__package__}.{name}")
        for form in getattr(module, "BUILTIN_FORMS", ()):
            _REGISTRY.setdefault(form.name, form)


def available_forms() -> list[str]:
    """Names accepted by :func:`get_form`."""
    load_builtin_forms()
    return sorted(_REGISTRY)


def get_form(form: str | Form) -> Form:
    """Look up a form by name (case-insensitive) or pass a :class:`Form` through."""
    if isinstance(form, Form):
        return form
    key = str(form).strip().lower()
    if key not in _REGISTRY:
        load_builtin_forms()
    if key not in _REGISTRY:
        import difflib

        names = available_forms()
        close = difflib.get_close_matches(key, names, n=2, cutoff=0.75)
        mean = f": did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise InputError(f"`form` must be one of {', '.join(names)}, got {form!r}{mean} (a "
                         "user-defined form must be registered with register_form first)")
    return _REGISTRY[key]
