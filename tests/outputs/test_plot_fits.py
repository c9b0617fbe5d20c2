"""Tests of scalinglaws.outputs.plot.fits: fit_vs_data and residuals.

Drawn with Agg on the synthetic IsoFLOP sweep of tests/conftest.py; what is drawn is read
back from the Axes and compared with quantities computed here independently (the law
along each budget, a brute-force compute-optimal loss, the log residuals).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from test_plot import _close_figures, colorbar_labels, legend_texts, save  # noqa: F401

from scalinglaws import InputError, LackOfFitWarning, Runs, ScalingLawsWarning, fit, plot


# ------------------------------------------------------------------ fit_vs_data
def test_fit_vs_data_draws_the_law_along_every_budget(result, runs, tmp_path):
    ax = plot.fit_vs_data(result, runs)
    save(ax, tmp_path, "fit")
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "parameters N" and ax.get_ylabel() == "loss (nats/token)"
    budgets = runs.frame["budget"].to_numpy()
    lines = ax.get_lines()
    assert len(lines) == len(np.unique(budgets))
    points = ax.collections[0]
    np.testing.assert_array_equal(points.get_offsets(), np.column_stack([runs.N, runs.loss]))
    assert colorbar_labels(ax.figure) == ["training compute C (FLOP)"]
    texts = legend_texts(ax)
    assert "runs (108)" in texts and "fit: chinchilla" in texts
    # each curve is the law inside one budget, D = C / (6 N), over that budget's sizes
    for line, key in zip(lines, sorted(np.unique(budgets))):
        n, loss = line.get_data()
        inside = budgets == key
        budget = runs.C[inside][0]
        np.testing.assert_allclose([n.min(), n.max()], [runs.N[inside].min(), runs.N[inside].max()],
                                   rtol=1e-12)
        np.testing.assert_allclose(loss, result.predict(N=n, D=budget / (6 * n)), rtol=1e-9)


def _brute_force_optimal_loss(result, compute):
    """min over N of L(N, C/(6N)), by a bounded 1-D search on ln N (independent of
    scalinglaws.compute_optimal)."""
    losses = []
    for c in compute:
        def loss(log_n, c=c):
            n = np.exp(log_n)
            return float(result.predict(N=n, D=c / (6 * n)))
        best = minimize_scalar(loss, bounds=(np.log(1e3), np.log(c / 6 / 1e3)), method="bounded",
                               options={"xatol": 1e-10})
        losses.append(best.fun)
    return np.array(losses)


def test_fit_vs_data_against_compute_shows_the_optimal_loss(result, runs, tmp_path):
    ax = plot.fit_vs_data(result, runs, x="C")
    save(ax, tmp_path, "fit_c")
    assert ax.get_xlabel() == "training compute C (FLOP)"
    assert "compute-optimal loss L*(C) (fit)" in legend_texts(ax)
    assert colorbar_labels(ax.figure) == ["parameters N"]
    c, loss = ax.get_lines()[-1].get_data()
    assert c.min() == pytest.approx(runs.C.min() / 1.5) and c.max() == pytest.approx(runs.C.max() * 1.5)
    # a bounded search to xatol 1e-10 in ln N pins the minimum loss far below 1e-9
    every = slice(None, None, 10)
    np.testing.assert_allclose(loss[every], _brute_force_optimal_loss(result, c[every]), rtol=1e-9)


def test_fit_vs_data_single_variable_law_and_unstructured_sweep(runs, tmp_path):
    kaplan = _kaplan_n(runs)
    ax = plot.fit_vs_data(kaplan, runs)
    save(ax, tmp_path, "kaplan")
    (line,) = ax.get_lines()
    n, loss = line.get_data()
    np.testing.assert_allclose(loss, kaplan.predict(N=n), rtol=1e-12)
    # an unstructured sweep (no groups): iso-D lines at the 10/50/90% quantiles of D
    rng = np.random.default_rng(1)
    N = 10 ** rng.uniform(7, 10, 40)
    D = 10 ** rng.uniform(9, 12, 40)
    loose = Runs.from_arrays(N=N, D=D, loss=1.8 + 480 / N**0.35 + 2000 / D**0.37)
    law = fit(loose, "chinchilla")
    ax = plot.fit_vs_data(law, loose)
    lines = [line for line in ax.get_lines() if "tokens" in line.get_label()]
    assert len(lines) == 3
    for line, q in zip(lines, (0.1, 0.5, 0.9)):
        n, loss = line.get_data()
        np.testing.assert_allclose(loss, law.predict(N=n, D=np.quantile(D, q)), rtol=1e-12)
    assert colorbar_labels(ax.figure) == ["training tokens D"]


def _kaplan_n(runs):
    """A law of N alone fitted to an IsoFLOP sweep, whose D varies at every N: it misfits
    (residuals of 10% RMS that trend with C), and fit says so."""
    with pytest.warns(ScalingLawsWarning, match="is a law of N alone"), \
            pytest.warns(LackOfFitWarning, match="misfits the runs"):
        return fit(runs, "kaplan_n")


def test_fit_vs_data_on_given_axes_and_errors(result, runs):
    _fig, ax = plt.subplots()
    assert plot.fit_vs_data(result, runs, color_by="budget", ax=ax) is ax
    assert colorbar_labels(ax.figure) == ["budget"]
    with pytest.raises(InputError, match="`x` must be one of N, D, C"):
        plot.fit_vs_data(result, runs, x="loss")
    with pytest.raises(InputError, match="`color_by` must be N, D, C, loss or a column"):
        plot.fit_vs_data(result, runs, color_by="nope")
    with pytest.raises(InputError, match="`ax` must be a matplotlib Axes"):
        plot.fit_vs_data(result, runs, ax="not axes")
    with pytest.raises(InputError, match="`result` must be a FitResult"):
        plot.fit_vs_data({"E": 1}, runs)
    with pytest.raises(InputError, match="`groups` names no column"):
        plot.fit_vs_data(result, runs, groups="nope")
    with pytest.raises(InputError, match="in N and D"):
        plot.fit_vs_data(_kaplan_n(runs), runs, frontier=True)


def _paper_law():
    from scalinglaws import FitResult
    from scalinglaws.laws.datablations import MUENNIGHOFF_2023

    return FitResult.from_params("data_constrained", dict(MUENNIGHOFF_2023["params"]))


def _data_constrained_sweep(unique_values, n_sizes=9):
    """An IsoFLOP sweep (5 budgets, C = 6ND) whose runs cycle through ``unique_values`` of
    U, with losses from Muennighoff et al.'s published law (noise-free)."""
    from scalinglaws.laws.synthetic import isoflop_grid

    grid = isoflop_grid([6e18, 2e19, 6e19, 2e20, 6e20], n_sizes, 10.0)
    n, d = grid["N"].to_numpy(), grid["D"].to_numpy()
    u = np.resize(np.asarray(unique_values, dtype=float), n.size)
    loss = _paper_law().predict(N=n, D=d, U=u)
    return Runs.from_arrays(N=n, D=d, U=u, loss=loss)


