"""The frozen :class:`Prediction` of a law's loss, with its interval, and the mixin it shares
with the analysis results (``to_dict``, ``to_frame``, ``bounds``, deep freezing).

It lives at the uncertainty stage, below the analysis that made it first, because the
uncertainty stage returns it too (:meth:`BootstrapResult.predict
<scalinglaws.uncertainty.bootstrap_result.BootstrapResult.predict>`) and a stage may not
import a later one; ``scalinglaws.analysis.results`` re-exports it, so the old import path
and pickles made under it still work.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .._exceptions import InputError
from .._validation import FrozenOnUnpickle, deep_freeze
from .._validation import to_plain as _plain

__all__ = ["Estimate", "Interval", "IntervalKind", "Prediction", "describe_interval"]


class _ResultMixin(FrozenOnUnpickle):
    """``to_dict``, ``to_frame`` and ``interval`` shared by the result dataclasses.

    Subclasses list their per-element fields in ``_ELEMENT_FIELDS``; those become the
    columns of :meth:`to_frame`, followed by ``<name>_low`` / ``<name>_high``.
    Every result is deeply frozen: its arrays are read-only copies and its mappings
    (``intervals``, ``inputs``) are :class:`~scalinglaws._validation.FrozenDict`, so
    ``result.intervals["x"] = ...`` or ``result.N[0] = ...`` cannot change what it says
    (and stays so through pickling, :class:`~scalinglaws._validation.FrozenOnUnpickle`).
    """

    __slots__ = ()

    def __post_init__(self):
        # deeply frozen like FitResult: scalars stay as they are, arrays become read-only
        # copies (their dtype kept: bool flags, str verdicts), dicts FrozenDicts, lists tuples
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, deep_freeze(getattr(self, f.name)))

    _ELEMENT_FIELDS: tuple = ()
    #: former field names (before the one N, D, C vocabulary) -> current ones
    _FORMER_NAMES = {
        "n_params": "N", "n_tokens": "D", "compute": "C",
        "tokens_per_param": "tokens_per_parameter", "n_params_asymptote": "N_asymptote",
        "optimal_n_params": "optimal_N", "optimal_n_tokens": "optimal_D",
        "optimal_compute": "optimal_C", "optimal_compute_for_n_params": "optimal_C_for_N",
        "optimal_tokens_for_n_params": "optimal_D_for_N",
        "compute_for_same_loss": "C_for_same_loss", "n_params_for_same_loss": "N_for_same_loss",
        "n_tokens_for_same_loss": "D_for_same_loss", "chinchilla_n_params": "chinchilla_N",
        "chinchilla_n_tokens": "chinchilla_D",
    }

    def __getattr__(self, name: str):
        current = type(self)._FORMER_NAMES.get(name)
        if current is None or current not in {f.name for f in dataclasses.fields(self)}:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        warnings.warn(f"`{name}` is now `{current}` (one vocabulary: N, D, C); the old name "
                      "will be removed", FutureWarning, stacklevel=2)
        return getattr(self, current)

    def bounds(self, name: str):
        """``(low, high)`` percentile interval of quantity ``name`` (needs draws).

        The same as ``interval(name)``, under a name that every result has:
        :class:`Prediction` keeps ``interval`` for the interval's kind.
        """
        if not isinstance(name, str):
            raise InputError(f"`name` must be the name of a quantity, got {name!r}")
        name = type(self)._FORMER_NAMES.get(name, name) if name not in self.intervals else name
        if name not in self.intervals:
            raise InputError(f"no interval for {name!r}: pass `draws` to get intervals"
                             if not self.intervals else
                             f"no interval for {name!r}; available: {', '.join(self.intervals)}")
        return self.intervals[name]

    def interval(self, name: str):
        """``(low, high)`` percentile interval of quantity ``name`` (needs draws); see
        :meth:`bounds`."""
        return self.bounds(name)

    def to_dict(self) -> dict:
        """Every field as plain types (lists, floats, None for non-finite), for ``--json``."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "intervals":
                value = {k: {"low": lo, "high": hi} for k, (lo, hi) in value.items()}
            out[f.name] = value
        return _plain(out)

    def to_frame(self):
        """One row per element: the per-element quantities and their interval bounds."""
        import pandas as pd

        columns = {name: getattr(self, name) for name in self._ELEMENT_FIELDS}
        for name, (low, high) in self.intervals.items():
            columns[f"{name}_low"], columns[f"{name}_high"] = low, high
        arrays = np.broadcast_arrays(*(np.asarray(v) for v in columns.values()))
        frame = pd.DataFrame({k: a.ravel() for k, a in zip(columns, arrays)})
        if self.intervals:
            # the kind and the method, as a prediction's table says them; a result that
            # says how its intervals were made (an allocation from a restricted fit) says
            # so in the method
            frame.attrs.update(interval="confidence",
                               method=getattr(self, "interval_method", "")
                               or "bootstrap percentile",
                               confidence_level=self.confidence_level,
                               n_draws=self.n_draws, n_failed_draws=self.n_failed_draws)
        if getattr(self, "flops_per_token", None) is not None:
            # k in C = k N D: the document's C and N, D can be checked against each other
            frame.attrs["flops_per_token"] = float(self.flops_per_token)
        return frame


