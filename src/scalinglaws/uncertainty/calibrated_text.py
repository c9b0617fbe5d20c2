"""The ``uncertainty`` lines of :meth:`CalibratedFit.summary
<scalinglaws.uncertainty.calibrated.CalibratedFit.summary>`: the scatter, whole runs, the
rollout's extrapolation term and the bootstrap, one line each."""

from __future__ import annotations

import numpy as np

from .._text import counted

__all__ = ["uncertainty_summary"]


def uncertainty_summary(law) -> list[str]:
    """The summary's lines under ``uncertainty`` for the calibrated fit ``law``."""
    lines = []
    s = law.scatter
    shape = {"constant": "", "power": f" x ({s.axis}/{s.reference:.3g})^{s.coefficient:.3g}",
             "ratio": f" x exp({s.coefficient:.3g} (log(D/N) - {s.ratio_center:.3g})^2)"}
    lines.append(f"  scatter       sd(log loss) = {s.sigma:.4g}{shape[s.model]}"
                 f"  ({s.source}, {s.dof:.0f} dof, {counted(s.n_outliers, 'outlier')} set aside)")
    if law.clusters is not None:
        # the scatter of replicas is their spread at equal inputs, whatever the runs
        scatter = ("the replicas' spread" if s.source == "replicates"
                   else "a new run's (dof in runs)")
        # (a file whose replicas' scatter counted rows does not know how many runs)
        runs = f": {counted(s.n_runs, 'run')}" if s.clusters == law.clusters else ""
        lines.append(f"  whole runs ({law.clusters}){runs}; the scatter is {scatter}, "
                     "the rollout keeps each run on one side of its cuts")
    if law.calibration is not None:
        c = law.calibration
        q = c.multiplier(0.95)
        lines.append(f"  extrapolation tau = {c.tau:.4g}, kappa = {c.kappa:.4g} per unit "
                     f"log({c.axis}/{c.axis}_max); "
                     f"rollout of {c.n_folds} folds, {c.n_points} held-out runs, up to "
                     f"{np.exp(c.max_log_factor):.3g}x; 95% multiplier "
                     + (f"{q:.3g} (conformal)" if q is not None else "from Student's t"))
    else:
        lines.append("  extrapolation not calibrated (no rollout)")
    if law.bootstrap is not None:
        b = law.bootstrap
        whole = "" if b.clusters is None else f", {b.resampled}"
        lines.append(f"  bootstrap     {b.n_resamples} resamples ({b.n_failed} failed"
                     f"{whole}), "
                     f"{b.method} parameter intervals; percentile over its draws "
                     "for predictions")
    return lines
