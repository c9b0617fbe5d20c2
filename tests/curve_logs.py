"""Training curves written as a user's log: one row per step with its LR, the loss where
it was evaluated (for CLI tests that read curves from a CSV)."""

from __future__ import annotations

from pathlib import Path


def write_lr_logged_curves(curves, path: Path) -> Path:
    """``curves`` (a CurveTable) as a CSV of run, step, lr and val_loss (empty between
    evaluations), every step of each run's LR schedule."""
    import pandas as pd

    rows = []
    for run in curves.runs:
        lr = curves.lr_array(run)
        loss = dict(zip(curves.steps(run).tolist(), curves.loss(run).tolist()))
        rows += [{"run": run, "step": s, "lr": lr[s], "val_loss": loss.get(s, "")}
                 for s in range(len(lr))]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path
