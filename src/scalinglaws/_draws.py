"""How many resamples a resampled interval takes: one rule for every resampling in the
package, the bootstrap of a fit (:mod:`scalinglaws.uncertainty`) and the resampled
optima of Approaches 1 and 2 (:func:`~scalinglaws.isoflop_fit`,
:func:`~scalinglaws.envelope_fit`, in :mod:`scalinglaws.fitting`, which may not import
the uncertainty stage). It lives here, below both.

:data:`MIN_RESAMPLES` is the fewest resamples accepted (:func:`check_n_resamples`): an
interval needs two draws, and one resample's "interval" has zero width (and leaves out
the estimate). :func:`warn_few_draws` warns below :func:`draws_needed`, the draws whose
percentile interval holds its level.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ._exceptions import BootstrapResamplingWarning, InputError
from ._validation import _shown

__all__ = ["MIN_RESAMPLES", "check_n_resamples", "draws_needed", "few_draws_note",
           "warn_few_draws"]

#: The fewest resamples any resampling accepts: a percentile interval needs two draws
MIN_RESAMPLES = 2


def check_n_resamples(value, *, none: bool = False, name: str = "n_resamples") -> int:
    """``value`` as a number of resamples, at least :data:`MIN_RESAMPLES`; with ``none``,
    also 0 (no resampling: the estimators whose resampling is optional). Otherwise an
    :class:`~scalinglaws.InputError`: "`n_resamples` must be 0 (no resampling) or an
    integer >= 2, got 1".

    Examples
    --------
    >>> check_n_resamples(200), check_n_resamples(0, none=True)
    (200, 0)
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or not (value >= MIN_RESAMPLES or (none and value == 0)):
        allowed = (f"0 (no resampling) or an integer >= {MIN_RESAMPLES}" if none
                   else f"an integer >= {MIN_RESAMPLES}")
        raise InputError(f"`{name}` must be {allowed}, got {_shown(value)}")
    return int(value)


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


def warn_few_draws(n_draws: int, level: float, *, stacklevel: int = 2,
                   label: str = "bootstrap") -> None:
    """Warn (:class:`~scalinglaws.BootstrapResamplingWarning`) when ``n_draws`` converged
    draws are fewer than :func:`draws_needed` for the two-sided ``level``; the message
    starts with ``label``, what resampled (``"bootstrap"``, ``"isoflop_fit"``...)."""
    note = few_draws_note(int(n_draws), level)
    if note is not None:
        warnings.warn(f"{label}: {note}", BootstrapResamplingWarning, stacklevel=stacklevel + 1)
