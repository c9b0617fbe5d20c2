"""Tests of scalinglaws.outputs.plot.isoflop: IsoFLOP profiles and the allocation through
their minima.

Each drawn profile curve is refitted here with a parabola in ln N: its vertex must be the
minimum the IsoFLOP analysis reports (the figure draws the curve the analysis fitted).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from test_plot import _close_figures, colorbar_labels, legend_texts, save  # noqa: F401

from scalinglaws import InputError, plot
from scalinglaws.fitting.isoflop import isoflop_fit


@pytest.fixture(scope="module")
def isoflop_result(runs):
    return isoflop_fit(runs, budget="budget")


def test_isoflop_profiles(isoflop_result, runs, tmp_path):
    ax = plot.isoflop_profiles(isoflop_result, runs)
    save(ax, tmp_path, "isoflop_profiles")
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "parameters N" and ax.get_ylabel() == "loss (nats/token)"
    assert colorbar_labels(ax.figure) == ["training compute C (FLOP), budget"]
    table = isoflop_result.budgets
    assert (table["status"] == "ok").all()
    minima = [line for line in ax.get_lines() if line.get_marker() == "D" and len(line.get_xdata())]
    assert len(minima) == len(table)
    np.testing.assert_allclose(sorted(float(m.get_xdata()[0]) for m in minima),
                               sorted(table["N_opt"]), rtol=1e-12)
    # each drawn curve is a parabola in ln N whose vertex is the reported (N_opt, loss_opt)
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) == 200]
    assert len(curves) == len(table)
    vertices = []
    for curve in curves:
        n, loss = curve.get_data()
        c2, c1, c0 = np.polyfit(np.log(n), loss, 2)
        ln_n = -c1 / (2 * c2)
        vertices.append((np.exp(ln_n), c0 + c1 * ln_n + c2 * ln_n**2))
    vertices.sort()
    expected = table.sort_values("N_opt")[["N_opt", "loss_opt"]].to_numpy()
    np.testing.assert_allclose(vertices, expected, rtol=1e-8)
    assert len(ax.collections) >= len(table)  # the runs of every budget
    assert "minimum of the fitted curve (N_opt)" in legend_texts(ax)
    assert "parabola fit of loss against ln N" in legend_texts(ax)
    # without runs: the minima only
    ax = plot.isoflop_profiles(isoflop_result)
    assert not [line for line in ax.get_lines() if len(line.get_xdata()) == 200]


def test_isoflop_frontier(isoflop_result, tmp_path):
    ax = plot.isoflop_frontier(isoflop_result)
    save(ax, tmp_path, "isoflop_frontier")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "training compute C (FLOP)"
    assert ax.get_ylabel() == "compute-optimal N_opt (parameters), D_opt (tokens)"
    texts = legend_texts(ax)
    low, high = isoflop_result.a_interval
    assert (f"N_opt ∝ C^{isoflop_result.a:.3f} (parameters); t interval "
            f"[{low:.3f}, {high:.3f}]") in texts
    # the band says what it is: the line's t interval without resamples (an audit: the
    # legend named neither kind while the band could be the bootstrap's)
    level = f"{100 * isoflop_result.confidence_level:g}%"
    assert f"{level} t interval of the fitted line" in texts
    assert any(t.startswith(f"D_opt ∝ C^{isoflop_result.b:.3f}") for t in texts)
    # the lines are the fitted power laws through the minima: a straight line in log-log
    # whose slopes are a and b
    n_line, d_line = (line for line in ax.get_lines() if len(line.get_xdata()) == 100)
    for line, slope in ((n_line, isoflop_result.a), (d_line, isoflop_result.b)):
        c, value = line.get_data()
        fitted = np.polyfit(np.log(c), np.log(value), 1)[0]
        assert fitted == pytest.approx(slope, rel=1e-9)
    table = isoflop_result.budgets
    points = [col for col in ax.containers]  # the two errorbar containers: N, then D
    np.testing.assert_allclose(points[0][0].get_xdata(), table["C"], rtol=1e-12)
    np.testing.assert_allclose(points[0][0].get_ydata(), table["N_opt"], rtol=1e-12)
    np.testing.assert_allclose(points[1][0].get_ydata(), table["D_opt"], rtol=1e-12)
    with pytest.raises(InputError, match="`isoflop_result` must be an IsoFLOPResult"):
        plot.isoflop_frontier(object())
    with pytest.raises(InputError, match="`isoflop_result` must be an IsoFLOPResult"):
        plot.isoflop_profiles({"a": 0.5})


def test_isoflop_frontier_names_a_bootstrap_band():
    # the band's kind is read from predict_optimal's attrs["method"] (its attrs["interval"]
    # is the kind of interval, "confidence", as every allocation table's)
    import scalinglaws as sl
    from scalinglaws.fitting.isoflop import isoflop_fit

    resampled = isoflop_fit(sl.generate_sweep(rng=0), curve="parabola", n_resamples=20, rng=1)
    ax = plot.isoflop_frontier(resampled)
    assert "95% bootstrap percentile interval of the fitted line" in legend_texts(ax)


def _points_under(ax, legend):
    """Scatter points of ``ax`` whose marker (a disc of its drawn size) reaches into
    ``legend``'s box, in display coordinates."""
    ax.figure.draw_without_rendering()
    box = legend.get_window_extent()
    count = 0
    for collection in ax.collections:
        if not len(collection.get_offsets()):
            continue
        xy = collection.get_offset_transform().transform(collection.get_offsets())
        # a marker's size is its area in points^2: radius sqrt(s / pi) points, in pixels
        radius = np.sqrt(collection.get_sizes() / np.pi) * ax.figure.dpi / 72
        count += int(np.sum((xy[:, 0] + radius >= box.x0) & (xy[:, 0] - radius <= box.x1)
                            & (xy[:, 1] + radius >= box.y0) & (xy[:, 1] - radius <= box.y1)))
    return count


