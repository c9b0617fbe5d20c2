"""Where a rollout cuts (uncertainty/cuts.py): distinct cuts, whatever the last bits of C."""

from __future__ import annotations

import numpy as np
import pandas as pd

import scalinglaws as sl
from scalinglaws.uncertainty.rollout import rollout_cuts

BUNDLED = "datasets/synthetic_chinchilla_sweep.csv"


def test_targets_at_midpoints_give_the_same_cuts_whatever_the_rounding():
    """Seven admissible levels 1, 2, ..., 64 and five targets at 2^0, 2^1.5, 2^3, 2^4.5, 2^6: the
    second and fourth lie at the geometric midpoints of two levels. A tie goes to the
    lower level, so the cuts are 1, 2, 8, 16, 64, and a relative nudge of 3e-10 either
    way (C read from a file or made from N and D) changes nothing."""
    levels = 2.0 ** np.arange(8)  # 128, the last, leaves nothing to predict: no cut
    for nudge in (0.0, 3e-10, -3e-10):
        values = np.repeat(levels * (1 + nudge * np.array([1, -1, 1, -1, 1, -1, 1, -1])), 2)
        cuts = rollout_cuts(values, n_cuts=5, min_train=1)
        np.testing.assert_allclose(cuts, [1, 2, 8, 16, 64], rtol=1e-9)


def test_two_targets_nearest_one_level_still_get_a_cut_each():
    """Levels 1, 5, 6, 7, 1000 and four targets 1, 10, 100, 1000 (evenly spaced in log):
    the nearest levels are 1, 7, 1000, 1000, and merging the repeat dropped a fold. The
    four distinct levels in order nearest to them: 1, 6 (|log 10/6| = 0.51), 7
    (|log 100/7| = 2.66), 1000, a total of 3.17 against 3.35 for 1, 5, 7, 1000."""
    values = np.array([1.0, 5.0, 6.0, 7.0, 1000.0, 2000.0])
    np.testing.assert_array_equal(rollout_cuts(values, n_cuts=4, min_train=1),
                                  [1.0, 6.0, 7.0, 1000.0])
    # as many cuts as asked whenever as many levels are admissible
    rng = np.random.default_rng(0)
    for _ in range(200):
        values = np.exp(rng.uniform(0, 10, size=rng.integers(6, 30)))
        for n_cuts in range(1, 7):
            cuts = rollout_cuts(values, n_cuts=n_cuts, min_train=1)
            admissible = np.unique(values)[:-1]  # all but the largest leave one to predict
            assert cuts.size == min(n_cuts, admissible.size)
            assert np.all(np.diff(cuts) > 0) and np.isin(cuts, admissible).all()


def test_the_bundled_sweep_rolls_out_alike_with_c_read_or_derived(tmp_path):
    """The audit's nd.csv (N, D and loss only: C = 6 N D, 3e-10 off the file's C) gave 4
    folds and 180 held-out records where the file gives 5 and 228: its nine budgets
    6e18 ... 3e21 leave six admissible levels 3e19 ... 1e21 (36 of 108 runs to fit), and
    the middle target sqrt(1e20 3e20) fell to either side."""
    frame = pd.read_csv(BUNDLED)
    frame[["N", "D", "loss"]].to_csv(tmp_path / "nd.csv", index=False)
    read, derived = sl.load_runs(BUNDLED), sl.load_runs(tmp_path / "nd.csv")
    assert not np.array_equal(read.C, derived.C)  # the last bits differ
    for runs in (read, derived):
        cuts = rollout_cuts(runs.C, n_cuts=5, min_train=36)
        np.testing.assert_allclose(cuts, [3e19, 6e19, 1e20, 3e20, 1e21], rtol=1e-9)
    folds = [sl.backtest(runs, rollout=True, progress=False) for runs in (read, derived)]
    assert [len(r.cuts) for r in folds] == [5, 5]
    # held out above the cuts (12 runs a budget): 72 + 60 + 48 + 36 + 12 records
    assert folds[0].fold.size == folds[1].fold.size == 228