def test_data_constrained_curves_are_drawn_at_stated_unique_tokens(tmp_path):
    # before: each budget's curve took U from a regression of log U on log N over runs
    # with three different U, a value no run had, and the legend did not say so
    law, runs = _paper_law(), _data_constrained_sweep([1e8, 1e9, 1e10])
    ax = plot.fit_vs_data(law, runs)
    save(ax, tmp_path, "dc_fit")
    texts = legend_texts(ax)
    for u in ("1e8", "1e9", "1e10"):
        assert f"fit: data_constrained at U = {u} unique tokens" in texts
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 0]
    assert len(curves) == 5 * 3  # a curve per budget and value of U
    budgets = np.round(np.log10(runs.C), 6)
    unique = runs.frame["U"].to_numpy()
    subsets = [(budgets == c) & (unique == u) for c in np.unique(budgets) for u in (1e8, 1e9, 1e10)]
    matched = []
    for line in curves:
        n, loss = line.get_data()
        # the curve's runs: one budget and one U, whose sizes the curve spans and whose
        # law, D = C/(6N) at that U, it is
        fits = [i for i, inside in enumerate(subsets)
                if np.allclose([runs.N[inside].min(), runs.N[inside].max()], [n[0], n[-1]])
                and np.allclose(loss, law.predict(N=n, D=runs.C[inside][0] / (6 * n),
                                                  U=unique[inside][0]), rtol=1e-9)]
        assert len(fits) == 1
        matched += fits
        # ...so it passes through its runs: the law is the truth here
        inside = subsets[fits[0]]
        np.testing.assert_allclose(np.interp(np.log(runs.N[inside]), np.log(n), loss),
                                   runs.loss[inside], rtol=2e-3)
    assert sorted(matched) == list(range(15))


