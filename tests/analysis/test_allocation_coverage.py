"""Coverage of the allocation family's intervals (analysis/allocation.py, predict.py's
chinchilla_frontier, diagnose.py): how often each printed interval contains the truth.

Every one of them is a bootstrap percentile interval: the quantity recomputed for each of
a bootstrap's parameter draws, cut at the (1 - level)/2 and (1 + level)/2 percentiles.
Simulated sweeps from the known Chinchilla law (``generate_sweep``: 9 budgets 6e18-3e21
FLOP, 12 sizes each, 1% log-normal noise), each fitted and bootstrapped (200 resamples of
whole runs); the truth is the same function evaluated on the true law
(``FitResult.from_params``), never on the fit. Two budgets: 1e20, inside the sweep, and
1e23, 33x beyond its largest budget. Every question about a loss asks for the loss the
true frontier reaches at that budget, and every model asked about is sized from the true
optimum there, so the questions sit where a user's would.

Some intervals are monotone functions of others at the same draws, so their counts are
equal by construction (the tallies show it): at a fixed budget, compute_optimal's D and
tokens_per_parameter are C/(kN) and C/(kN^2); tokens_for_loss's C and tokens_per_parameter
are its D times kN and 1/N, and so are iso_loss_curve's at each N; diagnose's
optimal_D_for_N, compute_ratio and tokens_ratio are optimal_C_for_N over constants, for
each model. compute_for_loss's loss interval is the target itself to rounding, a point
with nothing to cover, and is left out.

The diagnose models are the true optimal size at each budget trained on 2x and on 0.5x
its optimal tokens (truly over- and under-trained); a verdict naming the wrong side is
counted apart from one naming neither ("undetermined").
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import ScalingLawsWarning
from scalinglaws import extrapolate as ex
from scalinglaws.laws.synthetic import DEFAULT_BUDGETS, DEFAULT_TRUTH

TRUE_LAW = sl.FitResult.from_params("chinchilla", DEFAULT_TRUTH["chinchilla"])
BUDGETS = {"inside": 1e20, "beyond": 1e23}  # the sweep's budgets: 6e18 .. 3e21
N_SWEEPS, N_RESAMPLES, LEVEL = 200, 200, 0.95


def _questions(budget):
    """Each question at ``budget``, as a function of the law to ask (the fit with its
    draws, or the true law without): the loss and the model sizes come from the true law
    at that budget, so both are asked exactly the same thing."""
    optimum = ex.compute_optimal(TRUE_LAW, budget, draws=False)
    n_opt, d_opt, loss = float(optimum.N), float(optimum.D), float(optimum.loss)
    return {
        "compute_optimal": lambda law, **kw: ex.compute_optimal(law, budget, **kw),
        "compute_for_loss": lambda law, **kw: ex.compute_for_loss(law, loss, **kw),
        # "if I halve N, how many tokens?"
        "tokens_for_loss": lambda law, **kw: ex.tokens_for_loss(law, loss, n_opt / 2, **kw),
        "iso_loss_curve": lambda law, **kw: ex.iso_loss_curve(
            law, loss, N=[n_opt, 4 * n_opt], **kw),
        # serving as many tokens as the compute-optimal model trains on
        "inference_optimal": lambda law, **kw: ex.inference_optimal(law, loss, d_opt, **kw),
        # the optimal size trained on 2x (over-trained) and 0.5x (under-trained) its tokens
        "diagnose": lambda law, **kw: ex.diagnose(law, [n_opt, n_opt],
                                                  [2 * d_opt, d_opt / 2], **kw),
    }


# the side each diagnosed model is truly on, and the verdict that would name the other one
TRUE_SIDES = ("over-trained", "under-trained")
WRONG_VERDICTS = ("under-trained", "over-trained")


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():  # 1e23 is beyond the runs: ExtrapolationWarning
        warnings.simplefilter("ignore", ScalingLawsWarning)
        return function(*args, **kwargs)


def _hits(result, truth, tally):
    """Add to ``tally`` (name -> counts per element), for every interval of ``result``,
    whether it contains the true law's value ``truth``."""
    for name, (low, high) in result.intervals.items():
        if name == "loss" and getattr(result, "question", None) == "compute_for_loss":
            continue  # the target itself: a point, not an interval to cover anything
        value = np.ravel(getattr(truth, name))
        inside = (np.ravel(low) <= value) & (value <= np.ravel(high))
        tally[name] = tally.get(name, 0) + inside.astype(int)


def simulate(seeds, n_resamples=N_RESAMPLES):
    """Over one simulated sweep per seed: for each question (``name@inside``,
    ``name@beyond``, ``chinchilla_frontier``) and each of its intervals, how many contain
    the truth (a list over the elements of an array answer); for diagnose also how many
    verdicts name the wrong side (``verdict_wrong_side``) or none (``verdict_undetermined``)
    for its two models."""
    questions = {label: _questions(budget) for label, budget in BUDGETS.items()}
    truths = {f"{name}@{label}": ask(TRUE_LAW, draws=False)
              for label, asks in questions.items() for name, ask in asks.items()}
    truths["chinchilla_frontier"] = ex.chinchilla_frontier(TRUE_LAW, draws=False)
    for label in BUDGETS:  # the true law's own verdicts are the sides assumed below
        assert tuple(truths[f"diagnose@{label}"].verdict) == TRUE_SIDES
    tally = {key: {} for key in truths}
    for seed in seeds:
        runs = sl.generate_sweep(rng=seed)
        fit = _quiet(sl.fit, runs)
        boot = _quiet(sl.bootstrap, fit, runs, n_resamples, rng=seed, progress=False)
        assert boot.confidence_level == LEVEL
        results = {"chinchilla_frontier": ex.chinchilla_frontier(fit, draws=boot)}
        results.update({f"{name}@{label}": _quiet(ask, fit, draws=boot)
                        for label, asks in questions.items() for name, ask in asks.items()})
        for key, result in results.items():
            _hits(result, truths[key], tally[key])
        for label in BUDGETS:
            verdicts = np.asarray(results[f"diagnose@{label}"].verdict)
            counts = tally[f"diagnose@{label}"]
            for outcome, happened in (("wrong_side", verdicts == WRONG_VERDICTS),
                                      ("undetermined", verdicts == "undetermined")):
                key = f"verdict_{outcome}"
                counts[key] = counts.get(key, 0) + happened.astype(int)
    return {key: {name: int(c[0]) if c.size == 1 else c.tolist()
                  for name, c in ((name, np.atleast_1d(c)) for name, c in counts.items())}
            for key, counts in tally.items()}


