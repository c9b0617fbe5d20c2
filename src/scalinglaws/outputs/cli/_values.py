"""Value types of the command line's flags (argparse ``type=`` functions: numbers with unit
suffixes, counts, probabilities) and ``NAME=VALUE`` lists; split from :mod:`._common` so
that :mod:`._runs` uses them without importing it back."""

from __future__ import annotations

import argparse
import math

from ..._exceptions import InputError

__all__ = ["quantity", "nonnegative_quantity", "positive_float", "positive_int",
           "nonnegative_int", "probability", "fraction", "key_values"]


def _type(function, metavar_text: str):
    """An argparse ``type=`` from a checker; its message is printed after the flag name."""
    def convert(text):
        try:
            return function(text)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = metavar_text
    return convert


def _parse_number(text: str) -> float:
    # One parser of numbers-with-suffix for CSV cells and flags (runs.py owns it).
    from ...data.runs import _parse_cell

    value = _parse_cell(text)
    if value is None or math.isnan(value):
        raise ValueError(f"{text!r} is not a number (digits, optionally with a k/M/B/T/P "
                         "suffix: 7B, 1.4T, 1e24)")
    return value


def _quantity(text: str, allow_zero: bool = False) -> float:
    value = _parse_number(text)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        kind = "number >= 0" if allow_zero else "positive number"
        raise ValueError(f"{text!r} must be a finite {kind}")
    return value


def _positive_float(text: str) -> float:
    return _quantity(text)


def _int(text: str, minimum: int) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if not value.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    if value < minimum:
        raise ValueError(f"{text!r} must be at least {minimum}")
    return int(value)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise ValueError(f"{text!r} must be strictly between 0 and 1 (e.g. 0.95)")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise ValueError(f"{text!r} must be at least 0 and below 1 (e.g. 0.1)")
    return value


#: ``type=`` of a list flag of positive numbers with unit suffixes (``7B``, ``1e24``)
quantity = _type(_quantity, "quantity")
#: ``type=`` of a list flag of numbers >= 0 (a task loss)
nonnegative_quantity = _type(lambda text: _quantity(text, allow_zero=True), "number >= 0")
#: ``type=`` of a positive number (unit suffixes allowed)
positive_float = _type(_positive_float, "positive number")
#: ``type=`` of an integer >= 1
positive_int = _type(lambda text: _int(text, 1), "integer >= 1")
#: ``type=`` of an integer >= 0
nonnegative_int = _type(lambda text: _int(text, 0), "integer >= 0")
#: ``type=`` of a number strictly between 0 and 1
probability = _type(_probability, "number in (0, 1)")
#: ``type=`` of a share from 0 up to, not including, 1 (of checkpoints to drop)
fraction = _type(_fraction, "number in [0, 1)")
def key_values(items, arg, convert=float) -> dict:
    """``["a=1,b=2", "c=3"]`` -> ``{"a": 1.0, "b": 2.0, "c": 3.0}``; ``arg`` names the flag.
    A value ``convert`` refuses is named with its message (``'0' must be a finite positive
    number``), or, for ``float``, as no number."""
    out, raw = {}, {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise InputError(f"{arg} expects NAME=VALUE pairs, got {part!r}")
            key, value = (s.strip() for s in part.split("=", 1))
            if key in out:  # the last would win without a word
                raise InputError(f"{arg} gives {key} twice ({key}={raw[key]} and "
                                 f"{key}={value}); give it once")
            raw[key] = value
            try:
                out[key] = convert(value)
            except ValueError as exc:  # a checker of this module says what is wrong
                what = f"{value!r} is not a number" if convert is float else str(exc)
                raise InputError(f"{arg}: {what} (in {part!r})") from None
    return out
