"""Tests of the scalinglaws.plot package as a whole: lazy matplotlib, the re-exports, and
the up-front validation of every public figure function's arguments.

The figures themselves are tested beside their modules (test_plot_fits.py,
test_plot_frontier.py, test_plot_landscape.py, test_plot_corner.py,
test_plot_isoflop.py), which import the small helpers below.
"""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from scalinglaws import InputError, plot
from scalinglaws.outputs.plot import _checks


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


# ------------------------------------------------------------------ helpers (shared)
def save(ax_or_fig, tmp_path, name):
    """Render to PNG (what a user would do) and return the path."""
    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    return path


def legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def colorbar_labels(fig):
    return [a.get_ylabel() for a in fig.axes if a.get_label() == "<colorbar>"]


# ------------------------------------------------------------------ the package
def test_importing_does_not_import_matplotlib():
    code = ("import scalinglaws, scalinglaws.plot, scalinglaws.report, sys; "
            "import scalinglaws.outputs.plot.fits, scalinglaws.outputs.plot.frontier; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_public_names_are_reexported():
    import importlib
    import pkgutil

    mine = {"LABELS", "bootstrap_corner", "efficient_frontier", "fit_vs_data",
            "hoffmann_frontier", "isoflop_frontier", "isoflop_profiles", "kaplan_frontier",
            "known_models_table", "loss_landscape", "residuals"}
    assert mine <= set(plot.__all__)
    # every public name of every figure module is re-exported as the same object
    for info in pkgutil.iter_modules(plot.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{plot.__name__}.{info.name}")
        for name in module.__all__:
            assert name in plot.__all__ and getattr(plot, name) is getattr(module, name), name


def test_every_module_stays_small():
    from pathlib import Path

    folder = Path(plot.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
    assert max(sizes.values()) < 600, sizes


# ------------------------------------------------------------------ validation up front
@pytest.fixture(scope="module")
def iso(runs):
    from scalinglaws.fitting.isoflop import isoflop_fit

    return isoflop_fit(runs, budget="budget")


def _bad_calls(result, runs, iso):
    """(call, argument named in the message) for each public figure function."""
    return [
        (lambda: plot.fit_vs_data(result, runs, x="loss"), "`x`"),
        (lambda: plot.fit_vs_data(result, runs, x=["N"]), "`x`"),
        (lambda: plot.fit_vs_data(result, runs, color_by="nope"), "`color_by`"),
        (lambda: plot.fit_vs_data(result, runs, color_by=3), "`color_by`"),
        (lambda: plot.fit_vs_data(result, runs, groups="nope"), "`groups`"),
        (lambda: plot.fit_vs_data(result, runs, frontier="yes"), "`frontier`"),
        (lambda: plot.fit_vs_data(result, runs, cmap="no-such-map"), "`cmap`"),
        (lambda: plot.fit_vs_data(result, runs, ax="not axes"), "`ax`"),
        (lambda: plot.fit_vs_data(result, runs, figsize=(500, 4)), "`figsize`"),
        (lambda: plot.fit_vs_data(result, runs, figsize="big"), "`figsize`"),
        (lambda: plot.fit_vs_data({"E": 1}, runs), "`result`"),
        (lambda: plot.fit_vs_data(result, None), "`runs`"),
        (lambda: plot.residuals(result, runs, color_by="nope"), "`color_by`"),
        (lambda: plot.residuals(result, runs, axes=[1, 2, 3]), "`axes`"),
        (lambda: plot.residuals(result, runs, figsize=(0.1, 4)), "`figsize`"),
        (lambda: plot.efficient_frontier(result, compute=[1e20, -1]), "`compute`"),
        (lambda: plot.efficient_frontier(result, compute=[1e20]), "`compute`"),
        (lambda: plot.efficient_frontier(result, confidence_level=95), "`confidence_level`"),
        (lambda: plot.efficient_frontier(result, known_models="no"), "`known_models`"),
        (lambda: plot.efficient_frontier(result, published=None), "`published`"),
        (lambda: plot.efficient_frontier(result, label_models=1), "`label_models`"),
        (lambda: plot.efficient_frontier(result, models=42), "`models`"),
        (lambda: plot.efficient_frontier(result, figsize=(7, 1e6)), "`figsize`"),
        (lambda: plot.loss_landscape(result, n_range=(1e9, 1e8)), "`n_range`"),
        (lambda: plot.loss_landscape(result, d_range="wide"), "`d_range`"),
        (lambda: plot.loss_landscape(result, budgets=[0]), "`budgets`"),
        (lambda: plot.loss_landscape(result, levels=1), "`levels`"),
        (lambda: plot.loss_landscape(result, levels=10**7), "`levels`"),
        (lambda: plot.loss_landscape(result, levels=True), "`levels`"),
        (lambda: plot.loss_landscape(result, flops_per_token=0), "`flops_per_token`"),
        (lambda: plot.loss_landscape(result, cmap=None), "`cmap`"),
        (lambda: plot.bootstrap_corner(result, params=["nope"]), "`params`"),
        (lambda: plot.bootstrap_corner(result, params=["A", "A"]), "`params`"),
        (lambda: plot.bootstrap_corner(result, bins=1), "`bins`"),
        (lambda: plot.bootstrap_corner(result, bins=10**6), "`bins`"),
        (lambda: plot.bootstrap_corner(result, max_points=0), "`max_points`"),
        (lambda: plot.bootstrap_corner(result, fig="figure"), "`fig`"),
        (lambda: plot.bootstrap_corner(result, figsize=(3, -1)), "`figsize`"),
        (lambda: plot.bootstrap_corner(object()), "`bootstrap_result`"),
        (lambda: plot.isoflop_profiles({"a": 0.5}), "`isoflop_result`"),
        (lambda: plot.isoflop_profiles(iso, runs, cmap="nope"), "`cmap`"),
        (lambda: plot.isoflop_profiles(iso, runs, ax=3), "`ax`"),
        (lambda: plot.isoflop_frontier(object()), "`isoflop_result`"),
        (lambda: plot.isoflop_frontier(iso, compute=[np.inf, 1e20]), "`compute`"),
        (lambda: plot.isoflop_frontier(iso, figsize=(1000, 1000)), "`figsize`"),
    ]


def test_every_bad_argument_is_named_before_a_figure_is_made(result, runs, iso):
    for call, argument in _bad_calls(result, runs, iso):
        with pytest.raises(InputError) as caught:
            call()
        assert argument in str(caught.value), (argument, str(caught.value))
        assert plt.get_fignums() == [], f"a figure was made before {argument} was refused"


def test_figsize_sizes_a_new_figure_only(result, runs):
    ax = plot.fit_vs_data(result, runs, figsize=(5, 3))
    np.testing.assert_allclose(ax.figure.get_size_inches(), [5, 3])
    _fig, given = plt.subplots()
    with pytest.raises(InputError, match="`figsize`.*`ax`"):
        plot.fit_vs_data(result, runs, ax=given, figsize=(5, 3))


def test_raster_limits():
    # the reported defect: dpi=100000 on a 6.4 x 4.6 inch figure is 640,000 x 460,000 pixels
    with pytest.raises(InputError, match=r"`dpi` must be an integer from 10 to 2400, got 100000"):
        _checks.check_dpi(100000)
    for bad in (9, 2401, 150.0, True, "150"):
        with pytest.raises(InputError, match="`dpi`"):
            _checks.check_dpi(bad)
    assert _checks.check_dpi(2400) == 2400
    # 6.4 x 4.6 inches at 1500 dpi: 9,600 x 6,900 = 66M pixels, inside the 1e8 limit
    _checks.check_raster_size((6.4, 4.6), 1500)
    # at 2400 dpi: 15,360 x 11,040 = 170M pixels, refused with the dpi that would fit
    with pytest.raises(InputError, match=r"15,360 x 11,040 pixels.*use dpi <= 1843"):
        _checks.check_raster_size((6.4, 4.6), 2400)
    # a long thin figure is refused by its side (32,768 pixels) before its area
    with pytest.raises(InputError, match="32,768 a side"):
        _checks.check_raster_size((100, 1), 400)