_INTERVAL_FIELDS_DOC = """intervals : dict
        ``{quantity: (low, high)}`` percentile intervals over the draws (empty without draws).
    confidence_level : float
        Coverage of the intervals.
    n_draws, n_failed_draws : int
        Draws used, and draws for which some quantity was not finite (ignored)."""


class IntervalKind(str):
    """The kind of a :class:`Prediction`'s interval, ``"confidence"`` or ``"prediction"``.

    A plain string in every way (equality, hashing, JSON, ``repr``), except that calling
    it, as one calls ``interval(name)`` on the other results, raises a ``TypeError`` that
    says where the bounds are instead of Python's "'str' object is not callable".
    """

    __slots__ = ()

    def __call__(self, *args, **kwargs):
        raise TypeError(f"Prediction.interval is the kind of the interval ({str(self)!r}), "
                        "not a method: its bounds are prediction.bounds('loss'), or "
                        "prediction.low and prediction.high")


@dataclass(frozen=True, eq=False)
class Prediction(_ResultMixin):
    """Predicted loss at broadcast inputs (see :func:`predict`).

    Attributes
    ----------
    inputs : dict
        The broadcast inputs by name (``N``, ``D``...).
    loss : float or ndarray
        Predicted loss at the point estimate.
    low, high : float or ndarray or None
        The interval of the kind asked for (``interval``); None without one.
        ``bounds()`` returns the same pair and raises an ``InputError`` without one.
    interval : {"confidence", "prediction"} or None
        Kind of ``low``/``high``: a confidence interval is where the law (the mean loss
        at those inputs) is; a prediction interval is where one new run will land.
        Here ``interval`` is this string (an :class:`IntervalKind`), not the
        ``interval(name)`` method of the other results: use ``bounds("loss")`` (or
        ``low``, ``high``) for the bounds; ``p.interval("loss")`` raises a ``TypeError``
        saying so.
    confidence_low, confidence_high, prediction_low, prediction_high : ndarray or None
        Both kinds when available (prediction intervals need a
        :class:`~scalinglaws.uncertainty.calibrated.CalibratedFit`).
    extrapolation_factor : ndarray or None
        ``x / x_max`` along the calibration axis (below 1 inside the fitted range).
    beyond_calibration : ndarray of bool or None
        Prediction intervals that lie beyond the largest extrapolation the rollout
        measured (an :class:`~scalinglaws.ExtrapolationWarning` was emitted).
    method : str
        How the interval in ``low``/``high`` was made (of the kind in ``interval``).
    confidence_method, prediction_method : str
        How each kind of interval was made, when there is one (else ``""``): the
        confidence interval's ``"bootstrap percentile"`` or ``"delta method"`` (``+ tie
        bias`` ... for a tied or fixed fit), the prediction interval's ``"t"`` or ``"t
        inside the fitted range, conformal beyond"``. ``method`` is the one of them that
        ``low``/``high`` hold; ``to_frame().attrs`` says both.
    """

    inputs: dict
    loss: Any
    low: Any = None
    high: Any = None
    intervals: dict = field(default_factory=dict)
    confidence_level: float = 0.95
    n_draws: int = 0
    n_failed_draws: int = 0
    interval: str | None = None
    confidence_low: Any = None
    confidence_high: Any = None
    prediction_low: Any = None
    prediction_high: Any = None
    extrapolation_factor: Any = None
    beyond_calibration: Any = None
    method: str = ""
    confidence_method: str = ""
    prediction_method: str = ""

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.interval, str):
            object.__setattr__(self, "interval", IntervalKind(self.interval))
            # the method of the kind held, said under that kind's name too
            own = f"{self.interval}_method"
            if own in ("confidence_method", "prediction_method") and not getattr(self, own):
                object.__setattr__(self, own, self.method)

    def bounds(self, name: str = "loss"):
        """``(low, high)`` of the predicted loss, of the kind in ``interval``.

        Examples
        --------
        >>> import numpy as np
        >>> from scalinglaws import FitResult, predict
        >>> law = FitResult.from_params("chinchilla", dict(E=1.69, A=406.4, B=410.7,
        ...                                                alpha=0.34, beta=0.28))
        >>> draws = law.form.params_vector(law.params) * np.array([[1.0], [0.99], [1.01]])
        >>> p = predict(law, N=70e9, D=1.4e12, draws=draws)
        >>> p.interval, p.bounds() == (p.low, p.high)
        ('confidence', True)
        """
        return super().bounds(name)

    def to_dict(self) -> dict:
        """Every field as plain types (``interval`` a plain ``str``)."""
        out = super().to_dict()
        if self.interval is not None:
            out["interval"] = str(self.interval)  # plain types only
        return out

    def to_frame(self):
        import pandas as pd

        columns = dict(self.inputs, loss=self.loss)
        for name in ("confidence_low", "confidence_high", "prediction_low", "prediction_high",
                     "extrapolation_factor", "beyond_calibration"):
            if getattr(self, name) is not None:
                columns[name] = getattr(self, name)
        arrays = np.broadcast_arrays(*(np.asarray(v) for v in columns.values()))
        frame = pd.DataFrame({k: a.ravel() for k, a in zip(columns, arrays)})
        if self.interval is not None:
            frame.attrs.update(interval=str(self.interval), method=self.method,
                               confidence_level=self.confidence_level,
                               n_draws=self.n_draws, n_failed_draws=self.n_failed_draws)
            # each kind's method, for the columns of both kinds
            frame.attrs.update({name: getattr(self, name) for name in
                                ("confidence_method", "prediction_method")
                                if getattr(self, name)})
        return frame