# Counts of 200 from simulate(range(200)) (about 45 s on the 2-core machine). 400 further
# sweeps (seeds 200-599, 2 min, not run here) gave 373-391 of 400 per interval: all within
# 3 SE (1.1%) of 95%, leaning conservative (pooled over 600: 94.3%-97.7%); no verdict named
# the wrong side in 600 sweeps; at 1e23 the verdict was undetermined for 54 (2x tokens) and
# 25 (0.5x) of 600.
MEASURED = {  # counts of 200: simulate(range(200)), 191-197 per interval
    "compute_optimal@inside": {"N": 194, "D": 194, "loss": 193,
        "tokens_per_parameter": 194},
    "compute_for_loss@inside": {"C": 193, "N": 192, "D": 195, "tokens_per_parameter": 194},
    "tokens_for_loss@inside": {"C": 193, "D": 193, "tokens_per_parameter": 193},
    "iso_loss_curve@inside": {"D": [195, 192], "C": [195, 192],
        "tokens_per_parameter": [195, 192]},
    "inference_optimal@inside": {"N": 192, "D": 195, "training_compute": 193,
        "inference_compute": 192, "total_compute": 193, "chinchilla_N": 192,
        "chinchilla_D": 195, "chinchilla_total_compute": 192, "saving": 193,
        "saving_fraction": 195},
    "diagnose@inside": {"loss": [193, 191], "optimal_N": [194, 196],
        "optimal_D": [194, 196], "optimal_loss": [193, 192], "optimal_C_for_N": [194, 194],
        "optimal_D_for_N": [194, 194], "compute_ratio": [194, 194],
        "tokens_ratio": [194, 194], "C_for_same_loss": [194, 195],
        "N_for_same_loss": [194, 197], "D_for_same_loss": [194, 195],
        "compute_saving_factor": [194, 195], "verdict_wrong_side": [0, 0],
        "verdict_undetermined": [0, 0]},
    "compute_optimal@beyond": {"N": 193, "D": 193, "loss": 194,
        "tokens_per_parameter": 193},
    "compute_for_loss@beyond": {"C": 194, "N": 192, "D": 193, "tokens_per_parameter": 192},
    "tokens_for_loss@beyond": {"C": 194, "D": 194, "tokens_per_parameter": 194},
    "iso_loss_curve@beyond": {"D": [194, 194], "C": [194, 194],
        "tokens_per_parameter": [194, 194]},
    "inference_optimal@beyond": {"N": 196, "D": 191, "training_compute": 194,
        "inference_compute": 196, "total_compute": 193, "chinchilla_N": 192,
        "chinchilla_D": 193, "chinchilla_total_compute": 193, "saving": 193,
        "saving_fraction": 193},
    "diagnose@beyond": {"loss": [193, 195], "optimal_N": [193, 193],
        "optimal_D": [193, 193], "optimal_loss": [194, 194], "optimal_C_for_N": [193, 193],
        "optimal_D_for_N": [193, 193], "compute_ratio": [193, 193],
        "tokens_ratio": [193, 193], "C_for_same_loss": [194, 191],
        "N_for_same_loss": [193, 192], "D_for_same_loss": [193, 194],
        "compute_saving_factor": [194, 191], "verdict_wrong_side": [0, 0],
        "verdict_undetermined": [22, 10]},
    "chinchilla_frontier": {"G": 195, "a": 194, "b": 194, "gamma": 193, "K": 192},
}


@pytest.mark.slow
def test_allocation_intervals_cover_the_truth_at_the_nominal_rate():
    assert BUDGETS["beyond"] / max(DEFAULT_BUDGETS) == pytest.approx(33, abs=0.5)
    n = N_SWEEPS
    tally = simulate(range(n))
    counts = {(key, name): np.atleast_1d(c) for key, named in tally.items()
              for name, c in named.items()}
    # every interval within 3 Monte-Carlo SE of its 95% level (SE over 200 sweeps: 1.5%)
    se = math.sqrt(LEVEL * (1 - LEVEL) / n)
    outside = {k: c.tolist() for k, c in counts.items() if not k[1].startswith("verdict_")
               and np.any(np.abs(c / n - LEVEL) >= 3 * se)}
    assert not outside, outside
    # a verdict names the wrong side only when its whole interval misses the truth on that
    # side: at most the 2.5% one-sided miss rate (within 3 of its own SE)
    one_sided = (1 - LEVEL) / 2
    limit = one_sided + 3 * math.sqrt(one_sided * (1 - one_sided) / n)
    wrong = {k: c.tolist() for k, c in counts.items() if k[1] == "verdict_wrong_side"}
    assert all(max(c) / n <= limit for c in wrong.values()), wrong
    assert tally == MEASURED  # as the README states
