"""Tests of scalinglaws.outputs.plot.compare (and its short-log-axis ticks in _style): both
panels of a comparison can be read off their axes.

What a reader sees is checked on the drawn figure: the tick labels inside each axis's
limits, parsed back as numbers.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_plot import _close_figures, legend_texts, save  # noqa: E402,F401

from scalinglaws import generate_sweep  # noqa: E402
from scalinglaws.outputs.plot._style import plain_log_ticks  # noqa: E402


def _shown(ax, which="y"):
    """The tick labels a reader sees on an axis: (value, text) inside its limits."""
    ax.figure.canvas.draw()
    axis = ax.yaxis if which == "y" else ax.xaxis
    low, high = ax.get_ylim() if which == "y" else ax.get_xlim()
    ticks = axis.get_major_ticks() + axis.get_minor_ticks()
    out = []
    for tick in ticks:
        text = tick.label1.get_text()
        if text and tick.label1.get_visible() and low <= tick.get_loc() <= high:
            out.append((tick.get_loc(), text))
    return sorted(out)


def _log_axes(low, high):
    _fig, ax = plt.subplots()
    ax.plot([1, 2], [low, high])
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    plain_log_ticks(ax, "y")
    return ax


@pytest.mark.parametrize("low, high", [(0.966, 1.068), (2.0, 3.5), (0.5, 2.0), (1.2, 9.0)])
def test_a_log_axis_under_a_decade_gets_plain_round_ticks(low, high):
    shown = _shown(_log_axes(low, high))
    assert len(shown) >= 3  # before: (0.966, 1.068) showed only "1", (2, 3.5) "2" and "3"
    for value, text in shown:
        assert text != "" and "10^" not in text and "times" not in text
        assert float(text.replace("\N{MINUS SIGN}", "-")) == pytest.approx(value, rel=1e-9)


def test_a_log_axis_of_one_to_two_decades_labels_its_2s_3s_and_5s():
    shown = [text for _value, text in _shown(_log_axes(1.0, 50.0))]
    assert shown == ["1", "2", "3", "5", "10", "20", "30", "50"]


def test_a_long_log_axis_keeps_matplotlibs_decades():
    ax = _log_axes(1.0, 1e4)
    assert [v for v, _text in _shown(ax)] == [1.0, 10.0, 100.0, 1000.0, 10000.0]


def test_both_panels_of_a_comparison_can_be_read(tmp_path):
    # the audit's figure: the multiplier's band [0.966, 1.068] was labelled only "1", the
    # loss axis (2-3.5 nats) only "2" and "3"
    from scalinglaws.analysis.compare import compare
    from scalinglaws.plot import compare_groups

    frame = pd.concat([generate_sweep(rng=1).to_frame().assign(recipe="baseline"),
                       generate_sweep(rng=2).to_frame().assign(recipe="new")])
    result = compare(frame, "baseline", groups="recipe", budgets=[1e21],
                     shared=["E", "alpha", "beta"], n_resamples=30, rng=0)
    left, right = compare_groups(result, frame)
    save(left, tmp_path, "comparison")
    for ax in (left, right):
        low, high = ax.get_ylim()
        assert high / low < 10
        assert len(_shown(ax)) >= 4
    assert "new" in legend_texts(right)


def test_many_groups_get_distinct_colours_and_legends_below_the_panels(tmp_path):
    # the audit's figure: Porian's 15 settings repeated the style's 10 colours and both
    # legends covered the runs and curves; a long reference name ran off the y label
    from matplotlib.colors import to_hex

    from scalinglaws.analysis.compare import compare
    from scalinglaws.plot import compare_groups

    reference = "a/very/long/reference/setting/name"
    names = [reference] + [f"recipe {i}" for i in range(11)]
    frame = pd.concat([generate_sweep(rng=10 + i).to_frame().assign(recipe=name)
                       for i, name in enumerate(names)])
    result = compare(frame, reference, groups="recipe", budgets=[1e21],
                     shared=["E", "alpha", "beta"], n_resamples=20, rng=0)
    left, right = compare_groups(result, frame)
    save(left, tmp_path, "many")
    left.figure.canvas.draw()
    lines = [line for line in right.get_lines() if line.get_label() in names]
    assert len(lines) == 11  # every group but the reference (its dashed line)
    assert len({to_hex(line.get_color()) for line in lines}) == 11
    # tab20 in its own order put each light colour beside its strong twin, both solid
    # (Porian's 15 settings read as pairs): twins now differ in line style
    from matplotlib import colormaps

    tab20 = [to_hex(c) for c in colormaps["tab20"].colors]
    pair = {line: tab20.index(to_hex(line.get_color())) // 2 for line in lines}
    for i, one in enumerate(lines):
        for other in lines[i + 1:]:
            if pair[one] == pair[other]:  # a strong colour and its light twin
                assert one.get_linestyle() != other.get_linestyle()
    # the bands' one entry follows every group's line, before the reference's
    texts = legend_texts(right)
    band = [i for i, t in enumerate(texts) if "bootstrap percentile" in t]
    assert band == [len(texts) - 2] and texts[-1].endswith("(reference)")
    for ax in (left, right):
        box = ax.get_legend().get_window_extent()
        assert box.y1 < ax.get_window_extent().y0  # below the axes, off the data
    assert reference not in right.get_ylabel() and "the reference" in right.get_ylabel()


def test_a_few_groups_keep_their_legend_inside_and_the_reference_named():
    from scalinglaws.analysis.compare import compare
    from scalinglaws.plot import compare_groups

    frame = pd.concat([generate_sweep(rng=1).to_frame().assign(recipe="baseline"),
                       generate_sweep(rng=2).to_frame().assign(recipe="new")])
    result = compare(frame, "baseline", groups="recipe", budgets=[1e21],
                     shared=["E", "alpha", "beta"], n_resamples=20, rng=0)
    left, right = compare_groups(result, frame)
    left.figure.canvas.draw()
    inside = right.get_window_extent()
    box = right.get_legend().get_window_extent()
    assert inside.y0 <= box.y0 and box.y1 <= inside.y1
    assert right.get_ylabel().endswith("baseline")
