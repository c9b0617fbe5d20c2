"""Tests of scalinglaws.outputs.plot.corner: the corner plot of bootstrap draws.

The correlations printed in each panel are recomputed here from the draws; the
histograms' counts add up to the draws; the titles carry the bootstrap intervals.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from test_plot import _close_figures, save  # noqa: F401

from scalinglaws import InputError, plot


def _printed_rho(ax):
    text = next(t.get_text() for t in ax.texts if t.get_text().startswith("ρ"))
    return float(text.split("=")[1])


def test_bootstrap_corner(result, tmp_path):
    boot = result.bootstrap
    axes = plot.bootstrap_corner(boot)
    save(axes[0, 0], tmp_path, "corner")
    names = list(result.form.param_names)
    assert axes.shape == (5, 5)
    assert not axes[0, 1].axison and axes[1, 0].axison
    draws = np.asarray(boot.draws)
    for i, name in enumerate(names):
        heights = [patch.get_height() for patch in axes[i, i].patches]
        assert sum(heights) == len(draws)  # every draw in the histogram, 25 bins
        assert len(heights) == 25
        low, high = boot.intervals[name]
        assert axes[i, i].get_title().endswith(f"[{low:.4g}, {high:.4g}]")
    # each panel's correlation, of the logs for scale parameters (E, A, B), to 2 decimals
    logged = np.column_stack([np.log(draws[:, k]) if n in result.form.log_params else draws[:, k]
                              for k, n in enumerate(names)])
    for i in range(5):
        for j in range(i):
            expected = np.corrcoef(logged[:, j], logged[:, i])[0, 1]
            assert _printed_rho(axes[i, j]) == pytest.approx(expected, abs=0.005 + 1e-12)
    # the alpha-A and beta-B ridges: an exponent and its scale trade off between resamples
    assert _printed_rho(axes[names.index("alpha"), names.index("A")]) > 0.9
    assert _printed_rho(axes[names.index("beta"), names.index("B")]) > 0.9
    assert axes[1, 0].get_yscale() == "log"  # A, a scale parameter
    assert axes[4, 0].get_xlabel() == "E (log)" and axes[4, 3].get_xlabel() == "α"


def test_bootstrap_corner_subset_and_errors(result, plain_result):
    fig = plt.figure()
    axes = plot.bootstrap_corner(result, params=["alpha", "A"], fig=fig)
    assert axes.shape == (2, 2) and axes[0, 0].figure is fig
    scattered = axes[1, 0].collections[0].get_offsets()
    assert len(scattered) == len(result.bootstrap.draws)
    axes = plot.bootstrap_corner(result, params=["alpha", "A"], max_points=10)
    scattered = axes[1, 0].collections[0].get_offsets()
    assert len(scattered) == 10  # an even subset of the draws
    with pytest.raises(InputError, match="`params` must name distinct parameters"):
        plot.bootstrap_corner(result.bootstrap, params=["nope"])
    with pytest.raises(InputError, match="`bootstrap_result` must be a BootstrapResult"):
        plot.bootstrap_corner(plain_result)
