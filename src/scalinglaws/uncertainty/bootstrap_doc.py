"""Reading the ``"bootstrap"`` section of a fit file, field by field.

:meth:`BootstrapResult.from_dict <scalinglaws.uncertainty.bootstrap_result.BootstrapResult.from_dict>`
hands the section here. Every field is checked on its own, so a hand-edited or hostile
file gets one :class:`~scalinglaws.InputError` naming the file and the field
(``fit.json: field bootstrap.method must be one of percentile, basic, bca, got
'garbage'``), never a result that fails later (a BCa bootstrap without its jackknife, a
jackknife of the wrong shape) or answers for another fit (a restriction or ``k`` other
than the fit's). The grouped bootstrap's reader
(:mod:`scalinglaws.outputs.io.grouped_bootstrap`) checks its fields with the same
:class:`SectionFields`, :func:`check_restriction` and :func:`check_flops_per_token`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._exceptions import InputError

__all__ = ["SectionFields", "check_flops_per_token", "check_restriction",
           "read_bootstrap_fields"]

#: what ``restriction_kind`` can say; the order is the one its messages list
_RESTRICTIONS = ("", "tie", "fixed-parameter", "tie and fixed-parameter")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class SectionFields:
    """Reads the fields of one bootstrap document or section; failures name ``source`` and
    the field, after ``prefix`` (``"bootstrap."`` in a fit file; ``""`` for a document of
    its own, such as a grouped bootstrap's)."""

    def __init__(self, doc: Mapping, source: str, prefix: str = "bootstrap."):
        self.doc, self.source, self.prefix = doc, source, prefix

    def fail(self, name: str, problem: str):
        raise InputError(f"{self.source}: field {self.prefix}{name} {problem}")

    def get(self, name: str, default: Any = ..., *, required: bool = True) -> Any:
        if name in self.doc:
            return self.doc[name]
        if default is ... and required:
            self.fail(name, "is missing")
        return None if default is ... else default

    def count(self, name: str, default: Any = ..., *, minimum: int = 0) -> int:
        """A whole number >= ``minimum`` (``2.0`` is whole; ``1.5`` is not truncated)."""
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value != int(value) or value < minimum:
            self.fail(name, f"must be an integer >= {minimum}, got {_shown(value)}")
        return int(value)

    def level(self, name: str = "confidence_level") -> float:
        """A number in (0, 1)."""
        value = self.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            self.fail(name, f"must be a number in (0, 1), got {_shown(value)}")
        return float(value)

    def seed(self, name: str = "seed") -> int | None:
        """What ``rng=...`` took, when an integer: a non-negative integer (1.5 is not
        truncated to 1), or null."""
        value = self.get(name, None)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            self.fail(name, f"must be a non-negative integer or null, got {_shown(value)}")
        return value

    def text_or_null(self, name: str) -> str | None:
        value = self.get(name, None)
        if value is not None and not isinstance(value, str):
            self.fail(name, f"must be a column name or null, got {_shown(value)}")
        return value

    def matrix(self, name: str, n_columns: int, *, min_rows: int) -> np.ndarray:
        """A list of rows of ``n_columns`` numbers each (null, a value that was not
        finite, reads as NaN)."""
        value = self.get(name)
        rows_ok = isinstance(value, list) and all(
            isinstance(row, list) and len(row) == n_columns
            and all(x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))
                    for x in row)
            for row in value)
        if not rows_ok or len(value) < min_rows:
            self.fail(name, f"must be a list of at least {min_rows} rows of {n_columns} numbers "
                      f"(one per parameter), got {_shown(value)}")
        return np.array([[np.nan if x is None else float(x) for x in row] for row in value],
                        dtype=float).reshape(len(value), n_columns)


