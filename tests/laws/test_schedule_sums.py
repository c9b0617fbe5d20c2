"""The fast loss-drop sums against brute-force sums over every step."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.laws.schedule_sums import schedule_sums
from scalinglaws.laws.schedules import Schedule

SCHEDULES = [Schedule.constant(6000, 3e-4, warmup_steps=500),
             Schedule.cosine(6000, 3e-4, final_lr=3e-5, warmup_steps=500),
             Schedule.wsd(6000, 3e-4, final_lr=3e-5, decay_steps=1000, warmup_steps=500,
                          decay_shape="exponential"),
             Schedule.two_stage(6000, 3e-4, final_lr=1e-4, decay_start=3000, warmup_steps=500),
             Schedule.linear(6000, 3e-4, final_lr=0.0, warmup_steps=0)]
STEPS = np.arange(1, 6000, 97)


def _mpl_kernel(lr_k, area, C=2.0, beta=0.6, gamma=0.65):
    return 1.0 - (1.0 + C * np.maximum(lr_k, 1e-300) ** -gamma * area) ** -beta


def _brute(lr, steps, kernel):
    """sum_{k=1..s} (lr_k - lr_{k-1}) K(lr_k, S1(s) - S1(k-1), s - k + 1), term by term."""
    area = np.cumsum(lr)
    out = []
    for s in steps:
        k = np.arange(1, s + 1)
        out.append(np.sum((lr[k] - lr[k - 1]) * kernel(lr[k], area[s] - area[k - 1], s - k + 1)))
    return np.array(out)


def _fast(sums, kernel):
    return sums.segment_sum(sums.node_weight * kernel(sums.node_lr, sums.node_area,
                                                      sums.node_steps))


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s.kind)
def test_exact_nodes_equal_the_brute_force_sum(schedule):
    lr = schedule.lr_array()
    sums = schedule_sums([lr], [STEPS], exact=True)
    kernel = lambda l, a, d: _mpl_kernel(l, a)
    np.testing.assert_allclose(_fast(sums, kernel), _brute(lr, STEPS, kernel), rtol=1e-12,
                               atol=1e-16)
    assert np.array_equal(sums.lr_area, np.cumsum(lr)[STEPS])


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s.kind)
def test_quadrature_matches_the_brute_force_sum(schedule):
    # The Multi-Power Law kernel on the LR-area grading (the law's options: ratio 2, 2 nodes,
    # LR bands of 8x): within 1e-4 of the drop's scale (the peak LR), i.e. 1e-5 nats for Luo
    # et al.'s B ~ 400, at points inside the warmup too; the momentum kernel on the step
    # grading (3 nodes): within 1e-6 of its scale.
    lr = schedule.lr_array()
    mpl = lambda l, a, d: _mpl_kernel(l, a)
    fast = schedule_sums([lr], [STEPS], grading="area", ratio=2, lr_ratio=8, nodes=2)
    exact = _brute(lr, STEPS, mpl)
    assert np.max(np.abs(_fast(fast, mpl) - exact)) <= 1e-4 * 3e-4
    momentum = lambda l, a, d: -np.expm1(d * np.log(0.999)) / 0.001
    fast = schedule_sums([lr], [STEPS], grading="steps", ratio=2, lr_ratio=np.inf, nodes=3)
    exact = _brute(lr, STEPS, momentum)
    assert np.max(np.abs(_fast(fast, momentum) - exact)) <= 1e-6 * 3e-4 * 1000
    assert fast.n_nodes < 40 * len(STEPS)  # instead of up to 6,000 terms per point


def test_node_weights_conserve_every_lr_change():
    # Each point's weights add up to lr_s - lr_0 exactly (the kernel-free sum).
    for schedule in SCHEDULES:
        lr = schedule.lr_array()
        sums = schedule_sums([lr], [STEPS])
        np.testing.assert_allclose(sums.segment_sum(sums.node_weight), lr[STEPS] - lr[0],
                                   rtol=1e-9, atol=1e-15)


def test_exclude_warmup_drops_the_warmup_increases():
    lr = SCHEDULES[0].lr_array()
    sums = schedule_sums([lr], [STEPS], warmup="exclude")
    assert sums.n_nodes == 0  # a constant schedule has no other change
    sums = schedule_sums([SCHEDULES[1].lr_array()], [STEPS], warmup="exclude")
    assert np.all(sums.node_weight <= 0)


def test_subset_and_several_runs():
    lrs = [s.lr_array() for s in SCHEDULES[:3]]
    steps = [STEPS[:20], STEPS[5:30], STEPS[::3]]
    sums = schedule_sums(lrs, steps)
    assert sums.n_points == sum(len(s) for s in steps)
    assert np.array_equal(sums.run, np.repeat([0, 1, 2], [len(s) for s in steps]))
    pick = np.array([30, 2, 17])
    part = sums.subset(pick)
    kernel = lambda l, a, d: _mpl_kernel(l, a)
    np.testing.assert_array_equal(_fast(part, kernel), _fast(sums, kernel)[pick])


@pytest.mark.parametrize("kwargs, message", [
    ({"grading": "tokens"}, "`grading` must be one of"),
    ({"ratio": 1.0}, "must be > 1"),
    ({"nodes": 4}, "`nodes` must be an integer in"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(InputError, match=message):
        schedule_sums([SCHEDULES[0].lr_array()], [STEPS], **kwargs)


def test_bad_arrays():
    with pytest.raises(InputError, match="steps must lie in 0"):
        schedule_sums([np.ones(10)], [[12]])
    with pytest.raises(InputError, match="finite and >= 0"):
        schedule_sums([np.array([1.0, np.nan])], [[1]])
