"""The frozen result of a grouped fit: one FitResult per group, the shared values, status."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import InputError
from .._files import JsonDocument
from .._validation import FrozenDict, deep_freeze, to_plain
from .._version import __version__
from ..laws.forms import Form

__all__ = ["GroupedFitResult"]

_KIND = "scalinglaws.grouped_fit"


class ByGroup:
    """Iteration, length and ``groups`` of a result whose ``results`` maps each group value
    (sorted) to that group's result: :class:`GroupedFitResult` and
    :class:`~scalinglaws.fitting.isoflop_groups.GroupedIsoFLOPResult`."""

    def __iter__(self) -> Iterator:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def groups(self) -> tuple:
        """The group values, sorted."""
        return tuple(self.results)


@dataclass(frozen=True, eq=False)
class GroupedFitResult(ByGroup, JsonDocument):
    """A law fitted to many groups of runs at once, some parameters shared. Frozen.

    Attributes
    ----------
    form : Form
        The law.
    group_column : str
        The column whose values define the groups.
    results : Mapping
        Group value -> its :class:`~scalinglaws.FitResult` (sorted by group), usable
        wherever a fit is (``predict``, :func:`scalinglaws.compute_optimal`, ``save``).
        Its ``params`` include the shared values; ``objective`` is the group's part of
        the joint objective; ``status`` and ``gradient`` come from the joint optimum;
        ``diagnostics`` judge the group's own parameters.
    shared : tuple of str
        The parameters common to every group (empty: separate fits).
    shared_params : Mapping
        Their fitted values (public units).
    objective : float
        The joint objective, summed over groups.
    separate_objective : float
        The sum of the groups' separate optima (every parameter per group). It is at
        most ``objective``; the gap is what sharing costs the fit.
    separate : Mapping
        With shared parameters, group value -> the group's separate optimum (a
        parameters-only :class:`~scalinglaws.FitResult`); empty otherwise.
    n_runs : int
        Runs of all groups.
    success, status, message :
        0 every group converged inside its bounds; otherwise the worst group's status
        (1 on a bound, 2 not converged, 3 no finite objective) and which groups.
    gradient : float
        Largest relative projected gradient over the groups (joint, with shared
        parameters).
    options : Mapping
        The fitting options, ``shared``, ``rank`` and ``groups``, and for a law of N and
        D the runs' ``flops_per_token`` (k in C = k N D; each group's result records it
        too, so that its allocation uses it).
    nit, nfev : int
        Iterations of the joint step and residual evaluations.
    warnings : tuple of str
        The messages announced as warnings when the fit was made.
    group_rows : Mapping
        Group value -> indices of its runs in the table that was fitted.
    package_version : str
    """

    form: Form
    group_column: str
    results: Mapping = field(repr=False)
    shared: tuple
    shared_params: Mapping
    objective: float
    separate_objective: float
    n_runs: int
    success: bool
    status: int
    message: str
    separate: Mapping = field(default_factory=dict, repr=False)
    gradient: float = float("nan")
    options: Mapping = field(default_factory=dict, repr=False)
    nit: int = 0
    nfev: int = 0
    warnings: tuple = ()
    group_rows: Mapping = field(default_factory=dict, repr=False)
    package_version: str = __version__

    _document = "the grouped fit"  # named in to_json's messages (JsonDocument)

    def __post_init__(self):
        for name in ("results", "separate"):
            object.__setattr__(self, name, deep_freeze(dict(getattr(self, name))))
        for name in ("shared", "shared_params", "options", "warnings"):
            object.__setattr__(self, name, deep_freeze(getattr(self, name)))
        # flat sequences of run indices (every run of the table): a tuple each, as
        # deep_freeze makes them, without visiting each index
        object.__setattr__(self, "group_rows", FrozenDict(
            {key: tuple(rows) for key, rows in dict(self.group_rows).items()}))

    # -- access ----------------------------------------------------------------
    def __getitem__(self, group: Any):
        try:
            return self.results[group]
        except KeyError:
            raise KeyError(f"no group {group!r}; groups: {list(self.results)}") from None

    @property
    def per_group(self) -> tuple:
        """The free parameters that take one value per group."""
        first = next(iter(self.results.values()))
        return tuple(n for n in first.free_params if n not in self.shared)

    def predict(self, group: Any, **inputs) -> np.ndarray:
        """Predicted loss of ``group``'s law at ``inputs``, e.g. ``predict("new", N=7e9, D=1e11)``."""
        return self[group].predict(**inputs)

    @property
    def params(self):
        """One row per group (``group`` then every parameter), a new DataFrame each time."""
        import pandas as pd

        rows = [{"group": key, **dict(result.params), "objective": result.objective,
                 "n_runs": result.n_runs, "status": result.status}
                for key, result in self.results.items()]
        return pd.DataFrame(rows)

    # -- text --------------------------------------------------------------------
    def summary(self) -> str:
        """The parameters of every group, the shared values and the objectives."""
        names = self.form.param_names
        width = max(len("group"), *(len(str(g)) for g in self.results))
        shared = (", ".join(f"{n} = {v:.6g}" for n, v in self.shared_params.items())
                  or "none (separate fits)")
        lines = [(f"grouped fit of {self.form.name} ({self.form.formula}) by "
                  f"{self.group_column!r}: {len(self)} groups, {self.n_runs} runs"),
                 f"shared      {shared}",
                 (f"objective   {self.objective:.10g}  (separate fits: "
                  f"{self.separate_objective:.10g})"),
                 f"status      {self.status}: {self.message}", "",
                 f"{'group':<{width}}  " + "  ".join(f"{n:>11}" for n in names)
                 + "  status  residuals"]
        misfit = []
        for key, result in self.results.items():
            diagnostics = result.diagnostics or {}
            size = diagnostics.get("residuals")
            trend = diagnostics.get("lack_of_fit")
            if trend:
                misfit.append(key)
            lines.append(f"{key!s:<{width}}  "
                         + "  ".join(f"{result.params[n]:>11.5g}" for n in names)
                         + f"  {result.status:>6}  "
                         + (f"{100 * size['rms']:>8.2f}%" if size else f"{'':>9}")
                         + (f"  misfit along {trend['axis']}" if trend else ""))
        if misfit:
            lines += ["", f"misfit: the residuals of {len(misfit)} of {len(self)} groups trend "
                          "with C, N or D (result[group].diagnostics['lack_of_fit']); "
                          "extrapolations from their laws assume the form fits"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # -- export ------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain types: the form, the shared values, the objectives and status, and per
        group its parameters, objective, runs, status, data fingerprint and fitted range."""
        def group_doc(key, result):
            return {"group": key, "params": dict(result.params), "objective": result.objective,
                    "n_runs": result.n_runs, "status": result.status,
                    "message": result.message, "at_bounds": list(result.at_bounds),
                    "gradient": result.gradient, "data_fingerprint": result.data_fingerprint,
                    "fitted_range": {k: list(v) for k, v in result.fitted_range.items()},
                    "diagnostics": dict(result.diagnostics)}

        doc = {
            "kind": _KIND, "package_version": self.package_version,
            "form": self.form.to_dict(), "group_column": self.group_column,
            "shared": list(self.shared), "shared_params": dict(self.shared_params),
            "objective": self.objective, "separate_objective": self.separate_objective,
            "n_runs": self.n_runs, "n_groups": len(self), "success": self.success,
            "status": self.status, "message": self.message, "gradient": self.gradient,
            "options": dict(self.options), "nit": self.nit, "nfev": self.nfev,
            "warnings": list(self.warnings),
            "groups": [group_doc(k, r) for k, r in self.results.items()],
        }
        if self.separate:
            doc["separate"] = [{"group": k, "params": dict(r.params)}
                               for k, r in self.separate.items()]
        return to_plain(doc)

    def group_of(self, key: Any):
        """Alias of ``result[key]`` that raises :class:`InputError` for an unknown group."""
        if key not in self.results:
            raise InputError(f"no group {key!r} in column {self.group_column!r}; groups: "
                             f"{list(self.results)}")
        return self.results[key]
