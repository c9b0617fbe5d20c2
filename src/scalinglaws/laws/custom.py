"""User-defined forms: a law declared from a Python function of named inputs and parameters.

A :class:`UserForm` is fitted by the same engine, losses, spaces and bootstrap
as the built-in forms::

    def shifted(N, E, A, alpha, N0):        # params arrive as (k, 1) arrays, inputs as (1, n)
        return E + A / (N + N0) ** alpha

    form = define_form("shifted_power", shifted, inputs=("N",),
                       params={"E": Param(bounds=(0, 10), start=[1.0, 2.0]),
                               "A": Param(bounds=(0, None), start=[10, 1000], log=True),
                               "alpha": Param(bounds=(0, 3), start=[0.1, 0.3, 0.6]),
                               "N0": Param(start=0.0)},
                       formula="E + A/(N+N0)^alpha", register=True)
    fit(runs, "shifted_power")

The function is evaluated for every starting point at once: each parameter is
passed as a column ``(k, 1)`` and each input as a row ``(1, n)``, so numpy
broadcasting gives the ``(k, n)`` prediction. Derivatives come from the user's
analytic ``jacobian`` or, without one, from central finite differences computed
in the same single batched call.

A fit saved to JSON records the form by name and :meth:`UserForm.config` (its
inputs, parameter bounds, starts, constants and formula), never code: loading
it needs the form registered again (:func:`~scalinglaws.forms.register_form`),
and a form registered under that name with another configuration is refused.
"""

from __future__ import annotations

import inspect
import itertools
import json
import keyword
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._exceptions import InputError
from .._validation import as_names
from .forms import Form, log_from_linear, register_form

__all__ = ["Param", "UserForm", "define_form"]

# Central differences balance truncation error (~h^2) against rounding error
# (~eps/h): the optimum step is about eps^(1/3) relative to the parameter.
_FD_RELATIVE_STEP = np.finfo(float).eps ** (1.0 / 3.0)


