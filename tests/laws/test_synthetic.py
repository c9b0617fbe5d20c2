import numpy as np
import pytest

from scalinglaws import InputError, generate_sweep
from scalinglaws.laws.synthetic import DEFAULT_BUDGETS, isoflop_grid


def test_isoflop_layout():
    grid = isoflop_grid(n_sizes=5)
    assert len(grid) == 5 * len(DEFAULT_BUDGETS)
    np.testing.assert_allclose(6 * grid.N * grid.D, grid.C, rtol=1e-12)
    first = grid[grid.budget == 0]
    assert first.N.max() / first.N.min() == pytest.approx(100)


def test_same_seed_same_sweep_and_noise_level():
    a, b = generate_sweep(rng=3), generate_sweep(rng=3)
    assert np.array_equal(a.loss, b.loss)
    assert not np.array_equal(a.loss, generate_sweep(rng=4).loss)
    clean = generate_sweep(noise=0.0)
    log_noise = np.log(generate_sweep(noise=0.01, rng=0).loss / clean.loss)
    assert np.std(log_noise) == pytest.approx(0.01, rel=0.2)


def test_generator_validates():
    with pytest.raises(InputError, match="`noise`"):
        generate_sweep(noise=-1)
    with pytest.raises(InputError, match="`budgets`"):
        generate_sweep(budgets=[])
    with pytest.raises(InputError, match="`n_sizes`"):
        isoflop_grid(n_sizes=1)
