"""The frozen result of a comparison between groups: tables, the test, text and JSON."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._files import JsonDocument
from .._validation import FrozenOnUnpickle
from .._validation import deep_freeze, to_plain
from .._version import __version__

__all__ = ["DIFFERENCE_COLUMNS", "DOCUMENT_KIND", "ESTIMATE_COLUMNS", "MULTIPLIER_COLUMNS",
           "SCHEMA_VERSION", "Comparison"]

#: ``kind`` and ``schema_version`` of :meth:`Comparison.to_dict` (what ``compare --out``
#: writes); version 1 documents written before it carried ``schema_version`` lack it and
#: name the intervals' method ``options.interval`` (now ``options.method``)
DOCUMENT_KIND, SCHEMA_VERSION = "scalinglaws.comparison", 1

#: columns of :attr:`Comparison.multipliers`
MULTIPLIER_COLUMNS = ("group", "reference", "at", "C", "loss", "multiplier", "multiplier_low",
                      "multiplier_high", "n_failed_draws", "n_infinite_draws", "caveat")
#: columns of :attr:`Comparison.estimates`
ESTIMATE_COLUMNS = ("group", "quantity", "value", "value_low", "value_high", "se")
#: columns of :attr:`Comparison.differences`
DIFFERENCE_COLUMNS = ("group", "versus", "quantity", "difference", "difference_low",
                      "difference_high", "se", "p_value", "p_adjusted", "differs")


@dataclass(frozen=True, eq=False)
class Comparison(JsonDocument, FrozenOnUnpickle):
    """Groups of runs compared with a reference group. Frozen.

    Attributes
    ----------
    approach : {"parametric", "isoflop"}
        Compared through fitted laws (Approach 3, :func:`scalinglaws.fit` with
        ``groups``) or through Approach 2 power laws of IsoFLOP minima.
    group_column : str
    groups : tuple
        Every group, sorted.
    reference : object
        The group the others are compared with.
    confidence_level : float
        Level of every interval; ``1 - confidence_level`` is the level of every
        decision (``differs``, the test).
    correction : str
        Multiple-comparison correction of ``p_adjusted`` (``"holm"``, within each
        quantity over the comparisons made).
    estimates : list of dict
        Rows of :attr:`estimates`.
    differences : list of dict
        Rows of :attr:`differences`.
    multipliers : list of dict
        Rows of :attr:`multipliers` (parametric), or of the compute-optimal model size
        ratio ``N_opt(group) / N_opt(reference)`` (isoflop, in the same columns). A
        parametric row's ``caveat`` says why its multiplier must not be read bare (empty
        when nothing needs saying): infinite or beyond 100x, an unbounded interval, a law
        that misfits its runs (:mod:`scalinglaws.analysis._compare_caveats`).
    test : Mapping
        The test that every group shares the compared exponents: ``method``,
        ``quantities``, ``statistic``, ``df``, ``p_value``, ``rejected`` and, for
        parametric fits, ``objective_separate`` and ``objective_shared``.
    n_resamples : int
        Bootstrap resamples behind the intervals (0: standard errors, normal intervals).
    seed : int or None
    fit : object
        The fit the multipliers come from (a ``GroupedFitResult`` or
        ``GroupedIsoFLOPResult``), kept for figures.
    separate : object
        The separate fits behind the exponent comparisons and the test.
    draws : object
        The ``GroupedBootstrapResult`` of ``fit`` (None without resampling).
    options : Mapping
        How the comparison was made (form, shared parameters, flops per token...;
        ``method``: how the intervals were made, :attr:`interval_method`).
    notes : tuple of str
        What a reader of the numbers must know (e.g. dependent groups).
    """

    approach: str
    group_column: str
    groups: tuple
    reference: Any
    confidence_level: float
    correction: str
    estimates: tuple
    differences: tuple
    multipliers: tuple
    test: Mapping
    n_resamples: int
    seed: int | None = None
    fit: Any = field(default=None, repr=False)
    separate: Any = field(default=None, repr=False)
    draws: Any = field(default=None, repr=False)
    options: Mapping = field(default_factory=dict, repr=False)
    notes: tuple = ()
    package_version: str = __version__

    _document = "the comparison"  # named in to_json's messages (JsonDocument)

    def __post_init__(self):
        for name in ("groups", "estimates", "differences", "multipliers", "test", "options",
                     "notes"):
            object.__setattr__(self, name, deep_freeze(getattr(self, name)))

    # -- tables ------------------------------------------------------------------
    @property
    def interval_method(self) -> str:
        """How the intervals of every table were made (``options["method"]``): a bootstrap
        percentile over resamples, or t intervals from the regressions' standard errors."""
        return str(self.options.get("method", ""))

    def _frame(self, rows, columns):
        """A table of ``rows``; its ``attrs`` say what its intervals are, as every result
        table's do: ``interval`` ("confidence"), ``method``, ``confidence_level`` and
        ``n_resamples`` (0: no resampling)."""
        import pandas as pd

        frame = pd.DataFrame([dict(r) for r in rows], columns=list(columns))
        frame.attrs.update(interval="confidence", method=self.interval_method,
                           confidence_level=self.confidence_level,
                           n_resamples=self.n_resamples)
        return frame

    @property
    def table_estimates(self):
        """One row per group and quantity (exponents; allocation exponents ``a``, ``b``):
        ``value`` with its interval and bootstrap standard error. A new DataFrame."""
        return self._frame(self.estimates, ESTIMATE_COLUMNS)

    @property
    def table_differences(self):
        """One row per comparison and quantity: the difference (group minus ``versus``),
        its interval, standard error, p-value, Holm-adjusted p-value and ``differs``
        (adjusted p-value below ``1 - confidence_level``). A new DataFrame."""
        return self._frame(self.differences, DIFFERENCE_COLUMNS)

    @property
    def table_multipliers(self):
        """Parametric: the effective-compute multiplier of each group over the reference
        at each budget (``at="C"``) or loss (``at="loss"``), with its interval and its
        ``caveat`` (why it must not be read bare, or empty). Isoflop:
        ``N_opt(group) / N_opt(reference)`` at each budget. A new DataFrame."""
        return self._frame(self.multipliers, MULTIPLIER_COLUMNS)

    def differing_pairs(self, quantity: str) -> list[tuple]:
        """The comparisons of ``quantity`` whose adjusted p-value is below the level."""
        return [(r["group"], r["versus"]) for r in self.differences
                if r["quantity"] == quantity and r["differs"]]

    # -- text ----------------------------------------------------------------------
    def summary(self) -> str:
        """The multipliers, the exponent differences and the test, as text."""
        level = f"{100 * self.confidence_level:g}%"
        lines = [f"comparison of {len(self.groups)} groups ({self.group_column!r}) with "
                 f"{self.reference!r} [{self.approach}; {level} intervals, "
                 + (f"bootstrap percentile over {self.n_resamples} resamples"
                    if self.n_resamples else "t intervals from the regressions' standard "
                                             "errors")
                 + f"; p-values adjusted by {self.correction}]"]
        if self.multipliers:
            what = ("effective-compute multiplier (compute the reference needs for the "
                    "group's loss / the group's compute)" if self.approach == "parametric"
                    else "compute-optimal model size N_opt(group) / N_opt(reference)")
            lines += ["", what]
            for row in self.multipliers:
                where = (f"C = {row['C']:.3g} FLOP" if row["at"] == "C"
                         else f"loss = {row['loss']:.4g}")
                failed = row.get("n_failed_draws") or 0
                why = (f"  (unreachable: {row['unreachable']})" if row.get("unreachable")
                       else f"  ({failed} draws failed, left out)" if failed else "")
                lines.append(f"  {row['group']!s:<24} {where:<22} {row['multiplier']:.4g} "
                             f"[{row['multiplier_low']:.4g}, {row['multiplier_high']:.4g}]"
                             + why)
                if row.get("caveat"):  # why the number must not be read bare
                    lines.append(textwrap.fill(f"why: {row['caveat']}", width=100,
                                               initial_indent=" " * 4,
                                               subsequent_indent=" " * 9))
        if self.differences:
            lines += ["", "differences (group - versus)"]
            for row in self.differences:
                flag = "differs" if row["differs"] else ""
                lines.append(f"  {row['quantity']:<6} {row['group']!s:<24} - {row['versus']!s:<24} "
                             f"{row['difference']:+.4f} [{row['difference_low']:+.4f}, "
                             f"{row['difference_high']:+.4f}]  p_adj = {row['p_adjusted']:.3g}  "
                             f"{flag}".rstrip())
        if self.test:
            t = self.test
            lines += ["", f"test of one {', '.join(t['quantities'])} for every group "
                          f"({t['method']}): statistic {t['statistic']:.4g}, df {t['df']}, "
                          f"p = {t['p_value']:.3g}"
                      + (" -> they differ" if t["rejected"] else " -> no evidence they differ")]
        for note in self.notes:
            lines.append(f"note: {note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # -- export --------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain types: the settings, the three tables (row records), the test and notes."""
        doc = {"kind": DOCUMENT_KIND, "schema_version": SCHEMA_VERSION,
               "package_version": self.package_version,
               "approach": self.approach, "group_column": self.group_column,
               "groups": list(self.groups), "reference": self.reference,
               "confidence_level": self.confidence_level, "correction": self.correction,
               "n_resamples": self.n_resamples, "seed": self.seed,
               "options": dict(self.options), "estimates": [dict(r) for r in self.estimates],
               "differences": [dict(r) for r in self.differences],
               "multipliers": [dict(r) for r in self.multipliers],
               "test": dict(self.test), "notes": list(self.notes)}
        if self.fit is not None and hasattr(self.fit, "to_dict"):
            doc["fit"] = self.fit.to_dict()
        return to_plain(doc)

