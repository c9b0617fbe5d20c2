"""Tests of scalinglaws.outputs.plot.frontier (the efficient frontier) and of what it draws
from scalinglaws.laws.published (Kaplan's frontier, the known-models table).

The expected lines are typed here from the papers' formulas (Hoffmann et al. 2022 Eq 4,
Kaplan et al. 2020 Table 6), independently of the code that draws them.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from test_plot import _close_figures, legend_texts, save  # noqa: F401

from scalinglaws import InputError, LackOfFitWarning, ScalingLawsWarning, fit, plot
from scalinglaws.laws import published


def _eq4_n_opt(params, compute):
    """Hoffmann et al. 2022 Eq 4: N_opt = G (C/6)^a, G = (alpha A/(beta B))^(1/(alpha+beta)),
    a = beta/(alpha+beta)."""
    A, B, alpha, beta = (params[k] for k in ("A", "B", "alpha", "beta"))
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G * (np.asarray(compute) / 6) ** (beta / (alpha + beta))


# ------------------------------------------------------------------ published frontiers
def test_kaplan_frontier_is_table6():
    # Kaplan et al. 2020 Table 6: N_opt = 1.3e9 C_min^0.73 with C_min in PF-days (8.64e19 FLOP)
    assert published.kaplan_2020_frontier(8.64e19) == pytest.approx(1.3e9, rel=1e-12)
    compute = np.geomspace(1e18, 1e26, 9)
    np.testing.assert_allclose(published.kaplan_2020_frontier(compute),
                               1.3e9 * (compute / 8.64e19) ** 0.73, rtol=1e-12)
    assert plot.kaplan_frontier is published.kaplan_2020_frontier  # one implementation
    with pytest.raises(InputError, match="flops"):
        published.kaplan_2020_frontier(-1.0)


def test_hoffmann_frontier_matches_the_coefficient_sheet():
    # published_coefficients.md §2.1, derived from the unrounded TeX coefficients: G = 1.3000,
    # a = 0.4565 (printed to 4 decimals: +-5e-5) and N_opt(5.76e23) = 4.04e10 (3 significant
    # figures: +-0.005e10, i.e. 1.25e-3 relative)
    from scalinglaws.analysis.extrapolate import chinchilla_frontier
    from scalinglaws.fitting.result import FitResult

    coefficients = chinchilla_frontier(FitResult.from_params("chinchilla", published.HOFFMANN_2022_TEX))
    assert coefficients.G == pytest.approx(1.3000, abs=5e-5)
    assert coefficients.a == pytest.approx(0.4565, abs=5e-5)
    assert plot.hoffmann_frontier(5.76e23) == pytest.approx(4.04e10, rel=1.25e-3)
    compute = np.geomspace(1e18, 1e26, 9)
    np.testing.assert_allclose(plot.hoffmann_frontier(compute),
                               _eq4_n_opt(published.HOFFMANN_2022_TEX, compute), rtol=1e-12)


# ------------------------------------------------------------------ known models
def test_known_models_table_is_the_shipped_table():
    table = published.known_models().set_index("name")
    assert plot.known_models_table is published.known_models
    # Hoffmann et al. 2022 Table 1: GPT-3 175B parameters on 300B tokens, no printed FLOP:
    # filled with 6ND; Chinchilla's 5.76e23 is the printed Gopher budget (Fig 2), not 6ND
    assert table.loc["GPT-3", "flops"] == 6 * 175e9 * 300e9
    assert table.loc["Chinchilla", "flops"] == 5.76e23
    assert table.loc["Chinchilla", "params"] == 70e9 and table.loc["Chinchilla", "tokens"] == 1.4e12
    assert len(table) == len(pd.read_csv(published.KNOWN_MODELS_CSV, comment="#"))


def test_known_models_table_errors(tmp_path):
    with pytest.raises(InputError, match=r"lacks column\(s\) \['tokens'\]"):
        published.known_models(pd.DataFrame({"name": ["x"], "params": [1e9]}))
    with pytest.raises(InputError, match=r"row\(s\) \[1\] \(y\) lack"):
        published.known_models(pd.DataFrame({"name": ["x", "y"], "params": [1e9, -1],
                                             "tokens": [1e10, 1e10]}))
    with pytest.raises(InputError, match="missing.csv: cannot read"):
        published.known_models(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="`models` must be a DataFrame or a path"):
        published.known_models(42)


# ------------------------------------------------------------------ the figure
def test_efficient_frontier_draws_each_frontier(result, tmp_path):
    models = pd.DataFrame({"name": ["Big", "Small"], "params": [500e9, 1e9],
                           "tokens": [100e9, 1e12]})
    ax = plot.efficient_frontier(result, models=models)
    save(ax, tmp_path, "frontier")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "training compute C (FLOP), C = 6ND"
    texts = legend_texts(ax)
    assert "this fit (chinchilla): N_opt(C)" in texts
    assert "95% bootstrap percentile interval (100 draws)" in texts
    assert "Hoffmann et al. 2022: 1.30·(C/6)^0.4565" in texts
    assert "Kaplan et al. 2020: 1.3e9·C_min^0.73\n(C_min in PF-days; non-embedding N)" in texts
    fit_line, hoffmann, kaplan = ax.get_lines()[:3]
    c, n = fit_line.get_data()
    np.testing.assert_allclose(n, _eq4_n_opt(result.params, c), rtol=1e-9)
    c, n = hoffmann.get_data()
    np.testing.assert_allclose(n, _eq4_n_opt(published.HOFFMANN_2022_TEX, c), rtol=1e-12)
    c, n = kaplan.get_data()
    np.testing.assert_allclose(n, 1.3e9 * (c / 8.64e19) ** 0.73, rtol=1e-12)
    # the band: the 2.5th and 97.5th percentiles of N_opt(C) over the 100 draws
    band = next(col for col in ax.collections if "bootstrap" in str(col.get_label()))
    vertices = band.get_paths()[0].vertices
    draws = result.bootstrap.draws
    names = list(result.form.param_names)
    per_draw = np.array([_eq4_n_opt(dict(zip(names, row)), c) for row in draws])
    low, high = np.percentile(per_draw, [2.5, 97.5], axis=0)
    at_low = {x: y for x, y in vertices[1:len(c) + 1]}
    np.testing.assert_allclose([at_low[x] for x in c], low, rtol=1e-9)
    assert np.all(high > low)
    # "Big" (500B parameters on 3e23 FLOP) is above the fit's N_opt: under-trained;
    # "Small" (1B on 6e21) is below
    red = next(col for col in ax.collections if "under-trained" in str(col.get_label()))
    np.testing.assert_allclose(red.get_offsets(), [[6 * 500e9 * 100e9, 500e9]])
    orange = next(col for col in ax.collections if "more tokens" in str(col.get_label()))
    np.testing.assert_allclose(orange.get_offsets(), [[6 * 1e9 * 1e12, 1e9]])
    assert {"Big", "Small"} <= {t.get_text() for t in ax.texts}


def test_efficient_frontier_options(plain_result, result, runs):
    ax = plot.efficient_frontier(result, known_models=False, published=False)
    assert not ax.texts and len(ax.get_lines()) == 1
    # no bootstrap attached and no draws: no band; explicit draws: band
    ax = plot.efficient_frontier(plain_result, known_models=False)
    assert not any("bootstrap" in t for t in legend_texts(ax))
    ax = plot.efficient_frontier(plain_result, draws=result.bootstrap.draws, known_models=False,
                                 confidence_level=0.8)
    assert "80% bootstrap percentile interval (100 draws)" in legend_texts(ax)
    # the shipped table by default: every model named (coinciding markers share a label)
    ax = plot.efficient_frontier(result)
    shown = " / ".join(t.get_text() for t in ax.texts)
    for name in published.known_models()["name"]:
        assert name in shown
    ax = plot.efficient_frontier(result, label_models=False)
    assert not ax.texts
    compute = np.geomspace(1e19, 1e23, 5)
    ax = plot.efficient_frontier(result, compute=compute[::-1], known_models=False)
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), compute)
    assert ax.get_xlim() == pytest.approx((1e19, 1e23))
    with pytest.warns(ScalingLawsWarning, match="is a law of N alone"), \
            pytest.warns(LackOfFitWarning, match="misfits the runs"):  # D varies here
        kaplan = fit(runs, "kaplan_n")
    with pytest.raises(InputError, match="in N and D"):
        plot.efficient_frontier(kaplan)
    with pytest.raises(InputError, match="`compute` must hold at least 2 values"):
        plot.efficient_frontier(result, compute=[1e20])
    assert math.isfinite(float(ax.get_lines()[0].get_ydata()[0]))


def test_the_band_is_at_the_level_of_the_fits_bootstrap(plain_result, runs):
    # a report printed 80% tables beside a 95% frontier band for a fit bootstrapped at 0.8
    from scalinglaws.uncertainty.bootstrap import bootstrap

    boot = bootstrap(plain_result, runs, 20, rng=0, confidence_level=0.8, progress=False)
    ax = plot.efficient_frontier(plain_result.with_bootstrap(boot), known_models=False)
    assert "80% bootstrap percentile interval (20 draws)" in legend_texts(ax)
    ax = plot.efficient_frontier(plain_result.with_bootstrap(boot), known_models=False,
                                 confidence_level=0.9)
    assert "90% bootstrap percentile interval (20 draws)" in legend_texts(ax)


def test_the_compute_of_the_fitted_runs_is_shaded():
    """A grey band spans k * N*D of the runs the fit was made on (k = 8 here): beyond it,
    the line is the law's extrapolation (a reviewer read the line to 1e26 FLOP, 1e6x past
    the runs, with nothing marking where they end)."""
    from matplotlib.patches import Polygon, Rectangle

    from scalinglaws import generate_sweep, load_runs

    sweep = generate_sweep(rng=0).to_frame()
    runs = load_runs(sweep[["N", "D", "loss"]], flops_per_token=8)
    ax = plot.efficient_frontier(fit(runs), known_models=False, published=False)
    spans = [p for p in ax.patches + ax.collections if isinstance(p, (Polygon, Rectangle))
             and p.get_label() == "compute of the fitted runs"]
    assert len(spans) == 1
    xs = spans[0].get_xy()[:, 0] if isinstance(spans[0], Polygon) else \
        [spans[0].get_x(), spans[0].get_x() + spans[0].get_width()]
    product = sweep.N.to_numpy() * sweep.D.to_numpy()
    assert (min(xs), max(xs)) == pytest.approx((8 * product.min(), 8 * product.max()),
                                               rel=1e-12)
    assert "compute of the fitted runs" in legend_texts(ax)
