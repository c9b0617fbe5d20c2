"""The simple noise scale from gradient norms at two batch sizes (McCandlish et al. 2018)."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import InputError, ScalingLawsWarning
from scalinglaws.laws.gradient_noise import gradient_noise_scale


def _data_parallel_norms(rng, gradient, variances, per_worker, workers, steps):
    """Squared norms of one worker's batch gradient and of the all-reduced one, per step.

    Each example's gradient is ``G + e`` with ``e ~ N(0, diag(variances))``, so a worker's
    mean over ``per_worker`` examples has covariance ``diag(variances) / per_worker``.
    """
    noise = rng.standard_normal((steps, workers, gradient.size)) * np.sqrt(variances / per_worker)
    local = gradient + noise
    return (local[:, 0] ** 2).sum(-1), (local.mean(axis=1) ** 2).sum(-1)


def _truth(gradient, variances):
    return variances.sum() / (gradient @ gradient)


def test_exact_expectations_give_the_exact_scale():
    # E|G_B|^2 = |G|^2 + tr(Sigma)/B: with |G|^2 = 2.5 and tr(Sigma) = 400, B_simple = 160
    small, big = 2.5 + 400 / 16, 2.5 + 400 / 256
    result = gradient_noise_scale(small, big, 16, 256)
    assert result.b_simple == pytest.approx(160, rel=1e-14)
    assert result.gradient_norm_sq == pytest.approx(2.5, rel=1e-14)
    assert result.trace_sigma == pytest.approx(400, rel=1e-13)
    assert result.n_steps == 1 and np.isnan(result.standard_error)


def test_recovers_a_known_noise_scale():
    rng = np.random.default_rng(0)
    gradient = 0.1 * rng.standard_normal(500)
    variances = rng.uniform(0.5, 1.5, 500)
    truth = _truth(gradient, variances)
    small, big = _data_parallel_norms(rng, gradient, variances, 32, 8, 2000)
    result = gradient_noise_scale(small, big, 32, 256)
    assert abs(result.b_simple - truth) < 3 * result.standard_error
    assert result.standard_error < 0.02 * truth
    low, high = result.confidence_interval
    assert low < truth < high
    assert "B_simple" in str(result) and result.to_dict()["n_steps"] == 2000


@pytest.mark.slow
def test_interval_coverage():
    # 400 simulated runs of 200 steps: the nominal 95% delta-method interval covers the true
    # scale in 95% +- 2.2% (two binomial standard errors) of them when steps are independent
    rng = np.random.default_rng(1)
    gradient = 0.1 * rng.standard_normal(100)
    variances = rng.uniform(0.5, 1.5, 100)
    truth = _truth(gradient, variances)
    hits = 0
    for _ in range(400):
        small, big = _data_parallel_norms(rng, gradient, variances, 16, 8, 200)
        low, high = gradient_noise_scale(small, big, 16, 128).confidence_interval
        hits += low <= truth <= high
    assert abs(hits / 400 - 0.95) < 0.022
    assert hits == 384  # the README's 96.0%


def test_noise_swamping_the_signal_is_reported():
    # the big-batch norm is below tr(Sigma)/B_big alone: the |G|^2 estimate is negative
    with pytest.warns(ScalingLawsWarning, match="swamps"):
        result = gradient_noise_scale([10.0, 11.0], [0.10, 0.12], 8, 64)
    assert np.isnan(result.b_simple) and result.gradient_norm_sq < 0
    assert result.to_dict()["b_simple"] is None


@pytest.mark.parametrize("args, name", [
    (([1.0, 2.0], [1.0], 8, 64), "one value per step"),
    (([1.0], [1.0], 64, 8), "smaller than"),
    (([1.0], [1.0], 0, 8), "batch_small"),
    (([-1.0], [1.0], 8, 64), "norm_sq_small"),
    (([1.0], [np.nan], 8, 64), "norm_sq_big"),
    (([1.0], [1.0], [8, 9], 64), "single numbers"),
])
def test_bad_arguments(args, name):
    with pytest.raises(InputError, match=name):
        gradient_noise_scale(*args)
    with pytest.raises(InputError, match="confidence_level"):
        gradient_noise_scale([1.0], [1.0], 8, 64, confidence_level=95)


def test_the_interval_names_its_kind_in_the_result_its_text_and_its_document():
    import dataclasses

    from scalinglaws.laws.gradient_noise import NoiseScale

    rng = np.random.default_rng(3)
    gradient, variances = 0.1 * rng.standard_normal(50), rng.uniform(0.5, 1.5, 50)
    result = gradient_noise_scale(*_data_parallel_norms(rng, gradient, variances, 16, 8, 50),
                                  16, 128, confidence_level=0.9)
    assert result.method == "delta method"
    assert "(90% delta method interval, 50 steps;" in str(result)
    assert "method='delta method'" in repr(result)
    doc = result.to_dict()
    assert doc["method"] == "delta method"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.method = "t"
    assert NoiseScale.from_dict(doc) == result
    # a document written before the field existed loads, with the only kind there was
    old = {k: v for k, v in doc.items() if k != "method"}
    assert NoiseScale.from_dict(old) == result
    # non-finite values were written as None and read back as nan
    with pytest.warns(ScalingLawsWarning, match="swamps"):
        swamped = gradient_noise_scale([10.0, 11.0], [0.10, 0.12], 8, 64)
    back = NoiseScale.from_dict(swamped.to_dict())
    assert np.isnan(back.b_simple) and np.isnan(back.confidence_interval[0])
    assert back.method == "delta method"
    with pytest.raises(InputError, match="lacks n_steps"):
        NoiseScale.from_dict({k: v for k, v in doc.items() if k != "n_steps"})
