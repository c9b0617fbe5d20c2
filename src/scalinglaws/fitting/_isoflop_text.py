"""What an IsoFLOP analysis prints: :meth:`IsoFLOPResult.summary
<scalinglaws.fitting.isoflop.IsoFLOPResult.summary>`, and identical lines of its warnings
and errors merged with their count. Beside :mod:`scalinglaws.fitting.isoflop`, which keeps
the fit and its result within the house's 600 lines."""

from __future__ import annotations

from collections import Counter

import numpy as np

__all__ = ["isoflop_summary", "merged"]


def merged(lines) -> str:
    """Join lines with "; ", identical ones once with their count ("... (x51)")."""
    counts = Counter(lines)
    return "; ".join(line + (f" (x{counts[line]})" if counts[line] > 1 else "")
                     for line in dict.fromkeys(lines))


def isoflop_summary(result) -> str:
    """A readable report of an :class:`~scalinglaws.fitting.isoflop.IsoFLOPResult`: options,
    how D* was counted, the per-budget table, and the fitted exponents."""
    o = result.options
    curve = o["curve"] + (f" (degree {o['degree']})" if o["curve"] == "poly" else "")
    lines = [
        "IsoFLOP profiles (Hoffmann et al. 2022, Approach 2)",
        f"curve      {curve} of {'ln loss' if o['log_loss'] else 'loss'} against ln N"
        + (f", {o['window']} points around the lowest" if o.get("window") else ""),
        (f"budgets    {result.n_budgets_used} used, {result.n_budgets_excluded} excluded "
         f"(grouped by {o['budget']}); {result.n_runs} runs; minima SE: {o['se_method']}"),
        f"tokens     {o['tokens']}",
    ]
    span = result.flops_per_token_range
    if span is not None:  # no one k made D*: say what C per parameter and token it was
        low, high = f"{span[0]:.4g}", f"{span[1]:.4g}"
        ratios = (f"{low} at every used budget" if low == high
                  else f"{low}-{high} over the used budgets")
        lines.append(f"compute    C/(N_opt D_opt) {ratios} (no one k: flop_model "
                     f"{result.flop_model!r})")
    lines += [
        f"regression {'WLS (1/SE^2)' if o['weighted'] else 'OLS'} of ln N_opt on ln C",
        "",
        f"{'C':>10} {'n':>3} {'N_opt':>10} {'±ln':>6} {'D_opt':>10} {'loss_opt':>9}  status",
    ]
    for row in result._budgets.itertuples():
        se = "" if not np.isfinite(row.ln_N_opt_se) else f"{row.ln_N_opt_se:.3f}"
        n_opt = "" if not np.isfinite(row.N_opt) else f"{row.N_opt:.4g}"
        d_opt = "" if not np.isfinite(row.D_opt) else f"{row.D_opt:.4g}"
        loss = "" if not np.isfinite(row.loss_opt) else f"{row.loss_opt:.4f}"
        status = row.status + (f": {row.reason}" if row.reason else "")
        lines.append(f"{row.C:>10.4g} {row.n_points:>3d} {n_opt:>10} {se:>6} {d_opt:>10} "
                     f"{loss:>9}  {status}")
    return "\n".join(lines + ["", *result._scalar_lines()])
