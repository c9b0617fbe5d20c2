"""fitting/result: check_fitted_on (the uncertainty stage refuses data a fit was not made on),
the result's repr, and predict's inputs (C with one of N and D; nothing ignored)."""

from __future__ import annotations

import dataclasses

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


# --------------------------------------------------------------------------- to_frame
def test_to_frame_is_one_row_per_parameter_with_how_it_was_fitted(runs):
    """A reviewer's finding: the other results had ``to_frame()``, the fit not. One row per
    parameter in the form's order: its value, and whether it was fixed, tied or on a bound
    (what ``summary()`` prints as notes)."""
    import dataclasses

    result = sl.fit(runs, fixed={"E": 1.8172}, tied={"beta": "alpha"})
    frame = result.to_frame()
    names = list(result.form.param_names)
    assert list(frame.columns) == ["name", "value", "fixed", "tied_to", "at_bound"]
    assert frame["name"].tolist() == names
    assert frame["value"].tolist() == [result.params[n] for n in names]
    assert frame["fixed"].tolist() == [n in result.fixed for n in names]
    assert frame.loc[frame["name"] == "beta", "tied_to"].item() == "alpha"
    assert frame.loc[frame["name"] != "beta", "tied_to"].isna().all()
    assert not frame["at_bound"].any() and frame.attrs == {}
    on_bound = dataclasses.replace(result, at_bounds=("A",)).to_frame()
    assert on_bound["at_bound"].tolist() == [n == "A" for n in names]


def test_to_frame_with_a_bootstrap_adds_its_intervals_and_what_they_are(runs):
    from scalinglaws.uncertainty.bootstrap import bootstrap

    plain = sl.fit(runs)
    boot = bootstrap(plain, runs, 20, rng=0, confidence_level=0.8, progress=False)
    frame = plain.with_bootstrap(boot).to_frame()
    assert list(frame.columns) == ["name", "value", "fixed", "tied_to", "at_bound", "low",
                                   "high", "standard_error"]
    assert frame["value"].tolist() == [plain.params[n] for n in plain.form.param_names]
    # level 0.8: the 10th and 90th percentiles of each parameter's draws, by hand
    low, high = np.percentile(boot.draws, [10.0, 90.0], axis=0)
    np.testing.assert_allclose(frame["low"], low, rtol=1e-12)
    np.testing.assert_allclose(frame["high"], high, rtol=1e-12)
    np.testing.assert_allclose(frame["standard_error"], np.std(boot.draws, axis=0, ddof=1),
                               rtol=1e-12)
    assert frame.attrs == {"interval": "confidence", "method": "bootstrap percentile",
                           "confidence_level": 0.8, "n_resamples": 20,
                           "n_draws": len(boot.draws), "n_failed": boot.n_failed,
                           "groups": None, "clusters": None}
    assert frame.attrs == boot.to_frame().attrs


# Hoffmann et al. 2022's printed coefficients (App D.2 Eq 10) and Chinchilla itself:
# N = 70e9, D = 1.4e12, C = 6 N D = 5.88e23 FLOP, L = 1.9366 (Form.predict's doctest)
HOFFMANN = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def test_predict_derives_the_missing_one_of_n_and_d_from_compute():
    # before: predict(N=..., C=...) ignored C and said "missing D"; predict(N, D, C=...)
    # ignored C silently
    law = sl.FitResult.from_params("chinchilla", HOFFMANN)
    assert float(law.predict(N=70e9, C=5.88e23)) == pytest.approx(1.9366, abs=5e-5)  # 4 printed digits
    assert float(law.predict(D="1.4T", C=5.88e23)) == pytest.approx(1.9366, abs=5e-5)
    # arrays broadcast; D = C / (6 N) computed here
    n, c = np.array([1e9, 1e10]), 1e22
    np.testing.assert_allclose(law.predict(N=n, C=c), law.predict(N=n, D=c / (6 * n)),
                               rtol=1e-14)
    # the fit's own k (a fit of runs loaded with flops_per_token=3) is the one used
    half = dataclasses.replace(law, options={**law.options, "flops_per_token": 3.0})
    np.testing.assert_allclose(half.predict(N=n, C=c), law.predict(N=n, D=c / (3 * n)),
                               rtol=1e-14)
    # scalinglaws.predict takes it too
    assert sl.predict(law, N=70e9, C=5.88e23).inputs["D"] == pytest.approx(1.4e12, rel=1e-14)


@pytest.mark.parametrize("inputs, says", [
    (dict(N=7e10, D=1.4e12, C=5.88e23), "drop C, or one of N and D"),
    (dict(C=5.88e23), "give N or D with it"),
    (dict(N=7e10, D=1.4e12, tokens=1e9), "unknown input tokens"),
    (dict(N=[1e9, 2e9, 3e9], C=[1e20, 1e21]), "C and N do not broadcast"),
])
def test_predict_refuses_an_input_it_would_not_use(inputs, says):
    law = sl.FitResult.from_params("chinchilla", HOFFMANN)
    for call in (lambda: law.predict(**inputs), lambda: sl.predict(law, **inputs)):
        with pytest.raises(InputError, match=says):
            call()
