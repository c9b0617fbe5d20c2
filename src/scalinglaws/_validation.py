"""The package's one vocabulary of argument checks, and small conversions for JSON.

Every public entry point validates its arguments up front with these checkers, so a bad
argument raises :class:`~scalinglaws.InputError` whose message names it (in backticks, as
the user typed it) and quotes the bad value, before any work is done. The checkers take
the argument's name first: ``check_int("chunk_size", chunk_size, 1)``.

=========================  =============================================================
checker                    accepts
=========================  =============================================================
``check_int``              an integer in a range (bools and floats refused)
``check_positive``         a finite number > 0
``check_nonnegative``      a finite number >= 0
``check_finite``           a finite number, optionally within bounds
``check_bool``             True or False (or None, when allowed)
``check_choice``           one of a few strings
``check_rng``              None, a non-negative integer seed, a SeedSequence, a
                           BitGenerator or a ``numpy.random.Generator``
``check_numbers``          a number or array of numbers (text like ``"7B"`` read with
                           unit suffixes), finite, optionally positive
``broadcast_together``     two arrays of one shape once broadcast
``check_number_mapping``   ``{"E": 1.69}``: names from a known set, finite numbers
``check_bounds``           ``{"E": (1.0, None)}``: (low, high) pairs, None = unbounded
``check_fits_in_memory``   a count of items whose working memory fits in what is free
``check_confidence_level`` a number in (0, 1)
``check_draws``            ``draws=``: None, False (no intervals) or draws; True refused
=========================  =============================================================

:class:`FrozenDict` and :func:`deep_freeze` make the read-only (and picklable) mappings
of frozen results, :func:`readonly_array` and :func:`freeze_array_fields` their arrays.
"""

from __future__ import annotations

import math
import warnings
import numbers
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ._exceptions import InputError, ScalingLawsDeprecationWarning

__all__ = ["check_confidence_level", "check_ratio_bounds", "check_int", "check_positive",
           "check_nonnegative", "check_finite", "check_bool", "check_choice", "check_rng",
           "check_numbers", "check_number_mapping", "check_bounds", "check_fits_in_memory",
           "available_memory", "broadcast_together", "parse_quantity", "to_plain", "FrozenDict",
           "deep_freeze", "readonly_array", "freeze_array_fields"]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# ----------------------------------------------------------------------------- scalars


def check_confidence_level(value: Any) -> float:
    """``value`` as a float in (0, 1), else :class:`InputError` naming ``confidence_level``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InputError(f"`confidence_level` must be a number in (0, 1), got {value!r}")
    if not 0 < float(value) < 1:
        raise InputError(f"`confidence_level` must be in (0, 1), got {value!r}")
    return float(value)


def check_draws(draws):
    """``draws`` as given, after the up-front check of its kind: None (a fit's own
    bootstrap, where it carries one; else no draws), False (no draws, hence no intervals,
    wherever ``draws=`` is taken), or draws (a bootstrap result, a DataFrame, an array).
    True is refused: it names no draws."""
    if isinstance(draws, (bool, np.bool_)) and draws:
        raise InputError("`draws` must be None (the fit's own bootstrap, if any), False (no "
                         "intervals), a bootstrap result or an array (n_draws, n_params) of "
                         "parameter vectors; got True")
    return draws


def given_draws(draws):
    """:func:`check_draws`, then None for False: the draws passed, for the functions and
    branches where None does not mean an attached bootstrap to look up."""
    draws = check_draws(draws)
    return None if isinstance(draws, (bool, np.bool_)) else draws


def check_ratio_bounds(bounds) -> tuple[float, float]:
    """``tokens_per_parameter_bounds`` as ``(low, high)`` with ``0 < low < high < inf``."""
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise InputError("`tokens_per_parameter_bounds` must be a (low, high) pair, "
                         f"got {bounds!r}") from None
    if not (0 < low < high < np.inf):
        raise InputError("`tokens_per_parameter_bounds` must satisfy 0 < low < high < inf, "
                         f"got {bounds!r}")
    return low, high


def check_int(name: str, value: Any, minimum: int = 0, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]`` (bools and floats refused).

    Examples
    --------
    >>> check_int("chunk_size", 64, 1)
    64
    >>> check_int("chunk_size", 2.5, 1)
    Traceback (most recent call last):
    ...
    scalinglaws._exceptions.InputError: `chunk_size` must be an integer >= 1, got 2.5
    """
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral)
            or value < minimum or (maximum is not None and value > maximum)):
        span = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise InputError(f"`{name}` must be an integer {span}, got {_shown(value)}")
    return int(value)


