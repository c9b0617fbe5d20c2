"""``data_constrained_allocation`` and ``optimal --U`` count FLOP as the fit did: the
default ``k`` in ``C = k N D`` is the one the fit records (``FitResult.flops_per_token``),
as in every other allocation (``analysis._common.fit_flops_per_token``); before, the
Python function used 6 whatever the fit recorded."""

import json

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.analysis.data_constrained import data_constrained_allocation
from scalinglaws.outputs.cli import main

#: a budget inside the sweep (6e18-3e21 FLOP) with U small enough that data binds
BUDGET, UNIQUE = 1e21, 5e9


@pytest.fixture(scope="module")
def fit8():
    """A data-constrained sweep counted as C = 8 N D, read from N, C, U and loss only (D is
    derived with k = 8), so the fit records k = 8."""
    sweep = sl.generate_sweep("data_constrained", epochs=[1, 4, 16], flops_per_token=8,
                              rng=0).to_frame()
    table = pd.DataFrame({"N": sweep.N, "C": sweep.C, "U": sweep.U, "loss": sweep.loss})
    result = sl.fit(sl.load_runs(table, flops_per_token=8), "data_constrained")
    assert result.flops_per_token == 8.0
    return result


def _brute_force_n_opt(fit, budget, unique, k):
    """argmin over a dense log grid of N of L(N, C/(kN), U): independent of the package's
    bracketing and golden-section search (grid step 2.3e-5 in log N)."""
    n = np.logspace(7, 12, 500_001)
    return n[np.argmin(fit.predict(N=n, D=budget / (k * n), U=np.full_like(n, unique)))]


def test_the_default_k_is_the_fits(fit8):
    best = data_constrained_allocation(fit8, BUDGET, UNIQUE, draws=False)
    explicit = data_constrained_allocation(fit8, BUDGET, UNIQUE, flops_per_token=8,
                                           draws=False)
    assert best.flops_per_token == 8.0
    assert (float(best.N), float(best.D)) == (float(explicit.N), float(explicit.D))
    # the budget is spent as the fit counts it, C = 8 N D, at the brute-force optimum
    assert 8 * float(best.N) * float(best.D) == pytest.approx(BUDGET, rel=1e-12)
    assert float(best.N) == pytest.approx(_brute_force_n_opt(fit8, BUDGET, UNIQUE, 8),
                                          rel=1e-4)


def test_an_explicit_k_still_wins(fit8):
    best = data_constrained_allocation(fit8, BUDGET, UNIQUE, draws=False)
    six = data_constrained_allocation(fit8, BUDGET, UNIQUE, flops_per_token=6, draws=False)
    assert six.flops_per_token == 6.0
    assert 6 * float(six.N) * float(six.D) == pytest.approx(BUDGET, rel=1e-12)
    assert float(six.N) == pytest.approx(_brute_force_n_opt(fit8, BUDGET, UNIQUE, 6),
                                         rel=1e-4)
    # k = 6 buys 8/6 the N*D: a different (larger) allocation, not a relabelling
    assert float(six.N) * float(six.D) / (float(best.N) * float(best.D)) == pytest.approx(
        8 / 6, rel=1e-12)
    assert float(six.N) / float(best.N) > 1.05


def test_a_fit_recording_no_k_uses_6():
    # published coefficients (no runs) record none: k = 6, as compute_optimal
    law = sl.FitResult.from_params("data_constrained",
                                   sl.laws.synthetic.DEFAULT_TRUTH["data_constrained"])
    best = data_constrained_allocation(law, BUDGET, UNIQUE, draws=False)
    assert best.flops_per_token == 6.0
    assert 6 * float(best.N) * float(best.D) == pytest.approx(BUDGET, rel=1e-12)


def test_optimal_U_takes_the_fits_k_unless_typed(fit8, tmp_path, capsys):
    path = tmp_path / "fit8.json"
    fit8.save(path)
    command = ["optimal", str(path), "--C", str(BUDGET), "--U", str(UNIQUE), "--json"]
    assert main(command) == 0
    captured = capsys.readouterr()
    row, = json.loads(captured.out)["rows"]
    assert "replaces" not in captured.err
    expected = data_constrained_allocation(fit8, BUDGET, UNIQUE, flops_per_token=8,
                                           draws=False)
    assert (row["N"], row["D"]) == pytest.approx((float(expected.N), float(expected.D)),
                                                 rel=1e-12)
    assert main(command + ["--flops-per-token", "6"]) == 0
    captured = capsys.readouterr()
    row, = json.loads(captured.out)["rows"]
    assert "replaces the C = 8*N*D this fit was made with" in captured.err
    assert 6 * row["N"] * row["D"] == pytest.approx(BUDGET, rel=1e-9)
