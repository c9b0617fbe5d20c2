"""Kaplan et al. (2020)'s critical batch size and S_min / C_min (laws/critical_batch.py),
against the values and limits the paper states (Eq 1.4, 5.3-5.5, Fig 10 caption)."""

import numpy as np
import pytest

from scalinglaws.laws import critical_batch as CB


@pytest.mark.parametrize("loss, expected", [(3.0, 1.07e6), (2.5, 2.55e6), (2.0, 7.37e6)])
def test_critical_batch_size_values(loss, expected):
    assert CB.critical_batch_size(loss) == pytest.approx(expected, rel=0.01)


def test_critical_batch_size_table5_constant_and_doubling():
    assert CB.critical_batch_size(2.0, b_star=CB.KAPLAN_B_STAR_TABLE5) == pytest.approx(
        1.05 * CB.critical_batch_size(2.0))
    # B_crit doubles for a ~13% drop in loss (Kaplan Fig 10 caption): 1 - 2^-0.21
    ratio = CB.critical_batch_size(1 - 0.135) / CB.critical_batch_size(1.0)
    assert ratio == pytest.approx(2, rel=0.01)


def test_min_steps_and_min_compute_limits():
    loss = 2.5
    b_crit = CB.critical_batch_size(loss)
    assert CB.min_steps(1000, 1e4 * b_crit, loss) == pytest.approx(1000, rel=1e-3)
    assert CB.min_compute(1e20, 1e-4 * b_crit, loss) == pytest.approx(1e20, rel=1e-3)
    assert CB.min_steps(1000, b_crit, loss) == pytest.approx(500)
    assert CB.min_compute(1e20, b_crit, loss) == pytest.approx(5e19)
    # far on the wrong side, the minimum is much smaller
    assert CB.min_steps(1000, 1e-2 * b_crit, loss) < 10
    assert CB.min_compute(1e20, 1e2 * b_crit, loss) < 1e18
    np.testing.assert_allclose(CB.min_steps(1000, [b_crit, b_crit], [loss, loss]), [500, 500])