def test_many_values_of_unique_tokens_are_said_to_come_from_a_fit():
    law = _paper_law()
    runs = _data_constrained_sweep(np.geomspace(1e8, 1e10, 6), n_sizes=12)
    texts = legend_texts(plot.fit_vs_data(law, runs))
    assert "fit: data_constrained (U from a fit of log U on log N in each group)" in texts


def test_iso_d_lines_state_the_unique_tokens_they_are_drawn_at(tmp_path):
    # before: "fit at D = 1.5e9 tokens" with U from a regression over all runs, unsaid
    law = _paper_law()
    rng = np.random.default_rng(3)
    n, d = 10 ** rng.uniform(7, 10, 40), 10 ** rng.uniform(9, 12, 40)
    u = 10 ** rng.uniform(8, 11, 40)
    runs = Runs.from_arrays(N=n, D=d, U=u, loss=law.predict(N=n, D=d, U=u))
    ax = plot.fit_vs_data(law, runs)
    save(ax, tmp_path, "dc_iso_d")
    median_u = float(np.median(u))
    lines = [line for line in ax.get_lines() if "tokens" in line.get_label()]
    assert len(lines) == 3
    for line, q in zip(lines, (0.1, 0.5, 0.9)):
        d_value = np.quantile(d, q)
        mantissa, exponent = f"{median_u:.2g}".split("e")
        assert line.get_label().endswith(
            f"U = {mantissa}e{int(exponent)} unique tokens (median of the runs)")
        grid, loss = line.get_data()
        np.testing.assert_allclose(loss, law.predict(N=grid, D=d_value, U=median_u), rtol=1e-12)


def test_budgets_whose_compute_differs_by_rounding_are_one_budget_against_c(result, tmp_path):
    # before: C = 6ND from N and D written to 10 digits differs by 1.2e-9 (log) inside the
    # 1e19 and 1e21 budgets, so each was drawn as a "curve" along a vertical sliver of C,
    # invisible, with a legend entry "fit: chinchilla"
    from scalinglaws import generate_sweep

    sweep = generate_sweep(rng=0)
    n = np.array([float(f"{v:.10g}") for v in sweep.N])
    d = np.array([float(f"{v:.10g}") for v in sweep.D])
    runs = Runs.from_arrays(N=n, D=d, loss=sweep.loss)  # C derived: 6 N D, rounded
    assert np.ptp(np.log(runs.C[np.isclose(runs.C, 1e19, rtol=1e-6)])) > 1e-9
    ax = plot.fit_vs_data(result, runs, x="C")
    save(ax, tmp_path, "fit_c_rounded")
    texts = legend_texts(ax)
    assert "fit: chinchilla" not in texts
    assert all(np.ptp(np.log(line.get_xdata())) > 1e-3 for line in ax.get_lines())
    # the law along each budget's profile: a tick at every run, at the run's own N and D
    (ticks,) = [c for c in ax.collections if c.get_label() == "fit at each run's N, D"]
    offsets = np.vstack([c.get_offsets() for c in ax.collections[1:]
                         if c.get_offsets().shape[0] and c is not ax.collections[0]])
    assert offsets.shape == (len(runs), 2)
    expected = np.column_stack([runs.C, result.predict(N=n, D=d)])
    order = np.lexsort(offsets.T[::-1])
    np.testing.assert_allclose(offsets[order], expected[np.lexsort(expected.T[::-1])],
                               rtol=1e-12)


