"""Tests of scalinglaws.outputs.plot.plan: the runs of a sweep plan over the loss landscape.

The target star is checked against Hoffmann et al. 2022 Eq 4 typed in here; the drawn runs
against the designs' own tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from test_plot import _close_figures, legend_texts, save  # noqa: F401

from scalinglaws import InputError, plot
from scalinglaws.analysis.plan import plan_sweep
from scalinglaws.analysis.prior import Target, published_prior


@pytest.fixture(scope="module")
def plan():
    return plan_sweep(published_prior("hoffmann", n_draws=100), target_compute=1e24,
                      sweep_budget=1e21, max_draws=30)


def _eq4(params, compute):
    A, B, alpha, beta = (params[k] for k in ("A", "B", "alpha", "beta"))
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    x = compute / 6
    return G * x ** (beta / (alpha + beta)), x ** (alpha / (alpha + beta)) / G


def test_sweep_plan_draws_every_run_and_the_target(plan, tmp_path):
    ax = plot.sweep_plan(plan)
    save(ax, tmp_path, "plan")
    collections = {c.get_label().split(":")[0]: c for c in ax.collections if c.get_label()
                   and not c.get_label().startswith("_")}
    for name, runs in (("standard grid", plan.standard.runs), ("planned grid", plan.planned.runs)):
        drawn = collections[name].get_offsets()
        np.testing.assert_allclose(drawn[:, 0], runs["N"])
        np.testing.assert_allclose(drawn[:, 1], runs["D"])
    # the active design: each distinct run once (repeats drawn larger)
    drawn = collections["active design"].get_offsets()
    distinct = plan.active.runs.groupby(["N", "D"]).size()
    assert len(drawn) == len(distinct)
    (star,) = [line for line in ax.get_lines() if line.get_marker() == "*"]
    n_opt, d_opt = _eq4(plan.prior.params, 1e24)
    assert star.get_xdata()[0] == pytest.approx(n_opt, rel=1e-9)
    assert star.get_ydata()[0] == pytest.approx(d_opt, rel=1e-9)
    texts = legend_texts(ax)
    assert any(t.startswith("active design: ") and "runs" in t for t in texts)
    assert "target (N_opt, D_opt) at C = 1e+24 FLOP" in texts
    lo, hi = ax.get_xlim()
    assert lo <= plan.standard.runs["N"].min() and hi >= n_opt


def test_loss_target_marks_the_model(tmp_path):
    plan = plan_sweep(published_prior("epoch", n_draws=50), target_compute=5.88e23,
                      sweep_budget=1e20, target=Target.make("loss", N=7e10, D=1.4e12),
                      max_draws=20)
    ax = plot.sweep_plan(plan, designs=("active",))
    (star,) = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (7e10, 1.4e12)
    assert [t for t in legend_texts(ax) if t.endswith("FLOP") and "grid" in t] == []


@pytest.mark.parametrize("kwargs, message", [
    ({"designs": ("standard", "other")}, "`designs`"),
    ({"designs": "active"}, "`designs`"),
    ({"levels": 1}, "`levels`"),
    ({"n_range": (1e9, 1e8)}, "`n_range`"),
])
def test_bad_arguments(plan, kwargs, message):
    with pytest.raises(InputError, match=message):
        plot.sweep_plan(plan, **kwargs)
    with pytest.raises(InputError, match="`plan`"):
        plot.sweep_plan("plan")


def _label_boxes(ax):
    """The drawn iso-compute labels ("C = ... FLOP") as display-space boxes, by text."""
    renderer = ax.figure.canvas.get_renderer()
    return {t.get_text(): t.get_window_extent(renderer) for t in ax.texts
            if t.get_text().endswith(" FLOP")}


@pytest.mark.parametrize("prior", ["hoffmann", "epoch"])
def test_the_target_budget_s_label_is_clear_of_the_star_and_inside_the_axes(prior, tmp_path):
    # before: the star drawn at the optimum hid the end of "C = 1e24 FLOP" ("C = 1e24 FL")
    plan = plan_sweep(published_prior(prior, n_draws=50), target_compute=1e24,
                      sweep_budget=1e21, max_draws=20)
    ax = plot.sweep_plan(plan)
    save(ax, tmp_path, f"plan_{prior}")
    ax.figure.canvas.draw()
    boxes = _label_boxes(ax)
    label = boxes["C = 1e24 FLOP"]
    (star,) = [line for line in ax.get_lines() if line.get_marker() == "*"]
    centre = ax.transData.transform((star.get_xdata()[0], star.get_ydata()[0]))
    radius = star.get_markersize() / 2 * ax.figure.dpi / 72
    # the star's disc does not reach the label's box
    nearest = np.clip(centre, [label.x0, label.y0], [label.x1, label.y1])
    assert np.hypot(*(nearest - centre)) > radius
    window = ax.get_window_extent()
    for box in boxes.values():  # every label whole inside the axes
        assert window.x0 <= box.x0 and box.x1 <= window.x1
        assert window.y0 <= box.y0 and box.y1 <= window.y1 + 2
