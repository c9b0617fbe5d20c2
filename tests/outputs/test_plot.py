"""Tests of scalinglaws.plot: every figure renders and carries the expected artists.

Figures are drawn with the Agg backend on the synthetic IsoFLOP sweep, saved to PNG and
inspected through their Axes (lines, collections, labels with units, log scales, legend).
"""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from scalinglaws import (
    InputError,
    Runs,
    fit,
    plot,
)
from scalinglaws.analysis.extrapolate import compute_optimal


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def save(ax_or_fig, tmp_path, name):
    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 2000
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    return path


def legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def colorbar_labels(fig):
    return [a.get_ylabel() for a in fig.axes if a.get_label() == "<colorbar>"]


def test_importing_does_not_import_matplotlib():
    code = ("import scalinglaws, scalinglaws.plot, scalinglaws.report, sys; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------ fit_vs_data
def test_fit_vs_data_draws_one_curve_per_budget(result, runs, tmp_path):
    ax = plot.fit_vs_data(result, runs)
    save(ax, tmp_path, "fit")
    assert ax.get_xscale() == "log"
    assert "parameters" in ax.get_xlabel()
    assert "nats/token" in ax.get_ylabel()
    budgets = runs.frame["budget"].nunique()
    assert len(ax.get_lines()) == budgets
    points = ax.collections[0]
    assert len(points.get_offsets()) == len(runs)
    assert any("FLOP" in label for label in colorbar_labels(ax.figure))
    texts = legend_texts(ax)
    assert "runs (108)" in texts and "fit: chinchilla" in texts
    # each curve is the law along its budget: D = C / (6 N)
    line = ax.get_lines()[0]
    n, loss = line.get_data()
    budget = runs.C[runs.frame["budget"].to_numpy() == 0][0]
    np.testing.assert_allclose(loss, result.predict(N=n, D=budget / (6 * n)), rtol=1e-9)


def test_fit_vs_data_against_compute_shows_the_frontier(result, runs, tmp_path):
    ax = plot.fit_vs_data(result, runs, x="C")
    save(ax, tmp_path, "fit_c")
    assert "FLOP" in ax.get_xlabel()
    assert any("L*(C)" in t for t in legend_texts(ax))
    assert any("parameters" in label for label in colorbar_labels(ax.figure))
    line = ax.get_lines()[-1]
    c, loss = line.get_data()
    np.testing.assert_allclose(loss, compute_optimal(result, c).loss, rtol=1e-9)


def test_fit_vs_data_single_variable_and_iso_d(runs, tmp_path):
    kaplan = fit(runs, "kaplan_n")
    ax = plot.fit_vs_data(kaplan, runs)
    save(ax, tmp_path, "kaplan")
    assert len(ax.get_lines()) == 1
    # an unstructured sweep (no groups): iso-D lines labelled with their token count
    rng = np.random.default_rng(1)
    N = 10 ** rng.uniform(7, 10, 40)
    D = 10 ** rng.uniform(9, 12, 40)
    loose = Runs.from_arrays(N=N, D=D, loss=1.8 + 480 / N**0.35 + 2000 / D**0.37)
    ax = plot.fit_vs_data(fit(loose, "chinchilla"), loose)
    labels = legend_texts(ax)
    assert sum("tokens" in t for t in labels) == 3
    assert any("tokens" in label for label in colorbar_labels(ax.figure))


def test_fit_vs_data_on_given_axes_and_errors(result, runs):
    _fig, ax = plt.subplots()
    assert plot.fit_vs_data(result, runs, color_by="budget", ax=ax) is ax
    with pytest.raises(InputError, match="`x`"):
        plot.fit_vs_data(result, runs, x="loss")
    with pytest.raises(InputError, match="color_by"):
        plot.fit_vs_data(result, runs, color_by="nope")
    with pytest.raises(InputError, match="Axes"):
        plot.fit_vs_data(result, runs, ax="not axes")
    with pytest.raises(InputError, match="FitResult"):
        plot.fit_vs_data({"E": 1}, runs)
    with pytest.raises(InputError, match="groups"):
        plot.fit_vs_data(result, runs, groups="nope")


# ------------------------------------------------------------------ residuals
def test_residuals_three_panels_with_huber_band(result, runs, tmp_path):
    axes = plot.residuals(result, runs)
    save(axes[0], tmp_path, "residuals")
    assert axes.shape == (3,)
    for ax, unit in zip(axes, ("parameters", "tokens", "FLOP")):
        assert ax.get_xscale() == "log"
        assert unit in ax.get_xlabel()
        offsets = ax.collections[0].get_offsets()
        assert len(offsets) == len(runs)
    np.testing.assert_allclose(axes[0].collections[0].get_offsets()[:, 1],
                               np.log(result.predict(N=runs.N, D=runs.D)) - np.log(runs.loss))
    assert "log" in axes[0].get_ylabel()
    band = [p for p in axes[0].patches]
    assert band, "the Huber band is missing"
    extent = band[0].get_path().get_extents(band[0].get_transform())
    low, high = axes[0].transData.inverted().transform([[0, extent.y0], [0, extent.y1]])[:, 1]
    np.testing.assert_allclose([low, high], [-1e-3, 1e-3], rtol=1e-6, atol=1e-9)
    assert any("δ" in t for t in legend_texts(axes[0]))


def test_residuals_squared_loss_has_no_band_and_accepts_axes(runs):
    squared = fit(runs, "chinchilla", loss="squared")
    _fig, given = plt.subplots(1, 3)
    axes = plot.residuals(squared, runs, axes=given)
    assert list(axes) == list(given)
    assert not axes[0].patches
    with pytest.raises(InputError, match="3 matplotlib Axes"):
        plot.residuals(squared, runs, axes=given[:2])


# ------------------------------------------------------------------ frontier
def test_published_frontiers():
    assert plot.kaplan_frontier(8.64e19) == pytest.approx(1.3e9)
    assert plot.kaplan_frontier(10 * 8.64e19) == pytest.approx(1.3e9 * 10**0.73)
    # Hoffmann's unrounded coefficients give ~40B at the Gopher budget (sheet §2.1: 4.04e10)
    assert plot.hoffmann_frontier(5.76e23) == pytest.approx(4.04e10, rel=5e-3)


def test_known_models_table():
    table = plot.known_models_table()
    if table is None:
        pytest.skip("datasets/known_models.csv is not beside the package (installed copy)")
    gpt3 = table.set_index("name").loc["GPT-3"]
    assert gpt3["flops"] == pytest.approx(6 * 175e9 * 300e9)
    assert table.set_index("name").loc["Chinchilla", "flops"] == 5.76e23
    with pytest.raises(InputError, match="lacks column"):
        plot.known_models_table(pd.DataFrame({"name": ["x"], "params": [1e9]}))


def test_efficient_frontier(result, tmp_path):
    models = pd.DataFrame({"name": ["Big", "Small"], "params": [500e9, 1e9],
                           "tokens": [100e9, 1e12]})
    ax = plot.efficient_frontier(result, models=models)
    save(ax, tmp_path, "frontier")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "FLOP" in ax.get_xlabel() and "parameters" in ax.get_ylabel()
    texts = legend_texts(ax)
    assert any(t.startswith("this fit") for t in texts)
    assert any("bootstrap interval (100 draws)" in t for t in texts)
    assert any("Hoffmann" in t and "0.4565" in t for t in texts)
    assert any("Kaplan" in t and "PF-days" in t and "non-embedding" in t for t in texts)
    assert any("under-trained" in t for t in texts)
    line = ax.get_lines()[0]
    c, n = line.get_data()
    np.testing.assert_allclose(n, compute_optimal(result, c).n_params, rtol=1e-9)
    names = {t.get_text() for t in ax.texts}
    assert {"Big", "Small"} <= names
    # "Big" (500B parameters on 6e22 FLOP) is above the frontier: under-trained marker
    red = next(c for c in ax.collections if "under-trained" in str(c.get_label()))
    np.testing.assert_allclose(red.get_offsets()[0], [6 * 500e9 * 100e9, 500e9])


def test_efficient_frontier_defaults_and_errors(plain_result, result, runs):
    ax = plot.efficient_frontier(result, known_models=False, published=False)
    assert not ax.texts and len(ax.get_lines()) == 1
    # no bootstrap attached and no draws: no band; explicit draws: band
    ax = plot.efficient_frontier(plain_result, known_models=False)
    assert not any("bootstrap" in t for t in legend_texts(ax))
    ax = plot.efficient_frontier(plain_result, draws=result.bootstrap.draws, known_models=False)
    assert any("bootstrap" in t for t in legend_texts(ax))
    table = plot.known_models_table()
    if table is not None:
        ax = plot.efficient_frontier(result)
        assert any("Chinchilla" in t.get_text() for t in ax.texts)
    with pytest.raises(InputError, match="N and D"):
        plot.efficient_frontier(fit(runs, "kaplan_n"))
    with pytest.raises(InputError, match="compute"):
        plot.efficient_frontier(result, compute=[1e20, -1])


# ------------------------------------------------------------------ landscape
def test_loss_landscape(result, runs, tmp_path):
    budgets = [1e19, 1e21, 1e23]
    ax = plot.loss_landscape(result, budgets=budgets, runs=runs)
    save(ax, tmp_path, "landscape")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "parameters" in ax.get_xlabel() and "tokens" in ax.get_ylabel()
    assert any("nats/token" in label for label in colorbar_labels(ax.figure))
    labels = [t.get_text() for t in ax.texts]
    for budget in ("1e19", "1e21", "1e23"):
        assert f"C = {budget} FLOP" in labels
    path = next(line for line in ax.get_lines() if line.get_label().startswith("compute-optimal"))
    n, d = path.get_data()
    np.testing.assert_allclose(n, compute_optimal(result, 6 * n * d).n_params, rtol=1e-8)
    assert any("iso-compute" in t for t in legend_texts(ax))


def test_loss_landscape_defaults_and_errors(result, runs):
    ax = plot.loss_landscape(result)
    assert ax.get_xlim() == pytest.approx((1e7, 1e12))
    assert sum("FLOP" in t.get_text() for t in ax.texts) >= 3
    with pytest.raises(InputError, match="n_range"):
        plot.loss_landscape(result, n_range=(1e9, 1e8))
    with pytest.raises(InputError, match="N and D"):
        plot.loss_landscape(fit(runs, "kaplan_n"))


# ------------------------------------------------------------------ corner
def test_bootstrap_corner(result, tmp_path):
    axes = plot.bootstrap_corner(result.bootstrap)
    save(axes[0, 0], tmp_path, "corner")
    assert axes.shape == (5, 5)
    names = list(result.form.param_names)
    assert not axes[0, 1].axison and axes[1, 0].axison
    for i in range(5):
        assert axes[i, i].patches, "histogram missing"
    # alpha-A and beta-B ridges: near-perfect correlation of the draws
    def rho(i, j):
        text = next(t.get_text() for t in axes[i, j].texts if t.get_text().startswith("ρ"))
        return float(text.split("=")[1])
    assert rho(names.index("alpha"), names.index("A")) > 0.9
    assert rho(names.index("beta"), names.index("B")) > 0.9
    assert axes[1, 0].get_yscale() == "log"  # A, a scale parameter
    assert axes[4, 0].get_xlabel().startswith("E")
    assert axes[4, 3].get_xlabel() == "α"


def test_bootstrap_corner_subset_and_errors(result, plain_result):
    fig = plt.figure()
    axes = plot.bootstrap_corner(result, params=["alpha", "A"], fig=fig)
    assert axes.shape == (2, 2) and axes[0, 0].figure is fig
    with pytest.raises(InputError, match="params"):
        plot.bootstrap_corner(result.bootstrap, params=["nope"])
    with pytest.raises(InputError, match="BootstrapResult"):
        plot.bootstrap_corner(plain_result)


# ------------------------------------------------------------------ IsoFLOP
@pytest.fixture(scope="module")
def isoflop_result(runs):
    isoflop = pytest.importorskip("scalinglaws.isoflop")
    return isoflop.isoflop_fit(runs, budget="budget")


def test_isoflop_profiles(isoflop_result, runs, tmp_path):
    ax = plot.isoflop_profiles(isoflop_result, runs)
    save(ax, tmp_path, "isoflop_profiles")
    assert ax.get_xscale() == "log"
    assert "parameters" in ax.get_xlabel() and "nats/token" in ax.get_ylabel()
    assert any("FLOP" in label for label in colorbar_labels(ax.figure))
    table = isoflop_result.budgets
    minima = [line for line in ax.get_lines() if line.get_marker() == "D" and len(line.get_xdata())]
    assert len(minima) == len(table)
    np.testing.assert_allclose(sorted(float(m.get_xdata()[0]) for m in minima),
                               sorted(table["N_opt"]))
    # each budget's parabola bottoms out at the reported minimum
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) == 200]
    assert len(curves) == len(table)
    lowest = sorted(float(np.min(c.get_ydata())) for c in curves)
    np.testing.assert_allclose(lowest, sorted(table["loss_opt"]), rtol=1e-4)
    assert len(ax.collections) >= len(table)  # the runs of every budget
    assert any("minimum" in t for t in legend_texts(ax))
    # without runs: the minima only
    ax = plot.isoflop_profiles(isoflop_result)
    assert not [line for line in ax.get_lines() if len(line.get_xdata()) == 200]


def test_isoflop_frontier(isoflop_result, tmp_path):
    ax = plot.isoflop_frontier(isoflop_result)
    save(ax, tmp_path, "isoflop_frontier")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "FLOP" in ax.get_xlabel()
    assert "parameters" in ax.get_ylabel() and "tokens" in ax.get_ylabel()
    texts = legend_texts(ax)
    assert any(t.startswith("N_opt ∝ C^") and f"{isoflop_result.a:.3f}" in t for t in texts)
    assert any(t.startswith("D_opt ∝ C^") and f"{isoflop_result.b:.3f}" in t for t in texts)
    with pytest.raises(InputError, match="IsoFLOPResult"):
        plot.isoflop_frontier(object())
    with pytest.raises(InputError, match="IsoFLOPResult"):
        plot.isoflop_profiles({"a": 0.5})
