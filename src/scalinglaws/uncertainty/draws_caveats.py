"""Caveats of intervals taken over bootstrap draws: too few draws for the level's tails,
and a bootstrap whose method (basic, BCa) is not the percentile one the draws give to
predictions and other derived quantities."""

from __future__ import annotations

import warnings

import numpy as np

# the few-draws rule lives in the package's _draws (the fitting stage's resampling takes it
# too); its names are still imported from here
from .._draws import draws_needed, few_draws_note, warn_few_draws  # noqa: F401
from .._exceptions import BootstrapResamplingWarning, user_stacklevel

__all__ = ["draws_needed", "few_draws_note", "order_statistic_ends_note", "warn_few_draws",
           "warn_percentile_over"]


def order_statistic_ends_note(n_draws: int, level: float) -> str | None:
    """:func:`few_draws_note` for percentile ends at the ``(B + 1) a``-th ordered of ``B``
    draws (``a = (1 - level) / 2``; the curve sieve's, ``CurveBootstrap.percentile_ends``):
    they hold ``level`` on average for any ``B`` with ``(B + 1) a >= 1``; below that each
    end is the most extreme draw, which leaves out ``1 / (B + 1)`` of the distribution per
    tail instead of ``a``. None when the draws are enough (39 at 95%, 199 at 99%)."""
    tail = (1 - level) / 2
    needed = int(np.ceil(1 / tail - 1 - 1e-9))
    if n_draws >= needed or n_draws < 2:
        return None
    content = (n_draws - 1) / (n_draws + 1)
    return (f"{n_draws} draws are too few for a {100 * level:g}% percentile interval with "
            f"(B + 1) a ends: its ends are the most extreme draws, and it holds on average only "
            f"{100 * content:.3g}% of the bootstrap distribution; a {100 * level:g}% interval "
            f"needs at least {needed} draws (more resamples, or a lower `confidence_level`)")


def warn_percentile_over(draws) -> None:
    """Warn when ``draws`` is a bootstrap whose ``method`` is not the percentile one, as
    the intervals of predictions, allocations and other quantities taken over its draws
    (:func:`scalinglaws.predict`...) are: its basic or BCa method gives its own parameter
    intervals and :meth:`~.bootstrap_result.BootstrapResult.predict`, and would otherwise
    be replaced without a word."""
    # a BootstrapResult (a DataFrame or an array of draws has no interval_method)
    named = getattr(draws, "interval_method", None)
    if not isinstance(named, str) or getattr(draws, "method", None) == "percentile":
        return
    name = named.removeprefix("bootstrap ")
    warnings.warn(f"the bootstrap's method is {name!r}: its parameter intervals (boot.intervals, "
                  f"the fit's summary) and boot.predict(...) at one point are {name} intervals, "
                  "but intervals over its draws of predictions, allocations and other derived "
                  "quantities are percentile intervals (their method says 'bootstrap "
                  "percentile'); bootstrap with method='percentile' to use one method "
                  "throughout", BootstrapResamplingWarning, stacklevel=user_stacklevel())