def check_positive(name: str, value: Any) -> float:
    """``value`` as a finite float ``> 0`` (bools refused), else :class:`InputError`."""
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise InputError(f"`{name}` must be a finite positive number, got {_shown(value)}")
    return float(value)


def check_nonnegative(name: str, value: Any) -> float:
    """``value`` as a finite float ``>= 0`` (bools refused), else :class:`InputError`."""
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise InputError(f"`{name}` must be a finite number >= 0, got {_shown(value)}")
    return float(value)


def check_finite(name: str, value: Any, *, minimum: float | None = None,
                 maximum: float | None = None) -> float:
    """``value`` as a finite float in ``[minimum, maximum]`` (bools and text refused).

    Examples
    --------
    >>> check_finite("delta", 1e-3, minimum=0)
    0.001
    >>> check_finite("fixed['E']", "abc")
    Traceback (most recent call last):
    ...
    scalinglaws._exceptions.InputError: `fixed['E']` must be a finite number, got 'abc'
    """
    if not _is_number(value) or not math.isfinite(value):
        raise InputError(f"`{name}` must be a finite number, got {_shown(value)}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "-inf" if minimum is None else f"{minimum:g}"
        high = "inf" if maximum is None else f"{maximum:g}"
        raise InputError(f"`{name}` must be in [{low}, {high}], got {_shown(value)}")
    return float(value)


def check_bool(name: str, value: Any, *, allow_none: bool = False) -> bool | None:
    """``value`` as a bool (Python or numpy), else :class:`InputError` naming ``name``;
    with ``allow_none``, None (an "automatic" choice) is kept."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        allowed = "True, False or None" if allow_none else "True or False"
        raise InputError(f"`{name}` must be {allowed}, got {_shown(value)}")
    return bool(value)


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices`` (strings), else :class:`InputError` listing them."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise InputError(f"`{name}` must be one of {', '.join(map(repr, choices))}, "
                         f"got {_shown(value)}")
    return value


def seed_of(rng: Any) -> int | None:
    """The integer seed ``rng`` is, for a document to record; None for anything else (a
    Generator, None: no seed reproduces it)."""
    return int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None


def check_rng(name: str, value: Any) -> np.random.Generator:
    """``value`` as a :class:`numpy.random.Generator` (scipy's SPEC 7 vocabulary).

    Accepts None (fresh entropy), a non-negative integer seed (or a sequence of them), a
    :class:`numpy.random.SeedSequence`, a :class:`numpy.random.BitGenerator` or a
    Generator (returned as is). Negative seeds, floats, text and the legacy
    ``RandomState`` are refused.

    Examples
    --------
    >>> check_rng("rng", 0).integers(10)
    np.int64(8)
    >>> check_rng("rng", -1)
    Traceback (most recent call last):
    ...
    scalinglaws._exceptions.InputError: `rng` must be None, a non-negative integer seed or a numpy Generator, got -1
    """
    if value is None or isinstance(value, (np.random.SeedSequence, np.random.BitGenerator)):
        return np.random.default_rng(value)
    if isinstance(value, np.random.Generator):
        return value
    seeds = value if isinstance(value, (list, tuple)) and value else [value]
    if all(isinstance(s, numbers.Integral) and not isinstance(s, (bool, np.bool_)) and s >= 0
           for s in seeds):
        return np.random.default_rng([int(s) for s in seeds] if seeds is value else int(value))
    raise InputError(f"`{name}` must be None, a non-negative integer seed or a numpy Generator, "
                     f"got {_shown(value)}")


# ----------------------------------------------------------------------------- numbers

_SCALE = {"k": 3, "m": 6, "b": 9, "g": 9, "t": 12, "p": 15}
_NUMBER = re.compile(
    r"([+-]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([kmbgtp]?)",
    re.IGNORECASE,
)
#: text cells that mean "no value"
MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null", "none"})


def parse_quantity(text: str, *, thousands: bool = True) -> float | None:
    """A number written as text, with an optional unit suffix; None if it is not one.

    ``"70M"``, ``"1.4B"``, ``"2T"``, ``"500k"``, ``"1.5e9"``, ``"3,000,000"``, ``"1.2 G"``;
    suffixes are case-insensitive (k = 1e3, M = 1e6, B = G = 1e9, T = 1e12, P = 1e15;
    ``m`` is million, never milli). Words for a missing value (``""``, ``"nan"``, ``"NA"``,
    ``"null"``...) give NaN; ``"inf"`` gives infinity. ``thousands=False`` refuses
    commas (in a ``;``-separated file a comma may be a decimal mark).

    Examples
    --------
    >>> parse_quantity("1.4B"), parse_quantity("3,000,000"), parse_quantity("big")
    (1400000000.0, 3000000.0, None)
    """
    text = text.strip()
    lowered = text.lower()
    if lowered in MISSING_TEXT:
        return math.nan
    if lowered.lstrip("+-") in ("inf", "infinity"):
        return float(lowered.replace("infinity", "inf"))
    match = _NUMBER.fullmatch(text)
    if match is None or (not thousands and "," in text):
        return None
    mantissa, suffix = match.group(1).replace(",", ""), match.group(2).lower()
    try:
        if not suffix:
            return float(mantissa)
        if "e" in mantissa.lower():
            return float(mantissa) * 10.0 ** _SCALE[suffix]
        # Writing the exponent into the text keeps "1.4B" exactly float("1.4e9").
        return float(f"{mantissa}e{_SCALE[suffix]}")
    except OverflowError:  # pragma: no cover - float() of text gives inf instead
        return math.inf


def check_numbers(name: str, value: Any, *, positive: bool = False,
                  allow_zero: bool = False) -> np.ndarray:
    """``value`` (a number, text such as ``"7B"``, or an array of them) as a float array.

    Every element must be finite; with ``positive`` also > 0 (or >= 0 with
    ``allow_zero``). A 0-d array is returned for a scalar.

    Examples
    --------
    >>> check_numbers("N", ["70M", 7e9], positive=True)
    array([7.e+07, 7.e+09])
    >>> check_numbers("N", "big")
    Traceback (most recent call last):
    ...
    scalinglaws._exceptions.InputError: `N` must be a number or an array of numbers, got 'big'
    """
    wrong = InputError(f"`{name}` must be a number or an array of numbers, got {_shown(value)}")
    if value is None or isinstance(value, (bool, np.bool_, bytes, Mapping)):
        raise wrong
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # ragged nesting
        raise wrong from None
    if array.dtype.kind in "iuf":
        array = array.astype(float)
    elif array.dtype.kind in "UO":  # text cells, or a mix: element by element
        parsed = []
        for element in array.ravel().tolist():
            number = (parse_quantity(element) if isinstance(element, str)
                      else float(element) if _is_number(element) else None)
            if number is None:
                raise wrong
            parsed.append(number)
        array = np.array(parsed, dtype=float).reshape(array.shape)
    else:  # booleans, complex numbers, bytes, dates
        raise wrong
    if array.size == 0:
        raise InputError(f"`{name}` must not be empty")
    if not np.all(np.isfinite(array)):
        raise InputError(f"`{name}` must be finite, got {_shown(value)}")
    if positive and (np.any(array < 0) if allow_zero else np.any(array <= 0)):
        raise InputError(f"`{name}` must be {'non-negative' if allow_zero else 'positive'}, "
                         f"got {_shown(value)}")
    return array


def broadcast_together(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray):
    """``a`` and ``b`` broadcast to one shape, else :class:`InputError` naming both
    arguments with their shapes."""
    try:
        return np.broadcast_arrays(a, b)
    except ValueError:
        raise InputError(f"`{name_a}` {np.shape(a)} and `{name_b}` {np.shape(b)} do not "
                         "broadcast") from None


def check_number_mapping(name: str, value: Any, *, keys: Iterable[str] | None = None,
                         positive: Iterable[str] = ()) -> dict[str, float]:
    """``{key: number}`` with keys from ``keys`` and finite values (> 0 for ``positive``).

    For ``fixed={"E": 1.69}``-style arguments; None gives ``{}``.

    Examples
    --------
    >>> check_number_mapping("fixed", {"E": "abc"}, keys=("E", "A"))
    Traceback (most recent call last):
    ...
    scalinglaws._exceptions.InputError: `fixed['E']` must be a finite number, got 'abc'
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"`{name}` must be a dict of names to numbers, got {_shown(value)}")
    _check_keys(name, value, keys)
    positive = set(positive)
    out = {}
    for key, number in value.items():
        out[key] = check_finite(f"{name}[{key!r}]", number)
        if key in positive and out[key] <= 0:
            raise InputError(f"`{name}[{key!r}]` must be positive, got {_shown(number)}")
    return out


def check_bounds(name: str, value: Any, *, keys: Iterable[str] | None = None,
                 positive: Iterable[str] = ()) -> dict[str, tuple[float | None, float | None]]:
    """``{key: (low, high)}`` with None for an open side, numbers finite, ``low < high``.

    A given side of a key in ``positive`` must be > 0 (a parameter stored as its log).

    Examples
    --------
    >>> check_bounds("bounds", {"E": (1.0, None)}, keys=("E",))
    {'E': (1.0, None)}
    >>> check_bounds("bounds", {"E": ("abc", 2)})
    Traceback (most recent call last):
    ...
    scalinglaws._exceptions.InputError: `bounds['E']` low must be a finite number or None, got 'abc'
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"`{name}` must be a dict of names to (low, high) pairs, "
                         f"got {_shown(value)}")
    _check_keys(name, value, keys)
    positive = set(positive)
    out = {}
    for key, pair in value.items():
        if isinstance(pair, (str, bytes, Mapping)) or not hasattr(pair, "__len__") \
                or len(pair) != 2:
            raise InputError(f"`{name}[{key!r}]` must be a (low, high) pair, got {_shown(pair)}")
        sides = []
        for side, bound in zip(("low", "high"), pair):
            if bound is not None and (not _is_number(bound) or not math.isfinite(bound)):
                raise InputError(f"`{name}[{key!r}]` {side} must be a finite number or None, "
                                 f"got {_shown(bound)}")
            if bound is not None and key in positive and bound <= 0:
                raise InputError(f"`{name}[{key!r}]` {side} must be > 0, got {_shown(bound)}")
            sides.append(None if bound is None else float(bound))
        if None not in sides and sides[0] >= sides[1]:
            raise InputError(f"`{name}[{key!r}]` = {_shown(pair)} is empty (low >= high)")
        out[key] = (sides[0], sides[1])
    return out


def _check_keys(name: str, value: Mapping, keys: Iterable[str] | None) -> None:
    if keys is None:
        return
    keys = tuple(keys)
    unknown = [key for key in value if key not in keys]
    if unknown:
        raise InputError(f"`{name}` names unknown {'key' if len(unknown) == 1 else 'keys'} "
                         f"{', '.join(map(repr, unknown))}; known: {', '.join(keys)}")


# ----------------------------------------------------------------------------- memory


def available_memory() -> int | None:
    """Bytes of memory this process can still use (MemAvailable, capped by a cgroup limit);
    None when the platform does not say."""
    available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if available is None and hasattr(os, "sysconf"):
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            pass
    try:  # a container's limit (cgroup v2) can be far below the machine's memory
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as handle:
            limit = handle.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as handle:
            used = int(handle.read().strip())
        if limit != "max":
            room = max(int(limit) - used, 0)
            available = room if available is None else min(available, room)
    except (OSError, ValueError):
        pass
    return available


def _size(n_bytes: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} bytes"


def check_fits_in_memory(count: int, bytes_each: float, *, what: str = "runs",
                         task: str = "this", advice: str = "", where: str = "",
                         available: int | None = None) -> None:
    """Refuse ``count`` items needing ``bytes_each`` each when that exceeds free memory.

    The message says how many items fit and what to do, e.g. ``"runs.csv: 1,000,000
    runs need about 33.5 GiB of memory to fit, and about 6 GiB is available: at most
    about 180,000 runs fit. <advice>"``. Nothing is checked when the platform does not
    report its free memory.
    """
    available = available_memory() if available is None else available
    need = float(count) * float(bytes_each)
    if available is None or need <= available:
        return
    fit = int(available // bytes_each) if bytes_each > 0 else count
    prefix = f"{where}: " if where else ""
    raise InputError(f"{prefix}{count:,} {what} need about {_size(need)} of memory for {task}, "
                     f"and about {_size(available)} is available: at most about {fit:,} "
                     f"{what} fit." + (f" {advice}" if advice else ""))


# ----------------------------------------------------------------------------- JSON


def to_plain(value: Any) -> Any:
    """Numpy/pandas values to JSON-safe plain types; non-finite floats become None."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "tolist"):
        return to_plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class FrozenDict(dict):
    """A ``dict`` that refuses changes: the mappings inside frozen results.

    It is a real ``dict`` (JSON, ``dict(...)``, ``{**m}`` and pickling work) whose
    mutating methods raise ``TypeError``, so ``result.params["E"] = 0`` cannot change
    what a frozen result predicts.
    """

    __slots__ = ()

    def _read_only(self, *args, **kwargs):
        raise TypeError("this mapping belongs to a frozen result and cannot be changed; "
                        "copy it with dict(...) first")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    def __reduce__(self):
        return (FrozenDict, (dict(self),))


def as_names(value: Any, message: str) -> tuple:
    """One name or an iterable of names as a tuple; otherwise an InputError reading
    ``"{message}, got {value!r}"``."""
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise InputError(f"{message}, got {value!r}") from None


def readonly_array(value: Any, dtype: Any = float) -> np.ndarray:
    """A read-only copy of ``value`` as an array of ``dtype`` (None: the input's own): the
    arrays of frozen results."""
    array = np.array(value, dtype=dtype)
    array.flags.writeable = False
    return array


def freeze_array_fields(result: Any, names: Iterable[str]) -> None:
    """Replace the fields ``names`` of a frozen dataclass by read-only float copies
    (:func:`readonly_array`); called from its ``__post_init__``."""
    for name in names:
        object.__setattr__(result, name, readonly_array(getattr(result, name)))


def _lock_arrays(value: Any) -> None:
    """Make every array inside ``value`` (through mappings, lists and tuples) read-only."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, Mapping):
        for item in value.values():
            _lock_arrays(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _lock_arrays(item)


class FrozenOnUnpickle:
    """Mixin for frozen result dataclasses: unpickling keeps their arrays read-only.

    numpy rebuilds a pickled array writeable, and unpickling fills a dataclass without
    running ``__post_init__``, so a result sent to a worker process or read back from a
    cache would come back with arrays one could change in place. This ``__setstate__``
    locks them again (the mappings are :class:`FrozenDict`, which pickles as itself).
    """

    __slots__ = ()

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            _lock_arrays(value)
            object.__setattr__(self, name, value)


def deep_freeze(value: Any) -> Any:
    """``value`` with every dict made a :class:`FrozenDict`, every list a tuple and every
    array a read-only copy, recursively."""
    if isinstance(value, Mapping):
        return FrozenDict({k: deep_freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(deep_freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        return readonly_array(value, dtype=None)
    return value


def renamed_argument(old: str, new: str, old_value: Any, new_value: Any, default: Any = None):
    """The value of an argument that was renamed from ``old`` to ``new``.

    ``new`` wins; a value given under ``old`` still works with a
    :class:`~scalinglaws.ScalingLawsDeprecationWarning`; both at once is an error.
    """
    if old_value is None:
        return default if new_value is None else new_value
    if new_value is not None:
        raise InputError(f"give `{new}`, not also its former name `{old}`")
    warnings.warn(f"`{old}` is now `{new}`; the old name will be removed",
                  ScalingLawsDeprecationWarning, stacklevel=3)
    return old_value