# ------------------------------------------------------------------ residuals
def test_residuals_three_panels_with_huber_band(result, runs, tmp_path):
    axes = plot.residuals(result, runs)
    save(axes[0], tmp_path, "residuals")
    assert axes.shape == (3,)
    expected = np.log(result.predict(N=runs.N, D=runs.D)) - np.log(runs.loss)
    for ax, name, label in zip(axes, "NDC", ("parameters N", "training tokens D",
                                             "training compute C (FLOP)")):
        assert ax.get_xscale() == "log" and ax.get_xlabel() == label
        offsets = ax.collections[0].get_offsets()
        np.testing.assert_array_equal(offsets[:, 0], getattr(runs, name))
        np.testing.assert_allclose(offsets[:, 1], expected, rtol=1e-12, atol=1e-15)
    assert axes[0].get_ylabel().startswith("log residual")
    # the band is the Huber loss's quadratic zone, ±delta = ±1e-3 (the fit's option)
    assert result.options["delta"] == 1e-3
    (band,) = axes[0].patches
    extent = band.get_path().get_extents(band.get_transform())
    low, high = axes[0].transData.inverted().transform([[0, extent.y0], [0, extent.y1]])[:, 1]
    np.testing.assert_allclose([low, high], [-1e-3, 1e-3], rtol=1e-9)
    # the legend counts the runs inside the band: with δ = 1e-3 and residuals of ~1%,
    # few (the caption once called the runs outside "outliers": they are down-weighted)
    inside = int(np.sum(np.abs(expected) <= 1e-3))
    assert 0 < inside < len(expected) / 4
    assert (f"Huber quadratic zone ±δ (δ = 0.001; {inside} of {len(expected)} runs inside)"
            in legend_texts(axes[0]))
    rms = np.sqrt(np.mean(expected**2))
    assert f"rms {rms:.3g}" in axes[1].get_title()


def test_residuals_squared_loss_has_no_band_and_accepts_axes(runs):
    squared = fit(runs, "chinchilla", loss="squared")
    _fig, given = plt.subplots(1, 3)
    axes = plot.residuals(squared, runs, axes=given)
    assert list(axes) == list(given)
    assert not axes[0].patches
    with pytest.raises(InputError, match="3 matplotlib Axes"):
        plot.residuals(squared, runs, axes=given[:2])


def test_residuals_panel_for_a_missing_column(runs):
    only_n = Runs.from_arrays(N=runs.N, loss=runs.loss)
    kaplan = fit(only_n, "kaplan_n")
    axes = plot.residuals(kaplan, only_n)
    assert [t.get_text() for t in axes[1].texts] == ["no D column in the runs"]
    assert [t.get_text() for t in axes[2].texts] == ["no C column in the runs"]
    assert len(axes[0].collections[0].get_offsets()) == len(only_n)


# ------------------------------------------------------------------ tick labels
def _overlapping_labels(ax):
    """Pairs of visible x tick labels whose boxes overlap, after drawing the figure."""
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    ticks = ax.xaxis.get_major_ticks() + ax.xaxis.get_minor_ticks()
    boxes = sorted((t.label1.get_window_extent(renderer) for t in ticks
                    if t.label1.get_visible() and t.label1.get_text()), key=lambda b: b.x0)
    return [(a, b) for a, b in zip(boxes, boxes[1:]) if a.x1 > b.x0]


