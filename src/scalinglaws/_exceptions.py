"""Exceptions and warnings of the package.

Every bad-input problem raises :class:`InputError` (a ``ValueError``), whose
message names the argument, file, row and column involved. Numerical trouble
during a fit is never raised: it is reported in the result and announced with a
:class:`ConvergenceWarning`. All warnings derive from
:class:`ScalingLawsWarning`, so ``warnings.filterwarnings("ignore",
category=ScalingLawsWarning)`` silences the package.
"""

from __future__ import annotations

__all__ = ["InputError", "ScalingLawsWarning", "ConvergenceWarning", "IdentifiabilityWarning",
           "ExtrapolationWarning", "ScalingLawsDeprecationWarning",
           "DataMismatchWarning", "SandwichWarning", "UnitsWarning", "BootstrapResamplingWarning",
           "LackOfFitWarning"]


class InputError(ValueError):
    """Bad input: a table, column, cell, argument or file the package cannot use."""


class ScalingLawsWarning(UserWarning):
    """Base class of every warning this package emits."""


class ConvergenceWarning(ScalingLawsWarning):
    """A fit did not converge, or its optimum sits on a parameter bound."""


class IdentifiabilityWarning(ScalingLawsWarning):
    """The data cannot separate some parameters (ill-conditioned or strongly correlated)."""


class ExtrapolationWarning(ScalingLawsWarning):
    """A prediction lies beyond the range its uncertainty was calibrated on."""


class ScalingLawsDeprecationWarning(ScalingLawsWarning, FutureWarning):
    """A name (argument, attribute, column) was used under its former spelling; it still
    works, and will be removed. A ``FutureWarning``, so users see it by default."""


class LackOfFitWarning(ScalingLawsWarning):
    """A fitted law misfits its runs: the residuals trend with compute, model size or data
    (:mod:`scalinglaws.fitting.lack_of_fit`), so the form does not describe them however
    well the optimiser converged; extrapolations and intervals from it assume it does."""


class DataMismatchWarning(ScalingLawsWarning):
    """The runs given to a figure, report or uncertainty step are not the data the fit was
    made on (their fingerprints differ)."""


class SandwichWarning(ScalingLawsWarning):
    """The sandwich covariance rests on too few runs in Huber's quadratic zone."""


class CurveResamplingWarning(ScalingLawsWarning):
    """A learning-curve bootstrap cannot give its interval at the nominal coverage: single
    correlated points, too few curves to resample, or a fit on a bound."""


class UnitsWarning(ScalingLawsWarning):
    """A table of runs looks like it is not in the package's units (N in parameters, D in
    tokens, C in FLOP, loss in nats per token): a loss column named or sized like a
    perplexity or bits, or parameters, tokens or compute written in millions or billions."""


class BootstrapResamplingWarning(ScalingLawsWarning):
    """A run bootstrap's intervals are not at their nominal level: resamples that could not
    identify the parameters were left out, the runs are too few per free parameter for
    the percentile interval to cover, the draws too few for the level's tails, a stratum
    holds a single run, or intervals over the draws are percentile ones while the
    bootstrap's method is another."""


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the user's line: the first frame
    outside this package, counted from the function that calls :func:`warnings.warn`
    (``warnings.warn(..., stacklevel=user_stacklevel())``). A fit's warnings are raised
    several calls deep (``fit`` -> ``LawFitter.fit`` -> ``fit_arrays`` -> ...), and a
    fixed stacklevel pointed into the package from some of its entry points."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1  # the function that will call warnings.warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
            package + os.sep):
        frame, level = frame.f_back, level + 1
    return level
