"""Tests of the bootstrap's caveats: too few draws for the level's tails
(uncertainty/draws_caveats.draws_needed), strata of a single run (uncertainty/bootstrap),
and a basic or BCa bootstrap whose draws give percentile intervals downstream.

The few-draws rule rests on the expected content of an interpolated percentile interval,
``level (n - 1) / (n + 1)``; it is checked here by simulation (uniform draws, whose
content is the distance between the two quantiles), independently of the formula.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import BootstrapResamplingWarning
from scalinglaws.uncertainty.bootstrap_result import BootstrapResult
from scalinglaws.uncertainty.draws_caveats import draws_needed, warn_few_draws


def _caveats(record, text):
    return [w for w in record if issubclass(w.category, BootstrapResamplingWarning)
            and text in str(w.message)]


@pytest.fixture(scope="module")
def sweep():
    runs = sl.generate_sweep(noise=0.01, rng=5)
    return runs, sl.fit(runs)


@pytest.mark.parametrize("n, level", [(5, 0.99), (5, 0.95), (50, 0.95), (151, 0.95)])
def test_expected_content_of_a_percentile_interval_matches_the_rule(n, level):
    """The rule's premise, simulated: the interval from n uniform draws holds on average
    level (n - 1)/(n + 1) of the distribution (5 draws at 99%: 66%, not 99%)."""
    rng = np.random.default_rng(1)
    m = 20_000
    u = rng.random((m, n))
    tail = (1 - level) / 2
    low, high = np.quantile(u, [tail, 1 - tail], axis=1)
    content = high - low
    expected = level * (n - 1) / (n + 1)
    assert abs(content.mean() - expected) < 3 * content.std() / np.sqrt(m)
    # and at draws_needed the excess left out is at most a quarter of the nominal
    need = draws_needed(level)
    assert 2 * level / (need + 1) <= (1 - level) / 4 < 2 * level / need


def test_five_resamples_for_a_99_percent_interval_warn_and_summary_says_so(sweep):
    """F6: `bootstrap(..., 5, confidence_level=0.99)` printed a '99%' interval from five
    draws without a word."""
    runs, result = sweep
    with pytest.warns(BootstrapResamplingWarning, match="5 draws are too few for a 99% "
                      "percentile interval.*at least 791 draws"):
        boot = sl.bootstrap(result, runs, 5, rng=0, confidence_level=0.99, progress=False)
    assert "warning: 5 draws are too few for a 99%" in boot.summary()
    assert "66%" in boot.summary()  # 0.99 * 4 / 6
    assert result.with_bootstrap(boot).summary().splitlines()[-1] == f"warning: {boot.caveat}"


def test_enough_draws_say_nothing_and_an_asked_level_is_checked(sweep):
    """151 draws at 95% (the rule's bound) are enough: no warning, no note; asking those
    draws for a 99% interval warns."""
    runs, result = sweep
    rng = np.random.default_rng(0)
    point = np.array([result.params[n] for n in result.form.param_names])
    draws = point * np.exp(rng.normal(0, 0.01, size=(151, len(point))))
    boot = BootstrapResult(form=result.form, point=dict(result.params), draws=draws,
                           objectives=np.zeros(151), n_resamples=151, n_failed=0,
                           n_best_start_changed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BootstrapResamplingWarning)
        boot.interval("E")
        assert "warning" not in boot.summary() and boot.caveat is None
    with pytest.warns(BootstrapResamplingWarning, match="151 draws are too few for a 99%"):
        boot.interval("E", confidence_level=0.99)
    with pytest.warns(BootstrapResamplingWarning, match="150 draws are too few for a 95%"):
        warn_few_draws(150, 0.95)


def test_singleton_strata_are_named(sweep):
    """F19: with `groups=`, a stratum of one run is redrawn in every resample and adds no
    variation; the warning names those strata."""
    runs, result = sweep
    frame = runs.frame.copy()
    frame["grp"] = "big"
    frame.loc[frame.index[:3], "grp"] = ["x1", "x2", "x3"]
    with pytest.warns(BootstrapResamplingWarning,
                      match=r"3 of 4 strata of `groups` \(--group\) column 'grp' hold a "
                            r"single run \('x1', 'x2', 'x3'\)"):
        sl.bootstrap(result, frame, 5, rng=0, groups="grp", progress=False)


def test_strata_of_several_runs_do_not_warn(sweep):
    runs, result = sweep
    frame = runs.frame.copy()
    frame["grp"] = np.arange(len(frame)) % 2
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        sl.bootstrap(result, frame, 5, rng=0, groups="grp", progress=False)
    assert not _caveats(record, "single run")


def test_a_basic_bootstrap_attached_to_a_fit_says_its_draws_give_percentiles(sweep):
    """F9: `predict(fit.with_bootstrap(basic))` replaced the basic method by percentiles
    silently; it now says so, and its `method` names what it did."""
    runs, result = sweep
    boot = sl.bootstrap(result, runs, 160, rng=0, method="basic", progress=False)
    assert boot.predict(N=1e9, D=2e10).method == "bootstrap basic"
    with pytest.warns(BootstrapResamplingWarning, match="method is 'basic'.*percentile"):
        prediction = sl.predict(result.with_bootstrap(boot), N=1e9, D=2e10)
    assert prediction.method == "bootstrap percentile"
    # the percentile method is the one used throughout: no word
    percentile = sl.bootstrap(result, runs, 160, rng=0, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BootstrapResamplingWarning)
        sl.predict(result.with_bootstrap(percentile), N=1e9, D=2e10)


def test_cli_footer_names_the_method(tmp_path, capsys):
    """F9: the footer under `predict`'s table said '(over N bootstrap draws)'."""
    from scalinglaws.outputs.cli import main

    fit_file = tmp_path / "fit.json"
    data = tmp_path / "runs.csv"
    sl.generate_sweep(noise=0.01, rng=5).frame.to_csv(data, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BootstrapResamplingWarning)
        assert main(["fit", str(data), "--bootstrap", "160", "--seed", "0",
                     "--out", str(fit_file)]) == 0
        capsys.readouterr()
        assert main(["predict", str(fit_file), "--N", "1B", "--D", "20B"]) == 0
    assert "confidence intervals: 95% two-sided (bootstrap percentile, over 160 draws)" in \
        capsys.readouterr().out