Prediction.__doc__ = Prediction.__doc__.rstrip() + "\n    " + _INTERVAL_FIELDS_DOC + "\n    "


# -- described intervals: tuples that say what they are ------------------------------------
def describe_interval(confidence_level=None, method: str | None = None,
                      kind: str | None = "confidence") -> str:
    """What an interval is, in words: ``"95% bootstrap percentile confidence interval"``
    (the parts that are None or empty are left out).

    Examples
    --------
    >>> describe_interval(0.9, "bootstrap BCa", "confidence")
    '90% bootstrap BCa confidence interval'
    >>> describe_interval(None, None, "prediction")
    'prediction interval'
    """
    words = [confidence_level and f"{100 * confidence_level:g}%", method, kind, "interval"]
    return " ".join(str(word) for word in words if word)


def _frozen_value(value):
    """A float stays a float; an array (a statistic over several points) becomes a read-only
    float copy, so a described interval cannot be changed in place."""
    if isinstance(value, np.ndarray) and value.ndim:
        array = np.array(value, dtype=float)
        array.flags.writeable = False
        return array
    return value


def _restore(cls, values, confidence_level, method, kind):
    """Unpickle a described interval (its description is not part of the tuple)."""
    return cls(*values, confidence_level=confidence_level, method=method, kind=kind)


