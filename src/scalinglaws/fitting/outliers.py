r"""Runs far off a fitted law: the one robust rule that finds them, and the words that
name them.

A residual's **robust deviation** is its distance from the median of the residuals in
robust standard deviations, :math:`|z_i - \operatorname{med} z| / (1.4826\,
\operatorname{MAD})` (the MAD of a normal sample is 0.6745 of its sd). Two thresholds
read it:

* :data:`SET_ASIDE` (5): the scatter of :func:`~scalinglaws.calibrate` leaves such
  residuals out of its spread (:mod:`scalinglaws.uncertainty.scatter`), and
  ``calibrate`` names those runs, which its rollout keeps;
* :data:`DIVERGED` (25): :func:`~scalinglaws.fit` names such runs in a warning and in
  ``result.diagnostics["outliers"]`` (:func:`diverged_runs`): a diverged or mislogged
  run that pulls the law.

Why two: residuals of real sweeps are heavy-tailed, and a warning on every fit would
be noise. Beyond 5 robust sd, a plain fit (log residuals) names runs in every real sweep
of ``../shared``: 5 of Epoch's 240 Chinchilla runs (largest 10.3 sd), 1 to 10 runs in
each of Porian et al.'s 15 settings (largest 15.9 sd), 7 of Muennighoff et al.'s 182
(17.2 sd, their data-constrained law). None of these, nor any of 90 synthetic sweeps
(0.5-2% noise; largest 4.4 sd), reaches 25; the audit's two diverged runs stand at 88
and 104 sd, and the two highest-loss runs that Epoch's replication drops from the 245 at
45 and 34. A fit through runs that it matches to a fraction of a percent (noise-free
sweeps) has a robust sd near 0: a run must also be :data:`DIVERGED_FLOOR` off in log
loss to be named.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._exceptions import ScalingLawsWarning
from .._text import counted, named_list
from ..data.cells import _row_text

__all__ = ["MAD_TO_SD", "SET_ASIDE", "DIVERGED", "DIVERGED_FLOOR", "gross_outliers",
           "robust_deviations", "log_residuals", "diverged_mask", "diverged_runs", "diverged_of",
           "outliers_text", "rows_text", "warn_diverged"]

MAD_TO_SD = 1.482602218505602  # 1 / Phi^-1(3/4): the MAD of a normal sample is 0.6745 sd
SET_ASIDE = 5.0  # robust sd beyond which the scatter sets a residual aside
DIVERGED = 25.0  # robust sd beyond which a fit names a run as far off its law
DIVERGED_FLOOR = 0.02  # ... when it is also this far off in log loss (2% of the loss)


def _centre_and_scale(z: np.ndarray) -> tuple[float, float]:
    centre = float(np.median(z))
    return centre, MAD_TO_SD * float(np.median(np.abs(z - centre)))


def gross_outliers(z, threshold: float = SET_ASIDE) -> np.ndarray:
    """Which of ``z`` lie more than ``threshold`` robust standard deviations from their
    median (none when the robust sd is 0)."""
    z = np.asarray(z, dtype=float)
    centre, robust_sd = _centre_and_scale(z)
    return np.abs(z - centre) > threshold * robust_sd if robust_sd > 0 else np.zeros(z.size, bool)


def robust_deviations(z) -> np.ndarray:
    """``|z - median(z)|`` in robust standard deviations (0 everywhere when the robust sd
    is 0)."""
    z = np.asarray(z, dtype=float)
    centre, robust_sd = _centre_and_scale(z)
    return np.abs(z - centre) / robust_sd if robust_sd > 0 else np.zeros(z.size)


def rows_text(runs, indices, shown: int = 10) -> str:
    """The runs ``indices`` (positions in ``runs``) by their row in the source table, as the
    loader names a row: ``"row 20 (line 22), row 30 (line 32)"``; past ``shown``, how many
    more."""
    indices = np.asarray(indices).ravel()
    return named_list((_row_text(runs.row_numbers[int(i)], runs.source_lines) for i in indices),
                      shown, total=indices.size)


def log_residuals(result, inputs, loss) -> np.ndarray | None:
    """``log f(x_i) - log L_i`` of each run (``inputs``: the law's inputs by name), whatever
    space the fit was made in; None for a fit without residuals (no start gave a finite
    objective). NaN where the law or the loss is not positive."""
    if getattr(result, "residuals", None) is None:
        return None
    with np.errstate(all="ignore"):
        predicted = np.asarray(result.predict(**inputs), dtype=float)
        return np.log(predicted) - np.log(np.asarray(loss, dtype=float))


def diverged_runs(result, runs) -> dict | None:
    """The ``"outliers"`` entry of a fit's diagnostics: the runs whose log residual lies
    more than :data:`DIVERGED` robust standard deviations (and :data:`DIVERGED_FLOOR`)
    from the median; None when there is none, or no residual to judge.

    ``rows`` are the runs' rows in their table (``Runs.row_numbers``, 0-based, as the
    loader's messages count them), ``lines`` their lines in the file (when the table
    came from one), ``log_residuals`` ``log f - log L`` and ``robust_sd`` how many
    robust standard deviations each lies off.
    """
    return diverged_of(result, runs.inputs(result.form.inputs), runs.loss, runs.row_numbers,
                       runs.source_lines)


def _diverged(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which log residuals ``z`` are diverged runs (more than :data:`DIVERGED` robust sd
    and :data:`DIVERGED_FLOOR` from the median of the finite ones; none of fewer than 3),
    and each one's robust deviation (0 where not finite)."""
    finite = np.isfinite(z)
    deviation = np.zeros(z.size)
    if finite.sum() < 3:
        return np.zeros(z.size, bool), deviation
    deviation[finite] = robust_deviations(z[finite])
    centre = float(np.median(z[finite]))
    with np.errstate(invalid="ignore"):
        far = finite & (deviation > DIVERGED) & (np.abs(z - centre) > DIVERGED_FLOOR)
    return far, deviation