def test_the_legend_hides_no_run(runs, tmp_path):
    """Stop 36's list: on Epoch's runs the legend (a long line naming the excluded budgets)
    sat over the outlier run it names (N = 2.98e9, loss 4.67). A legend that hides a run
    wherever it goes inside now goes below the axes: so on the sweep as it is (dense
    valleys, no free corner); with one run far above its budget's valley there is a free
    corner, and the legend stays inside, in its frame."""
    import pandas as pd

    import scalinglaws as sl

    frame = runs.to_frame()
    low = frame.loc[frame["budget"] == frame["budget"].min()].sort_values("N")
    middle = low.iloc[[len(low) // 2]]
    diverged = middle.assign(loss=middle["loss"] * 1.3)  # above every other run
    table = sl.load_runs(pd.concat([frame.drop(diverged.index), diverged], ignore_index=True))
    with pytest.warns(sl.ScalingLawsWarning, match="outlier"):
        result = isoflop_fit(table, budget="budget")
    assert (result.budgets["status"] == "outlier").sum() == 1
    for ax, inside in ((plot.isoflop_profiles(result, table), True),
                       (plot.isoflop_profiles(isoflop_fit(runs, budget="budget"), runs), False)):
        save(ax, tmp_path, "isoflop_profiles_legend")
        legend = ax.get_legend()
        assert _points_under(ax, legend) == 0
        below = legend.get_window_extent().y1 < ax.get_window_extent().y0
        assert (legend.get_frame_on(), below) == (inside, not inside)


def test_the_legend_stays_inside_a_figure_without_a_layout_engine(runs):
    """On the caller's plain figure nothing makes room below the axes (the legend would
    fall off the canvas): "best" inside it is. A canvas without a renderer of its own
    (PDF) draws as well."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import FigureCanvasPdf
    from matplotlib.figure import Figure

    result = isoflop_fit(runs, budget="budget")
    _fig, ax = plt.subplots()
    plot.isoflop_profiles(result, runs, ax=ax)
    assert ax.get_legend().get_frame_on()
    figure = Figure(layout="constrained")
    FigureCanvasPdf(figure)
    ax = plot.isoflop_profiles(result, runs, ax=figure.add_subplot())
    assert _points_under(ax, ax.get_legend()) == 0
    # below the axis label, not over the tick labels, in a grid of small panels
    grid = plt.subplots(2, 2, layout="constrained", figsize=(10, 8))[1].ravel()
    for panel in grid:
        plot.isoflop_profiles(result, runs, ax=panel)
    grid[0].figure.draw_without_rendering()
    for panel in grid:
        assert panel.get_legend().get_window_extent().y1 <= panel.xaxis.get_tightbbox().y0


def test_a_long_legend_below_keeps_the_colour_bar_beside_its_panel(runs):
    """A legend moved below the axes was as wide as its longest line (the list of excluded
    budgets on Epoch's runs: wider than the panel), which widened the layout's column and
    left the colour bar floating far to the right of its panel. Its lines now wrap to the
    panel's width."""
    import matplotlib.pyplot as plt

    from scalinglaws.outputs.plot._style import legend_clear_of_points

    figure = plt.figure(figsize=(6.5, 5), layout="constrained")
    ax = figure.add_subplot()
    ax.scatter(np.tile(np.arange(10), 10), np.repeat(np.arange(10), 10), label="runs")
    label = "excluded: " + "; ".join(f"C = {c:.3g} (edge_minimum)" for c in np.logspace(18, 20, 4))
    ax.scatter([], [], label=label)
    bar = figure.colorbar(plt.cm.ScalarMappable(), ax=ax)
    legend = legend_clear_of_points(ax, fontsize="small")
    figure.draw_without_rendering()
    panel = ax.get_window_extent()
    assert not legend.get_frame_on()  # below: every place inside covers a point
    assert legend.get_window_extent().width <= panel.width
    assert (bar.ax.get_window_extent().x0 - panel.x1) / figure.dpi < 0.3  # inches
    assert "(edge_minimum)" in legend.get_texts()[1].get_text()  # wrapped, not cut
    plt.close(figure)
