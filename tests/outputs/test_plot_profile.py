"""plot.profile: the profile objective over (alpha, beta), checked against values
computed here (the optimum's cell, the joint region's level), and its argument checks."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

import scalinglaws as sl  # noqa: E402
from scalinglaws import InputError, plot  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    runs = sl.generate_sweep(noise=0.01, rng=5)
    return runs, sl.fit(runs)


def test_draws_the_profile_with_the_optimum_marked(fitted):
    runs, result = fitted
    alpha, beta = result.params["alpha"], result.params["beta"]
    alphas = np.linspace(alpha - 0.05, alpha + 0.05, 7)
    betas = np.linspace(beta - 0.05, beta + 0.05, 7)
    ax = plot.profile(result, runs, alphas=alphas, betas=betas, intervals=False)
    star = [line for line in ax.lines if line.get_marker() == "*"]
    assert len(star) == 1
    assert star[0].get_xdata()[0] == alpha and star[0].get_ydata()[0] == beta
    mesh = ax.collections[0]
    shown = np.asarray(mesh.get_array()).reshape(len(betas), len(alphas))
    # the grid passes through the optimum (middle cell): the smallest statistic is there
    assert np.unravel_index(np.argmin(shown), shown.shape) == (3, 3)
    # the black contour is the chi-square(2) level of the joint region
    contour = [c for c in ax.collections[1:] if hasattr(c, "levels")]
    assert contour and contour[0].levels[0] == pytest.approx(stats.chi2.ppf(0.95, 2))
    assert ax.get_xlabel().startswith("α") and ax.get_ylabel().startswith("β")
    # the asymptotic 95% region of a Huber fit covered the truth in 51 of 60 simulated
    # sweeps (README, tests/uncertainty/test_profile.py): the legend says so
    labels = [line.get_label() for line in ax.lines]
    assert "joint 95% region (asymptotic; covered about 85% in simulation)" in labels


def test_the_regions_label_says_what_the_simulation_measured(fitted):
    runs, result = fitted
    squared = sl.fit(runs, loss="squared")
    for fit, level, label in ((squared, 0.95, "joint 95% region (asymptotic; covered about 93% "
                                              "in simulation)"),
                              (result, 0.9, "joint 90% region (asymptotic)")):
        ax = plot.profile(fit, runs, size=5, confidence_level=level, intervals=False)
        assert label in [line.get_label() for line in ax.lines]


def test_bad_arguments(fitted):
    runs, result = fitted
    with pytest.raises(InputError, match="`size`"):
        plot.profile(result, runs, size=2)
    with pytest.raises(InputError, match="`alphas`"):
        plot.profile(result, runs, alphas=[0.3, 0.2])
    with pytest.raises(InputError, match="`confidence_level`"):
        plot.profile(result, runs, confidence_level=2)
    with pytest.raises(InputError, match="every parameter free"):
        plot.profile(sl.fit(runs, fixed={"E": 1.8}), runs, size=5, intervals=False)
