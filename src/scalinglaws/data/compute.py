"""Training compute of a table of runs: C = k·N·D, derived or checked.

A table of runs gives two or three of ``N`` (parameters), ``D`` (training tokens) and ``C``
(training compute, FLOP). :func:`derive_compute` fills the one that is missing from
C = k·N·D, where k is ``flops_per_token`` (6 by default: forward and backward pass of a
dense transformer), and :func:`warn_compute_mismatch` warns when all three are given and
disagree by more than :data:`COMPUTE_TOLERANCE`. :func:`check_flops_per_token` validates k.
Used by :mod:`.runs` when a table is loaded; the problems are named by row and line of the
file, as everywhere in the data stage (:mod:`.cells`).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import InputError, ScalingLawsWarning
from .._text import named_list
from .._validation import check_positive
from .cells import _number_text, _row_text, _where

__all__ = ["COMPUTE_TOLERANCE", "check_flops_per_token", "derive_compute",
           "warn_compute_mismatch"]

#: Given N, D and C may disagree with C = k·N·D by up to this factor (either way) without
#: a warning: logged FLOPs that count attention and embeddings run up to about 2x of
#: 6·N·D for small models; a larger gap is a unit or bookkeeping error.
COMPUTE_TOLERANCE = 2.0


def check_flops_per_token(value: Any) -> float:
    """``flops_per_token`` (the k of C = k·N·D) as a finite positive float, or
    :class:`~scalinglaws.InputError` naming it."""
    return check_positive("flops_per_token", value)


def derive_compute(frame: pd.DataFrame, k: float, source: str, lines: np.ndarray | None,
                   rows: np.ndarray) -> tuple[str, ...]:
    """Fill the one missing member of C = k·N·D in ``frame``, in place.

    Parameters
    ----------
    frame : pandas.DataFrame
        The runs, with finite positive float64 columns among ``N``, ``D``, ``C``.
    k : float
        FLOP per parameter per token.
    source : str
        The file (or ``"<DataFrame>"``...) named in messages.
    lines : numpy.ndarray or None
        Line in the file of each source row, or None.
    rows : numpy.ndarray
        Source row of each row of ``frame``.

    Returns
    -------
    tuple of str
        The derived name (``("C",)``, ``("D",)`` or ``("N",)``), or ``()`` when nothing
        could or needed to be derived.

    Raises
    ------
    InputError
        When a derived value over- or underflows float64, naming the first such row.
    """
    have = {name for name in ("N", "D", "C") if name in frame.columns}
    recipes = {
        "D": (("N", "C"), f"C/({k:g}·N)", lambda f: f["C"] / (k * f["N"])),
        "C": (("N", "D"), f"{k:g}·N·D", lambda f: k * f["N"] * f["D"]),
        "N": (("C", "D"), f"C/({k:g}·D)", lambda f: f["C"] / (k * f["D"])),
    }
    for name, (needs, formula, compute) in recipes.items():
        if name in have or not set(needs) <= have:
            continue
        with np.errstate(over="ignore", under="ignore"):
            values = compute(frame).to_numpy(dtype=np.float64)
        broken = np.flatnonzero(~np.isfinite(values) | (values <= 0))
        if broken.size:
            raise InputError(
                f"{_where(source, int(rows[broken[0]]), lines)}: derived {name} = {formula} = "
                f"{_number_text(values[broken[0]])} is not a finite positive number "
                f"({broken.size} such rows): float64 over- or underflows")
        frame[name] = values
        return (name,)
    return ()


def warn_compute_mismatch(frame: pd.DataFrame, k: float, source: str,
                          lines: np.ndarray | None, rows: np.ndarray, *,
                          stacklevel: int = 4) -> None:
    """Warn (:class:`~scalinglaws.ScalingLawsWarning`) when given C and k·N·D differ by
    more than :data:`COMPUTE_TOLERANCE` in any row, naming the first rows and the largest
    gap; ``frame``, ``lines`` and ``rows`` as in :func:`derive_compute`, ``stacklevel`` as
    :func:`warnings.warn` takes it (counted from this function)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        ratio = frame["C"].to_numpy() / (k * frame["N"].to_numpy() * frame["D"].to_numpy())
        gap = np.abs(np.log(ratio))
    off = np.flatnonzero(~(gap <= math.log(COMPUTE_TOLERANCE)))
    if not off.size:
        return
    worst = off[np.argmax(np.nan_to_num(gap[off], nan=np.inf))]
    first = named_list((_row_text(int(rows[i]), lines) for i in off), 3, total=off.size)
    warnings.warn(
        f"{source}: C differs from {k:g}·N·D by more than a factor {COMPUTE_TOLERANCE:g} in "
        f"{off.size} of {len(frame)} rows ({first}; the "
        f"largest gap is C/({k:g}·N·D) = {ratio[worst]:.3g} at "
        f"{_row_text(int(rows[worst]), lines)}). The C column is used as given wherever "
        f"compute is needed, and N and D as given; check the units of C, or set "
        f"flops_per_token if a token costs other than {k:g} FLOP per parameter",
        ScalingLawsWarning, stacklevel=stacklevel)
