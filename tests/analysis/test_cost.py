"""Lifetime cost in dollars (Sardana et al. 2024's cost structure) and depth as latency."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import InputError
from scalinglaws.analysis.cost import Hardware, cost_optimal, lifetime_cost
from scalinglaws.analysis.extrapolate import inference_optimal, tokens_for_loss
from scalinglaws.fitting.estimator import FitResult
from scalinglaws.laws.published import BESIROGLU_2024_TABLE1

LAW = FitResult.from_params("chinchilla", BESIROGLU_2024_TABLE1)
GPU = Hardware(peak_flops=1e15, price_per_hour=2.0, training_utilisation=0.5,
               prefill_utilisation=0.4, decode_utilisation=0.05, name="example")


def test_lifetime_cost_by_hand():
    cost = lifetime_cost(7e9, 2e12, GPU, input_tokens=1e12, output_tokens=2e11, aspect_ratio=128)
    # training: 6 * 7e9 * 2e12 = 8.4e22 FLOP at 1e15 * 0.5 FLOP/s = 1.68e8 s = 46,666.7 h
    assert cost.training_flops == 8.4e22
    assert cost.training_hours == pytest.approx(8.4e22 / 5e14 / 3600, rel=1e-14)
    assert cost.training_dollars == pytest.approx(2.0 * 8.4e22 / 5e14 / 3600, rel=1e-14)
    # prefill: 2 * 7e9 * 1e12 = 1.4e22 at 4e14 FLOP/s; decode: 2.8e21 at 5e13 FLOP/s
    prefill_s, decode_s = 1.4e22 / 4e14, 2.8e21 / 5e13
    assert cost.inference_hours == pytest.approx((prefill_s + decode_s) / 3600, rel=1e-14)
    assert cost.inference_dollars == pytest.approx(2.0 * (prefill_s + decode_s) / 3600, rel=1e-14)
    assert cost.total_dollars == pytest.approx(cost.training_dollars + cost.inference_dollars)
    # depth at d_model / n_layer = 128: n_layer = (7e9 / (12 * 128^2))^(1/3) = 32.9
    assert cost.n_layer == pytest.approx((7e9 / (12 * 128 ** 2)) ** (1 / 3), rel=1e-14)
    assert cost.to_dict()["hardware"]["training"]["name"] == "example"


def test_separate_serving_hardware():
    cheap = Hardware(peak_flops=5e14, price_per_hour=0.5, training_utilisation=0.5,
                     decode_utilisation=0.1)
    cost = lifetime_cost(1e9, 1e11, GPU, output_tokens=1e12, inference_hardware=cheap)
    assert cost.inference_dollars == pytest.approx(2e21 / (5e14 * 0.1) / 3600 * 0.5, rel=1e-14)


def test_equal_utilisations_give_the_flop_optimum():
    flat = Hardware(peak_flops=1e15, price_per_hour=3.0, training_utilisation=0.4)
    result = cost_optimal(LAW, 2.0, flat, input_tokens=1e12, output_tokens=1e12)
    reference = inference_optimal(LAW, 2.0, 2e12)
    assert result.cheapest.N == pytest.approx(float(reference.N), rel=1e-12)
    assert result.cheapest.N == pytest.approx(result.flop_optimal.N, rel=1e-12)
    assert result.effective_inference_tokens == pytest.approx(2e12, rel=1e-14)
    # dollars are FLOP times one price here
    assert result.cheapest.total_dollars == pytest.approx(
        float(reference.total_compute) * flat.dollars_per_flop(), rel=1e-12)


def test_dear_decoding_favours_smaller_models_and_beats_a_brute_force_grid():
    result = cost_optimal(LAW, 2.0, GPU, input_tokens=1e12, output_tokens=1e12)
    assert result.cheapest.N < result.flop_optimal.N < result.compute_optimal.N
    assert result.saving > 0 and 0 < result.saving_fraction < 1
    # brute force: dollars along the iso-loss curve on a fine grid of N
    sizes = np.geomspace(result.cheapest.N / 1.8, result.compute_optimal.N * 1.5, 4001)
    tokens = tokens_for_loss(LAW, 2.0, sizes).D
    dollars = lifetime_cost(sizes, tokens, GPU, input_tokens=1e12, output_tokens=1e12).total_dollars
    assert result.cheapest.total_dollars <= dollars.min() * (1 + 1e-9)
    assert result.cheapest.N == pytest.approx(sizes[np.argmin(dollars)], rel=2e-3)
    assert "cheapest in dollars" in str(result)
    assert result.to_dict()["cheapest"]["N"] == pytest.approx(result.cheapest.N)


def test_no_inference_gives_the_compute_optimal_model():
    result = cost_optimal(LAW, 2.0, GPU)
    assert result.cheapest.N == pytest.approx(result.compute_optimal.N, rel=1e-6)
    assert result.saving == pytest.approx(0, abs=1e-6 * result.compute_optimal.total_dollars)


@pytest.mark.parametrize("call, name", [
    (lambda: Hardware(peak_flops=0, price_per_hour=1, training_utilisation=0.5), "peak_flops"),
    (lambda: Hardware(peak_flops=1e15, price_per_hour=1, training_utilisation=1.5), "utilisation"),
    (lambda: Hardware(peak_flops=1e15, price_per_hour=1, training_utilisation=0.5,
                      decode_utilisation=0), "decode_utilisation"),
    (lambda: GPU.dollars_per_flop("serving"), "phase"),
    (lambda: lifetime_cost(1e9, 1e10, "H100"), "hardware"),
    (lambda: lifetime_cost(1e9, 1e10, GPU, output_tokens=-1), "output_tokens"),
    (lambda: cost_optimal(LAW, [2.0, 2.1], GPU), "target_loss"),
])
def test_bad_arguments(call, name):
    with pytest.raises(InputError, match=name):
        call()


def test_the_readme_example_at_the_digits_it_prints():
    # README (section kaplan, "Dollars and latency"): the cheapest model at loss 2.0 has
    # 19.5B parameters, 3.19T tokens, $0.90M, 46 layers; FLOP-optimal 29.6B, $1.04M;
    # compute-optimal 46.9B, $1.45M, 62 layers (the optimum itself is checked against a
    # brute-force grid above)
    result = cost_optimal(LAW, 2.0, GPU, input_tokens=1e12, output_tokens=1e12,
                          aspect_ratio=128)
    cheap, flop, compute = result.cheapest, result.flop_optimal, result.compute_optimal
    assert (f"{cheap.N / 1e9:.1f}", f"{cheap.D / 1e12:.2f}") == ("19.5", "3.19")
    assert (f"{cheap.total_dollars / 1e6:.2f}", round(float(cheap.n_layer))) == ("0.90", 46)
    assert (f"{flop.N / 1e9:.1f}", f"{flop.total_dollars / 1e6:.2f}") == ("29.6", "1.04")
    assert (f"{compute.N / 1e9:.1f}", f"{compute.total_dollars / 1e6:.2f}",
            round(float(compute.n_layer))) == ("46.9", "1.45", 62)
