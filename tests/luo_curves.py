"""Luo et al. (2025)'s 27 published curves with their schedules, and their train/test split,
read in place from ``../shared`` (the ``luo_curves`` fixture of conftest.py loads them once
per session)."""

from __future__ import annotations

from scalinglaws.data.curves import load_curves
from scalinglaws.laws.schedules import attach_schedules


def load_luo(shared_dir):
    """The 27 curves of ``datasets/lr_schedule_curves`` with their exact LR schedules."""
    folder = shared_dir / "datasets" / "lr_schedule_curves"
    curves = load_curves(folder / "mpl_luo2025_curves.csv", columns={"N": "n_params"})
    return attach_schedules(curves, folder / "mpl_luo2025_schedules.csv", key="schedule_file")


def split(curves, size):
    """(train, test) curves of one model size, as the paper splits them."""
    frame = curves.frame
    size_rows = (frame["model_size"] == size).to_numpy()
    train = (frame["paper_split"] == "train").to_numpy()
    return curves.select(mask=size_rows & train), curves.select(mask=size_rows & ~train)