class _Described:
    """What :class:`Estimate` and :class:`Interval` add to the tuple they are: the read-only
    ``confidence_level``, ``method`` and ``kind`` of the interval, a ``repr`` that names
    them, ``describe()`` and ``to_dict()``. Tuple subclasses cannot have ``__slots__``, so
    the description sits in the instance ``__dict__``, written once in ``__new__``;
    ``__setattr__`` refuses changes."""

    def _describe_as(self, confidence_level, method, kind):
        if confidence_level is not None:
            confidence_level = float(confidence_level)
        object.__setattr__(self, "_description", (confidence_level, method or "", kind))
        return self

    @property
    def confidence_level(self) -> float | None:
        """The interval's coverage (``0.95``); None when not known."""
        return self._description[0]

    @property
    def method(self) -> str:
        """How the interval was made (``"bootstrap percentile"``, ``"bootstrap BCa"``...)."""
        return self._description[1]

    @property
    def kind(self) -> str | None:
        """``"confidence"`` (where the quantity of the law is, from parameter uncertainty)
        or ``"prediction"`` (where one new run will land)."""
        return self._description[2]

    def describe(self) -> str:
        """``"95% bootstrap percentile confidence interval"``."""
        return describe_interval(*self._description)

    def to_dict(self) -> dict:
        """The fields and the description as plain types (arrays as lists, non-finite
        numbers as None)."""
        return _plain({**self._asdict(), "confidence_level": self.confidence_level,
                       "method": self.method, "kind": self.kind})

    # namedtuple's _make and _replace build the tuple without __new__: go through it
    @classmethod
    def _make(cls, iterable):
        return cls(*iterable)

    def _replace(self, **changes):
        return type(self)(**{**self._asdict(), **changes}, confidence_level=self.confidence_level,
                          method=self.method, kind=self.kind)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only (a frozen result's "
                             f"interval); cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is read-only; cannot delete {name!r}")

    def __reduce__(self):
        return (_restore, (type(self), tuple(self), *self._description))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._asdict().items())
        return f"{type(self).__name__}({fields}; {self.describe()})"


class _EstimateFields(NamedTuple):
    estimate: Any
    low: Any
    high: Any


class _IntervalFields(NamedTuple):
    low: Any
    high: Any


class Estimate(_Described, _EstimateFields):
    """An estimate and its interval, ``(estimate, low, high)``, that says what the interval
    is.

    A tuple in every way: it unpacks (``estimate, low, high = boot.interval("E")``),
    indexes, slices, compares and hashes as the plain tuple ``(estimate, low, high)``, and
    is a list in JSON. It adds the read-only ``confidence_level``, ``method`` (how the
    interval was made: ``"bootstrap percentile"``) and ``kind`` (``"confidence"``),
    :meth:`bounds` (the :class:`Interval` ``(low, high)``), :meth:`describe`,
    :meth:`to_dict` and a ``repr`` that names the interval. The fields are floats, or
    read-only arrays for a statistic over several points.

    Examples
    --------
    >>> e = Estimate(0.46, 0.44, 0.48, confidence_level=0.95, method="bootstrap percentile")
    >>> e
    Estimate(estimate=0.46, low=0.44, high=0.48; 95% bootstrap percentile confidence interval)
    >>> estimate, low, high = e
    >>> e == (0.46, 0.44, 0.48), e[1:], e.low, e.kind
    (True, (0.44, 0.48), 0.44, 'confidence')
    >>> e.bounds()
    Interval(low=0.44, high=0.48; 95% bootstrap percentile confidence interval)
    """

    def __new__(cls, estimate, low, high, *, confidence_level=None, method: str = "",
                kind: str | None = "confidence"):
        self = super().__new__(cls, _frozen_value(estimate), _frozen_value(low),
                               _frozen_value(high))
        return self._describe_as(confidence_level, method, kind)

    def bounds(self) -> Interval:
        """``(low, high)`` as an :class:`Interval` with the same description."""
        return Interval(self.low, self.high, confidence_level=self.confidence_level,
                        method=self.method, kind=self.kind)


class Interval(_Described, _IntervalFields):
    """The bounds of an interval, ``(low, high)``, that say what the interval is.

    The two-element sibling of :class:`Estimate` (a mapping ``{name: (low, high)}`` such as
    ``BootstrapResult.intervals`` holds these): a tuple in every way, with the read-only
    ``confidence_level``, ``method`` and ``kind``, :meth:`describe`, :meth:`to_dict` and a
    ``repr`` that names the interval.

    Examples
    --------
    >>> i = Interval(0.44, 0.48, confidence_level=0.9, method="bootstrap basic")
    >>> low, high = i
    >>> i == (0.44, 0.48), i.describe()
    (True, '90% bootstrap basic confidence interval')
    """

    def __new__(cls, low, high, *, confidence_level=None, method: str = "",
                kind: str | None = "confidence"):
        self = super().__new__(cls, _frozen_value(low), _frozen_value(high))
        return self._describe_as(confidence_level, method, kind)
