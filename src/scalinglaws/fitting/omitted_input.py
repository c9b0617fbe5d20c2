"""A law of one of N and D fitted to runs where the other one varies and matters.

Kaplan et al.'s L(N) (``kaplan_n``, ``kaplan_n_offset``) describes models trained until
data is no bottleneck (early-stopped on a large set), and L(D) (``kaplan_d``,
``kaplan_d_offset``) models large enough that size is none. Fitted to an IsoFLOP sweep,
where D runs against N over three decades, either fits a line through runs that differ
in the quantity it leaves out, and nothing said so: the audit's ``fit runs.csv --form
kaplan_n`` on ``datasets/synthetic_chinchilla_sweep.csv`` (D spanning 2,240x) gave
alpha_N = 0.035, a tenth of the sweep's own 0.34, without a word. The sign is in the
residuals: they follow the omitted quantity (correlation 0.88 with log D there).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._exceptions import ScalingLawsWarning, user_stacklevel
from .._text import named_list

__all__ = ["OMITTED_SPAN", "OMITTED_CORRELATION", "warn_omitted_input",
           "warn_omitted_input_groups"]

#: The omitted quantity matters only when the runs spread it: more than this factor
#: between its smallest and largest value (a sweep "at one D" logs D within a few percent)
OMITTED_SPAN = 10.0
#: ...and when the residuals follow its logarithm: a correlation at least this strong
#: (in size) and at least 3 standard errors from 0 (t = r sqrt(n - 2) / sqrt(1 - r^2)), so
#: that noise over a handful of runs does not warn. An IsoFLOP sweep fitted with L(N) gives
#: 0.88 (datasets/synthetic_chinchilla_sweep.csv, 108 runs); the same runs at one D, 0.
OMITTED_CORRELATION = 0.5

#: the other quantity of each one-input law of N or D, and what the law assumes of it
_OMITTED = {"N": ("D", "training tokens D are no bottleneck (every model trained until more "
                       "data would not help, or all on one D)"),
            "D": ("N", "model size N is no bottleneck (one model size, or models large "
                       "enough that size does not limit the loss)")}


def _follows_omitted(result, values) -> tuple[float, float] | None:
    """``(span, correlation)`` when ``values`` of the quantity ``result``'s law leaves out
    span more than :data:`OMITTED_SPAN` and its residuals follow their logarithm
    (:data:`OMITTED_CORRELATION`, and 3 standard errors from 0); else None."""
    residuals = getattr(result, "residuals", None)
    if residuals is None or len(values) < 5:
        return None
    residuals = np.asarray(residuals, dtype=float)
    span = float(values.max() / values.min())
    if span <= OMITTED_SPAN or residuals.shape != values.shape or np.ptp(residuals) == 0:
        return None
    r = float(np.corrcoef(np.log(values), residuals)[0, 1])
    t = abs(r) * math.sqrt(len(values) - 2) / math.sqrt(max(1.0 - r * r, 1e-12))
    return (span, r) if abs(r) >= OMITTED_CORRELATION and t >= 3.0 else None


def _omitted(form, runs):
    """``(input, other, assumption, other's values)`` of a law of N alone or D alone on
    runs that log the other quantity; else None."""
    inputs = tuple(form.inputs)
    if len(inputs) != 1 or inputs[0] not in _OMITTED:
        return None
    other, assumption = _OMITTED[inputs[0]]
    if not runs.has(other):
        return None
    return inputs[0], other, assumption, runs.inputs((other,))[other]


def _advice(law_input, other, assumption) -> tuple[str, str]:
    """What the law assumes, and what to fit instead."""
    keep = ("the runs of one D (or each size's lowest loss)" if other == "D"
            else "the runs of one N")
    return (f"is a law of {law_input} alone, which assumes {assumption}",
            f"the fit mixes the effect of {other} into its {law_input} exponent. Fit "
            f"chinchilla or kaplan_nd (a law of N and D), or keep {keep}")


def warn_omitted_input(result, runs) -> None:
    """Warn (:class:`~scalinglaws.ScalingLawsWarning`) when ``result``, a law of N alone or
    of D alone, was fitted to ``runs`` whose other quantity spans more than
    :data:`OMITTED_SPAN` and whose residuals follow its logarithm
    (:data:`OMITTED_CORRELATION`): the law's assumption does not hold on these runs."""
    found = _omitted(result.form, runs)
    if found is None:
        return
    law_input, other, assumption, values = found
    follows = _follows_omitted(result, values)
    if follows is None:
        return
    span, r = follows
    law, advice = _advice(law_input, other, assumption)
    warnings.warn(f"{runs.source}: form {result.form.name!r} {law}; but {other} spans "
                  f"{span:.3g}x here ({values.min():.3g} to {values.max():.3g}) and the "
                  f"residuals follow log {other} (correlation {r:.2f}): {advice}",
                  ScalingLawsWarning, stacklevel=user_stacklevel())


def warn_omitted_input_groups(results: dict, runs, rows: dict, column: str, *,
                              shown: int = 5) -> None:
    """:func:`warn_omitted_input` for a grouped fit: ``results`` maps each group to its
    FitResult and ``rows`` to the positions of its runs in ``runs``. One warning names
    the groups whose residuals follow the omitted quantity."""
    if not results:
        return
    form = next(iter(results.values())).form  # one law for every group
    found = _omitted(form, runs)
    if found is None:
        return
    law_input, other, assumption, values = found
    hits = {key: follows for key, res in results.items()
            if (follows := _follows_omitted(res, values[np.asarray(rows[key])])) is not None}
    if not hits:
        return
    named = named_list([f"{key!r} ({other} spans {span:.3g}x, correlation {r:.2f})"
                        for key, (span, r) in hits.items()], shown, sep="; ")
    law, advice = _advice(law_input, other, assumption)
    warnings.warn(f"{runs.source}: form {form.name!r} {law}; but in {len(hits)} of {len(results)} "
                  f"groups of column {column!r} {other} varies and the residuals follow "
                  f"log {other}: {named}: {advice}",
                  ScalingLawsWarning, stacklevel=user_stacklevel())
