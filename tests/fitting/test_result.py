"""fitting/result: check_fitted_on (the uncertainty stage refuses data a fit was not made on)
and the result's repr."""

from __future__ import annotations

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import InputError
from scalinglaws.fitting.result import check_fitted_on


@pytest.fixture(scope="module")
def runs():
    return sl.generate_sweep(noise=0.01, rng=5)


def test_the_same_runs_pass_and_return_their_fingerprint(runs):
    result = sl.fit(runs)
    assert check_fitted_on(result, runs) == result.data_fingerprint


def test_other_runs_are_refused(runs):
    result = sl.fit(runs)
    with pytest.raises(InputError, match="not the data `result` was fitted on"):
        check_fitted_on(result, runs.exclude_top_loss(1))


def test_a_weighted_fit_is_refused_with_the_reason_not_as_other_data(runs):
    weighted = sl.fit(runs, weights=np.linspace(1.0, 2.0, len(runs)))
    with pytest.raises(InputError, match="fitted with `weights`"):
        sl.bootstrap(weighted, runs, 10, rng=0)
    with pytest.raises(InputError, match="fitted with `weights`"):
        sl.calibrate(weighted, runs)


def test_repr_is_one_line_with_the_parameters(runs):
    # a notebook shows repr(); the dataclass default ran past 1,000 characters
    from scalinglaws.uncertainty.bootstrap import bootstrap

    plain_result = sl.fit(runs)
    result = plain_result.with_bootstrap(bootstrap(plain_result, runs, 10, rng=0))
    text = repr(plain_result)
    assert "\n" not in text and len(text) < 200
    assert text.startswith("FitResult(form='chinchilla', E=")
    for name, value in plain_result.params.items():
        assert f"{name}={value:.6g}" in text
    assert f"n_runs={plain_result.n_runs}" in text and "bootstrap" not in text
    assert repr(result).endswith(f", bootstrap={len(result.bootstrap.draws)} draws)")
