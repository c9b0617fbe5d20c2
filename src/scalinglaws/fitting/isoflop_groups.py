"""Approach 2 by group: one IsoFLOP analysis per value of a column, and their exponents.

``isoflop_fit(runs, groups="setting")`` (:func:`scalinglaws.isoflop_fit`) fits every
group with the same options and returns a :class:`GroupedIsoFLOPResult`: each group's
:class:`~scalinglaws.fitting.isoflop.IsoFLOPResult`, a table of the exponents ``a`` and
``b`` per group with their intervals, and the per-group budgets in one table. Each
group's resampled exponents (``a_bootstrap``, ``b_bootstrap``) and resampled minima
(``log_N_opt_draws``) stay on its result, for comparisons between groups.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._validation import FrozenDict, deep_freeze, to_plain
from .grouped_result import ByGroup

__all__ = ["GroupedIsoFLOPResult"]

#: columns of :attr:`GroupedIsoFLOPResult.exponents`
EXPONENT_COLUMNS = ("group", "a", "a_low", "a_high", "a_se", "b", "b_low", "b_high", "b_se",
                    "a_bootstrap_low", "a_bootstrap_high", "b_bootstrap_low",
                    "b_bootstrap_high", "n_budgets_used", "n_budgets_excluded", "n_runs")


@dataclass(frozen=True, eq=False)
class GroupedIsoFLOPResult(ByGroup):
    """Hoffmann et al. (2022) Approach 2 fitted separately to each group of runs. Frozen.

    Attributes
    ----------
    group_column : str
        The column whose values define the groups (``groups=`` of
        :func:`scalinglaws.isoflop_fit`).
    results : Mapping
        Group value -> its :class:`~scalinglaws.fitting.isoflop.IsoFLOPResult`
        (read-only, in sorted group order).
    confidence_level : float
        Coverage of every interval.
    n_runs : int
        Runs read, all groups together.
    options : Mapping
        The options shared by every group's fit.

    Notes
    -----
    Groups are fitted independently: nothing is shared between them. With
    resampling, group ``i`` draws from the ``i``-th child of the ``rng`` seed
    (:meth:`numpy.random.Generator.spawn`), so groups get independent streams and
    the same seed gives the same result.
    """

    group_column: str
    results: Mapping = field(repr=False)
    confidence_level: float
    n_runs: int
    options: Mapping = field(default_factory=dict, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "results", FrozenDict(self.results))
        object.__setattr__(self, "options", deep_freeze(dict(self.options)))

    def __getitem__(self, group: Any):
        return self.results[group]

    @property
    def exponents(self) -> pd.DataFrame:
        """One row per group: ``group``, ``a`` with ``a_low``, ``a_high`` (t interval at
        ``confidence_level``) and ``a_se``, the same for ``b``, the bootstrap percentile
        intervals (NaN without resampling), ``n_budgets_used``, ``n_budgets_excluded``
        and ``n_runs``. A new table on every access."""
        rows = []
        for group, result in self.results.items():
            a_boot = result.a_bootstrap_interval or (math.nan, math.nan)
            b_boot = result.b_bootstrap_interval or (math.nan, math.nan)
            rows.append((group, result.a, *result.a_interval, result.a_se,
                         result.b, *result.b_interval, result.b_se, *a_boot, *b_boot,
                         result.n_budgets_used, result.n_budgets_excluded, result.n_runs))
        return pd.DataFrame(rows, columns=list(EXPONENT_COLUMNS))

    @property
    def budgets(self) -> pd.DataFrame:
        """Every group's per-budget table (see ``IsoFLOPResult.budgets``), stacked, with
        the group value first in a ``group`` column."""
        frames = []
        for group, result in self.results.items():
            table = result.budgets
            table.insert(0, "group", [group] * len(table))
            frames.append(table)
        return pd.concat(frames, ignore_index=True)

    def to_dict(self) -> dict:
        """Plain types: the group column, the exponents table (row records) and every
        group's ``to_dict()`` under ``groups`` (a list, in group order)."""
        return to_plain({
            "approach": "isoflop",
            "group_column": self.group_column,
            "confidence_level": self.confidence_level,
            "n_runs": self.n_runs,
            "options": dict(self.options),
            "exponents": self.exponents.to_dict(orient="records"),
            "groups": [{"group": group, **result.to_dict()}
                       for group, result in self.results.items()],
        })

    def summary(self) -> str:
        """The exponents of every group with their intervals."""
        level = f"{100 * self.confidence_level:g}%"
        width = max(len("group"), *(len(str(g)) for g in self.results))
        title = (f"IsoFLOP profiles per {self.group_column!r} (Hoffmann et al. 2022, "
                 f"Approach 2): {len(self)} groups, {self.n_runs} runs")
        resampled = bool(self.exponents["a_bootstrap_low"].notna().any())
        header = (f"{'group':<{width}}  {'a':>7} {'t interval':>18}"
                  + (f" {'bootstrap':>18}" if resampled else "")
                  + f"  {'b':>7} {'t interval':>18}"
                  + (f" {'bootstrap':>18}" if resampled else "") + "  budgets")
        lines = [title, f"intervals at {level}: the regression's t interval"
                 + (" and the bootstrap percentile interval of the resampled minima"
                    if resampled else ""), "", header]

        def pair(low, high):
            return f"{f'[{low:.4f}, {high:.4f}]':>18}"

        for row in self.exponents.itertuples():
            lines.append(f"{row.group!s:<{width}}  {row.a:>7.4f} {pair(row.a_low, row.a_high)}"
                         + (f" {pair(row.a_bootstrap_low, row.a_bootstrap_high)}"
                            if resampled else "")
                         + f"  {row.b:>7.4f} {pair(row.b_low, row.b_high)}"
                         + (f" {pair(row.b_bootstrap_low, row.b_bootstrap_high)}"
                            if resampled else "")
                         + f"  {row.n_budgets_used} used, {row.n_budgets_excluded} excluded")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