def _as_bound(value, side: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"`{name}.bounds` {side} must be a number or None, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"`{name}.bounds` {side} must be a number or None, got {value!r}") from None
    if math.isnan(value):
        raise InputError(f"`{name}.bounds` {side} must be a number or None, got nan")
    # An infinite bound is the same as no bound; None is how JSON can hold it.
    return None if math.isinf(value) else value


@dataclass(frozen=True)
class Param:
    r"""Declaration of one parameter of a user-defined form.

    Parameters
    ----------
    bounds : (low, high), optional
        Box constraint in public units; ``None`` on a side means unbounded.
        Default ``(None, None)``.
    start : float or sequence of float, optional
        Starting value(s) of the multi-start search, in public units. The
        search starts from the Cartesian product of every parameter's values.
        Default: the midpoint of finite bounds (geometric midpoint when
        ``log``), otherwise a point one unit (one decade when ``log``) inside
        the one finite bound, otherwise 1.
    log : bool, default False
        Store the parameter internally as its natural log :math:`\log p`, so
        the optimiser moves it by relative steps and it stays positive. Suits
        scale parameters spanning decades (``A``, ``B``, ``N_c``). Requires a
        lower bound of 0 or more (``None`` is read as 0) and positive starts.
    fixed : float, optional
        Hold the parameter at this value: it becomes a constant of the form,
        passed to the function but not fitted (and not listed in
        ``param_names`` or a fit's ``params``). To fit it sometimes and fix it
        other times, declare it without ``fixed`` and pass
        ``fixed={name: value}`` to :class:`~scalinglaws.LawFitter`.
    """

    bounds: tuple = (None, None)
    start: float | Sequence[float] | None = None
    log: bool = False
    fixed: float | None = None

    def checked(self, name: str) -> Param:
        """This declaration validated and normalised (floats, tuples) for parameter ``name``.

        Raises
        ------
        InputError
            Naming ``name`` and the offending field.
        """
        try:
            low, high = self.bounds
        except (TypeError, ValueError):
            raise InputError(f"`{name}.bounds` must be a (low, high) pair, got {self.bounds!r}") from None
        low, high = _as_bound(low, "low", name), _as_bound(high, "high", name)
        if not isinstance(self.log, (bool, np.bool_)):
            raise InputError(f"`{name}.log` must be True or False, got {self.log!r}")
        log = bool(self.log)
        if log:
            if low is not None and low < 0:
                raise InputError(f"`{name}` is log-stored, so its lower bound must be >= 0, "
                                 f"got {low!r}")
            if high is not None and high <= 0:
                raise InputError(f"`{name}` is log-stored, so its upper bound must be > 0, "
                                 f"got {high!r}")
        if low is not None and high is not None and low >= high:
            raise InputError(f"`{name}.bounds` = {self.bounds!r} is empty (low >= high)")

        def inside(value, what):
            if not math.isfinite(value):
                raise InputError(f"`{name}.{what}` must be finite, got {value!r}")
            if log and value <= 0:
                raise InputError(f"`{name}` is log-stored, so `{name}.{what}` must be > 0, "
                                 f"got {value!r}")
            if (low is not None and value < low) or (high is not None and value > high):
                raise InputError(f"`{name}.{what}` = {value!r} lies outside bounds "
                                 f"({low!r}, {high!r})")
            return value

        fixed = None
        if self.fixed is not None:
            fixed = inside(_as_float(self.fixed, f"{name}.fixed"), "fixed")
        if self.start is None:
            starts = (_default_start(low, high, log),)
        else:
            raw = np.atleast_1d(np.asarray(self.start, dtype=object)).ravel()
            if raw.size == 0:
                raise InputError(f"`{name}.start` holds no value")
            starts = tuple(inside(_as_float(v, f"{name}.start"), "start") for v in raw)
        return Param(bounds=(low, high), start=starts, log=log, fixed=fixed)


def _as_float(value, what: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"`{what}` must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"`{what}` must be a number, got {value!r}") from None


def _default_start(low, high, log) -> float:
    if log:
        low = None if low is not None and low <= 0 else low
        if low is not None and high is not None:
            return math.sqrt(low * high)
        if low is not None:
            return low * 10.0
        if high is not None:
            return high / 10.0
        return 1.0
    if low is not None and high is not None:
        return 0.5 * (low + high)
    if low is not None:
        return low + 1.0
    if high is not None:
        return high - 1.0
    return 1.0


def _check_identifier(name, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise InputError(f"{what} {name!r} must be a Python identifier (it is passed to the "
                         "function as a keyword argument)")
    return name


def _check_signature(function: Callable, names: Sequence[str], what: str) -> None:
    """The function must accept every name as a keyword and need nothing else."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # builtins without a signature: trust the caller
    accepted = signature.parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    positional_only = [p.name for p in accepted.values() if p.kind is p.POSITIONAL_ONLY]
    if positional_only:
        raise InputError(f"`{what}` has positional-only argument(s) {positional_only}; inputs "
                         "and parameters are passed by keyword")
    if not takes_any:
        missing = [n for n in names if n not in accepted]
        if missing:
            raise InputError(f"`{what}` does not accept {missing}; its arguments must be the "
                             f"inputs and parameters {list(names)}")
    unfilled = [p.name for p in accepted.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                and p.default is p.empty and p.name not in names]
    if unfilled:
        raise InputError(f"`{what}` requires argument(s) {unfilled} that are neither inputs nor "
                         f"parameters (declared: {list(names)})")


class UserForm(Form):
    r"""A scaling law given as a Python function; build it with :func:`define_form`.

    The prediction is :math:`f(x; p)` evaluated by the user's function. For
    fitting, parameters declared ``log=True`` are stored internally as
    :math:`\theta = \log p`. In linear space the engine needs :math:`f` and
    :math:`J_{ij} = \partial f / \partial \theta_j`; with the chain rule,

    .. math::

        \frac{\partial f}{\partial \theta_j} =
        \begin{cases} p_j\, \partial f / \partial p_j & \text{log-stored} \\
                      \partial f / \partial p_j & \text{otherwise.} \end{cases}

    In log space it needs :math:`\log f` and :math:`J / f`, defined only where
    :math:`f > 0`: elsewhere the log-prediction is NaN, which the engine
    treats as an infinite objective (the step is refused, the start dropped).

    Without an analytic ``jacobian`` the derivatives are central differences

    .. math::

        \frac{\partial f}{\partial \theta_j} \approx
        \frac{f(\theta + h_j e_j) - f(\theta - h_j e_j)}{2 h_j},\qquad
        h_j = \epsilon^{1/3} \max(|\theta_j|, s_j),

    with all ``2 p`` perturbations of all ``k`` starts in one call of the
    function, one-sided where a perturbed value is not finite. The floor
    :math:`s_j` is the parameter's typical size: 1 for a log-stored parameter
    (the step is then relative in :math:`p_j`), otherwise the largest
    magnitude among its declared starts (1 if they are all 0), so a
    parameter of size ``1e-7`` is not differenced with a step of ``1e-5``.

    Attributes
    ----------
    function : callable
        ``function(**inputs, **params)`` returning the prediction.
    jacobian_function : callable or None
        ``jacobian(**inputs, **params)`` returning ``{param: df/dparam}``.
    params : dict of str to Param
        Validated declarations of the fitted parameters.
    constants : dict of str to float
        Parameters declared with ``fixed``: passed to the function, never fitted.
    """

    positive_inputs = False  # inputs may be zero or negative (e.g. NIST's x)

    def __init__(self, name: str, function: Callable, inputs: Sequence[str],
                 params: Mapping[str, Param], *, jacobian: Callable | None = None,
                 formula: str = ""):
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"`name` must be a non-empty string, got {name!r}")
        # get_form looks names up in lower case, so a form is stored that way.
        self.name = name.strip().lower()
        if not callable(function):
            raise InputError(f"`function` must be callable, got {type(function).__name__}")
        if jacobian is not None and not callable(jacobian):
            raise InputError(f"`jacobian` must be callable or None, got {type(jacobian).__name__}")
        if not isinstance(formula, str):
            raise InputError(f"`formula` must be a string, got {type(formula).__name__}")
        inputs = as_names(inputs, "`inputs` must be a sequence of names")
        if not inputs:
            raise InputError("`inputs` must name at least one input")
        for input_name in inputs:
            _check_identifier(input_name, "input")
        if len(set(inputs)) != len(inputs):
            raise InputError(f"`inputs` repeats a name: {list(inputs)}")
        if not isinstance(params, Mapping) or not params:
            raise InputError("`params` must be a non-empty dict of name -> Param")
        checked = {}
        for param_name, declaration in params.items():
            _check_identifier(param_name, "parameter")
            if param_name in inputs:
                raise InputError(f"parameter {param_name!r} is also an input")
            if isinstance(declaration, Mapping):
                # a dict of Param's keywords, as a JSON-minded user writes it
                unknown = sorted(set(declaration) - {"bounds", "start", "log", "fixed"})
                if unknown:
                    raise InputError(f"`params[{param_name!r}]` has unknown keys {unknown}; a "
                                     "declaration takes bounds, start, log and fixed")
                declaration = Param(**declaration)
            if not isinstance(declaration, Param):
                raise InputError(f"`params[{param_name!r}]` must be a Param or a dict of its "
                                 f"keywords, got {type(declaration).__name__}")
            checked[param_name] = declaration.checked(param_name)
        self.params = {n: d for n, d in checked.items() if d.fixed is None}
        self.constants = {n: d.fixed for n, d in checked.items() if d.fixed is not None}
        if not self.params:
            raise InputError("every parameter is fixed: the form has nothing to fit")
        every_name = list(inputs) + list(checked)
        _check_signature(function, every_name, "function")
        if jacobian is not None:
            _check_signature(jacobian, every_name, "jacobian")
        self.function = function
        self.jacobian_function = jacobian
        self.inputs = inputs
        self.param_names = tuple(self.params)
        self.log_params = frozenset(n for n, d in self.params.items() if d.log)
        typical = [1.0 if d.log else max(abs(v) for v in d.start) for d in self.params.values()]
        self._typical_size = np.array([t if t > 0 else 1.0 for t in typical])
        self.formula = formula

    # -- parametrisation -------------------------------------------------
    def default_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Internal bounds from the declarations: ``log`` of them for log-stored
        parameters, and ``-inf``/``+inf`` where a side is unbounded."""
        lo, hi = [], []
        for declaration in self.params.values():
            low, high = declaration.bounds
            if declaration.log:
                lo.append(-np.inf if not low else math.log(low))
                hi.append(np.inf if high is None else math.log(high))
            else:
                lo.append(-np.inf if low is None else low)
                hi.append(np.inf if high is None else high)
        return np.array(lo, dtype=float), np.array(hi, dtype=float)

    def start_grid(self, X, loss) -> np.ndarray:
        """Cartesian product of every parameter's ``start`` values, in internal units
        (the data are not used)."""
        axes = [[math.log(v) if d.log else v for v in d.start] for d in self.params.values()]
        return np.array(list(itertools.product(*axes)), dtype=float)

    # -- evaluation --------------------------------------------------------
    def _call(self, function, public: np.ndarray, X: Mapping[str, np.ndarray]):
        """Call ``function`` with parameter columns ``(k, 1)`` and input rows ``(1, n)``."""
        kwargs = {name: np.asarray(X[name], dtype=float).reshape(1, -1) for name in self.inputs}
        kwargs.update({name: public[:, i:i + 1] for i, name in enumerate(self.param_names)})
        kwargs.update(self.constants)
        return function(**kwargs)

    def _shaped(self, value, shape, what: str) -> np.ndarray:
        try:
            return np.broadcast_to(np.asarray(value, dtype=float), shape)
        except ValueError:
            raise InputError(f"form {self.name!r}: {what} has shape {np.shape(value)}, which does "
                             f"not broadcast to (starts, runs) = {shape}; write it with numpy "
                             "operations that broadcast") from None

    def _public_values(self, public: np.ndarray, X) -> np.ndarray:
        n = len(np.asarray(X[self.inputs[0]]).ravel())
        return self._shaped(self._call(self.function, public, X), (public.shape[0], n),
                            "the function's value")

    def _values(self, theta: np.ndarray, X) -> np.ndarray:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        return self._public_values(self.to_public(theta), X)

    def _finite_difference_jacobian(self, theta, X, value):
        k, p = theta.shape
        step = _FD_RELATIVE_STEP * np.maximum(np.abs(theta), self._typical_size)
        # (2, p, k, p): +h and -h along each parameter, for every start, in one call
        shifts = np.eye(p)[None, :, None, :] * step[None, None, :, :] * np.array([1.0, -1.0])[
            :, None, None, None]
        perturbed = (theta[None, None, :, :] + shifts).reshape(-1, p)
        values = self._values(perturbed, X).reshape(2, p, k, -1)
        plus, minus = values[0], values[1]
        h = np.swapaxes(step, 0, 1)[:, :, None]  # (p, k, 1)
        # Where one side is not finite (e.g. a parameter at a domain edge),
        # fall back to the one-sided difference from the other side.
        central = (plus - minus) / (2 * h)
        forward = (plus - value[None]) / h
        backward = (value[None] - minus) / h
        ok_plus, ok_minus = np.isfinite(plus), np.isfinite(minus)
        jac = np.where(ok_plus & ok_minus, central, np.where(ok_plus, forward, backward))
        return np.transpose(jac, (1, 0, 2))  # (k, p, n)

    def _analytic_jacobian(self, theta, X, shape):
        public = self.to_public(theta)
        derivatives = self._call(self.jacobian_function, public, X)
        if not isinstance(derivatives, Mapping):
            raise InputError(f"form {self.name!r}: `jacobian` must return a dict of "
                             f"parameter name -> derivative, got {type(derivatives).__name__}")
        missing = [n for n in self.param_names if n not in derivatives]
        if missing:
            raise InputError(f"form {self.name!r}: `jacobian` returned no derivative for {missing}")
        jac = np.empty((shape[0], len(self.param_names), shape[1]))
        for i, name in enumerate(self.param_names):
            column = self._shaped(derivatives[name], shape, f"the derivative for {name!r}")
            # chain rule for a log-stored parameter: df/dlog(p) = p df/dp
            jac[:, i, :] = column * public[:, i:i + 1] if name in self.log_params else column
        return jac

    def value_and_jacobian(self, theta, X):
        """Prediction ``(k, n)`` in linear space and its Jacobian ``(k, p, n)`` with respect
        to the internal parameters ``theta`` ``(k, p)``."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        value = self._values(theta, X)
        if self.jacobian_function is not None:
            jac = self._analytic_jacobian(theta, X, value.shape)
        else:
            jac = self._finite_difference_jacobian(theta, X, value)
        return np.array(value), jac

    def log_value_and_jacobian(self, theta, X):
        """``log f`` ``(k, n)`` and ``J / f`` ``(k, p, n)``; NaN where ``f <= 0``."""
        return log_from_linear(*self.value_and_jacobian(theta, X))

    def predict(self, params, **inputs) -> np.ndarray:
        """The function at public ``params`` (mapping or vector) and broadcast ``inputs``.

        Unlike the built-in forms, inputs may be zero or negative and the
        prediction may be any real number.
        """
        X, shape = self._broadcast_inputs(inputs)
        # public values straight to the function: no exp(log(p)) round trip
        out = np.array(self._public_values(self.params_vector(params)[None, :], X)[0]).reshape(shape)
        return out[()] if out.ndim == 0 else out

    def jacobian_error(self, params, **inputs) -> float:
        r"""Largest disagreement between the analytic Jacobian and finite differences.

        Returns :math:`\max_{j,i} |J^{an}_{ji} - J^{fd}_{ji}| / (|J^{an}_{ji}| + s_j)`,
        with :math:`s_j` the largest magnitude of column ``j``, at public
        ``params`` and ``inputs``: about 1e-6 or less for a correct ``jacobian``.
        """
        if self.jacobian_function is None:
            raise InputError(f"form {self.name!r} has no analytic `jacobian` to check")
        X, _ = self._broadcast_inputs(inputs)
        theta = self.to_internal(self.params_vector(params))[None, :]
        value, analytic = self.value_and_jacobian(theta, X)
        numeric = self._finite_difference_jacobian(theta, X, value)
        scale = np.max(np.abs(analytic), axis=2, keepdims=True) + 1e-300
        return float(np.max(np.abs(analytic - numeric) / (np.abs(analytic) + scale)))

    # -- identity ----------------------------------------------------------
    def config(self) -> dict:
        """Plain-type description (JSON round-trips it unchanged): inputs, each fitted
        parameter's bounds (None = unbounded), starts and log flag, the constants
        and the formula. Loading a fit compares it with the registered form's."""
        return {
            "inputs": list(self.inputs),
            "params": {name: {"bounds": list(d.bounds), "start": list(d.start), "log": d.log}
                       for name, d in self.params.items()},
            "constants": dict(self.constants),
            "formula": self.formula,
        }

    def __eq__(self, other):
        return (type(other) is type(self) and other.name == self.name
                and other.config() == self.config())

    def __hash__(self):
        # the config holds lists, so hash its canonical JSON text
        return hash((self.name, json.dumps(self.config(), sort_keys=True)))

    def __repr__(self):
        return (f"UserForm({self.name!r}, inputs={list(self.inputs)}, "
                f"params={list(self.param_names)}"
                + (f", constants={self.constants}" if self.constants else "")
                + (f", formula={self.formula!r}" if self.formula else "") + ")")


def define_form(name: str, function: Callable, inputs: Sequence[str],
                params: Mapping[str, Param], *, jacobian: Callable | None = None,
                formula: str = "", register: bool = False, overwrite: bool = False) -> UserForm:
    """Declare a scaling law from a Python function of named inputs and parameters.

    Parameters
    ----------
    name : str
        Name used by :func:`~scalinglaws.get_form`, fit files and the CLI
        (stored in lower case, as lookups are case-insensitive).
    function : callable
        ``function(**inputs, **params)``: the prediction. It must broadcast:
        each parameter arrives as a ``(k, 1)`` array (one row per starting
        point) and each input as a ``(1, n)`` array (one column per run), and
        the result must broadcast to ``(k, n)``. Constants (``Param(fixed=)``)
        arrive as floats.
    inputs : sequence of str
        Names of the inputs, e.g. ``("N", "D")``; to fit a table of runs they
        must be its columns (``N``, ``D``, ``C``, ``U``); :meth:`LawFitter.fit_arrays`
        takes any names.
    params : dict of str to Param or to dict
        The parameters, in the order used by the engine and the results. A
        parameter may also be declared by a dict of :class:`Param`'s keywords,
        e.g. ``{"bounds": (0, 2), "start": 0.3}``.
    jacobian : callable, optional
        ``jacobian(**inputs, **params)`` returning ``{param: df/dparam}``
        (public units, shapes broadcasting to ``(k, n)``) for every fitted
        parameter. Without it central finite differences are used (one extra
        call of ``function`` with ``2 p`` times the rows).
    formula : str
        Human-readable formula shown in summaries.
    register : bool, default False
        Also :func:`~scalinglaws.register_form` the form, making it available
        by name.
    overwrite : bool, default False
        With ``register``, replace a different form registered under ``name``.

    Returns
    -------
    UserForm

    Raises
    ------
    InputError
        For a bad name, input or declaration, or a function whose arguments
        are not exactly the inputs and parameters.

    Examples
    --------
    >>> import numpy as np
    >>> form = define_form("demo_power", lambda N, A, alpha: A * N ** -alpha, inputs=("N",),
    ...                    params={"A": Param(bounds=(0, None), start=10.0, log=True),
    ...                            "alpha": Param(bounds=(0, 2), start=0.3)})
    >>> float(form.predict({"A": 10.0, "alpha": 0.5}, N=100.0))
    1.0
    """
    form = UserForm(name, function, inputs, params, jacobian=jacobian, formula=formula)
    if register:
        register_form(form, overwrite=overwrite)
    return form
