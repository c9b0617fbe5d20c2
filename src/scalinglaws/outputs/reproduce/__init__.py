"""Reproductions of published scaling-law results from public data.

Each ``reproduce_*`` function loads the public data (a path the user gives, a checked
download, or a safe conversion of the authors' files, see :mod:`scalinglaws.data.public`),
refits, and returns a :class:`Reproduction` whose ``str()`` sets each published number
beside this package's value and whose ``tables`` hold the same as DataFrames.

=====================================  =====================================================
:func:`reproduce_hoffmann`             Approach 3 on Epoch's digitised Chinchilla runs
:func:`reproduce_kaplan`               Kaplan's quoted results; Porian et al.'s sweeps
:func:`reproduce_muennighoff`          the data-constrained law on the datablations runs
=====================================  =====================================================
"""

from __future__ import annotations

from ._report import Reproduction
from .hoffmann import HOFFMANN_TABLE3, reproduce_hoffmann
from .kaplan import kaplan_quoted_results, recount_kaplan_runs, reproduce_kaplan
from .muennighoff import reproduce_muennighoff

__all__ = ["Reproduction", "reproduce_hoffmann", "reproduce_kaplan", "reproduce_muennighoff",
           "HOFFMANN_TABLE3", "kaplan_quoted_results", "recount_kaplan_runs"]