def test_x_labels_of_a_short_log_axis_do_not_overlap(result, runs):
    # a sweep over 1.6 decades of N: matplotlib labels every minor tick (2x10^7, 3x10^7,
    # ...) and they overlapped; now the decades and the 2s and 5s, as 20M, 50M, 100M
    short = runs.select(mask=(runs.N >= 2e7) & (runs.N <= 8e8))
    ax = plot.fit_vs_data(result, short)
    assert _overlapping_labels(ax) == []
    shown = [t.label1.get_text() for t in ax.xaxis.get_major_ticks() + ax.xaxis.get_minor_ticks()
             if t.label1.get_visible() and t.label1.get_text()
             and ax.get_xlim()[0] <= t.get_loc() <= ax.get_xlim()[1]]
    assert {"50M", "100M", "200M", "500M"} <= set(shown)
    for ax in plot.residuals(result, short):
        assert _overlapping_labels(ax) == []


# ------------------------------------------------------------------ laws beyond N, D, C, U
# kaplan_ns takes S_min and the task forms a task loss, read from the runs' column of that
# name. Before: fit_vs_data raised "unknown input 'S_min'" (and "`x` must be one of N, D,
# C" for x="task_loss"): no figure for these forms. Expected curves are the laws written
# out here, not the package's predict.
from scalinglaws import FitResult  # noqa: E402
from scalinglaws.laws.forms import available_forms  # noqa: E402
from scalinglaws.laws.published import KAPLAN_2020_NS  # noqa: E402
from scalinglaws.laws.synthetic import DEFAULT_TRUTH  # noqa: E402

NS_N = np.repeat([1e7, 1e8, 1e9], 6)
NS_S = np.tile(np.geomspace(2e3, 2e5, 6), 3)


def _kaplan_ns(n, s, p=KAPLAN_2020_NS):
    """Kaplan et al. (2020) Eq. 1.6."""
    return (p["N_c"] / n) ** p["alpha_N"] + (p["S_c"] / s) ** p["alpha_S"]


@pytest.fixture
def ns():
    """Three model sizes, each at the same six S_min (learning-curve checkpoints)."""
    runs = Runs.from_arrays(N=NS_N, S_min=NS_S, loss=_kaplan_ns(NS_N, NS_S))
    return FitResult.from_params("kaplan_ns", dict(KAPLAN_2020_NS)), runs


def test_kaplan_ns_against_n_draws_the_runs_and_a_curve_per_s_min(ns, tmp_path):
    result, runs = ns
    ax = plot.fit_vs_data(result, runs)
    save(ax, tmp_path, "kaplan_ns_N")
    np.testing.assert_array_equal(ax.collections[0].get_offsets(),
                                  np.column_stack([NS_N, runs.loss]))
    lines = ax.get_lines()
    assert len(lines) == 6 and ax.get_xscale() == "log"
    for line, s in zip(lines, np.unique(NS_S)):
        n, loss = line.get_data()
        np.testing.assert_allclose([n.min(), n.max()], [1e7, 1e9], rtol=1e-12)
        np.testing.assert_allclose(loss, _kaplan_ns(n, s), rtol=1e-9)
    assert "fit: kaplan_ns at each S_min of the runs" in legend_texts(ax)
    assert colorbar_labels(ax.figure) == ["minimum steps S_min"]


def test_kaplan_ns_against_s_min_draws_a_curve_per_model(ns, tmp_path):
    result, runs = ns
    ax = plot.fit_vs_data(result, runs, x="S_min")
    save(ax, tmp_path, "kaplan_ns_S")
    assert ax.get_xlabel() == "minimum steps S_min" and ax.get_xscale() == "log"
    np.testing.assert_array_equal(ax.collections[0].get_offsets(),
                                  np.column_stack([NS_S, runs.loss]))
    lines = ax.get_lines()
    assert len(lines) == 3
    for line, n in zip(lines, (1e7, 1e8, 1e9)):
        s, loss = line.get_data()
        np.testing.assert_allclose([s.min(), s.max()], [2e3, 2e5], rtol=1e-12)
        np.testing.assert_allclose(loss, _kaplan_ns(n, s), rtol=1e-9)


