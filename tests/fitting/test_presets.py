"""Named estimators: preset="hoffmann" is the default objective, "extrapolate" ties the
exponents (the estimator study's recommendation)."""

import pytest

import scalinglaws as sl
from scalinglaws.fitting.estimator import LawFitter


@pytest.fixture(scope="module")
def runs():
    return sl.generate_sweep(rng=0)


def test_hoffmann_preset_is_the_default_objective(runs):
    default, named = sl.fit(runs), sl.fit(runs, preset="hoffmann")
    assert named.params == default.params and named.objective == default.objective
    assert default.options["preset"] == "hoffmann"


def test_extrapolate_ties_beta_to_alpha_and_is_the_tied_fit(runs):
    preset = sl.fit(runs, preset="extrapolate")
    tied = sl.fit(runs, tied={"beta": "alpha"})
    assert preset.params["beta"] == preset.params["alpha"]
    assert preset.params == pytest.approx(tied.params, rel=1e-9)
    assert preset.options["preset"] == "extrapolate" and dict(preset.tied) == {"beta": "alpha"}
    # the refit estimator (bootstrap, rollout, calibration) keeps the preset
    assert LawFitter.from_result(preset).tied == {"beta": "alpha"}
    again = sl.from_json(preset.to_json())
    assert again.options["preset"] == "extrapolate"


def test_explicit_options_apply_on_top_of_a_preset(runs):
    result = sl.fit(runs, preset="extrapolate", fixed={"E": 1.8})
    assert result.params["E"] == 1.8 and result.params["beta"] == result.params["alpha"]


def test_bad_presets_are_refused(runs):
    with pytest.raises(sl.InputError, match="`preset` must be one of hoffmann, extrapolate"):
        sl.fit(runs, preset="best")
    with pytest.raises(sl.InputError, match="no such pair of exponents"):
        sl.fit(runs, "kaplan_nd", preset="extrapolate")
