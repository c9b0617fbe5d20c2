"""The prediction :meth:`BootstrapResult.predict` returns: a
:class:`~scalinglaws.uncertainty.prediction.Prediction` that still reads, with a
deprecation warning, as the tuple the method used to return."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from .._exceptions import ScalingLawsDeprecationWarning
from .prediction import Prediction

__all__ = ["BootstrapPrediction"]

_FORMER_TUPLE = ("BootstrapResult.predict returns a Prediction, as scalinglaws.predict does: "
                 "read prediction.loss, prediction.low and prediction.high (or "
                 "prediction.bounds('loss')); using it as the tuple (estimate, low, high) it "
                 "used to be (unpacking, indexing, comparing with a tuple) is deprecated and "
                 "will stop working")


@dataclass(frozen=True, eq=False)
class BootstrapPrediction(Prediction):
    """The :class:`~scalinglaws.uncertainty.prediction.Prediction` that
    :meth:`BootstrapResult.predict` returns (the class :func:`scalinglaws.predict` returns,
    with the same fields and methods), which still reads as the tuple ``(estimate, low,
    high)`` the method used to return: unpacking, indexing and comparing with a tuple give
    the former numbers with a :class:`~scalinglaws.ScalingLawsDeprecationWarning`. When
    that is removed, the method returns a plain ``Prediction``.
    """

    def _former_tuple(self) -> tuple:
        # stacklevel 3: the warning points at the caller's line, past this and the dunder
        warnings.warn(_FORMER_TUPLE, ScalingLawsDeprecationWarning, stacklevel=3)
        return (self.loss, self.low, self.high)

    def __iter__(self):
        return iter(self._former_tuple())

    def __getitem__(self, index):
        return self._former_tuple()[index]

    def __eq__(self, other):
        if isinstance(other, tuple):
            return self._former_tuple() == other
        return NotImplemented  # otherwise identity, as for any Prediction

    __hash__ = Prediction.__hash__  # defining __eq__ would otherwise drop it