def test_kaplan_ns_with_an_s_min_per_run_draws_the_law_at_three_s_min(ns):
    result, _ = ns
    s_min = np.geomspace(2e3, 2e5, NS_N.size)[np.random.default_rng(0).permutation(NS_N.size)]
    runs = Runs.from_arrays(N=NS_N, S_min=s_min, loss=_kaplan_ns(NS_N, s_min))
    ax = plot.fit_vs_data(result, runs)
    lines = ax.get_lines()
    assert len(lines) == 3
    for line, q in zip(lines, (0.1, 0.5, 0.9)):
        n, loss = line.get_data()
        np.testing.assert_allclose(loss, _kaplan_ns(n, np.quantile(s_min, q)), rtol=1e-9)


def test_a_task_form_is_drawn_against_its_task_loss(tmp_path):
    params = {"floor": 0.25, "ceiling": 0.75, "x0": 1.0, "k": 4.0}
    task_loss = np.linspace(0.6, 1.6, 12)

    def law(x):  # TaskSigmoidFloor: f + (c - f) / (1 + exp(k (x - x0)))
        return 0.25 + 0.5 / (1 + np.exp(4.0 * (x - 1.0)))
    runs = Runs.from_arrays(loss=law(task_loss), task_loss=task_loss)
    ax = plot.fit_vs_data(FitResult.from_params("task_sigmoid_floor", params), runs)
    save(ax, tmp_path, "task")
    assert ax.get_xscale() == "linear" and ax.get_ylabel() == "accuracy"
    assert ax.get_xlabel().startswith("task loss")
    np.testing.assert_array_equal(ax.collections[0].get_offsets(),
                                  np.column_stack([task_loss, runs.loss]))
    (line,) = ax.get_lines()
    x, accuracy = line.get_data()
    assert x.min() < 0.6 and x.max() > 1.6
    np.testing.assert_allclose(accuracy, law(x), rtol=1e-12)


def test_a_missing_input_column_or_axis_is_named(ns):
    result, runs = ns
    with pytest.raises(InputError, match="no column 'S_min'"):
        plot.fit_vs_data(result, Runs.from_arrays(N=NS_N, loss=runs.loss))
    with pytest.raises(InputError, match="`x` must be an input of form 'kaplan_ns'"):
        plot.fit_vs_data(result, runs, x="D")


#: parameters of the registered forms DEFAULT_TRUTH has none for
_OTHER_PARAMS = {"direct_nd": {"A": 482.01, "B": 2085.43, "alpha": 0.35, "beta": 0.37},
                 "kaplan_ns": dict(KAPLAN_2020_NS),
                 "task_sigmoid": {"a": -0.5, "x0": 1.0, "k": 4.0, "b": 0.75},
                 "task_sigmoid_floor": {"floor": 0.25, "ceiling": 0.75, "x0": 1.0, "k": 4.0},
                 "task_logistic_log": {"floor": 0.25, "ceiling": 0.75, "x0": 1.0, "k": 4.0}}


@pytest.mark.parametrize("name", available_forms())
def test_every_registered_form_draws_its_runs_and_its_law(name, runs):
    """No form is left without a figure (kaplan_ns and the task forms had none)."""
    params = DEFAULT_TRUTH.get(name) or _OTHER_PARAMS[name]
    result = FitResult.from_params(name, dict(params))
    rng = np.random.default_rng(0)
    columns = {"U": runs.D / 2, "S_min": np.geomspace(2e3, 2e5, len(runs))[rng.permutation(
        len(runs))], "task_loss": np.linspace(0.6, 1.6, len(runs))}
    given = {n: columns[n] if n in columns else getattr(runs, n) for n in result.form.inputs}
    extra = {n: v for n, v in columns.items() if n not in given}
    table = Runs.from_arrays(N=runs.N, D=runs.D, loss=result.predict(**given),
                             **{n: v for n, v in given.items() if n not in ("N", "D")}, **extra)
    ax = plot.fit_vs_data(result, table)
    assert len(ax.collections[0].get_offsets()) == len(runs)
    drawn = [line for line in ax.get_lines() if np.isfinite(line.get_ydata()).sum() >= 2]
    assert drawn, f"{name}: no curve drawn"
