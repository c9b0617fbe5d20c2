"""Tests of scalinglaws.outputs.plot.landscape: the predicted loss over (N, D).

The compute-optimal path and points are checked against Hoffmann et al. 2022 Eq 4 typed in
here; the iso-compute lines against C = 6ND; the contours against the law itself.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.contour import ContourSet
from test_plot import _close_figures, colorbar_labels, legend_texts, save  # noqa: F401

from scalinglaws import InputError, LackOfFitWarning, ScalingLawsWarning, fit, plot


def _eq4(params, compute):
    """(N_opt, D_opt) of Hoffmann et al. 2022 Eq 4 under C = 6ND."""
    A, B, alpha, beta = (params[k] for k in ("A", "B", "alpha", "beta"))
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    x = np.asarray(compute) / 6
    return G * x ** (beta / (alpha + beta)), x ** (alpha / (alpha + beta)) / G


def test_loss_landscape(result, runs, tmp_path):
    budgets = [1e19, 1e21, 1e23]
    ax = plot.loss_landscape(result, budgets=budgets, runs=runs)
    save(ax, tmp_path, "landscape")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "parameters N" and ax.get_ylabel() == "training tokens D"
    assert colorbar_labels(ax.figure) == ["predicted loss (nats/token)"]
    # default window: the runs' sizes and tokens, a third below and 30x above
    assert ax.get_xlim() == pytest.approx((runs.N.min() / 3, runs.N.max() * 30))
    assert ax.get_ylim() == pytest.approx((runs.D.min() / 3, runs.D.max() * 30))
    labels = [t.get_text() for t in ax.texts if "FLOP" in t.get_text()]
    assert labels == ["C = 1e19 FLOP", "C = 1e21 FLOP", "C = 1e23 FLOP"]
    # the compute-optimal path: every point is Eq 4's (N_opt, D_opt) at its own C = 6ND
    path = next(line for line in ax.get_lines() if line.get_label().startswith("compute-optimal"))
    n, d = path.get_data()
    n_opt, d_opt = _eq4(result.params, 6 * n * d)
    np.testing.assert_allclose(n, n_opt, rtol=1e-8)
    np.testing.assert_allclose(d, d_opt, rtol=1e-8)
    # the budgets' optimal points, and their iso-compute lines D = C / (6 N)
    (points,) = [line for line in ax.get_lines() if line.get_marker() == "o"]
    n_opt, d_opt = _eq4(result.params, budgets)
    np.testing.assert_allclose(points.get_xdata(), n_opt, rtol=1e-9)
    np.testing.assert_allclose(points.get_ydata(), d_opt, rtol=1e-9)
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"
              and len(line.get_xdata())]
    assert len(dashed) == 3
    for line, budget in zip(dashed, budgets):
        n, d = line.get_data()
        np.testing.assert_allclose(6 * n * d, budget, rtol=1e-12)
    assert "iso-compute C = 6ND" in legend_texts(ax)
    assert "runs (108)" in legend_texts(ax)
    # the filled contours start at or below the lowest loss in the window
    (filled,) = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    grid_n = np.geomspace(*ax.get_xlim(), 240)
    grid_d = np.geomspace(*ax.get_ylim(), 240)
    lowest = result.predict(N=grid_n[-1], D=grid_d[-1])  # the loss falls with N and D
    assert filled.levels[0] <= lowest < filled.levels[1]


def test_loss_landscape_defaults_and_errors(result, runs):
    ax = plot.loss_landscape(result)
    assert ax.get_xlim() == pytest.approx((1e7, 1e12))
    assert ax.get_ylim() == pytest.approx((1e9, 1e14))
    # every other decade inside [6 * 1e7 * 1e9, 6 * 1e12 * 1e14], one decade in from each end
    assert [t.get_text() for t in ax.texts if "FLOP" in t.get_text()] == [
        "C = 1e18 FLOP", "C = 1e20 FLOP", "C = 1e22 FLOP", "C = 1e24 FLOP"]
    ax = plot.loss_landscape(result, n_range=(1e8, 1e10), d_range=(1e10, 1e12),
                             flops_per_token=3, levels=5)
    assert "iso-compute C = 3ND" in legend_texts(ax)
    with pytest.raises(InputError, match="`n_range` must satisfy 0 < low < high"):
        plot.loss_landscape(result, n_range=(1e9, 1e8))
    with pytest.warns(ScalingLawsWarning, match="is a law of N alone"), \
            pytest.warns(LackOfFitWarning, match="misfits the runs"):  # D varies here
        kaplan = fit(runs, "kaplan_n")
    with pytest.raises(InputError, match="in N and D"):
        plot.loss_landscape(kaplan)


def test_the_landscape_counts_compute_with_the_fits_own_flops_per_token(runs, tmp_path):
    """A fit made with C = 8 N D draws C = 8ND lines and Eq 4's optimum at C/8 (before: the
    plot's own default k = 6 put the 1e20 optimum at 8.4e8 parameters, 2e10 tokens, while
    `optimal` of the same fit said 7.1e8, 1.75e10; the legend said C = 6ND)."""
    from scalinglaws import load_runs

    law = fit(load_runs(runs.frame[["N", "D", "loss"]], flops_per_token=8), "chinchilla")
    assert law.flops_per_token == 8
    ax = plot.loss_landscape(law, budgets=[1e20])
    save(ax, tmp_path, "landscape_k8")
    A, B, alpha, beta = (law.params[k] for k in ("A", "B", "alpha", "beta"))
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    n_opt = G * (1e20 / 8) ** (beta / (alpha + beta))  # Eq 4 with C = 8ND
    (point,) = [line for line in ax.get_lines() if line.get_marker() == "o"]
    np.testing.assert_allclose(point.get_xdata(), [n_opt], rtol=1e-9)
    np.testing.assert_allclose(point.get_ydata(), [1e20 / (8 * n_opt)], rtol=1e-9)
    (dashed,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"
                 and len(line.get_xdata())]
    n, d = dashed.get_data()
    np.testing.assert_allclose(8 * n * d, 1e20, rtol=1e-12)
    assert "iso-compute C = 8ND" in legend_texts(ax)
    # an explicit k still wins
    ax = plot.loss_landscape(law, budgets=[1e20], flops_per_token=6)
    assert "iso-compute C = 6ND" in legend_texts(ax)


def test_contour_labels_lie_whole_inside_the_frame(result, runs, tmp_path):
    # the plan figure's "7.20" was cut in half by the frame: labels were placed before the
    # axes were log-scaled and limited, so some sat on the edge
    from matplotlib.text import Text

    for window in ({}, {"n_range": (1e6, 1e12), "d_range": (1e7, 1e13)}):
        ax = plot.loss_landscape(result, runs=runs, **window)
        save(ax, tmp_path, "labels")
        ax.figure.canvas.draw()
        frame = ax.get_window_extent()
        numbers = [t for t in ax.texts if isinstance(t, Text) and t.get_text()[:1].isdigit()]
        assert numbers, "no contour label drawn"
        for text in numbers:
            box = text.get_window_extent()
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()