def diverged_mask(z) -> np.ndarray:
    """Which of the log residuals ``z`` are diverged runs (:func:`diverged_of`'s rule)."""
    return _diverged(np.asarray(z, dtype=float))[0]


def diverged_of(result, inputs, loss, row_numbers, source_lines=None) -> dict | None:
    """:func:`diverged_runs` of the runs given as arrays: ``inputs`` (the law's inputs by
    name), ``loss``, and each run's row in its table (``row_numbers``) and the table's
    ``source_lines`` (None: not from a file); a grouped fit's group passes its own runs."""
    z = log_residuals(result, inputs, loss)
    if z is None:
        return None
    far, deviation = _diverged(z)
    far = np.flatnonzero(far)
    if far.size == 0:
        return None
    rows = [int(row_numbers[i]) for i in far]
    out = {"rows": rows, "log_residuals": [float(z[i]) for i in far],
           "robust_sd": [float(deviation[i]) for i in far], "threshold": DIVERGED}
    if source_lines is not None:
        out["lines"] = [int(source_lines[row]) for row in rows]
    return out


def outliers_text(outliers: dict, shown: int = 10) -> str:
    """The runs of a fit's ``diagnostics["outliers"]`` in words: ``"row 20 (line 22): loss
    2.6x the law's (88 sd)"``, one per run, the first ``shown`` and how many more."""
    lines = outliers.get("lines")
    words = (f"row {row}" + ("" if lines is None else f" (line {lines[k]})")
             + f": loss {np.exp(-z):.3g}x the law's ({sd:.0f} sd)"
             for k, (row, z, sd) in enumerate(zip(outliers["rows"], outliers["log_residuals"],
                                                   outliers["robust_sd"])))
    return named_list(words, shown, total=len(outliers["rows"]), sep="; ", noun="run")


def warn_diverged(result, runs, stacklevel: int = 3, *, group: str | None = None) -> None:
    """A :class:`~scalinglaws.ScalingLawsWarning` naming the runs of
    ``result.diagnostics["outliers"]`` (:func:`diverged_runs`), if any; ``group``
    (``"setting='a'"``) names the group of a grouped fit whose law ``result`` is."""
    outliers = (result.diagnostics or {}).get("outliers")
    if not outliers:
        return
    n = len(outliers["rows"])
    where = runs.source if group is None else f"{runs.source}, group {group}"
    warnings.warn(f"{where}: {counted(n, 'run')} {'lies' if n == 1 else 'lie'} more than "
                  f"{DIVERGED:g} robust standard deviations of the residuals off the fitted "
                  f"law ({outliers_text(outliers)}): a diverged or mislogged run pulls every "
                  "parameter (and, kept in calibrate's rollout, widens every interval beyond "
                  "the fitted range). Check them, drop those that are not what the sweep "
                  "measured (Runs.select or Runs.query; --exclude-top-loss K on the command "
                  "line when they are the K runs of largest loss) and fit again; "
                  "result.diagnostics['outliers'] lists them", ScalingLawsWarning,
                  stacklevel=stacklevel)