def read_bootstrap_fields(doc: Any, names: list, source: str, *, methods: tuple,
                          restriction: str | None, flops_per_token: float | None,
                          n_runs: int | None = None) -> dict:
    """The keyword arguments of a :class:`BootstrapResult` (all but ``form`` and
    ``point``) from a fit file's bootstrap section, each field checked.

    Parameters
    ----------
    doc : mapping
        The section (``BootstrapResult.to_dict`` output).
    names : list of str
        The form's parameters, in order: the columns of the draws and the jackknife.
    source : str
        The file, for messages.
    methods : tuple of str
        The interval methods there are.
    restriction, flops_per_token : str, float or None
        The fit's own (``restriction_kind(fit.tied, fit.fixed)`` and its ``k``). A
        section that states another is refused: its intervals would be labelled, or its
        compute axis counted, for another fit. A section without them (written before
        they were recorded) takes the fit's. None: no fit to compare with; the section's
        own, else ``""`` and 6.
    n_runs : int, optional
        The fit's runs, when known: a jackknife has one row per run left out, or with
        ``clusters`` one per cluster (at most one per run; how many clusters there were
        the section does not say).

    Raises
    ------
    InputError
        Naming ``source`` and the field: a missing required field (``draws``,
        ``method``, ``confidence_level``, ``n_resamples``, ``n_failed``), a value of
        the wrong type or range, counts that exceed ``n_resamples``, a BCa bootstrap
        without a jackknife, a jackknife not of one row per left-out run (``n_runs``),
        an empty section, or a restriction or ``flops_per_token`` other than the fit's.
    """
    if not isinstance(doc, Mapping):
        raise InputError(f"{source}: field bootstrap must be an object, got "
                         f"{type(doc).__name__}")
    if not doc:
        # no writer made one (BootstrapResult.to_dict always has the method, the counts and
        # the draws; no bootstrap is null), so it is not read as "no bootstrap" either
        raise InputError(f"{source}: field bootstrap is an empty object; a fit without a "
                         "bootstrap has bootstrap null, and a bootstrap section holds what "
                         "BootstrapResult.to_dict writes (method, n_resamples, draws...)")
    fields = SectionFields(doc, source)
    stated = fields.get("param_names", list(names))
    if stated != list(names):
        fields.fail("param_names", f"must be {list(names)} (the form's parameters), got "
                    f"{_shown(stated)}")
    method = fields.get("method")
    if method not in methods:
        fields.fail("method", f"must be one of {', '.join(methods)}, got {_shown(method)}")
    level = fields.level()
    draws = fields.matrix("draws", len(names), min_rows=0)
    n_resamples = fields.count("n_resamples", minimum=2)  # bootstrap() draws at least 2
    n_failed = fields.count("n_failed")
    # absent from documents written before degenerate resamples were set aside
    n_degenerate = fields.count("n_degenerate", 0)
    if len(draws) + n_failed + n_degenerate > n_resamples:
        # each resample is a draw, a failure or set aside as degenerate
        fields.fail("n_resamples", f"= {n_resamples} is fewer than the draws ({len(draws)}) "
                    f"plus n_failed ({n_failed}) plus n_degenerate ({n_degenerate}), each "
                    "of which is one of the resamples")
    n_changed = fields.count("n_best_start_changed", 0)
    if n_changed > len(draws):
        fields.fail("n_best_start_changed", f"= {n_changed} exceeds the {len(draws)} draws")
    seed = fields.seed()
    jackknife = None
    if "jackknife" in doc and doc["jackknife"] is not None:
        # one leave-one-out refit per run (or cluster): at least two to have a spread
        jackknife = fields.matrix("jackknife", len(names), min_rows=2)
        _check_jackknife_rows(fields, len(jackknife), n_runs)
    elif method == "bca":
        fields.fail("jackknife", "is missing: method 'bca' needs the leave-one-out estimates "
                    "(bootstrap(..., method='bca') writes them); set bootstrap.method to "
                    "'percentile' or 'basic', or bootstrap again")
    return dict(draws=draws, n_resamples=n_resamples, n_failed=n_failed,
                n_best_start_changed=n_changed, confidence_level=level, method=method,
                seed=seed, groups=fields.text_or_null("groups"), jackknife=jackknife,
                n_degenerate=n_degenerate,
                # documents written before clusters were resampled: rows
                clusters=fields.text_or_null("clusters"),
                restriction=check_restriction(fields, restriction),
                flops_per_token=check_flops_per_token(fields, flops_per_token))


def _check_jackknife_rows(fields: SectionFields, rows: int, n_runs: int | None) -> None:
    """A jackknife leaves out one run at a time (``bootstrap``'s ``leave_one_out``): one row
    per run of the fit, or with ``clusters`` one per cluster, of which there are at most as
    many as runs. Unchecked without the fit's ``n_runs``."""
    if n_runs is None:
        return
    clusters = fields.doc.get("clusters")
    if clusters is None and rows != n_runs:
        fields.fail("jackknife", f"has {rows} rows, but the fit has {n_runs} runs (one "
                    "leave-one-out estimate per run)")
    if clusters is not None and rows > n_runs:
        fields.fail("jackknife", f"has {rows} rows, but the fit has {n_runs} runs (one "
                    f"leave-one-out estimate per cluster of {clusters!r}, each of one run or "
                    "more)")


def check_restriction(fields: SectionFields, fit_restriction: str | None) -> str:
    """The section's restriction, which must be the fit's; the fit's when absent (files
    written before it was recorded: a restricted fit's bootstrap held its restriction in
    every refit all the same, so its allocation intervals carry the label)."""
    default = "" if fit_restriction is None else fit_restriction
    value = fields.get("restriction", default)
    if value not in _RESTRICTIONS:
        fields.fail("restriction", "must be one of " + ", ".join(map(repr, _RESTRICTIONS))
                    + f", got {_shown(value)}")
    if fit_restriction is not None and value != fit_restriction:
        fields.fail("restriction", f"= {value!r} disagrees with the fit's ties and fixed "
                    f"parameters, which make it {fit_restriction!r}")
    return value


def check_flops_per_token(fields: SectionFields, fit_k: float | None) -> float:
    """The section's ``k``, which must be the fit's; the fit's when absent."""
    value = fields.get("flops_per_token", 6.0 if fit_k is None else fit_k)
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not (math.isfinite(value) and value > 0):
        fields.fail("flops_per_token", f"must be a positive number, got {_shown(value)}")
    if fit_k is not None and not math.isclose(value, fit_k, rel_tol=1e-12, abs_tol=0.0):
        fields.fail("flops_per_token", f"= {value!r} disagrees with the fit's flops_per_token "
                    f"{fit_k!r} (options.flops_per_token)")
    return float(value)
