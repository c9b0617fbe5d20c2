"""Caveats of intervals taken over bootstrap draws: too few draws for the level's tails,
and a bootstrap whose method (basic, BCa) is not the percentile one the draws give to
predictions and other derived quantities."""

from __future__ import annotations

import warnings

import numpy as np

from .._exceptions import BootstrapResamplingWarning, user_stacklevel

__all__ = ["draws_needed", "few_draws_note", "order_statistic_ends_note", "warn_few_draws",
           "warn_percentile_over"]


def draws_needed(level: float) -> int:
    """Fewest draws whose percentile interval at ``level`` leaves out at most a quarter more
    of the bootstrap distribution than the nominal ``1 - level``.

    Why this rule: from ``n`` draws, numpy's interpolated quantile at ``q`` sits at order
    statistic ``(n - 1) q + 1``, and the ``i``-th of ``n`` draws has ``E F(x_(i)) = i/(n + 1)``,
    so the interval ``[q_(a/2), q_(1-a/2)]`` holds on average ``level (n - 1)/(n + 1)`` of the
    distribution: it leaves out ``2 level/(n + 1)`` more than ``1 - level``. Asking that
    excess to be at most ``(1 - level)/4`` gives ``n >= 8 level/(1 - level) - 1``: 151 draws
    at 95% (about two draws expected beyond each end), 791 at 99%, 31 at 80%. Below it the
    ends are interpolations among the few most extreme draws (5 draws at 99%: 66% of the
    distribution on average), and the interval is too narrow from the draws alone.

    Examples
    --------
    >>> draws_needed(0.95), draws_needed(0.99), draws_needed(0.8)
    (151, 791, 31)
    """
    return int(np.ceil(8 * level / (1 - level) - 1 - 1e-9))


def few_draws_note(n_draws: int, level: float) -> str | None:
    """What :func:`warn_few_draws` says when ``n_draws`` are too few for ``level``, else None."""
    needed = draws_needed(level)
    if n_draws >= needed or n_draws < 2:  # fewer than 2: no interval at all (nan bounds)
        return None
    content = level * max(n_draws - 1, 0) / (n_draws + 1)
    return (f"{n_draws} draws are too few for a {100 * level:g}% percentile interval: its ends "
            f"are interpolations among the most extreme draws, and it holds on average only "
            f"{100 * content:.3g}% of the bootstrap distribution; a {100 * level:g}% interval "
            f"needs at least {needed} draws (more resamples, or a lower `confidence_level`)")


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


def warn_few_draws(n_draws: int, level: float, *, stacklevel: int = 2) -> None:
    """Warn (:class:`~scalinglaws.BootstrapResamplingWarning`) when ``n_draws`` converged
    draws are fewer than :func:`draws_needed` for the two-sided ``level``."""
    note = few_draws_note(n_draws, level)
    if note is not None:
        warnings.warn(f"bootstrap: {note}", BootstrapResamplingWarning, stacklevel=stacklevel + 1)


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
