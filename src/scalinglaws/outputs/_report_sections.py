"""Pieces of the HTML report (:mod:`scalinglaws.outputs.report`): escaping, numbers and
tables, and the sections about the fit itself rather than its figures: the warning box of
a fit the runs do not identify, the rows fitted and left out, and the diagnostics table.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

from .._text import counted
from .._version import __version__
from .figures import _fingerprints

__all__ = ["fitted_rows_text"]


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _num(value, digits=6) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return _e(value)
    if not math.isfinite(value):
        return "—" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    return f"{value:.{digits}g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """An HTML table; cells are taken as already-escaped HTML."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


def _tokens_per_parameter_span(runs, form):
    """``(low, high)`` D/N of the runs when they all lie within a factor 2 (N and D then
    move together: the fit cannot tell the N term from the D term), else None."""
    if runs is None or not {"N", "D"} <= set(form.inputs) or not (runs.has("N") and runs.has("D")):
        return None
    ratio = np.asarray(runs.D, dtype=float) / np.asarray(runs.N, dtype=float)
    low, high = float(np.min(ratio)), float(np.max(ratio))
    return (low, high) if high <= 2 * low else None


def _identification_warning(result, runs) -> str:
    """A warning box for the top of the page when the fit's diagnostics say the runs do not
    separate its parameters, or its optimum sits on a bound: the coefficients, figures and
    allocation below are then not determined by the data. Empty otherwise."""
    from ..fitting.identifiability import ILL_CONDITIONED

    diagnostics = getattr(result, "diagnostics", {}) or {}
    unidentified = diagnostics.get("identifiable", True) is False
    at_bounds = [name for name in (getattr(result, "at_bounds", ()) or ())]
    if not (unidentified or at_bounds):
        return ""
    causes, todo = [], []
    if unidentified:
        condition = diagnostics.get("condition_number")
        pair = diagnostics.get("most_correlated") or {}
        text = ("The runs do not separate the law's parameters: the condition number of the "
                f"fit's scaled information matrix is {_num(condition, 3)} (above "
                f"{ILL_CONDITIONED:.0e})")
        if pair:
            text += (f", and the estimates of {_e(' and '.join(pair['params']))} correlate at "
                     f"{pair['correlation']:+.4f}: the data fix a combination of them, not each")
        causes.append(text + ".")
        span = _tokens_per_parameter_span(runs, result.form)
        if span is not None:
            causes.append(f"Every run has about the same tokens per parameter (D/N from "
                          f"{_num(span[0], 3)} to {_num(span[1], 3)}): N and D grow together, "
                          "so the runs cannot tell the parameter term of the law from its data "
                          "term.")
        todo.append("add runs that vary N and D independently (several token counts per model "
                    "size, as an IsoFLOP sweep has: <code>scalinglaws generate</code> writes one), "
                    "or fix a parameter you know (<code>--fix E=1.69</code>, "
                    "<code>fixed={'E': 1.69}</code>) or tie the exponents (<code>--tie "
                    "beta=alpha</code>), then refit")
    if at_bounds:
        causes.append(f"The optimum sits on a bound for {_e(', '.join(at_bounds))}: the value "
                      "there is the bound's, not the data's.")
        todo.append("widen that parameter's bounds or fix it at a value you can defend")
    return ('<div class="alert" id="identifiability"><strong>The fitted parameters are not '
            "identified by these runs.</strong> " + " ".join(causes)
            + " The coefficients, the frontier and the compute-optimal allocation below are "
            "one point of a valley of fits the runs score about equally: do not quote them. "
            f"What to do: {'; '.join(todo)}.</div>")


def _not_identified_note(result) -> str:
    """One line beside a table that depends on the parameters, pointing to the warning."""
    diagnostics = getattr(result, "diagnostics", {}) or {}
    if diagnostics.get("identifiable", True) is not False and not getattr(result, "at_bounds",
                                                                          ()):
        return ""
    return ('<p class="warn">Not identified by the runs (see the warning at the top of the '
            "page): these values are not determined by the data.</p>")


def _diagnostics(result, runs) -> str:
    from ..fitting.lack_of_fit import misfit_text, size_text

    diagnostics = getattr(result, "diagnostics", {}) or {}
    options = getattr(result, "options", {}) or {}
    fingerprint = getattr(result, "data_fingerprint", "")
    pair = _fingerprints(result, runs)
    match = ("" if pair is None else " (matches the runs shown)" if pair[0] == pair[1]
             else " (DIFFERS from the runs shown: the figures use other data than the fit)")
    pair = diagnostics.get("most_correlated") or {}
    condition = diagnostics.get("condition_number")
    rows = [
        ("form", f"{result.form.name}: {result.form.formula}"),
        ("objective", (f"{_num(result.objective, 10)} (sum of {options.get('loss', '?')} loss, "
                      f"δ = {options.get('delta')}, {options.get('space', '?')} space)")),
        ("status", f"{result.status}: {result.message}"),
        ("converged", ("no" if not result.success else "yes" if diagnostics.get(
            "identifiable", True) is not False else "yes: the optimiser stopped at an optimum, "
            "but the parameters are not identified (see the warning at the top)")),
        ("runs", fitted_rows_text(result)),
        ("starts", (f"{getattr(result, 'n_starts', 0)} "
                   f"({len(getattr(result, 'best_basin_starts', ()))} reached the best optimum)")),
        ("distinct optima", len(getattr(result, "local_optima", ()) or ())),
        ("relative gradient", _num(getattr(result, "gradient", float("nan")), 3)),
        ("condition number", ("—" if condition is None else _num(condition, 4)
                              + ("" if diagnostics.get("identifiable", True)
                                 else " (ILL-CONDITIONED: parameters not separable)"))),
        ("most correlated", (f"{' and '.join(pair['params'])}: {pair['correlation']:+.4f}"
                             if pair else "—")),
        ("residuals", size_text(diagnostics["residuals"]) if diagnostics.get("residuals")
         else "—"),
        ("lack of fit", misfit_text(diagnostics["lack_of_fit"]) if diagnostics.get(
            "lack_of_fit") else "none found" if diagnostics.get("residuals") else "—"),
        ("data fingerprint", f"{fingerprint}{match}"),
        ("fitted with", f"scalinglaws {getattr(result, 'package_version', '?')}"),
        ("report made with", f"scalinglaws {__version__}"),
    ]
    if runs is not None:
        rows.insert(5, ("data", f"{runs.source} ({counted(len(runs), 'run')})"))
    body = [[f"<th>{_e(k)}</th>", _e(v)] for k, v in rows]
    return ('<table class="diagnostics"><tbody>'
            + "".join(f"<tr>{k}<td>{v}</td></tr>" for k, v in body) + "</tbody></table>")


def fitted_rows_text(result) -> str:
    """The runs fitted, of the rows of the table read, and the rows left out and why, from
    the fit's own record (``options["rows"]``; the words ``scalinglaws fit`` prints after
    "not fitted:", :func:`~scalinglaws.data.selection.left_out_text`): ``"103 of the 108
    rows read; not fitted: the 5 of largest loss excluded (--exclude-top-loss: rows ...)"``,
    or ``"108 runs"`` when none was left out."""
    from ..data.selection import left_out_text

    record = (getattr(result, "options", None) or {}).get("rows") or {}
    left_out = left_out_text(record)
    if not left_out:
        return counted(result.n_runs, "run")
    read = (result.n_runs + len(record.get("dropped_rows") or ())
            + len(record.get("excluded_rows") or ()))
    return f"{result.n_runs} of the {read} rows read; not fitted: {left_out}"
